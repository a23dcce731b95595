"""Opening the one SQLite file: checks, pragmas, migrations, connections, transactions, threads."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlite_utils

import agent_assist.store.database as database
from agent_assist.store import Store, StoreError, audit
from agent_assist.store.errors import (
    DatabaseLockedError,
    ForeignDatabaseError,
    MigrationError,
    NewerSchemaError,
    NotADatabaseError,
)
from agent_assist.store.migrations import MIGRATIONS
from agent_assist.store.tickets import create_ticket

EXPECTED_TABLES = {"customers", "tickets", "messages", "articles", "drafts", "audit", "articles_fts"}


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def raw_scalar(path: Path, sql: str):
    conn = raw(path)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def raw_tables(path: Path) -> set[str]:
    conn = raw(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def folder_listing(path: Path) -> list[str]:
    return sorted(os.listdir(path.parent))


@pytest.fixture
def fast_open(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(database, "BUSY_TIMEOUT_S", 0.2)
    return 0.2


# -- a new file ------------------------------------------------------------------------------
def test_new_file_is_wal_with_foreign_keys_and_latest_schema(db_path: Path) -> None:
    assert not db_path.exists()
    with Store(db_path) as store:
        conn = store.db.conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.schema_version() == store.latest_version == len(MIGRATIONS)
        assert EXPECTED_TABLES <= set(store.db.table_names())
        # foreign keys are really enforced, not just reported
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO messages (ticket_id, direction, body_text, created_at) "
                         "VALUES (999, 'inbound', 'x', '2024-01-01T00:00:00Z')")
    # the mode and version are properties of the file, seen by any other program too
    assert raw_scalar(db_path, "PRAGMA journal_mode") == "wal"
    assert raw_scalar(db_path, "PRAGMA user_version") == len(MIGRATIONS)


def test_missing_parent_folders_are_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "assist.db"
    with Store(path) as store:
        assert store.schema_version() == len(MIGRATIONS)
    assert path.is_file()


def test_an_empty_file_is_initialised(db_path: Path) -> None:
    db_path.touch()
    with Store(db_path) as store:
        assert store.schema_version() == len(MIGRATIONS)
        assert EXPECTED_TABLES <= set(store.db.table_names())


def test_every_thread_connection_has_foreign_keys_on(store: Store) -> None:
    seen: list[int] = []

    def work() -> None:
        seen.append(store.db.conn.execute("PRAGMA foreign_keys").fetchone()[0])

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen == [1]


def test_reopening_is_idempotent(db_path: Path) -> None:
    with Store(db_path) as store:
        tid = create_ticket(store, actor="ana", customer_name="Tom Baker", customer_email="tom@example.com",
                            subject="Hello", body_text="Body")
        schema_before = store.db.conn.execute(
            "SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        audit_before = store.db.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    for _ in range(3):
        with Store(db_path) as store:
            assert store.schema_version() == len(MIGRATIONS)
            assert store.db.conn.execute(
                "SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall() == schema_before
            assert store.db.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == audit_before
            assert store.db.conn.execute("SELECT subject FROM tickets WHERE id = ?", (tid,)).fetchone()[0] == "Hello"
            assert audit.verify(store.db).ok


def test_two_stores_on_one_file(db_path: Path) -> None:
    with Store(db_path) as a, Store(db_path) as b:
        tid = create_ticket(a, actor="ana", customer_name="X Y", customer_email=None, subject="S", body_text="T")
        assert b.db.conn.execute("SELECT subject FROM tickets WHERE id = ?", (tid,)).fetchone()[0] == "S"


# -- files that are not ours ----------------------------------------------------------------
NOT_SQLITE = {
    "text": b"Dear customer,\nthis is a plain text file, not a database.\n" * 40,
    "random": bytes(range(256)) * 37 + b"\x00\xff" * 100,
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00" + b"\x00" * 200,
    "short": b"SQL",
    "sqlite-header-then-garbage": b"SQLite format 3\x00" + bytes((i * 7 + 3) % 256 for i in range(8192)),
}


@pytest.mark.parametrize("kind", sorted(NOT_SQLITE))
def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(db_path: Path, kind: str) -> None:
    content = NOT_SQLITE[kind]
    db_path.write_bytes(content)
    listing = folder_listing(db_path)
    with pytest.raises(NotADatabaseError) as info:
        Store(db_path)
    assert isinstance(info.value, StoreError)
    assert str(db_path) in str(info.value)
    assert db_path.read_bytes() == content
    assert folder_listing(db_path) == listing  # no -wal, -shm or -journal left behind


def test_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "folder.db"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    with pytest.raises(NotADatabaseError, match="folder"):
        Store(folder)
    assert sorted(os.listdir(folder)) == ["keep.txt"]


def _foreign_db(path: Path, user_version: int = 0) -> bytes:
    conn = raw(path)
    conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    conn.execute("INSERT INTO moz_places (url) VALUES ('https://example.com')")
    conn.execute(f"PRAGMA user_version = {user_version}")
    conn.close()
    return path.read_bytes()


def test_an_sqlite_file_of_another_program_is_refused_and_left_untouched(db_path: Path) -> None:
    before = _foreign_db(db_path)
    listing = folder_listing(db_path)
    with pytest.raises(ForeignDatabaseError) as info:
        Store(db_path)
    assert str(db_path) in str(info.value)
    assert db_path.read_bytes() == before
    assert folder_listing(db_path) == listing
    assert raw_scalar(db_path, "PRAGMA journal_mode") == "delete"
    assert raw_tables(db_path) == {"moz_places"}


@pytest.mark.parametrize("user_version", [1, len(MIGRATIONS)], ids=["older", "latest"])
def test_an_sqlite_file_of_another_program_with_a_user_version_is_refused(db_path: Path, user_version: int) -> None:
    # Plenty of programs set user_version (1 is common). That alone must not make a file "ours":
    # we must neither migrate it (switching it to WAL and adding our tables) nor open it as ours
    # (`agent-assist demo --force` relies on Store() refusing foreign files before deleting them).
    before = _foreign_db(db_path, user_version=user_version)
    listing = folder_listing(db_path)
    with pytest.raises(ForeignDatabaseError):
        Store(db_path).close()
    assert db_path.read_bytes() == before
    assert folder_listing(db_path) == listing
    assert raw_scalar(db_path, "PRAGMA journal_mode") == "delete"
    assert raw_tables(db_path) == {"moz_places"}


def test_a_newer_schema_is_refused_and_left_untouched(db_path: Path) -> None:
    Store(db_path).close()
    conn = raw(db_path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(NewerSchemaError) as info:
        Store(db_path)
    message = str(info.value)
    assert str(len(MIGRATIONS) + 5) in message and str(len(MIGRATIONS)) in message
    assert db_path.read_bytes() == before
    assert raw_scalar(db_path, "PRAGMA user_version") == len(MIGRATIONS) + 5


# -- locks ---------------------------------------------------------------------------------------
def test_a_locked_database_raises_locked_error(db_path: Path, fast_open: float) -> None:
    Store(db_path).close()
    conn = raw(db_path)
    assert conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
    before = db_path.read_bytes()
    conn.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseLockedError) as info:
            Store(db_path)
        elapsed = time.monotonic() - started
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    assert str(db_path) in str(info.value)
    assert elapsed < fast_open + 2.0  # the (patched) busy timeout is honoured
    assert db_path.read_bytes() == before
    with Store(db_path) as store:  # once the other program lets go, it opens fine
        assert store.schema_version() == len(MIGRATIONS)


def test_a_locked_fresh_empty_file_raises_locked_error(db_path: Path, fast_open: float) -> None:
    conn = raw(db_path)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        assert db_path.exists()
        with pytest.raises(DatabaseLockedError):
            Store(db_path)
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    assert db_path.read_bytes() == b""
    with Store(db_path) as store:
        assert store.schema_version() == len(MIGRATIONS)


# -- migrations --------------------------------------------------------------------------------
def _bad_migration(db: sqlite_utils.Database) -> None:
    db["half_made"].create({"id": int, "name": str}, pk="id")
    db["half_made"].insert({"id": 1, "name": "x"})
    raise RuntimeError("boom in the middle")


def _bad_sql_migration(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE half_made (id INTEGER PRIMARY KEY)")
    db.execute("ALTER TABLE no_such_table ADD COLUMN x TEXT")


@pytest.mark.parametrize("bad", [_bad_migration, _bad_sql_migration], ids=["python-error", "sql-error"])
def test_a_failing_migration_rolls_back_and_names_the_version(db_path: Path, bad) -> None:
    with pytest.raises(MigrationError) as info:
        Store(db_path, migrations=[MIGRATIONS[0], bad])
    message = str(info.value)
    assert "schema 2" in message
    assert "schema 1" in message
    assert info.value.__cause__ is not None
    assert raw_scalar(db_path, "PRAGMA user_version") == 1
    tables = raw_tables(db_path)
    assert "half_made" not in tables
    assert {"tickets", "audit"} <= tables
    with Store(db_path, migrations=[MIGRATIONS[0]]) as store:  # the file is still a good schema-1 file
        assert store.schema_version() == 1


def test_a_failing_migration_on_an_existing_file_keeps_its_data(db_path: Path) -> None:
    with Store(db_path, migrations=[MIGRATIONS[0]]) as store:
        create_ticket(store, actor="ana", customer_name="A B", customer_email="a@b.c", subject="Keep me",
                      body_text="x")
    with pytest.raises(MigrationError, match="schema 2"):
        Store(db_path, migrations=[MIGRATIONS[0], _bad_migration])
    with Store(db_path, migrations=[MIGRATIONS[0]]) as store:
        assert store.schema_version() == 1
        assert [r[0] for r in store.db.conn.execute("SELECT subject FROM tickets")] == ["Keep me"]
        assert "half_made" not in store.db.table_names()


def test_ordered_migrations_apply_in_order_on_an_old_file(db_path: Path) -> None:
    calls: list[str] = []

    def v1(db: sqlite_utils.Database) -> None:
        calls.append("v1")
        MIGRATIONS[0](db)

    def v2(db: sqlite_utils.Database) -> None:
        calls.append("v2")
        db["steps"].create({"n": int, "seen_version": int})
        db["steps"].insert({"n": 2, "seen_version": db.conn.execute("PRAGMA user_version").fetchone()[0]})

    def v3(db: sqlite_utils.Database) -> None:
        calls.append("v3")
        db["steps"].insert({"n": 3, "seen_version": db.conn.execute("PRAGMA user_version").fetchone()[0]})
        db["tickets"].add_column("region", str)

    with Store(db_path, migrations=[v1]) as store:
        assert store.schema_version() == 1
        create_ticket(store, actor="ana", customer_name="A B", customer_email=None, subject="Old", body_text="x")
    assert calls == ["v1"]

    with Store(db_path, migrations=[v1, v2, v3]) as store:
        assert calls == ["v1", "v2", "v3"]
        assert store.schema_version() == 3 == store.latest_version
        assert store.db.conn.execute("SELECT n, seen_version FROM steps ORDER BY rowid").fetchall() == [(2, 1), (3, 2)]
        assert "region" in store.db["tickets"].columns_dict
        assert store.db.conn.execute("SELECT subject FROM tickets").fetchall() == [("Old",)]

    with Store(db_path, migrations=[v1, v2, v3]) as store:  # nothing left to do
        assert store.schema_version() == 3
    assert calls == ["v1", "v2", "v3"]


def test_the_real_migrations_upgrade_a_schema_1_file_with_data(db_path: Path) -> None:
    from agent_assist.store.tickets import QueueFilter, queue_count, queue_page

    with Store(db_path, migrations=MIGRATIONS[:1]) as store:
        assert store.schema_version() == 1
        old = create_ticket(store, actor="ana", customer_name="Anna Lindqvist", customer_email="anna@example.se",
                            subject="Återbetalning saknas", body_text="x")
    with Store(db_path) as store:
        assert store.schema_version() == len(MIGRATIONS)
        # rows that existed before the upgrade are in the queue's word index too
        assert [r.id for r in queue_page(store.db, QueueFilter(text="lindq", statuses=()))] == [old]
        assert [r.id for r in queue_page(store.db, QueueFilter(text="aterbet", statuses=()))] == [old]
        new = create_ticket(store, actor="ana", customer_name="Tom Baker", customer_email="tom@example.com",
                            subject="Late fee", body_text="x")
        assert queue_count(store.db, QueueFilter(text="baker", statuses=())) == 1
        assert [r.id for r in queue_page(store.db, QueueFilter(statuses=()), sort="id")] == [old, new]
        assert audit.verify(store.db).ok


# -- connections --------------------------------------------------------------------------------
def test_close_twice_is_fine(db_path: Path) -> None:
    store = Store(db_path)
    store.db.conn.execute("SELECT 1")
    store.close()
    store.close()
    with Store(db_path) as again:
        again.close()  # and the context manager closes once more on exit


def test_data_version_changes_after_a_commit_from_another_store(db_path: Path) -> None:
    with Store(db_path) as watcher, Store(db_path) as writer:
        v0 = watcher.data_version()
        assert watcher.data_version() == v0  # stable when nothing happens
        create_ticket(writer, actor="ana", customer_name="A B", customer_email=None, subject="S", body_text="x")
        v1 = watcher.data_version()
        assert v1 != v0
        assert watcher.data_version() == v1


def test_data_version_changes_after_a_raw_commit(store: Store, db_path: Path) -> None:
    v0 = store.data_version()
    conn = raw(db_path)
    try:
        conn.execute("INSERT INTO customers (name, created_at) VALUES ('Raw', '2024-01-01T00:00:00Z')")
    finally:
        conn.close()
    assert store.data_version() != v0


def test_data_version_changes_after_a_commit_from_the_same_store(store: Store) -> None:
    v0 = store.data_version()
    create_ticket(store, actor="ana", customer_name="A B", customer_email=None, subject="S", body_text="x")
    v1 = store.data_version()
    assert v1 != v0
    with store.transaction() as db:
        db.conn.execute("UPDATE tickets SET subject = 'T'")
    assert store.data_version() != v1


def test_data_version_unchanged_by_a_rolled_back_transaction(store: Store) -> None:
    v0 = store.data_version()
    with pytest.raises(ZeroDivisionError), store.transaction() as db:
        db.conn.execute("INSERT INTO customers (name, created_at) VALUES ('Gone', '2024-01-01T00:00:00Z')")
        1 / 0
    assert store.data_version() == v0


# -- transactions -------------------------------------------------------------------------------
def _customer_names(db_path: Path) -> list[str]:
    conn = raw(db_path)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM customers ORDER BY id")]
    finally:
        conn.close()


def test_transaction_commits(store: Store, db_path: Path) -> None:
    with store.transaction() as db:
        assert db.conn.in_transaction
        db.conn.execute("INSERT INTO customers (name, created_at) VALUES ('Kept', '2024-01-01T00:00:00Z')")
    assert not store.db.conn.in_transaction
    assert _customer_names(db_path) == ["Kept"]


def test_transaction_rolls_back_on_an_exception(store: Store, db_path: Path) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), store.transaction() as db:
        db.conn.execute("INSERT INTO customers (name, created_at) VALUES ('Gone', '2024-01-01T00:00:00Z')")
        raise Boom
    assert not store.db.conn.in_transaction
    assert _customer_names(db_path) == []
    # the store is usable afterwards
    with store.transaction() as db:
        db.conn.execute("INSERT INTO customers (name, created_at) VALUES ('Next', '2024-01-01T00:00:00Z')")
    assert _customer_names(db_path) == ["Next"]


def test_nested_transactions_join_the_outer_one(store: Store, db_path: Path) -> None:
    with store.transaction() as outer:
        outer.conn.execute("INSERT INTO customers (name, created_at) VALUES ('Outer', '2024-01-01T00:00:00Z')")
        with store.transaction() as inner:
            assert inner is outer
            inner.conn.execute("INSERT INTO customers (name, created_at) VALUES ('Inner', '2024-01-01T00:00:00Z')")
        # leaving the inner block did not commit: another connection sees nothing yet
        assert outer.conn.in_transaction
        assert _customer_names(db_path) == []
    assert _customer_names(db_path) == ["Outer", "Inner"]


def test_an_error_after_a_nested_transaction_rolls_back_both(store: Store, db_path: Path) -> None:
    with pytest.raises(KeyError), store.transaction() as outer:
        with store.transaction() as inner:
            inner.conn.execute("INSERT INTO customers (name, created_at) VALUES ('Inner', '2024-01-01T00:00:00Z')")
        outer.conn.execute("INSERT INTO customers (name, created_at) VALUES ('Outer', '2024-01-01T00:00:00Z')")
        raise KeyError("late failure")
    assert _customer_names(db_path) == []


def test_an_error_in_a_nested_transaction_rolls_back_the_outer_one(store: Store, db_path: Path) -> None:
    with pytest.raises(ValueError), store.transaction() as outer:
        outer.conn.execute("INSERT INTO customers (name, created_at) VALUES ('Outer', '2024-01-01T00:00:00Z')")
        with store.transaction() as inner:
            inner.conn.execute("INSERT INTO customers (name, created_at) VALUES ('Inner', '2024-01-01T00:00:00Z')")
            raise ValueError("inner failure")
    assert _customer_names(db_path) == []


# -- durable commits -----------------------------------------------------------------------------
def _synchronous(conn) -> int:
    return conn.execute("PRAGMA synchronous").fetchone()[0]  # 1 NORMAL, 2 FULL


def test_a_durable_transaction_commits_with_synchronous_full(store: Store, db_path: Path) -> None:
    conn = store.db.conn
    assert _synchronous(conn) == 1  # the usual setting in WAL mode
    with store.transaction(durable=True) as db:
        assert _synchronous(db.conn) == 2
        db.conn.execute("INSERT INTO customers (name, created_at) VALUES ('Kept', '2024-01-01T00:00:00Z')")
    assert _synchronous(conn) == 1 and _customer_names(db_path) == ["Kept"]
    with store.transaction() as db:
        assert _synchronous(db.conn) == 1
    with pytest.raises(KeyError), store.transaction(durable=True) as db:  # rolled back: restored all the same
        raise KeyError("failure")
    assert _synchronous(conn) == 1 and not conn.in_transaction


def test_a_durable_transaction_cannot_join_a_plain_one_but_a_plain_one_joins_a_durable_one(
        store: Store, db_path: Path) -> None:
    conn = store.db.conn
    with pytest.raises(ValueError, match="durable=True"), store.transaction() as db:
        db.conn.execute("INSERT INTO customers (name, created_at) VALUES ('Gone', '2024-01-01T00:00:00Z')")
        with store.transaction(durable=True):
            pass  # SQLite cannot raise the safety level of a transaction already open
    assert _customer_names(db_path) == [] and _synchronous(conn) == 1
    with store.transaction(durable=True):
        with store.transaction() as inner:
            assert _synchronous(inner.conn) == 2
            inner.conn.execute("INSERT INTO customers (name, created_at) VALUES ('Both', '2024-01-01T00:00:00Z')")
    assert _customer_names(db_path) == ["Both"] and _synchronous(conn) == 1


def test_durable_is_per_connection(store: Store) -> None:
    seen = []
    with store.transaction(durable=True):
        worker = threading.Thread(target=lambda: seen.append(_synchronous(store.db.conn)))
        worker.start()
        worker.join()
    assert seen == [1]  # another thread's connection keeps its setting

# -- threads -------------------------------------------------------------------------------------
def test_store_works_from_several_threads(store: Store) -> None:
    threads_n, per_thread = 4, 15
    barrier = threading.Barrier(threads_n)
    conns: dict[int, int] = {}
    created: dict[int, list[int]] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            conns[n] = id(store.db.conn)
            barrier.wait(timeout=10)
            created[n] = [
                create_ticket(store, actor=f"agent{n}", customer_name=f"Customer {n}",
                              customer_email=f"c{n}@example.com", subject=f"T{n}-{i}", body_text=f"from {n}")
                for i in range(per_thread)
            ]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert len(set(conns.values())) == threads_n  # each thread got its own connection
    assert id(store.db.conn) not in conns.values()

    all_ids = sorted(i for ids in created.values() for i in ids)
    assert len(all_ids) == len(set(all_ids)) == threads_n * per_thread
    db = store.db
    assert sorted(r[0] for r in db.conn.execute("SELECT id FROM tickets")) == all_ids
    assert db.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == threads_n * per_thread
    assert db.conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == threads_n
    for n in range(threads_n):
        subjects = [r[0] for r in db.conn.execute(
            "SELECT subject FROM tickets WHERE id IN (%s) ORDER BY id" % ",".join("?" * per_thread), created[n])]
        assert subjects == [f"T{n}-{i}" for i in range(per_thread)]
    result = audit.verify(db)
    assert result.ok, result
    assert result.rows == threads_n * per_thread
    assert db.conn.execute("SELECT COUNT(*) FROM audit WHERE action = 'ticket.created'").fetchone()[0] == \
        threads_n * per_thread
