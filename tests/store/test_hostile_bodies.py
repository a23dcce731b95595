"""Hostile bodies enter the store whole and safe: sanitized before the write lock, notes kept with them."""

from __future__ import annotations

import pytest

from agent_assist.sanitize import NOTICE_BAD_CHARACTERS, NOTICE_TOO_DEEP
from agent_assist.store import Store, tickets
from agent_assist.store.tickets import add_inbound_message, create_ticket, get_ticket

pytestmark = pytest.mark.both_backends  # the same store API on SQLite and PostgreSQL


@pytest.fixture
def cleaning_spy(store: Store, monkeypatch):
    """Record, for every body cleaned, whether the store's write transaction was open at the time."""
    seen: list[bool] = []
    real = tickets.clean_body

    def spy(*args, **kwargs):
        seen.append(store.db.conn.in_transaction)
        return real(*args, **kwargs)

    monkeypatch.setattr(tickets, "clean_body", spy)
    return seen


def test_deep_html_is_cleaned_before_the_transaction_and_the_notice_stored(store: Store, cleaning_spy):
    deep = "<div>" * 50_000 + "My card was charged twice." + "</div>" * 50_000
    tid = create_ticket(store, actor="t", customer_name="Mallory", customer_email="m@example.com",
                        subject="Charged twice", body_text=None, body_html=deep)
    mid = add_inbound_message(store, tid, actor="t", author="Mallory", body_text=None, body_html=deep)
    assert cleaning_spy == [False, False]
    ticket = get_ticket(store.db, tid)
    assert [m.id for m in ticket.messages][-1] == mid
    for m in ticket.messages:
        assert m.notes == (NOTICE_TOO_DEEP,)
        assert m.body_text == "My card was charged twice."
        assert "My card was charged twice." in m.body_html and m.body_html.count("<div>") <= 101


def test_ordinary_messages_have_no_notes(store: Store):
    tid = create_ticket(store, actor="t", customer_name="Ann", customer_email=None, subject="Hi",
                        body_text="Hello", body_html="<p>Hello</p>")
    assert get_ticket(store.db, tid).messages[0].notes == ()


def test_lone_surrogates_are_stored_replaced_with_a_notice(store: Store):
    tid = create_ticket(store, actor="t", customer_name="Bad\ud800Name", customer_email=None,
                        subject="Lone \udc00 surrogate", body_text="Hello \ud83d world, \ud83d\ude00 stays")
    add_inbound_message(store, tid, actor="t", author="Bad\udfffName", body_text="again \udbff",
                        body_html="<p>again \udbff</p>")
    ticket = get_ticket(store.db, tid)
    assert ticket.subject == "Lone \ufffd surrogate" and ticket.customer_name == "Bad\ufffdName"
    first, second = ticket.messages
    assert first.body_text == "Hello \ufffd world, \U0001f600 stays" and first.notes == (NOTICE_BAD_CHARACTERS,)
    assert second.author == "Bad\ufffdName" and second.body_text == "again \ufffd"
    assert second.body_html == "<p>again \ufffd</p>" and second.notes == (NOTICE_BAD_CHARACTERS,)


def test_a_prepared_body_is_stored_as_it_is(store: Store, cleaning_spy):
    body = tickets.clean_body("text", "<p>text</p>", notes=["a note from the channel"])
    tid = create_ticket(store, actor="t", customer_name="Ann", customer_email=None, subject="Hi",
                        body_text="ignored", body=body)
    m = get_ticket(store.db, tid).messages[0]
    assert (m.body_text, m.body_html, m.notes) == ("text", "<p>text</p>", ("a note from the channel",))
    assert cleaning_spy == [False]  # the spy's own call above; the store did not clean again


def test_a_pasted_page_in_the_queue_search_is_cut_to_its_first_words(small_store: Store):
    from agent_assist.store.tickets import QueueFilter, queue_count

    page = "Återbetalning " + " ".join(f"word{i}" for i in range(5_000))
    assert queue_count(small_store.db, QueueFilter(statuses=(), text=page)) == 0
    assert queue_count(small_store.db, QueueFilter(statuses=(), text="Återbetalning " * 40)) == 1
