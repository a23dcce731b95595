"""The store on a team server: the same interface as :class:`agent_assist.store.Store`, on PostgreSQL.

A desk signs in as the person's own login role; who did what comes from that session
(``session_user`` on the server), never from a name the app sends. Each thread has its own
connection (autocommit outside :meth:`PostgresStore.transaction`). A listener thread holds one more
connection that ``LISTEN``s for the server's announcements (every ticket, message and draft change,
article, rule and profile changes): :meth:`data_version` counts them, so the window's cheap check of a
number replaces any polling scan. When the server goes away the listener says ``reconnecting`` and
tries again with backoff; on its return the version moves on once more so every view catches up.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator

import psycopg

from agent_assist.store.errors import StoreClosedError, StoreError
from agent_assist.store.postgres import migrations
from agent_assist.store.postgres.adapter import PgConnection, PgDatabase, ServerUnavailableError, reraise
from agent_assist.store.postgres.connect import TeamDatabaseError, connect, describe

log = logging.getLogger(__name__)

CHANNELS = ("agent_assist_tickets", "agent_assist_changes", "agent_assist_presence")
PRESENCE_CHANNEL = "agent_assist_presence"  # who has which ticket open: shown, never a reason to re-read the queue
BACKOFF_S = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)  # between tries to reach a server that went away
# a dead network is noticed within ~10 s, not at TCP's default of hours
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3}


class PostgresStore:
    """One desk's session on a team database (``postgresql://person@host/db``)."""

    dialect = "postgresql"
    read_only = False

    def __init__(self, url: str, *, password: str | None = None, listen: bool = True):
        self.url = url
        self.path = describe(url)  # what messages and the title call the database
        self._password = password
        self._local = threading.local()
        self._conns: list[PgConnection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        self._version = 0
        self._presence_version = 0
        # called from the listener thread after each announcement (the window wakes at once instead of at
        # its next timer tick); must be thread-safe and quick, e.g. emitting a queued Qt signal
        self.on_change: Callable[[], None] | None = None
        self._articles_version = 0
        self._version_lock = threading.Lock()
        self._changed: set[int] = set()
        self.state = "online"  # or "reconnecting"
        self.state_detail = ""
        first = self._new_connection()
        self._local.db = PgDatabase(first)
        try:
            self._schema = migrations.check(first.raw)
            self.user = first.raw.execute("SELECT session_user").fetchone()[0]
            role = first.raw.execute("SELECT role FROM profiles WHERE name = session_user").fetchone()
        except psycopg.Error as exc:
            self.close()
            reraise(exc)
        except StoreError:
            self.close()
            raise
        if role is None:
            self.close()
            raise TeamDatabaseError(f"{self.user} can sign in to {self.path} but is not on the team: an "
                                    "administrator adds them with `agent-assist team add-person`.")
        self.role = role[0]
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None
        if listen:
            self._listener = threading.Thread(target=self._listen, name="team-listener", daemon=True)
            self._listener.start()

    # -- connections -----------------------------------------------------------------
    def _connect(self, **extra) -> psycopg.Connection:
        kwargs = dict(KEEPALIVE, **extra)
        if self._password is not None:
            kwargs["password"] = self._password
        try:
            return connect(self.url, autocommit=True, **kwargs)
        except TeamDatabaseError as exc:
            if isinstance(exc.__cause__, psycopg.OperationalError):  # libpq could not open a session
                raise ServerUnavailableError(str(exc)) from exc
            raise

    def _new_connection(self) -> PgConnection:
        if self._closed:
            raise self._closed_error()
        conn = PgConnection(self._connect())
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    def _closed_error(self) -> StoreClosedError:
        return StoreClosedError(f"The connection to {self.path} was closed; the action came too late and did nothing.")

    @property
    def db(self) -> PgDatabase:
        """This thread's handle; a connection the server dropped is replaced by a new one."""
        if self._closed:
            raise self._closed_error()
        db = getattr(self._local, "db", None)
        if db is not None and (db.conn.raw.closed or db.conn.raw.broken) and not db.conn.in_transaction:
            with self._conns_lock, contextlib.suppress(ValueError):
                self._conns.remove(db.conn)
            db = None
        if db is None:
            db = PgDatabase(self._new_connection())
            self._local.db = db
        return db

    @contextlib.contextmanager
    def transaction(self, *, durable: bool = False) -> Iterator[PgDatabase]:
        """One transaction: commits on success, rolls back on error; a nested one joins the outer one.

        Every commit on the server is durable (``durable`` is accepted for the same interface).
        """
        db = self.db
        conn = db.conn
        if conn.in_transaction:
            yield db
            return
        conn.depth += 1
        try:
            try:
                with conn.raw.transaction():
                    yield db
            except psycopg.Error as exc:
                reraise(exc)
        finally:
            conn.depth -= 1

    def analyze(self) -> None:
        with contextlib.suppress(psycopg.Error, StoreError):
            self.db.conn.execute("ANALYZE")

    @contextlib.contextmanager
    def page_cache(self, kib: int) -> Iterator[None]:  # the server sizes its own caches
        yield

    # -- live --------------------------------------------------------------------------
    def data_version(self) -> int:
        """A number that moves on whenever another desk (or this one) changed something."""
        if self._closed:
            raise self._closed_error()
        return self._version

    def changed_tickets(self) -> set[int]:
        """The ticket ids announced since the last call (for a view that refreshes only those)."""
        with self._version_lock:
            found, self._changed = self._changed, set()
        return found

    def presence_version(self) -> int:
        """A number that moves on when a desk opens or leaves a ticket, or starts or stops writing."""
        return self._presence_version

    def articles_version(self) -> int:
        """A number that moves on when the server announces changed articles (and after a reconnect):
        a desk's knowledge replica syncs when it does."""
        return self._articles_version

    def _bump_articles(self) -> None:
        with self._version_lock:
            self._articles_version += 1

    def _bump_presence(self) -> None:
        with self._version_lock:
            self._presence_version += 1
        self._announce()

    def _bump(self, ticket: int | None = None) -> None:
        with self._version_lock:
            self._version += 1
            if ticket is not None:
                self._changed.add(ticket)
        self._announce()

    def _announce(self) -> None:
        callback = self.on_change
        if callback is not None:
            try:
                callback()
            except Exception:  # noqa: BLE001 - a listener must never die of what the window does
                log.exception("on_change failed")

    def _listen(self) -> None:
        tries = 0
        while not self._stop.is_set():
            try:
                conn = self._connect()
            except StoreError as exc:
                self._set_state("reconnecting", str(exc))
                self._stop.wait(BACKOFF_S[min(tries, len(BACKOFF_S) - 1)])
                tries += 1
                continue
            try:
                for channel in CHANNELS:
                    conn.execute(f"LISTEN {channel}")
                if tries:  # back after a gap: whatever happened meanwhile is caught up by a full refresh
                    self._bump()
                    self._bump_presence()
                    self._bump_articles()
                tries = 0
                self._set_state("online", "")
                while not self._stop.is_set():
                    for note in conn.notifies(timeout=0.5):
                        ticket = int(note.payload) if note.payload.isdigit() else None
                        if note.channel == PRESENCE_CHANNEL:
                            self._bump_presence()
                        else:
                            if note.payload == "articles":
                                self._bump_articles()
                            self._bump(ticket)
            except psycopg.Error as exc:
                if self._stop.is_set():
                    break
                self._set_state("reconnecting", f"{self.path} went away ({exc.__class__.__name__}).")
                tries = max(tries, 1)
                self._stop.wait(BACKOFF_S[0])
            finally:
                with contextlib.suppress(psycopg.Error):
                    conn.close()

    def _set_state(self, state: str, detail: str) -> None:
        self.state, self.state_detail = state, detail

    # -- versions and closing ----------------------------------------------------------
    def schema_version(self) -> int:
        return self._schema

    @property
    def latest_version(self) -> int:
        return migrations.LATEST

    def close(self) -> None:
        """Close every connection and stop listening; safe to call twice."""
        self._closed = True
        stop = getattr(self, "_stop", None)
        if stop is not None:
            stop.set()
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(psycopg.Error):
                conn.close()
        listener = getattr(self, "_listener", None)
        if listener is not None and listener is not threading.current_thread():
            listener.join(timeout=2)

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
