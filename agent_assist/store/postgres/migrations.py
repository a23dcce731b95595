"""Versioned SQL migrations for the team database: ``migrations/NNN_name.sql``, applied in order.

Each file runs in one transaction together with its row in ``schema_migrations``, as the owner role
(so every object belongs to it), under an advisory lock so two administrators cannot migrate at
once; a failing migration leaves the database as it was. A database whose schema is newer than this
Agent Assist knows is refused with a sentence, never touched.
Never edit a released migration: append a new one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import psycopg
from psycopg import sql

from agent_assist.store.errors import MigrationError, NewerSchemaError
from agent_assist.store.postgres.connect import OWNER_ROLE, SCHEMA, TeamDatabaseError, server_message

_FILE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x41415354  # "AAST", as the SQLite file's application_id


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load() -> list[Migration]:
    """The migrations shipped with this version, checked to be numbered 1, 2, 3… without gaps."""
    found = []
    for entry in resources.files("agent_assist.store.postgres").joinpath("migrations").iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    if not found:  # a broken install must not look like an empty schema
        raise RuntimeError("the team schema's migrations/NNN_*.sql files are missing from this installation")
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"team migrations are not numbered 1..n: {[m.version for m in found]}")
    return found


LATEST = len(load())


def current_version(conn: psycopg.Connection) -> int | None:
    """The schema version of the database, or None when it has no team schema yet."""
    row = conn.execute("SELECT to_regclass(%s)", [f"{SCHEMA}.schema_migrations"]).fetchone()
    if row is None or row[0] is None:
        return None
    return conn.execute(sql.SQL("SELECT coalesce(max(version), 0) FROM {}.schema_migrations")
                        .format(sql.Identifier(SCHEMA))).fetchone()[0]


def _newer_error(version: int, known: int) -> NewerSchemaError:
    return NewerSchemaError(f"The team database has schema version {version}, newer than this Agent Assist "
                            f"knows ({known}). Update Agent Assist on this desk; the database was left "
                            "untouched.")


def check(conn: psycopg.Connection, migrations: list[Migration] | None = None) -> int:
    """For a desk: the schema must be exactly the one this version knows. Returns the version."""
    known = len(migrations if migrations is not None else load())
    version = current_version(conn)
    if not conn.autocommit:
        conn.rollback()  # a desk's session starts clean
    if version is None:
        raise TeamDatabaseError("This database has no Agent Assist team schema: an administrator sets it up "
                                "with `agent-assist team init URL`.")
    if version > known:
        raise _newer_error(version, known)
    if version < known:
        raise MigrationError(f"The team database has schema version {version}; this Agent Assist needs {known}. "
                             "An administrator upgrades it with `agent-assist team init URL`.")
    return version


def migrate(conn: psycopg.Connection, migrations: list[Migration] | None = None) -> list[int]:
    """Bring the schema up to date (as an administrator who may ``SET ROLE`` the owner).

    Returns the versions applied. The connection must be in autocommit mode: each step is its own
    transaction.
    """
    if not conn.autocommit:
        raise RuntimeError("migrate() needs an autocommit connection (each migration is its own transaction)")
    migrations = migrations if migrations is not None else load()
    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER_ROLE)))
        conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {}.schema_migrations ("
                             " version integer PRIMARY KEY, name text NOT NULL,"
                             " applied_at timestamptz NOT NULL DEFAULT now(),"
                             " applied_by text NOT NULL DEFAULT session_user)").format(sql.Identifier(SCHEMA)))
    version = current_version(conn) or 0
    if version > len(migrations):
        raise _newer_error(version, len(migrations))
    for m in migrations[version:]:
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
                conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER_ROLE)))
                conn.execute(sql.SQL("SET LOCAL search_path = {}").format(sql.Identifier(SCHEMA)))
                if (current_version(conn) or 0) >= m.version:  # another administrator was faster
                    continue
                conn.execute(m.sql.encode("utf-8"))
                conn.execute(sql.SQL("INSERT INTO {}.schema_migrations (version, name) VALUES (%s, %s)")
                             .format(sql.Identifier(SCHEMA)), [m.version, m.name])
        except psycopg.Error as exc:
            raise MigrationError(f"Team schema migration {m.version:03d} ({m.name}) failed and was rolled back: "
                                 f"{server_message(exc)}") from exc
        applied.append(m.version)
    return applied
