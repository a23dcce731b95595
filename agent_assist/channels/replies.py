"""Sending a reply through the ticket's channel.

``drafts.send`` is the one function that turns an approved draft into an outbound
message; for an e-mail ticket the outbox row (with its own Message-ID and
threading headers) is written in the same transaction, before anything is sent,
so a crash can never lose a reply or send it twice. Delivery happens later, off
the UI thread, in ``email.smtp_send.deliver_pending``.
"""

from __future__ import annotations

from agent_assist.channels.email.config import MailboxConfig
from agent_assist.store import Store, drafts, mail
from agent_assist.store.held import Held


def _enqueue(store: Store, draft_id: int, message_id: int | None, mailbox: MailboxConfig | None,
             actor: str) -> int | None:
    from agent_assist.channels.email.outbox import enqueue_reply

    if message_id is None or mailbox is None:
        return None
    if mail.ticket_channel_of_draft(store.db, draft_id) != "email":
        return None
    return enqueue_reply(store, message_id, mailbox=mailbox, actor=actor)


def approve_and_send(store: Store, draft_id: int, body: str, *, actor: str, status_after: str = "pending",
                     mailbox: MailboxConfig | None = None,
                     confirmed_pan: bool = False) -> tuple[int | None, int | None]:
    """Approve and send; returns (message id or None when it waits for a supervisor, outbox id or None).

    A full card number in ``body`` raises ``UnmaskedCardNumberError`` unless ``confirmed_pan``.
    """
    with store.transaction():
        message_id = drafts.approve_and_send(store, draft_id, body, actor=actor, status_after=status_after,
                                             confirmed_pan=confirmed_pan)
        return message_id, _enqueue(store, draft_id, message_id, mailbox, actor)


def approve_and_hold(store: Store, draft_id: int, body: str, *, actor: str, confirmed_pan: bool = False) -> str:
    """Undo send, first half: approve the text now (a full card number is refused unless confirmed, so the
    person is asked at the click, not seconds later) and return the draft's state: ``approved`` (the
    caller holds the send, :mod:`agent_assist.store.held`) or ``awaiting_supervisor`` (four eyes)."""
    drafts.check_card_numbers(body, confirmed_pan)
    return drafts.approve(store, draft_id, body, actor=actor)


def send_held(store: Store, held: Held, *, mailbox: MailboxConfig | None = None) -> tuple[int, int | None]:
    """Undo send, second half: the held reply goes out through the ticket's channel (message, outbox row)."""
    with store.transaction():
        message_id = drafts.send(store, held.draft_id, actor=held.person, status_after=held.status_after,
                                 confirmed_pan=held.confirmed_pan)
        return message_id, _enqueue(store, held.draft_id, message_id, mailbox, held.person)


def supervisor_approve_and_send(store: Store, draft_id: int, body: str, *, actor: str,
                                mailbox: MailboxConfig | None = None,
                                confirmed_pan: bool = False) -> tuple[int, int | None]:
    """A supervisor's four-eyes approval, sent through the ticket's channel in the same transaction."""
    from agent_assist.store import review

    with store.transaction():
        message_id = review.approve_and_send(store, draft_id, body, actor=actor, confirmed_pan=confirmed_pan)
        return message_id, _enqueue(store, draft_id, message_id, mailbox, actor)
