"""The draft lifecycle, in one place.

    suggested -> edited -> approved -> sent
         \\________\\________\\-> discarded

Only :func:`send` turns a draft into an outbound message, and only from
``approved`` by a named person; every path (UI, CLI, channels) goes through it.
It checks the routing rules itself, whatever state the row claims:

* **four eyes** — the approver is a supervisor, someone asked for the approval
  (``requested_by``), and the approver is neither that person nor the last person
  who changed the text (``edited_by``). Changing the text clears ``requested_by``
  and ``approved_by``: an approval or a request stands for one exact text only.
* **human-only** — a person writes the reply. A draft a machine wrote (any source
  but ``human``) is refused until a person has changed its text (whitespace does
  not count); the flag may arrive after the draft was suggested, so this is
  checked when it is approved and again when it is sent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from agent_assist.store import audit, payment, people, rules
from agent_assist.store.backend import is_postgres
from agent_assist.store.database import Store
from agent_assist.store.errors import InvalidTransitionError, NotFoundError, UnmaskedCardNumberError
from agent_assist.store.tickets import STATUSES
from agent_assist.timefmt import now_iso

OPEN_STATES = ("suggested", "edited", "approved", "awaiting_supervisor")
TRANSITIONS: dict[str, frozenset[str]] = {
    "suggested": frozenset({"edited", "approved", "discarded", "awaiting_supervisor"}),
    "edited": frozenset({"edited", "approved", "discarded", "awaiting_supervisor"}),
    "awaiting_supervisor": frozenset({"approved", "edited", "discarded"}),
    "approved": frozenset({"sent", "edited", "discarded"}),
    "sent": frozenset(),
    "discarded": frozenset(),
}


@dataclass(frozen=True)
class Draft:
    id: int
    ticket_id: int
    state: str
    source: str
    original_body: str
    body: str
    citations: tuple[int, ...]
    provider: str | None
    model: str | None
    prompt_version: str | None
    created_by: str | None
    approved_by: str | None
    created_at: str
    updated_at: str
    requested_by: str | None = None  # who asked a supervisor to approve (four eyes)
    edited_by: str | None = None  # the last person who changed the text

    @property
    def saved(self) -> bool:
        """False for a suggestion shown but not stored yet (see :func:`unsaved`)."""
        return self.id > 0

    @property
    def person_wrote_text(self) -> bool:
        """A person wrote this text: they started from nothing, or changed what a machine suggested."""
        if self.source == "human":
            return True
        return self.edited_by is not None and " ".join(self.body.split()) != " ".join(self.original_body.split())


_COLUMNS = ("id, ticket_id, state, source, original_body, body, citations, provider, model, "
            "prompt_version, created_by, approved_by, created_at, updated_at, requested_by, edited_by")


def _row_to_draft(row: Sequence[object]) -> Draft:
    values = list(row)
    values[6] = tuple(json.loads(values[6] or "[]"))  # type: ignore[arg-type]
    return Draft(*values)  # type: ignore[arg-type]


# the team schema names the last editor ``last_edited_by``
_PG_COLUMNS = _COLUMNS.replace(", edited_by", ", last_edited_by AS edited_by")


def _columns(db: sqlite_utils.Database) -> str:
    return _PG_COLUMNS if is_postgres(db) else _COLUMNS


def get(db: sqlite_utils.Database, draft_id: int) -> Draft:
    row = db.conn.execute(f"SELECT {_columns(db)} FROM drafts WHERE id = ?", (draft_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"Draft {draft_id} does not exist.")
    return _row_to_draft(row)


def active_for_ticket(db: sqlite_utils.Database, ticket_id: int) -> Draft | None:
    """The draft being worked on for this ticket, if any (the newest open one)."""
    row = db.conn.execute(
        f"SELECT {_columns(db)} FROM drafts WHERE ticket_id = ? AND state IN "
        f"({', '.join('?' for _ in OPEN_STATES)}) ORDER BY id DESC LIMIT 1",
        (ticket_id, *OPEN_STATES),
    ).fetchone()
    return _row_to_draft(row) if row else None


def _move(db: sqlite_utils.Database, draft: Draft, to_state: str) -> None:
    if to_state not in TRANSITIONS[draft.state]:
        raise InvalidTransitionError(
            f"A draft that is {draft.state.replace('_', ' ')} cannot become {to_state.replace('_', ' ')}."
        )


def unsaved(ticket_id: int, body: str, *, actor: str, source: str, citations: Sequence[int] = (),
            prompt_version: str | None = None) -> Draft:
    """A suggestion to show without writing it (id 0: SQLite never hands out that rowid).

    Opening a ticket must not write; :func:`suggest` stores it once a person starts on it.
    """
    now = now_iso()
    return Draft(0, ticket_id, "suggested", source, body, body, tuple(citations), None, None, prompt_version,
                 actor, None, now, now)


def suggest(store: Store, ticket_id: int, body: str, *, actor: str, source: str,
            citations: Sequence[int] = (), provider: str | None = None, model: str | None = None,
            prompt_version: str | None = None) -> int:
    """Record a machine-made suggestion for a ticket. It is never sent as it is."""
    if is_postgres(store):  # the server sets state, writer, times and the audit row itself
        with store.transaction() as db:
            cur = db.conn.execute(
                "INSERT INTO drafts (ticket_id, source, original_body, body, citations, provider, model, "
                "prompt_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (ticket_id, source, body, body, json.dumps(list(citations)), provider, model, prompt_version))
        return cur.lastrowid
    now = now_iso()
    with store.transaction() as db:
        cur = db.conn.execute(
            "INSERT INTO drafts (ticket_id, state, source, original_body, body, citations, provider, model, "
            "prompt_version, created_by, created_at, updated_at) "
            "VALUES (?, 'suggested', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (ticket_id, source, body, body, json.dumps(list(citations)), provider, model, prompt_version,
             actor, now, now),
        )
        audit.record(db, actor=actor, action="draft.suggested", ticket_id=ticket_id, draft_id=cur.lastrowid,
                     source=source, citations=list(citations), provider=provider, model=model,
                     prompt_version=prompt_version)
    return cur.lastrowid


def save_edit(store: Store, draft_id: int, body: str, *, actor: str) -> None:
    """Keep what the agent typed (no-op when nothing changed)."""
    with store.transaction() as db:
        draft = get(db, draft_id)
        if draft.body == body:
            return
        _move(db, draft, "edited")
        if is_postgres(db):  # the server's trigger clears approvals, names the editor and audits
            db.conn.execute("UPDATE drafts SET body = ? WHERE id = ?", (body, draft_id))
            return
        # a new text: an earlier approval, or a request for one, was for the old text
        db.conn.execute("UPDATE drafts SET state = 'edited', body = ?, approved_by = NULL, requested_by = NULL, "
                        "edited_by = ?, updated_at = ? WHERE id = ?", (body, actor, now_iso(), draft_id))
        audit.record(db, actor=actor, action="draft.edited", ticket_id=draft.ticket_id, draft_id=draft_id,
                     chars=len(body))


def needs_four_eyes(db: sqlite_utils.Database, ticket_id: int) -> bool:
    return "four_eyes" in rules.ticket_actions(db, ticket_id)


def _four_eyes_ok(db: sqlite_utils.Database, draft: Draft, approver: str | None) -> bool:
    """Someone asked, and a supervisor other than that person and the last editor approves."""
    return (approver is not None and people.role_of(db, approver) == "supervisor"
            and draft.requested_by is not None and draft.requested_by != approver
            and draft.edited_by != approver)


HUMAN_ONLY_REFUSAL = ("This ticket is human-only: a person writes its reply. Write it yourself, or change the "
                      "suggested text before approving it.")


def _check_human_only(db: sqlite_utils.Database, draft: Draft) -> None:
    if "human_only" in rules.ticket_actions(db, draft.ticket_id) and not draft.person_wrote_text:
        raise InvalidTransitionError(HUMAN_ONLY_REFUSAL)


def approve(store: Store, draft_id: int, body: str, *, actor: str) -> str:
    """A named person approves this exact text. Returns the draft's new state.

    Where a rule asks for four eyes, the writer's approval sends it to a supervisor
    (``awaiting_supervisor``); a supervisor other than the writer then approves it.
    """
    if not actor.strip():
        raise InvalidTransitionError("A draft can only be approved by a named person.")
    if not body.strip():
        raise InvalidTransitionError("An empty reply cannot be approved.")
    if is_postgres(store):  # four eyes, human-only and "not your own text" are the server's own checks
        with store.transaction() as db:
            return db.conn.execute("SELECT approve_draft(?, ?)", (draft_id, body)).fetchone()[0]
    with store.transaction() as db:
        draft = get(db, draft_id)
        if draft.state == "awaiting_supervisor" and draft.body != body:
            # a supervisor's changes count as a new text: the writer's request stands for the old one
            raise InvalidTransitionError("Return the draft to the agent to change it, or approve it as it is.")
        save_edit(store, draft_id, body, actor=actor)
        draft = get(db, draft_id)
        _check_human_only(db, draft)
        if needs_four_eyes(db, draft.ticket_id) and not _four_eyes_ok(db, draft, actor):
            if draft.state == "awaiting_supervisor" and actor in (draft.requested_by, draft.edited_by):
                raise InvalidTransitionError("Four eyes: a supervisor other than the writer approves this reply.")
            if draft.state == "awaiting_supervisor" and people.role_of(db, actor) != "supervisor":
                raise InvalidTransitionError("This reply waits for a supervisor's approval.")
            _move(db, draft, "awaiting_supervisor")
            db.conn.execute("UPDATE drafts SET state = 'awaiting_supervisor', requested_by = ?, approved_by = NULL, "
                            "updated_at = ? WHERE id = ?", (actor, now_iso(), draft_id))
            audit.record(db, actor=actor, action="draft.approval_requested", ticket_id=draft.ticket_id,
                         draft_id=draft_id, source=draft.source, citations=list(draft.citations))
            return "awaiting_supervisor"
        _move(db, draft, "approved")
        db.conn.execute("UPDATE drafts SET state = 'approved', approved_by = ?, updated_at = ? WHERE id = ?",
                        (actor, now_iso(), draft_id))
        audit.record(db, actor=actor, action="draft.approved", ticket_id=draft.ticket_id, draft_id=draft_id,
                     source=draft.source, model=draft.model, prompt_version=draft.prompt_version,
                     citations=list(draft.citations), edited=draft.body != draft.original_body,
                     requested_by=draft.requested_by, edited_by=draft.edited_by)
    return "approved"


def send(store: Store, draft_id: int, *, actor: str, status_after: str = "pending",
         confirmed_pan: bool = False) -> int:
    """The only way a reply reaches a customer: an approved draft becomes an outbound message.

    Returns the new message id. The ticket moves to ``status_after`` (pending or solved).
    A reply holding a full (Luhn-valid) card number raises :class:`UnmaskedCardNumberError`
    unless ``confirmed_pan`` says a person saw it and wants it sent; the audit row records that.
    """
    if status_after not in STATUSES:
        raise InvalidTransitionError(f"Unknown status {status_after!r}.")
    if not actor.strip():
        raise InvalidTransitionError("A reply can only be sent by a named person.")
    if is_postgres(store):  # the server checks the rules; the audit row says how many numbers were confirmed
        with store.transaction() as db:
            cards = check_card_numbers(get(db, draft_id).body, confirmed_pan)
            return db.conn.execute("SELECT send_draft(?, ?, ?)", (draft_id, status_after, len(cards))).fetchone()[0]
    now = now_iso()
    with store.transaction() as db:
        draft = get(db, draft_id)
        if draft.state != "approved" or not draft.approved_by:
            raise InvalidTransitionError(
                f"Only an approved draft can be sent; this one is {draft.state.replace('_', ' ')}."
            )
        _check_human_only(db, draft)
        if needs_four_eyes(db, draft.ticket_id) and not _four_eyes_ok(db, draft, draft.approved_by):
            raise InvalidTransitionError("This ticket needs a supervisor's approval (four eyes) before a reply "
                                         "is sent.")
        cards = check_card_numbers(draft.body, confirmed_pan)
        _move(db, draft, "sent")
        cur = db.conn.execute(
            "INSERT INTO messages (ticket_id, direction, author, body_text, body_html, created_at) "
            "VALUES (?, 'outbound', ?, ?, NULL, ?)",
            (draft.ticket_id, actor, draft.body, now),
        )
        db.conn.execute("UPDATE drafts SET state = 'sent', updated_at = ? WHERE id = ?", (now, draft_id))
        before = db.conn.execute("SELECT status FROM tickets WHERE id = ?", (draft.ticket_id,)).fetchone()[0]
        db.conn.execute("UPDATE tickets SET status = ?, updated_at = ? WHERE id = ?",
                        (status_after, now, draft.ticket_id))
        audit.record(db, actor=actor, action="reply.sent", ticket_id=draft.ticket_id, draft_id=draft_id,
                     message_id=cur.lastrowid, approved_by=draft.approved_by, source=draft.source,
                     body_sha256=hashlib.sha256(draft.body.encode("utf-8")).hexdigest(),
                     requested_by=draft.requested_by, edited_by=draft.edited_by,
                     model=draft.model, prompt_version=draft.prompt_version, citations=list(draft.citations),
                     status_before=before, status_after=status_after,
                     **({"full_card_numbers_confirmed": len(cards)} if cards else {}))
    return cur.lastrowid


def check_card_numbers(body: str, confirmed: bool = False) -> list[str]:
    """The full card numbers in ``body``; :class:`UnmaskedCardNumberError` unless a person confirmed them."""
    cards = payment.find_card_numbers(body)
    if cards and not confirmed:
        raise UnmaskedCardNumberError([payment.last_four(c) for c in cards])
    return cards


def approve_and_send(store: Store, draft_id: int, body: str, *, actor: str,
                     status_after: str = "pending", confirmed_pan: bool = False) -> int | None:
    """The agent's one explicit action: approve this text and send it, atomically.

    Returns the message id, or None when the reply went to a supervisor for approval instead.
    """
    with store.transaction():
        if approve(store, draft_id, body, actor=actor) != "approved":
            return None
        return send(store, draft_id, actor=actor, status_after=status_after, confirmed_pan=confirmed_pan)


def withdraw_approval(store: Store, draft_id: int, *, actor: str) -> Draft:
    """Undo send: the approver takes back an approval whose reply has not gone out; the draft is edited
    again, with its text, and goes back to the editor. Returns the draft as it is now."""
    with store.transaction() as db:
        if is_postgres(db):  # only the approver, only an approved draft: the server's own check
            db.conn.execute("SELECT withdraw_approval(?)", (draft_id,))
            return get(db, draft_id)
        draft = get(db, draft_id)
        if draft.state != "approved":
            raise InvalidTransitionError("Only an approved reply that has not gone out can be taken back; this one "
                                         f"is {draft.state.replace('_', ' ')}.")
        if draft.approved_by != actor:
            raise InvalidTransitionError(f"Only {draft.approved_by}, who approved this reply, can take the approval "
                                         "back.")
        _move(db, draft, "edited")
        db.conn.execute("UPDATE drafts SET state = 'edited', approved_by = NULL, updated_at = ? WHERE id = ?",
                        (now_iso(), draft_id))
        audit.record(db, actor=actor, action="draft.approval_withdrawn", ticket_id=draft.ticket_id,
                     draft_id=draft_id)
        return get(db, draft_id)


def discard(store: Store, draft_id: int, *, actor: str) -> None:
    with store.transaction() as db:
        draft = get(db, draft_id)
        _move(db, draft, "discarded")
        if is_postgres(db):
            db.conn.execute("SELECT discard_draft(?)", (draft_id,))
            return
        db.conn.execute("UPDATE drafts SET state = 'discarded', updated_at = ? WHERE id = ?", (now_iso(), draft_id))
        audit.record(db, actor=actor, action="draft.discarded", ticket_id=draft.ticket_id, draft_id=draft_id)
