"""A file in trouble (busy, full, read-only, damaged) gives the store's own error, a sentence, and loses nothing.

Every condition is real: another process holds the write lock, SQLite's own size limit gives SQLITE_FULL,
the read-only checks run in a process without the capability that lets root ignore file modes, and a page
of a real file is overwritten.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_assist.store import Store, StoreClosedError, StoreError
from agent_assist.store.errors import (
    DamagedDatabaseError,
    DatabaseLockedError,
    DiskFullError,
    MissingDatabaseError,
    ReadOnlyDatabaseError,
)
from agent_assist.store.tickets import create_ticket
from tests.store.lock_holder import LockHolder


def new_ticket(store: Store, subject: str = "Where is my parcel?") -> int:
    return create_ticket(store, actor="sam", customer_name="Tom Baker", customer_email="tom@example.co.uk",
                         subject=subject, body_text="It has not arrived.", language="en")


def ticket_count(path: Path) -> int:
    with Store(path, create=False) as store:
        return store.db.conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]


@pytest.fixture
def lock_holder(db_path: Path) -> Iterator[LockHolder]:
    Store(db_path).close()
    holder = LockHolder(db_path)
    yield holder
    holder.release()


# -- busy --------------------------------------------------------------------------------------------
def test_a_write_while_another_process_holds_the_lock_is_a_sentence_and_writes_nothing(
        db_path: Path, lock_holder: LockHolder) -> None:
    store = Store(db_path, busy_timeout=0.2)
    try:
        with pytest.raises(DatabaseLockedError) as info:
            new_ticket(store)
        message = str(info.value)
        assert str(db_path) in message and "busy" in message and message.endswith(".")
        assert not store.db.conn.in_transaction
        lock_holder.release()
        new_ticket(store)  # the same store works once the other program lets go
    finally:
        store.close()
    assert ticket_count(db_path) == 1


def test_a_write_waits_for_a_short_lock_and_then_succeeds(db_path: Path, lock_holder: LockHolder) -> None:
    store = Store(db_path, busy_timeout=60)
    done = threading.Event()
    result: list[object] = []

    def write() -> None:
        try:
            result.append(new_ticket(store))
        except Exception as exc:  # noqa: BLE001 - reported below
            result.append(exc)
        done.set()

    worker = threading.Thread(target=write)
    worker.start()
    try:
        assert not done.wait(0.3)  # still waiting for the lock (a wait-for-condition, not a timing claim)
        lock_holder.release()
        assert done.wait(30)
    finally:
        worker.join(30)
        store.close()
    assert isinstance(result[0], int)
    assert ticket_count(db_path) == 1


def test_opening_while_another_process_holds_the_lock_still_works_for_reading(
        db_path: Path, lock_holder: LockHolder) -> None:
    # WAL: a reader never waits for a writer
    assert ticket_count(db_path) == 0


# -- full ------------------------------------------------------------------------------------------
def test_a_full_disk_is_a_sentence_and_the_transaction_is_rolled_back(store: Store, db_path: Path) -> None:
    new_ticket(store, "kept")
    conn = store.db.conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite answers SQLITE_FULL, as a full disk would
    with pytest.raises(DiskFullError) as info:
        with store.transaction() as db:
            db.conn.execute("UPDATE tickets SET subject = 'half' WHERE subject = 'kept'")
            db["filler"].insert_all(({"id": i, "text": "x" * 2000} for i in range(2000)), pk="id")
    message = str(info.value)
    assert "full" in message and str(db_path) in message and message.endswith(".")
    assert not conn.in_transaction
    conn.execute("PRAGMA max_page_count = 1073741823")
    assert conn.execute("SELECT subject FROM tickets").fetchall() == [("kept",)]
    assert "filler" not in store.db.table_names()
    new_ticket(store, "after")  # space again: the store goes on
    assert ticket_count(db_path) == 2


# -- read-only ---------------------------------------------------------------------------------------
def _run_without_root_powers(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` as this user but without CAP_DAC_OVERRIDE, so file modes bind even for root."""
    cmd = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: file modes cannot be made to bind")
        cmd = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


READ_ONLY_CHECK = textwrap.dedent("""
    import sys
    from pathlib import Path
    from agent_assist.store import Store
    from agent_assist.store.errors import ReadOnlyDatabaseError
    from agent_assist.store.tickets import create_ticket
    path = Path(sys.argv[1])
    try:
        open(path, "ab").close()
    except PermissionError:
        pass
    else:
        print("MODES DO NOT BIND")
        sys.exit(5)
    with Store(path, create=False) as store:
        print("read_only", store.read_only)
        print("tickets", store.db.conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0])
        try:
            create_ticket(store, actor="sam", customer_name="A", customer_email=None, subject="s",
                          body_text="b", language="en")
        except ReadOnlyDatabaseError as exc:
            print("refused", exc)
""")


@pytest.mark.parametrize("folder_read_only", [False, True], ids=["file", "file-and-folder"])
def test_a_read_only_database_still_reads_and_refuses_writes_in_a_sentence(
        tmp_path: Path, folder_read_only: bool) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "assist.db"
    with Store(path) as store:
        new_ticket(store)
    path.chmod(0o444)
    if folder_read_only:
        folder.chmod(0o555)
    try:
        before = path.read_bytes()
        proc = _run_without_root_powers(READ_ONLY_CHECK.replace("sys.argv[1]", repr(str(path))))
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
    if proc.returncode == 5:
        pytest.skip("this machine lets the process write a read-only file anyway")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "read_only True" in lines and "tickets 1" in lines
    refused = next(line for line in lines if line.startswith("refused "))
    assert str(path) in refused and "read-only" in refused and "reading still works" in refused
    assert "Traceback" not in proc.stderr
    assert path.read_bytes() == before
    if folder_read_only:
        assert sorted(p.name for p in folder.iterdir()) == ["assist.db"]


def test_a_command_that_only_reads_never_creates_a_database(tmp_path: Path) -> None:
    path = tmp_path / "nothing-here" / "assist.db"
    with pytest.raises(MissingDatabaseError) as info:
        Store(path, create=False)
    assert str(path) in str(info.value)
    assert not path.parent.exists()


# -- damaged -------------------------------------------------------------------------------------------
def test_a_damaged_page_is_a_sentence_not_a_traceback(db_path: Path) -> None:
    with Store(db_path) as store:
        for n in range(50):
            new_ticket(store, f"ticket {n} " + "padding " * 40)
        page_size = store.db.conn.execute("PRAGMA page_size").fetchone()[0]
        root = store.db.conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'messages'").fetchone()[0]
    with db_path.open("r+b") as fh:  # scribble over the middle of the messages table's first page
        fh.seek((root - 1) * page_size + 8)
        fh.write(b"\xff\x13" * (page_size // 4))
    with pytest.raises(DamagedDatabaseError) as info:
        with Store(db_path, create=False) as store:
            store.db.conn.execute("SELECT * FROM messages").fetchall()
    message = str(info.value)
    assert str(db_path) in message and "damaged" in message and "backup" in message


# -- closed ---------------------------------------------------------------------------------------------
def test_a_closed_store_raises_its_own_error(store: Store) -> None:
    store.close()
    caught: list[BaseException] = []

    def late_job() -> None:  # a background job that comes after the window closed
        try:
            store.db
        except BaseException as exc:  # noqa: BLE001 - reported below
            caught.append(exc)

    worker = threading.Thread(target=late_job)
    worker.start()
    worker.join(30)
    assert len(caught) == 1 and isinstance(caught[0], StoreClosedError)
    assert isinstance(caught[0], StoreError)
    with pytest.raises(StoreClosedError):  # the thread that had a connection, too
        store.db
    with pytest.raises(StoreClosedError):  # and the live queue's poll
        store.data_version()

