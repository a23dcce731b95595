"""Routing rules: what a triage flag means for a ticket's replies.

* ``human_only`` — no machine draft is offered first; a person writes the reply.
* ``four_eyes`` — a supervisor other than the writer approves before it is sent.
* ``none`` — the flag is shown, nothing else changes.

Only a supervisor changes a rule (checked here, with the acting profile's role).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import sqlite_utils

from agent_assist.store import audit, people
from agent_assist.store.backend import is_postgres
from agent_assist.store.database import Store
from agent_assist.store.errors import HumanOnlyError, InvalidTransitionError
from agent_assist.store.migrations import FLAG_KINDS
from agent_assist.timefmt import now_iso

ACTIONS = ("none", "human_only", "four_eyes")


def all_rules(db: sqlite_utils.Database) -> dict[str, str]:
    return dict(db.conn.execute("SELECT flag, action FROM rules ORDER BY flag"))


def set_rule(store: Store, flag: str, action: str, *, actor: str) -> None:
    if flag not in FLAG_KINDS:
        raise InvalidTransitionError(f"Unknown flag {flag!r}.")
    if action not in ACTIONS:
        raise InvalidTransitionError(f"A rule's action is one of {', '.join(ACTIONS)}.")
    if is_postgres(store):  # the server records who and when, and refuses anyone but a supervisor
        try:
            with store.transaction() as db:
                db.conn.execute("INSERT INTO rules (flag, action) VALUES (?, ?) "
                                "ON CONFLICT (flag) DO UPDATE SET action = excluded.action", (flag, action))
        except InvalidTransitionError as exc:
            raise InvalidTransitionError(f"Only a supervisor can change routing rules; {store.user} is not one.") from exc
        return
    with store.transaction() as db:
        if people.role_of(db, actor) != "supervisor":
            raise InvalidTransitionError(f"Only a supervisor can change routing rules; {actor or 'nobody'} is not one.")
        before = all_rules(db).get(flag)
        if before == action:
            return
        db.conn.execute("INSERT INTO rules (flag, action, updated_by, updated_at) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT(flag) DO UPDATE SET action = excluded.action, updated_by = excluded.updated_by, "
                        "updated_at = excluded.updated_at", (flag, action, actor, now_iso()))
        audit.record(db, actor=actor, action="rule.changed", flag=flag, before=before, after=action)


def actions_for(db: sqlite_utils.Database, flags: Iterable[str]) -> set[str]:
    rules = all_rules(db)
    return {rules.get(f, "none") for f in flags} - {"none"}


def ticket_actions(db: sqlite_utils.Database, ticket_id: int) -> set[str]:
    row = db.conn.execute("SELECT flags FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
    return actions_for(db, json.loads(row[0] or "[]")) if row else set()


def require_machine_draft_allowed(db: sqlite_utils.Database, ticket_id: int) -> None:
    """Raise :class:`HumanOnlyError` when a routing rule says a person writes this ticket's reply."""
    if "human_only" in ticket_actions(db, ticket_id):
        raise HumanOnlyError(f"Ticket #{ticket_id} is human-only (routing rule): a person writes this reply, "
                             "so no AI draft is made.")
