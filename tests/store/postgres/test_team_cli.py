"""``agent-assist team init`` and ``team add-person``, run as real processes against the real server."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import psycopg
import pytest

from tests.store.postgres.conftest import PASSWORD


def run_cli(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("AGENT_ASSIST_DB", "AGENT_ASSIST_TEAM_PASSWORD")}
    return subprocess.run([sys.executable, "-m", "agent_assist", *args], input=stdin, capture_output=True,
                          text=True, timeout=120, env={**environ, **(env or {})})


@pytest.fixture
def names(postgres_server):
    suffix = secrets.token_hex(3)
    made = {"db": f"cli_{suffix}", "sue": f"sue_{suffix}", "alex": f"alex_{suffix}"}
    yield made
    postgres_server.drop_database(made["db"])
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        for role in (made["sue"], made["alex"]):
            conn.execute(psycopg.sql.SQL("DROP ROLE IF EXISTS {}").format(psycopg.sql.Identifier(role)))


def test_init_then_add_person_from_the_command_line(postgres_server, names):
    url = postgres_server.url(names["db"])
    done = run_cli("team", "init", url, "--supervisor", names["sue"], "--password-stdin", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert f"Team database {names['db']} is ready" in done.stdout and "001, 002" in done.stdout
    assert f"{names['sue']} signs in as its supervisor" in done.stdout
    assert postgres_server.password not in done.stdout + done.stderr

    added = run_cli("team", "add-person", names["alex"], "--role", "agent", env={"AGENT_ASSIST_DB": url,
                                                                                "AGENT_ASSIST_TEAM_PASSWORD": PASSWORD})
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == f"{names['alex']} joined the team as agent; they sign in with their own password."
    with psycopg.connect(postgres_server.url(names["db"], user=names["alex"], password=PASSWORD)) as conn:
        assert conn.execute("SELECT role FROM profiles WHERE name = session_user").fetchone() == ("agent",)

    promoted = run_cli("team", "add-person", names["alex"], "--role", "supervisor", "--db", url)
    assert promoted.returncode == 0, promoted.stderr  # no password needed for someone already on the team
    assert promoted.stdout.strip() == f"{names['alex']} is now supervisor."

    again = run_cli("team", "init", url, "--supervisor", names["sue"], "--password-stdin", stdin=PASSWORD + "\n")
    assert "migrations applied: none, it was up to date" in again.stdout


@pytest.mark.parametrize("args, stdin, message", [
    (("team", "init", "/tmp/desk.db", "--supervisor", "sue"), "", "is not a PostgreSQL URL"),
    (("team", "add-person", "alex", "--role", "agent"), "", "Name the team database: --db postgresql://"),
    (("team", "init", "{url}", "--supervisor", "two words", "--password-stdin"), "x\n", "without spaces"),
    (("team", "init", "{url}", "--supervisor", "{sue}"), "", "A password for"),
    (("team", "init", "{url}", "--supervisor", "{sue}", "--password-stdin"), "", "No password for"),
    (("team", "init", "{url}", "--supervisor", "{sue}", "--password-stdin"), "short\n", "at least 8 characters"),
    (("team", "init", "{bad_url}", "--supervisor", "{sue}", "--password-stdin"), PASSWORD + "\n",
     "Password authentication failed"),
])
def test_mistakes_end_in_one_sentence_not_a_traceback(postgres_server, names, args, stdin, message):
    values = {"url": postgres_server.url(names["db"]), "sue": names["sue"],
              "bad_url": postgres_server.url(names["db"], user="postgres", password="wrong")}
    done = run_cli(*(a.format(**values) for a in args), stdin=stdin)
    assert done.returncode == 2
    assert message in done.stderr and done.stderr.startswith("agent-assist: ")
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
