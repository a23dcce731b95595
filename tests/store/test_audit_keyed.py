"""The keyed audit chain: HMAC under a key in the (pinned, temporary) keyring, the remembered head,
the triggers and the replies the trail vouches for. Each attack is done as someone with the file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import keyring
import keyring.core
import pytest

from agent_assist.cli import main
from agent_assist.store import Store, audit, audit_key, drafts
from agent_assist.store.errors import AuditKeyMissingError
from tests.store.test_audit import busy


@pytest.fixture
def keyring_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file keyring chosen explicitly (as a person would on a box without a system keyring)."""
    folder = tmp_path / "keyring"
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setenv("XDG_DATA_HOME", str(folder))
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)  # re-read the choice; restored afterwards
    audit_key.forget()
    yield folder
    audit_key.forget()


@pytest.fixture
def keyed(keyring_dir: Path, db_path: Path):
    s = Store(db_path)
    busy(s)
    yield s
    s.close()


def _sql(db_path: Path, *statements: str, keep_triggers: bool = False) -> None:
    """Write to the file as an attacker would: drop the triggers, change, and put them back."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
        for sql in statements:
            conn.execute(sql)
        if keep_triggers:
            for sql in audit.TRIGGERS.values():
                conn.execute(sql)
    finally:
        conn.close()


def _rechain_unkeyed(db_path: Path, from_id: int, actor: str) -> None:
    """Rewrite a row's actor and recompute every hash after it, as the old unkeyed chain would."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    rows = conn.execute("SELECT id, at, actor, action, ticket_id, draft_id, details FROM audit WHERE id >= ? "
                        "ORDER BY id", (from_id,)).fetchall()
    prev = conn.execute("SELECT hash FROM audit WHERE id = ?", (from_id - 1,)).fetchone()[0]
    conn.close()
    statements = []
    for rid, at, old_actor, action, ticket_id, draft_id, details in rows:
        who = actor if rid == from_id else old_actor
        digest = audit._row_hash(prev, at, who, action, ticket_id, draft_id, details)
        statements.append(f"UPDATE audit SET actor = '{who}', alg = 'sha256', prev_hash = '{prev}', "
                          f"hash = '{digest}' WHERE id = {rid}")
        prev = digest
    _sql(db_path, *statements, keep_triggers=True)


def test_a_new_database_is_signed_from_its_first_row(keyed: Store, db_path: Path):
    first = keyed.db.conn.execute("SELECT action, alg FROM audit WHERE id = 1").fetchone()
    assert first == ("audit.keyed", audit.KEYED)
    assert {alg for (alg,) in keyed.db.conn.execute("SELECT alg FROM audit")} == {audit.KEYED}
    result = audit.verify(keyed.db)
    assert (result.ok, result.keyed_from, result.problems, result.notes) == (True, 1, (), ())
    # the key is in the keyring, never in the database file
    key = audit_key.load(audit.database_id(keyed.db)).key
    assert key.hex().encode() not in db_path.read_bytes() and key not in db_path.read_bytes()


def test_rewriting_the_actor_and_recomputing_an_unkeyed_chain_is_reported(keyed: Store, db_path: Path):
    _rechain_unkeyed(db_path, 9, "mallory")
    result = audit.verify(keyed.db)
    assert not result.ok and result.first_broken_id == 9
    assert "not signed although the chain is keyed from row 1" in result.reason


def test_rewriting_a_row_without_the_key_breaks_its_signature(keyed: Store, db_path: Path):
    _sql(db_path, "UPDATE audit SET actor = 'mallory' WHERE id = 7", keep_triggers=True)
    result = audit.verify(keyed.db)
    assert (result.ok, result.first_broken_id) == (False, 7)
    assert "signature" in result.reason


def test_deleting_the_last_rows_is_caught_by_the_remembered_head(keyrings_closed_store, db_path: Path):
    total = keyrings_closed_store
    _sql(db_path, f"DELETE FROM audit WHERE id > {total - 3}", keep_triggers=True)
    for _ in range(2):  # closing the store again does not overwrite the evidence with the shorter head
        with Store(db_path) as reopened:
            result = audit.verify(reopened.db)
        assert not result.ok
        assert any(f"rows {total - 2}–{total} were removed from the end" in p for p in result.problems)


@pytest.fixture
def keyrings_closed_store(keyring_dir: Path, db_path: Path) -> int:
    """A busy keyed database, closed (which keeps its head in the keyring); returns its row count."""
    with Store(db_path) as s:
        busy(s)
        return s.db.conn.execute("SELECT MAX(id) FROM audit").fetchone()[0]


def test_an_exported_head_catches_cut_rows_even_without_the_keyring(store: Store, db_path: Path, tmp_path: Path,
                                                                    capsys):
    busy(store)  # no keyring here: an unkeyed trail, so the exported head is the only outside anchor
    head_file = tmp_path / "head.json"
    assert main(["audit", "export-head", "--db", str(db_path), "--out", str(head_file)]) == 0
    head = json.loads(head_file.read_text())
    assert head["last_id"] == 24 and head["database_id"] == audit.database_id(store.db)
    assert main(["audit", "verify", "--db", str(db_path), "--head", str(head_file)]) == 0
    assert "not signed" in capsys.readouterr().out
    _sql(db_path, "DELETE FROM audit WHERE id > 20", keep_triggers=True)
    assert main(["audit", "verify", "--db", str(db_path), "--head", str(head_file)]) == 3
    assert "Rows 21–24 were removed from the end" in capsys.readouterr().out
    assert main(["audit", "verify", "--db", str(db_path), "--head", str(tmp_path / "nope.json")]) == 2
    assert main(["audit", "export-head", "--db", str(db_path), "--out", str(tmp_path / "no" / "such" / "h")]) == 2
    assert "could not be written" in capsys.readouterr().err


def test_a_dropped_trigger_is_reported(keyed: Store, db_path: Path, capsys):
    _sql(db_path)  # drops both, changes nothing
    result = audit.verify(keyed.db)
    assert not result.ok and result.first_broken_id is None
    assert any("audit_no_delete" in p for p in result.problems)
    assert main(["audit", "verify", "--db", str(db_path)]) == 3
    assert "append-only (audit_no_update) is missing" in capsys.readouterr().out


def test_a_changed_reply_or_an_unaudited_one_is_reported(keyed: Store, db_path: Path):
    mid = keyed.db.conn.execute("SELECT MIN(id) FROM messages WHERE direction = 'outbound'").fetchone()[0]
    _sql(db_path, f"UPDATE messages SET body_text = 'We never promised a refund.' WHERE id = {mid}",
         "INSERT INTO messages (ticket_id, direction, author, body_text, created_at) "
         "VALUES (1, 'outbound', 'alex', 'sent behind the trail', '2026-01-01T00:00:00Z')",
         "UPDATE drafts SET state = 'sent' WHERE id = (SELECT MAX(id) FROM drafts)", keep_triggers=True)
    d = drafts.suggest(keyed, 2, "One more", actor="alex", source="offline")
    _sql(db_path, f"UPDATE drafts SET state = 'sent' WHERE id = {d}", keep_triggers=True)
    problems = audit.verify(keyed.db).problems
    assert any(f"the text of reply message {mid} differs" in p for p in problems)
    assert any("has no audit row: it was not sent through Agent Assist" in p for p in problems)
    assert any(f"draft {d} is marked sent but no audit row records its sending" in p for p in problems)


def test_an_unkeyed_database_is_keyed_from_its_head_and_old_rows_stay_checked(store: Store, db_path: Path,
                                                                               keyring_dir: Path):
    # the store fixture opened before the keyring was pinned: an older, unkeyed trail
    busy(store)
    store.close()
    audit_key.forget()
    with Store(db_path) as s:  # now a keyring can keep the key: the chain is keyed from the current head
        row = s.db.conn.execute("SELECT id, action, alg, details FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        assert row[:3] == (25, "audit.keyed", audit.KEYED)
        assert json.loads(row[3])["unkeyed_rows"] == 24
        busy(s)
        result = audit.verify(s.db)
        assert (result.ok, result.keyed_from, result.rows) == (True, 25, 49)
    _sql(db_path, "UPDATE audit SET actor = 'mallory' WHERE id = 3", keep_triggers=True)
    with Store(db_path) as s:
        assert audit.verify(s.db).first_broken_id == 3


def test_without_its_key_a_keyed_database_refuses_changes_and_says_why(keyed: Store):
    keyring.get_keyring().delete_password(audit_key.SERVICE, audit.database_id(keyed.db))
    audit_key.forget()
    before = keyed.db.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    with pytest.raises(AuditKeyMissingError, match="keyring does not give"):
        drafts.suggest(keyed, 1, "x", actor="alex", source="offline")
    assert keyed.db.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == before
    assert keyed.db.conn.execute("SELECT COUNT(*) FROM drafts WHERE body = 'x'").fetchone()[0] == 0
    result = audit.verify(keyed.db)
    assert not result.ok and result.first_broken_id is None  # not tampering: the key is just not here
    assert "could not be checked" in result.reason


def test_a_keyring_that_does_not_answer_neither_crashes_nor_replaces_the_key(keyed: Store, db_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch):
    dbid = audit.database_id(keyed.db)
    key = audit_key.load(dbid).key
    keyed.close()

    def locked(account: str) -> str | None:
        raise audit_key.KeyringUnreadable("KeyringLocked")

    with monkeypatch.context() as m:
        m.setattr(audit_key, "_read", locked)
        audit_key.forget()
        with Store(db_path) as s:  # opens, reads
            assert s.db.conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 3
            with pytest.raises(AuditKeyMissingError):  # but records nothing unsigned
                drafts.suggest(s, 1, "x", actor="alex", source="offline")
    audit_key.forget()
    with Store(db_path) as s:
        assert audit_key.load(dbid).key == key
        assert audit.verify(s.db).ok


def test_a_file_rolled_back_to_unsigned_does_not_get_a_new_key(keyed: Store, db_path: Path):
    dbid = audit.database_id(keyed.db)
    key = audit_key.load(dbid).key
    keyed.close()
    _sql(db_path, "DELETE FROM store_meta WHERE key = 'audit_keyed_from'", keep_triggers=True)
    audit_key.forget()
    with Store(db_path) as s:
        assert audit_key.load(dbid).key == key  # kept, never overwritten
        result = audit.verify(s.db)
        assert result.ok and result.keyed_from == 1  # the keyring says where signing starts
        drafts.suggest(s, 1, "x", actor="alex", source="offline")  # the file now writes an unsigned row
        assert "not signed although the chain is keyed" in audit.verify(s.db).reason


def test_a_database_from_before_the_keyed_chain_upgrades_and_verifies(db_path: Path, keyring_dir: Path):
    from agent_assist.store.bulk import import_dataset
    from agent_assist.store.migrations import MIGRATIONS
    from tests.conftest import small_dataset

    with Store(db_path, migrations=MIGRATIONS[:9]) as old:  # schema 9: no store_meta, no alg, no body hashes
        import_dataset(old, small_dataset(), label="old data")
        busy(old)
        old.db.conn.execute("INSERT INTO messages (ticket_id, direction, author, body_text, created_at) "
                            "VALUES (1, 'outbound', 'sam', 'typed into another tool', '2026-01-01T00:00:00Z')")
        rows = old.db.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    audit_key.forget()
    with Store(db_path) as s:
        assert s.schema_version() == len(MIGRATIONS)
        result = audit.verify(s.db)
        # old rows keep their SHA-256 links; replies from before the upgrade are not held to the new rules
        assert (result.ok, result.keyed_from, result.rows) == (True, rows + 1, rows + 1), result.problems
        busy(s)
        assert audit.verify(s.db).ok
