"""Mail in over IMAP, against a real Dovecot: tickets, threading, safety, resumability."""

from __future__ import annotations

import json

import pytest

from agent_assist.channels.email import (
    attachments_for_ticket,
    inline_image,
    list_attachments,
    message_notes,
    save_attachment,
    skipped_messages,
    sync,
)
from agent_assist.channels.email import ingest
from agent_assist.store import tickets
from agent_assist.store.tickets import get_ticket
from tests.channels.email import mails
from tests.channels.email.conftest import email_store


def _ticket_ids(store) -> list[int]:
    return [r[0] for r in store.db.conn.execute("SELECT id FROM tickets ORDER BY id")]


@pytest.mark.both_backends
def test_new_mail_becomes_a_ticket_and_stays_unread(store, dovecot, mailbox):
    dovecot.append(mails.plain(body="Hello, I was charged a late fee twice for order LP12345678. Please refund it."))
    report = sync(store, mailbox, dovecot.password)
    assert (report.imported, report.threaded, report.duplicates, report.skipped) == (1, 0, 0, [])
    ticket = get_ticket(store.db, report.new_tickets[0])
    assert ticket.subject == "Late fee charged twice"
    assert ticket.channel == "email" and ticket.status == "new" and ticket.language == "en"
    assert ticket.customer_email == "tom@example.co.uk" and ticket.customer_name == "Tom Baker"
    assert [m.direction for m in ticket.messages] == ["inbound"]
    assert "late fee twice" in ticket.messages[0].body_text
    assert all("\\Seen" not in f for f in dovecot.flags())  # BODY.PEEK + read-only EXAMINE
    # nothing new: nothing happens
    again = sync(store, mailbox, dovecot.password)
    assert again.processed == 0 and _ticket_ids(store) == [ticket.id]


@pytest.mark.both_backends
def test_language_is_detected_offline(store, dovecot, mailbox):
    dovecot.append(mails.plain(sender="Anna <anna@example.se>", subject="Var är min återbetalning?",
                               body="Hej! Jag returnerade skorna för två veckor sedan men har inte fått pengarna."))
    report = sync(store, mailbox, dovecot.password)
    assert get_ticket(store.db, report.new_tickets[0]).language == "sv"


@pytest.mark.both_backends
def test_replies_thread_by_in_reply_to_and_references(store, dovecot, mailbox):
    first = "<first@mail.example>"
    dovecot.append(mails.plain(message_id=first))
    dovecot.append(mails.plain(subject="Something else entirely", message_id="<second@mail.example>",
                               in_reply_to=first, body="Any news?"))
    dovecot.append(mails.plain(sender="Colleague <cc@other.example>", subject="Fwd: whatever",
                               message_id="<third@other.example>", references=f"<unknown@x.example> {first}",
                               body="Forwarding the receipt."))
    report = sync(store, mailbox, dovecot.password)
    assert (report.imported, report.threaded) == (1, 2)
    ticket = get_ticket(store.db, report.new_tickets[0])
    assert [m.body_text.strip() for m in ticket.messages][1:] == ["Any news?", "Forwarding the receipt."]
    hows = [r[0] for r in store.db.conn.execute("SELECT outcome FROM email_uids ORDER BY uid")]
    assert hows == ["imported", "threaded", "threaded"]


@pytest.mark.both_backends
def test_subject_fallback_same_customer_only(store, dovecot, mailbox):
    dovecot.append(mails.plain(message_id="<a1@mail.example>"))
    sync(store, mailbox, dovecot.password)
    # no threading headers at all, a localised prefix: same customer, same subject -> same ticket
    dovecot.append(mails.plain(subject="AW: SV: Late fee charged twice", message_id="<a2@mail.example>",
                               body="Still waiting."))
    # another customer with the same subject -> a ticket of their own
    dovecot.append(mails.plain(sender="Someone Else <else@example.org>", subject="Re: Late fee charged twice",
                               message_id="<a3@mail.example>"))
    report = sync(store, mailbox, dovecot.password)
    assert (report.imported, report.threaded) == (1, 1)
    assert len(_ticket_ids(store)) == 2


@pytest.mark.both_backends
def test_subject_fallback_respects_the_window(store, dovecot, mailbox):
    dovecot.append(mails.plain(message_id="<w1@mail.example>"))
    sync(store, mailbox.with_(thread_window_days=0), dovecot.password)
    dovecot.append(mails.plain(subject="Re: Late fee charged twice", message_id="<w2@mail.example>"))
    report = sync(store, mailbox.with_(thread_window_days=0), dovecot.password)
    assert report.imported == 1 and report.threaded == 0


@pytest.mark.both_backends
def test_triage_runs_when_mail_arrives(store, dovecot, mailbox):
    dovecot.append(mails.plain(message_id="<t1@mail.example>", body="Where is my parcel?"))
    ticket_id = sync(store, mailbox, dovecot.password).new_tickets[0]
    assert get_ticket(store.db, ticket_id).flags == ()
    dovecot.append(mails.plain(subject="Re: Late fee charged twice", message_id="<t2@mail.example>",
                               in_reply_to="<t1@mail.example>",
                               body="I never made this purchase, someone used my card. This is fraud."))
    sync(store, mailbox, dovecot.password)
    flags = get_ticket(store.db, ticket_id).flags
    assert [(f.kind, f.source) for f in flags] == [("fraud", "rules")]
    triaged = store.db.conn.execute("SELECT COUNT(*) FROM audit WHERE action = 'ticket.triaged' AND ticket_id = ?",
                                     (ticket_id,)).fetchone()[0]
    assert triaged == 1  # once, where the message came in


@pytest.mark.both_backends
def test_new_mail_reopens_a_solved_ticket(store, dovecot, mailbox):
    dovecot.append(mails.plain(message_id="<r1@mail.example>"))
    ticket_id = sync(store, mailbox, dovecot.password).new_tickets[0]
    tickets.set_status(store, ticket_id, "solved", actor="alex")
    dovecot.append(mails.plain(subject="Re: Late fee charged twice", message_id="<r2@mail.example>",
                               in_reply_to="<r1@mail.example>", body="It happened again!"))
    report = sync(store, mailbox, dovecot.password)
    assert report.touched_tickets == [ticket_id]
    assert get_ticket(store.db, ticket_id).status == "open"


@pytest.mark.both_backends
def test_html_is_sanitized_and_attachments_are_listed_not_opened(store, dovecot, mailbox, tmp_path):
    dovecot.append(mails.html_with_attachments())
    report = sync(store, mailbox, dovecot.password)
    ticket = get_ticket(store.db, report.new_tickets[0])
    message = ticket.messages[0]
    html = message.body_html
    assert "<script" not in html and "<form" not in html and "onclick" not in html
    assert "tracker.example.com" not in html  # remote image (tracking pixel) dropped
    assert 'src="cid:logo@example.se"' in html  # the inline image stays, served locally
    assert "Återbetalningen saknas" in message.body_text
    files = list_attachments(store.db, message.id)
    assert [(f.filename, f.inline, f.risky) for f in files] == [
        ("logo.png", True, False), ("kvitto maj.pdf", False, False), ("invoice.exe", False, True)]
    assert attachments_for_ticket(store.db, ticket.id) == files
    ctype, data = inline_image(store.db, message.id, "cid:logo@example.se")
    assert ctype == "image/png" and data == mails.PNG_1PX
    notes = message_notes(store.db, message.id)
    assert any("script" in n for n in notes) and any("remote image" in n for n in notes)
    saved = save_attachment(store.db, files[1].id, tmp_path)
    assert saved == tmp_path / "kvitto maj.pdf" and saved.read_bytes().startswith(b"%PDF")
    again = save_attachment(store.db, files[1].id, tmp_path)  # never over an existing file
    assert again.name == "kvitto maj (2).pdf"
    assert not (saved.stat().st_mode & 0o111)


@pytest.mark.both_backends
def test_identical_attachments_are_stored_once(store, dovecot, mailbox):
    dovecot.append([mails.html_with_attachments(message_id=f"<same-logo-{i}@example.se>") for i in range(3)])
    sync(store, mailbox, dovecot.password)
    assert store.db.conn.execute("SELECT COUNT(*) FROM email_attachments").fetchone()[0] == 9
    assert store.db.conn.execute("SELECT COUNT(*) FROM email_blobs").fetchone()[0] == 3


@pytest.mark.both_backends
def test_first_sync_progress_cancel_and_resume_without_duplicates(store, dovecot, mailbox):
    dovecot.append(mails.batch(45))
    seen: list[tuple[int, int]] = []
    first = sync(store, mailbox, dovecot.password, batch=10, progress=lambda d, t: seen.append((d, t)),
                 cancel=lambda: len(seen) >= 3)  # stop after two batches
    assert first.cancelled and first.imported == 20 and first.last_uid == 20
    assert seen == [(0, 45), (10, 45), (20, 45)]
    seen.clear()
    second = sync(store, mailbox, dovecot.password, batch=10, progress=lambda d, t: seen.append((d, t)))
    assert not second.cancelled and second.imported == 25 and second.total == 25
    assert seen[-1] == (25, 25)
    assert len(_ticket_ids(store)) == 45
    ids = [r[0] for r in store.db.conn.execute("SELECT message_id FROM email_messages")]
    assert len(ids) == len(set(ids)) == 45


@pytest.mark.both_backends
def test_a_crash_mid_batch_loses_only_that_batch(store, dovecot, mailbox, monkeypatch, reopen):
    dovecot.append(mails.batch(30))
    real = ingest.store_mail
    calls = {"n": 0}

    class Crash(BaseException):
        pass

    def crashing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 15:
            raise Crash  # the process "dies" in the middle of the second batch
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest, "store_mail", crashing)
    with pytest.raises(Crash):
        sync(store, mailbox, dovecot.password, batch=10)
    assert len(_ticket_ids(store)) == 10  # the first batch committed; the second rolled back whole
    monkeypatch.setattr(ingest, "store_mail", real)
    restarted = reopen()
    report = sync(restarted, mailbox, dovecot.password, batch=10)
    assert report.imported == 20 and len(_ticket_ids(restarted)) == 30


@pytest.mark.both_backends
def test_uidvalidity_change_resyncs_without_duplicates(store, dovecot, mailbox):
    dovecot.create_folder("Support")
    box = mailbox.with_(folder="Support")
    three = mails.batch(3, prefix="uv")
    dovecot.append(three, folder="Support")
    first = sync(store, box, dovecot.password)
    assert first.imported == 3
    old_validity = dovecot.uidvalidity("Support")
    # the server renumbers the folder (here: deleted and created again, same mail plus one new)
    dovecot.delete_folder("Support")
    dovecot.create_folder("Support")
    dovecot.append(three + mails.batch(1, seed=9, prefix="uvnew"), folder="Support")
    assert dovecot.uidvalidity("Support") != old_validity
    second = sync(store, box, dovecot.password)
    assert second.uidvalidity_changed
    assert (second.imported, second.duplicates) == (1, 3)
    assert len(_ticket_ids(store)) == 4


@pytest.mark.both_backends
def test_same_message_in_two_folders_is_one_ticket(store, dovecot, mailbox):
    dovecot.create_folder("Escalations")
    raw = mails.plain(message_id="<both@mail.example>")
    dovecot.append(raw)
    dovecot.append(raw, folder="Escalations")
    sync(store, mailbox, dovecot.password)
    report = sync(store, mailbox.with_(folder="Escalations"), dovecot.password)
    assert report.duplicates == 1 and len(_ticket_ids(store)) == 1


@pytest.mark.both_backends
def test_bad_input_never_stops_the_sync(store, dovecot, mailbox):
    bad = mails.bad_mails()
    dovecot.append(list(bad.values()) + [mails.plain(message_id="<good-after-bad@mail.example>")])
    report = sync(store, mailbox, dovecot.password, batch=5)
    assert report.processed == len(bad) + 1 and report.last_uid == len(bad) + 1
    assert report.skipped == []  # each one is shown safely, with a note, rather than dropped
    good = store.db.conn.execute(
        "SELECT ticket_id FROM email_messages WHERE message_id = '<good-after-bad@mail.example>'").fetchone()
    assert good is not None
    by_id = {r[0]: (r[1], json.loads(r[2]), r[3]) for r in store.db.conn.execute(
        "SELECT em.message_id, m.body_text, em.notes, m.body_html FROM email_messages em "
        "JOIN messages m ON m.id = em.message_row")}
    deep_text, deep_notes, _ = by_id["<deep@example.com>"]
    assert "could not be shown" in deep_text and any("nested too deeply" in n for n in deep_notes)
    _, hostile_notes, hostile_html = by_id["<hh2@example.com>"]
    assert "<script" not in hostile_html and "iframe" not in hostile_html and "javascript:" not in hostile_html
    assert "onerror" not in hostile_html and "t.example" not in hostile_html
    assert any("removed for safety" in n for n in hostile_notes)
    assert any("unknown character set" in n for n in by_id["<uc@example.com>"][1])
    assert "Résumé" in by_id["<lc@example.com>"][0]  # lying charset: still readable
    assert any("more than 500 parts" in n for n in by_id["<mp@example.com>"][1])
    names = [r[0] for r in store.db.conn.execute(
        "SELECT a.filename FROM email_attachments a JOIN email_messages em ON em.id = a.email_message "
        "WHERE em.message_id = '<ef@example.com>'")]
    assert names and all("/" not in n and not n.startswith(".") for n in names)
    subject = store.db.conn.execute(
        "SELECT t.subject FROM tickets t JOIN email_messages em ON em.ticket_id = t.id "
        "WHERE em.message_id = '<hh@example.com>'").fetchone()[0]
    assert len(subject) <= 510  # a 300 kB subject is cut
    assert skipped_messages(store, mailbox) == []


@pytest.mark.both_backends
def test_a_message_that_cannot_be_stored_is_skipped_with_a_reason(store, dovecot, mailbox, monkeypatch):
    dovecot.append(mails.batch(3, prefix="sk"))
    real = ingest.store_mail

    def fussy(store, parsed, **kwargs):
        if parsed.message_id.startswith("<sk-1-1@"):
            raise ValueError("simulated storage failure")
        return real(store, parsed, **kwargs)

    monkeypatch.setattr(ingest, "store_mail", fussy)
    report = sync(store, mailbox, dovecot.password)
    reason = "it could not be stored (ValueError: simulated storage failure)"
    assert report.imported == 2 and report.skipped == [(2, reason)]
    assert skipped_messages(store, mailbox) == [(report.uidvalidity, 2, report.skipped[0][1])]
    assert store.db.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 2  # no half-written ticket


@pytest.mark.slow
# SQLite only: it compares two database files (and 25 MB through a second backend adds time, not coverage)
def test_a_25_mb_mail_is_imported_and_a_larger_one_is_marked(estore, dovecot, mailbox):
    big = mails.large_mail(25)
    dovecot.append(big)
    report = sync(estore, mailbox, dovecot.password)
    assert report.imported == 1
    ticket = get_ticket(estore.db, report.new_tickets[0])
    files = list_attachments(estore.db, ticket.messages[0].id)
    assert [(f.filename, f.size) for f in files] == [("scans.zip", 25 * 1024 * 1024)]
    # over the configured limit: headers only, with the reason, still a ticket
    other = email_store(estore.path.with_name("other.db"))
    report = sync(other, mailbox.with_(max_message_bytes=10 * 1024 * 1024), dovecot.password)
    ticket = get_ticket(other.db, report.new_tickets[0])
    assert ticket.subject == "Scans of my documents"
    assert "too large" in ticket.messages[0].body_text
    other.close()


# SQLite only: it reads the database's own files for the password's bytes
def test_password_is_never_written_to_the_database(estore, dovecot, mailbox):
    dovecot.append(mails.plain())
    sync(estore, mailbox, dovecot.password)
    estore.close()
    for path in estore.path.parent.glob("assist.db*"):
        assert dovecot.password.encode() not in path.read_bytes()
