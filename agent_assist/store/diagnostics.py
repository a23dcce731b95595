"""What a bug report may say about the database: its schema, journal mode and row counts, and the
SQLite library's build. Never any row's content; and reading a file that no store has open never
creates, migrates or locks anything (it is opened read-only, for these few statements only).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from agent_assist.store import database
from agent_assist.store.backend import is_postgres
from agent_assist.store.errors import StoreError

Facts = list[tuple[str, str]]
COUNTED = (("tickets", "Tickets"), ("messages", "Messages"), ("articles", "Articles"), ("drafts", "Drafts"),
           ("audit", "Audit rows"))


def sqlite_facts() -> Facts:
    """The SQLite library's version, and whether it has FTS5 (the knowledge search needs it)."""
    try:
        conn = sqlite3.connect(":memory:")
        try:
            options = {r[0] for r in conn.execute("PRAGMA compile_options")}
        finally:
            conn.close()
    except sqlite3.Error:
        options = set()
    fts5 = "yes" if "ENABLE_FTS5" in options else "no"
    return [("SQLite", f"{sqlite3.sqlite_version} (FTS5: {fts5})")]


def database_facts(db_path: Path | None, store: Any = None, reason: str | None = None) -> Facts:
    """``(label, value)`` lines about the open ``store``, or else the file at ``db_path``."""
    if store is not None and is_postgres(store):
        return _server_facts(store, reason)
    if store is not None:
        db_path = store.path
    if db_path is None:
        return []
    facts: Facts = [("Database", str(db_path))]
    if reason:
        facts.append(("Database chosen by", reason))
    if not Path(db_path).exists():
        return facts + [("Database state", "does not exist yet")]
    facts.append(("Database size", f"{Path(db_path).stat().st_size / 1_048_576:.1f} MiB"))
    try:
        if store is not None:
            conn = store.db.conn
            own = False
        else:  # read-only: diagnostics must never create, migrate or lock anything
            conn = sqlite3.connect(f"{Path(db_path).resolve().as_uri()}?mode=ro", uri=True,
                                   timeout=database.BUSY_TIMEOUT_S)
            own = True
        try:
            facts.append(("Schema version", str(conn.execute("PRAGMA user_version").fetchone()[0])))
            facts.append(("Journal mode", str(conn.execute("PRAGMA journal_mode").fetchone()[0])))
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            for table, label in COUNTED:
                if table in tables:
                    facts.append((label, str(conn.execute(f"SELECT COUNT(*) FROM [{table}]").fetchone()[0])))
        finally:
            if own:
                conn.close()
    except (sqlite3.Error, StoreError) as exc:
        facts.append(("Database state", f"cannot be read ({type(exc).__name__})"))
    return facts


def _server_facts(store: Any, reason: str | None) -> Facts:
    """A team server: what it is called, its schema, and the rows this person's session can see."""
    import psycopg

    server = str(store.path).rsplit("@", 1)[-1]  # host:port/database; who signed in is only their role
    facts: Facts = [("Database", f"team server {server}"), ("Signed in as", f"a {store.role}")]
    if reason:
        facts.append(("Database chosen by", reason))
    try:
        facts.append(("Schema version", str(store.schema_version())))
        conn = store.db.conn
        for table, label in COUNTED:
            facts.append((label, str(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])))
    except (psycopg.Error, StoreError) as exc:
        facts.append(("Database state", f"cannot be read ({type(exc).__name__})"))
    return facts
