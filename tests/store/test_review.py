"""The supervisor's queue: listing, approving and returning drafts awaiting approval."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_assist.store import Store, audit, drafts, people, quality, review, tickets
from agent_assist.store.errors import InvalidTransitionError, NotFoundError
from agent_assist.store.migrations import MIGRATIONS
from agent_assist.store.tickets import create_ticket, set_triage

pytestmark = pytest.mark.both_backends  # the same store API on SQLite and PostgreSQL

# until store.migrations lists them (then they are not applied twice)
ALL_MIGRATIONS = [*MIGRATIONS, *(m for m in (quality.migrate, review.migrate) if m not in MIGRATIONS)]
AI_TEXT = "Hi Tom,\n\nYour refund shows within 5 days.\n\nKind regards"
AGENT_TEXT = "Hi Tom,\n\nYour refund shows within 3 business days.\n\nKind regards, Alex"


@pytest.fixture
def rstore(db_path: Path):
    s = Store(db_path, migrations=ALL_MIGRATIONS)
    yield s
    s.close()


@pytest.fixture(autouse=True)
def team(rstore: Store) -> None:
    people.save_profile(rstore, "sue", "supervisor", actor="sue")  # the first supervisor adds the team
    people.save_profile(rstore, "alex", "agent", actor="sue")
    people.save_profile(rstore, "kim", "supervisor", actor="sue")


def submit(store: Store, draft_id: int, agent: str = "alex") -> None:
    """The writer approves a four-eyes draft: it goes to the supervisors' queue."""
    body = drafts.get(store.db, draft_id).body
    assert drafts.approve(store, draft_id, body, actor=agent) == "awaiting_supervisor"


def make_draft(store: Store, subject: str = "Where is my refund?", *, awaiting: bool = True) -> tuple[int, int]:
    """A ticket flagged for four eyes (fraud) with a draft the agent edited, and by default submitted."""
    tid = create_ticket(store, actor="email", customer_name="Tom Baker", customer_email=f"{subject}@example.com",
                        subject=subject, body_text="I returned it.", language="en", topic="refund")
    set_triage(store, tid, [("fraud", "an unknown purchase")], sentiment=None)
    did = drafts.suggest(store, tid, AI_TEXT, actor="assistant", source="ai")
    drafts.save_edit(store, did, AGENT_TEXT, actor="alex")
    if awaiting:
        submit(store, did)
    return tid, did


def actions(store: Store, ticket_id: int) -> list[tuple[str, str]]:
    return [(e.action, e.actor) for e in audit.for_ticket(store.db, ticket_id)]


def test_awaiting_and_recently_sent(rstore: Store) -> None:
    t1, d1 = make_draft(rstore, "first")
    t2, d2 = make_draft(rstore, "second")
    _t3, d3 = make_draft(rstore, "draft only", awaiting=False)
    items = review.awaiting(rstore.db)
    assert [(i.draft_id, i.ticket_id, i.subject, i.state, i.agent) for i in items] == [
        (d1, t1, "first", "awaiting_supervisor", "alex"), (d2, t2, "second", "awaiting_supervisor", "alex")]
    assert review.recently_sent(rstore.db) == []
    assert drafts.approve_and_send(rstore, d3, AGENT_TEXT, actor="alex") is None  # four eyes: it waits
    review.approve_and_send(rstore, d3, AGENT_TEXT, actor="kim")
    assert [(i.draft_id, i.agent) for i in review.recently_sent(rstore.db)] == [(d3, "alex")]


def test_detail_has_both_texts(rstore: Store) -> None:
    _tid, did = make_draft(rstore)
    d = review.detail(rstore.db, did)
    assert (d.original_body, d.body, d.item.state, d.comments) == (AI_TEXT, AGENT_TEXT, "awaiting_supervisor", ())
    with pytest.raises(NotFoundError):
        review.detail(rstore.db, 999)


def test_supervisor_approves_and_sends(rstore: Store) -> None:
    tid, did = make_draft(rstore)
    mid = review.approve_and_send(rstore, did, AGENT_TEXT, actor="sue")
    d = drafts.get(rstore.db, did)
    assert (d.state, d.approved_by, d.body) == ("sent", "sue", AGENT_TEXT)
    body = rstore.db.conn.execute("SELECT body_text FROM messages WHERE id = ?", (mid,)).fetchone()[0]
    assert body == AGENT_TEXT
    assert actions(rstore, tid)[-3:] == [("draft.approval_requested", "alex"), ("draft.approved", "sue"),
                                         ("reply.sent", "sue")]
    assert audit.verify(rstore.db).ok


def test_approve_refuses_a_draft_not_awaiting_or_changed(rstore: Store) -> None:
    _tid, did = make_draft(rstore, awaiting=False)
    with pytest.raises(InvalidTransitionError, match="no longer awaiting"):
        review.approve_and_send(rstore, did, AGENT_TEXT, actor="sue")
    submit(rstore, did)
    with pytest.raises(InvalidTransitionError, match="changed"):
        review.approve_and_send(rstore, did, "something else", actor="sue")
    assert drafts.get(rstore.db, did).state == "awaiting_supervisor"


def test_return_with_comment(rstore: Store) -> None:
    tid, did = make_draft(rstore)
    cid = review.return_to_agent(rstore, did, "  Please mention the fee waiver.  ", actor="sue")
    d = drafts.get(rstore.db, did)
    assert (d.state, d.body, d.approved_by) == ("edited", AGENT_TEXT, None)
    [c] = review.comments(rstore.db, did)
    assert (c.id, c.author, c.comment, c.ticket_id) == (cid, "sue", "Please mention the fee waiver.", tid)
    assert review.latest_comment(rstore.db, tid) == c
    [entry] = [e for e in audit.for_ticket(rstore.db, tid) if e.action == "draft.returned"]
    assert (entry.actor, entry.draft_id, entry.details["comment"]) == ("sue", did, "Please mention the fee waiver.")
    assert audit.verify(rstore.db).ok
    assert review.awaiting(rstore.db) == []
    assert review.detail(rstore.db, did).comments == (c,)
    submit(rstore, did)  # the agent changes nothing and asks again: back in the queue
    assert [i.draft_id for i in review.awaiting(rstore.db)] == [did]


def test_return_needs_a_comment_and_an_awaiting_draft(rstore: Store) -> None:
    tid, did = make_draft(rstore)
    with pytest.raises(InvalidTransitionError, match="comment"):
        review.return_to_agent(rstore, did, "   ", actor="sue")
    with pytest.raises(InvalidTransitionError, match="too long"):
        review.return_to_agent(rstore, did, "x" * (review.MAX_COMMENT_CHARS + 1), actor="sue")
    with pytest.raises(InvalidTransitionError, match="named"):
        review.return_to_agent(rstore, did, "fix", actor=" ")
    review.return_to_agent(rstore, did, "fix it", actor="sue")
    with pytest.raises(InvalidTransitionError, match="no longer awaiting"):
        review.return_to_agent(rstore, did, "again", actor="sue")
    assert len(review.comments(rstore.db, did)) == 1
    assert [a for a, _ in actions(rstore, tid)].count("draft.returned") == 1


def test_only_supervisors_decide(rstore: Store) -> None:
    _tid, did = make_draft(rstore)
    for who in ("alex", "stranger"):
        with pytest.raises(InvalidTransitionError, match="not a supervisor"):
            review.return_to_agent(rstore, did, "no", actor=who)
        with pytest.raises(InvalidTransitionError, match="not a supervisor"):
            review.approve_and_send(rstore, did, AGENT_TEXT, actor=who)
    assert drafts.get(rstore.db, did).state == "awaiting_supervisor"
    review.return_to_agent(rstore, did, "ok, one change", actor="sue")


def test_four_eyes_still_holds_for_a_supervisor_who_wrote_it(rstore: Store) -> None:
    _tid, did = make_draft(rstore, awaiting=False)
    submit(rstore, did, agent="sue")  # a supervisor wrote this one
    with pytest.raises(InvalidTransitionError, match="other than the writer"):
        review.approve_and_send(rstore, did, AGENT_TEXT, actor="sue")
    review.approve_and_send(rstore, did, AGENT_TEXT, actor="kim")


def test_a_returned_draft_counts_as_escalated(rstore: Store) -> None:
    _tid, did = make_draft(rstore)
    review.return_to_agent(rstore, did, "shorter please", actor="sue")
    submit(rstore, did)
    review.approve_and_send(rstore, did, AGENT_TEXT, actor="sue")
    quality.update_cache(rstore)
    [row] = quality.by_group(rstore.db, quality.period(None, 1))
    assert (row.sent, row.escalated, row.sent_as_is) == (1, 1, 0)


def test_is_supervisor() -> None:
    assert review.is_supervisor("supervisor") and review.is_supervisor(" Supervisor ")
    assert not review.is_supervisor("agent") and not review.is_supervisor(None) and not review.is_supervisor("admin")


def test_detail_carries_the_context(rstore: Store) -> None:
    """What the supervisor reads beside the texts: the customer's messages, the flags, who wrote it."""
    tid, did = make_draft(rstore)
    d = review.detail(rstore.db, did)
    assert [m.body_text for m in d.customer_messages] == ["I returned it."]
    assert [(f.kind, f.reason) for f in d.flags] == [("fraud", "an unknown purchase")]
    assert d.draft is not None and d.draft.source == "ai" and d.cited == ()
    assert d.item.ticket_created_at == tickets.get_ticket(rstore.db, tid).created_at
