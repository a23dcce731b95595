"""The outbox on a team server: several desks claim rows without waiting on each other, and the server
(team migration 004) keeps an approved reply as it was and writes the audit rows of its steps.

PostgreSQL only: these are the server's own rules (grants, triggers, row locks). What both backends do
alike is in test_outbox.py.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from agent_assist.channels.email import enqueue_reply, outbox, requeue, resolve_unknown
from agent_assist.channels.email.config import MailboxConfig
from agent_assist.store import audit, drafts, mail, tickets
from agent_assist.store.errors import InvalidTransitionError
from agent_assist.store.postgres import audit as team_audit
from agent_assist.store.postgres.adapter import PermissionRefusedError
from agent_assist.timefmt import now_iso

MAILBOX = MailboxConfig(imap_host="127.0.0.1", imap_user="support", imap_tls="none", smtp_host="127.0.0.1",
                        smtp_port=1, smtp_tls="none", from_address="Lumo Pay Support <support@desk.example>")


@pytest.fixture
def alex(team_database):
    return team_database.desk("alex")


@pytest.fixture
def priya(team_database):
    return team_database.desk("priya")


def _queued(store, n: int = 1) -> list[int]:
    ticket_id = tickets.create_ticket(store, actor="t", customer_name="Tom", customer_email="tom@example.co.uk",
                                      subject="Late fee charged twice", body_text="Please help", language="en")
    ids = []
    for i in range(n):
        draft_id = drafts.suggest(store, ticket_id, "draft", actor="offline", source="offline")
        with store.transaction():
            message_row = drafts.approve_and_send(store, draft_id, f"Reply number {i}.", actor="alex")
            ids.append(enqueue_reply(store, message_row, mailbox=MAILBOX, actor="alex"))
    return ids


def test_a_row_another_desk_is_claiming_is_skipped_not_waited_for(alex, priya):
    [outbox_id] = _queued(alex)
    due = now_iso()
    holding, done = threading.Event(), threading.Event()

    def alex_claims_and_holds() -> bool:
        with alex.transaction():  # alex's claim is not committed yet: the row is locked
            won = mail.claim_queued(alex, outbox_id, claimant="alex-desk:1:aa", at=now_iso(), due=due)
            holding.set()
            done.wait(30)
        return won

    with ThreadPoolExecutor(1) as pool:
        alex_won = pool.submit(alex_claims_and_holds)
        assert holding.wait(30)
        try:
            # priya's desk neither waits for alex's transaction nor takes the row
            with ThreadPoolExecutor(1) as other:
                attempt = other.submit(mail.claim_queued, priya, outbox_id, claimant="priya-desk:2:bb", at=now_iso(),
                                       due=due)
                assert attempt.result(timeout=10) is False
        finally:
            done.set()
        assert alex_won.result(timeout=30) is True
    assert mail.claimed_by(priya.db, outbox_id) == "alex-desk:1:aa"
    assert outbox.get(priya.db, outbox_id).state == "sending"
    # and a committed claim is not taken over while it is read as someone else's
    assert not mail.take_over(priya, outbox_id, claimant="priya-desk:2:bb", at=now_iso(), state="sending",
                              claimed_by=None, claimed_at=None)


def test_a_queued_reply_cannot_be_rewritten_by_a_desk(alex):
    [outbox_id] = _queued(alex)
    for column, value in (("raw", b"Subject: something else\r\n\r\nPay here."),
                          ("rcpt_to", '["someone@elsewhere.example"]'), ("mail_from", "me@elsewhere.example")):
        with pytest.raises(PermissionRefusedError, match="Permission denied for table email_outbox"):
            with alex.transaction() as db:
                db.conn.execute(f"UPDATE email_outbox SET {column} = ? WHERE id = ?", (value, outbox_id))
    assert b"Reply number 0." in mail.outbox_raw(alex.db, outbox_id)
    assert outbox.get(alex.db, outbox_id).rcpt_to == ("tom@example.co.uk",)


def test_only_a_sent_reply_can_be_queued_and_a_sent_one_never_goes_back(alex):
    [outbox_id] = _queued(alex)
    item = outbox.get(alex.db, outbox_id)
    inbound = tickets.add_inbound_message(alex, item.ticket_id, actor="t", author="Tom", body_text="Hello?")
    with pytest.raises(InvalidTransitionError, match="Only a reply written by an agent"):  # the desk's words
        enqueue_reply(alex, inbound, mailbox=MAILBOX, actor="alex")
    forged = mail.NewReply(mailbox=MAILBOX.key, ticket_id=item.ticket_id, message_row=inbound,
                           message_id="<forged@desk.example>", in_reply_to=None, refs=None,
                           mail_from="support@desk.example", rcpt_to=("tom@example.co.uk",),
                           raw=b"Subject: not approved\r\n\r\nPay here.", customer_id=None, subject="x",
                           subject_norm="x", at=now_iso())
    with pytest.raises(PermissionRefusedError, match="Only a reply that was sent"):  # past the desk: the server's
        mail.queue_reply(alex, forged, actor="alex", to=forged.rcpt_to, cc=())
    with alex.transaction() as db:
        db.conn.execute("UPDATE email_outbox SET state = 'sent', sent_at = ? WHERE id = ?", (now_iso(), outbox_id))
    with pytest.raises(PermissionRefusedError, match="sent already"):
        with alex.transaction() as db:
            db.conn.execute("UPDATE email_outbox SET state = 'queued' WHERE id = ?", (outbox_id,))
    with pytest.raises(InvalidTransitionError, match="this one is sent"):
        requeue(alex, outbox_id, actor="alex")
    assert outbox.get(alex.db, outbox_id).state == "sent"


def test_the_server_audits_each_step_as_the_person_who_took_it(alex, priya):
    [first, second] = _queued(alex, 2)
    ticket_id = outbox.get(alex.db, first).ticket_id
    with priya.transaction() as db:  # priya's desk: one refused for good, one that may have gone out
        db.conn.execute("UPDATE email_outbox SET state = 'failed', last_error = '550 no such user' WHERE id = ?",
                        (first,))
        db.conn.execute("UPDATE email_outbox SET state = 'unknown' WHERE id = ?", (second,))
    requeue(alex, first, actor="alex")
    resolve_unknown(alex, second, actor="alex", sent=True)
    rows = [(e.action, e.actor) for e in audit.for_ticket(alex.db, ticket_id) if e.action.startswith("email.")]
    assert rows == [("email.queued", "alex"), ("email.queued", "alex"), ("email.failed", "priya"),
                    ("email.unknown", "priya"), ("email.requeued", "alex"), ("email.resolved", "alex")]
    assert team_audit.verify(alex.db.conn.raw).ok  # the chain holds with the new rows
