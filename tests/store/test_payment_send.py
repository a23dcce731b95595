"""The send path refuses a reply that holds a full card number unless a person confirms it."""

from __future__ import annotations

import pytest

from agent_assist.channels import replies
from agent_assist.store import Store, StoreError, audit, drafts
from agent_assist.store.errors import UnmaskedCardNumberError
from agent_assist.store.payment import find_card_numbers
from agent_assist.store.tickets import create_ticket, set_status

pytestmark = pytest.mark.both_backends  # the same store API on SQLite and PostgreSQL


@pytest.fixture
def draft_id(store: Store) -> int:
    tid = create_ticket(store, actor="email", customer_name="Tom Baker", customer_email="tom@example.com",
                        subject="Double charge", body_text="My card was charged twice.")
    set_status(store, tid, "open", actor="alex")
    return drafts.suggest(store, tid, "Hi Tom, we refunded the card.", actor="assistant", source="ai")


def _outbound(store: Store) -> int:
    return store.db.conn.execute("SELECT COUNT(*) FROM messages WHERE direction = 'outbound'").fetchone()[0]


@pytest.mark.parametrize("text, found", [
    ("card 4111 1111 1111 1111.", ["4111 1111 1111 1111"]),
    ("card 4111-1111-1111-1111", ["4111-1111-1111-1111"]),
    ("amex 378282246310005 ok", ["378282246310005"]),
    ("card \u2022\u2022\u2022\u2022 1111 and 4111 1111 1111 1112", []),  # masked; and one that fails Luhn
    ("order 2024-0001-2345 and phone +46 70 123 45 67", []),
])
def test_card_numbers_are_found_by_luhn(text: str, found: list[str]) -> None:
    assert find_card_numbers(text) == found


def test_a_full_card_number_is_refused_and_nothing_changes(store: Store, draft_id: int) -> None:
    body = "Hi Tom, we refunded card 4111 1111 1111 1111 today."
    with pytest.raises(UnmaskedCardNumberError) as err:
        replies.approve_and_send(store, draft_id, body, actor="alex")
    assert isinstance(err.value, StoreError)
    assert "1111" in str(err.value) and "4111 1111" not in str(err.value) and str(err.value).endswith(".")
    assert _outbound(store) == 0
    d = drafts.get(store.db, draft_id)
    assert d.state == "suggested" and d.approved_by is None  # the approval was rolled back with the send


def test_a_confirmed_card_number_is_sent_and_the_audit_says_so(store: Store, draft_id: int) -> None:
    body = "Hi Tom, the card 4111 1111 1111 1111 is the one on file."
    message_id, _ = replies.approve_and_send(store, draft_id, body, actor="alex", confirmed_pan=True)
    assert message_id is not None and _outbound(store) == 1
    sent = [e for e in audit.for_ticket(store.db, drafts.get(store.db, draft_id).ticket_id)
            if e.action == "reply.sent"][-1]
    assert (sent.actor, sent.details["message_id"]) == ("alex", message_id)
    assert sent.details["full_card_numbers_confirmed"] == 1


def test_a_reply_without_card_numbers_claims_no_confirmation(store: Store, draft_id: int) -> None:
    message_id, _ = replies.approve_and_send(store, draft_id, "Hi Tom, done.", actor="alex", confirmed_pan=True)
    sent = [e for e in audit.for_ticket(store.db, drafts.get(store.db, draft_id).ticket_id)
            if e.action == "reply.sent"][-1]
    assert sent.details["message_id"] == message_id and "full_card_numbers_confirmed" not in sent.details


def test_masked_payment_data_is_sent_without_asking(store: Store, draft_id: int) -> None:
    body = "Hi Tom, we refunded card \u2022\u2022\u2022\u2022 1111 to SE\u2022\u2022 \u2022\u2022\u2022\u2022 7466."
    message_id, _ = replies.approve_and_send(store, draft_id, body, actor="alex")
    assert message_id is not None


def test_send_itself_refuses_an_approved_draft_with_a_card_number(store: Store, draft_id: int) -> None:
    drafts.approve(store, draft_id, "Your card 5555 5555 5555 4444 is fine.", actor="alex")
    with pytest.raises(UnmaskedCardNumberError):
        drafts.send(store, draft_id, actor="alex")
    assert drafts.get(store.db, draft_id).state == "approved"
