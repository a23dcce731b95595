"""The holes a new user found in the single-desk rules, each closed in the core (issue 12)."""

from __future__ import annotations

import pytest

from agent_assist.store import Store, drafts, people, review, rules, tickets
from agent_assist.store.errors import InvalidTransitionError
from tests.store.by_hand import write_by_hand

pytestmark = pytest.mark.both_backends  # the same store API on SQLite and PostgreSQL

TEXT = "Hola María, hemos pausado los pagos."


@pytest.fixture
def team(small_store: Store) -> Store:
    """A desk's file where priya, the first supervisor, set up alex (agent) and maja (supervisor)."""
    people.save_profile(small_store, "priya", "supervisor", actor="priya")  # the first supervisor sets up
    people.save_profile(small_store, "alex", "agent", actor="priya")
    people.save_profile(small_store, "maja", "supervisor", actor="priya")
    return small_store


@pytest.fixture
def sue(desk, small_store: Store) -> Store:
    return desk("sue", "supervisor")


@pytest.fixture
def vera(desk, sue: Store) -> Store:  # a second supervisor (on a desk, sue names her)
    return desk("vera", "supervisor")


def _outbound(store: Store, ticket_id: int) -> int:
    return store.db.conn.execute("SELECT COUNT(*) FROM messages WHERE ticket_id = ? AND direction = 'outbound'",
                                 (ticket_id,)).fetchone()[0]


# -- roles -----------------------------------------------------------------------------------
@pytest.mark.single_desk  # profiles made in the app; a team's: `team add-person` (postgres/test_team_desk.py)
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


@pytest.mark.single_desk  # profiles made in the app; a team's: `team add-person` (postgres/test_team_desk.py)
def test_anyone_adds_an_agent_and_a_supervisor_changes_roles(team: Store):
    assert people.ensure_profile(team, "newbie").role == "agent"  # --user NEWNAME starts as an agent
    people.save_profile(team, "sam", "agent", actor="alex")
    people.save_profile(team, "sam", "supervisor", actor="maja")
    assert people.role_of(team.db, "sam") == "supervisor"
    last = team.db.conn.execute("SELECT actor, details FROM audit WHERE action = 'profile.saved' "
                                "ORDER BY id DESC LIMIT 1").fetchone()
    assert last[0] == "maja" and '"role_before":"agent"' in last[1]


@pytest.mark.single_desk  # profiles made in the app; a team's: `team add-person` (postgres/test_team_desk.py)
def test_only_the_first_supervisor_of_a_database_names_themself(store: Store):
    people.save_profile(store, "ana", "agent", actor="ana")
    people.save_profile(store, "lee", "supervisor", actor="lee")  # none yet: allowed, and recorded as such
    details = [json for (json,) in store.db.conn.execute(
        "SELECT details FROM audit WHERE action = 'profile.saved' ORDER BY id")]
    assert '"bootstrap":true' in details[-1] and "bootstrap" not in details[0]
    with pytest.raises(InvalidTransitionError):
        people.save_profile(store, "ana", "supervisor", actor="ana")
    assert not people.may_create_supervisor(store.db, "ana") and people.may_create_supervisor(store.db, "lee")


@pytest.mark.single_desk  # profiles made in the app; a team's: `team add-person` (postgres/test_team_desk.py)
def test_the_last_supervisor_cannot_step_down(team: Store):
    people.save_profile(team, "maja", "agent", actor="priya")
    with pytest.raises(InvalidTransitionError, match="only supervisor"):
        people.save_profile(team, "priya", "agent", actor="priya")
    assert people.role_of(team.db, "priya") == "supervisor"


def test_an_agent_cannot_switch_a_rule_off(small_store: Store, sue: Store):
    with pytest.raises(InvalidTransitionError, match="Only a supervisor can change routing rules; alex is not one"):
        rules.set_rule(small_store, "fraud", "none", actor="alex")
    with pytest.raises(InvalidTransitionError, match="Only a supervisor"):
        rules.set_rule(small_store, "fraud", "none", actor="")
    assert rules.all_rules(small_store.db)["fraud"] == "four_eyes"
    rules.set_rule(sue, "fraud", "none", actor="sue")
    assert rules.all_rules(small_store.db)["fraud"] == "none"


# -- four eyes -------------------------------------------------------------------------------
@pytest.fixture
def fraud(small_store: Store) -> int:
    tickets.set_triage(small_store, 3, [("fraud", "Does not recognise a purchase")], sentiment="negative")
    return 3


def test_a_supervisor_who_returns_and_rewrites_a_draft_cannot_send_it_alone(small_store: Store, sue: Store,
                                                                           vera: Store, fraud: int):
    alex = small_store
    d = drafts.suggest(alex, fraud, TEXT, actor="alex", source="offline")
    assert drafts.approve(alex, d, TEXT, actor="alex") == "awaiting_supervisor"
    review.return_to_agent(sue, d, "Say when the investigation ends.", actor="sue")
    before = _outbound(alex, fraud)
    mine = "Hola María, la investigación termina el viernes."
    assert drafts.approve_and_send(sue, d, mine, actor="sue") is None  # her own text needs other eyes
    draft = drafts.get(alex.db, d)
    assert draft.state == "awaiting_supervisor" and draft.requested_by == "sue" and draft.edited_by == "sue"
    with pytest.raises(InvalidTransitionError, match="other than the writer"):
        drafts.approve(sue, d, mine, actor="sue")
    assert _outbound(alex, fraud) == before
    assert review.approve_and_send(vera, d, mine, actor="vera")
    assert _outbound(alex, fraud) == before + 1
    assert drafts.get(alex.db, d).approved_by == "vera"


def test_editing_clears_the_request_and_the_approval(small_store: Store, sue: Store, fraud: int):
    alex = small_store
    d = drafts.suggest(alex, fraud, TEXT, actor="alex", source="offline")
    drafts.approve(alex, d, TEXT, actor="alex")
    review.return_to_agent(sue, d, "Shorter, please.", actor="sue")
    assert drafts.get(alex.db, d).requested_by == "alex"  # the unchanged text is still alex's request
    drafts.save_edit(alex, d, "Hola María.", actor="alex")
    draft = drafts.get(alex.db, d)
    assert (draft.state, draft.requested_by, draft.approved_by, draft.edited_by) == ("edited", None, None, "alex")
    # forcing "approved" in the file does not help: the request was for another text (a team
    # server does not take the forged row at all)
    if write_by_hand(sue, "UPDATE drafts SET state = 'approved', approved_by = 'sue' WHERE id = ?", (d,)):
        with pytest.raises(InvalidTransitionError, match="four eyes"):
            drafts.send(sue, d, actor="sue")
    assert drafts.get(alex.db, d).state != "sent"


def test_the_last_editor_cannot_approve(small_store: Store, sue: Store, vera: Store, fraud: int):
    alex, text = small_store, "Hola María, ya lo hemos pausado."
    d = drafts.suggest(alex, fraud, TEXT, actor="alex", source="offline")
    drafts.save_edit(sue, d, text, actor="sue")  # the supervisor writes it
    assert drafts.get(alex.db, d).edited_by == "sue"
    assert drafts.approve(alex, d, text, actor="alex") == "awaiting_supervisor"
    with pytest.raises(InvalidTransitionError, match="other than the writer"):
        drafts.approve(sue, d, text, actor="sue")
    if write_by_hand(sue, "UPDATE drafts SET state = 'approved', approved_by = 'sue' WHERE id = ?", (d,)):
        with pytest.raises(InvalidTransitionError, match="four eyes"):
            drafts.send(sue, d, actor="sue")
        write_by_hand(sue, "UPDATE drafts SET state = 'awaiting_supervisor', approved_by = NULL WHERE id = ?", (d,))
    assert drafts.get(alex.db, d).state == "awaiting_supervisor"
    assert drafts.approve(vera, d, text, actor="vera") == "approved"
    assert drafts.send(vera, d, actor="vera")
    assert drafts.get(alex.db, d).approved_by == "vera"


# -- human-only ------------------------------------------------------------------------------
@pytest.fixture
def vulnerable(small_store: Store) -> tuple[int, int]:
    """A machine draft suggested before the flag arrived (ticket 1 has no rule yet)."""
    d = drafts.suggest(small_store, 1, "Hi Tom, the late fee is removed.", actor="alex", source="offline")
    tickets.set_triage(small_store, 1, [("vulnerability", "Mentions a recent bereavement")], sentiment="negative")
    assert "human_only" in rules.ticket_actions(small_store.db, 1)
    return 1, d


def test_a_machine_draft_of_a_human_only_ticket_is_not_sent_unchanged(small_store: Store, vulnerable):
    team, (ticket_id, d) = small_store, vulnerable
    before = _outbound(team, ticket_id)
    with pytest.raises(InvalidTransitionError, match="human-only"):
        drafts.approve_and_send(team, d, "Hi Tom, the late fee is removed.", actor="alex")
    with pytest.raises(InvalidTransitionError, match="human-only"):  # whitespace is not writing
        drafts.approve_and_send(team, d, "Hi Tom,  the late fee is removed.\n", actor="alex")
    draft = drafts.get(team.db, d)
    assert draft.state in ("suggested", "edited") and draft.approved_by is None  # nothing approved
    if write_by_hand(team, "UPDATE drafts SET state = 'approved', approved_by = 'alex' WHERE id = ?", (d,)):
        with pytest.raises(InvalidTransitionError, match="human-only"):  # send checks it itself
            drafts.send(team, d, actor="alex")
        write_by_hand(team, "UPDATE drafts SET state = 'edited', approved_by = NULL WHERE id = ?", (d,))
    assert _outbound(team, ticket_id) == before
    mine = "Hi Tom, I am so sorry for your loss. I have removed the fee; there is nothing you need to do."
    assert drafts.approve_and_send(team, d, mine, actor="alex")
    assert _outbound(team, ticket_id) == before + 1


def test_a_reply_a_person_writes_from_nothing_is_sent(small_store: Store, vulnerable):
    team, (ticket_id, d) = small_store, vulnerable
    drafts.discard(team, d, actor="alex")
    mine = drafts.suggest(team, ticket_id, "", actor="alex", source="human")
    before = _outbound(team, ticket_id)
    assert drafts.approve_and_send(team, mine, "Hi Tom, I am sorry. The fee is gone.", actor="alex")
    assert _outbound(team, ticket_id) == before + 1
