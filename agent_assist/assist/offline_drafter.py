"""A reply drafted with no model and no network: the embedded default and the fallback.

Greeting and closing in the customer's language, the direct answer of the
best-matching knowledge article (the customer's language first), and its
citation. A person always reads and approves it before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from agent_assist.knowledge.articles import get_article
from agent_assist.knowledge.search import SearchHit, suggest_for_text
from agent_assist.assist.phrases import phrases_for, signature
from agent_assist.store.tickets import Ticket

SOURCE = "offline"
PROMPT_VERSION = "offline-1"


@dataclass(frozen=True)
class DraftSuggestion:
    body: str
    citations: tuple[int, ...]
    source: str = SOURCE
    prompt_version: str = PROMPT_VERSION


def compose(ticket: Ticket, hits: list[SearchHit], db: sqlite_utils.Database, *, agent_name: str) -> DraftSuggestion:
    """Assemble the reply from already ranked knowledge hits."""
    ph = phrases_for(ticket.language)
    name = ticket.first_name
    lines = [ph.greeting.format(name=name) if name else ph.greeting_no_name, "", ph.thanks]
    citations: list[int] = []
    best = next((h for h in hits if h.locale == ticket.language), hits[0] if hits else None)
    if best is not None:
        article = get_article(db, best.article_id)
        lines += ["", f"{article.answer()} {article.citation}"]
        citations.append(article.id)
    lines += ["", ph.closing, "", ph.sign_off, signature(agent_name)]
    return DraftSuggestion("\n".join(lines), tuple(citations))


def draft_reply(db: sqlite_utils.Database, ticket: Ticket, *, agent_name: str) -> DraftSuggestion:
    hits = suggest_for_text(db, ticket.inbound_text(), subject=ticket.subject, language=ticket.language, limit=5)
    return compose(ticket, hits, db, agent_name=agent_name)
