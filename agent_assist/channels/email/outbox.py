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

import secrets
from collections.abc import Sequence
from email import policy
from email.message import EmailMessage
from email.utils import formatdate

from agent_assist.channels.email.config import MailboxConfig
from agent_assist.channels.email.mime import valid_address
from agent_assist.channels.email.threading import normalize_subject, strip_prefixes
from agent_assist.store import mail
from agent_assist.store.database import Store
from agent_assist.store.errors import InvalidTransitionError
from agent_assist.store.mail import OutboxItem
from agent_assist.timefmt import now_iso

__all__ = ["MAX_REFERENCES", "STATES", "OutboxItem", "counts", "enqueue_reply", "for_message", "for_ticket", "get",
           "needing_attention", "new_message_id", "render", "requeue", "resolve_unknown"]

STATES = ("queued", "sending", "committing", "sent", "failed", "unknown")
MAX_REFERENCES = 20


def get(db, outbox_id: int) -> OutboxItem:
    return mail.outbox_item(db, outbox_id)


def for_ticket(db, ticket_id: int) -> list[OutboxItem]:
    """Every reply of a ticket and how far it got (for a status line under each sent message)."""
    return mail.outbox_for_ticket(db, ticket_id)


def for_message(db, message_row: int) -> OutboxItem | None:
    return mail.outbox_for_message(db, message_row)


def needing_attention(db) -> list[OutboxItem]:
    """Replies a person has to look at: refused for good, or not known to have gone out."""
    return mail.outbox_needing_attention(db)


def counts(db) -> dict[str, int]:
    return mail.outbox_counts(db)


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
        queued = mail.outbox_for_message(db, message_id)
        if queued is not None:
            return queued.id
        source = mail.reply_source(db, message_id)
        if source.direction != "outbound":
            raise InvalidTransitionError("Only a reply written by an agent can be sent by e-mail.")
        recipients = [a for a in (valid_address(x) for x in (to if to is not None else [source.customer_email or ""]))
                      if a]
        copies = [a for a in (valid_address(x) for x in cc) if a]
        if not recipients:
            raise InvalidTransitionError("This ticket has no valid customer e-mail address to reply to.")
        if not all(a.isascii() for a in recipients + copies):
            raise InvalidTransitionError("Addresses with non-ASCII characters cannot be sent to yet.")
        parent = mail.last_inbound_email(db, source.ticket_id)
        parent_id, parent_refs, parent_subject = (parent.message_id, parent.refs, parent.subject) if parent else (
            None, None, None)
        if subject is not None:
            base = _one_line(subject)
        else:
            base = f"Re: {strip_prefixes(_one_line(parent_subject or source.ticket_subject or '')) or '(no subject)'}"
        mid = new_message_id(mailbox, source.ticket_id)
        refs = _references(parent_refs, parent_id)
        raw = render(mailbox, to=recipients, cc=copies, subject=base, body=source.body, message_id=mid,
                     in_reply_to=parent_id, references=refs)
        envelope = recipients + [a for a in copies if a not in recipients]
        if mailbox.bcc_self and mailbox.sender_address.lower() not in envelope:
            envelope.append(mailbox.sender_address.lower())
        reply = mail.NewReply(
            mailbox=mailbox.key, ticket_id=source.ticket_id, message_row=message_id, message_id=mid,
            in_reply_to=parent_id, refs=" ".join(refs) or None, mail_from=mailbox.sender_address,
            rcpt_to=tuple(envelope), raw=raw, customer_id=source.customer_id, subject=base,
            subject_norm=normalize_subject(base), at=now_iso())
        return mail.queue_reply(store, reply, actor=actor, to=recipients, cc=copies)


def requeue(store: Store, outbox_id: int, *, actor: str) -> None:
    """Try a refused reply again (after the cause was fixed)."""
    if mail.decide_outbox(store, outbox_id, expect="failed", state="queued", at=now_iso(), action="email.requeued",
                          actor=actor) is None:
        state = mail.outbox_item(store.db, outbox_id).state
        raise InvalidTransitionError(f"Only a refused reply can be sent again; this one is {state}.")


def resolve_unknown(store: Store, outbox_id: int, *, actor: str, sent: bool) -> None:
    """A person checked (the Sent folder, the customer): it went out (``sent=True``) or send it again."""
    if mail.decide_outbox(store, outbox_id, expect="unknown", state="sent" if sent else "queued", at=now_iso(),
                          action="email.resolved", actor=actor, decided="sent" if sent else "resend") is None:
        state = mail.outbox_item(store.db, outbox_id).state
        raise InvalidTransitionError(f"This reply is {state}, not waiting for a decision.")
