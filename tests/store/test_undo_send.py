"""Undo send in the core: approve now, hold the send on this desk, take the approval back or send it later.

Both backends; the hold file is a real file in the test's data folder, read again as after a restart.
"""

from __future__ import annotations

import time

import pytest

from agent_assist.channels import replies
from agent_assist.store import Store, audit, drafts
from agent_assist.store.errors import InvalidTransitionError, UnmaskedCardNumberError
from agent_assist.store.held import HeldReplies
from agent_assist.store.tickets import create_ticket, get_ticket, set_status

pytestmark = pytest.mark.both_backends
TEXT = "Hi Tom, we refunded the second charge; it shows on your card within 3 days."


@pytest.fixture
def draft_id(store: Store) -> int:
    tid = create_ticket(store, actor="email", customer_name="Tom Baker", customer_email="tom@example.com",
                        subject="Double charge", body_text="My card was charged twice.")
    set_status(store, tid, "open", actor="alex")
    return drafts.suggest(store, tid, "Hi Tom, we refunded the card.", actor="alex", source="offline")


def _outbound(store: Store, ticket_id: int) -> list[str]:
    return [m.body_text for m in get_ticket(store.db, ticket_id).messages if m.direction == "outbound"]


def test_undo_takes_the_approval_back_and_nothing_is_sent(store, draft_id):
    assert replies.approve_and_hold(store, draft_id, TEXT, actor="alex") == "approved"
    held = HeldReplies().hold(store.path, draft_id, drafts.get(store.db, draft_id).ticket_id, person="alex",
                              delay_s=10, status_after="pending")
    assert 8 < held.seconds_left() <= 10
    back = drafts.withdraw_approval(store, draft_id, actor="alex")
    HeldReplies().drop(store.path, draft_id)
    assert (back.state, back.body, back.approved_by) == ("edited", TEXT, None)
    assert _outbound(store, back.ticket_id) == []
    assert "draft.approval_withdrawn" in [e.action for e in audit.for_ticket(store.db, back.ticket_id)]
    assert HeldReplies().for_database(store.path) == []


def test_a_held_reply_survives_a_restart_and_is_sent_once_when_due(store, draft_id):
    ticket_id = drafts.get(store.db, draft_id).ticket_id
    replies.approve_and_hold(store, draft_id, TEXT, actor="alex")
    HeldReplies().hold(store.path, draft_id, ticket_id, person="alex", delay_s=0.5, status_after="solved")
    assert HeldReplies().due(store.path) == []  # not yet
    time.sleep(1.1)
    due = HeldReplies().due(store.path, "alex")  # a new reader: the file, as after the app restarted
    assert [h.draft_id for h in due] == [draft_id]
    message_id, outbox_id = replies.send_held(store, due[0])
    HeldReplies().drop(store.path, draft_id)
    assert message_id and outbox_id is None  # no mailbox configured: recorded, no e-mail queued
    assert _outbound(store, ticket_id) == [TEXT]
    assert get_ticket(store.db, ticket_id).status == "solved"
    with pytest.raises(InvalidTransitionError):  # sent: it cannot be taken back, nor sent twice
        drafts.withdraw_approval(store, draft_id, actor="alex")
    with pytest.raises(InvalidTransitionError):
        replies.send_held(store, due[0])
    assert _outbound(store, ticket_id) == [TEXT]


def test_only_the_approver_takes_an_approval_back(store, desk, draft_id):
    replies.approve_and_hold(store, draft_id, TEXT, actor="alex")
    with pytest.raises(InvalidTransitionError, match="Only alex, who approved this reply"):
        drafts.withdraw_approval(desk("priya"), draft_id, actor="priya")
    assert drafts.get(store.db, draft_id).state == "approved"


def test_a_card_number_is_asked_about_at_the_click_not_when_it_goes(store, draft_id):
    body = "Hi Tom, we refunded card 4111 1111 1111 1111 today."
    with pytest.raises(UnmaskedCardNumberError):
        replies.approve_and_hold(store, draft_id, body, actor="alex")
    assert drafts.get(store.db, draft_id).state == "suggested"  # nothing approved
    assert replies.approve_and_hold(store, draft_id, body, actor="alex", confirmed_pan=True) == "approved"


def test_a_damaged_hold_file_is_set_aside_not_fatal(tmp_path):
    path = tmp_path / "held.json"
    path.write_text("{not json", encoding="utf-8")
    held = HeldReplies(path)
    assert held.for_database("x") == []
    assert (tmp_path / "held.json.damaged").exists()
    held.hold("x", 1, 2, person="alex", delay_s=5, status_after="pending")
    assert [h.draft_id for h in HeldReplies(path).for_database("x")] == [1]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
