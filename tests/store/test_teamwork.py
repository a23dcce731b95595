"""Many desks on one queue: "Next ticket" claims, their leases, presence, the team overview, job leases.

Claims run on both backends; presence and leases need several desks, so they run on the real
PostgreSQL with one connection per desk (threads racing for real, no locks of our own).
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from agent_assist.store import drafts, rules, teamwork, tickets
from agent_assist.store.postgres.adapter import PermissionRefusedError
from tests.backends import seed
from tests.conftest import _iso

pytestmark = pytest.mark.both_backends


def _dataset(n: int) -> dict:
    priorities = ["low", "normal", "high", "urgent"]
    return {
        "customers": [{"ref": i, "name": f"Customer {i}", "email": f"c{i}@example.com", "language": "en"}
                      for i in range(5)],
        "tickets": [{"customer_ref": i % 5, "subject": f"Question {i}", "status": "new", "priority": priorities[i % 4],
                     "channel": "email", "language": "en", "assignee": None, "tags": [],
                     "created_at": _iso(10), "sla_due_at": _iso(-1 - i),
                     "messages": [{"direction": "inbound", "author": f"Customer {i % 5}", "created_at": _iso(10),
                                   "body_text": f"Help with question {i}, please."}]}
                    for i in range(n)],
        "articles": [],
    }


def _admin(store):
    return psycopg.connect(store._test_team.admin_url, autocommit=True, options="-c search_path=agent_assist")


def test_next_ticket_is_the_most_urgent_free_one_and_is_assigned(store, desk):
    seed(store, _dataset(8))
    first = teamwork.claim_next(store, person="alex", desk="desk-a")
    ticket = tickets.get_ticket(store.db, first)
    assert tickets.PRIORITIES[ticket.priority] == "urgent" and ticket.assignee == "alex" and ticket.status == "open"
    order = [first] + [teamwork.claim_next(store, person="alex", desk="desk-a") for _ in range(7)]
    ranks = [tickets.PRIORITIES[tickets.get_ticket(store.db, t).priority] for t in order]
    assert ranks == ["urgent", "urgent", "high", "high", "normal", "normal", "low", "low"]
    assert len(set(order)) == 8
    assert teamwork.claim_next(store, person="alex", desk="desk-a") is None  # nothing free: said as None


@pytest.mark.team_only
def test_fifty_desks_pressing_next_never_get_the_same_ticket(store, backend, desk):
    seed(store, _dataset(60))
    people = ["alex", "priya", "sam", "ana", "maja", "kim", "bea", "lee"]
    desks = [desk(p) for p in people]
    got: list[tuple[str, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(len(desks))

    def work(person: str, d) -> None:
        start.wait()
        try:
            while (tid := teamwork.claim_next(d, person=person, desk=f"desk-{person}")) is not None:
                with lock:
                    got.append((person, tid))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(p, d)) for p, d in zip(people, desks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    ids = [tid for _, tid in got]
    assert len(ids) == 60 and len(set(ids)) == 60  # every ticket claimed once, none twice
    for person, tid in got:
        assert tickets.get_ticket(store.db, tid).assignee == person


@pytest.mark.team_only
def test_a_desk_that_goes_away_loses_its_untouched_claims(store, backend, desk):
    seed(store, _dataset(3))
    priya = desk("priya")
    mine = teamwork.claim_next(priya, person="priya", desk="laptop")
    with _admin(store) as admin:  # time passes with no heartbeat from priya's laptop
        admin.execute("UPDATE ticket_claims SET expires_at = now() - interval '1 second'")
    assert teamwork.claim_next(store, person="alex", desk="desk-a") == mine  # the most urgent one is free again
    assert tickets.get_ticket(store.db, mine).assignee == "alex"


@pytest.mark.team_only
def test_a_heartbeat_keeps_claims_and_closing_the_window_gives_them_back(store, backend, desk):
    seed(store, _dataset(3))
    priya = desk("priya")
    mine = teamwork.claim_next(priya, person="priya", desk="laptop", lease_s=10)
    teamwork.heartbeat(priya, desk="laptop", ticket_id=mine, writing=False, lease_s=300)
    assert teamwork.release_expired(store) == 0
    with _admin(store) as admin:
        left = admin.execute("SELECT expires_at - now() > interval '200 seconds' FROM ticket_claims").fetchone()[0]
    assert left  # renewed far beyond the first ten seconds
    teamwork.leave(priya, "laptop")
    assert tickets.get_ticket(store.db, mine).assignee is None
    assert teamwork.claim_next(store, person="alex", desk="desk-a") == mine


@pytest.mark.team_only
def test_presence_shows_who_else_is_on_a_ticket_and_who_is_writing(store, backend, desk):
    seed(store, _dataset(2))
    priya, sam = desk("priya"), desk("sam")
    seen = store.presence_version()
    teamwork.heartbeat(priya, desk="p1", ticket_id=1, writing=True)
    teamwork.heartbeat(sam, desk="s1", ticket_id=1, writing=False)
    teamwork.heartbeat(store, desk="a1", ticket_id=1, writing=False)
    others = teamwork.others_on(store.db, 1, desk="a1")
    assert [(o.person, o.writing) for o in others] == [("priya", True), ("sam", False)]
    deadline = time.monotonic() + 5  # the other desks hear of it (NOTIFY), no scan
    while store.presence_version() == seen and time.monotonic() < deadline:
        time.sleep(0.02)
    assert store.presence_version() > seen
    teamwork.heartbeat(priya, desk="p1", ticket_id=2, writing=False)
    assert [o.person for o in teamwork.others_on(store.db, 1, desk="a1")] == ["sam"]
    teamwork.leave(sam, "s1")
    assert teamwork.others_on(store.db, 1, desk="a1") == []


@pytest.mark.team_only
def test_nobody_writes_presence_claims_or_leases_by_hand_or_as_someone_else(store, backend, desk):
    seed(store, _dataset(1))
    teamwork.heartbeat(store, desk="alex-desk", ticket_id=1, writing=False)
    raw = desk("priya").db.conn.raw
    for statement in ("INSERT INTO presence (desk, person, ticket_id) VALUES ('x', 'sue', 1)",
                      "UPDATE presence SET person = 'priya'",
                      "INSERT INTO ticket_claims (ticket_id, person, desk, expires_at) VALUES (1, 'priya', 'x', now())",
                      "DELETE FROM leases"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            raw.execute(statement)
    with pytest.raises(PermissionRefusedError, match="another person"):
        teamwork.heartbeat(desk("priya"), desk="alex-desk", ticket_id=1, writing=True)


def test_one_desk_holds_a_job_until_its_lease_runs_out(store, backend, desk):
    if backend != "postgres":
        assert teamwork.take_lease(store, "mailbox:support", desk="only", ttl_s=30)
        return
    priya = desk("priya")
    assert teamwork.take_lease(store, "mailbox:support", desk="a", ttl_s=30)
    assert not teamwork.take_lease(priya, "mailbox:support", desk="p", ttl_s=30)
    assert teamwork.take_lease(store, "mailbox:support", desk="a", ttl_s=30)  # renewing is holding
    with _admin(store) as admin:  # desk a was killed: its lease runs out
        admin.execute("UPDATE leases SET expires_at = now() - interval '1 second'")
    assert teamwork.take_lease(priya, "mailbox:support", desk="p", ttl_s=30)
    assert not teamwork.take_lease(store, "mailbox:support", desk="a", ttl_s=30)
    teamwork.drop_lease(priya, "mailbox:support", desk="p")
    assert teamwork.take_lease(store, "mailbox:support", desk="a", ttl_s=30)


def test_the_team_overview_counts_open_tickets_and_waiting_replies(store, backend, desk):
    seed(store, _dataset(4))
    desk("alex")
    priya = desk("priya")
    rules.set_rule(desk("sue", "supervisor"), "fraud", "four_eyes", actor="sue")
    for _ in range(2):
        teamwork.claim_next(priya, person="priya", desk="p1")
    mine = teamwork.claim_next(priya, person="priya", desk="p1")
    tickets.set_triage(priya, mine, [("fraud", "unknown purchase")], sentiment=None)
    draft_id = drafts.suggest(priya, mine, "Hello, here is the answer.", actor="priya", source="offline")
    assert drafts.approve(priya, draft_id, "Hello, we stopped the payment.", actor="priya") == "awaiting_supervisor"
    teamwork.heartbeat(priya, desk="p1", ticket_id=mine, writing=False)
    members = {m.name: m for m in teamwork.team_overview(store.db)}
    assert (members["priya"].open_tickets, members["priya"].waiting_replies) == (3, 1)
    assert members["alex"].open_tickets == 0
    assert members["sue"].role == "supervisor"
    if backend == "postgres":
        assert members["priya"].online is True and members["priya"].on_ticket == mine
        assert members["sue"].online is False
    else:
        assert members["priya"].online is None


def test_within_a_priority_a_ticket_whose_flag_has_a_rule_comes_first(store, desk):
    seed(store, _dataset(8))  # two of each priority, the SLA earliest for the lowest ticket number
    rules.set_rule(desk("sue", "supervisor"), "fraud", "four_eyes", actor="sue")
    high = [t for t in range(1, 9) if tickets.PRIORITIES[tickets.get_ticket(store.db, t).priority] == "high"]
    urgent = [t for t in range(1, 9) if tickets.PRIORITIES[tickets.get_ticket(store.db, t).priority] == "urgent"]
    flagged = high[-1]  # the later SLA of the two high ones
    tickets.set_triage(desk("sue", "supervisor"), flagged, [("fraud", "an unknown purchase")], sentiment=None)
    tickets.set_triage(store, high[0], [("repeat_contact", "wrote three times")], sentiment=None)  # no rule
    order = [teamwork.claim_next(store, person="alex", desk="d") for _ in range(4)]
    assert order[:2] == sorted(urgent)  # the more urgent priority still goes first
    assert order[2:] == [flagged, high[0]]  # then, among the high ones, the one the rules care about
