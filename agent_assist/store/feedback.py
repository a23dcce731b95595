"""An agent's word on a suggestion: "not useful", and why. Counted per reason on the quality dashboard.

Feedback is about the suggestion, not a change of the draft: it writes no audit row and leaves the draft's
state alone. On a team server the person and the time come from the session (team migration
``010_draft_feedback``); a desk records the signed-in person.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from agent_assist.store import drafts
from agent_assist.store.backend import is_postgres
from agent_assist.store.database import Store
from agent_assist.store.errors import InvalidTransitionError
from agent_assist.timefmt import now_iso

REASONS: dict[str, str] = {
    "wrong_facts": "Wrong facts",
    "wrong_tone": "Wrong tone",
    "wrong_language": "Wrong language",
    "missed_point": "Missed the point",
}


@dataclass(frozen=True)
class Feedback:
    id: int
    draft_id: int
    ticket_id: int
    reason: str
    author: str
    created_at: str


def mark_not_useful(store: Store, draft_id: int, reason: str, *, actor: str) -> int:
    """Record that this suggestion did not help, and why; returns the feedback's id."""
    if reason not in REASONS:
        raise InvalidTransitionError(f"Say why with one of: {', '.join(REASONS.values())}.")
    if not actor.strip():
        raise InvalidTransitionError("Feedback is given by a named person.")
    with store.transaction() as db:
        draft = drafts.get(db, draft_id)
        if is_postgres(db):  # the server names the person and the time
            cur = db.conn.execute("INSERT INTO draft_feedback (draft_id, ticket_id, reason) VALUES (?, ?, ?)",
                                  (draft_id, draft.ticket_id, reason))
        else:
            cur = db.conn.execute(
                "INSERT INTO draft_feedback (draft_id, ticket_id, reason, author, created_at) VALUES (?, ?, ?, ?, ?)",
                (draft_id, draft.ticket_id, reason, actor, now_iso()))
    return cur.lastrowid


def for_draft(db: sqlite_utils.Database, draft_id: int) -> list[Feedback]:
    rows = db.conn.execute("SELECT id, draft_id, ticket_id, reason, author, created_at FROM draft_feedback "
                           "WHERE draft_id = ? ORDER BY id", (draft_id,)).fetchall()
    return [Feedback(*r) for r in rows]


def counts(db: sqlite_utils.Database, *, since: str | None = None, until: str | None = None) -> dict[str, int]:
    """How often each reason was given (every reason listed, zero included), optionally in a period."""
    clauses, params = [], []
    if since is not None:
        clauses.append("created_at >= ?")
        params.append(since)
    if until is not None:
        clauses.append("created_at < ?")
        params.append(until)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    found = dict(db.conn.execute(f"SELECT reason, COUNT(*) FROM draft_feedback{where} GROUP BY reason",
                                 params).fetchall())
    return {reason: int(found.get(reason, 0)) for reason in REASONS}
