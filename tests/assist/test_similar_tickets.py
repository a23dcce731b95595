"""How we answered this before: solved tickets found by meaning in any language, with the reply sent,
the other customer's name kept out, offered to the draft prompt as [T-n], and turned into an article draft."""

from __future__ import annotations

import pytest

from agent_assist.assist import prompts
from agent_assist.assist.similar_tickets import article_draft, similar_solved
from agent_assist.knowledge import semantic
from agent_assist.store import Store, drafts, tickets, vectors
from tests.knowledge.test_semantic import offline_layer


def solved(store: Store, subject: str, question: str, reply: str, *, name: str = "Maria Lopez",
           email: str = "maria@example.com") -> int:
    ticket_id = tickets.create_ticket(store, actor="mail", customer_name=name, customer_email=email,
                                      subject=subject, body_text=question)
    draft_id = drafts.suggest(store, ticket_id, reply, actor="sam", source="human")
    drafts.approve_and_send(store, draft_id, reply, actor="sam", status_after="solved")
    return ticket_id


@pytest.fixture
def desk(tmp_path) -> Store:
    store = Store(tmp_path / "desk.db")
    yield store
    store.close()


@pytest.fixture
def layer():
    yield offline_layer()
    semantic.use(None)


def test_a_german_question_finds_the_english_ticket_we_solved_with_the_reply_sent(desk, layer) -> None:
    parcel = solved(desk, "Parcel never arrived",
                    "Hi, my parcel was supposed to arrive last week and it never came. Tracking says delivered.",
                    "Hi Maria,\n\nI'm sorry your parcel went missing. I have opened a claim with the courier and "
                    "paused your payments for 14 days while they investigate.\n\nBest regards,\nSam")
    solved(desk, "Change my e-mail address", "How do I change the e-mail address on my account?",
           "Hi Maria,\n\nYou can change it under Settings → Profile.\n\nSam", name="Maria Lopez")
    result = layer.index_tickets(desk)
    assert result.embedded == 2
    assert layer.index_tickets(desk).embedded == 0  # incremental: nothing new

    open_id = tickets.create_ticket(desk, actor="mail", customer_name="Jonas Weber", customer_email="jw@example.de",
                                    subject="Paket nicht angekommen",
                                    body_text="Mein Paket ist nie angekommen, obwohl die Sendungsverfolgung "
                                              "zugestellt anzeigt. Was nun?", language="de")
    found = similar_solved(desk.db, tickets.get_ticket(desk.db, open_id), layer=layer)
    assert [e.ticket_id for e in found][:1] == [parcel]
    best = found[0]
    assert "claim with the courier" in best.reply and best.citation == f"[T-{parcel}]"
    assert "Maria" not in best.reply and "[customer]" in best.reply  # the other customer's name stays out
    assert best.language == "en" and 0 < best.score <= 1


def test_the_open_ticket_is_never_its_own_example_and_unsolved_tickets_are_not_indexed(desk, layer) -> None:
    done = solved(desk, "Refund not received", "I returned the shoes two weeks ago, where is my refund?",
                  "Hi Maria, the refund was sent on Monday and takes 3–5 days. Sam")
    pending = tickets.create_ticket(desk, actor="mail", customer_name="Ola", customer_email="ola@example.com",
                                    subject="Refund not received", body_text="Where is my refund for the shoes?")
    layer.index_tickets(desk)
    assert vectors.digests(desk.db, vectors.TICKET, layer.model).keys() == {done}
    assert all(e.ticket_id != done for e in similar_solved(desk.db, tickets.get_ticket(desk.db, done), layer=layer))
    assert [e.ticket_id for e in similar_solved(desk.db, tickets.get_ticket(desk.db, pending), layer=layer)] == [done]
    tickets.add_inbound_message(desk, done, actor="mail", author="Maria Lopez", body_text="It still has not come.")
    layer.index_tickets(desk)  # reopened: no longer an example
    assert vectors.digests(desk.db, vectors.TICKET, layer.model) == {}


def test_past_replies_reach_the_prompt_redacted_fenced_and_citable(desk, layer) -> None:
    parcel = solved(desk, "Parcel never arrived", "My parcel never came. Card 4111 1111 1111 1111.",
                    "Hi Maria, I opened a courier claim and paused payments for 14 days. Sam")
    layer.index_tickets(desk)
    open_id = tickets.create_ticket(desk, actor="mail", customer_name="Tom", customer_email="tom@example.com",
                                    subject="Where is my parcel?", body_text="My parcel has not arrived yet.")
    ticket = tickets.get_ticket(desk.db, open_id)
    examples = similar_solved(desk.db, ticket, layer=layer)
    from agent_assist.assist.redact import Redactor

    messages = prompts.build_draft_messages(ticket, [], {}, agent_name="Alex", language="en",
                                            redactor_session=Redactor().session(), examples=examples)
    user = messages[1]["content"]
    assert f"[T-{parcel}]" in user and prompts.EXAMPLES_OPEN in user and prompts.EXAMPLES_CLOSE in user
    assert "4111 1111 1111 1111" not in user and "Maria" not in user
    assert "courier claim" in user


def test_a_solved_answer_becomes_an_article_draft_without_greeting_or_signature(desk, layer) -> None:
    solved(desk, "Parcel never arrived", "My parcel never came.",
           "Hi Maria,\n\nI have opened a claim with the courier and paused your payments for 14 days.\n\n"
           "Best regards,\nSam")
    layer.index_tickets(desk)
    open_id = tickets.create_ticket(desk, actor="mail", customer_name="Tom", customer_email="tom@example.com",
                                    subject="Parcel missing", body_text="My parcel never arrived.")
    (example, *_rest) = similar_solved(desk.db, tickets.get_ticket(desk.db, open_id), layer=layer)
    draft = article_draft(example)
    assert draft["title"] == "Parcel never arrived" and draft["locale"] == "en"
    assert draft["body"] == "I have opened a claim with the courier and paused your payments for 14 days."


def test_without_a_layer_there_are_no_examples(desk) -> None:
    solved(desk, "Parcel never arrived", "My parcel never came.", "We opened a claim. Sam")
    ticket = tickets.get_ticket(desk.db, 1)
    assert similar_solved(desk.db, ticket) == []  # none active: nothing, and no error
