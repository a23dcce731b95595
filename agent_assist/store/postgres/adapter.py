"""The store's SQL on PostgreSQL: one connection object the store modules use on either backend.

The store modules hand SQL with ``?`` placeholders to ``db.conn.execute`` (sqlite3's interface). On a
team server the same calls go through :class:`PgConnection`, which rewrites the few SQLite-isms the
modules use into PostgreSQL's spelling:

* ``?`` placeholders become ``%s`` (a literal ``%`` becomes ``%%``), outside quoted strings;
* ``INSERT OR IGNORE`` becomes ``INSERT … ON CONFLICT DO NOTHING``;
* ``expr COLLATE NOCASE`` becomes ``lower(expr)``, and ``LIKE`` the case-insensitive ``ILIKE``;
* ``json_array_length(col)`` reads the JSON text column as ``json``;
* an ``INSERT`` into a table with an ``id`` gets ``RETURNING id``, which the cursor offers as
  ``lastrowid``.

Anything else that differs (full-text search, the draft lifecycle the server enforces, audit rows
its triggers write) is a branch in the module itself, on :func:`is_postgres`. Errors come back as the
store's own: a rule the server refused is an :class:`InvalidTransitionError` in the server's words, a
lost server a :class:`ServerUnavailableError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any, NoReturn

import psycopg
from psycopg import errors as pg_errors

from agent_assist.store.errors import (
    DatabaseLockedError,
    InvalidTransitionError,
    NotFoundError,
    StorageError,
    StoreError,
)
from agent_assist.store.postgres.connect import server_message


class ServerUnavailableError(StorageError):
    """The team server cannot be reached (restarting, or the network is down); nothing was saved."""


class PermissionRefusedError(InvalidTransitionError):
    """The server refused an action this person may not do (a rule, a role); ``str()`` says why."""


# tables whose rows have an identity ``id`` (an INSERT returns it as ``lastrowid``)
ID_TABLES = frozenset({
    "customers", "tickets", "messages", "articles", "drafts", "audit", "review_comments", "email_messages",
    "email_attachments", "email_outbox", "draft_feedback",
})

_INSERT = re.compile(r"^\s*INSERT\s+(OR\s+IGNORE\s+)?INTO\s+(\w+)", re.IGNORECASE)
_NOCASE = re.compile(r"((?:\w+\.)?\w+)\s+COLLATE\s+NOCASE", re.IGNORECASE)
_JSON_LEN = re.compile(r"json_array_length\(((?:\w+\.)?\w+)\)", re.IGNORECASE)
_LIKE = re.compile(r"\bLIKE\b", re.IGNORECASE)


@lru_cache(maxsize=1024)
def translate(sql: str) -> tuple[str, str | None]:
    """PostgreSQL's spelling of ``sql`` and, for an INSERT into a table with ids, that table."""
    table = None
    match = _INSERT.match(sql)
    if match:
        ignore, name = match.group(1), match.group(2).lower()
        if ignore:
            sql = sql[:match.start(1)] + sql[match.end(1):]
            sql = sql.rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
        if name in ID_TABLES and not re.search(r"\bRETURNING\b", sql, re.IGNORECASE):
            sql = sql.rstrip().rstrip(";") + " RETURNING id"
            table = name
    out: list[str] = []
    for quoted, part in _split_quoted(sql):
        if quoted:
            out.append(part.replace("%", "%%"))
            continue
        part = _NOCASE.sub(r"lower(\1)", part)
        part = _JSON_LEN.sub(r"json_array_length((\1)::json)", part)
        part = _LIKE.sub("ILIKE", part)
        out.append(part.replace("%", "%%").replace("?", "%s"))
    return "".join(out), table


def _split_quoted(sql: str) -> Iterator[tuple[bool, str]]:
    """The statement as (is a quoted string or identifier, text) pieces."""
    i, n, start = 0, len(sql), 0
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            if start < i:
                yield False, sql[start:i]
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:  # a doubled quote inside the string
                        j += 2
                        continue
                    break
                j += 1
            yield True, sql[i:j + 1]
            i = start = j + 1
            continue
        i += 1
    if start < n:
        yield False, sql[start:]


def reraise(exc: psycopg.Error) -> NoReturn:
    """The store's own error for a server error, in words."""
    if isinstance(exc, (pg_errors.InsufficientPrivilege, pg_errors.RaiseException, pg_errors.CheckViolation)):
        raise PermissionRefusedError(server_message(exc)) from exc
    if isinstance(exc, pg_errors.NoDataFound):
        raise NotFoundError(server_message(exc)) from exc
    if isinstance(exc, (pg_errors.LockNotAvailable, pg_errors.DeadlockDetected, pg_errors.SerializationFailure)):
        raise DatabaseLockedError("Another desk was changing the same rows; try again in a moment.") from exc
    if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)) and not isinstance(
            exc, pg_errors.QueryCanceled):
        raise ServerUnavailableError(f"The team server cannot be reached ({server_message(exc)}); "
                                     "nothing was lost, Agent Assist reconnects on its own.") from exc
    raise exc


def tsquery_lexeme(word: str, *, prefix: bool = True) -> str:
    """One word as a quoted tsquery lexeme (``'it''s':*``): whatever it holds, it is text, never syntax."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + ("':*" if prefix else "'")


def prefix_tsquery(words: Iterable[str], joiner: str = "&") -> str:
    """Words as a PostgreSQL prefix query: ``["anna", "lin"]`` -> ``'anna':* & 'lin':*`` (``|``: any)."""
    return f" {joiner} ".join(tsquery_lexeme(w) for w in words)


class PgCursor:
    """What the store modules read from a statement: rows, ``lastrowid`` and ``rowcount``."""

    def __init__(self, cursor: psycopg.Cursor, table: str | None):
        self._cursor = cursor
        self.rowcount = cursor.rowcount
        self.lastrowid: int | None = None
        # the caller's rows: none for a statement without results, nor for the RETURNING id added here
        self.description = None if table is not None else cursor.description
        if table is not None and cursor.description is not None:
            row = cursor.fetchone()
            self.lastrowid = row[0] if row is not None else None

    def fetchone(self) -> tuple | None:
        return self._cursor.fetchone() if self.description is not None else None

    def fetchall(self) -> list[tuple]:
        return self._cursor.fetchall() if self.description is not None else []

    def fetchmany(self, size: int) -> list[tuple]:
        return self._cursor.fetchmany(size) if self.description is not None else []

    def __iter__(self) -> Iterator[tuple]:
        return iter(self._cursor) if self.description is not None else iter(())


class PgConnection:
    """A psycopg connection behind sqlite3's ``execute`` / ``executemany`` (see the module docstring)."""

    dialect = "postgresql"

    def __init__(self, conn: psycopg.Connection):
        self.raw = conn
        self.depth = 0  # open store transactions on this connection

    @property
    def in_transaction(self) -> bool:
        return self.depth > 0

    def execute(self, sql: str, parameters: Sequence[Any] | None = ()) -> PgCursor:
        text, table = translate(sql)
        try:
            cur = self.raw.execute(text, list(parameters or ()))
        except psycopg.Error as exc:
            reraise(exc)
        return PgCursor(cur, table)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> PgCursor:
        text, _table = translate(sql)
        if text.endswith(" RETURNING id"):
            text = text[: -len(" RETURNING id")]
        cur = self.raw.cursor()
        try:
            cur.executemany(text, [list(p) for p in seq])
        except psycopg.Error as exc:
            reraise(exc)
        return PgCursor(cur, None)

    def close(self) -> None:
        self.raw.close()


class PgTable:
    """The little of sqlite-utils' Table the store uses for bulk writes: ``insert`` / ``insert_all``."""

    def __init__(self, db: PgDatabase, name: str):
        self.db = db
        self.name = name

    def insert_all(self, rows: Iterable[dict[str, Any]], batch_size: int = 1000, **_ignored: Any) -> PgTable:
        rows = iter(rows)
        first = next(rows, None)
        if first is None:
            return self
        columns = list(first)
        from psycopg import sql

        copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(self.name), sql.SQL(", ").join(sql.Identifier(c) for c in columns))
        try:
            with self.db.conn.raw.cursor().copy(copy) as cp:
                cp.write_row([first[c] for c in columns])
                for row in rows:
                    cp.write_row([row.get(c) for c in columns])
        except psycopg.Error as exc:
            reraise(exc)
        return self

    def insert(self, row: dict[str, Any], **_ignored: Any) -> PgTable:
        columns = list(row)
        names = ", ".join(columns)
        self.db.conn.execute(f"INSERT INTO {self.name} ({names}) VALUES ({', '.join('?' for _ in columns)})",
                             [row[c] for c in columns])
        return self


class PgDatabase:
    """This thread's handle on the team database, in the shape the store modules expect of ``store.db``."""

    dialect = "postgresql"

    def __init__(self, conn: PgConnection):
        self.conn = conn

    def __getitem__(self, name: str) -> PgTable:
        return PgTable(self, name)

    def execute(self, sql: str, parameters: Sequence[Any] | None = ()) -> PgCursor:
        return self.conn.execute(sql, parameters)

    def query(self, sql: str, parameters: Sequence[Any] | None = ()) -> Iterator[dict[str, Any]]:
        cur = self.conn.execute(sql, parameters)
        names = [d.name for d in cur.description or ()]
        for row in cur:
            yield dict(zip(names, row))



__all__ = ["PgConnection", "PgDatabase", "PermissionRefusedError", "ServerUnavailableError", "StoreError",
           "prefix_tsquery", "reraise", "translate", "tsquery_lexeme"]
