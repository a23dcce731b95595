"""Which backend a database name means, and opening it: one store API over SQLite and PostgreSQL.

A path (or nothing: the default file) is the embedded SQLite store of one desk; a
``postgresql://`` URL is a team server (:mod:`agent_assist.store.postgres`). Store modules ask
:func:`is_postgres` where the two differ (full-text search, the draft lifecycle the server
enforces itself, audit rows its triggers write); everything else is the same SQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def is_team_url(target: str | Path | None) -> bool:
    return isinstance(target, str) and target.strip().lower().startswith(("postgresql://", "postgres://"))


def is_postgres(handle: Any) -> bool:
    """Whether a store, its ``db`` or that ``db``'s connection is on a team server."""
    return getattr(handle, "dialect", None) == "postgresql"


def open_store(target: str | Path, *, password: str | None = None, **sqlite_options: Any):
    """The store for ``target``: :class:`~agent_assist.store.Store` for a file, a
    :class:`~agent_assist.store.postgres.store.PostgresStore` for a team URL."""
    if is_team_url(target):
        from agent_assist.store.postgres.store import PostgresStore

        return PostgresStore(str(target).strip(), password=password)
    from agent_assist.store.database import Store

    return Store(target, **sqlite_options)
