"""The ``articles`` table: adding, reading, updating and removing knowledge articles, on either backend.

The knowledge layer (:mod:`agent_assist.knowledge`) reads files, diffs them and ranks searches; it
hands this module plain rows and ids, and only this module runs the SQL. The full-text index follows
the rows by itself: FTS5 triggers on a desk, the generated ``search_vector`` column on a team server
(its queries are in :mod:`agent_assist.store.article_search`).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from agent_assist.store import audit
from agent_assist.store.article_rows import article_row
from agent_assist.store.backend import is_postgres
from agent_assist.store.errors import StorageError
from agent_assist.timefmt import now_iso

# what get() returns, in this order (knowledge.articles.Article takes them as they come)
COLUMNS = ("id", "key", "title", "body", "section", "locale", "source", "url", "updated_at", "body_html")
# what an import compares to decide whether an article changed (see knowledge.sync)
EXISTING = ("id", "key", "locale", "title", "content_hash", "section", "url")
# the columns a caller may set; anything else is a programming error, never SQL
WRITABLE = frozenset({"key", "title", "body", "section", "locale", "source", "url", "content_hash", "updated_at",
                      "body_html"})
BATCH = 500


def add(store: Any, articles: Iterable[Mapping[str, Any]], *, actor: str = "system") -> int:
    """Insert plain article mappings in one transaction with one ``kb.articles_added`` audit row;
    returns how many were added."""
    now = now_iso()
    rows = [article_row(a, now) for a in articles]
    with store.transaction() as db, store.page_cache(min(256 * 1024, max(2000, len(rows) * 8))):
        insert(db, rows)
        audit.record(db, actor=actor, action="kb.articles_added", count=len(rows))
    return len(rows)


def insert(db: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ready ``articles`` rows (inside the caller's transaction)."""
    if rows:
        for row in rows:
            _check_columns(row)
        db["articles"].insert_all(rows, batch_size=BATCH)


def update(db: Any, article_id: int, values: Mapping[str, Any]) -> None:
    """Set some columns of one article (inside the caller's transaction); its id stays."""
    if not values:
        return
    _check_columns(values)
    columns = list(values)
    db.conn.execute(f"UPDATE articles SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?",
                    [*(values[c] for c in columns), article_id])


def delete(db: Any, article_id: int) -> None:
    db.conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))


def _check_columns(values: Mapping[str, Any]) -> None:
    unknown = set(values) - WRITABLE
    if unknown:
        raise ValueError(f"not an article column: {', '.join(sorted(unknown))}")


def get(db: Any, article_id: int) -> tuple | None:
    """One article's :data:`COLUMNS`, or None when there is no such article."""
    row = db.conn.execute(f"SELECT {', '.join(COLUMNS)} FROM articles WHERE id = ?", (article_id,)).fetchone()
    return None if row is None else tuple(row)


def body_html(db: Any, article_id: int) -> str | None:
    row = db.conn.execute("SELECT body_html FROM articles WHERE id = ?", (article_id,)).fetchone()
    return None if row is None else row[0]


def fingerprint(db: Any) -> tuple[int, int, int]:
    """Changes whenever articles are added or removed (count, highest id, sum of ids)."""
    row = db.conn.execute("SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(SUM(id), 0) FROM articles").fetchone()
    return int(row[0]), int(row[1]), int(row[2])  # PostgreSQL's SUM of bigints is a numeric


def all_ids(db: Any) -> set[int]:
    return {r[0] for r in db.conn.execute("SELECT id FROM articles")}


def count(db: Any) -> int:
    return db.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]


def sources(db: Any) -> list[str]:
    """Every source (imported file or folder) that has articles."""
    return [r[0] for r in db.conn.execute("SELECT DISTINCT source FROM articles WHERE source IS NOT NULL")]


def sections(db: Any) -> list[str]:
    return [r[0] for r in db.conn.execute(
        "SELECT DISTINCT section FROM articles WHERE section IS NOT NULL ORDER BY section")]


def locales(db: Any) -> list[str]:
    return [r[0] for r in db.conn.execute(
        "SELECT DISTINCT locale FROM articles WHERE locale IS NOT NULL ORDER BY locale")]


def has_body_html(db: Any) -> bool:
    """Whether the schema has ``articles.body_html`` (a desk file from before schema 4 has not; a
    team server always has)."""
    if is_postgres(db):
        return True
    return "body_html" in {c[1] for c in db.conn.execute("PRAGMA table_info(articles)")}


def of_source(db: Any, source: str) -> list[tuple]:
    """The :data:`EXISTING` fields of a source's articles, oldest first."""
    return [tuple(r) for r in db.conn.execute(
        f"SELECT {', '.join(EXISTING)} FROM articles WHERE source = ? ORDER BY id", (source,))]


def inside(db: Any, folder: str) -> list[tuple]:
    """:data:`EXISTING` plus ``source`` of the articles whose source lies inside ``folder``, oldest first."""
    root = folder.rstrip(os.sep) + os.sep
    columns = ", ".join((*EXISTING, "source"))
    if is_postgres(db):  # a range of strings depends on the server's collation; a prefix does not
        sql, params = (f"SELECT {columns} FROM articles WHERE starts_with(source, ?) ORDER BY id", (root,))
    else:  # the (source, key, locale) index answers the range
        sql = f"SELECT {columns} FROM articles WHERE source > ? AND source < ? ORDER BY id"
        params = (root, root[:-1] + chr(ord(os.sep) + 1))
    return [tuple(r) for r in db.conn.execute(sql, params)]


def tidy_index(store: Any) -> None:
    """After a large import: merge the FTS index's segments (faster searches) and refresh statistics.

    The import is already committed; if another writer holds the file now, this can wait for next
    time. A team server's GIN index needs no merge: only its statistics are refreshed.
    """
    if not is_postgres(store):
        with contextlib.suppress(sqlite3.OperationalError, StorageError):
            with store.transaction() as db:
                db.conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('optimize')")
    store.analyze()
