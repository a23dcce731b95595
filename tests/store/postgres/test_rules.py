"""The team rules hold for a person who connects with psql as an agent and writes SQL by hand.

Every test here signs in as a real person (a LOGIN role with a password) on the session's real
PostgreSQL and tries a bypass in plain SQL; each must be refused by the database itself. The
legitimate paths are checked beside them, with the audit rows they leave.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from psycopg import errors

from agent_assist.store.postgres import audit as team_audit

Refused = (errors.InsufficientPrivilege, errors.CheckViolation)


def new_ticket(conn: psycopg.Connection, *, flags: list[str] = (), subject: str = "Late fee charged twice") -> int:
    customer = conn.execute("INSERT INTO customers (name, email) VALUES ('Tom Baker', NULL) RETURNING id").fetchone()[0]
    ticket = conn.execute("INSERT INTO tickets (customer_id, subject, flags) VALUES (%s, %s, %s) RETURNING id",
                          [customer, subject, json.dumps(list(flags))]).fetchone()[0]
    conn.execute("INSERT INTO messages (ticket_id, direction, author, body_text) VALUES (%s, 'inbound', 'Tom Baker', "
                 "'Please remove the fee.')", [ticket])
    return ticket


def new_draft(conn: psycopg.Connection, ticket: int, body: str = "Hi Tom, we removed the fee. [KB-1]",
              source: str = "ai") -> int:
    return conn.execute("INSERT INTO drafts (ticket_id, source, body, citations) VALUES (%s, %s, %s, '[1]') "
                        "RETURNING id", [ticket, source, body]).fetchone()[0]


def draft_row(conn: psycopg.Connection, draft: int) -> dict:
    cur = conn.execute("SELECT state, approved_by, requested_by, created_by, last_edited_by, body FROM drafts "
                       "WHERE id = %s", [draft])
    return dict(zip([c.name for c in cur.description], cur.fetchone()))


def audit_rows(conn: psycopg.Connection, *, draft: int | None = None, ticket: int | None = None) -> list[tuple]:
    if draft is not None:
        return conn.execute("SELECT actor, action FROM audit WHERE draft_id = %s ORDER BY id", [draft]).fetchall()
    return conn.execute("SELECT actor, action FROM audit WHERE ticket_id = %s ORDER BY id", [ticket]).fetchall()


def outbound_count(conn: psycopg.Connection, ticket: int) -> int:
    return conn.execute("SELECT count(*) FROM messages WHERE ticket_id = %s AND direction = 'outbound'",
                        [ticket]).fetchone()[0]


@pytest.fixture(scope="module")
def people(team_db):
    return {base: team_db.login(base) for base in ("alex", "sam", "vera", "sue")}


@pytest.fixture
def alex(team_db, people):
    return team_db.connect(people["alex"])


@pytest.fixture
def vera(team_db, people):
    return team_db.connect(people["vera"])


@pytest.fixture
def sue(team_db, people):
    return team_db.connect(people["sue"])


# -- the legitimate paths ---------------------------------------------------------------------
def test_an_agent_sends_a_normal_reply_through_the_send_path(alex, people):
    ticket = new_ticket(alex)
    draft = new_draft(alex, ticket)
    message = alex.execute("SELECT approve_and_send(%s, %s, 'solved')",
                           [draft, "Hi Tom, we removed the fee. [KB-1]"]).fetchone()[0]
    author, direction, body = alex.execute("SELECT author, direction, body_text FROM messages WHERE id = %s",
                                           [message]).fetchone()
    assert (author, direction, body) == (people["alex"], "outbound", "Hi Tom, we removed the fee. [KB-1]")
    assert draft_row(alex, draft)["state"] == "sent"
    assert alex.execute("SELECT status FROM tickets WHERE id = %s", [ticket]).fetchone()[0] == "solved"
    assert audit_rows(alex, draft=draft) == [(people["alex"], "draft.suggested"), (people["alex"], "draft.approved"),
                                             (people["alex"], "reply.sent")]
    details = json.loads(alex.execute("SELECT details FROM audit WHERE draft_id = %s AND action = 'reply.sent'",
                                      [draft]).fetchone()[0])
    assert details["message_id"] == message and details["approved_by"] == people["alex"]


def test_a_supervisor_approves_an_agents_four_eyes_reply_and_the_agent_sends_it(alex, vera, people):
    ticket = new_ticket(alex, flags=["fraud"])
    draft = new_draft(alex, ticket)
    body = draft_row(alex, draft)["body"]
    assert alex.execute("SELECT approve_draft(%s, %s)", [draft, body]).fetchone()[0] == "awaiting_supervisor"
    assert vera.execute("SELECT approve_draft(%s, %s)", [draft, body]).fetchone()[0] == "approved"
    message = alex.execute("SELECT send_draft(%s)", [draft]).fetchone()[0]
    assert message and outbound_count(alex, ticket) == 1
    row = draft_row(alex, draft)
    assert (row["state"], row["approved_by"], row["requested_by"]) == ("sent", people["vera"], people["alex"])
    assert audit_rows(alex, draft=draft) == [(people["alex"], "draft.suggested"),
                                             (people["alex"], "draft.approval_requested"),
                                             (people["vera"], "draft.approved"), (people["alex"], "reply.sent")]


def test_audit_rows_name_the_session_login_even_after_set_role(alex, people):
    alex.execute("SET ROLE agent_assist_agent")  # current_user is now the group; the person is still alex
    ticket = new_ticket(alex)
    alex.execute("RESET ROLE")
    assert audit_rows(alex, ticket=ticket) == [(people["alex"], "ticket.created"),
                                               (people["alex"], "message.received")]


def test_a_client_sent_actor_is_overwritten(alex, people):
    ticket = new_ticket(alex)
    note = alex.execute("INSERT INTO messages (ticket_id, direction, author, body_text) VALUES (%s, 'note', "
                        "%s, 'Called the bank.') RETURNING author", [ticket, people["sue"]]).fetchone()[0]
    assert note == people["alex"]
    with pytest.raises(errors.InsufficientPrivilege):  # the writer of a draft is not the client's to say
        alex.execute("INSERT INTO drafts (ticket_id, source, body, created_by) VALUES (%s, 'human', 'x', %s)",
                     [ticket, people["sue"]])


def test_the_audit_chain_written_by_the_database_verifies_with_the_desks_hash(team_db, alex):
    new_ticket(alex, subject="Årsavgift – “dubbel” debitering\n\ttab")  # non-ASCII, quotes, control characters
    result = team_audit.verify(team_db.admin())
    assert result.ok and result.rows > 3


# -- drafts: state changes only through the functions -------------------------------------------
@pytest.mark.parametrize("statement", [
    "UPDATE drafts SET state = 'approved' WHERE id = %s",
    "UPDATE drafts SET approved_by = session_user, state = 'approved' WHERE id = %s",
    "UPDATE drafts SET state = 'sent' WHERE id = %s",
    "UPDATE drafts SET requested_by = NULL WHERE id = %s",
    "DELETE FROM drafts WHERE id = %s",
])
def test_an_agent_cannot_change_a_drafts_state_by_hand(alex, statement):
    draft = new_draft(alex, new_ticket(alex, flags=["fraud"]))
    with pytest.raises(errors.InsufficientPrivilege):
        alex.execute(statement, [draft])
    assert draft_row(alex, draft)["state"] == "suggested"


def test_an_agent_cannot_approve_their_own_four_eyes_reply(alex):
    ticket = new_ticket(alex, flags=["financial_hardship"])
    draft = new_draft(alex, ticket)
    body = draft_row(alex, draft)["body"]
    assert alex.execute("SELECT approve_draft(%s, %s)", [draft, body]).fetchone()[0] == "awaiting_supervisor"
    with pytest.raises(errors.InsufficientPrivilege, match="waits for a supervisor"):
        alex.execute("SELECT approve_draft(%s, %s)", [draft, body])
    with pytest.raises(errors.CheckViolation, match="Only an approved draft can be sent"):
        alex.execute("SELECT send_draft(%s)", [draft])
    with pytest.raises(errors.InsufficientPrivilege):
        alex.execute("SELECT approve_and_send(%s, %s)", [draft, body])
    assert outbound_count(alex, ticket) == 0


def test_a_supervisor_cannot_approve_what_they_wrote(vera, sue):
    ticket = new_ticket(vera, flags=["dispute"])
    draft = new_draft(vera, ticket)
    body = draft_row(vera, draft)["body"]
    assert vera.execute("SELECT approve_draft(%s, %s)", [draft, body]).fetchone()[0] == "awaiting_supervisor"
    with pytest.raises(errors.InsufficientPrivilege, match="a supervisor other than the writer"):
        vera.execute("SELECT approve_draft(%s, %s)", [draft, body])
    assert sue.execute("SELECT approve_draft(%s, %s)", [draft, body]).fetchone()[0] == "approved"
    assert vera.execute("SELECT send_draft(%s)", [draft]).fetchone()[0]


def test_a_supervisor_cannot_approve_what_they_last_edited(alex, vera, sue):
    ticket = new_ticket(alex, flags=["fraud"])
    draft = new_draft(alex, ticket)
    alex.execute("SELECT approve_draft(%s, %s)", [draft, draft_row(alex, draft)["body"]])
    with pytest.raises(errors.CheckViolation, match="Return the draft to the agent"):
        vera.execute("SELECT approve_draft(%s, %s)", [draft, "A better text."])
    vera.execute("UPDATE drafts SET body = 'A better text.' WHERE id = %s", [draft])  # editing is allowed...
    row = draft_row(vera, draft)
    assert (row["state"], row["requested_by"], row["last_edited_by"]) == ("edited", None, vera.info.user)
    # ...and makes vera a writer: her approval only asks for someone else's
    assert vera.execute("SELECT approve_draft(%s, 'A better text.')", [draft]).fetchone()[0] == "awaiting_supervisor"
    with pytest.raises(errors.InsufficientPrivilege, match="other than the writer"):
        vera.execute("SELECT approve_draft(%s, 'A better text.')", [draft])
    assert sue.execute("SELECT approve_draft(%s, 'A better text.')", [draft]).fetchone()[0] == "approved"


def test_editing_the_text_withdraws_its_approval(alex):
    ticket = new_ticket(alex)
    draft = new_draft(alex, ticket)
    assert alex.execute("SELECT approve_draft(%s, %s)", [draft, draft_row(alex, draft)["body"]]).fetchone()[0] == "approved"
    alex.execute("UPDATE drafts SET body = body || ' P.S.' WHERE id = %s", [draft])
    row = draft_row(alex, draft)
    assert (row["state"], row["approved_by"]) == ("edited", None)
    with pytest.raises(errors.CheckViolation, match="Only an approved draft"):
        alex.execute("SELECT send_draft(%s)", [draft])


def test_a_sent_draft_cannot_be_edited_or_sent_again(alex):
    ticket = new_ticket(alex)
    draft = new_draft(alex, ticket)
    alex.execute("SELECT approve_and_send(%s, %s)", [draft, draft_row(alex, draft)["body"]])
    with pytest.raises(errors.CheckViolation, match="cannot be edited"):
        alex.execute("UPDATE drafts SET body = 'changed after the fact' WHERE id = %s", [draft])
    with pytest.raises(errors.CheckViolation, match="Only an approved draft"):
        alex.execute("SELECT send_draft(%s)", [draft])
    assert outbound_count(alex, ticket) == 1


# -- human only -------------------------------------------------------------------------------
def test_a_human_only_tickets_machine_draft_cannot_be_sent_unedited(alex):
    ticket = new_ticket(alex, flags=["vulnerability"])
    draft = new_draft(alex, ticket)
    body = draft_row(alex, draft)["body"]
    with pytest.raises(errors.InsufficientPrivilege, match="human-only"):
        alex.execute("SELECT approve_and_send(%s, %s)", [draft, body])
    with pytest.raises(errors.InsufficientPrivilege):
        alex.execute("SELECT approve_draft(%s, %s)", [draft, body])
    assert outbound_count(alex, ticket) == 0
    # a person's own words go out
    assert alex.execute("SELECT approve_and_send(%s, %s)", [draft, "Hi Tom, I have paused your payments; "
                                                                   "take the time you need."]).fetchone()[0]


def test_an_agent_cannot_clear_a_flag_that_carries_a_rule(alex, vera):
    ticket = new_ticket(alex, flags=["vulnerability", "angry"])
    with pytest.raises(errors.InsufficientPrivilege, match="Only a supervisor can clear the flag vulnerability"):
        alex.execute("UPDATE tickets SET flags = '[]' WHERE id = %s", [ticket])
    alex.execute("UPDATE tickets SET flags = '[\"vulnerability\"]' WHERE id = %s", [ticket])  # 'angry' has no rule
    alex.execute("INSERT INTO ticket_flags (ticket_id, kind, reason, source) VALUES (%s, 'vulnerability', 'x', "
                 "'rules')", [ticket])
    with pytest.raises(errors.InsufficientPrivilege, match="Only a supervisor can clear the flag vulnerability"):
        alex.execute("DELETE FROM ticket_flags WHERE ticket_id = %s", [ticket])
    vera.execute("UPDATE tickets SET flags = '[]' WHERE id = %s", [ticket])
    assert vera.execute("DELETE FROM ticket_flags WHERE ticket_id = %s", [ticket]).rowcount == 1


# -- the one send path --------------------------------------------------------------------------
def test_an_agent_cannot_write_an_outbound_message_directly(alex):
    ticket = new_ticket(alex)
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
        alex.execute("INSERT INTO messages (ticket_id, direction, author, body_text) VALUES (%s, 'outbound', "
                     "session_user, 'Pay us now.')", [ticket])
    inbound = alex.execute("SELECT id FROM messages WHERE ticket_id = %s", [ticket]).fetchone()[0]
    with pytest.raises(errors.InsufficientPrivilege):
        alex.execute("UPDATE messages SET direction = 'outbound' WHERE id = %s", [inbound])
    with pytest.raises(errors.InsufficientPrivilege):
        alex.execute("ALTER TABLE messages DISABLE ROW LEVEL SECURITY")
    assert outbound_count(alex, ticket) == 0


# -- people and rules ---------------------------------------------------------------------------
@pytest.mark.parametrize("statement", [
    "UPDATE profiles SET role = 'supervisor' WHERE name = session_user",
    "INSERT INTO profiles (name, role) VALUES ('mallory', 'supervisor')",
    "DELETE FROM profiles",
    "GRANT agent_assist_supervisor TO CURRENT_USER",
    "SET ROLE agent_assist_supervisor",
    "CREATE ROLE mallory LOGIN PASSWORD 'mallory-password'",
    "ALTER ROLE CURRENT_USER SUPERUSER",
    "ALTER ROLE CURRENT_USER BYPASSRLS",
])
def test_an_agent_cannot_change_people_or_roles(alex, people, statement):
    with pytest.raises(errors.InsufficientPrivilege):
        alex.execute(statement)
    assert alex.execute("SELECT role FROM profiles WHERE name = %s", [people["alex"]]).fetchone()[0] == "agent"
    assert alex.execute("SELECT current_user").fetchone()[0] == people["alex"]


@pytest.mark.parametrize("statement", [
    "UPDATE rules SET action = 'none' WHERE flag = 'fraud'",
    "INSERT INTO rules (flag, action) VALUES ('new_flag', 'none')",
    "DELETE FROM rules WHERE flag = 'vulnerability'",
])
def test_an_agent_cannot_change_routing_rules(alex, statement):
    with pytest.raises(errors.InsufficientPrivilege):
        alex.execute(statement)
    assert dict(alex.execute("SELECT flag, action FROM rules WHERE flag IN ('fraud', 'vulnerability')")) == \
        {"fraud": "four_eyes", "vulnerability": "human_only"}


def test_a_supervisor_changes_a_rule_and_is_named_for_it(vera, people):
    with pytest.raises(errors.InsufficientPrivilege):  # who changed it is not the client's to say
        vera.execute("UPDATE rules SET action = 'none', updated_by = 'system' WHERE flag = 'angry'")
    vera.execute("UPDATE rules SET action = 'four_eyes' WHERE flag = 'angry'")
    try:
        assert vera.execute("SELECT updated_by FROM rules WHERE flag = 'angry'").fetchone()[0] == people["vera"]
        actor, details = vera.execute("SELECT actor, details FROM audit WHERE action = 'rule.changed' "
                                      "ORDER BY id DESC LIMIT 1").fetchone()
        assert actor == people["vera"]
        assert json.loads(details) == {"flag": "angry", "before": "none", "after": "four_eyes"}
    finally:
        vera.execute("UPDATE rules SET action = 'none' WHERE flag = 'angry'")


# -- the audit trail ----------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["alex", "vera"])
@pytest.mark.parametrize("statement", [
    "UPDATE audit SET actor = 'nobody'",
    "DELETE FROM audit",
    "TRUNCATE audit",
    "INSERT INTO audit (at, actor, action, hash) VALUES ('2026-01-01T00:00:00Z', 'nobody', 'reply.sent', 'x')",
    "SELECT audit_append('reply.sent', NULL, NULL, '{}'::jsonb)",
    "ALTER TABLE audit DISABLE TRIGGER ALL",
])
def test_nobody_on_the_team_can_write_the_audit_trail_by_hand(team_db, people, who, statement):
    conn = team_db.connect(people[who])
    before = conn.execute("SELECT count(*), max(hash) FROM audit").fetchone()
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement)
    assert conn.execute("SELECT count(*), max(hash) FROM audit").fetchone() == before


@pytest.mark.parametrize("statement", ["UPDATE audit SET actor = 'nobody'", "DELETE FROM audit", "TRUNCATE audit"])
def test_not_even_the_server_administrator_rewrites_the_audit_trail_by_accident(team_db, statement):
    admin = team_db.admin()  # a superuser: grants do not bind it, the trigger does
    with pytest.raises(errors.InsufficientPrivilege, match="append-only"):
        admin.execute(statement)


def test_only_the_owner_can_rewrite_the_audit_trail_and_the_chain_shows_it(postgres_server):
    from tests.store.postgres.conftest import make_team

    team = make_team(postgres_server)
    try:
        alex = team.add("alex", "agent")
        new_ticket(team.connect(alex))
        admin = team.admin()
        assert team_audit.verify(admin).ok
        with admin.transaction():
            admin.execute("SET LOCAL ROLE agent_assist_owner")
            admin.execute("UPDATE audit SET actor = 'someone else' WHERE action = 'ticket.created'")
        result = team_audit.verify(admin)
        assert not result.ok and result.reason == "its content does not match its hash"
    finally:
        team.drop()


def test_a_machine_draft_cannot_arrive_pre_edited(alex):
    ticket = new_ticket(alex, flags=["vulnerability"])
    draft = alex.execute("INSERT INTO drafts (ticket_id, source, original_body, body) VALUES (%s, 'ai', 'x', "
                         "'The machine text.') RETURNING id", [ticket]).fetchone()[0]
    with pytest.raises(errors.InsufficientPrivilege, match="human-only"):
        alex.execute("SELECT approve_and_send(%s, 'The machine text.')", [draft])


# -- what the team may call at all ---------------------------------------------------------------
TEAM_FUNCTIONS = {"now_iso", "actor", "is_owner_context", "role_of", "is_supervisor", "ticket_actions",
                  "json_item", "audit_hash", "approve_draft", "send_draft", "approve_and_send", "discard_draft",
                  "return_draft",
                  # team work (migration 005): claims, presence and job leases, by the session's person only
                  "release_expired_claims", "claim_next", "release_claim", "desk_heartbeat", "desk_leave",
                  "take_lease", "drop_lease",
                  "withdraw_approval",  # undo send (migration 007)
                  "decide_article_draft"}  # a supervisor publishes an article proposed from a ticket (013)


@pytest.mark.parametrize("who", ["alex", "vera"])
def test_the_team_may_execute_only_the_functions_meant_for_it(team_db, people, who):
    conn = team_db.admin()
    callable_ = {r[0] for r in conn.execute(
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'agent_assist' AND has_function_privilege(%s, p.oid, 'EXECUTE')", [people[who]])}
    assert callable_ == TEAM_FUNCTIONS


def test_every_security_definer_function_pins_its_search_path(team_db):
    loose = team_db.admin().execute(
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'agent_assist' AND p.prosecdef "
        "AND NOT coalesce(array_to_string(p.proconfig, ',') LIKE '%%search_path=agent_assist, pg_temp%%', false)"
    ).fetchall()
    assert loose == []


def test_discarding_and_returning_drafts(alex, vera, people):
    ticket = new_ticket(alex, flags=["fraud"])
    draft = new_draft(alex, ticket)
    alex.execute("SELECT approve_draft(%s, %s)", [draft, draft_row(alex, draft)["body"]])
    with pytest.raises(errors.InsufficientPrivilege, match="Only a supervisor returns"):
        alex.execute("SELECT return_draft(%s, 'looks fine to me')", [draft])
    with pytest.raises(errors.CheckViolation, match="needs a comment"):
        vera.execute("SELECT return_draft(%s, '  ')", [draft])
    vera.execute("SELECT return_draft(%s, 'Name the fee and its amount.')", [draft])
    assert draft_row(alex, draft)["state"] == "edited"
    author = alex.execute("SELECT author FROM review_comments WHERE draft_id = %s", [draft]).fetchone()[0]
    assert author == people["vera"]
    alex.execute("SELECT discard_draft(%s)", [draft])
    with pytest.raises(errors.CheckViolation, match="cannot be approved"):
        alex.execute("SELECT approve_draft(%s, 'again')", [draft])
    assert [a for _, a in audit_rows(alex, draft=draft)][-2:] == ["draft.returned", "draft.discarded"]


def test_an_agent_cannot_rename_a_rule_flag_away_or_pick_ids(alex, vera):
    ticket = new_ticket(alex, flags=["fraud"])
    alex.execute("INSERT INTO ticket_flags (ticket_id, kind, reason, source) VALUES (%s, 'fraud', 'x', 'rules')",
                 [ticket])
    with pytest.raises(errors.InsufficientPrivilege, match="Only a supervisor can clear the flag fraud"):
        alex.execute("UPDATE ticket_flags SET kind = 'angry' WHERE ticket_id = %s", [ticket])
    with pytest.raises(errors.InsufficientPrivilege, match="Only a supervisor"):
        alex.execute("UPDATE ticket_flags SET ticket_id = %s WHERE ticket_id = %s", [new_ticket(alex), ticket])
    alex.execute("UPDATE ticket_flags SET reason = 'they called twice' WHERE ticket_id = %s", [ticket])  # allowed
    assert vera.execute("UPDATE ticket_flags SET kind = 'angry' WHERE ticket_id = %s", [ticket]).rowcount == 1
    with pytest.raises(errors.InsufficientPrivilege):
        alex.execute("INSERT INTO tickets (id, subject) VALUES (999999999, 'squatting on an id')")
    with pytest.raises(errors.InsufficientPrivilege):
        alex.execute("UPDATE tickets SET id = id + 1000000 WHERE id = %s", [ticket])
    with pytest.raises(errors.InvalidTextRepresentation):  # flags are a JSON list, or nothing
        alex.execute("UPDATE tickets SET flags = 'fraud' WHERE id = %s", [ticket])
    with pytest.raises(errors.CheckViolation):
        alex.execute("UPDATE tickets SET flags = '{\"fraud\": false}' WHERE id = %s", [ticket])
