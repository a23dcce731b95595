"""What the channel knows about a ticket's messages: attachments, safety notes, delivery state."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from agent_assist.channels.email.attachments import AttachmentInfo, list_attachments, message_notes
from agent_assist.channels.email.outbox import OutboxItem, for_ticket as outbox_for_ticket
from agent_assist.store.tickets import Ticket


@dataclass(frozen=True)
class MessageExtras:
    attachments: tuple[AttachmentInfo, ...] = ()
    notes: tuple[str, ...] = ()
    delivery: OutboxItem | None = None


def extras_for(db: sqlite_utils.Database, ticket: Ticket) -> dict[int, MessageExtras]:
    """Message id -> extras, for the messages that have any (none for demo or chat tickets)."""
    if ticket.channel != "email":
        return {}
    delivery = {item.message_row: item for item in outbox_for_ticket(db, ticket.id)}
    out: dict[int, MessageExtras] = {}
    for m in ticket.messages:
        files = tuple(a for a in list_attachments(db, m.id) if not a.inline)
        notes = tuple(message_notes(db, m.id))
        sent = delivery.get(m.id)
        if files or notes or sent:
            out[m.id] = MessageExtras(files, notes, sent)
    return out
