"""Opening the one SQLite file: checks, pragmas, migrations, connections.

One connection per thread (SQLite connections must not be shared across
threads); writes are serialised by a process-wide lock plus ``BEGIN IMMEDIATE``
so they never deadlock with another process. A separate *watch* connection only
reads ``PRAGMA data_version``, which changes whenever any other connection, in
this process or another, commits — that is what makes the queue live.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import sqlite_utils

from agent_assist.store.errors import (
    DatabaseLockedError,
    ForeignDatabaseError,
    MigrationError,
    NewerSchemaError,
    NotADatabaseError,
    StoreClosedError,
)
from agent_assist.store.migrations import APPLICATION_ID, MIGRATIONS, Migration
from agent_assist.store.private_files import prepare_database, secure_database

SQLITE_HEADER = b"SQLite format 3\x00"
OPEN_TIMEOUT_S = 3.0
BUSY_TIMEOUT_MS = 5000


def _check_file(path: Path) -> None:
    """Refuse anything that is not a (possibly empty or missing) SQLite file."""
    if path.is_dir():
        raise NotADatabaseError(f"{path} is a folder, not a database file.")
    if not path.exists():
        return
    try:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise NotADatabaseError(f"{path} cannot be read: {exc.strerror or exc}.") from exc
    if header and header != SQLITE_HEADER:
        raise NotADatabaseError(
            f"{path} is not an SQLite database. Agent Assist left it untouched; "
            "choose another file with --db."
        )


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


class Store:
    """The single source of truth. Thread-safe: each thread gets its own connection."""

    def __init__(self, path: str | Path, *, migrations: Sequence[Migration] | None = None):
        self.path = Path(path)
        self._migrations = list(MIGRATIONS if migrations is None else migrations)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        _check_file(self.path)
        prepare_database(self.path)  # private folder (0700) and file (0600) before SQLite writes a byte
        try:
            self._open_and_migrate()
        except BaseException:
            self.close()
            raise
        secure_database(self.path)  # and its -wal/-shm, whatever mode an older version left
        self._watch = self._new_connection()
        self._ensure_statistics()

    # -- connections -----------------------------------------------------------------
    def _new_connection(self, timeout: float = BUSY_TIMEOUT_MS / 1000) -> sqlite3.Connection:
        if self._closed:
            raise StoreClosedError(f"{self.path} was closed; reopen it to go on.")
        conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            conn.close()
            self._raise_open_error(exc)
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    def _raise_open_error(self, exc: sqlite3.DatabaseError) -> None:
        if isinstance(exc, sqlite3.OperationalError) and _is_locked(exc):
            raise DatabaseLockedError(
                f"{self.path} is locked by another program. Close it there, or open another file."
            ) from exc
        if "not a database" in str(exc).lower() or "malformed" in str(exc).lower():
            raise NotADatabaseError(
                f"{self.path} is not a readable SQLite database ({exc}). It was left untouched."
            ) from exc
        raise exc

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's database handle."""
        if self._closed:
            raise StoreClosedError(f"{self.path} was closed; reopen it to go on.")
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite_utils.Database(self._new_connection())
            self._local.db = db
        return db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """One write transaction (``BEGIN IMMEDIATE``); commits on success, rolls back on error."""
        db = self.db
        with self._write_lock:
            if db.conn.in_transaction:  # nested: join the outer transaction
                yield db
                return
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.conn.execute("ROLLBACK")
                raise
            else:
                db.conn.execute("COMMIT")

    def _ensure_statistics(self) -> None:
        """Give the query planner table statistics once (~150 ms for 100k tickets)."""
        conn = self.db.conn
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            return
        self.analyze()

    def analyze(self) -> None:
        """Refresh the planner's statistics (after large imports)."""
        with contextlib.suppress(sqlite3.OperationalError):  # a reader elsewhere may hold a lock; it can wait
            with self._write_lock:
                self.db.conn.execute("ANALYZE")

    @contextlib.contextmanager
    def page_cache(self, kib: int) -> Iterator[None]:
        """A larger page cache for this thread's connection during a big write (FTS merges stay in
        memory: 50k articles index in ~15 s instead of ~35 s); restored afterwards."""
        conn = self.db.conn
        before = conn.execute("PRAGMA cache_size").fetchone()[0]
        conn.execute(f"PRAGMA cache_size = -{int(kib)}")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA cache_size = {int(before)}")

    def data_version(self) -> int:
        """A number that changes whenever any connection other than the watcher commits."""
        return self._watch.execute("PRAGMA data_version").fetchone()[0]

    def schema_version(self) -> int:
        return self.db.conn.execute("PRAGMA user_version").fetchone()[0]

    @property
    def latest_version(self) -> int:
        return len(self._migrations)

    def close(self) -> None:
        """Close every connection; safe to call twice."""
        if not self._closed:
            db = getattr(self._local, "db", None)
            if db is not None:
                with contextlib.suppress(sqlite3.Error):
                    db.conn.execute("PRAGMA optimize")
        self._closed = True
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- opening ---------------------------------------------------------------------
    def _open_and_migrate(self) -> None:
        conn = self._new_connection(timeout=OPEN_TIMEOUT_S)
        db = sqlite_utils.Database(conn)
        self._local.db = db
        try:
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = db.table_names()
        except sqlite3.DatabaseError as exc:
            self._raise_open_error(exc)
        latest = len(self._migrations)
        if (current == 0 and tables) or (current > 0 and app_id != APPLICATION_ID):
            raise ForeignDatabaseError(
                f"{self.path} is an SQLite database of another program. Agent Assist will not "
                "write into it; choose a new or empty file with --db."
            )
        if current > latest:
            raise NewerSchemaError(
                f"{self.path} was written by a newer Agent Assist (schema {current}; this version "
                f"knows up to {latest}). Update Agent Assist to open it; the file was not changed."
            )
        if current < latest:
            try:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.OperationalError as exc:
                self._raise_open_error(exc)
            if mode.lower() != "wal":  # pragma: no cover - e.g. network file systems
                raise DatabaseLockedError(f"{self.path} could not be switched to WAL mode (got {mode}).")
        for version in range(current + 1, latest + 1):
            migration = self._migrations[version - 1]
            try:
                with self.transaction():
                    migration(db)
                    conn.execute(f"PRAGMA user_version = {version}")
            except sqlite3.OperationalError as exc:
                if _is_locked(exc):
                    self._raise_open_error(exc)
                raise MigrationError(
                    f"Upgrading {self.path} to schema {version} failed ({exc}); the file was left at "
                    f"schema {version - 1}."
                ) from exc
            except Exception as exc:
                raise MigrationError(
                    f"Upgrading {self.path} to schema {version} failed ({exc}); the file was left at "
                    f"schema {version - 1}."
                ) from exc
