"""The append-only, hash-chained audit trail."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from agent_assist.store import Store, audit, drafts
from agent_assist.store.tickets import add_inbound_message, assign, create_ticket, set_status

pytestmark = pytest.mark.both_backends  # the same store API on SQLite and PostgreSQL


def busy(store: Store, lead: Store | None = None) -> None:
    """A realistic mix of changes, each writing its own audit rows (``lead``: the supervisor's desk,
    where it is not the same store)."""
    for n in range(3):
        tid = create_ticket(store, actor="email", customer_name=f"Cust {n}", customer_email=f"c{n}@example.com",
                            subject=f"Question {n}", body_text="Hello — åäö ✓ \"quotes\"")
        assign(lead or store, tid, "alex", actor="lead")
        d = drafts.suggest(store, tid, f"Answer {n}", actor="alex", source="offline", citations=[n])
        drafts.save_edit(store, d, f"Answer {n}, edited", actor="alex")
        drafts.approve(store, d, f"Answer {n}, edited", actor="alex")
        drafts.send(store, d, actor="alex")
        add_inbound_message(store, tid, actor="email", author=f"Cust {n}", body_text="Thanks!")
        set_status(store, tid, "solved", actor="alex")


def audit_rows(db_path: Path) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT id, prev_hash, hash, actor, action, details FROM audit ORDER BY id").fetchall()
    finally:
        conn.close()


def tamper(db_path: Path, *statements: str) -> None:
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
        for sql in statements:
            conn.execute(sql)
    finally:
        conn.close()


def audit_count(store: Store) -> int:
    return store.db.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]


def in_order(wanted: list[str], actions: list[str]) -> bool:
    """``wanted`` appear in ``actions`` in this order (a team server's triggers also note each status move)."""
    rest = iter(actions)
    return all(action in rest for action in wanted)


@pytest.fixture
def busy_store(store: Store, desk) -> Store:
    busy(store, desk("lead"))
    return store


def test_rows_chain(busy_store: Store) -> None:
    rows = busy_store.db.conn.execute("SELECT id, prev_hash, hash, action FROM audit ORDER BY id").fetchall()
    assert rows[0][1] == audit.GENESIS
    for prev, row in zip(rows, rows[1:]):
        assert row[1] == prev[2]
    hashes = [r[2] for r in rows]
    assert len(set(hashes)) == len(hashes)
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in hashes)
    made = Counter(r[3] for r in rows)
    assert all(made[action] == 3 for action in ("ticket.created", "ticket.assigned", "draft.suggested",
                                                  "draft.edited", "draft.approved", "reply.sent"))


def test_verify_ok_on_a_busy_store(busy_store: Store) -> None:
    result = audit.verify(busy_store.db)
    assert result.ok
    assert result.rows == audit_count(busy_store) >= 24
    assert result.first_broken_id is None


@pytest.mark.single_desk  # a desk's chain is signed with a key in this computer's keyring; a team's needs none
def test_verify_ok_on_an_empty_store(store: Store) -> None:
    result = audit.verify(store.db)
    assert (result.ok, result.rows, result.problems, result.keyed_from) == (True, 0, (), None)
    assert "not signed" in result.notes[0]  # no keyring is pinned here


@pytest.mark.single_desk  # a desk's app writes its audit rows; a team's triggers do (postgres/test_team_desk.py)
def test_record_returns_the_new_id_and_stores_details(store: Store) -> None:
    with store.transaction() as db:
        rid = audit.record(db, actor="alex", action="kb.viewed", article=7, terms=["refund", "återbetalning"])
    row = store.db.conn.execute("SELECT id, actor, action, ticket_id, draft_id, details FROM audit").fetchone()
    assert row[:5] == (rid, "alex", "kb.viewed", None, None)
    assert json.loads(row[5]) == {"article": 7, "terms": ["refund", "återbetalning"]}
    assert audit.verify(store.db).ok


@pytest.mark.single_desk  # a desk's app writes its audit rows; a team's triggers do (postgres/test_team_desk.py)
def test_record_outside_a_transaction_raises(store: Store) -> None:
    with pytest.raises(RuntimeError, match="transaction"):
        audit.record(store.db, actor="alex", action="sneaky")
    assert store.db.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 0


def test_a_rolled_back_change_leaves_no_audit_row(store: Store) -> None:
    before = audit_count(store)
    with pytest.raises(LookupError), store.transaction():
        create_ticket(store, actor="alex", customer_name="Will Vanish", customer_email=None, subject="gone",
                      body_text="x")
        raise LookupError
    assert audit_count(store) == before
    assert store.db.conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0
    tid = create_ticket(store, actor="alex", customer_name="Kept Here", customer_email=None, subject="kept",
                        body_text="x")
    assert [(e.action, e.actor) for e in audit.for_ticket(store.db, tid)][0] == ("ticket.created", "alex")
    result = audit.verify(store.db)
    assert (result.ok, result.rows) == (True, audit_count(store))


def test_for_ticket(busy_store: Store) -> None:
    entries = audit.for_ticket(busy_store.db, 2)
    assert in_order(["ticket.created", "ticket.assigned", "draft.suggested", "draft.edited", "draft.approved",
                     "reply.sent", "message.received"], [e.action for e in entries])
    assert entries[-1].action == "ticket.status" and entries[-1].details["after"] == "solved"
    who = {e.action: e.actor for e in entries}
    assert (who["ticket.assigned"], who["draft.edited"], who["draft.approved"], who["reply.sent"]) == \
        ("lead", "alex", "alex", "alex")
    assert all(e.ticket_id == 2 for e in entries)
    assert [e.id for e in entries] == sorted(e.id for e in entries)
    assert audit.for_ticket(busy_store.db, 999) == []


@pytest.mark.parametrize("sql", [
    "UPDATE audit SET actor = 'mallory' WHERE id = 3",
    "UPDATE audit SET details = '{}'",
    "DELETE FROM audit WHERE id = 3",
    "DELETE FROM audit",
])
@pytest.mark.single_desk  # the SQLite file's own triggers; a team's grants: postgres/test_rules.py
def test_update_and_delete_are_refused(busy_store: Store, db_path: Path, sql: str) -> None:
    before = audit_rows(db_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        busy_store.db.conn.execute(sql)
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(sql)
    finally:
        conn.close()
    assert audit_rows(db_path) == before
    assert audit.verify(busy_store.db).ok


@pytest.mark.single_desk  # tampers with the file; a team's trail, as its owner: postgres/test_team_desk.py
@pytest.mark.parametrize("target", [1, 9, 24])
def test_changed_details_are_detected(busy_store: Store, db_path: Path, target: int) -> None:
    tamper(db_path, f"UPDATE audit SET details = json_set(details, '$.sneaky', 1) WHERE id = {target}")
    result = audit.verify(busy_store.db)
    assert not result.ok
    assert result.first_broken_id == target
    assert result.rows == target
    assert result.reason


@pytest.mark.single_desk  # tampers with the file; a team's trail, as its owner: postgres/test_team_desk.py
def test_changed_actor_is_detected(busy_store: Store, db_path: Path) -> None:
    tamper(db_path, "UPDATE audit SET actor = 'mallory' WHERE id = 7")
    result = audit.verify(busy_store.db)
    assert (result.ok, result.first_broken_id) == (False, 7)


@pytest.mark.parametrize("column,value", [("action", "'draft.discarded'"), ("ticket_id", "99"), ("draft_id", "NULL"),
                                          ("at", "'1999-01-01T00:00:00Z'")])
@pytest.mark.single_desk  # tampers with the file; a team's trail, as its owner: postgres/test_team_desk.py
def test_other_changed_columns_are_detected(busy_store: Store, db_path: Path, column: str, value: str) -> None:
    tamper(db_path, f"UPDATE audit SET {column} = {value} WHERE id = 5")
    result = audit.verify(busy_store.db)
    assert (result.ok, result.first_broken_id) == (False, 5)


@pytest.mark.single_desk  # tampers with the file; a team's trail, as its owner: postgres/test_team_desk.py
def test_a_deleted_middle_row_is_detected(busy_store: Store, db_path: Path) -> None:
    tamper(db_path, "DELETE FROM audit WHERE id = 10")
    result = audit.verify(busy_store.db)
    assert not result.ok
    assert result.first_broken_id == 11  # the row whose link now points at nothing


@pytest.mark.single_desk  # tampers with the file; a team's trail, as its owner: postgres/test_team_desk.py
def test_a_rewritten_row_with_a_recomputed_hash_breaks_the_next_link(busy_store: Store, db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    row = conn.execute("SELECT prev_hash, at, actor, action, ticket_id, draft_id, details FROM audit WHERE id = 12"
                       ).fetchone()
    conn.close()
    prev_hash, at, _actor, action, ticket_id, draft_id, details = row
    forged = audit._row_hash(prev_hash, at, "mallory", action, ticket_id, draft_id, details)
    tamper(db_path, f"UPDATE audit SET actor = 'mallory', hash = '{forged}' WHERE id = 12")
    result = audit.verify(busy_store.db)
    assert (result.ok, result.first_broken_id) == (False, 13)


@pytest.mark.single_desk  # tampers with the file; a team's trail, as its owner: postgres/test_team_desk.py
def test_new_rows_after_tampering_do_not_heal_the_chain(busy_store: Store, db_path: Path) -> None:
    tamper(db_path, "UPDATE audit SET actor = 'mallory' WHERE id = 4")
    create_ticket(busy_store, actor="email", customer_name="Late Comer", customer_email=None, subject="s",
                  body_text="x")
    result = audit.verify(busy_store.db)
    assert (result.ok, result.first_broken_id) == (False, 4)
