"""Replies waiting to go out by e-mail, each written down before anything is sent.

:func:`enqueue_reply` turns an outbound thread message (what ``drafts.send`` returns) into an
outbox row holding the complete RFC 5322 message — its own Message-ID, In-Reply-To and
References so the customer's mail program threads it, the recipients — and registers the
Message-ID so the customer's answer threads back to the ticket. It only writes to the
database and joins the caller's transaction, so the UI can make "send" atomic::

    with store.transaction():
        message_row = drafts.send(store, draft_id, actor=me)
        outbox.enqueue_reply(store, message_row, mailbox=mailbox, actor=me)

Calling it again for the same message returns the same row (never a second e-mail).
:func:`agent_assist.channels.email.smtp_send.deliver_pending` then does the network part.

Row states::

    queued --claim--> sending --end of DATA about to be sent--> committing --250--> sent
       ^                 |                                          |   \\--4xx--> queued (retry later)
       |                 +--error before end of DATA--> queued      |    \\--5xx--> failed (a person decides)
       |                     (retry with backoff) or failed (5xx)   +--crash/drop--> (next run) Sent-folder check:
       |                                                                found -> sent; not found -> unknown or resend
       +---------------- requeue() / resolve_unknown(sent=False) by a person -----------------------------+
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formatdate

from agent_assist.channels.email.config import MailboxConfig
from agent_assist.channels.email.mime import valid_address
from agent_assist.channels.email.threading import normalize_subject, strip_prefixes
from agent_assist.store import audit
from agent_assist.store.database import Store
from agent_assist.store.errors import InvalidTransitionError, NotFoundError
from agent_assist.timefmt import now_iso

STATES = ("queued", "sending", "committing", "sent", "failed", "unknown")
MAX_REFERENCES = 20


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


_COLUMNS = ("id, mailbox, ticket_id, message_row, message_id, state, attempts, last_error, next_attempt_at, rcpt_to, "
            "created_at, updated_at, sent_at, filed, smtp_reply")


def _item(row) -> OutboxItem:
    values = list(row)
    values[9] = tuple(json.loads(values[9] or "[]"))
    return OutboxItem(*values)


def get(db, outbox_id: int) -> OutboxItem:
    row = db.conn.execute(f"SELECT {_COLUMNS} FROM email_outbox WHERE id = ?", (outbox_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"Outgoing e-mail {outbox_id} does not exist.")
    return _item(row)


def for_ticket(db, ticket_id: int) -> list[OutboxItem]:
    """Every reply of a ticket and how far it got (for a status line under each sent message)."""
    return [_item(r) for r in db.conn.execute(
        f"SELECT {_COLUMNS} FROM email_outbox WHERE ticket_id = ? ORDER BY id", (ticket_id,))]


def for_message(db, message_row: int) -> OutboxItem | None:
    row = db.conn.execute(f"SELECT {_COLUMNS} FROM email_outbox WHERE message_row = ?", (message_row,)).fetchone()
    return _item(row) if row else None


def needing_attention(db) -> list[OutboxItem]:
    """Replies a person has to look at: refused for good, or not known to have gone out."""
    return [_item(r) for r in db.conn.execute(
        f"SELECT {_COLUMNS} FROM email_outbox WHERE state IN ('failed', 'unknown') ORDER BY id")]


def counts(db) -> dict[str, int]:
    return {s: n for s, n in db.conn.execute("SELECT state, COUNT(*) FROM email_outbox GROUP BY state")}


def _one_line(text: str) -> str:
    return " ".join((text or "").replace("\r", " ").replace("\n", " ").split())


def _references(parent_refs: str | None, parent_id: str | None) -> list[str]:
    refs = (parent_refs or "").split()
    if parent_id:
        refs.append(parent_id)
    seen: list[str] = []
    for r in refs:
        if r not in seen:
            seen.append(r)
    if len(seen) > MAX_REFERENCES:  # keep the thread's first message and the newest ones (RFC 5322 3.6.4)
        seen = seen[:1] + seen[-(MAX_REFERENCES - 1):]
    return seen


def new_message_id(mailbox: MailboxConfig, ticket_id: int) -> str:
    """Unique and unguessable: knowing it is what lets a mail thread into a ticket by header."""
    domain = mailbox.sender_address.rpartition("@")[2].lower() or "agent-assist.invalid"
    return f"<aa.{ticket_id}.{secrets.token_hex(12)}@{domain}>"


def render(mailbox: MailboxConfig, *, to: Sequence[str], cc: Sequence[str], subject: str, body: str,
           message_id: str, in_reply_to: str | None, references: Sequence[str]) -> bytes:
    """The complete message as it goes on the wire (CRLF line ends, 7-bit clean)."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = _one_line(mailbox.sender)
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = _one_line(subject)[:900]
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = " ".join(references)
    msg["MIME-Version"] = "1.0"
    msg.set_content(body.replace("\r\n", "\n"), charset="utf-8")
    return msg.as_bytes()


def enqueue_reply(store: Store, message_id: int, *, mailbox: MailboxConfig, actor: str,
                  to: Sequence[str] | None = None, cc: Sequence[str] = (), subject: str | None = None) -> int:
    """Write the e-mail for outbound thread message ``message_id`` (``messages.id``) into the outbox.

    Recipients default to the ticket's customer; the subject to "Re: <ticket subject>". Returns the
    outbox id (the existing one when this message was queued before). Joins the caller's
    transaction; sends nothing.
    """
    with store.transaction() as db:
        c = db.conn
        existing = c.execute("SELECT id FROM email_outbox WHERE message_row = ?", (message_id,)).fetchone()
        if existing:
            return existing[0]
        row = c.execute(
            "SELECT m.ticket_id, m.direction, m.body_text, t.subject, t.customer_id, cu.email FROM messages m "
            "JOIN tickets t ON t.id = m.ticket_id LEFT JOIN customers cu ON cu.id = t.customer_id WHERE m.id = ?",
            (message_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"Message {message_id} does not exist.")
        ticket_id, direction, body, ticket_subject, customer_id, customer_email = row
        if direction != "outbound":
            raise InvalidTransitionError("Only a reply written by an agent can be sent by e-mail.")
        recipients = [a for a in (valid_address(x) for x in (to if to is not None else [customer_email or ""])) if a]
        copies = [a for a in (valid_address(x) for x in cc) if a]
        if not recipients:
            raise InvalidTransitionError("This ticket has no valid customer e-mail address to reply to.")
        if not all(a.isascii() for a in recipients + copies):
            raise InvalidTransitionError("Addresses with non-ASCII characters cannot be sent to yet.")
        parent = c.execute(
            "SELECT message_id, refs, subject FROM email_messages WHERE ticket_id = ? AND direction = 'inbound' "
            "ORDER BY id DESC LIMIT 1", (ticket_id,)).fetchone()
        parent_id, parent_refs, parent_subject = parent if parent else (None, None, None)
        if subject is not None:
            base = _one_line(subject)
        else:
            base = f"Re: {strip_prefixes(_one_line(parent_subject or ticket_subject or '')) or '(no subject)'}"
        mid = new_message_id(mailbox, ticket_id)
        refs = _references(parent_refs, parent_id)
        raw = render(mailbox, to=recipients, cc=copies, subject=base, body=body, message_id=mid,
                     in_reply_to=parent_id, references=refs)
        envelope = recipients + [a for a in copies if a not in recipients]
        if mailbox.bcc_self and mailbox.sender_address.lower() not in envelope:
            envelope.append(mailbox.sender_address.lower())
        now = now_iso()
        cur = c.execute(
            "INSERT INTO email_outbox (mailbox, ticket_id, message_row, message_id, in_reply_to, refs, mail_from, "
            "rcpt_to, raw, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
            (mailbox.key, ticket_id, message_id, mid, parent_id, " ".join(refs) or None,
             mailbox.sender_address, json.dumps(envelope), raw, now, now))
        outbox_id = cur.lastrowid
        c.execute(
            "INSERT INTO email_messages (message_id, direction, ticket_id, message_row, customer_id, subject, "
            "subject_norm, from_addr, in_reply_to, refs, size, created_at) "
            "VALUES (?, 'outbound', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (mid, ticket_id, message_id, customer_id, base, normalize_subject(base), mailbox.sender_address.lower(),
             parent_id, " ".join(refs) or None, len(raw), now))
        audit.record(db, actor=actor, action="email.queued", ticket_id=ticket_id, outbox_id=outbox_id,
                     message_row=message_id, email_message_id=mid, to=recipients, cc=copies)
    return outbox_id


def requeue(store: Store, outbox_id: int, *, actor: str) -> None:
    """Try a refused reply again (after the cause was fixed)."""
    with store.transaction() as db:
        item = get(db, outbox_id)
        if item.state != "failed":
            raise InvalidTransitionError(f"Only a refused reply can be sent again; this one is {item.state}.")
        db.conn.execute("UPDATE email_outbox SET state = 'queued', next_attempt_at = NULL, updated_at = ? WHERE id = ?",
                        (now_iso(), outbox_id))
        audit.record(db, actor=actor, action="email.requeued", ticket_id=item.ticket_id, outbox_id=outbox_id)


def resolve_unknown(store: Store, outbox_id: int, *, actor: str, sent: bool) -> None:
    """A person checked (the Sent folder, the customer): it went out (``sent=True``) or send it again."""
    with store.transaction() as db:
        item = get(db, outbox_id)
        if item.state != "unknown":
            raise InvalidTransitionError(f"This reply is {item.state}, not waiting for a decision.")
        now = now_iso()
        if sent:
            db.conn.execute("UPDATE email_outbox SET state = 'sent', sent_at = ?, updated_at = ? WHERE id = ?",
                            (now, now, outbox_id))
        else:
            db.conn.execute("UPDATE email_outbox SET state = 'queued', next_attempt_at = NULL, updated_at = ? "
                            "WHERE id = ?", (now, outbox_id))
        audit.record(db, actor=actor, action="email.resolved", ticket_id=item.ticket_id, outbox_id=outbox_id,
                     decided="sent" if sent else "resend")
