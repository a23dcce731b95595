"""A team database on the session's real PostgreSQL, set up by ``team.init`` as an administrator would.

People are real LOGIN roles signing in with a password over TCP; as roles are cluster-wide, each
team's logins carry a suffix unique to its database. Tests act as a person through plain psycopg
connections, writing SQL by hand, exactly as someone with psql could.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import psycopg
import pytest

from agent_assist.store.postgres import team
from tests.postgres_server import PostgresServer

PASSWORD = "correct horse battery"


@dataclass(eq=False)
class Team:
    server: PostgresServer
    dbname: str
    suffix: str
    supervisor: str
    connections: list[psycopg.Connection] = field(default_factory=list)

    @property
    def admin_url(self) -> str:
        return self.server.url(self.dbname)

    def login(self, base: str) -> str:
        return f"{base}_{self.suffix}"

    def url_for(self, name: str, password: str = PASSWORD) -> str:
        return self.server.url(self.dbname, user=name, password=password)

    def add(self, base: str, role: str) -> str:
        name = self.login(base)
        team.add_person(self.admin_url, name, role, PASSWORD)
        return name

    def connect(self, name: str, *, autocommit: bool = True) -> psycopg.Connection:
        """A person's own session (as with psql: no search_path help beyond the database's)."""
        conn = psycopg.connect(self.url_for(name), autocommit=autocommit)
        self.connections.append(conn)
        return conn

    def admin(self) -> psycopg.Connection:
        conn = psycopg.connect(self.admin_url, autocommit=True)
        self.connections.append(conn)
        return conn

    def close_connections(self) -> None:
        while self.connections:
            self.connections.pop().close()

    def drop(self) -> None:
        self.close_connections()
        _LIVE.discard(self)
        self.server.drop_database(self.dbname)
        with psycopg.connect(self.server.url(), autocommit=True) as conn:
            names = [r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s",
                                                [f"%\\_{self.suffix}"])]
            for name in names:
                conn.execute(psycopg.sql.SQL("DROP ROLE {}").format(psycopg.sql.Identifier(name)))


_LIVE: set[Team] = set()


def make_team(server: PostgresServer) -> Team:
    dbname = server.create_database("team")
    suffix = secrets.token_hex(3)
    supervisor = f"sue_{suffix}"
    team.init(server.url(dbname), supervisor, PASSWORD)
    made = Team(server, dbname, suffix, supervisor)
    _LIVE.add(made)
    return made


@pytest.fixture(autouse=True)
def _close_team_connections():
    """The sessions a test opened end with it (the server has a limited number of slots)."""
    yield
    for live in list(_LIVE):
        live.close_connections()


@pytest.fixture(scope="module")
def team_db(postgres_server: PostgresServer):
    """One initialised team database per test module: a supervisor ``sue``, agents ``alex`` and ``sam``,
    and a second supervisor ``vera``."""
    t = make_team(postgres_server)
    t.add("alex", "agent")
    t.add("sam", "agent")
    t.add("vera", "supervisor")
    yield t
    t.drop()
