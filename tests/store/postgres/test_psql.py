"""The same bypasses typed into the real ``psql`` client, as a person at a terminal would."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.postgres_server import postgres_bindir
from tests.store.postgres.test_rules import new_draft, new_ticket


def psql_binary() -> str | None:
    bindir = postgres_bindir()
    candidate = bindir / "psql" if bindir else None
    return str(candidate) if candidate and candidate.exists() else shutil.which("psql")


def psql(team_db, name: str, command: str) -> subprocess.CompletedProcess:
    binary = psql_binary()
    if binary is None:
        pytest.skip("psql is not installed (apt-get install postgresql-client)")
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10", "PSQLRC": os.devnull}
    return subprocess.run([binary, "--no-psqlrc", "-X", "-v", "ON_ERROR_STOP=1", "-At", "-d", team_db.url_for(name),
                           "-c", command], capture_output=True, text=True, timeout=60, env=env)


def test_an_agent_at_psql_is_refused_and_told_why(team_db):
    alex = team_db.login("alex")
    conn = team_db.connect(alex)
    ticket = new_ticket(conn, flags=["fraud"])
    draft = new_draft(conn, ticket)
    conn.execute("SELECT approve_draft(%s, body) FROM drafts WHERE id = %s", [draft, draft])  # asks a supervisor
    for command, reason in [
        (f"UPDATE drafts SET state = 'approved', approved_by = 'someone' WHERE id = {draft}",
         "permission denied for table drafts"),
        (f"INSERT INTO messages (ticket_id, direction, body_text) VALUES ({ticket}, 'outbound', 'hi')",
         "violates row-level security policy"),
        ("UPDATE profiles SET role = 'supervisor'", "permission denied for table profiles"),
        ("DELETE FROM audit", "permission denied for table audit"),
        (f"SELECT approve_draft({draft}, body) FROM drafts WHERE id = {draft}", "waits for a supervisor's approval"),
    ]:
        done = psql(team_db, alex, command)
        assert done.returncode != 0, command
        assert reason in done.stderr, (command, done.stderr)
    done = psql(team_db, alex, f"SELECT state, requested_by FROM drafts WHERE id = {draft}")
    assert done.returncode == 0 and done.stdout.strip() == f"awaiting_supervisor|{alex}"
