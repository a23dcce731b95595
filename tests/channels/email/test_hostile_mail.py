"""Crafted mail cannot stall the desk: cleaned before the write lock, lone surrogates kept as U+FFFD."""

from __future__ import annotations

import pytest

from agent_assist.channels.email import ingest, message_notes, mime, sync
from agent_assist.sanitize import NOTICE_TOO_DEEP
from agent_assist.store import tickets
from agent_assist.store.tickets import get_ticket

HEAD = (b"From: Mallory <mallory@example.com>\r\nTo: support@desk.example\r\nSubject: Hostile mail number %d\r\n"
        b"Message-ID: <hostile-%d@example.com>\r\nMIME-Version: 1.0\r\n")


def _deep_html_mail(n: int = 1, depth: int = 40_000) -> bytes:
    html = "<div>" * depth + "Please refund order 1234." + "</div>" * depth
    return HEAD % (n, n) + b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html.encode()


def _utf7_mail(n: int = 2) -> bytes:
    # "+2D8-" decodes to the lone surrogate U+D83F; "+AOk-" to "é"
    return (HEAD % (n, n) + b"Content-Type: text/plain; charset=utf-7\r\n\r\n"
            b"Hello +2D8- and caf+AOk-\r\n")


def test_utf7_with_a_lone_surrogate_is_read_with_a_note():
    parsed = mime.parse(_utf7_mail())
    assert parsed.text == "Hello \ufffd and café"
    assert any(mime.NOTE_BAD_CHARACTERS in n for n in parsed.notes)


def test_an_encoded_word_subject_with_a_lone_surrogate():
    raw = (b"From: a@b.example\r\nSubject: =?utf-7?Q?Hi_+2D8-_there?=\r\nContent-Type: text/plain\r\n\r\nbody\r\n")
    parsed = mime.parse(raw)
    assert parsed.subject == "Hi \ufffd there"


def test_html_notes_stay_right_and_linear_on_broken_markup():
    assert mime.html_notes('<img src="https://t.example/p.gif"><img src=cid:x>') == [
        "1 remote image blocked (they can track when a mail is read)"]
    assert mime.html_notes("<img " * 200_000) == []
    assert mime.html_notes("url(" + " " * 1_000_000) == []


@pytest.mark.both_backends
def test_store_mail_files_the_surrogate_mail(store):
    parsed = mime.parse(_utf7_mail())
    done = ingest.store_mail(store, parsed, actor="email", window_days=14, language="en")
    ticket = get_ticket(store.db, done.ticket_id)
    assert ticket.messages[0].body_text == "Hello \ufffd and café"
    assert any(mime.NOTE_BAD_CHARACTERS in n for n in message_notes(store.db, done.message_row))


@pytest.mark.both_backends
def test_sync_cleans_hostile_html_before_the_write_transaction(store, dovecot, mailbox, monkeypatch):
    cleaned_in_transaction: list[bool] = []
    real = tickets.clean_body

    def spy(*args, **kwargs):
        cleaned_in_transaction.append(store.db.conn.in_transaction)
        return real(*args, **kwargs)

    monkeypatch.setattr(tickets, "clean_body", spy)
    dovecot.append([_deep_html_mail(1), _utf7_mail(2)])
    report = sync(store, mailbox, dovecot.password)
    assert (report.imported, report.skipped) == (2, [])
    assert cleaned_in_transaction == [False, False]
    deep, utf7 = (get_ticket(store.db, t) for t in report.new_tickets)
    assert deep.messages[0].notes == (NOTICE_TOO_DEEP,)
    assert deep.messages[0].body_text == "Please refund order 1234."
    assert "Please refund order 1234." in deep.messages[0].body_html
    assert utf7.messages[0].body_text == "Hello \ufffd and café"
