"""The supervisor's side of four-eyes replies: what waits for approval, what went out, and returning
a draft to its agent with a comment.

A draft in state ``awaiting_supervisor`` is in the approval queue. A supervisor
either approves it (:func:`approve_and_send`, through :func:`drafts.approve` and
:func:`drafts.send`, which write their own audit rows) or returns it
(:func:`return_to_agent`): the draft goes back to ``edited``, the comment is kept in
``review_comments`` for the agent to read, and a ``draft.returned`` audit row is
written in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlite_utils

from agent_assist.store.backend import is_postgres
from agent_assist.store import audit, migrations
from agent_assist.store.errors import InvalidTransitionError, NotFoundError
from agent_assist.timefmt import now_iso

if TYPE_CHECKING:
    from agent_assist.store.database import Store
    from agent_assist.store.drafts import Draft
    from agent_assist.store.tickets import Message, TicketFlag


AWAITING = "awaiting_supervisor"
SUPERVISOR = "supervisor"
MAX_COMMENT_CHARS = 4000


migrate = migrations.v7_review_comments  # its table, created by the store's migrations (schema 7)


def is_supervisor(role: str | None) -> bool:
    return (role or "").strip().lower() == SUPERVISOR


# -- reading ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReviewItem:
    draft_id: int
    ticket_id: int
    subject: str
    state: str
    agent: str
    language: str | None
    topic: str | None
    updated_at: str  # when it was submitted (awaiting) or sent
    ticket_created_at: str = ""  # tells apart tickets with the same subject


@dataclass(frozen=True)
class ReviewComment:
    id: int
    draft_id: int
    ticket_id: int
    author: str
    comment: str
    created_at: str


@dataclass(frozen=True)
class ReviewDetail:
    item: ReviewItem
    original_body: str  # what the assistant suggested
    body: str  # the current text (awaiting) or what was sent
    approved_by: str | None
    comments: tuple[ReviewComment, ...] = field(default=())
    draft: Draft | None = None  # who or what wrote it (source, provider, model, created_by)
    customer_messages: tuple[Message, ...] = ()  # what the reply answers: the customer's latest messages
    flags: tuple[TicketFlag, ...] = ()  # why the ticket is routed as it is, with reasons
    cited: tuple[tuple[int, str], ...] = ()  # (article id, title) of each citation, in order


# who worked the reply: the writer who asked for approval, else whoever approved it, else the assignee
_AGENT = "COALESCE(d.requested_by, d.approved_by, t.assignee, '')"


def _items(db: sqlite_utils.Database, state: str, limit: int, newest_first: bool) -> list[ReviewItem]:
    order = "DESC" if newest_first else "ASC"
    rows = db.conn.execute(
        f"SELECT d.id, d.ticket_id, t.subject, d.state, {_AGENT}, t.language, t.topic, d.updated_at, t.created_at "
        f"FROM drafts d JOIN tickets t ON t.id = d.ticket_id WHERE d.state = ? "
        f"ORDER BY d.updated_at {order}, d.id {order} LIMIT ?",
        (state, limit),
    ).fetchall()
    return [ReviewItem(*r) for r in rows]


def awaiting(db: sqlite_utils.Database, limit: int = 500) -> list[ReviewItem]:
    """Drafts waiting for a supervisor, the longest-waiting first."""
    return _items(db, AWAITING, limit, newest_first=False)


def recently_sent(db: sqlite_utils.Database, limit: int = 200) -> list[ReviewItem]:
    """The latest replies that went out, newest first."""
    return _items(db, "sent", limit, newest_first=True)


def comments(db: sqlite_utils.Database, draft_id: int) -> list[ReviewComment]:
    rows = db.conn.execute(
        "SELECT id, draft_id, ticket_id, author, comment, created_at FROM review_comments WHERE draft_id = ? "
        "ORDER BY id", (draft_id,)).fetchall()
    return [ReviewComment(*r) for r in rows]


def latest_comment(db: sqlite_utils.Database, ticket_id: int) -> ReviewComment | None:
    """The newest supervisor comment on any draft of this ticket (for the agent's reply panel)."""
    row = db.conn.execute(
        "SELECT id, draft_id, ticket_id, author, comment, created_at FROM review_comments WHERE ticket_id = ? "
        "ORDER BY id DESC LIMIT 1", (ticket_id,)).fetchone()
    return ReviewComment(*row) if row else None


def detail(db: sqlite_utils.Database, draft_id: int) -> ReviewDetail:
    row = db.conn.execute(
        f"SELECT d.id, d.ticket_id, t.subject, d.state, {_AGENT}, t.language, t.topic, d.updated_at, t.created_at, "
        "d.original_body, d.body, d.approved_by FROM drafts d JOIN tickets t ON t.id = d.ticket_id WHERE d.id = ?",
        (draft_id,),
    ).fetchone()
    if row is None:
        raise NotFoundError(f"Draft {draft_id} does not exist.")
    from agent_assist.store import drafts, tickets

    draft = drafts.get(db, draft_id)
    ticket = tickets.get_ticket(db, draft.ticket_id)
    return ReviewDetail(ReviewItem(*row[:9]), row[9] or "", row[10], row[11], tuple(comments(db, draft_id)),
                        draft=draft, customer_messages=answered_messages(ticket.messages, draft.created_at),
                        flags=ticket.flags, cited=_titles(db, draft.citations))


def answered_messages(messages: tuple[Message, ...], drafted_at: str) -> tuple[Message, ...]:
    """The customer's messages a draft answers: those since the last reply that went out before it was drafted
    (all of them when nothing went out); a message that came later is shown too, it may change the answer."""
    replied = [i for i, m in enumerate(messages) if m.direction == "outbound" and m.created_at <= drafted_at]
    start = replied[-1] + 1 if replied else 0
    return tuple(m for m in messages[start:] if m.direction == "inbound")


def _titles(db: sqlite_utils.Database, ids: tuple[int, ...]) -> tuple[tuple[int, str], ...]:
    if not ids:
        return ()
    found = dict(db.conn.execute(f"SELECT id, title FROM articles WHERE id IN ({', '.join('?' for _ in ids)})",
                                 list(ids)).fetchall())
    return tuple((i, found.get(i) or f"Article {i} (no longer in the knowledge base)") for i in ids)


# -- changes ---------------------------------------------------------------------------------
def _require_supervisor(db: sqlite_utils.Database, actor: str) -> None:
    """Only a supervisor's profile may decide on a draft awaiting approval."""
    from agent_assist.store import people

    if not actor.strip():
        raise InvalidTransitionError("Only a named supervisor can decide on a draft awaiting approval.")
    if not is_supervisor(people.role_of(db, actor)):
        raise InvalidTransitionError(f"{actor} is not a supervisor, so cannot decide on a draft awaiting approval.")


def _awaiting_draft(db: sqlite_utils.Database, draft_id: int) -> Draft:
    from agent_assist.store import drafts

    draft = drafts.get(db, draft_id)
    if draft.state != AWAITING:
        raise InvalidTransitionError(
            f"Draft {draft_id} is no longer awaiting approval (it is {draft.state.replace('_', ' ')})."
        )
    return draft


def approve(store: Store, draft_id: int, body: str, *, actor: str, confirmed_pan: bool = False) -> str:
    """A supervisor approves exactly ``body`` (the text they reviewed), without sending it yet (undo send
    holds the send, :mod:`agent_assist.store.held`); returns the draft's state, ``approved``.

    A full card number in ``body`` raises ``UnmaskedCardNumberError`` unless ``confirmed_pan``, so the
    supervisor is asked at the click, not when the held reply goes out."""
    from agent_assist.store import drafts

    drafts.check_card_numbers(body, confirmed_pan)
    with store.transaction() as db:
        if not is_postgres(db):  # on a team server approve_draft checks the signed-in person itself
            _require_supervisor(db, actor)
        draft = _awaiting_draft(db, draft_id)
        if draft.body != body:
            raise InvalidTransitionError("The draft changed while you were reviewing it; look at it again.")
        if drafts.approve(store, draft_id, body, actor=actor) != "approved":  # pragma: no cover - drafts' rules
            raise InvalidTransitionError("The draft could not be approved.")
    return "approved"


def approve_and_send(store: Store, draft_id: int, body: str, *, actor: str, status_after: str = "pending",
                     confirmed_pan: bool = False) -> int:
    """A supervisor approves exactly ``body`` (the text they reviewed) and sends it; returns the message id."""
    from agent_assist.store import drafts

    with store.transaction():
        approve(store, draft_id, body, actor=actor, confirmed_pan=confirmed_pan)
        return drafts.send(store, draft_id, actor=actor, status_after=status_after, confirmed_pan=confirmed_pan)


def return_to_agent(store: Store, draft_id: int, comment: str, *, actor: str) -> int:
    """Send an awaiting draft back to its agent (state ``edited``) with a comment; returns the comment id."""
    from agent_assist.store import drafts

    text = comment.strip()
    if not text:
        raise InvalidTransitionError("Say what should change: a returned draft needs a comment.")
    if len(text) > MAX_COMMENT_CHARS:
        raise InvalidTransitionError(f"The comment is too long (at most {MAX_COMMENT_CHARS:,} characters).")
    if is_postgres(store):  # the server checks the supervisor, writes the comment and the audit row
        with store.transaction() as db:
            _awaiting_draft(db, draft_id)
            return db.conn.execute("SELECT return_draft(?, ?)", (draft_id, text)).fetchone()[0]
    now = now_iso()
    with store.transaction() as db:
        _require_supervisor(db, actor)
        draft = _awaiting_draft(db, draft_id)
        if "edited" not in drafts.TRANSITIONS.get(draft.state, frozenset()):
            raise InvalidTransitionError("A draft awaiting approval cannot be returned under the current rules.")
        # requested_by stays: it still says who asked, and the next request overwrites it
        db.conn.execute("UPDATE drafts SET state = 'edited', approved_by = NULL, updated_at = ? WHERE id = ?",
                        (now, draft_id))
        cur = db.conn.execute(
            "INSERT INTO review_comments (draft_id, ticket_id, author, comment, created_at) VALUES (?, ?, ?, ?, ?)",
            (draft_id, draft.ticket_id, actor, text, now),
        )
        audit.record(db, actor=actor, action="draft.returned", ticket_id=draft.ticket_id, draft_id=draft_id,
                     comment=text, comment_id=cur.lastrowid)
    return cur.lastrowid
