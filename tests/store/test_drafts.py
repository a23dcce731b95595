"""The draft lifecycle: suggested -> edited -> approved -> sent (or discarded), and its audit trail."""

from __future__ import annotations

import pytest

from agent_assist.store import Store, audit, drafts
from agent_assist.store.errors import InvalidTransitionError, NotFoundError
from agent_assist.store.tickets import create_ticket, get_ticket, set_status, set_triage
from tests.store.by_hand import write_by_hand

pytestmark = pytest.mark.both_backends  # the same store API on SQLite and PostgreSQL

BODY = "Hi Tom,\n\nYour refund shows within 5 days. [KB-2]\n\nKind regards,\nAlex"


def _count(store: Store, sql: str, *params) -> int:
    return store.db.conn.execute(sql, params).fetchone()[0]


def outbound_count(store: Store) -> int:
    return _count(store, "SELECT COUNT(*) FROM messages WHERE direction = 'outbound'")


def message_count(store: Store) -> int:
    return _count(store, "SELECT COUNT(*) FROM messages")


@pytest.fixture
def ticket_id(store: Store) -> int:
    tid = create_ticket(store, actor="email", customer_name="Tom Baker", customer_email="tom@example.com",
                        subject="Where is my refund?", body_text="I returned it two weeks ago.")
    set_status(store, tid, "open", actor="alex")
    return tid


@pytest.fixture
def draft_id(store: Store, ticket_id: int) -> int:
    # the desk that asked for the suggestion is its writer (a team server records its login)
    return drafts.suggest(store, ticket_id, BODY, actor="alex", source="ai", citations=[2, 5],
                          provider="local", model="tiny-1", prompt_version="reply-3")


def state(store: Store, draft_id: int) -> str:
    return drafts.get(store.db, draft_id).state


# -- the happy path ----------------------------------------------------------------------------
def test_suggest_records_a_suggestion(store: Store, ticket_id: int, draft_id: int) -> None:
    d = drafts.get(store.db, draft_id)
    assert (d.ticket_id, d.state, d.source, d.body, d.original_body) == (ticket_id, "suggested", "ai", BODY, BODY)
    assert d.citations == (2, 5)
    assert (d.provider, d.model, d.prompt_version, d.created_by, d.approved_by) == \
        ("local", "tiny-1", "reply-3", "alex", None)
    assert drafts.active_for_ticket(store.db, ticket_id) == d
    assert outbound_count(store) == 0


def test_full_lifecycle(store: Store, ticket_id: int, draft_id: int) -> None:
    drafts.save_edit(store, draft_id, BODY + "\nP.S. edited", actor="alex")
    d = drafts.get(store.db, draft_id)
    assert d.state == "edited"
    assert d.body == BODY + "\nP.S. edited" and d.original_body == BODY

    drafts.approve(store, draft_id, d.body, actor="alex")
    d = drafts.get(store.db, draft_id)
    assert (d.state, d.approved_by) == ("approved", "alex")
    assert outbound_count(store) == 0  # approving sends nothing

    mid = drafts.send(store, draft_id, actor="alex")
    d = drafts.get(store.db, draft_id)
    assert d.state == "sent"
    assert drafts.active_for_ticket(store.db, ticket_id) is None
    t = get_ticket(store.db, ticket_id)
    assert t.status == "pending"
    sent = [m for m in t.messages if m.direction == "outbound"]
    assert len(sent) == 1
    assert (sent[0].id, sent[0].author, sent[0].body_text) == (mid, "alex", BODY + "\nP.S. edited")
    assert audit.verify(store.db).ok


def test_approve_straight_from_suggested_with_the_same_text(store: Store, draft_id: int) -> None:
    drafts.approve(store, draft_id, BODY, actor="alex")
    assert state(store, draft_id) == "approved"
    actions = [r[0] for r in store.db.conn.execute("SELECT action FROM audit WHERE draft_id = ? ORDER BY id",
                                                   (draft_id,))]
    assert actions == ["draft.suggested", "draft.approved"]  # no edit recorded when nothing changed


def test_approve_with_new_text_records_the_edit(store: Store, draft_id: int) -> None:
    drafts.approve(store, draft_id, "Short answer.", actor="alex")
    d = drafts.get(store.db, draft_id)
    assert (d.state, d.body, d.approved_by) == ("approved", "Short answer.", "alex")
    actions = [r[0] for r in store.db.conn.execute("SELECT action FROM audit WHERE draft_id = ? ORDER BY id",
                                                   (draft_id,))]
    assert actions == ["draft.suggested", "draft.edited", "draft.approved"]


def test_editing_an_approved_draft_withdraws_the_approval(store: Store, draft_id: int) -> None:
    drafts.approve(store, draft_id, BODY, actor="alex")
    drafts.save_edit(store, draft_id, BODY + " more", actor="alex")
    d = drafts.get(store.db, draft_id)
    assert (d.state, d.approved_by) == ("edited", None)
    with pytest.raises(InvalidTransitionError):
        drafts.send(store, draft_id, actor="alex")
    assert outbound_count(store) == 0


@pytest.mark.parametrize("status_after", ["pending", "solved", "open"])
def test_ticket_status_after_sending(store: Store, ticket_id: int, draft_id: int, status_after: str) -> None:
    drafts.approve(store, draft_id, BODY, actor="alex")
    drafts.send(store, draft_id, actor="alex", status_after=status_after)
    assert get_ticket(store.db, ticket_id).status == status_after
    e = audit.for_ticket(store.db, ticket_id)[-1]
    assert e.action == "reply.sent"
    assert (e.details["status_before"], e.details["status_after"]) == ("open", status_after)


def test_save_edit_is_a_no_op_when_unchanged(store: Store, draft_id: int) -> None:
    before = drafts.get(store.db, draft_id)
    audit_rows = _count(store, "SELECT COUNT(*) FROM audit")
    drafts.save_edit(store, draft_id, BODY, actor="alex")
    assert drafts.get(store.db, draft_id) == before
    assert _count(store, "SELECT COUNT(*) FROM audit") == audit_rows


def test_save_edit_twice_stays_edited(store: Store, draft_id: int) -> None:
    drafts.save_edit(store, draft_id, "one", actor="alex")
    drafts.save_edit(store, draft_id, "two", actor="alex")
    d = drafts.get(store.db, draft_id)
    assert (d.state, d.body, d.original_body) == ("edited", "two", BODY)
    edits = store.db.conn.execute(
        "SELECT details FROM audit WHERE action = 'draft.edited' AND draft_id = ? ORDER BY id", (draft_id,)).fetchall()
    assert len(edits) == 2


def test_discard(store: Store, ticket_id: int, draft_id: int) -> None:
    drafts.discard(store, draft_id, actor="alex")
    assert state(store, draft_id) == "discarded"
    assert drafts.active_for_ticket(store.db, ticket_id) is None
    e = audit.for_ticket(store.db, ticket_id)[-1]
    assert (e.action, e.actor, e.draft_id) == ("draft.discarded", "alex", draft_id)
    for action in (lambda: drafts.discard(store, draft_id, actor="alex"),
                   lambda: drafts.save_edit(store, draft_id, "revive", actor="alex"),
                   lambda: drafts.approve(store, draft_id, BODY, actor="alex")):
        with pytest.raises(InvalidTransitionError):
            action()
        assert state(store, draft_id) == "discarded"


def test_a_sent_draft_is_final(store: Store, draft_id: int) -> None:
    drafts.approve(store, draft_id, BODY, actor="alex")
    drafts.send(store, draft_id, actor="alex")
    for action in (lambda: drafts.discard(store, draft_id, actor="alex"),
                   lambda: drafts.save_edit(store, draft_id, "changed after sending", actor="alex"),
                   lambda: drafts.approve(store, draft_id, BODY, actor="alex")):
        with pytest.raises(InvalidTransitionError):
            action()
    d = drafts.get(store.db, draft_id)
    assert (d.state, d.body) == ("sent", BODY)


def test_active_for_ticket_is_the_newest_open_draft(store: Store, ticket_id: int, draft_id: int) -> None:
    newer = drafts.suggest(store, ticket_id, "newer", actor="assistant", source="offline")
    assert drafts.active_for_ticket(store.db, ticket_id).id == newer
    drafts.discard(store, newer, actor="alex")
    assert drafts.active_for_ticket(store.db, ticket_id).id == draft_id


def test_get_missing_draft(store: Store) -> None:
    with pytest.raises(NotFoundError):
        drafts.get(store.db, 31337)
    with pytest.raises(NotFoundError):
        drafts.send(store, 31337, actor="alex")


# -- send refuses everything but an approved draft ------------------------------------------------
def _put_in(store: Store, draft_id: int, wanted: str) -> None:
    if wanted == "suggested":
        return
    if wanted == "edited":
        drafts.save_edit(store, draft_id, BODY + "!", actor="alex")
    elif wanted == "discarded":
        drafts.discard(store, draft_id, actor="alex")
    elif wanted == "sent":
        drafts.approve(store, draft_id, BODY, actor="alex")
        drafts.send(store, draft_id, actor="alex")
    elif wanted == "awaiting_supervisor":  # a four-eyes ticket: the writer's approval asks a supervisor
        set_triage(store, drafts.get(store.db, draft_id).ticket_id, [("fraud", "an unknown purchase")],
                   sentiment=None)
        assert drafts.approve(store, draft_id, BODY, actor="alex") == "awaiting_supervisor"
    elif wanted == "approved-without-approver":  # only a hand-written row claims that
        write_by_hand(store, "UPDATE drafts SET state = 'approved', approved_by = NULL WHERE id = ?", (draft_id,))
    else:  # pragma: no cover
        raise AssertionError(wanted)


@pytest.mark.parametrize("wanted", ["suggested", "edited", "discarded", "sent", "awaiting_supervisor",
                                    "approved-without-approver"])
def test_send_refuses_a_draft_that_is_not_approved(store: Store, ticket_id: int, draft_id: int, wanted: str) -> None:
    _put_in(store, draft_id, wanted)
    before_state = state(store, draft_id)
    before_messages = message_count(store)
    before_status = get_ticket(store.db, ticket_id).status
    before_audit = _count(store, "SELECT COUNT(*) FROM audit")
    with pytest.raises(InvalidTransitionError):
        drafts.send(store, draft_id, actor="alex")
    assert message_count(store) == before_messages
    assert state(store, draft_id) == before_state
    assert get_ticket(store.db, ticket_id).status == before_status
    assert _count(store, "SELECT COUNT(*) FROM audit") == before_audit


@pytest.mark.parametrize("actor", ["", "   "])
def test_send_needs_a_named_person(store: Store, draft_id: int, actor: str) -> None:
    drafts.approve(store, draft_id, BODY, actor="alex")
    with pytest.raises(InvalidTransitionError):
        drafts.send(store, draft_id, actor=actor)
    assert outbound_count(store) == 0
    assert state(store, draft_id) == "approved"


def test_send_refuses_an_unknown_status_after(store: Store, ticket_id: int, draft_id: int) -> None:
    drafts.approve(store, draft_id, BODY, actor="alex")
    with pytest.raises(InvalidTransitionError):
        drafts.send(store, draft_id, actor="alex", status_after="archived")
    assert outbound_count(store) == 0
    assert state(store, draft_id) == "approved"
    assert get_ticket(store.db, ticket_id).status == "open"


def test_a_draft_is_sent_only_once(store: Store, draft_id: int) -> None:
    drafts.approve(store, draft_id, BODY, actor="alex")
    drafts.send(store, draft_id, actor="alex")
    with pytest.raises(InvalidTransitionError):
        drafts.send(store, draft_id, actor="alex")
    assert outbound_count(store) == 1


# -- approve's guards --------------------------------------------------------------------------------
@pytest.mark.parametrize("body", ["", "   ", "\n\t\n"])
def test_approve_refuses_an_empty_body(store: Store, draft_id: int, body: str) -> None:
    with pytest.raises(InvalidTransitionError):
        drafts.approve(store, draft_id, body, actor="alex")
    d = drafts.get(store.db, draft_id)
    assert (d.state, d.body, d.approved_by) == ("suggested", BODY, None)


@pytest.mark.parametrize("actor", ["", "  "])
def test_approve_refuses_a_blank_actor(store: Store, draft_id: int, actor: str) -> None:
    with pytest.raises(InvalidTransitionError):
        drafts.approve(store, draft_id, BODY, actor=actor)
    assert state(store, draft_id) == "suggested"


# -- approve_and_send ------------------------------------------------------------------------------------
def test_approve_and_send(store: Store, ticket_id: int, draft_id: int) -> None:
    mid = drafts.approve_and_send(store, draft_id, "Final text", actor="alex", status_after="solved")
    d = drafts.get(store.db, draft_id)
    assert (d.state, d.body, d.approved_by) == ("sent", "Final text", "alex")
    t = get_ticket(store.db, ticket_id)
    assert t.status == "solved"
    assert [m.id for m in t.messages if m.direction == "outbound"] == [mid]
    actions = [e.action for e in audit.for_ticket(store.db, ticket_id) if e.draft_id == draft_id]
    assert actions == ["draft.suggested", "draft.edited", "draft.approved", "reply.sent"]


def test_approve_and_send_is_atomic(store: Store, ticket_id: int, draft_id: int) -> None:
    audit_before = _count(store, "SELECT COUNT(*) FROM audit")
    with pytest.raises(InvalidTransitionError):
        drafts.approve_and_send(store, draft_id, "Changed text", actor="alex", status_after="not-a-status")
    d = drafts.get(store.db, draft_id)
    assert (d.state, d.body, d.approved_by) == ("suggested", BODY, None)
    assert outbound_count(store) == 0
    assert get_ticket(store.db, ticket_id).status == "open"
    assert _count(store, "SELECT COUNT(*) FROM audit") == audit_before
    assert not store.db.conn.in_transaction
    assert audit.verify(store.db).ok


def test_approve_and_send_refuses_a_discarded_draft(store: Store, draft_id: int) -> None:
    drafts.discard(store, draft_id, actor="alex")
    with pytest.raises(InvalidTransitionError):
        drafts.approve_and_send(store, draft_id, BODY, actor="alex")
    assert outbound_count(store) == 0
    assert state(store, draft_id) == "discarded"


# -- the audit trail -----------------------------------------------------------------------------------
def test_audit_rows_carry_provenance(store: Store, desk, ticket_id: int, draft_id: int) -> None:
    drafts.save_edit(store, draft_id, BODY + " (edited)", actor="alex")
    bea = desk("bea")  # a colleague approves and sends what alex edited
    drafts.approve(bea, draft_id, BODY + " (edited)", actor="bea")
    mid = drafts.send(bea, draft_id, actor="bea", status_after="solved")
    entries = [e for e in audit.for_ticket(store.db, ticket_id) if e.draft_id is not None]
    by_action = {e.action: e for e in entries}
    assert [e.action for e in entries] == ["draft.suggested", "draft.edited", "draft.approved", "reply.sent"]
    assert all(e.draft_id == draft_id and e.ticket_id == ticket_id for e in entries)

    s = by_action["draft.suggested"]
    assert s.actor == "alex"
    assert s.details == {"source": "ai", "citations": [2, 5], "provider": "local", "model": "tiny-1",
                         "prompt_version": "reply-3"}

    e = by_action["draft.edited"]
    assert e.actor == "alex"
    assert e.details["chars"] == len(BODY + " (edited)")

    a = by_action["draft.approved"]
    assert a.actor == "bea"
    assert (a.details["source"], a.details["citations"], a.details["prompt_version"], a.details["model"]) == \
        ("ai", [2, 5], "reply-3", "tiny-1")
    assert a.details["edited"] is True

    r = by_action["reply.sent"]
    assert r.actor == "bea"
    assert (r.details["source"], r.details["citations"], r.details["prompt_version"], r.details["model"]) == \
        ("ai", [2, 5], "reply-3", "tiny-1")
    assert r.details["message_id"] == mid
    assert r.details["approved_by"] == "bea"
    assert (r.details["status_before"], r.details["status_after"]) == ("open", "solved")
    assert audit.verify(store.db).ok


def test_approved_unedited_is_marked_so(store: Store, ticket_id: int, draft_id: int) -> None:
    drafts.approve(store, draft_id, BODY, actor="alex")
    a = [e for e in audit.for_ticket(store.db, ticket_id) if e.action == "draft.approved"][-1]
    assert a.details["edited"] is False
