"""Tickets, customers and messages: queries for the queue and the thread, and every
state change (each writes its audit row in the same transaction)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import NamedTuple

import sqlite_utils

from agent_assist.sanitize import NOTICE_BAD_CHARACTERS, clean_html, html_to_text, replace_lone_surrogates
from agent_assist.store import audit
from agent_assist.store.backend import is_postgres
from agent_assist.store.database import Store
from agent_assist.store.errors import InvalidTransitionError, NotFoundError
from agent_assist.store.migrations import STATUS_RANK_SQL
from agent_assist.timefmt import now_iso, parse_iso, to_iso

_WORDS = re.compile(r"[^\W_]+", re.UNICODE)
PRIORITIES = ("urgent", "high", "normal", "low")
STATUSES = ("new", "open", "pending", "solved", "closed")
ACTIVE_STATUSES = ("new", "open", "pending")
AWAITING_APPROVAL = "awaiting_approval"
"""The queue's own status for a ticket whose reply waits for a supervisor (a draft ``awaiting_supervisor``):
computed from the drafts, never stored in ``tickets.status``."""
QUEUE_STATUSES = (*STATUSES[:3], AWAITING_APPROVAL, *STATUSES[3:])
QUEUE_ACTIVE = (*ACTIVE_STATUSES, AWAITING_APPROVAL)
# indexed on both backends: drafts (ticket_id, state)
_AWAITING_SQL = "EXISTS (SELECT 1 FROM drafts d WHERE d.ticket_id = t.id AND d.state = 'awaiting_supervisor')"
CHANNELS = ("email", "chat", "web", "phone")
SLA_TARGETS = {0: timedelta(hours=2), 1: timedelta(hours=8), 2: timedelta(hours=24), 3: timedelta(hours=72)}
ANALYSED_CHARS = 50_000  # of each message, what triage, scans and suggestions read (a prompt holds far less)


def priority_rank(name: str) -> int:
    try:
        return PRIORITIES.index(name)
    except ValueError:
        raise ValueError(f"unknown priority {name!r}; use one of {', '.join(PRIORITIES)}") from None


# -- the queue -------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueFilter:
    scope: str = "all"  # all | mine | unassigned
    user: str | None = None
    statuses: tuple[str, ...] = QUEUE_ACTIVE  # empty means any status; may name AWAITING_APPROVAL
    language: str | None = None
    text: str = ""
    flag: str | None = None  # only tickets with this triage flag ("any" for any flag)


class QueueRow(NamedTuple):
    """One ticket as the queue lists it. A named tuple, not a dataclass: a page builds 200 of these for
    every open, sort and filter of the queue, and a tuple is made in one step (no per-field
    ``__setattr__`` of a frozen dataclass); it compares, hashes and reads by name all the same."""

    id: int
    priority: int
    sla_due_at: str | None
    subject: str
    customer: str
    language: str
    status: str
    assignee: str | None
    updated_at: str
    tags: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    awaiting_approval: bool = False  # a reply waits for a supervisor

    @property
    def queue_status(self) -> str:
        """What the queue shows: ``awaiting_approval`` while a supervisor has the reply, else the status."""
        return AWAITING_APPROVAL if self.awaiting_approval else self.status


_new_row = tuple.__new__


SORT_KEYS: dict[str, str] = {
    "id": "t.id",
    "priority": "t.priority",
    "sla": "t.sla_due_at",
    "subject": "t.subject COLLATE NOCASE",
    "customer": "c.name COLLATE NOCASE",
    "language": "t.language",
    "status": STATUS_RANK_SQL.replace("status", "t.status"),
    "assignee": "t.assignee COLLATE NOCASE",
    "updated": "t.updated_at",
    "flags": "json_array_length(t.flags)",  # the most flagged first, when descending
}
_QUEUE_COLUMNS = (
    "t.id, t.priority, t.sla_due_at, t.subject, COALESCE(c.name, ''), t.language, t.status, "
    "t.assignee, t.updated_at, t.tags, t.flags, " + _AWAITING_SQL
)


MAX_FILTER_WORDS = 32  # words of a queue search that reach the index (a pasted page is not a filter)


def _prefix_match(text: str, pg: bool = False) -> str:
    """Every word of the text as a quoted prefix term: ``anna lin`` -> ``"anna"* "lin"*`` (FTS5), or
    ``'anna':* & 'lin':*`` on PostgreSQL."""
    found = _WORDS.findall(text[:1_000])[:MAX_FILTER_WORDS]
    if pg:
        from agent_assist.store.postgres.adapter import prefix_tsquery

        return prefix_tsquery(found)
    return " ".join('"' + w.replace('"', '""') + '"*' for w in found)


def _text_match(pg: bool) -> str:
    if pg:
        return "t.search_vector @@ to_tsquery('simple', ?)"
    return "t.id IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ?)"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(flt: QueueFilter, pg: bool = False) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if flt.scope == "mine":
        clauses.append("t.assignee = ?")
        params.append(flt.user or "")
    elif flt.scope == "unassigned":
        clauses.append("t.assignee IS NULL")
    if flt.statuses:
        # a ticket whose reply awaits a supervisor has that status in the queue, not its stored one
        stored = [s for s in flt.statuses if s != AWAITING_APPROVAL]
        either = []
        if stored:
            either.append(f"(t.status IN ({', '.join('?' for _ in stored)}) AND NOT {_AWAITING_SQL})")
            params.extend(stored)
        if AWAITING_APPROVAL in flt.statuses:
            either.append(_AWAITING_SQL)
        clauses.append(either[0] if len(either) == 1 else f"({' OR '.join(either)})")
    if flt.language:
        clauses.append("t.language = ?")
        params.append(flt.language)
    if flt.flag == "any":
        clauses.append("t.flags != '[]'")
    elif flt.flag:
        clauses.append("EXISTS (SELECT 1 FROM ticket_flags f WHERE f.ticket_id = t.id AND f.kind = ?)")
        params.append(flt.flag)
    text = flt.text.replace("\x00", "").strip()
    if text:
        digits = text.lstrip("#")
        if digits.isascii() and digits.isdigit() and int(digits) < 2**63 and (text.startswith("#") or len(digits) < 9):
            clauses.append(f"(t.id = ? OR {_text_match(pg)})")
            params.extend([int(digits), _prefix_match(text, pg)])
        else:
            match = _prefix_match(text, pg)
            if match:
                clauses.append(_text_match(pg))
                params.append(match)
            else:  # punctuation only: match it literally
                like = f"%{_escape_like(text)}%"
                clauses.append("t.subject LIKE ? ESCAPE '\\'")
                params.append(like)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


NULLABLE_SORTS = frozenset({"sla", "language", "assignee"})
"""Sort keys that can be empty; the others are never NULL (and on PostgreSQL are ordered without a NULLS
clause, which lets the server walk their indexes: team migration 008 spells the nullable ones' indexes
with NULLS FIRST)."""


def _order(sort: str, descending: bool, pg: bool = False) -> str:
    key = SORT_KEYS.get(sort)
    if key is None:
        raise ValueError(f"cannot sort by {sort!r}")
    plain = direction = "DESC" if descending else "ASC"  # the id tie-break is never NULL: no NULLS clause
    if pg and sort in NULLABLE_SORTS:  # as SQLite orders them: an empty value (no SLA, nobody assigned) is the smallest
        direction += " NULLS LAST" if descending else " NULLS FIRST"
    first = " NULLS FIRST" if pg else ""
    if sort == "priority":  # ties broken by the most urgent SLA, as an agent expects
        return f" ORDER BY t.priority {direction}, t.sla_due_at ASC{first}, t.id ASC"
    if sort == "customer":
        return f" ORDER BY c.name COLLATE NOCASE {direction}, t.id {plain}"
    return f" ORDER BY {key} {direction}, t.id {plain}"


def queue_page(db: sqlite_utils.Database, flt: QueueFilter, *, sort: str = "priority",
               descending: bool = False, offset: int = 0, limit: int = 200) -> list[QueueRow]:
    pg = is_postgres(db)
    stored = tuple(st for st in flt.statuses if st != AWAITING_APPROVAL)
    if (pg and sort == "status" and descending and stored and len(stored) < len(flt.statuses)
            and not flt.text.strip()):
        return _status_page_with_awaiting(db, flt, stored, descending, offset, limit)
    where, params = _where(flt, pg)
    # an inner join lets SQLite walk the customer-name index when sorting by customer;
    # every ticket has a customer (create_ticket and bulk import always set one)
    if pg and sort == "status" and flt.statuses:
        # the same statuses as a range of the sort's rank, so the server walks its index from the first
        # status shown instead of past every ticket of the others (solved and closed: most of them)
        ranks = sorted(STATUSES.index(st) if st in STATUSES else len(STATUSES) - 1 for st in flt.statuses)
        where = f"{where} AND " if where else " WHERE "
        where += f"{SORT_KEYS['status']} BETWEEN {ranks[0]} AND {ranks[-1]}"
    source = "tickets t"
    if pg and "search_vector" in where and _estimate(db, where, params) <= FEW_MATCHES:
        # a rare word: read its few matches through the text index and sort them, rather than walk the
        # sort order's index through many rows until a page of matches turns up (what the server's
        # planner picks, as it underrates the cost of testing every row it passes)
        source = f"(SELECT {_MATCH_COLUMNS} FROM tickets t{where} OFFSET 0) t"
        where = ""  # applied inside, with the same parameters
    sql = (f"SELECT {_QUEUE_COLUMNS} FROM {source} JOIN customers c ON c.id = t.customer_id"
           f"{where}{_order(sort, descending, pg)} LIMIT ? OFFSET ?")
    return _queue_rows(db.conn.execute(sql, [*params, limit, offset]).fetchall())


def _status_page_with_awaiting(db, flt: QueueFilter, stored: tuple[str, ...], descending: bool, offset: int,
                               limit: int) -> list[QueueRow]:
    """A team server's page by status of a filter that holds stored statuses and "awaiting approval" (the
    queue's default), descending: a ticket awaiting approval may have any stored status, so one statement
    would walk the status index down from the last rank, past all the solved and closed tickets (~400 ms at
    1M tickets). Two walks instead -- the stored statuses' ranks, and the few tickets awaiting approval
    (disjoint: the first excludes them) -- each as far as the page reaches, merged in the same order.
    (Ascending, the one walk starts at "new" and fills a page at once.)"""
    ranks = sorted(STATUSES.index(st) for st in stored)
    rank = SORT_KEYS["status"]
    where_a, params_a = _where(replace(flt, statuses=stored), True)
    where_a += f" AND {rank} BETWEEN {ranks[0]} AND {ranks[-1]}"
    where_b, params_b = _where(replace(flt, statuses=()), True)  # the other clauses (scope, language, flag)
    direction = "DESC" if descending else "ASC"
    inner = f" ORDER BY {rank} {direction}, t.id {direction} LIMIT ?"
    columns = f"SELECT {_QUEUE_COLUMNS}, {rank} AS queue_rank FROM "
    # the tickets awaiting approval read from the drafts' state index (a fence: not by walking the tickets)
    awaiting = ("(SELECT DISTINCT d.ticket_id FROM drafts d WHERE d.state = 'awaiting_supervisor' OFFSET 0) a "
                "JOIN tickets t ON t.id = a.ticket_id ")
    sql = (f"SELECT * FROM (({columns}tickets t JOIN customers c ON c.id = t.customer_id{where_a}{inner}) "
           f"UNION ALL ({columns}{awaiting}JOIN customers c ON c.id = t.customer_id{where_b}{inner})) u "
           f"ORDER BY u.queue_rank {direction}, u.id {direction} LIMIT ? OFFSET ?")
    reach = offset + limit
    return _queue_rows(db.conn.execute(sql, [*params_a, reach, *params_b, reach, limit, offset]).fetchall())


def _queue_rows(rows) -> list[QueueRow]:
    # most tickets have no tags and no flags: their "[]" is not parsed
    row, loads = QueueRow, json.loads
    return [_new_row(row, (*r[:9], () if r[9] in _NO_LIST else tuple(loads(r[9])),
                           () if r[10] in _NO_LIST else tuple(loads(r[10])), bool(r[11]))) for r in rows]


_NO_LIST = frozenset({None, "", "[]"})


FEW_MATCHES = 5_000  # a text filter the server expects to match fewer tickets is read through its index
_MATCH_COLUMNS = ("t.id, t.customer_id, t.priority, t.sla_due_at, t.subject, t.language, t.status, t.assignee, "
                  "t.updated_at, t.tags, t.flags")


ESTIMATE_TTL_S = 10.0  # the statistics behind an estimate change when the server analyses the table


def _estimate(db, where: str, params: list[object]) -> int:
    """How many tickets the PostgreSQL server expects the filter to match: its planner's estimate
    (from the table's statistics, without reading the rows), kept a few seconds per connection."""
    cache: dict | None = getattr(db.conn, "queue_estimates", None)
    if cache is None:
        cache = db.conn.queue_estimates = {}
    key = (where, tuple(params))
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and now - hit[0] < ESTIMATE_TTL_S:
        return hit[1]
    plan = db.conn.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM tickets t{where}", params).fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    if len(cache) > 64:
        cache.clear()
    cache[key] = (now, int(plan[0]["Plan"]["Plan Rows"]))
    return cache[key][1]


def queue_count(db: sqlite_utils.Database, flt: QueueFilter) -> int:
    where, params = _where(flt, is_postgres(db))
    return db.conn.execute(f"SELECT COUNT(*) FROM tickets t{where}", params).fetchone()[0]


def has_any(db: sqlite_utils.Database) -> bool:
    """Whether the database holds any ticket at all (a first run has none)."""
    return db.conn.execute("SELECT 1 FROM tickets LIMIT 1").fetchone() is not None


def queue_total(db: sqlite_utils.Database, flt: QueueFilter, *, exact_up_to: int) -> tuple[int, bool]:
    """The number of tickets the filter matches, and whether it is exact.

    On a desk's file it is always counted. On a team server counting means reading every matching
    row (600,000 of a million-ticket queue, at every refresh of every desk), so beyond ``exact_up_to``
    it is the server's estimate, which its statistics keep within a few per cent.
    """
    if not is_postgres(db):
        return queue_count(db, flt), True
    where, params = _where(flt, True)
    estimate = _estimate(db, where, params)
    if estimate > exact_up_to:
        return estimate, False
    bound = exact_up_to * 10  # the estimate was far off: stop counting, and say so
    n = db.conn.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM tickets t{where} LIMIT ?) m",
                        [*params, bound + 1]).fetchone()[0]
    return (n, True) if n <= bound else (n, False)


def languages(db: sqlite_utils.Database) -> list[str]:
    return [r[0] for r in db.conn.execute("SELECT DISTINCT language FROM tickets ORDER BY language")]


# -- one ticket --------------------------------------------------------------------------
@dataclass(frozen=True)
class Message:
    id: int
    ticket_id: int
    direction: str
    author: str
    body_text: str
    body_html: str | None
    created_at: str
    notes: tuple[str, ...] = ()  # what was done to show it safely (formatting simplified, characters replaced)

    @property
    def analysed_text(self) -> str:
        """The start of the body that analysis reads: a 10 MB message costs no more than a long one."""
        return self.body_text[:ANALYSED_CHARS]


@dataclass(frozen=True)
class TicketFlag:
    kind: str
    reason: str
    source: str  # "rules" (offline triage) or "model"


@dataclass(frozen=True)
class Ticket:
    id: int
    subject: str
    status: str
    priority: int
    channel: str
    language: str
    assignee: str | None
    sla_due_at: str | None
    tags: tuple[str, ...]
    topic: str | None
    created_at: str
    updated_at: str
    customer_id: int | None
    customer_name: str
    customer_email: str | None
    messages: tuple[Message, ...] = field(default=())
    flags: tuple[TicketFlag, ...] = ()
    sentiment: str | None = None

    @property
    def priority_name(self) -> str:
        return PRIORITIES[self.priority]

    @property
    def first_name(self) -> str:
        """The customer's first name, or "" when we only know an address."""
        words = self.customer_name.split()
        return words[0] if words and "@" not in words[0] else ""

    def inbound_text(self) -> str:
        """Everything the customer wrote, oldest first (the text triage and search read; each message
        up to :data:`ANALYSED_CHARS`)."""
        return "\n\n".join(m.analysed_text for m in self.messages if m.direction == "inbound")

    def last_inbound(self) -> Message | None:
        inbound = [m for m in self.messages if m.direction == "inbound"]
        return inbound[-1] if inbound else None


def get_ticket(db: sqlite_utils.Database, ticket_id: int) -> Ticket:
    row = db.conn.execute(
        "SELECT t.id, t.subject, t.status, t.priority, t.channel, t.language, t.assignee, t.sla_due_at, "
        "t.tags, t.topic, t.created_at, t.updated_at, t.customer_id, COALESCE(c.name, ''), c.email, t.sentiment "
        "FROM tickets t LEFT JOIN customers c ON c.id = t.customer_id WHERE t.id = ?",
        (ticket_id,),
    ).fetchone()
    if row is None:
        raise NotFoundError(f"Ticket #{ticket_id} does not exist.")
    msgs = tuple(
        Message(*m[:7], notes=tuple(json.loads(m[7])) if m[7] else ())
        for m in db.conn.execute(
            "SELECT id, ticket_id, direction, author, body_text, body_html, created_at, notes FROM messages "
            "WHERE ticket_id = ? ORDER BY created_at, id",
            (ticket_id,),
        )
    )
    flags = tuple(TicketFlag(*f) for f in db.conn.execute(
        "SELECT kind, reason, source FROM ticket_flags WHERE ticket_id = ? ORDER BY kind, source", (ticket_id,)))
    return Ticket(*row[:8], tuple(json.loads(row[8] or "[]")), *row[9:15], messages=msgs, flags=flags,
                  sentiment=row[15])


# -- changes ---------------------------------------------------------------------------
def upsert_customer(db: sqlite_utils.Database, *, name: str, email: str | None, language: str | None) -> int:
    if email:
        found = db.conn.execute("SELECT id FROM customers WHERE email = ?", (email,)).fetchone()
        if found:
            return found[0]
    cur = db.conn.execute(
        "INSERT INTO customers (name, email, language, created_at) VALUES (?, ?, ?, ?)",
        ((name or "").strip(), email, language, now_iso()),
    )
    return cur.lastrowid


@dataclass(frozen=True)
class CleanBody:
    """A message body made safe to store and show: build it before the write transaction opens
    (sanitizing hostile HTML is the slow part, and nobody else may write meanwhile)."""
    text: str
    html: str | None
    notes: tuple[str, ...] = ()


def clean_body(body_text: str | None, body_html: str | None, notes: Iterable[str] = ()) -> CleanBody:
    """Sanitized HTML, the text, and notes saying what had to be simplified or replaced."""
    found = list(notes)
    safe_html = None
    if body_html:
        body_html, bad_html = replace_lone_surrogates(body_html)
        cleaned = clean_html(body_html)
        safe_html = cleaned.html
        if cleaned.notice:
            found.append(cleaned.notice)
        if bad_html:
            found.append(NOTICE_BAD_CHARACTERS)
    text = body_text if body_text is not None else (html_to_text(body_html) if body_html else "")
    text, bad_text = replace_lone_surrogates(text)
    if bad_text:
        found.append(NOTICE_BAD_CHARACTERS)
    return CleanBody(text, safe_html, tuple(dict.fromkeys(found)))


def storable(text: str | None) -> str | None:
    """A name, subject or address that SQLite can store: lone surrogates become U+FFFD."""
    return None if text is None else replace_lone_surrogates(text)[0]


def _insert_inbound(db: sqlite_utils.Database, ticket_id: int, author: str | None, body: CleanBody,
                    created: str):
    if not body.notes:  # the notes column is named only when there are notes
        return db.conn.execute(
            "INSERT INTO messages (ticket_id, direction, author, body_text, body_html, created_at) "
            "VALUES (?, 'inbound', ?, ?, ?, ?)", (ticket_id, author, body.text, body.html, created))
    return db.conn.execute(
        "INSERT INTO messages (ticket_id, direction, author, body_text, body_html, created_at, notes) "
        "VALUES (?, 'inbound', ?, ?, ?, ?, ?)",
        (ticket_id, author, body.text, body.html, created, json.dumps(list(body.notes), ensure_ascii=False)))


def create_ticket(store: Store, *, actor: str, customer_name: str, customer_email: str | None,
                  subject: str, body_text: str | None, body_html: str | None = None,
                  language: str | None = None, priority: str = "normal", channel: str = "email",
                  tags: Iterable[str] = (), topic: str | None = None,
                  created_at: str | None = None, body: CleanBody | None = None) -> int:
    """A new inbound ticket with its first message (how channels hand tickets in).

    Without a ``language`` it is detected offline from the subject and text (English when unsure).
    A caller that holds a write transaction already passes ``body`` (:func:`clean_body`, built
    before its transaction opened); otherwise the body is cleaned here, before the lock is taken.
    """
    rank = priority_rank(priority)
    created = created_at or now_iso()
    body = body or clean_body(body_text, body_html)
    text = body.text
    customer_name, customer_email, subject = storable(customer_name), storable(customer_email), storable(subject)
    if not language:
        from agent_assist.language import detect

        language = detect(f"{subject}\n{text}") or "en"
    with store.transaction() as db:
        customer_id = upsert_customer(db, name=customer_name, email=customer_email, language=language)
        cur = db.conn.execute(
            "INSERT INTO tickets (customer_id, subject, status, priority, channel, language, assignee, "
            "sla_due_at, tags, topic, created_at, updated_at) VALUES (?, ?, 'new', ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
            (customer_id, subject.strip() or "(no subject)", rank, channel, language,
             to_iso(parse_iso(created) + SLA_TARGETS[rank]), json.dumps(sorted(set(tags))), topic,
             created, created),
        )
        ticket_id = cur.lastrowid
        _insert_inbound(db, ticket_id, customer_name, body, created)
        audit.record(db, actor=actor, action="ticket.created", ticket_id=ticket_id, channel=channel)
    return ticket_id


def add_inbound_message(store: Store, ticket_id: int, *, actor: str, author: str,
                        body_text: str | None, body_html: str | None = None, body: CleanBody | None = None) -> int:
    """A customer wrote again: append it and reopen the ticket if it was waiting or solved.

    ``body`` as for :func:`create_ticket`: cleaned before any write transaction opens.
    """
    body = body or clean_body(body_text, body_html)
    author = storable(author)
    now = now_iso()
    with store.transaction() as db:
        status = _status_of(db, ticket_id)
        cur = _insert_inbound(db, ticket_id, author, body, now)
        new_status = "open" if status in ("pending", "solved", "closed") else status
        db.conn.execute("UPDATE tickets SET status = ?, updated_at = ? WHERE id = ?", (new_status, now, ticket_id))
        audit.record(db, actor=actor, action="message.received", ticket_id=ticket_id,
                     message_id=cur.lastrowid, status_before=status, status_after=new_status)
    return cur.lastrowid


def _status_of(db: sqlite_utils.Database, ticket_id: int) -> str:
    row = db.conn.execute("SELECT status FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"Ticket #{ticket_id} does not exist.")
    return row[0]


def set_status(store: Store, ticket_id: int, status: str, *, actor: str) -> None:
    if status not in STATUSES:
        raise InvalidTransitionError(f"Unknown status {status!r}.")
    with store.transaction() as db:
        before = _status_of(db, ticket_id)
        if before == status:
            return
        db.conn.execute("UPDATE tickets SET status = ?, updated_at = ? WHERE id = ?", (status, now_iso(), ticket_id))
        audit.record(db, actor=actor, action="ticket.status", ticket_id=ticket_id, before=before, after=status)


def assign(store: Store, ticket_id: int, assignee: str | None, *, actor: str) -> None:
    with store.transaction() as db:
        row = db.conn.execute("SELECT assignee, status FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"Ticket #{ticket_id} does not exist.")
        before, status = row
        if before == assignee:
            return
        new_status = "open" if (status == "new" and assignee) else status
        db.conn.execute(
            "UPDATE tickets SET assignee = ?, status = ?, updated_at = ? WHERE id = ?",
            (assignee, new_status, now_iso(), ticket_id),
        )
        audit.record(db, actor=actor, action="ticket.assigned", ticket_id=ticket_id, before=before, after=assignee)




def customer_history_ids(db: sqlite_utils.Database, ticket: Ticket, limit: int) -> list[int]:
    """The customer's most recent other tickets, newest first (what triage reads for repeat contact)."""
    return [tid for (tid,) in db.conn.execute(
        "SELECT id FROM tickets WHERE customer_id = ? AND id != ? ORDER BY created_at DESC LIMIT ?",
        (ticket.customer_id, ticket.id, limit))]


def all_ticket_ids(db: sqlite_utils.Database) -> list[int]:
    return [tid for (tid,) in db.conn.execute("SELECT id FROM tickets ORDER BY id")]


def set_triage(store: Store, ticket_id: int, flags: Iterable[tuple[str, str]], *, sentiment: str | None,
               source: str = "rules", actor: str = "triage") -> None:
    """Record what triage found (kind, reason) from one source, replacing that source's earlier findings."""
    found = {kind: reason for kind, reason in flags}
    now = now_iso()
    with store.transaction() as db:
        before_rows = dict(db.conn.execute(
            "SELECT kind, reason FROM ticket_flags WHERE ticket_id = ? AND source = ?", (ticket_id, source)))
        row = db.conn.execute("SELECT sentiment FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"Ticket #{ticket_id} does not exist.")
        if before_rows == found and (sentiment is None or row[0] == sentiment):
            return  # nothing new: no write
        before = set(before_rows)
        removed = before - set(found)
        if removed and is_postgres(db) and getattr(store, "role", None) != "supervisor":
            # a flag that carries a rule stays until a supervisor clears it (the server insists)
            ruled = {k for (k,) in db.conn.execute("SELECT flag FROM rules WHERE action != 'none'")}
            removed -= ruled
        # only what changed: a flag that stays keeps its row (and its time)
        db.conn.executemany("DELETE FROM ticket_flags WHERE ticket_id = ? AND source = ? AND kind = ?",
                            [(ticket_id, source, kind) for kind in sorted(removed)])
        db.conn.executemany("UPDATE ticket_flags SET reason = ? WHERE ticket_id = ? AND source = ? AND kind = ?",
                            [(reason, ticket_id, source, kind) for kind, reason in found.items()
                             if kind in before_rows and before_rows[kind] != reason])
        db.conn.executemany(
            "INSERT INTO ticket_flags (ticket_id, kind, reason, source, created_at) VALUES (?, ?, ?, ?, ?)",
            [(ticket_id, kind, reason, source, now) for kind, reason in found.items() if kind not in before_rows])
        kinds = sorted({k for (k,) in db.conn.execute("SELECT kind FROM ticket_flags WHERE ticket_id = ?",
                                                       (ticket_id,))})
        db.conn.execute("UPDATE tickets SET flags = ?, sentiment = COALESCE(?, sentiment) WHERE id = ?",
                        (json.dumps(kinds), sentiment, ticket_id))
        if set(found) != before:
            audit.record(db, actor=actor, action="ticket.triaged", ticket_id=ticket_id, source=source,
                         flags=sorted(found), sentiment=sentiment)
