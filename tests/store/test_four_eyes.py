"""Approval rules: four eyes and human-only, enforced in the core for every path."""

from __future__ import annotations

import pytest

from agent_assist.store import Store, audit, drafts, people, rules, tickets
from agent_assist.store.errors import InvalidTransitionError

pytestmark = pytest.mark.both_backends  # the same store API on SQLite and PostgreSQL


@pytest.fixture
def flagged(small_store: Store) -> Store:
    people.save_profile(small_store, "priya", "supervisor", actor="priya")  # the first supervisor adds the team
    people.save_profile(small_store, "alex", "agent", actor="priya")
    people.save_profile(small_store, "maja", "supervisor", actor="priya")
    tickets.set_triage(small_store, 3, [("fraud", "Does not recognise a purchase: “No reconozco una compra”")],
                       sentiment="negative")
    return small_store


def _draft(store: Store, ticket_id: int = 3, actor: str = "alex") -> int:
    return drafts.suggest(store, ticket_id, "Hola María, hemos pausado los pagos.", actor=actor, source="offline")


def _outbound(store: Store, ticket_id: int = 3) -> int:
    return store.db.conn.execute("SELECT COUNT(*) FROM messages WHERE ticket_id = ? AND direction = 'outbound'",
                                 (ticket_id,)).fetchone()[0]


@pytest.mark.single_desk  # a desk's own rules (names sent as actor, client-written audit rows)
def test_flags_are_stored_shown_and_filterable(flagged: Store):
    t = tickets.get_ticket(flagged.db, 3)
    assert [(f.kind, f.source) for f in t.flags] == [("fraud", "rules")]
    assert "No reconozco" in t.flags[0].reason
    rows = tickets.queue_page(flagged.db, tickets.QueueFilter(statuses=(), flag="fraud"))
    assert [r.id for r in rows] == [3] and rows[0].flags == ("fraud",)
    assert [r.id for r in tickets.queue_page(flagged.db, tickets.QueueFilter(statuses=(), flag="any"))] == [3]
    assert any(e.action == "ticket.triaged" for e in audit.for_ticket(flagged.db, 3))


@pytest.mark.single_desk  # a desk's own rules (names sent as actor, client-written audit rows)
def test_agent_approval_goes_to_a_supervisor_and_nothing_is_sent(flagged: Store):
    d = _draft(flagged)
    before = _outbound(flagged)
    assert drafts.approve_and_send(flagged, d, "Hola María, hemos pausado los pagos.", actor="alex") is None
    draft = drafts.get(flagged.db, d)
    assert draft.state == "awaiting_supervisor" and draft.requested_by == "alex"
    assert _outbound(flagged) == before
    with pytest.raises(InvalidTransitionError):
        drafts.send(flagged, d, actor="alex")
    assert _outbound(flagged) == before


@pytest.mark.single_desk  # a desk's own rules (names sent as actor, client-written audit rows)
def test_a_supervisor_other_than_the_writer_approves_and_sends(flagged: Store):
    d = _draft(flagged)
    drafts.approve(flagged, d, "Hola María, hemos pausado los pagos.", actor="alex")
    assert drafts.approve(flagged, d, "Hola María, hemos pausado los pagos.", actor="priya") == "approved"
    message_id = drafts.send(flagged, d, actor="priya")
    assert message_id and _outbound(flagged) == 2
    sent = [e for e in audit.for_ticket(flagged.db, 3) if e.action in ("draft.approval_requested", "draft.approved",
                                                                       "reply.sent")]
    assert [(e.action, e.actor) for e in sent] == [("draft.approval_requested", "alex"), ("draft.approved", "priya"),
                                                   ("reply.sent", "priya")]


@pytest.mark.single_desk  # a desk's own rules (names sent as actor, client-written audit rows)
def test_every_other_path_refuses_to_send(flagged: Store):
    d = _draft(flagged, actor="priya")
    before = _outbound(flagged)
    # a supervisor writing the reply still needs a second pair of eyes
    assert drafts.approve(flagged, d, "Hola María, hemos pausado los pagos.", actor="priya") == "awaiting_supervisor"
    with pytest.raises(InvalidTransitionError, match="other than the writer"):
        drafts.approve(flagged, d, "Hola María, hemos pausado los pagos.", actor="priya")
    # an agent cannot approve what waits for a supervisor
    people.save_profile(flagged, "sam", "agent", actor="sam")
    with pytest.raises(InvalidTransitionError, match="waits for a supervisor"):
        drafts.approve(flagged, d, "Hola María, hemos pausado los pagos.", actor="sam")
    # a supervisor cannot slip in a different text under the writer's request
    with pytest.raises(InvalidTransitionError):
        drafts.approve(flagged, d, "Something else entirely", actor="maja")
    # forcing the state in the database does not help: send checks four eyes itself
    flagged.db.conn.execute("UPDATE drafts SET state = 'approved', approved_by = 'sam' WHERE id = ?", (d,))
    with pytest.raises(InvalidTransitionError, match="four eyes"):
        drafts.send(flagged, d, actor="sam")
    flagged.db.conn.execute("UPDATE drafts SET approved_by = 'priya' WHERE id = ?", (d,))  # the writer herself
    with pytest.raises(InvalidTransitionError, match="four eyes"):
        drafts.send(flagged, d, actor="priya")
    assert _outbound(flagged) == before


@pytest.mark.single_desk  # a desk's own rules (names sent as actor, client-written audit rows)
def test_tickets_without_the_rule_are_sent_by_the_agent(flagged: Store):
    d = _draft(flagged, ticket_id=1)
    assert drafts.approve_and_send(flagged, d, "Hi Tom, done.", actor="alex")
    rules.set_rule(flagged, "fraud", "none", actor="priya")
    d3 = _draft(flagged)
    assert drafts.approve_and_send(flagged, d3, "Hola María.", actor="alex")


@pytest.mark.single_desk  # a desk's own rules (names sent as actor, client-written audit rows)
def test_rules_are_editable_and_audited(flagged: Store):
    assert rules.all_rules(flagged.db)["vulnerability"] == "human_only"
    rules.set_rule(flagged, "repeat_contact", "four_eyes", actor="priya")
    assert rules.actions_for(flagged.db, ["repeat_contact"]) == {"four_eyes"}
    with pytest.raises(InvalidTransitionError):
        rules.set_rule(flagged, "weather", "four_eyes", actor="priya")
    with pytest.raises(InvalidTransitionError):
        rules.set_rule(flagged, "fraud", "sometimes", actor="priya")


@pytest.mark.single_desk  # a desk's own rules (names sent as actor, client-written audit rows)
def test_profiles_and_roles(store: Store):
    assert people.ensure_profile(store, "alex").role == "agent"
    people.save_profile(store, "alex", "supervisor", actor="alex")  # no supervisor yet: the first may be named
    assert people.get_profile(store.db, "alex").is_supervisor
    with pytest.raises(InvalidTransitionError):
        people.save_profile(store, "bob", "king", actor="alex")
    with pytest.raises(InvalidTransitionError):
        people.save_profile(store, "  ", "agent", actor="alex")
