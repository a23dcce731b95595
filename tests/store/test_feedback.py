"""Feedback on suggestions: stored with who said it, counted per reason, on both backends."""

from __future__ import annotations

import pytest

from agent_assist.store import Store, drafts, feedback
from agent_assist.store.errors import InvalidTransitionError

pytestmark = pytest.mark.both_backends


def test_feedback_is_stored_and_counted(small_store: Store, desk):
    d = drafts.suggest(small_store, 1, "Hi Tom", actor="alex", source="offline")
    fid = feedback.mark_not_useful(small_store, d, "wrong_facts", actor="alex")
    sam = desk("sam", "agent")
    feedback.mark_not_useful(sam, d, "wrong_facts", actor="sam")
    feedback.mark_not_useful(sam, d, "wrong_language", actor="sam")
    rows = feedback.for_draft(small_store.db, d)
    assert rows[0].id == fid and [(r.reason, r.author, r.ticket_id) for r in rows] == [
        ("wrong_facts", "alex", 1), ("wrong_facts", "sam", 1), ("wrong_language", "sam", 1)]
    assert feedback.counts(small_store.db) == {"wrong_facts": 2, "wrong_tone": 0, "wrong_language": 1,
                                              "missed_point": 0}
    assert sum(feedback.counts(small_store.db, since="2999-01-01").values()) == 0
    with pytest.raises(InvalidTransitionError):
        feedback.mark_not_useful(small_store, d, "too long", actor="alex")


@pytest.mark.team_only  # a desk file has one person; the team server's grants are what is tested here
def test_on_a_team_server_the_person_is_the_session_and_feedback_stays(small_store: Store, desk):
    d = drafts.suggest(small_store, 1, "Hi Tom", actor="alex", source="offline")
    sam = desk("sam", "agent")
    feedback.mark_not_useful(sam, d, "wrong_tone", actor="somebody-else")  # the server names sam
    [row] = feedback.for_draft(small_store.db, d)
    assert row.author == "sam"
    for statement in ("UPDATE draft_feedback SET reason = 'wrong_facts'", "DELETE FROM draft_feedback"):
        with pytest.raises(Exception):
            with sam.transaction() as db:
                db.conn.execute(statement)
    assert [r.reason for r in feedback.for_draft(small_store.db, d)] == ["wrong_tone"]
