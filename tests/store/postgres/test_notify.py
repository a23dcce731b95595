"""LISTEN/NOTIFY: a ticket created or changed at one desk is announced to every other desk."""

from __future__ import annotations

import threading

import psycopg
import pytest

from agent_assist.store.postgres import audit as team_audit
from tests.store.postgres.test_rules import new_ticket

CHANNEL = "agent_assist_tickets"


def received(conn: psycopg.Connection, count: int, timeout: float = 10.0) -> list[str]:
    """The payloads of the next ``count`` notifications (waits on the socket, no polling)."""
    return [n.payload for n in conn.notifies(timeout=timeout, stop_after=count) if n.channel == CHANNEL]


def test_a_new_and_a_changed_ticket_reach_another_desk(team_db):
    listener = team_db.connect(team_db.login("sam"))
    listener.execute(f"LISTEN {CHANNEL}")
    alex = team_db.connect(team_db.login("alex"))
    ticket = new_ticket(alex)  # a ticket, then its first message: both announce the ticket
    assert set(received(listener, 2)) == {str(ticket)}
    alex.execute("UPDATE tickets SET status = 'open' WHERE id = %s", [ticket])
    assert received(listener, 1) == [str(ticket)]


def test_nothing_is_announced_before_the_change_is_committed(team_db):
    listener = team_db.connect(team_db.login("sam"))
    listener.execute(f"LISTEN {CHANNEL}")
    alex = team_db.connect(team_db.login("alex"), autocommit=False)
    ticket = new_ticket(alex)
    alex.rollback()
    other = new_ticket(team_db.connect(team_db.login("alex")))
    assert set(received(listener, 2)) == {str(other)}  # the rolled-back ticket never shows
    assert ticket != other


def test_desks_writing_at_once_keep_one_audit_chain(team_db):
    names = [team_db.login("alex"), team_db.login("sam"), team_db.login("vera")]
    errors: list[BaseException] = []

    def desk(name: str) -> None:
        try:
            with psycopg.connect(team_db.url_for(name), autocommit=True) as conn:
                for _ in range(15):
                    new_ticket(conn)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=desk, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    result = team_audit.verify(team_db.admin())
    assert result.ok, result


def test_no_agent_can_stall_the_audit_trail_for_everyone(team_db):
    mallory = team_db.connect(team_db.login("sam"))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        mallory.execute("SELECT * FROM audit_head FOR UPDATE")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), mallory.transaction():
        mallory.execute("LOCK TABLE audit IN EXCLUSIVE MODE")
    # an advisory lock with any key of theirs is theirs alone: other desks go on writing
    mallory.execute("SELECT pg_advisory_lock(hashtext('agent_assist.audit'))")
    alex = team_db.connect(team_db.login("alex"))
    alex.execute("SET statement_timeout = '10s'")  # would fail the test instead of hanging it
    assert new_ticket(alex)
