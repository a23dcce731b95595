"""Everything the agent needs when a ticket opens, gathered in one call.

The thread, knowledge suggestions for it, and the draft being worked on. Opening
only reads: with a team, every agent opening every ticket must not write (nor
wake every other desk's live queue). Triage runs when a message arrives
(:mod:`agent_assist.assist.escalation`, called by the channels). When the ticket
has no working draft, the workspace carries an *unsaved* offline suggestion
(``draft.saved`` is False); :func:`keep_draft` writes it, with its audit row, once
the person starts on it (edits, approves) — or asks for another (Regenerate).
Plain data in, plain data out, so the UI runs it on a worker thread and the
tests call it directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import sqlite_utils

from agent_assist.assist import injection, offline_drafter
from agent_assist.assist.injection import Flag
from agent_assist.assist.phrases import resign
from agent_assist.assist.similar_tickets import SolvedExample, similar_solved
from agent_assist.knowledge.search import SearchHit, suggest_for_text
from agent_assist.store import Store, drafts, review, rules
from agent_assist.store.review import ReviewComment
from agent_assist.store.drafts import Draft
from agent_assist.store.errors import InvalidTransitionError
from agent_assist.store.backend import is_postgres
from agent_assist.store.tickets import Ticket, get_ticket

NO_DRAFT_STATUSES = ("closed",)
RESIGNED_STATES = ("suggested", "edited", "approved")  # a draft its opener may still change and send
# Not "awaiting_supervisor": a four-eyes reply goes out signed by the writer who asked for approval. The
# supervisor approves that text unchanged (both backends refuse a change to an awaiting text, a signature's
# too, and the audit row keeps its hash), so the customer reads the name of the agent who answered them;
# a supervisor who takes over a stored draft instead gets it signed with their own name and is its writer.


@dataclass(frozen=True)
class TicketWorkspace:
    ticket: Ticket
    suggestions: tuple[SearchHit, ...]
    draft: Draft | None
    flags: tuple[Flag, ...] = ()  # customer text that tries to steer the AI
    actions: frozenset[str] = frozenset()  # what the routing rules ask: "human_only", "four_eyes"
    review_comment: ReviewComment | None = None  # a supervisor returned this draft with a comment
    extras: dict = field(default_factory=dict)  # message id -> channel extras (attachments, delivery)
    solved: tuple[SolvedExample, ...] = ()  # solved tickets like this one, with the reply sent

    @property
    def human_only(self) -> bool:
        return "human_only" in self.actions

    @property
    def four_eyes(self) -> bool:
        return "four_eyes" in self.actions


ExtrasFn = Callable[[sqlite_utils.Database, Ticket], dict]


def open_ticket(store: Store, ticket_id: int, *, agent: str, extras: ExtrasFn | None = None,
                knowledge: Callable[[], Any] | None = None) -> TicketWorkspace:
    """``extras`` gives the channel's facts about the messages (the UI passes the channels' one:
    this layer sits below the channels and does not import them). ``knowledge`` gives the database
    the suggestions come from (a team desk's replica of the articles, see knowledge.replica); the
    store's by default."""
    db = store.db
    ticket = get_ticket(db, ticket_id)
    kb = knowledge() if knowledge is not None else db
    hits = tuple(suggest_for_text(kb, ticket.inbound_text(), subject=ticket.subject,
                                  language=ticket.language, limit=8))
    draft = drafts.active_for_ticket(db, ticket_id)
    actions = frozenset(rules.ticket_actions(db, ticket_id))
    if draft is None and ticket.status not in NO_DRAFT_STATUSES:
        if "human_only" in actions:  # no machine text first: a person writes this one
            draft = drafts.unsaved(ticket_id, "", actor=agent, source="human")
        else:
            suggestion = offline_drafter.compose(ticket, list(hits), kb, agent_name=agent)
            draft = drafts.unsaved(ticket_id, suggestion.body, actor=agent, source=suggestion.source,
                                   citations=suggestion.citations, prompt_version=suggestion.prompt_version)
    elif draft is not None and draft.state in RESIGNED_STATES and "human_only" not in actions:
        # a stored draft is offered to whoever opens it: it carries their name, not the drafter's
        # (not on a human-only ticket, where a changed signature must not pass for a person's own text)
        body = resign(draft.body, draft.edited_by or draft.created_by, agent)
        if body != draft.body:
            draft = replace(draft, body=body)
    comment = review.latest_comment(db, ticket_id)
    if comment is not None and (draft is None or comment.draft_id != draft.id or draft.state == "awaiting_supervisor"):
        comment = None  # only a comment on the draft in hand, returned to its writer, is news
    # a desk's own solved tickets (a team desk's are on the server, which keeps no vectors)
    solved = () if is_postgres(db) else tuple(similar_solved(db, ticket))
    return TicketWorkspace(ticket, hits, draft, tuple(injection.scan(injection.customer_text(ticket))), actions,
                           comment, extras(db, ticket) if extras is not None else {}, solved)


def keep_draft(store: Store, draft: Draft, *, agent: str) -> Draft:
    """The stored draft for this one: an unsaved suggestion is written now (the person started on it).

    Another window (or process) may have started on the ticket meanwhile: its draft is the one
    working draft, and is returned instead of a second one.
    """
    if draft.saved:
        return draft
    db = store.db
    with store.transaction():
        current = drafts.active_for_ticket(db, draft.ticket_id)
        if current is not None:
            return current
        draft_id = drafts.suggest(store, draft.ticket_id, draft.body, actor=agent, source=draft.source,
                                  citations=draft.citations, provider=draft.provider, model=draft.model,
                                  prompt_version=draft.prompt_version)
    return drafts.get(db, draft_id)


def regenerate_offline(store: Store, ticket_id: int, *, agent: str) -> Draft:
    """Discard the open draft (if any) and suggest a fresh offline one."""
    db = store.db
    if "human_only" in rules.ticket_actions(db, ticket_id):
        raise InvalidTransitionError("This ticket is human-only: a person writes its reply.")
    ticket = get_ticket(db, ticket_id)
    with store.transaction():
        current = drafts.active_for_ticket(db, ticket_id)
        if current is not None:
            drafts.discard(store, current.id, actor=agent)
        suggestion = offline_drafter.draft_reply(db, ticket, agent_name=agent)
        draft_id = drafts.suggest(store, ticket_id, suggestion.body, actor=agent, source=suggestion.source,
                                  citations=suggestion.citations, prompt_version=suggestion.prompt_version)
    return drafts.get(db, draft_id)
