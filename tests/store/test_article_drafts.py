"""Article drafts from solved tickets: anyone proposes, only a supervisor publishes or discards, on both backends."""

from __future__ import annotations

import pytest

from agent_assist.knowledge.search import search
from agent_assist.store import Store, article_drafts
from agent_assist.store.errors import InvalidTransitionError

pytestmark = pytest.mark.both_backends

PROPOSAL = {"title": "Parcel shows delivered but never arrived", "locale": "en", "section": "From solved tickets",
            "body": "We open a claim with the courier and pause the payments for 14 days while they look.",
            "key": "from-ticket-1"}


def test_an_agent_proposes_and_a_supervisor_publishes(small_store: Store, desk):
    alex = desk("alex", "agent")
    draft_id = article_drafts.propose(alex, PROPOSAL, ticket_id=1, actor="alex")
    [waiting] = article_drafts.waiting(small_store.db)
    assert (waiting.id, waiting.proposed_by, waiting.state, waiting.ticket_id) == (draft_id, "alex", "proposed", 1)
    titles = [h.title for h in search(small_store.db, "courier claim pause", semantic=None)]
    assert PROPOSAL["title"] not in titles  # not an article until published

    with pytest.raises(Exception, match="not a supervisor"):
        article_drafts.decide(alex, draft_id, publish=True, actor="alex")
    assert article_drafts.get(small_store.db, draft_id).state == "proposed"

    sue = desk("sue", "supervisor")
    article_id = article_drafts.decide(sue, draft_id, publish=True, actor="sue",
                                       body=PROPOSAL["body"] + " The courier answers within 5 days.")
    done = article_drafts.get(small_store.db, draft_id)
    assert (done.state, done.decided_by, done.article_id) == ("published", "sue", article_id)
    hits = search(small_store.db, "courier claim pause", semantic=None)
    assert hits and hits[0].article_id == article_id and hits[0].title == PROPOSAL["title"]
    assert article_drafts.waiting(small_store.db) == []
    with pytest.raises(Exception, match="already published"):
        article_drafts.decide(sue, draft_id, publish=False, actor="sue")


def test_a_supervisor_discards_and_an_empty_proposal_is_refused(small_store: Store, desk):
    alex = desk("alex", "agent")
    draft_id = article_drafts.propose(alex, PROPOSAL, ticket_id=1, actor="alex")
    sue = desk("sue", "supervisor")
    assert article_drafts.decide(sue, draft_id, publish=False, actor="sue") is None
    assert article_drafts.get(small_store.db, draft_id).state == "discarded"
    with pytest.raises(InvalidTransitionError, match="title and a text"):
        article_drafts.propose(alex, {**PROPOSAL, "body": "  "}, ticket_id=1, actor="alex")


@pytest.mark.team_only
def test_on_a_team_server_nobody_decides_by_hand(small_store: Store, desk):
    alex = desk("alex", "agent")
    draft_id = article_drafts.propose(alex, PROPOSAL, ticket_id=1, actor="somebody-else")
    assert article_drafts.get(small_store.db, draft_id).proposed_by == "alex"  # the session, not the client
    sue = desk("sue", "supervisor")
    for who in (alex, sue):
        for statement in (f"UPDATE article_drafts SET state = 'published' WHERE id = {draft_id}",
                          f"DELETE FROM article_drafts WHERE id = {draft_id}"):
            with pytest.raises(Exception):
                with who.transaction() as db:
                    db.conn.execute(statement)
    assert article_drafts.get(small_store.db, draft_id).state == "proposed"
