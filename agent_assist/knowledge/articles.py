"""Knowledge articles as the rest of the app sees them; the rows and their SQL are in
:mod:`agent_assist.store.articles` (the full-text index follows the rows by itself)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agent_assist.store import articles as article_store
from agent_assist.store.database import Store
from agent_assist.store.errors import NotFoundError


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
    return article_store.add(store, articles, actor=actor)


def get_article(db: Any, article_id: int) -> Article:
    row = article_store.get(db, article_id)
    if row is None:
        raise NotFoundError(f"Article KB-{article_id} does not exist.")
    return Article(*row)


def fingerprint(db: Any) -> tuple[int, int, int]:
    """Changes whenever articles are added or removed (count, highest id, sum of ids): a cheap check
    before re-reading :func:`all_ids`."""
    return article_store.fingerprint(db)


def all_ids(db: Any) -> set[int]:
    """Every article id (to check a draft's citations as it is typed)."""
    return article_store.all_ids(db)


def count(db: Any) -> int:
    return article_store.count(db)
