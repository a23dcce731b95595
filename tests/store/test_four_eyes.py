"""Approval rules: four eyes and human-only, enforced in the core for every path."""

from __future__ import annotations

import json

import pytest

from agent_assist.store import Store, audit, drafts, people, rules, tickets
from agent_assist.store.errors import InvalidTransitionError
from tests.store.by_hand import write_by_hand

pytestmark = pytest.mark.both_backends  # the same store API on SQLite and PostgreSQL

TEXT = "Hola María, hemos pausado los pagos."


@pytest.fixture
def flagged(small_store: Store) -> Store:
    """alex's desk; ticket 3 is flagged fraud, whose rule is four eyes."""
    tickets.set_triage(small_store, 3, [("fraud", "Does not recognise a purchase: “No reconozco una compra”")],
                       sentiment="negative")
    return small_store


@pytest.fixture
def sue(desk) -> Store:
    return desk("sue", "supervisor")


@pytest.fixture
def vera(desk, sue: Store) -> Store:  # a second supervisor (on a desk, sue names her)
    return desk("vera", "supervisor")


def _draft(store: Store, ticket_id: int = 3, actor: str = "alex") -> int:
    return drafts.suggest(store, ticket_id, TEXT, actor=actor, source="offline")


def _outbound(store: Store, ticket_id: int = 3) -> int:
    return store.db.conn.execute("SELECT COUNT(*) FROM messages WHERE ticket_id = ? AND direction = 'outbound'",
                                 (ticket_id,)).fetchone()[0]


def test_flags_are_stored_shown_and_filterable(flagged: Store):
    t = tickets.get_ticket(flagged.db, 3)
    assert [(f.kind, f.source) for f in t.flags] == [("fraud", "rules")]
    assert "No reconozco" in t.flags[0].reason
    rows = tickets.queue_page(flagged.db, tickets.QueueFilter(statuses=(), flag="fraud"))
    assert [r.id for r in rows] == [3] and rows[0].flags == ("fraud",)
    assert [r.id for r in tickets.queue_page(flagged.db, tickets.QueueFilter(statuses=(), flag="any"))] == [3]
    assert any(e.action == "ticket.triaged" for e in audit.for_ticket(flagged.db, 3))


def test_agent_approval_goes_to_a_supervisor_and_nothing_is_sent(flagged: Store):
    d = _draft(flagged)
    before = _outbound(flagged)
    assert drafts.approve_and_send(flagged, d, TEXT, actor="alex") is None
    draft = drafts.get(flagged.db, d)
    assert draft.state == "awaiting_supervisor" and draft.requested_by == "alex"
    assert _outbound(flagged) == before
    with pytest.raises(InvalidTransitionError):
        drafts.send(flagged, d, actor="alex")
    assert _outbound(flagged) == before


def test_a_supervisor_other_than_the_writer_approves_and_sends(flagged: Store, sue: Store):
    d = _draft(flagged)
    drafts.approve(flagged, d, TEXT, actor="alex")
    assert drafts.approve(sue, d, TEXT, actor="sue") == "approved"
    message_id = drafts.send(sue, d, actor="sue")
    assert message_id and _outbound(flagged) == 2
    assert drafts.get(flagged.db, d).approved_by == "sue"
    sent = [e for e in audit.for_ticket(flagged.db, 3) if e.action in ("draft.approval_requested", "draft.approved",
                                                                       "reply.sent")]
    assert [(e.action, e.actor) for e in sent] == [("draft.approval_requested", "alex"), ("draft.approved", "sue"),
                                                   ("reply.sent", "sue")]


def test_every_other_path_refuses_to_send(flagged: Store, desk, sue: Store, vera: Store):
    d = _draft(sue, actor="sue")
    before = _outbound(flagged)
    # a supervisor writing the reply still needs a second pair of eyes
    assert drafts.approve(sue, d, TEXT, actor="sue") == "awaiting_supervisor"
    with pytest.raises(InvalidTransitionError, match="other than the writer"):
        drafts.approve(sue, d, TEXT, actor="sue")
    # an agent cannot approve what waits for a supervisor
    sam = desk("sam", "agent")
    with pytest.raises(InvalidTransitionError, match="waits for a supervisor"):
        drafts.approve(sam, d, TEXT, actor="sam")
    # a supervisor cannot slip in a different text under the writer's request
    with pytest.raises(InvalidTransitionError, match="Return the draft to the agent"):
        drafts.approve(vera, d, "Something else entirely", actor="vera")
    # forcing the state in the database does not help: send checks four eyes itself (a team server
    # does not even take the forged row)
    if write_by_hand(sam, "UPDATE drafts SET state = 'approved', approved_by = 'sam' WHERE id = ?", (d,)):
        with pytest.raises(InvalidTransitionError, match="four eyes"):
            drafts.send(sam, d, actor="sam")
    if write_by_hand(sue, "UPDATE drafts SET approved_by = 'sue' WHERE id = ?", (d,)):  # the writer herself
        with pytest.raises(InvalidTransitionError, match="four eyes"):
            drafts.send(sue, d, actor="sue")
    assert _outbound(flagged) == before
    assert drafts.get(flagged.db, d).state != "sent"


def test_tickets_without_the_rule_are_sent_by_the_agent(flagged: Store, sue: Store):
    d = _draft(flagged, ticket_id=1)
    assert drafts.approve_and_send(flagged, d, "Hi Tom, done.", actor="alex")
    rules.set_rule(sue, "fraud", "none", actor="sue")
    d3 = _draft(flagged)
    assert drafts.approve_and_send(flagged, d3, "Hola María.", actor="alex")


def test_rules_are_editable_and_audited(flagged: Store, sue: Store):
    assert rules.all_rules(flagged.db)["vulnerability"] == "human_only"
    rules.set_rule(sue, "repeat_contact", "four_eyes", actor="sue")
    assert rules.actions_for(flagged.db, ["repeat_contact"]) == {"four_eyes"}
    changed = flagged.db.conn.execute("SELECT actor, details FROM audit WHERE action = 'rule.changed' "
                                      "ORDER BY id DESC LIMIT 1").fetchone()
    assert changed[0] == "sue"
    assert {k: json.loads(changed[1])[k] for k in ("flag", "after")} == {"flag": "repeat_contact", "after": "four_eyes"}
    with pytest.raises(InvalidTransitionError, match="Unknown flag"):
        rules.set_rule(sue, "weather", "four_eyes", actor="sue")
    with pytest.raises(InvalidTransitionError, match="action is one of"):
        rules.set_rule(sue, "fraud", "sometimes", actor="sue")
    assert rules.all_rules(flagged.db)["fraud"] == "four_eyes"


@pytest.mark.single_desk  # profiles made in the app; a team's: `team add-person` (postgres/test_team_desk.py)
def test_profiles_and_roles(store: Store):
    assert people.ensure_profile(store, "alex").role == "agent"
    people.save_profile(store, "alex", "supervisor", actor="alex")  # no supervisor yet: the first may be named
    assert people.get_profile(store.db, "alex").is_supervisor
    with pytest.raises(InvalidTransitionError):
        people.save_profile(store, "bob", "king", actor="alex")
    with pytest.raises(InvalidTransitionError):
        people.save_profile(store, "  ", "agent", actor="alex")


def test_queue_says_awaiting_approval_and_filters_by_it(flagged: Store):
    """A ticket whose reply waits for a supervisor is "awaiting approval" in the queue, not its stored status."""
    d = _draft(flagged)
    drafts.approve_and_send(flagged, d, TEXT, actor="alex")
    every = {r.id: r for r in tickets.queue_page(flagged.db, tickets.QueueFilter(statuses=()))}
    assert every[3].awaiting_approval and every[3].queue_status == tickets.AWAITING_APPROVAL
    assert not any(r.awaiting_approval for tid, r in every.items() if tid != 3)
    only = tickets.QueueFilter(statuses=(tickets.AWAITING_APPROVAL,))
    assert [r.id for r in tickets.queue_page(flagged.db, only)] == [3]
    assert tickets.queue_count(flagged.db, only) == 1
    stored = tickets.QueueFilter(statuses=(every[3].status,))  # its stored status no longer lists it
    assert 3 not in [r.id for r in tickets.queue_page(flagged.db, stored)]
    assert 3 in [r.id for r in tickets.queue_page(flagged.db, tickets.QueueFilter())]  # still active
    assert tickets.queue_count(flagged.db, tickets.QueueFilter()) == len(
        tickets.queue_page(flagged.db, tickets.QueueFilter()))


@pytest.mark.parametrize("descending", [False, True])
def test_the_queue_by_status_with_replies_awaiting_approval_pages_in_order(flagged: Store, descending):
    """The default queue (active statuses and "awaiting approval") sorted by status: on a team server two index
    walks merged (the stored statuses, and the tickets awaiting approval, whatever their stored status); the
    same tickets in the same order as the rule says, page after page."""
    from agent_assist.store.tickets import QUEUE_ACTIVE, STATUSES, QueueFilter, queue_page

    made = []
    for i, status in enumerate(["new", "open", "pending", "solved", "closed"] * 3):
        tid = tickets.create_ticket(flagged, actor="mail", customer_name=f"Customer {i}", customer_email=None,
                                    subject=f"Question {i}", body_text="Hello", language="en")
        if status != "new":
            tickets.set_status(flagged, tid, status, actor="alex")
        made.append(tid)
    for tid in [3, made[0], made[3], made[7]]:  # four eyes: replies waiting for a supervisor (one on a solved ticket)
        tickets.set_triage(flagged, tid, [("fraud", "an unknown purchase")], sentiment=None)
        did = drafts.suggest(flagged, tid, TEXT, actor="alex", source="human")
        assert drafts.approve(flagged, did, TEXT, actor="alex") == "awaiting_supervisor"

    everything = queue_page(flagged.db, QueueFilter(statuses=()), limit=1000)
    shown = [r for r in everything if r.queue_status in QUEUE_ACTIVE]
    assert {r.status for r in shown if r.awaiting_approval} >= {"new", "pending", "solved"}
    assert {r.status for r in shown} >= {"new", "open", "pending"}
    expected = [r.id for r in sorted(shown, key=lambda r: (STATUSES.index(r.status), r.id), reverse=descending)]
    got = []
    for offset in range(0, len(expected) + 3, 3):
        got += [r.id for r in queue_page(flagged.db, QueueFilter(), sort="status", descending=descending,
                                         offset=offset, limit=3)]
    assert got == expected
    # the other clauses of the filter hold on both walks
    mine = [r.id for r in queue_page(flagged.db, QueueFilter(scope="unassigned"), sort="status",
                                     descending=descending, limit=1000)]
    assert mine == [i for i in expected if next(r for r in shown if r.id == i).assignee is None]
