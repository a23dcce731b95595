"""Replies out over SMTP, exactly once: real aiosmtpd and Dovecot, real process kills.

Marked ``both_backends``: once on a SQLite file, once on a team PostgreSQL where every sender is a desk
signed in as its person (crash children and second senders open the team URL). The few checks of one
file (a symlinked path, no lock file beside it, ``PRAGMA synchronous``) stay on SQLite.
"""

from __future__ import annotations

import email
import json
import signal
import subprocess
import sys
from datetime import timedelta
from email import policy
from pathlib import Path

import psutil
import pytest

from agent_assist.channels.email import (
    deliver_pending,
    enqueue_reply,
    for_message,
    needing_attention,
    requeue,
    resolve_unknown,
    sync,
)
from agent_assist.channels.email import outbox
from agent_assist.channels.email.smtp_send import _one_run_in_this_process
from agent_assist.store import audit, drafts, mail, tickets
from agent_assist.store.errors import InvalidTransitionError
from agent_assist.timefmt import now_iso, utcnow
from tests.channels.email import mails
from tests.channels.email.conftest import SMTP_PASSWORD, email_store, target_of
from tests.channels.email.servers import IMAP_PASSWORD

ROOT = Path(__file__).resolve().parents[3]
INBOUND_ID = "<inbound-1@example.co.uk>"
INBOUND_REFS = "<older-0@example.co.uk>"


def _ticket_from_mail(store, dovecot, mailbox) -> int:
    dovecot.append(mails.plain(message_id=INBOUND_ID, references=INBOUND_REFS, in_reply_to=INBOUND_REFS))
    return sync(store, mailbox, dovecot.password).new_tickets[0]


def _reply(store, mailbox, ticket_id: int, body: str = "Hi Tom, we removed the second late fee.") -> tuple[int, int]:
    """What the UI does: approve, send and enqueue in one transaction. Returns (message row, outbox id)."""
    draft_id = drafts.suggest(store, ticket_id, "draft", actor="offline", source="offline")
    with store.transaction():
        message_row = drafts.approve_and_send(store, draft_id, body, actor="alex")
        outbox_id = enqueue_reply(store, message_row, mailbox=mailbox, actor="alex")
    return message_row, outbox_id


def _deliver(store, mailbox, **kwargs):
    return deliver_pending(store, mailbox, IMAP_PASSWORD, smtp_password=SMTP_PASSWORD, **kwargs)


def _state(store, outbox_id: int) -> tuple[str, int, str | None]:
    item = outbox.get(store.db, outbox_id)
    return item.state, item.attempts, item.filed


def _crash_at(stage: str, store, mailbox) -> int:
    """Run a deliverer in another process and SIGKILL it at ``stage``; returns its exit code."""
    args = {"db": target_of(store), "mailbox": mailbox.to_dict(), "password": IMAP_PASSWORD,
            "smtp_password": SMTP_PASSWORD, "die_at": stage}
    proc = subprocess.run([sys.executable, "-m", "tests.channels.email.crash_child", json.dumps(args)],
                          cwd=ROOT, capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    return proc.returncode


# -- enqueue ------------------------------------------------------------------------------------------
@pytest.mark.both_backends
def test_enqueue_writes_the_whole_message_first(store, dovecot, full_mailbox, smtp_sink):
    ticket_id = _ticket_from_mail(store, dovecot, full_mailbox)
    message_row, outbox_id = _reply(store, full_mailbox, ticket_id)
    item = outbox.get(store.db, outbox_id)
    assert item.state == "queued" and item.rcpt_to == ("tom@example.co.uk",) and smtp_sink.received == []
    raw = mail.outbox_raw(store.db, outbox_id)
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Message-ID"] == item.message_id and item.message_id.endswith("@desk.example>")
    assert msg["In-Reply-To"] == INBOUND_ID
    assert msg["References"].split() == [INBOUND_REFS, INBOUND_ID]
    assert msg["Subject"] == "Re: Late fee charged twice"
    assert msg["From"] == "Lumo Pay Support <support@desk.example>" and msg["To"] == "tom@example.co.uk"
    assert msg.get_content().strip() == "Hi Tom, we removed the second late fee."
    assert b"\r\n" in raw and raw.isascii()  # wire-ready: CRLF, 7-bit
    # the same message never gets a second outbox row
    assert enqueue_reply(store, message_row, mailbox=full_mailbox, actor="alex") == outbox_id
    actions = [e.action for e in audit.for_ticket(store.db, ticket_id)]
    assert actions[-1] == "email.queued" and actions.index("reply.sent") < actions.index("email.queued")


@pytest.mark.both_backends
def test_enqueue_is_atomic_with_send(store, dovecot, full_mailbox):
    ticket_id = tickets.create_ticket(store, actor="t", customer_name="No Mail", customer_email=None,
                                      subject="Phone call", body_text="Call me", language="en")
    draft_id = drafts.suggest(store, ticket_id, "draft", actor="offline", source="offline")
    with pytest.raises(InvalidTransitionError, match="no valid customer e-mail"):
        with store.transaction():
            message_row = drafts.approve_and_send(store, draft_id, "Hello", actor="alex")
            enqueue_reply(store, message_row, mailbox=full_mailbox, actor="alex")
    assert drafts.get(store.db, draft_id).state == "suggested"  # rolled back together
    assert store.db.conn.execute("SELECT COUNT(*) FROM messages WHERE direction = 'outbound'").fetchone()[0] == 0


# -- delivery -----------------------------------------------------------------------------------------
@pytest.mark.both_backends
def test_normal_delivery_sends_once_and_files_into_sent(store, dovecot, full_mailbox, smtp_sink):
    ticket_id = _ticket_from_mail(store, dovecot, full_mailbox)
    _, outbox_id = _reply(store, full_mailbox, ticket_id)
    report = _deliver(store, full_mailbox)
    assert report.sent == [outbox_id] and report.filed == [outbox_id]
    assert len(smtp_sink.received) == 1
    got = smtp_sink.received[0]
    assert got.mail_from == "support@desk.example" and got.rcpt_tos == ["tom@example.co.uk"]
    item = outbox.get(store.db, outbox_id)
    assert (item.state, item.attempts, item.filed) == ("sent", 1, "appended") and item.smtp_reply.startswith("250")
    assert dovecot.search_header("Sent", "Message-ID", item.message_id)
    again = _deliver(store, full_mailbox)
    assert again.sent == [] and len(smtp_sink.received) == 1
    assert "email.sent" in [e.action for e in audit.for_ticket(store.db, ticket_id)]


@pytest.mark.both_backends
def test_the_customers_answer_threads_to_our_reply_and_reopens(store, dovecot, full_mailbox, smtp_sink):
    ticket_id = _ticket_from_mail(store, dovecot, full_mailbox)
    message_row, _ = _reply(store, full_mailbox, ticket_id)
    _deliver(store, full_mailbox)
    ours = for_message(store.db, message_row).message_id
    assert tickets.get_ticket(store.db, ticket_id).status == "pending"
    dovecot.append(mails.plain(subject="Different subject", message_id="<answer@example.co.uk>", in_reply_to=ours,
                               references=f"{INBOUND_ID} {ours}", body="Thanks, but there is a third fee."))
    report = sync(store, full_mailbox, dovecot.password)
    assert report.touched_tickets == [ticket_id]
    assert tickets.get_ticket(store.db, ticket_id).status == "open"


@pytest.mark.both_backends
def test_a_temporary_failure_is_retried_with_backoff(store, dovecot, full_mailbox, smtp_sink):
    ticket_id = _ticket_from_mail(store, dovecot, full_mailbox)
    _, outbox_id = _reply(store, full_mailbox, ticket_id)
    smtp_sink.behaviour.mode = "tempfail"
    first = _deliver(store, full_mailbox)
    assert [i for i, _ in first.retrying] == [outbox_id] and "451" in first.retrying[0][1]
    item = outbox.get(store.db, outbox_id)
    assert item.state == "queued" and item.attempts == 1 and "451" in item.last_error and item.next_attempt_at
    smtp_sink.behaviour.mode = "accept"
    too_early = _deliver(store, full_mailbox)
    assert too_early.sent == [] and smtp_sink.received == []  # waits for its retry time
    later = _deliver(store, full_mailbox, now=utcnow() + timedelta(minutes=2))
    assert later.sent == [outbox_id] and len(smtp_sink.received) == 1
    assert _state(store, outbox_id)[:2] == ("sent", 2)


@pytest.mark.both_backends
def test_a_permanent_refusal_waits_for_a_person(store, dovecot, full_mailbox, smtp_sink):
    ticket_id = _ticket_from_mail(store, dovecot, full_mailbox)
    _, outbox_id = _reply(store, full_mailbox, ticket_id)
    smtp_sink.behaviour.rcpt_refuse = {"tom@example.co.uk": "550 5.1.1 No such user"}
    report = _deliver(store, full_mailbox)
    assert [i for i, _ in report.failed] == [outbox_id] and "550" in report.failed[0][1]
    assert [i.id for i in needing_attention(store.db)] == [outbox_id]
    assert _deliver(store, full_mailbox, now=utcnow() + timedelta(days=1)).sent == []  # not retried on its own
    smtp_sink.behaviour.rcpt_refuse = {}
    requeue(store, outbox_id, actor="alex")
    assert _deliver(store, full_mailbox).sent == [outbox_id] and len(smtp_sink.received) == 1


@pytest.mark.both_backends
def test_an_unreachable_server_loses_nothing(store, dovecot, full_mailbox, smtp_sink):
    ticket_id = _ticket_from_mail(store, dovecot, full_mailbox)
    _reply(store, full_mailbox, ticket_id)
    _, second = _reply(store, full_mailbox, ticket_id, body="And one more thing.")
    down = full_mailbox.with_(smtp_port=1)
    report = _deliver(store, down)
    assert len(report.retrying) == 2 and report.sent == []
    assert all(item.state == "queued" for item in outbox.for_ticket(store.db, ticket_id))
    later = _deliver(store, full_mailbox, now=utcnow() + timedelta(hours=2))
    assert len(later.sent) == 2 and len(smtp_sink.received) == 2


@pytest.mark.both_backends
def test_smtp_login_is_used(store, dovecot, full_mailbox, smtp_sink):
    ticket_id = _ticket_from_mail(store, dovecot, full_mailbox)
    _, outbox_id = _reply(store, full_mailbox, ticket_id)
    report = deliver_pending(store, full_mailbox, dovecot.password, smtp_password="wrong")
    assert report.sent == [] and "refused the login" in report.retrying[0][1]
    assert _deliver(store, full_mailbox, now=utcnow() + timedelta(minutes=5)).sent == [outbox_id]


# -- exactly once across crashes ----------------------------------------------------------------------
@pytest.mark.both_backends
def test_crash_before_smtp_then_restart_sends_once(store, reopen, dovecot, full_mailbox, smtp_sink):
    ticket_id = _ticket_from_mail(store, dovecot, full_mailbox)
    _, outbox_id = _reply(store, full_mailbox, ticket_id)
    _crash_at("claimed", store, full_mailbox)
    assert _state(store, outbox_id)[0] == "sending" and smtp_sink.received == []
    restarted = reopen()
    report = _deliver(restarted, full_mailbox)
    assert report.sent == [outbox_id] and len(smtp_sink.received) == 1


@pytest.mark.both_backends
def test_crash_after_accept_is_not_resent_thanks_to_the_servers_sent_copy(store, reopen, dovecot, full_mailbox, smtp_sink):
    """The provider files what it accepts into Sent (as Gmail and Microsoft 365 do)."""
    box = full_mailbox.with_(server_files_sent=True)
    smtp_sink.behaviour.file_into = (dovecot, "Sent")
    ticket_id = _ticket_from_mail(store, dovecot, box)
    _, outbox_id = _reply(store, box, ticket_id)
    _crash_at("accepted", store, box)  # 250 received, killed before 'sent' was written
    assert _state(store, outbox_id)[0] == "committing" and len(smtp_sink.received) == 1
    restarted = reopen()
    report = _deliver(restarted, box)
    assert report.recovered == [outbox_id] and report.sent == []
    assert len(smtp_sink.received) == 1  # not sent twice
    assert _state(restarted, outbox_id) == ("sent", 1, "found")
    assert len(dovecot.search_header("Sent", "Message-ID", outbox.get(restarted.db, outbox_id).message_id)) == 1


@pytest.mark.both_backends
def test_crash_after_accept_with_bcc_self_is_not_resent(store, reopen, dovecot, full_mailbox, smtp_sink):
    """Our own address as a hidden recipient: the server's copy lands in the inbox and proves delivery."""
    box = full_mailbox.with_(bcc_self=True)
    smtp_sink.behaviour.deliver_local = (dovecot, "support@desk.example")
    ticket_id = _ticket_from_mail(store, dovecot, box)
    _, outbox_id = _reply(store, box, ticket_id)
    assert "support@desk.example" in outbox.get(store.db, outbox_id).rcpt_to
    _crash_at("accepted", store, box)
    restarted = reopen()
    report = _deliver(restarted, box)
    assert report.recovered == [outbox_id] and len(smtp_sink.received) == 1
    headers = smtp_sink.received[0].data.split(b"\r\n\r\n")[0]
    assert b"\r\nBcc:" not in headers and b"\r\nCc:" not in headers  # the hidden copy is envelope-only
    # the copy in the inbox is recognised as ours: no new ticket, no message added
    before = restarted.db.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    assert sync(restarted, box, dovecot.password).duplicates == 1
    assert restarted.db.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == before


@pytest.mark.both_backends
def test_crash_after_accept_without_any_server_copy_waits_for_a_person(store, reopen, dovecot, full_mailbox, smtp_sink):
    """No provider copy, no Bcc: 'not in Sent' proves nothing, so it is neither resent nor called sent."""
    ticket_id = _ticket_from_mail(store, dovecot, full_mailbox)
    _, outbox_id = _reply(store, full_mailbox, ticket_id)
    _crash_at("accepted", store, full_mailbox)
    restarted = reopen()
    report = _deliver(restarted, full_mailbox, now=utcnow() + timedelta(hours=1))
    assert report.unknown == [outbox_id] and len(smtp_sink.received) == 1
    assert [i.id for i in needing_attention(restarted.db)] == [outbox_id]
    assert "Check the Sent folder" in outbox.get(restarted.db, outbox_id).last_error
    resolve_unknown(restarted, outbox_id, actor="alex", sent=True)
    assert _state(restarted, outbox_id)[0] == "sent"
    assert _deliver(restarted, full_mailbox).sent == [] and len(smtp_sink.received) == 1
    assert "email.resolved" in [e.action for e in audit.for_ticket(restarted.db, ticket_id)]


@pytest.mark.both_backends
def test_crash_before_the_final_dot_is_resent_after_the_grace_period(store, reopen, dovecot, full_mailbox, smtp_sink):
    """Killed with the whole body sent but not the final '.': the server never accepted it."""
    box = full_mailbox.with_(server_files_sent=True)
    smtp_sink.behaviour.file_into = (dovecot, "Sent")
    ticket_id = _ticket_from_mail(store, dovecot, box)
    _, outbox_id = _reply(store, box, ticket_id)
    _crash_at("committing", store, box)
    assert _state(store, outbox_id)[0] == "committing" and smtp_sink.received == []
    restarted = reopen()
    soon = _deliver(restarted, box)
    assert soon.waiting == [outbox_id] and smtp_sink.received == []  # the server's copy may be late: wait
    later = _deliver(restarted, box, now=utcnow() + timedelta(minutes=5))
    assert later.sent == [outbox_id] and len(smtp_sink.received) == 1


@pytest.mark.both_backends
def test_crash_after_sent_before_filing_files_once(store, reopen, dovecot, full_mailbox, smtp_sink):
    ticket_id = _ticket_from_mail(store, dovecot, full_mailbox)
    _, outbox_id = _reply(store, full_mailbox, ticket_id)
    _crash_at("sent", store, full_mailbox)
    assert _state(store, outbox_id) == ("sent", 1, None)
    restarted = reopen()
    report = _deliver(restarted, full_mailbox)
    assert report.filed == [outbox_id] and report.sent == [] and len(smtp_sink.received) == 1
    mid = outbox.get(restarted.db, outbox_id).message_id
    assert len(dovecot.search_header("Sent", "Message-ID", mid)) == 1


@pytest.mark.both_backends
def test_a_lost_answer_after_the_dot_is_resolved_from_the_inbox_copy(store, dovecot, full_mailbox, smtp_sink):
    """The server accepts, but the connection drops before its 250 arrives (no crash at all)."""
    box = full_mailbox.with_(bcc_self=True)
    smtp_sink.behaviour.mode = "drop_after_data"
    smtp_sink.behaviour.deliver_local = (dovecot, "support@desk.example")
    ticket_id = _ticket_from_mail(store, dovecot, box)
    _, outbox_id = _reply(store, box, ticket_id)
    first = _deliver(store, box)
    assert first.waiting == [outbox_id] and first.sent == [] and len(smtp_sink.received) == 1
    smtp_sink.behaviour.mode = "accept"
    second = _deliver(store, box)
    assert second.recovered == [outbox_id] and len(smtp_sink.received) == 1


# SQLite only: one file under two names (a symlink)
def test_one_run_at_a_time_in_a_process_whatever_the_path(estore, dovecot, full_mailbox, smtp_sink, tmp_path):
    ticket_id = _ticket_from_mail(estore, dovecot, full_mailbox)
    _reply(estore, full_mailbox, ticket_id)
    link = tmp_path / "link.db"
    link.symlink_to(estore.path)
    via_link = email_store(link)
    try:
        with _one_run_in_this_process(estore) as mine:
            assert mine
            assert _deliver(via_link, full_mailbox).busy and smtp_sink.received == []
        assert len(_deliver(via_link, full_mailbox).sent) == 1
    finally:
        via_link.close()


# SQLite only: a file and its folder
def test_no_lock_file_is_left_next_to_the_database(estore, dovecot, full_mailbox, smtp_sink):
    ticket_id = _ticket_from_mail(estore, dovecot, full_mailbox)
    _reply(estore, full_mailbox, ticket_id)
    assert len(_deliver(estore, full_mailbox).sent) == 1
    assert not list(estore.path.parent.glob("*lock*"))

# -- several senders: the database decides who sends a row ---------------------------------------------
def _queue_replies(store, mailbox, n: int) -> list[int]:
    ticket_id = tickets.create_ticket(store, actor="t", customer_name="Tom", customer_email="tom@example.co.uk",
                                      subject="Late fee charged twice", body_text="Please help", language="en")
    return [_reply(store, mailbox, ticket_id, body=f"Reply number {i}.")[1] for i in range(n)]


def _start_sender(target: str | Path, mailbox, **extra) -> subprocess.Popen:
    args = {"db": str(target), "mailbox": mailbox.to_dict(), "password": IMAP_PASSWORD,
            "smtp_password": SMTP_PASSWORD, "barrier": True, **extra}
    proc = subprocess.Popen([sys.executable, "-m", "tests.channels.email.crash_child", json.dumps(args)], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"ready", proc.stderr.read().decode()[-2000:]
    return proc


def _run_together(*procs: subprocess.Popen) -> list[tuple[int, bytes, bytes]]:
    for proc in procs:  # every sender has its store open: let them all go at once
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append((proc.returncode, out, err))
    return results


def _sent_ids(smtp_sink) -> list[str]:
    return [email.message_from_bytes(r.data, policy=policy.default)["Message-ID"] for r in smtp_sink.received]


def _two_senders_send_each_reply_exactly_once(store, mailbox, smtp_sink, first: str, second: str) -> None:
    ids = _queue_replies(store, mailbox, 20)
    results = _run_together(_start_sender(first, mailbox), _start_sender(second, mailbox))
    assert [rc for rc, _, _ in results] == [0, 0], [err.decode()[-2000:] for _, _, err in results]
    mids = _sent_ids(smtp_sink)
    assert len(mids) == 20 and len(set(mids)) == 20
    sent_by = [json.loads(out.splitlines()[-1])["sent"] for _, out, _ in results]
    assert sorted(sent_by[0] + sent_by[1]) == ids  # each row sent by exactly one of them
    assert {outbox.get(store.db, i).state for i in ids} == {"sent"}
    assert all(outbox.get(store.db, i).attempts == 1 for i in ids)
    assert not any(mail.claimed_by(store.db, i) for i in ids)  # every claim ended with its row's turn


@pytest.mark.both_backends
def test_two_desks_send_from_one_outbox_each_reply_exactly_once(store, backend, desk, dovecot, full_mailbox,
                                                                smtp_sink):
    """Two desks' senders at once: on a team server two people's own logins (alex and priya), each in its
    own process; on SQLite two processes on one file."""
    second = target_of(desk("priya")) if backend == "postgres" else target_of(store)
    assert second != target_of(store) or backend == "sqlite"
    _two_senders_send_each_reply_exactly_once(store, full_mailbox, smtp_sink, target_of(store), second)


# SQLite only: one file reached by two paths (a team server has one URL and no files)
def test_two_senders_one_through_a_symlink_send_each_reply_exactly_once(estore, dovecot, full_mailbox, smtp_sink,
                                                                       tmp_path):
    other = tmp_path / "elsewhere" / "link.db"
    other.parent.mkdir()
    other.symlink_to(estore.path)
    _two_senders_send_each_reply_exactly_once(estore, full_mailbox, smtp_sink, str(estore.path), str(other))


@pytest.mark.both_backends
def test_a_sender_killed_mid_batch_leaves_the_rest_to_another_without_duplicates(store, reopen, dovecot, full_mailbox,
                                                                                 smtp_sink):
    box = full_mailbox.with_(server_files_sent=True)
    smtp_sink.behaviour.file_into = (dovecot, "Sent")
    ids = _queue_replies(store, box, 5)
    args = {"db": target_of(store), "mailbox": box.to_dict(), "password": IMAP_PASSWORD,
            "smtp_password": SMTP_PASSWORD, "die_at": "accepted", "nth": 3}
    proc = subprocess.run([sys.executable, "-m", "tests.channels.email.crash_child", json.dumps(args)],
                          cwd=ROOT, capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert [outbox.get(store.db, i).state for i in ids] == ["sent", "sent", "committing", "queued", "queued"]
    held = mail.claimed_by(store.db, ids[2])
    assert held and not psutil.pid_exists(int(held.split(":")[-2]))  # the dead sender's claim is left behind
    restarted = reopen()
    report = _deliver(restarted, box)  # at once: the claimant is gone from this computer
    assert report.recovered == [ids[2]] and report.sent == ids[3:] and report.elsewhere == []
    mids = _sent_ids(smtp_sink)
    assert len(mids) == 5 and len(set(mids)) == 5
    assert {outbox.get(restarted.db, i).state for i in ids} == {"sent"}
    assert restarted.db.conn.execute("SELECT COUNT(*) FROM email_outbox WHERE claimed_by IS NOT NULL"
                                     ).fetchone()[0] == 0


def _hold(store, outbox_id: int, claimed_by: str, *, state: str = "sending", attempts: int = 1) -> None:
    """Another sender's claim, as its own connection writes it."""
    with store.transaction() as db:
        db.conn.execute("UPDATE email_outbox SET state = ?, attempts = ?, claimed_by = ?, claimed_at = ? WHERE id = ?",
                        (state, attempts, claimed_by, now_iso(), outbox_id))


@pytest.mark.both_backends
def test_a_row_another_desk_holds_is_left_to_it_until_its_claim_times_out(store, dovecot, full_mailbox, smtp_sink):
    [held, free] = _queue_replies(store, full_mailbox, 2)
    _hold(store, held, "other-desk.example:4242:feedc0de")  # a live sender elsewhere: its pid means nothing here
    report = _deliver(store, full_mailbox)
    assert report.elsewhere == [held] and report.sent == [free] and len(smtp_sink.received) == 1
    assert _state(store, held)[0] == "sending"
    # the other desk never came back: after the timeout its row is looked for in Sent, then sent
    later = _deliver(store, full_mailbox, now=utcnow() + timedelta(minutes=16))
    assert later.sent == [held] and later.elsewhere == [] and len(smtp_sink.received) == 2
    assert _state(store, held)[:2] == ("sent", 2)


@pytest.mark.both_backends
def test_a_sender_that_lost_its_row_never_sends_the_final_dot(store, backend, desk, reopen, dovecot, full_mailbox,
                                                               smtp_sink):
    [outbox_id] = _queue_replies(store, full_mailbox, 1)
    # another sender's own connection takes the row over meanwhile (on a team server: another person's desk)
    thief = desk("priya") if backend == "postgres" else reopen()

    def on_stage(stage: str, row_id: int) -> None:
        if stage == "claimed":
            _hold(thief, row_id, "other-desk.example:4242:feedc0de")

    report = _deliver(store, full_mailbox, on_stage=on_stage)
    assert report.elsewhere == [outbox_id] and report.sent == []
    assert smtp_sink.received == [] and smtp_sink.attempts == 0  # DATA never ended: nothing accepted
    assert _state(store, outbox_id)[0] == "sending"  # still the other sender's
    held = mail.claimed_by(store.db, outbox_id)
    assert held == "other-desk.example:4242:feedc0de"


# SQLite only: synchronous is SQLite's setting (on the server every commit is durable)
def test_the_committing_and_sent_steps_are_committed_with_synchronous_full(estore, dovecot, full_mailbox,
                                                                          smtp_sink):
    ticket_id = _ticket_from_mail(estore, dovecot, full_mailbox)
    _, outbox_id = _reply(estore, full_mailbox, ticket_id)
    conn = estore.db.conn  # deliver_pending writes through this thread's connection
    statements: list[str] = []
    levels: dict[str, int] = {}

    def on_stage(stage: str, _row_id: int) -> None:
        levels[stage] = conn.execute("PRAGMA synchronous").fetchone()[0]

    conn.set_trace_callback(statements.append)
    try:
        assert _deliver(estore, full_mailbox, on_stage=on_stage).sent == [outbox_id]
    finally:
        conn.set_trace_callback(None)

    def level_at(fragment: str) -> str:
        """The synchronous setting in force when the (expanded) statement holding ``fragment`` committed."""
        i = next(n for n, sql in enumerate(statements) if fragment in sql)
        commit = statements.index("COMMIT", i)
        assert not [sql for sql in statements[i:commit] if sql.startswith("PRAGMA synchronous =")]
        settings = [sql for sql in statements[:i] if sql.startswith("PRAGMA synchronous =")]
        return settings[-1].rpartition("= ")[2] if settings else "1"

    assert level_at("SET state = 'sending', claimed_by") == "1"  # the claim: an ordinary commit
    assert level_at("SET state = 'committing'") == "FULL"
    assert level_at("SET state = 'sent'") == "FULL"
    assert level_at("SET filed = 'appended'") == "1"
    assert levels == {"claimed": 1, "committing": 1, "accepted": 1, "sent": 1, "filed": 1}  # NORMAL again after
