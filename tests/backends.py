"""One store fixture over both backends: tests marked ``both_backends`` run on SQLite and on PostgreSQL.

``store`` is then a SQLite file, or a fresh team database on the session's real PostgreSQL server
(a copy of a template that ``team init`` set up once), signed in as the agent ``alex``. ``desk(name,
role)`` gives the store a person works through: on SQLite the same store (the name travels as
``actor``, the profile is created if it is new); on PostgreSQL that person's own login, so the
server sees who they are, whatever name the app would send.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import psycopg
import pytest
from psycopg import sql

from agent_assist.store import Store, people
from agent_assist.store.postgres import team
from agent_assist.store.postgres.store import PostgresStore
from tests.postgres_server import PostgresServer

BACKENDS = ("sqlite", "postgres")
PASSWORD = "correct horse battery"
DEFAULT_PERSON = "alex"
# everyone the tests act as; roles are cluster-wide, so each name has one role in every team database
PEOPLE = {
    "sue": "supervisor", "lead": "supervisor", "vera": "supervisor",
    "alex": "agent", "priya": "agent", "sam": "agent", "ana": "agent", "maja": "agent", "kim": "agent",
    "bea": "agent", "lee": "agent",
}


class TeamTemplate:
    """A team database made once per session; each test gets a copy (``CREATE DATABASE … TEMPLATE``)."""

    def __init__(self, server: PostgresServer):
        self.server = server
        self.name = server.create_database("template")
        team.init(server.url(self.name), "sue", PASSWORD)
        for name, role in PEOPLE.items():
            team.add_person(server.url(self.name), name, role, PASSWORD)

    def copy(self) -> str:
        name = f"t_{secrets.token_hex(4)}"
        with psycopg.connect(self.server.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                         sql.Identifier(self.name)))
            # database-level settings are not copied with the template
            conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(name), sql.SQL(", ").join(sql.Identifier(p) for p in PEOPLE)))
        return name


@pytest.fixture(scope="session")
def team_template(postgres_server: PostgresServer) -> TeamTemplate:
    return TeamTemplate(postgres_server)


class TeamDatabase:
    def __init__(self, server: PostgresServer, dbname: str):
        self.server = server
        self.dbname = dbname
        self.stores: list[PostgresStore] = []

    @property
    def admin_url(self) -> str:
        return self.server.url(self.dbname)

    def url_for(self, name: str) -> str:
        return self.server.url(self.dbname, user=name, password=PASSWORD)

    def add(self, name: str, role: str) -> None:
        team.add_person(self.admin_url, name, role, PASSWORD)

    def desk(self, name: str, **options) -> PostgresStore:
        desk = PostgresStore(self.url_for(name), **options)
        desk._test_team = self  # for seed()
        self.stores.append(desk)
        return desk

    def close(self) -> None:
        while self.stores:
            self.stores.pop().close()
        self.server.drop_database(self.dbname)


@pytest.fixture
def team_database(team_template: TeamTemplate):
    """A fresh team database (a copy of the template) for one test."""
    made = TeamDatabase(team_template.server, team_template.copy())
    yield made
    made.close()


@pytest.fixture
def private_team():
    """A team database on a PostgreSQL cluster of its own (supervisor sue, agent alex), for tests that
    stop and restart the server (``private_team.server.stop()`` / ``.resume()``): never the shared one."""
    from tests.postgres_server import postgres_bindir

    if postgres_bindir() is None:
        pytest.skip("PostgreSQL is not installed: run packaging/postgres-test-server.sh")
    server = PostgresServer().start()
    name = server.create_database("private")
    team.init(server.url(name), "sue", PASSWORD)
    team.add_person(server.url(name), "alex", "agent", PASSWORD)
    made = TeamDatabase(server, name)
    try:
        yield made
    finally:
        while made.stores:
            made.stores.pop().close()
        server.cleanup()


def make_store(backend: str, request: pytest.FixtureRequest):
    if backend == "postgres":
        return request.getfixturevalue("team_database").desk(DEFAULT_PERSON)
    return Store(request.getfixturevalue("db_path"))


def desk_factory(store, backend: str, request: pytest.FixtureRequest) -> Callable[..., object]:
    def desk(name: str, role: str | None = None):
        role = role or PEOPLE.get(name, "agent")
        if backend == "postgres":
            if name == DEFAULT_PERSON:
                return store
            tdb: TeamDatabase = request.getfixturevalue("team_database")
            if PEOPLE.get(name) != role:
                tdb.add(name, role)
            return tdb.desk(name)
        if people.role_of(store.db, name) != role:
            boss = next((p.name for p in people.profiles(store.db) if p.is_supervisor), name)
            people.save_profile(store, name, role, actor=boss)
        return store
    return desk


def seed(store, dataset: dict, *, label: str = "test data", tmp_dir=None):
    """Load a test dataset (tests/conftest.py's shape) into either backend.

    On SQLite it is the bulk import; a team server starts from a desk's data as an administrator
    would do it: the dataset goes into an SQLite file, and ``team import-sqlite`` moves it over.
    """
    from agent_assist.store.bulk import import_dataset

    team_db: TeamDatabase | None = getattr(store, "_test_team", None)
    if team_db is None:
        return import_dataset(store, dataset, label=label)
    import tempfile
    from pathlib import Path

    from agent_assist.store.postgres.import_sqlite import import_file

    with tempfile.TemporaryDirectory(dir=tmp_dir) as folder:
        path = Path(folder) / "seed.db"
        with Store(path) as desk:
            result = import_dataset(desk, dataset, label=label)
        import_file(team_db.admin_url, path)
    return result
