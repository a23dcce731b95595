"""Triage applied to stored tickets: flags and sentiment recorded, so rules and the queue can use them.

The rules come first; where the app's semantic layer is loaded, flags of the nearest labelled
examples are added for what the rules did not flag (:mod:`.semantic_triage`: a ticket in a language
no rule is written for is still flagged, its reason "Similar to a labelled example…").

It runs when a message arrives (the channels call :func:`retriage` after they write it),
never when someone opens a ticket: reading must not write. Routing rules need no
re-triage when they change: they map flags to actions when a reply is approved or sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from agent_assist.assist import semantic_triage
from agent_assist.assist.triage import Triage, triage_ticket
from agent_assist.store import Store
from agent_assist.store.tickets import all_ticket_ids, customer_history_ids, get_ticket, set_triage

HISTORY = 10  # the customer's most recent other tickets read for repeat contact


def retriage(store: Store, ticket_id: int, *, actor: str = "triage") -> Triage:
    """Triage one ticket with its customer's history and record the result (no write when unchanged)."""
    db = store.db
    ticket = get_ticket(db, ticket_id)
    history = [get_ticket(db, tid) for tid in customer_history_ids(db, ticket, HISTORY)]
    result = triage_ticket(ticket, history)
    flags = [(f.kind, f.reason) for f in result.flags]
    sentiment = result.sentiment
    if sentiment == "angry":
        cues = ", ".join(f"“{c}”" for c in result.sentiment_cues[:3])
        flags.append(("angry", f"Angry tone{': ' + cues if cues else ''}"))
    similar = semantic_triage.ticket_flags(ticket, skip=frozenset(kind for kind, _ in flags))
    flags += [(f.kind, f.reason) for f in similar]
    if any(f.kind == semantic_triage.ANGRY for f in similar):
        sentiment = "angry"
    if similar:
        result = replace(result, flags=result.flags + tuple(f for f in similar if f.kind != semantic_triage.ANGRY),
                         sentiment=sentiment)
    set_triage(store, ticket_id, flags, sentiment=sentiment, source="rules", actor=actor)
    return result


def retriage_many(store: Store, ticket_ids: Iterable[int] | None = None, *, actor: str = "triage",
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Triage many tickets (all when ``ticket_ids`` is None); returns how many were read."""
    ids = list(ticket_ids) if ticket_ids is not None else all_ticket_ids(store.db)
    with store.transaction():
        for n, tid in enumerate(ids, 1):
            retriage(store, tid, actor=actor)
            if progress is not None:
                progress(n, len(ids))
    return len(ids)
