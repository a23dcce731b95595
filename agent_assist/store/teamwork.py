"""Many desks on one queue: "Next ticket", who else has a ticket open, one holder for a job.

* :func:`claim_next` hands this person the best free ticket (the most urgent; within that, one whose
  flags carry a routing rule; then the SLA due first), assigns it and returns its id. On a team server it runs in the database
  (``claim_next()``, ``FOR UPDATE SKIP LOCKED``), so fifty desks pressing it at once never get the
  same ticket, and the claim is a lease the desk renews with :func:`heartbeat`; a desk that goes
  away loses its untouched claims when the lease runs out (or at once, when it closes: :func:`leave`).
  On a desk's own file there is one desk: the claim is the assignment.
* :func:`heartbeat` says which ticket this desk has open and whether its person is writing;
  :func:`others_on` lists the other desks on a ticket; :func:`team_overview` is the supervisor's
  view of who is online, how many tickets each has open and how many of their replies wait.
* :func:`take_lease` gives one desk at a time a named job (fetching a team mailbox).

On the server every change goes through SECURITY DEFINER functions (team migration 005) that take the
person from the session; the tables are read-only to clients. Times are the server's, so desks
whose clocks disagree still agree on who is online.
"""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass

import sqlite_utils

from agent_assist.store import audit
from agent_assist.store.backend import is_postgres
from agent_assist.store.database import Store
from agent_assist.timefmt import now_iso

CLAIM_LEASE_S = 120  # a claim outlives its desk by at most this long
HEARTBEAT_S = 15  # how often a running desk says it is there (well inside the lease)
PRESENCE_FRESH_S = 45  # a desk not heard from for this long is no longer shown on a ticket


def new_desk_id() -> str:
    """A name for one running window: the computer and a random part (two windows, two desks)."""
    return f"{socket.gethostname()[:40]}-{uuid.uuid4().hex[:10]}"


def claim_next(store: Store, *, person: str, desk: str, lease_s: int = CLAIM_LEASE_S) -> int | None:
    """Claim, assign and return the best free ticket for ``person``; None when none is free."""
    if is_postgres(store):
        with store.transaction() as db:
            return db.conn.execute("SELECT claim_next(?, ?)", (desk, int(lease_s))).fetchone()[0]
    with store.transaction() as db:  # BEGIN IMMEDIATE: one writer at a time, so the pick is the claim
        row = db.conn.execute(  # the most urgent; within it a ticket whose flag has a rule; then the SLA
            "SELECT id, status FROM tickets t WHERE assignee IS NULL AND status IN ('new', 'open') "
            "ORDER BY priority, NOT EXISTS (SELECT 1 FROM json_each(t.flags) f JOIN rules r ON r.flag = f.value "
            "AND r.action <> 'none'), sla_due_at IS NULL, sla_due_at, id LIMIT 1").fetchone()
        if row is None:
            return None
        ticket_id, status = row
        cur = db.conn.execute("UPDATE tickets SET assignee = ?, status = 'open', updated_at = ? "
                              "WHERE id = ? AND assignee IS NULL", (person, now_iso(), ticket_id))
        if cur.rowcount != 1:  # pragma: no cover - the write lock is held since the SELECT
            return None
        audit.record(db, actor=person, action="ticket.assigned", ticket_id=ticket_id, before=None, after=person,
                     claimed=True)
        if status != "open":
            audit.record(db, actor=person, action="ticket.status", ticket_id=ticket_id, before=status, after="open")
    return ticket_id


def release_claim(store: Store, ticket_id: int) -> None:
    """This person is done with the claim (their reply went out): the ticket stays as it is."""
    if is_postgres(store):
        with store.transaction() as db:
            db.conn.execute("SELECT release_claim(?)", (ticket_id,))


def heartbeat(store: Store, *, desk: str, ticket_id: int | None, writing: bool,
              lease_s: int = CLAIM_LEASE_S) -> None:
    """This desk is alive, has ``ticket_id`` open (or none) and is (not) writing; renews its claims."""
    if is_postgres(store):
        with store.transaction() as db:
            db.conn.execute("SELECT desk_heartbeat(?, ?, ?, ?)", (desk, ticket_id, bool(writing), int(lease_s)))


def leave(store: Store, desk: str) -> None:
    """The window closes: it is no longer on any ticket, and what it claimed but did not answer goes back."""
    if is_postgres(store):
        with store.transaction() as db:
            db.conn.execute("SELECT desk_leave(?)", (desk,))


def release_expired(store: Store) -> int:
    """Free the claims of desks that stopped renewing them; how many were freed."""
    if not is_postgres(store):
        return 0
    with store.transaction() as db:
        return int(db.conn.execute("SELECT release_expired_claims()").fetchone()[0])


@dataclass(frozen=True)
class Presence:
    person: str
    desk: str
    writing: bool


def others_on(db: sqlite_utils.Database, ticket_id: int, *, desk: str) -> list[Presence]:
    """The other desks that have this ticket open now (writers first)."""
    if not is_postgres(db):
        return []
    rows = db.conn.execute(
        "SELECT person, desk, writing FROM presence WHERE ticket_id = ? AND desk <> ? "
        "AND seen_at > now() - make_interval(secs => ?) ORDER BY writing DESC, person, desk",
        (ticket_id, desk, PRESENCE_FRESH_S)).fetchall()
    return [Presence(person, d, bool(writing)) for person, d, writing in rows]


@dataclass(frozen=True)
class Member:
    """One person on the team, as a supervisor sees them."""

    name: str
    role: str
    online: bool | None  # None: not known (a desk's own file has no presence)
    open_tickets: int  # assigned to them, new, open or pending
    waiting_replies: int  # their replies waiting for a supervisor's approval
    on_ticket: int | None = None  # the ticket open at one of their desks


def team_overview(db: sqlite_utils.Database) -> list[Member]:
    """Everyone on the team: online, open tickets, replies waiting for approval."""
    pg = is_postgres(db)
    presence = ("coalesce((SELECT max(pr.seen_at) > now() - make_interval(secs => ?) FROM presence pr "
                "WHERE pr.person = p.name), false), (SELECT max(pr.ticket_id) FROM presence pr WHERE pr.person = p.name "
                "AND pr.seen_at > now() - make_interval(secs => ?))" if pg else "NULL, NULL")
    rows = db.conn.execute(
        f"SELECT p.name, p.role, {presence}, "
        "(SELECT count(*) FROM tickets t WHERE t.assignee = p.name AND t.status IN ('new', 'open', 'pending')), "
        "(SELECT count(*) FROM drafts d WHERE d.requested_by = p.name AND d.state = 'awaiting_supervisor') "
        "FROM profiles p ORDER BY p.role DESC, p.name",
        (PRESENCE_FRESH_S, PRESENCE_FRESH_S) if pg else ()).fetchall()
    return [Member(name, role, None if online is None else bool(online), int(open_), int(waiting), ticket)
            for name, role, online, ticket, open_, waiting in rows]


def take_lease(store: Store, name: str, *, desk: str, ttl_s: int) -> bool:
    """Hold the job ``name`` (renewing it) for ``ttl_s`` more seconds; False while another desk holds it.

    A desk's own file has one desk: it always holds its jobs (its own lock files guard a second process).
    """
    if not is_postgres(store):
        return True
    with store.transaction() as db:
        return bool(db.conn.execute("SELECT take_lease(?, ?, ?)", (name, desk, int(ttl_s))).fetchone()[0])


def lease_holder(db: sqlite_utils.Database, name: str) -> tuple[str, str] | None:
    """(person, desk) holding the job ``name`` now, or None."""
    if not is_postgres(db):
        return None
    row = db.conn.execute("SELECT person, holder FROM leases WHERE name = ? AND expires_at > now()", (name,)).fetchone()
    return (row[0], row[1]) if row else None


def drop_lease(store: Store, name: str, *, desk: str) -> None:
    if is_postgres(store):
        with store.transaction() as db:
            db.conn.execute("SELECT drop_lease(?, ?)", (name, desk))
