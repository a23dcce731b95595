"""What a desk's own file does in the app that a team server leaves to its administrator and to itself.

On a desk the app makes profiles and writes audit rows, and the file can be tampered with by whoever
opens it (tests/store/test_single_desk_rules.py, test_audit.py, SQLite only). On a team server
people and roles are set by ``team add-person``, the audit rows are the database's own, and only its
owner role can rewrite them: these are those counterparts, through the same store API.
"""

from __future__ import annotations

import psycopg
import pytest

from agent_assist.store import audit, people
from agent_assist.store.errors import InvalidTransitionError
from agent_assist.store.tickets import create_ticket


def _audit_count(store) -> int:
    return store.db.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]


@pytest.mark.parametrize("person, name, role", [
    ("alex", "alex", "supervisor"),  # an agent promoting themself
    ("sue", "mallory", "supervisor"),  # a supervisor adding one
    ("alex", "newbie", "agent"),  # a new person starting as an agent
    ("sue", "vera", "agent"),  # a supervisor demoting one
])
def test_the_app_changes_no_profile_on_a_team_server(team_database, person, name, role):
    desk = team_database.desk(person)
    before = (people.profiles(desk.db), _audit_count(desk))
    with pytest.raises(InvalidTransitionError, match="team add-person"):
        people.save_profile(desk, name, role, actor=person)
    assert (people.profiles(desk.db), _audit_count(desk)) == before


def test_ensure_profile_finds_a_team_member_and_adds_nobody(team_database):
    alex = team_database.desk("alex")
    assert people.ensure_profile(alex, "alex") == people.Profile("alex", "agent")  # no write: it exists
    with pytest.raises(InvalidTransitionError, match="team add-person"):
        people.ensure_profile(alex, "someone-new")
    assert people.get_profile(alex.db, "someone-new") is None


def test_audit_record_writes_nothing_the_triggers_write_the_rows(team_database):
    alex = team_database.desk("alex")
    before = _audit_count(alex)
    with alex.transaction() as db:
        assert audit.record(db, actor="mallory", action="kb.viewed", article=7) == 0
    assert _audit_count(alex) == before
    tid = create_ticket(alex, actor="mallory", customer_name="Tom Baker", customer_email=None, subject="s",
                        body_text="x")
    assert [(e.action, e.actor) for e in audit.for_ticket(alex.db, tid)][0] == ("ticket.created", "alex")


def _busy_trail(desk) -> list[int]:
    """A few rows of a desk's work; returns their ids."""
    first = desk.db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM audit").fetchone()[0]
    for n in range(3):
        create_ticket(desk, actor="alex", customer_name=f"Cust {n}", customer_email=None, subject=f"Q {n}",
                      body_text="Hello — åäö ✓")
    return [r[0] for r in desk.db.conn.execute("SELECT id FROM audit WHERE id > ? ORDER BY id", (first,))]


def _as_owner(team_database, sql: str, params=()) -> None:
    """The one role that may rewrite the trail (the server's administrator, deliberately)."""
    with psycopg.connect(team_database.admin_url, autocommit=True) as admin, admin.transaction():
        admin.execute("SET LOCAL ROLE agent_assist_owner")
        admin.execute(sql, params)


def test_a_deleted_middle_row_is_detected(team_database):
    alex = team_database.desk("alex")
    ids = _busy_trail(alex)
    _as_owner(team_database, "DELETE FROM agent_assist.audit WHERE id = %s", [ids[2]])
    result = audit.verify(alex.db)
    assert (result.ok, result.first_broken_id) == (False, ids[3])  # the row whose link now points at nothing


def test_a_rewritten_row_with_a_recomputed_hash_breaks_the_next_link(team_database):
    alex = team_database.desk("alex")
    ids = _busy_trail(alex)
    prev_hash, at, _actor, action, ticket_id, draft_id, details = alex.db.conn.execute(
        "SELECT prev_hash, at, actor, action, ticket_id, draft_id, details FROM audit WHERE id = ?",
        (ids[1],)).fetchone()
    forged = audit._row_hash(prev_hash, at, "mallory", action, ticket_id, draft_id, details)
    _as_owner(team_database, "UPDATE agent_assist.audit SET actor = 'mallory', hash = %s WHERE id = %s",
              [forged, ids[1]])
    result = audit.verify(alex.db)
    assert (result.ok, result.first_broken_id) == (False, ids[2])


def test_new_rows_after_tampering_do_not_heal_the_chain(team_database):
    alex = team_database.desk("alex")
    ids = _busy_trail(alex)
    _as_owner(team_database, "UPDATE agent_assist.audit SET actor = 'mallory' WHERE id = %s", [ids[0]])
    create_ticket(alex, actor="alex", customer_name="Late Comer", customer_email=None, subject="s", body_text="x")
    result = audit.verify(alex.db)
    assert (result.ok, result.first_broken_id) == (False, ids[0])
