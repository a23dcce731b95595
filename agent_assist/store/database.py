"""Opening the one SQLite file: checks, pragmas, migrations, connections.

One connection per thread (SQLite connections must not be shared across
threads); writes are serialised by a process-wide lock plus ``BEGIN IMMEDIATE``
so they never deadlock with another process. A separate *watch* connection only
reads ``PRAGMA data_version``, which changes whenever any other connection, in
this process or another, commits — that is what makes the queue live.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

import sqlite_utils

from agent_assist.store import audit
from agent_assist.store.errors import (
    DamagedDatabaseError,
    DatabaseLockedError,
    DiskFullError,
    ForeignDatabaseError,
    MigrationError,
    MissingDatabaseError,
    NewerSchemaError,
    NotADatabaseError,
    ReadOnlyDatabaseError,
    StorageError,
    StoreClosedError,
    StoreError,
)
from agent_assist.store.migrations import APPLICATION_ID, MIGRATIONS, Migration
from agent_assist.store.private_files import prepare_database, secure_database

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 5.0  # the one busy timeout: opening, reading and writing all wait this long for a lock
RETRY_PAUSE_S = 0.05  # between tries of BEGIN IMMEDIATE / COMMIT while the busy timeout lasts

# primary result codes (https://sqlite.org/rescode.html); extended codes carry them in the low byte
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR = 5, 6, 8, 10
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 13, 14, 26


_ANOTHER_FILE = ("choose another file: start Agent Assist with --db PATH (or set $AGENT_ASSIST_DB), "
                 "or move this one out of the way.")


def _check_file(path: Path) -> None:
    """Refuse anything that is not a (possibly empty or missing) SQLite file.

    A folder, a device (/dev/null), a named pipe or a socket is refused before SQLite sees it: SQLite
    would answer with a misleading "disk I/O error", and reading a pipe's header would block.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise NotADatabaseError(f"{path} cannot be read: {exc.strerror or exc}.") from exc
    if stat.S_ISDIR(mode):
        raise NotADatabaseError(f"{path} is a folder, not a database file.")
    if not stat.S_ISREG(mode):
        raise NotADatabaseError(f"{path} is not a regular file ({_file_kind(mode)}), so it cannot be a database; "
                                "start Agent Assist with --db naming a database file (or set $AGENT_ASSIST_DB).")
    try:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise NotADatabaseError(f"{path} cannot be read: {exc.strerror or exc}.") from exc
    if header and header != SQLITE_HEADER:
        raise NotADatabaseError(f"{path} is not an SQLite database. Agent Assist left it untouched; " + _ANOTHER_FILE)


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a plain file"


def _primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def _is_locked(exc: sqlite3.Error) -> bool:
    code = _primary_code(exc)
    if code is not None:
        return code in (_SQLITE_BUSY, _SQLITE_LOCKED)
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


def translate_error(exc: sqlite3.Error, path: str | Path) -> StoreError | None:
    """The store's own error for an SQLite error about the file itself, or None for any other one.

    Only conditions of the file are translated (busy, full, read-only, damaged, I/O); an error of one
    statement (a constraint, a syntax error) stays what it is, for the code that caused it.
    """
    code = _primary_code(exc)
    if _is_locked(exc):
        return DatabaseLockedError(f"{path} is busy: another program is writing to it; try again in a moment.")
    if code == _SQLITE_FULL:
        return DiskFullError(
            f"The disk holding {path} is full (or the file reached its size limit), so the change was not "
            "saved; free some space and try again.")
    if code == _SQLITE_READONLY:
        return ReadOnlyDatabaseError(
            f"{path} is read-only (the file or its folder cannot be written), so the change was not saved; "
            "reading still works.")
    if code == _SQLITE_CORRUPT:
        return DamagedDatabaseError(
            f"{path} is damaged (SQLite found a broken page), so it cannot be used safely; restore it from "
            "a backup, and keep the damaged file for inspection.")
    if code == _SQLITE_NOTADB:
        return NotADatabaseError(f"{path} is not a readable SQLite database. It was left untouched.")
    if code in (_SQLITE_IOERR, _SQLITE_CANTOPEN):
        return StorageError(
            f"{path} could not be read or written ({exc}); check that the disk and folder are there and "
            "try again.")
    return None


def in_use_elsewhere(path: str | Path) -> bool:
    """Whether another process has this database open (or is inside a transaction on it).

    Every connection to a WAL database holds a shared lock on the "dead man switch" byte of its
    ``-shm`` file for as long as it is open; a writer or reader of a rollback-journal file locks
    the database file itself. On Linux, ``/proc/locks`` shows those locks without touching the
    files (opening and closing a file would drop this process's own SQLite locks on it); elsewhere
    a non-blocking probe of the ``-shm`` byte answers.
    """
    path = Path(path)
    files = [p for p in (path, Path(f"{path}-shm"), Path(f"{path}-wal")) if p.exists()]
    if not files:
        return False
    try:
        with open("/proc/locks", encoding="ascii") as fh:
            table = fh.read().splitlines()
    except OSError:
        return _shm_probe(Path(f"{path}-shm"))
    wanted = set()
    for p in files:
        st = p.stat()
        wanted.add((os.major(st.st_dev), os.minor(st.st_dev), st.st_ino))
    me = str(os.getpid())
    for line in table:
        fields = line.split()
        if fields and fields[1] == "->":  # a waiting lock: "12: -> POSIX ..."
            fields = [fields[0], *fields[2:]]
        if len(fields) < 6:
            continue
        pid, where = fields[4], fields[5]
        try:
            major, minor, inode = where.split(":")
            key = (int(major, 16), int(minor, 16), int(inode))
        except ValueError:
            continue
        if key in wanted and pid != me:
            return True
    return False


def _shm_probe(shm: Path) -> bool:  # pragma: no cover - platforms without /proc/locks
    try:
        import fcntl
    except ImportError:  # Windows: an open file cannot be deleted there; the deletion says so
        return False
    if not shm.exists():
        return False
    try:
        with shm.open("r+b") as fh:
            try:
                fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)  # SQLite's DMS byte
            except OSError:
                return True
            fcntl.lockf(fh, fcntl.LOCK_UN, 1, 128)
    except OSError:
        return False
    return False


def _reraise(exc: sqlite3.Error, path: Path) -> NoReturn:
    """Raise the store's own error for ``exc`` (busy, full, read-only, damaged), or ``exc`` itself."""
    err = translate_error(exc, path)
    if err is None:
        raise exc
    raise err from exc


class _Connection(sqlite3.Connection):
    """A connection whose statements raise the store's errors for busy, full, read-only or damaged files."""

    store_path: Path

    def execute(self, sql: str, parameters=(), /) -> sqlite3.Cursor:  # type: ignore[override]
        try:
            return super().execute(sql, parameters)
        except sqlite3.Error as exc:
            _reraise(exc, self.store_path)

    def executemany(self, sql: str, parameters, /) -> sqlite3.Cursor:  # type: ignore[override]
        try:
            return super().executemany(sql, parameters)
        except sqlite3.Error as exc:
            _reraise(exc, self.store_path)

    def executescript(self, script: str, /) -> sqlite3.Cursor:  # type: ignore[override]
        try:
            return super().executescript(script)
        except sqlite3.Error as exc:
            _reraise(exc, self.store_path)


class Store:
    """The single source of truth. Thread-safe: each thread gets its own connection.

    ``create=False`` is for commands that only read: a missing file raises
    :class:`MissingDatabaseError` instead of becoming a new, empty database. A file that cannot be
    written (a read-only file or folder) still opens for reading (``read_only`` is then true);
    any write raises :class:`ReadOnlyDatabaseError`. ``busy_timeout`` (seconds, default
    ``BUSY_TIMEOUT_S``) is how long any statement waits for another program's lock.
    """

    dialect = "sqlite"  # see store/backend.py; a team server's store says "postgresql"

    def __init__(self, path: str | Path, *, migrations: Sequence[Migration] | None = None,
                 create: bool = True, busy_timeout: float | None = None):
        self.path = Path(path)
        self.busy_timeout = BUSY_TIMEOUT_S if busy_timeout is None else float(busy_timeout)
        self.read_only = False
        self._uri_mode: str | None = None  # "mode=ro" or "immutable=1" once the file proved read-only
        self._migrations = list(MIGRATIONS if migrations is None else migrations)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        _check_file(self.path)
        if not create and not self.path.exists():
            raise MissingDatabaseError(f"{self.path} does not exist; nothing was created.")
        if create:
            prepare_database(self.path)  # private folder (0700) and file (0600) before SQLite writes a byte
        try:
            self._open()
        except BaseException:
            self.close()
            raise
        if create:  # a command that only reads changes nothing, not even a file's mode
            secure_database(self.path)  # and its -wal/-shm, whatever mode an older version left
        self._watch = self._new_connection()
        # a file we may not write opens read-only on its own (SQLite falls back quietly): say so
        self.read_only = self.read_only or not os.access(self.path, os.W_OK)
        self._ensure_statistics()
        if not self.read_only:
            audit.start_keyed_chain(self)  # once per database, where a keyring can keep the key

    def _open(self) -> None:
        try:
            self._open_and_migrate()
            return
        except StorageError as exc:
            if isinstance(exc, (DatabaseLockedError, DiskFullError, DamagedDatabaseError)) \
                    or not self.path.exists() or self.path.stat().st_size == 0:
                raise
            last = exc
        # The file (or its folder) cannot be written: open it for reading only. ``mode=ro`` needs a
        # writable folder for WAL's shared-memory file; ``immutable=1`` reads without any lock or
        # side file, which is right when nobody can write there (a read-only folder).
        for mode in ("mode=ro", "immutable=1"):
            self._close_connections()
            self._local = threading.local()
            self._uri_mode = mode
            try:
                self._open_and_migrate()
            except StorageError as exc:
                last = exc
                continue
            self.read_only = True
            return
        raise last

    # -- connections -----------------------------------------------------------------
    def _new_connection(self, timeout: float | None = None) -> sqlite3.Connection:
        if self._closed:
            raise self._closed_error()
        timeout = self.busy_timeout if timeout is None else timeout
        try:
            if self._uri_mode is None:
                conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                                       check_same_thread=False, factory=_Connection)
            else:
                conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?{self._uri_mode}", uri=True,
                                       timeout=timeout, isolation_level=None, check_same_thread=False,
                                       factory=_Connection)
        except sqlite3.Error as exc:
            self._raise_open_error(exc)
        conn.store_path = self.path
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            if self._uri_mode is None:
                conn.execute("PRAGMA synchronous = NORMAL")
        except (sqlite3.DatabaseError, StoreError) as exc:
            conn.close()
            if isinstance(exc, StoreError):
                raise
            self._raise_open_error(exc)
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    def _closed_error(self) -> StoreClosedError:
        return StoreClosedError(f"{self.path} was closed; the action came too late and did nothing.")

    def _raise_open_error(self, exc: sqlite3.Error) -> None:
        if _is_locked(exc):
            raise DatabaseLockedError(
                f"{self.path} is locked by another program. Close it there, or open another file."
            ) from exc
        if "not a database" in str(exc).lower():
            raise NotADatabaseError(
                f"{self.path} is not a readable SQLite database ({exc}). It was left untouched."
            ) from exc
        _reraise(exc, self.path)

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's database handle (:class:`StoreClosedError` once the store is closed)."""
        if self._closed:
            raise self._closed_error()
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite_utils.Database(self._new_connection())
            self._local.db = db
        return db

    @contextlib.contextmanager
    def transaction(self, *, durable: bool = False) -> Iterator[sqlite_utils.Database]:
        """One write transaction (``BEGIN IMMEDIATE``); commits on success, rolls back on error.

        While another program holds the write lock, ``BEGIN IMMEDIATE`` is tried again until the busy
        timeout has passed (safe: nothing is written yet), then :class:`DatabaseLockedError`. Errors of
        the file (busy, full, read-only, damaged) leave the transaction rolled back and surface as the
        store's own errors; the caller still has whatever the person typed.

        ``durable=True`` commits with ``PRAGMA synchronous = FULL`` (the WAL is synced at this commit, so
        it survives a power cut, not only a crash of this program); the connection goes back to its
        usual setting afterwards. For the few commits announcing a step outside that cannot be undone
        (an e-mail's final '.'). SQLite sets this per transaction, so a durable one cannot join an outer
        one that is not (``ValueError``); a plain one joins a durable one.
        """
        db = self.db
        conn = db.conn
        with self._write_lock:
            if conn.in_transaction:  # nested: join the outer transaction
                if durable and conn.execute("PRAGMA synchronous").fetchone()[0] < 2:
                    # SQLite cannot change the safety level inside a transaction
                    raise ValueError("A durable transaction cannot join one that is not: open the outer one "
                                     "with durable=True.")
                yield db
                return
            if durable:
                usual = conn.execute("PRAGMA synchronous").fetchone()[0]
                conn.execute("PRAGMA synchronous = FULL")
            try:
                self._retry_while_busy(lambda: conn.execute("BEGIN IMMEDIATE"))
                try:
                    yield db
                except BaseException as exc:
                    self._rollback(conn)
                    if isinstance(exc, sqlite3.Error):
                        _reraise(exc, self.path)
                    raise
                try:
                    # COMMIT that meets a lock (readers in rollback-journal mode) keeps the transaction open:
                    # trying again is safe
                    self._retry_while_busy(lambda: conn.execute("COMMIT"))
                except BaseException:
                    self._rollback(conn)
                    raise
            finally:
                if durable:
                    with contextlib.suppress(sqlite3.Error, StoreError):
                        conn.execute(f"PRAGMA synchronous = {int(usual)}")

    def _retry_while_busy(self, step) -> None:
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                step()
                return
            except DatabaseLockedError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(RETRY_PAUSE_S)

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        if conn.in_transaction:  # SQLite may already have rolled back (a full disk, an I/O error)
            with contextlib.suppress(sqlite3.Error, StoreError):
                conn.execute("ROLLBACK")

    def _ensure_statistics(self) -> None:
        """Give the query planner table statistics once (~150 ms for 100k tickets)."""
        conn = self.db.conn
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            return
        self.analyze()

    def analyze(self) -> None:
        """Refresh the planner's statistics (after large imports)."""
        # another program may hold the lock, or the file is read-only: the statistics can wait
        with contextlib.suppress(sqlite3.OperationalError, StorageError):
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
        if self._closed:
            raise self._closed_error()
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
            if db is not None and not self.read_only:
                with contextlib.suppress(sqlite3.Error, StoreError):
                    audit.remember_head(db)  # the keyring's copy of the head shows rows cut from the end
                    db.conn.execute("PRAGMA optimize")
        self._closed = True
        self._close_connections()

    def _close_connections(self) -> None:
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
        conn = self._new_connection()
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
                "write into it; " + _ANOTHER_FILE.replace("another file", "a new or empty file")
            )
        if current > latest:
            raise NewerSchemaError(
                f"{self.path} was written by a newer Agent Assist (schema {current}; this version "
                f"knows up to {latest}). Update Agent Assist to open it; the file was not changed."
            )
        if current < latest and self._uri_mode is not None:
            raise ReadOnlyDatabaseError(
                f"{self.path} cannot be written, and it was made by an older Agent Assist (schema {current}; "
                f"this version needs {latest}); open it once where it can be written to upgrade it."
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
            except StorageError:
                raise  # busy, full, read-only, damaged: the file's trouble, said as such
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
