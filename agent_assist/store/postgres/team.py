"""Setting up a team database and its people (``agent-assist team init`` / ``team add-person``).

These run as a database administrator (a superuser, or a role with CREATEROLE that may create
roles and schemas): they create the owner and group roles, the schema with its rules, and one
LOGIN role per person. A person's password is hashed here (SCRAM-SHA-256, by libpq) before it is
sent, so it never appears in a statement or a server log, and nothing secret is written to a file.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import psycopg
from psycopg import sql

from agent_assist.store.errors import InvalidTransitionError
from agent_assist.store.postgres import migrations
from agent_assist.store.postgres.connect import (
    AGENT_ROLE,
    GROUP_ROLES,
    OWNER_ROLE,
    SCHEMA,
    SUPERVISOR_ROLE,
    TeamDatabaseError,
    connect,
    describe,
    server_message,
)

ROLES = tuple(GROUP_ROLES)  # agent, supervisor
MAX_NAME_BYTES = 63  # PostgreSQL's identifier limit (NAMEDATALEN - 1)
RESERVED_NAMES = {OWNER_ROLE, AGENT_ROLE, SUPERVISOR_ROLE, "public", "system", "none"}


@dataclass(frozen=True)
class InitReport:
    database: str
    schema_version: int
    applied: tuple[int, ...]
    supervisor: str


def check_name(name: str) -> str:
    """A person's login name, or one clear sentence why it cannot be one."""
    name = unicodedata.normalize("NFC", name.strip())
    if not name:
        raise InvalidTransitionError("A person needs a name (their database login).")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidTransitionError(f"{name[:20]}… is too long for a database login ({MAX_NAME_BYTES} bytes at most).")
    if any(unicodedata.category(c).startswith(("C", "Z")) and c != " " for c in name) or " " in name:
        raise InvalidTransitionError(f"{name!r} cannot be a database login: use letters, digits, dots, dashes or "
                                     "underscores, without spaces.")
    if name.lower().startswith("pg_") or name.lower() in RESERVED_NAMES:
        raise InvalidTransitionError(f"{name!r} is reserved; choose another login name.")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidTransitionError(f"A role is one of {', '.join(ROLES)}, not {role!r}.")
    return role


def check_password(password: str | None) -> str:
    if password is None or len(password) < 8:
        raise InvalidTransitionError("A password needs at least 8 characters.")
    if "\x00" in password:
        raise InvalidTransitionError("A password cannot contain a NUL character.")
    return password


def _exists(conn: psycopg.Connection, role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone() is not None


def _require_admin(conn: psycopg.Connection, url: str) -> None:
    """A superuser, or a role with CREATEROLE that owns the database (what hosted servers give)."""
    row = conn.execute(
        "SELECT r.rolsuper, r.rolcreaterole, d.datdba = r.oid FROM pg_roles r, pg_database d "
        "WHERE r.rolname = current_user AND d.datname = current_database()").fetchone()
    if not row or not (row[0] or (row[1] and row[2])):
        raise TeamDatabaseError(f"{describe(url)} may not create roles and grant access to this database: run this "
                                "as the server's administrator (a superuser, or the database's owner with "
                                "CREATEROLE).")


def _ensure_roles(conn: psycopg.Connection) -> None:
    for role in (OWNER_ROLE, AGENT_ROLE, SUPERVISOR_ROLE):
        if not _exists(conn, role):
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
    # the administrator acts as the owner for migrations and set-up (SET ROLE), never logs in as it
    conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(OWNER_ROLE)))


def _database_exists(url: str) -> bool:
    try:
        connect(url, autocommit=True).close()
    except TeamDatabaseError as exc:
        if isinstance(exc.__cause__, psycopg.OperationalError) and "does not exist" in str(exc):
            return False
        raise
    return True


def _create_database(url: str) -> None:
    params = psycopg.conninfo.conninfo_to_dict(url)
    dbname = params.get("dbname")
    if not dbname:
        raise TeamDatabaseError("The URL names no database: postgresql://user@host:port/DATABASE.")
    maintenance = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    with connect(maintenance, autocommit=True) as conn:
        row = conn.execute("SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user").fetchone()
        if not row or not row[0]:
            raise TeamDatabaseError(f"The database {dbname} does not exist and {describe(url)} may not create it: "
                                    "create it first, or run this as the server's administrator.")
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


def init(url: str, supervisor: str, password: str) -> InitReport:
    """Create (or upgrade) the team schema, its roles and rules, and the first supervisor.

    Safe to run again: roles and the schema are created when missing, pending migrations are applied,
    the supervisor's password is set anew.
    """
    supervisor, password = check_name(supervisor), check_password(password)
    if not _database_exists(url):
        _create_database(url)
    with connect(url, autocommit=True) as conn:
        _require_admin(conn, url)
        try:
            with conn.transaction():
                _ensure_roles(conn)
                dbname = conn.info.dbname
                db = sql.Identifier(dbname)
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}")
                             .format(sql.Identifier(SCHEMA), sql.Identifier(OWNER_ROLE)))
                # only this team's people connect, each granted by name (group roles are cluster-wide:
                # granting CONNECT to a group would let another team's people in); psql sessions find
                # the tables without a schema prefix; nobody creates objects in public (PostgreSQL 14)
                conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
                conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, sql.Identifier(OWNER_ROLE)))
                conn.execute(sql.SQL("ALTER DATABASE {} SET search_path = {}").format(db, sql.Identifier(SCHEMA)))
                conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        except psycopg.Error as exc:
            raise TeamDatabaseError(f"Setting up {describe(url)} failed: {server_message(exc)}") from exc
        applied = migrations.migrate(conn)
        _save_person(conn, supervisor, "supervisor", password)
        version = migrations.current_version(conn)
    return InitReport(dbname, version or 0, tuple(applied), supervisor)


def add_person(url: str, name: str, role: str, password: str | None) -> str:
    """Create a person's login in the group of their role, or change an existing person's role.

    A new person needs a password; for someone already on the team it is optional (None keeps it).
    Returns ``"added"``, ``"changed"`` or ``"unchanged"``.
    """
    name, role = check_name(name), check_role(role)
    with connect(url, autocommit=True) as conn:
        _require_admin(conn, url)
        migrations.check(conn)
        before = conn.execute(sql.SQL("SELECT role FROM {}.profiles WHERE name = %s").format(sql.Identifier(SCHEMA)),
                              [name]).fetchone()
        if before is None or password is not None:
            password = check_password(password)
        outcome = _save_person(conn, name, role, password)
    return outcome


def _save_person(conn: psycopg.Connection, name: str, role: str, password: str | None) -> str:
    ident = sql.Identifier(name)
    try:
        with conn.transaction():
            existed = _exists(conn, name)
            if existed:
                flags = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [name]).fetchone()
                if flags[0]:
                    raise TeamDatabaseError(f"{name} is a superuser of the server; a person on the team signs in "
                                            "with a login of their own.")
            if password is not None:
                secret = conn.pgconn.encrypt_password(password.encode("utf-8"), name.encode("utf-8"),
                                                      b"scram-sha-256").decode("ascii")
                verb = "ALTER" if existed else "CREATE"
                conn.execute(sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS "
                                     "PASSWORD {}").format(ident, sql.Literal(secret)))
            group, other = GROUP_ROLES[role], GROUP_ROLES["agent" if role == "supervisor" else "supervisor"]
            if conn.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [name, other]).fetchone()[0]:
                conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(other), ident))
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), ident))
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(conn.info.dbname), ident))
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER_ROLE)))
            before = conn.execute(sql.SQL("SELECT role FROM {}.profiles WHERE name = %s")
                                  .format(sql.Identifier(SCHEMA)), [name]).fetchone()
            if before is None:
                conn.execute(sql.SQL("INSERT INTO {}.profiles (name, role) VALUES (%s, %s)")
                             .format(sql.Identifier(SCHEMA)), [name, role])
            elif before[0] != role:
                conn.execute(sql.SQL("UPDATE {}.profiles SET role = %s WHERE name = %s")
                             .format(sql.Identifier(SCHEMA)), [role, name])
            conn.execute("RESET ROLE")
    except psycopg.Error as exc:
        raise TeamDatabaseError(f"Saving {name} as {role} failed: {server_message(exc)}") from exc
    if before is None:
        return "added"
    return "unchanged" if before[0] == role else "changed"
