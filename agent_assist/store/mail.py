"""The e-mail channel's rows: the outbox, the IMAP sync ledger, threading look-ups and attachments.

The channel (:mod:`agent_assist.channels.email`) speaks IMAP, SMTP and MIME; every statement on its
tables is here, so it hands this module plain data and gets plain data back, on either backend.
Reads take a store's ``db``; writes take the store and join the caller's transaction
(``store.transaction()`` nests).

Where the backends differ:

* a claim on an outgoing e-mail is one conditional update whose row count says who won. On
  PostgreSQL the row is picked with ``FOR UPDATE SKIP LOCKED`` first, so a desk never waits on a row
  another desk is claiming at that moment: it simply did not win it;
* "the claim is still what was read" is ``IS`` on SQLite, ``IS NOT DISTINCT FROM`` on PostgreSQL;
  the high-water mark of a folder ``MAX(a, b)`` / ``GREATEST(a, b)``;
* on a team server the audit rows of these tables are written by the server's triggers (team
  migration 004), as the signed-in person; :func:`agent_assist.store.audit.record` is then a no-op.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from agent_assist.store import audit
from agent_assist.store.backend import is_postgres
from agent_assist.store.errors import NotFoundError


# -- the outbox ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OutboxItem:
    id: int
    mailbox: str
    ticket_id: int
    message_row: int
    message_id: str
    state: str
    attempts: int
    last_error: str | None
    next_attempt_at: str | None
    rcpt_to: tuple[str, ...]
    created_at: str
    updated_at: str
    sent_at: str | None
    filed: str | None
    smtp_reply: str | None


_OUTBOX_COLUMNS = ("id, mailbox, ticket_id, message_row, message_id, state, attempts, last_error, next_attempt_at, "
                   "rcpt_to, created_at, updated_at, sent_at, filed, smtp_reply")


def _item(row: Sequence[Any]) -> OutboxItem:
    values = list(row)
    values[9] = tuple(json.loads(values[9] or "[]"))
    return OutboxItem(*values)


def outbox_item(db, outbox_id: int) -> OutboxItem:
    row = db.conn.execute(f"SELECT {_OUTBOX_COLUMNS} FROM email_outbox WHERE id = ?", (outbox_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"Outgoing e-mail {outbox_id} does not exist.")
    return _item(row)


def outbox_for_ticket(db, ticket_id: int) -> list[OutboxItem]:
    return [_item(r) for r in db.conn.execute(
        f"SELECT {_OUTBOX_COLUMNS} FROM email_outbox WHERE ticket_id = ? ORDER BY id", (ticket_id,))]


def outbox_for_message(db, message_row: int) -> OutboxItem | None:
    row = db.conn.execute(f"SELECT {_OUTBOX_COLUMNS} FROM email_outbox WHERE message_row = ?",
                          (message_row,)).fetchone()
    return _item(row) if row else None


def outbox_needing_attention(db) -> list[OutboxItem]:
    return [_item(r) for r in db.conn.execute(
        f"SELECT {_OUTBOX_COLUMNS} FROM email_outbox WHERE state IN ('failed', 'unknown') ORDER BY id")]


def outbox_counts(db) -> dict[str, int]:
    return {s: n for s, n in db.conn.execute("SELECT state, COUNT(*) FROM email_outbox GROUP BY state")}


def outbox_raw(db, outbox_id: int) -> bytes:
    """The message exactly as it goes on the wire."""
    row = db.conn.execute("SELECT raw FROM email_outbox WHERE id = ?", (outbox_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"Outgoing e-mail {outbox_id} does not exist.")
    return bytes(row[0])


@dataclass(frozen=True)
class ReplySource:
    """What an outbound thread message needs to become an e-mail."""
    ticket_id: int
    direction: str
    body: str
    ticket_subject: str | None
    customer_id: int | None
    customer_email: str | None


def reply_source(db, message_row: int) -> ReplySource:
    row = db.conn.execute(
        "SELECT m.ticket_id, m.direction, m.body_text, t.subject, t.customer_id, cu.email FROM messages m "
        "JOIN tickets t ON t.id = m.ticket_id LEFT JOIN customers cu ON cu.id = t.customer_id WHERE m.id = ?",
        (message_row,)).fetchone()
    if row is None:
        raise NotFoundError(f"Message {message_row} does not exist.")
    return ReplySource(*row)


@dataclass(frozen=True)
class ThreadParent:
    """The newest inbound e-mail of a ticket: what a reply answers."""
    message_id: str
    refs: str | None
    subject: str | None


def last_inbound_email(db, ticket_id: int) -> ThreadParent | None:
    row = db.conn.execute(
        "SELECT message_id, refs, subject FROM email_messages WHERE ticket_id = ? AND direction = 'inbound' "
        "ORDER BY id DESC LIMIT 1", (ticket_id,)).fetchone()
    return ThreadParent(*row) if row else None


@dataclass(frozen=True)
class NewReply:
    """An outgoing e-mail, complete, as :func:`queue_reply` writes it."""
    mailbox: str
    ticket_id: int
    message_row: int
    message_id: str
    in_reply_to: str | None
    refs: str | None
    mail_from: str
    rcpt_to: tuple[str, ...]
    raw: bytes
    customer_id: int | None
    subject: str
    subject_norm: str
    at: str


def queue_reply(store, reply: NewReply, *, actor: str, to: Sequence[str], cc: Sequence[str]) -> int:
    """Write the outbox row and register its Message-ID (so the answer threads back); returns the outbox
    id, the existing one when this thread message was queued before."""
    with store.transaction() as db:
        c = db.conn
        existing = c.execute("SELECT id FROM email_outbox WHERE message_row = ?", (reply.message_row,)).fetchone()
        if existing:
            return existing[0]
        cur = c.execute(
            "INSERT INTO email_outbox (mailbox, ticket_id, message_row, message_id, in_reply_to, refs, mail_from, "
            "rcpt_to, raw, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
            (reply.mailbox, reply.ticket_id, reply.message_row, reply.message_id, reply.in_reply_to, reply.refs,
             reply.mail_from, json.dumps(list(reply.rcpt_to)), reply.raw, reply.at, reply.at))
        outbox_id = cur.lastrowid
        c.execute(
            "INSERT INTO email_messages (message_id, direction, ticket_id, message_row, customer_id, subject, "
            "subject_norm, from_addr, in_reply_to, refs, size, created_at) "
            "VALUES (?, 'outbound', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (reply.message_id, reply.ticket_id, reply.message_row, reply.customer_id, reply.subject,
             reply.subject_norm, reply.mail_from.lower(), reply.in_reply_to, reply.refs, len(reply.raw), reply.at))
        audit.record(db, actor=actor, action="email.queued", ticket_id=reply.ticket_id, outbox_id=outbox_id,
                     message_row=reply.message_row, email_message_id=reply.message_id, to=list(to), cc=list(cc))
    return outbox_id


def decide_outbox(store, outbox_id: int, *, expect: str, state: str, at: str, action: str, actor: str,
                  **details: Any) -> OutboxItem | None:
    """A person's decision on a reply waiting for one (``expect`` -> ``state``). Returns the row as it was,
    or None when it was no longer ``expect`` (nothing written)."""
    with store.transaction() as db:
        item = outbox_item(db, outbox_id)
        if item.state != expect:
            return None
        sent_at = ", sent_at = ?" if state == "sent" else ""
        cur = db.conn.execute(
            f"UPDATE email_outbox SET state = ?, next_attempt_at = NULL, updated_at = ?{sent_at} "
            "WHERE id = ? AND state = ?",
            (state, at, *((at,) if sent_at else ()), outbox_id, expect))
        if cur.rowcount != 1:
            return None
        audit.record(db, actor=actor, action=action, ticket_id=item.ticket_id, outbox_id=outbox_id, **details)
    return item


# -- delivery: claims ---------------------------------------------------------------------------------
@dataclass
class DueRow:
    """An outbox row a sender may have to work on, as read (the claim columns as they were then)."""
    id: int
    ticket_id: int
    message_id: str
    mail_from: str
    rcpt_to: list[str]
    raw: bytes
    state: str
    attempts: int
    updated_at: str
    filed: str | None
    claimed_by: str | None
    claimed_at: str | None


def due_rows(db, mailbox: str, now: str, limit: int) -> list[DueRow]:
    """Rows to send (due), in flight (perhaps a dead sender's) or sent and not yet filed, oldest first."""
    rows = db.conn.execute(
        "SELECT id, ticket_id, message_id, mail_from, rcpt_to, raw, state, attempts, updated_at, filed, claimed_by, "
        "claimed_at FROM email_outbox WHERE mailbox = ? AND ("
        " (state = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= ?))"
        " OR state IN ('sending', 'committing')"
        " OR (state = 'sent' AND filed IS NULL)"
        ") ORDER BY id LIMIT ?", (mailbox, now, limit)).fetchall()
    return [DueRow(r[0], r[1], r[2], r[3], json.loads(r[4]), bytes(r[5]), r[6], r[7], r[8], r[9], r[10], r[11])
            for r in rows]


def _claim_update(db, assignments: str, params: Sequence[Any], condition: str, cond_params: Sequence[Any],
                  outbox_id: int) -> bool:
    if is_postgres(db):
        # the row another desk is claiming right now is skipped, not waited for: that desk wins it
        cur = db.conn.execute(
            f"UPDATE email_outbox SET {assignments} WHERE id = (SELECT id FROM email_outbox WHERE id = ? "
            f"AND {condition} FOR UPDATE SKIP LOCKED) RETURNING id",
            (*params, outbox_id, *cond_params))
        return cur.fetchone() is not None
    cur = db.conn.execute(f"UPDATE email_outbox SET {assignments} WHERE id = ? AND {condition}",
                          (*params, outbox_id, *cond_params))
    return cur.rowcount == 1


def claim_queued(store, outbox_id: int, *, claimant: str, at: str, due: str) -> bool:
    """Take a queued row that is due (the due time again: a row retried meanwhile waits its turn) and
    mark it ``sending``. True when this claimant won it."""
    with store.transaction() as db:
        return _claim_update(db, "state = 'sending', claimed_by = ?, claimed_at = ?, updated_at = ?",
                             (claimant, at, at),
                             "state = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)", (due,),
                             outbox_id)


def take_over(store, outbox_id: int, *, claimant: str, at: str, state: str, claimed_by: str | None,
              claimed_at: str | None) -> bool:
    """Take a row in flight that is free or a dead sender's, only if nobody took it since it was read
    (``updated_at`` is left alone: a committing row's grace period counts from the final '.')."""
    with store.transaction() as db:
        same = "IS NOT DISTINCT FROM" if is_postgres(db) else "IS"
        return _claim_update(db, "claimed_by = ?, claimed_at = ?", (claimant, at),
                             f"state = ? AND claimed_by {same} ? AND claimed_at {same} ?",
                             (state, claimed_by, claimed_at), outbox_id)


_STEP_COLUMNS = frozenset({"state", "attempts", "last_error", "next_attempt_at", "filed", "updated_at",
                           "claimed_at"})


def write_claimed(store, outbox_id: int, claim: str, *, durable: bool = False, **values: Any) -> bool:
    """Write a step of a row ``claim`` holds; False (nothing written) when the claim is no longer its."""
    unknown = set(values) - _STEP_COLUMNS
    if unknown:
        raise ValueError(f"not an outbox step column: {sorted(unknown)}")
    cols = ", ".join(f"{k} = ?" for k in values)
    with store.transaction(durable=durable) as db:
        cur = db.conn.execute(f"UPDATE email_outbox SET {cols} WHERE id = ? AND claimed_by = ?",
                              (*values.values(), outbox_id, claim))
        return cur.rowcount == 1


def release(store, outbox_id: int, claim: str) -> None:
    """The row's turn is over: any sender may take it next (a no-op if the claim was lost)."""
    with store.transaction() as db:
        db.conn.execute("UPDATE email_outbox SET claimed_by = NULL, claimed_at = NULL "
                        "WHERE id = ? AND claimed_by = ?", (outbox_id, claim))


def claimed_by(db, outbox_id: int) -> str | None:
    row = db.conn.execute("SELECT claimed_by FROM email_outbox WHERE id = ?", (outbox_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"Outgoing e-mail {outbox_id} does not exist.")
    return row[0]


def mark_sent(store, outbox_id: int, *, at: str, reply: str | None, filed: str | None, actor: str,
              ticket_id: int, message_id: str, attempts: int, recovered: bool) -> None:
    """Record that the server accepted it, whoever holds the row now (durable: never sent again)."""
    with store.transaction(durable=True) as db:
        db.conn.execute("UPDATE email_outbox SET state = 'sent', sent_at = ?, updated_at = ?, smtp_reply = "
                        "COALESCE(?, smtp_reply), filed = COALESCE(?, filed), last_error = NULL WHERE id = ?",
                        (at, at, reply, filed, outbox_id))
        audit.record(db, actor=actor, action="email.sent", ticket_id=ticket_id, outbox_id=outbox_id,
                     email_message_id=message_id, attempts=attempts, recovered=recovered)


def record_outcome(store, *, actor: str, action: str, ticket_id: int, outbox_id: int, **details: Any) -> None:
    """The audit row of a delivery outcome (``email.failed``, ``email.unknown``)."""
    with store.transaction() as db:
        audit.record(db, actor=actor, action=action, ticket_id=ticket_id, outbox_id=outbox_id, **details)


# -- the IMAP sync ledger -----------------------------------------------------------------------------
@dataclass(frozen=True)
class FolderStart:
    last_uid: int  # the highest UID handled under the folder's current UIDVALIDITY (0: read it all)
    uidvalidity_before: int | None  # None: the folder is new; differs from the current one: renumbered


def start_folder(store, mailbox: str, folder: str, uidvalidity: int) -> FolderStart:
    """Where a sync of this folder starts; a new folder is registered, a renumbered one starts again."""
    with store.transaction() as db:
        row = db.conn.execute("SELECT uidvalidity, last_uid FROM email_sync_state WHERE mailbox = ? AND folder = ?",
                              (mailbox, folder)).fetchone()
        if row is None:
            db.conn.execute("INSERT INTO email_sync_state (mailbox, folder, uidvalidity, last_uid) "
                            "VALUES (?, ?, ?, 0)", (mailbox, folder, uidvalidity))
            return FolderStart(0, None)
        if row[0] != uidvalidity:
            db.conn.execute("UPDATE email_sync_state SET uidvalidity = ?, last_uid = 0 "
                            "WHERE mailbox = ? AND folder = ?", (uidvalidity, mailbox, folder))
            return FolderStart(0, row[0])
        return FolderStart(row[1], row[0])


def folder_synced(store, mailbox: str, folder: str, at: str) -> None:
    with store.transaction() as db:
        db.conn.execute("UPDATE email_sync_state SET last_sync_at = ? WHERE mailbox = ? AND folder = ?",
                        (at, mailbox, folder))


def uid_handled(db, mailbox: str, folder: str, uidvalidity: int, uid: int) -> bool:
    return db.conn.execute("SELECT 1 FROM email_uids WHERE mailbox = ? AND folder = ? AND uidvalidity = ? "
                           "AND uid = ?", (mailbox, folder, uidvalidity, uid)).fetchone() is not None


def record_uid(store, mailbox: str, folder: str, uidvalidity: int, uid: int, *, outcome: str, reason: str | None,
               email_message: int | None, at: str) -> None:
    with store.transaction() as db:
        db.conn.execute("INSERT INTO email_uids (mailbox, folder, uidvalidity, uid, outcome, reason, email_message, "
                        "at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (mailbox, folder, uidvalidity, uid, outcome, reason, email_message, at))


def advance_folder(store, mailbox: str, folder: str, uidvalidity: int, high: int) -> None:
    """The high-water mark moves up to ``high`` (never down), under the same UIDVALIDITY only."""
    with store.transaction() as db:
        greatest = "GREATEST" if is_postgres(db) else "MAX"
        db.conn.execute(f"UPDATE email_sync_state SET last_uid = {greatest}(last_uid, ?) WHERE mailbox = ? "
                        "AND folder = ? AND uidvalidity = ?", (high, mailbox, folder, uidvalidity))


def skipped_uids(db, mailbox: str, folder: str) -> list[tuple[int, int, str]]:
    return [(r[0], r[1], r[2]) for r in db.conn.execute(
        "SELECT uidvalidity, uid, reason FROM email_uids WHERE mailbox = ? AND folder = ? AND outcome = 'skipped' "
        "ORDER BY uidvalidity, uid", (mailbox, folder))]


@contextlib.contextmanager
def savepoint(store, name: str = "email_message") -> Iterator[None]:
    """A part of the open write transaction that is undone alone when it raises (one message of a batch)."""
    with store.transaction() as db:
        db.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            db.conn.execute(f"ROLLBACK TO {name}")
            db.conn.execute(f"RELEASE {name}")
            raise
        db.conn.execute(f"RELEASE {name}")


# -- inbound messages and threading -------------------------------------------------------------------
def known_message(db, message_id: str) -> tuple[int, int | None] | None:
    """(``email_messages.id``, ticket) of a Message-ID seen before, inbound or one of our replies."""
    row = db.conn.execute("SELECT id, ticket_id FROM email_messages WHERE message_id = ?", (message_id,)).fetchone()
    return (row[0], row[1]) if row else None


def ticket_of_message_id(db, message_id: str) -> int | None:
    """The ticket of a known Message-ID, when that ticket still exists."""
    row = db.conn.execute(
        "SELECT em.ticket_id FROM email_messages em JOIN tickets t ON t.id = em.ticket_id "
        "WHERE em.message_id = ?", (message_id,)).fetchone()
    return row[0] if row else None


def ticket_by_subject(db, customer_id: int, subject_norm: str, since: str) -> int | None:
    """The newest ticket this customer wrote to under this normalised subject since ``since``."""
    row = db.conn.execute(
        "SELECT em.ticket_id FROM email_messages em JOIN tickets t ON t.id = em.ticket_id "
        "WHERE em.customer_id = ? AND em.subject_norm = ? AND em.created_at >= ? "
        "ORDER BY em.id DESC LIMIT 1", (customer_id, subject_norm, since)).fetchone()
    return row[0] if row else None


def customer_by_address(db, address: str) -> int | None:
    # addresses are kept lower-case by the channel; an exact match uses the unique index
    row = db.conn.execute("SELECT id FROM customers WHERE email = ?", (address.lower(),)).fetchone()
    return row[0] if row else None


def first_message(db, ticket_id: int) -> tuple[int, int | None]:
    """(first thread message, customer) of a ticket just created."""
    row = db.conn.execute(
        "SELECT m.id, t.customer_id FROM tickets t JOIN messages m ON m.ticket_id = t.id WHERE t.id = ? "
        "ORDER BY m.id LIMIT 1", (ticket_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"Ticket {ticket_id} has no message.")
    return row[0], row[1]


@dataclass(frozen=True)
class NewAttachment:
    filename: str
    content_type: str
    size: int
    data: bytes | None  # None: not kept (``note`` says why)
    content_id: str | None
    inline: bool
    risky: bool
    note: str | None
    sha256: str | None = None  # of ``data``


@dataclass(frozen=True)
class InboundMail:
    message_id: str
    ticket_id: int
    message_row: int
    customer_id: int | None
    subject: str
    subject_norm: str
    from_addr: str | None
    reply_to: str | None
    in_reply_to: str | None
    refs: str | None
    date_header: str | None
    received_at: str | None
    size: int | None
    notes: tuple[str, ...]
    at: str
    attachments: tuple[NewAttachment, ...] = ()


def file_inbound(store, mail: InboundMail) -> int:
    """Register an inbound e-mail filed as thread message ``mail.message_row``, with its attachments
    (identical files stored once); returns its ``email_messages.id``."""
    with store.transaction() as db:
        c = db.conn
        cur = c.execute(
            "INSERT INTO email_messages (message_id, direction, ticket_id, message_row, customer_id, subject, "
            "subject_norm, from_addr, reply_to, in_reply_to, refs, date_header, received_at, size, notes, created_at) "
            "VALUES (?, 'inbound', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (mail.message_id, mail.ticket_id, mail.message_row, mail.customer_id, mail.subject, mail.subject_norm,
             mail.from_addr, mail.reply_to, mail.in_reply_to, mail.refs, mail.date_header, mail.received_at,
             mail.size, json.dumps(list(mail.notes), ensure_ascii=False), mail.at))
        email_message = cur.lastrowid
        for position, att in enumerate(mail.attachments, start=1):
            if att.data and att.sha256:
                c.execute("INSERT OR IGNORE INTO email_blobs (sha256, size, data) VALUES (?, ?, ?)",
                          (att.sha256, len(att.data), att.data))
            c.execute(
                "INSERT INTO email_attachments (email_message, message_row, position, filename, content_type, size, "
                "sha256, content_id, inline, risky, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (email_message, mail.message_row, position, att.filename, att.content_type, att.size,
                 att.sha256 if att.data else None, att.content_id, int(att.inline), int(att.risky), att.note))
    return email_message


# -- attachments and notes, for the UI ----------------------------------------------------------------
@dataclass(frozen=True)
class AttachmentRow:
    id: int
    message_row: int | None
    filename: str
    content_type: str
    size: int
    inline: bool
    risky: bool
    content_id: str | None
    note: str | None  # why it was not kept (too large, refused), or None
    position: int

    @property
    def kept(self) -> bool:
        return self.note is None


_ATT_COLUMNS = ("id", "message_row", "filename", "content_type", "size", "inline", "risky", "content_id", "note",
                "position")


def _att(row: Sequence[Any]) -> AttachmentRow:
    return AttachmentRow(row[0], row[1], row[2], row[3], row[4], bool(row[5]), bool(row[6]), row[7], row[8], row[9])


def attachments_of_message(db, message_row: int, *, include_inline: bool = True) -> list[AttachmentRow]:
    """The attachments of one thread message (``messages.id``), in the order they came."""
    sql = f"SELECT {', '.join(_ATT_COLUMNS)} FROM email_attachments WHERE message_row = ?"
    if not include_inline:
        sql += " AND inline = 0"
    return [_att(r) for r in db.conn.execute(sql + " ORDER BY position", (message_row,))]


def attachments_of_ticket(db, ticket_id: int) -> list[AttachmentRow]:
    return [_att(r) for r in db.conn.execute(
        f"SELECT {', '.join('a.' + c for c in _ATT_COLUMNS)} FROM email_attachments a "
        "JOIN messages m ON m.id = a.message_row WHERE m.ticket_id = ? ORDER BY m.created_at, m.id, a.position",
        (ticket_id,))]


def attachment(db, attachment_id: int) -> AttachmentRow:
    row = db.conn.execute(f"SELECT {', '.join(_ATT_COLUMNS)} FROM email_attachments WHERE id = ?",
                          (attachment_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"Attachment {attachment_id} does not exist.")
    return _att(row)


def attachment_data(db, attachment_id: int) -> bytes:
    row = db.conn.execute(
        "SELECT b.data, a.note FROM email_attachments a LEFT JOIN email_blobs b ON b.sha256 = a.sha256 "
        "WHERE a.id = ?", (attachment_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"Attachment {attachment_id} does not exist.")
    if row[0] is None:
        raise NotFoundError(f"This attachment was not kept ({row[1] or 'no content'}).")
    return bytes(row[0])


def inline_part(db, message_row: int, content_id: str) -> tuple[str, bytes] | None:
    """(content type, bytes) of the kept part of this message with this Content-ID."""
    row = db.conn.execute(
        "SELECT a.content_type, b.data FROM email_attachments a JOIN email_blobs b ON b.sha256 = a.sha256 "
        "WHERE a.message_row = ? AND a.content_id = ? ORDER BY a.position LIMIT 1",
        (message_row, content_id)).fetchone()
    return (row[0], bytes(row[1])) if row else None


def message_notes(db, message_row: int) -> list[str]:
    """What was done to show this message safely (empty for a clean message or a non-e-mail one)."""
    row = db.conn.execute("SELECT notes FROM email_messages WHERE message_row = ?", (message_row,)).fetchone()
    return json.loads(row[0]) if row and row[0] else []


def ticket_channel_of_draft(db, draft_id: int) -> str:
    row = db.conn.execute("SELECT t.channel FROM drafts d JOIN tickets t ON t.id = d.ticket_id WHERE d.id = ?",
                          (draft_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"Draft {draft_id} does not exist.")
    return row[0]
