"""Opening a connection to a team database, with errors a person can act on."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import conninfo

from agent_assist.store.errors import StoreError

SCHEMA = "agent_assist"  # every table, function and trigger of team mode lives in this schema
OWNER_ROLE = "agent_assist_owner"  # owns every object; only it may rewrite the audit trail
AGENT_ROLE = "agent_assist_agent"  # group role of agents
SUPERVISOR_ROLE = "agent_assist_supervisor"  # group role of supervisors
GROUP_ROLES = {"agent": AGENT_ROLE, "supervisor": SUPERVISOR_ROLE}
MIN_SERVER_VERSION = 140000
CONNECT_TIMEOUT_S = 10


class TeamDatabaseError(StoreError):
    """Something about the team database or the server; ``str()`` is a sentence for a person."""


def is_postgres_url(text: str | None) -> bool:
    return bool(text) and text.strip().lower().startswith(("postgresql://", "postgres://"))


def describe(url: str) -> str:
    """``user@host:port/db`` without the password, for messages."""
    try:
        params = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the team database"
    host = params.get("host") or "localhost"
    port = params.get("port") or "5432"
    where = f"{host}:{port}/{params.get('dbname', '')}"
    return f"{params['user']}@{where}" if params.get("user") else where


def connect(url: str, *, autocommit: bool = False, **kwargs: Any) -> psycopg.Connection:
    """A connection to ``url`` with the team schema on its search path.

    Failures become :class:`TeamDatabaseError` with the server's reason in words (wrong password,
    no such database, server not reachable), never a traceback.
    """
    try:
        conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise TeamDatabaseError(f"{url.split('@')[-1]!r} is not a PostgreSQL connection URL "
                                "(postgresql://user@host:port/database).") from exc
    kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    kwargs.setdefault("application_name", "agent-assist")
    try:
        conn = psycopg.connect(url, autocommit=autocommit, options=f"-c search_path={SCHEMA}", **kwargs)
    except psycopg.OperationalError as exc:
        raise TeamDatabaseError(f"Cannot connect to {describe(url)}: {_reason(exc)}") from exc
    if conn.info.server_version < MIN_SERVER_VERSION:
        version = conn.info.server_version
        conn.close()
        raise TeamDatabaseError(f"{describe(url)} runs PostgreSQL {version // 10000}; team mode needs "
                                f"PostgreSQL {MIN_SERVER_VERSION // 10000} or newer.")
    return conn


def _reason(exc: psycopg.Error) -> str:
    """The server's or libpq's first line, as a sentence."""
    text = (getattr(getattr(exc, "diag", None), "message_primary", None) or str(exc)).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()] or ["unknown error"]
    # libpq: 'connection to server at "h", port p failed: why' (and a hint on the next line)
    text = next((line for line in lines if "failed:" in line), lines[0])
    if "failed:" in text:
        text = text.rsplit("failed:", 1)[-1].strip()
    for prefix in ("FATAL:", "ERROR:"):
        text = text.removeprefix(prefix).strip()
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


def server_message(exc: psycopg.Error) -> str:
    """The sentence a rule in the database raised (``RAISE EXCEPTION '…'``), for a person."""
    return _reason(exc)
