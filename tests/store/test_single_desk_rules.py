"""The holes a new user found in the single-desk rules, each closed in the core (issue 12)."""

from __future__ import annotations

import pytest

from agent_assist.store import Store, drafts, people, review, rules, tickets
from agent_assist.store.errors import InvalidTransitionError

pytestmark = pytest.mark.both_backends  # the same store API on SQLite and PostgreSQL

TEXT = "Hola María, hemos pausado los pagos."


@pytest.fixture
def team(small_store: Store) -> Store:
    people.save_profile(small_store, "priya", "supervisor", actor="priya")  # the first supervisor sets up
    people.save_profile(small_store, "alex", "agent", actor="priya")
    people.save_profile(small_store, "maja", "supervisor", actor="priya")
    return small_store


def _outbound(store: Store, ticket_id: int) -> int:
    return store.db.conn.execute("SELECT COUNT(*) FROM messages WHERE ticket_id = ? AND direction = 'outbound'",
                                 (ticket_id,)).fetchone()[0]


# -- roles -----------------------------------------------------------------------------------
@pytest.mark.single_desk  # a desk's own rules (names sent as actor, client-written audit rows)
def test_an_agent_cannot_promote_themself_or_add_a_supervisor(team: Store):
    with pytest.raises(InvalidTransitionError, match="Only a supervisor"):
        people.save_profile(team, "alex", "supervisor", actor="alex")
    with pytest.raises(InvalidTransitionError, match="Only a supervisor"):
        people.save_profile(team, "mallory", "supervisor", actor="alex")
    with pytest.raises(InvalidTransitionError, match="Only a supervisor"):
        people.save_profile(team, "priya", "agent", actor="alex")  # nor demote one
    with pytest.raises(InvalidTransitionError, match="Only a supervisor"):
        people.save_profile(team, "nobody", "supervisor", actor="someone-without-a-profile")
    assert people.role_of(team.db, "alex") == "agent"
    assert people.get_profile(team.db, "mallory") is None
    assert people.role_of(team.db, "priya") == "supervisor"


@pytest.mark.single_desk  # a desk's own rules (names sent as actor, client-written audit rows)
def test_anyone_adds_an_agent_and_a_supervisor_changes_roles(team: Store):
    assert people.ensure_profile(team, "newbie").role == "agent"  # --user NEWNAME starts as an agent
    people.save_profile(team, "sam", "agent", actor="alex")
    people.save_profile(team, "sam", "supervisor", actor="maja")
    assert people.role_of(team.db, "sam") == "supervisor"
    last = team.db.conn.execute("SELECT actor, details FROM audit WHERE action = 'profile.saved' "
                                "ORDER BY id DESC LIMIT 1").fetchone()
    assert last[0] == "maja" and '"role_before":"agent"' in last[1]


@pytest.mark.single_desk  # a desk's own rules (names sent as actor, client-written audit rows)
def test_only_the_first_supervisor_of_a_database_names_themself(store: Store):
    people.save_profile(store, "ana", "agent", actor="ana")
    people.save_profile(store, "lee", "supervisor", actor="lee")  # none yet: allowed, and recorded as such
    details = [json for (json,) in store.db.conn.execute(
        "SELECT details FROM audit WHERE action = 'profile.saved' ORDER BY id")]
    assert '"bootstrap":true' in details[-1] and "bootstrap" not in details[0]
    with pytest.raises(InvalidTransitionError):
        people.save_profile(store, "ana", "supervisor", actor="ana")
    assert not people.may_create_supervisor(store.db, "ana") and people.may_create_supervisor(store.db, "lee")


@pytest.mark.single_desk  # a desk's own rules (names sent as actor, client-written audit rows)
def test_the_last_supervisor_cannot_step_down(team: Store):
    people.save_profile(team, "maja", "agent", actor="priya")
    with pytest.raises(InvalidTransitionError, match="only supervisor"):
        people.save_profile(team, "priya", "agent", actor="priya")
    assert people.role_of(team.db, "priya") == "supervisor"


@pytest.mark.single_desk  # a desk's own rules (names sent as actor, client-written audit rows)
def test_an_agent_cannot_switch_a_rule_off(team: Store):
    with pytest.raises(InvalidTransitionError, match="Only a supervisor can change routing rules"):
        rules.set_rule(team, "fraud", "none", actor="alex")
    with pytest.raises(InvalidTransitionError, match="Only a supervisor"):
        rules.set_rule(team, "fraud", "none", actor="")
    assert rules.all_rules(team.db)["fraud"] == "four_eyes"
    rules.set_rule(team, "fraud", "none", actor="priya")
    assert rules.all_rules(team.db)["fraud"] == "none"


# -- four eyes -------------------------------------------------------------------------------
@pytest.fixture
def fraud(team: Store) -> int:
    tickets.set_triage(team, 3, [("fraud", "Does not recognise a purchase")], sentiment="negative")
    return 3


@pytest.mark.single_desk  # a desk's own rules (names sent as actor, client-written audit rows)
def test_a_supervisor_who_returns_and_rewrites_a_draft_cannot_send_it_alone(team: Store, fraud: int):
    d = drafts.suggest(team, fraud, TEXT, actor="alex", source="offline")
    assert drafts.approve(team, d, TEXT, actor="alex") == "awaiting_supervisor"
    review.return_to_agent(team, d, "Say when the investigation ends.", actor="priya")
    before = _outbound(team, fraud)
    mine = "Hola María, la investigación termina el viernes."
    assert drafts.approve_and_send(team, d, mine, actor="priya") is None  # her own text needs other eyes
    draft = drafts.get(team.db, d)
    assert draft.state == "awaiting_supervisor" and draft.requested_by == "priya" and draft.edited_by == "priya"
    with pytest.raises(InvalidTransitionError, match="other than the writer"):
        drafts.approve(team, d, mine, actor="priya")
    assert _outbound(team, fraud) == before
    assert review.approve_and_send(team, d, mine, actor="maja")
    assert _outbound(team, fraud) == before + 1


@pytest.mark.single_desk  # a desk's own rules (names sent as actor, client-written audit rows)
def test_editing_clears_the_request_and_the_approval(team: Store, fraud: int):
    d = drafts.suggest(team, fraud, TEXT, actor="alex", source="offline")
    drafts.approve(team, d, TEXT, actor="alex")
    review.return_to_agent(team, d, "Shorter, please.", actor="priya")
    assert drafts.get(team.db, d).requested_by == "alex"  # the unchanged text is still alex's request
    drafts.save_edit(team, d, "Hola María.", actor="alex")
    draft = drafts.get(team.db, d)
    assert draft.requested_by is None and draft.approved_by is None and draft.edited_by == "alex"
    # forcing "approved" in the file does not help: the request was for another text
    team.db.conn.execute("UPDATE drafts SET state = 'approved', approved_by = 'priya' WHERE id = ?", (d,))
    with pytest.raises(InvalidTransitionError, match="four eyes"):
        drafts.send(team, d, actor="priya")


@pytest.mark.single_desk  # a desk's own rules (names sent as actor, client-written audit rows)
def test_the_last_editor_cannot_approve(team: Store, fraud: int):
    d = drafts.suggest(team, fraud, TEXT, actor="alex", source="offline")
    drafts.save_edit(team, d, "Hola María, ya lo hemos pausado.", actor="priya")  # the supervisor writes it
    assert drafts.approve(team, d, "Hola María, ya lo hemos pausado.", actor="alex") == "awaiting_supervisor"
    with pytest.raises(InvalidTransitionError, match="other than the writer"):
        drafts.approve(team, d, "Hola María, ya lo hemos pausado.", actor="priya")
    team.db.conn.execute("UPDATE drafts SET state = 'approved', approved_by = 'priya' WHERE id = ?", (d,))
    with pytest.raises(InvalidTransitionError, match="four eyes"):
        drafts.send(team, d, actor="priya")
    team.db.conn.execute("UPDATE drafts SET state = 'awaiting_supervisor', approved_by = NULL WHERE id = ?", (d,))
    assert drafts.approve(team, d, "Hola María, ya lo hemos pausado.", actor="maja") == "approved"
    assert drafts.send(team, d, actor="maja")


# -- human-only ------------------------------------------------------------------------------
@pytest.fixture
def vulnerable(team: Store) -> tuple[int, int]:
    """A machine draft suggested before the flag arrived (ticket 1 has no rule yet)."""
    d = drafts.suggest(team, 1, "Hi Tom, the late fee is removed.", actor="alex", source="offline")
    tickets.set_triage(team, 1, [("vulnerability", "Mentions a recent bereavement")], sentiment="negative")
    assert "human_only" in rules.ticket_actions(team.db, 1)
    return 1, d


@pytest.mark.single_desk  # a desk's own rules (names sent as actor, client-written audit rows)
def test_a_machine_draft_of_a_human_only_ticket_is_not_sent_unchanged(team: Store, vulnerable):
    ticket_id, d = vulnerable
    before = _outbound(team, ticket_id)
    with pytest.raises(InvalidTransitionError, match="human-only"):
        drafts.approve_and_send(team, d, "Hi Tom, the late fee is removed.", actor="alex")
    with pytest.raises(InvalidTransitionError, match="human-only"):  # whitespace is not writing
        drafts.approve_and_send(team, d, "Hi Tom,  the late fee is removed.\n", actor="alex")
    assert drafts.get(team.db, d).state in ("suggested", "edited")  # nothing approved, text kept
    team.db.conn.execute("UPDATE drafts SET state = 'approved', approved_by = 'alex' WHERE id = ?", (d,))
    with pytest.raises(InvalidTransitionError, match="human-only"):  # send checks it itself
        drafts.send(team, d, actor="alex")
    assert _outbound(team, ticket_id) == before
    team.db.conn.execute("UPDATE drafts SET state = 'edited', approved_by = NULL WHERE id = ?", (d,))
    mine = "Hi Tom, I am so sorry for your loss. I have removed the fee; there is nothing you need to do."
    assert drafts.approve_and_send(team, d, mine, actor="alex")
    assert _outbound(team, ticket_id) == before + 1


@pytest.mark.single_desk  # a desk's own rules (names sent as actor, client-written audit rows)
def test_a_reply_a_person_writes_from_nothing_is_sent(team: Store, vulnerable):
    ticket_id, d = vulnerable
    drafts.discard(team, d, actor="alex")
    mine = drafts.suggest(team, ticket_id, "", actor="alex", source="human")
    assert drafts.approve_and_send(team, mine, "Hi Tom, I am sorry. The fee is gone.", actor="alex")
