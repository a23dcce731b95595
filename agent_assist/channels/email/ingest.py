"""One parsed e-mail into the store: a new ticket or a message on the ticket it continues.

Runs inside the caller's write transaction (``store.transaction()`` nests), so a message,
its attachments, its ``email_messages`` row and the sync ledger commit together or not at all.
Tickets and messages are written only through :mod:`agent_assist.store.tickets`
(``create_ticket`` / ``add_inbound_message``), which reopen a pending or solved ticket and
write the audit rows. The HTML is sanitized *before* the transaction (:func:`prepare_body`):
hostile HTML may take a while to simplify, and the write lock must not wait for it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from agent_assist.channels.email.mime import ParsedMail
from agent_assist.channels.email.threading import customer_by_address, find_ticket, normalize_subject
from agent_assist.store import mail, tickets
from agent_assist.store.database import Store
from agent_assist.timefmt import now_iso

NOTE_AUTO = "sent automatically (out-of-office, delivery report or a robot)"


@dataclass(frozen=True)
class Ingested:
    outcome: str  # imported (new ticket) | threaded (added to a ticket) | duplicate (known Message-ID)
    email_message: int | None
    ticket_id: int | None
    message_row: int | None = None
    how: str | None = None  # how it was threaded: in-reply-to | references | subject


def detect_language(parsed: ParsedMail) -> str:
    """Offline language detection (call it outside the write transaction: it is the slow part)."""
    from agent_assist.language import detect

    return detect(f"{parsed.subject}\n{parsed.text[:2000]}") or "en"


def prepare_body(parsed: ParsedMail) -> tickets.CleanBody:
    """The sanitized body (call it outside the write transaction: hostile HTML is slow to clean)."""
    return tickets.clean_body(parsed.text, parsed.html)


def continues_a_ticket(store: Store, parsed: ParsedMail, window_days: int) -> bool:
    """Would this mail thread into an existing ticket? (a read-only guess, used to skip language
    detection, which only a new ticket needs; ``store_mail`` decides for real)."""
    db = store.db
    return find_ticket(db, in_reply_to=parsed.in_reply_to, references=parsed.references,
                       customer_id=customer_by_address(db, parsed.from_addr),
                       subject_norm=normalize_subject(parsed.subject), window_days=window_days) is not None


def known_message(store: Store, message_id: str) -> tuple[int, int | None] | None:
    return mail.known_message(store.db, message_id)


def store_mail(store: Store, parsed: ParsedMail, *, actor: str, window_days: int,
               received_at: str | None = None, language: str | None = None,
               body: tickets.CleanBody | None = None) -> Ingested:
    """File one inbound mail; a Message-ID seen before (inbound or one of our replies) is a duplicate.

    A caller that already holds the write transaction passes ``body`` (:func:`prepare_body`,
    built before its transaction opened); otherwise it is built here, before the lock is taken.
    """
    body = body or prepare_body(parsed)
    with store.transaction() as db:
        found = mail.known_message(db, parsed.message_id)
        if found:
            return Ingested("duplicate", found[0], found[1])
        customer_id = customer_by_address(db, parsed.from_addr)
        subject_norm = normalize_subject(parsed.subject)
        match = find_ticket(db, in_reply_to=parsed.in_reply_to, references=parsed.references,
                            customer_id=customer_id, subject_norm=subject_norm, window_days=window_days)
        author = parsed.from_name or parsed.from_addr or "Unknown sender"
        if match:
            ticket_id = match.ticket_id
            message_row = tickets.add_inbound_message(store, ticket_id, actor=actor, author=author,
                                                      body_text=None, body=body)
            outcome, how = "threaded", match.how
        else:
            now = now_iso()
            created = min(received_at, now) if received_at else now
            ticket_id = tickets.create_ticket(
                store, actor=actor, customer_name=author, customer_email=parsed.from_addr,
                subject=parsed.subject or "(no subject)", body_text=None, body=body,
                language=language, channel="email", created_at=created)
            message_row, customer_id = mail.first_message(db, ticket_id)
            outcome, how = "imported", None
        notes = list(parsed.notes)
        if parsed.auto_submitted:
            notes.append(NOTE_AUTO)
        email_message = mail.file_inbound(store, mail.InboundMail(
            message_id=parsed.message_id, ticket_id=ticket_id, message_row=message_row, customer_id=customer_id,
            subject=parsed.subject, subject_norm=subject_norm, from_addr=parsed.from_addr, reply_to=parsed.reply_to,
            in_reply_to=" ".join(parsed.in_reply_to) or None, refs=" ".join(parsed.references) or None,
            date_header=parsed.date, received_at=received_at, size=parsed.size, notes=tuple(notes), at=now_iso(),
            attachments=tuple(_attachments(parsed))))
    return Ingested(outcome, email_message, ticket_id, message_row, how)


def _attachments(parsed: ParsedMail) -> list[mail.NewAttachment]:
    return [mail.NewAttachment(filename=att.filename, content_type=att.content_type, size=att.size,
                               data=att.data or None, content_id=att.content_id, inline=bool(att.inline),
                               risky=bool(att.risky), note=att.note,
                               sha256=hashlib.sha256(att.data).hexdigest() if att.data else None)
            for att in parsed.attachments]
