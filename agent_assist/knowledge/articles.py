"""Adding and reading knowledge articles (the FTS index follows through triggers)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from agent_assist.store import audit
from agent_assist.store.article_rows import article_row
from agent_assist.store.database import Store
from agent_assist.store.errors import NotFoundError
from agent_assist.timefmt import now_iso


@dataclass(frozen=True)
class Article:
    id: int
    key: str | None
    title: str
    body: str
    section: str | None
    locale: str | None
    source: str | None
    url: str | None
    updated_at: str | None
    body_html: str | None = None  # sanitized HTML of imported articles

    @property
    def citation(self) -> str:
        return f"[KB-{self.id}]"

    def answer(self) -> str:
        """The first paragraph: the direct answer an agent would paste."""
        for para in self.body.split("\n\n"):
            if para.strip():
                return para.strip()
        return self.body.strip()


def add_articles(store: Store, articles: Iterable[Mapping[str, Any]], *, actor: str = "system") -> int:
    """Insert articles in one transaction; returns how many were added."""
    now = now_iso()
    rows = [article_row(a, now) for a in articles]
    with store.transaction() as db, store.page_cache(min(256 * 1024, max(2000, len(rows) * 8))):
        db["articles"].insert_all(rows, batch_size=500)
        audit.record(db, actor=actor, action="kb.articles_added", count=len(rows))
    return len(rows)


def get_article(db: sqlite_utils.Database, article_id: int) -> Article:
    row = db.conn.execute(
        "SELECT id, key, title, body, section, locale, source, url, updated_at, body_html FROM articles WHERE id = ?",
        (article_id,),
    ).fetchone()
    if row is None:
        raise NotFoundError(f"Article KB-{article_id} does not exist.")
    return Article(*row)


def fingerprint(db: sqlite_utils.Database) -> tuple[int, int, int]:
    """Changes whenever articles are added or removed (count, highest id, sum of ids): a cheap check
    before re-reading :func:`all_ids`."""
    return db.conn.execute("SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(SUM(id), 0) FROM articles").fetchone()


def all_ids(db: sqlite_utils.Database) -> set[int]:
    """Every article id (to check a draft's citations as it is typed)."""
    return {r[0] for r in db.conn.execute("SELECT id FROM articles")}


def count(db: sqlite_utils.Database) -> int:
    return db.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
