"""Article drafts: a solved ticket's answer proposed as a knowledge article, published by a supervisor.

Anyone proposes (:func:`propose`); only a supervisor publishes (a new article, in the same step as the
decision) or discards (:func:`decide`). On a team server the person and the time come from the session
and the decision runs in ``decide_article_draft()`` (team migration 013), which checks the role; a
desk checks the acting profile's role. Both record the decision in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent_assist.store import articles, audit, people
from agent_assist.store.article_rows import article_row, content_hash
from agent_assist.store.backend import is_postgres
from agent_assist.store.errors import InvalidTransitionError, NotFoundError
from agent_assist.store.review import is_supervisor
from agent_assist.timefmt import now_iso

_COLUMNS = ("id", "ticket_id", "key", "title", "body", "locale", "section", "proposed_by", "proposed_at", "state",
            "decided_by", "decided_at", "article_id")


@dataclass(frozen=True)
class ArticleDraft:
    id: int
    ticket_id: int | None
    key: str
    title: str
    body: str
    locale: str
    section: str | None
    proposed_by: str
    proposed_at: str
    state: str  # proposed | published | discarded
    decided_by: str | None
    decided_at: str | None
    article_id: int | None


def propose(store: Any, draft: dict[str, str], *, ticket_id: int | None, actor: str) -> int:
    """Propose an article (``title``, ``body``, ``locale``, ``section``, ``key``); returns the draft's id."""
    title, body = (draft.get("title") or "").strip(), (draft.get("body") or "").strip()
    if not title or not body:
        raise InvalidTransitionError("An article needs a title and a text.")
    values = (ticket_id, draft.get("key") or f"from-ticket-{ticket_id}", title, body, draft.get("locale") or "en",
              draft.get("section"))
    with store.transaction() as db:
        if is_postgres(db):  # the server names the person and the time
            cur = db.conn.execute("INSERT INTO article_drafts (ticket_id, key, title, body, locale, section)"
                                  " VALUES (?, ?, ?, ?, ?, ?) RETURNING id", values)
            return int(cur.fetchone()[0])
        cur = db.conn.execute("INSERT INTO article_drafts (ticket_id, key, title, body, locale, section, proposed_by,"
                              " proposed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (*values, actor, now_iso()))
        audit.record(db, actor=actor, action="kb.article_draft_proposed", ticket_id=ticket_id, article_draft=cur.lastrowid)
        return cur.lastrowid


def get(db: Any, draft_id: int) -> ArticleDraft:
    row = db.conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM article_drafts WHERE id = ?", (draft_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"Article draft {draft_id} does not exist.")
    return ArticleDraft(*row)


def waiting(db: Any) -> list[ArticleDraft]:
    """Drafts no supervisor has decided on yet, oldest first."""
    return [ArticleDraft(*r) for r in db.conn.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM article_drafts WHERE state = 'proposed' ORDER BY proposed_at, id")]


def decide(store: Any, draft_id: int, *, publish: bool, actor: str, title: str = "", body: str = "") -> int | None:
    """Publish (returns the new article's id) or discard a proposed draft; a supervisor only.
    ``title``/``body``: the supervisor's edits (the proposal's own when empty)."""
    with store.transaction() as db:
        current = get(db, draft_id)
        title, body = title.strip() or current.title, body.strip() or current.body
        if is_postgres(db):
            row = db.conn.execute("SELECT decide_article_draft(?, ?, ?, ?, ?)",
                                  (draft_id, publish, title, body, content_hash(title, body))).fetchone()
            return row[0]
        if not is_supervisor(people.role_of(db, actor)):
            raise InvalidTransitionError(f"{actor} is not a supervisor: a supervisor publishes or discards article drafts.")
        if current.state != "proposed":
            raise InvalidTransitionError(f"This article draft was already {current.state}.")
        article_id = None
        if publish:
            row = article_row({"key": current.key, "title": title, "body": body, "section": current.section,
                               "locale": current.locale, "source": "ticket"}, now_iso())
            articles.insert(db, [row])
            article_id = db.conn.execute("SELECT max(id) FROM articles").fetchone()[0]
        db.conn.execute("UPDATE article_drafts SET state = ?, decided_by = ?, decided_at = ?, article_id = ? WHERE id = ?",
                        ("published" if publish else "discarded", actor, now_iso(), article_id, draft_id))
        audit.record(db, actor=actor, action="kb.article_draft_published" if publish else "kb.article_draft_discarded",
                     ticket_id=current.ticket_id, article_draft=draft_id, article=article_id)
        return article_id
