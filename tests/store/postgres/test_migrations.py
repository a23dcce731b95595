"""Versioned migrations of the team schema: applied once, in order, atomically; newer schemas refused."""

from __future__ import annotations

import pytest

from agent_assist.store.errors import MigrationError, NewerSchemaError
from agent_assist.store.postgres import TeamDatabaseError, connect, migrations, team
from tests.store.postgres.conftest import PASSWORD, make_team


@pytest.fixture
def fresh(postgres_server):
    t = make_team(postgres_server)
    yield t
    t.drop()


def test_init_applies_every_migration_once_and_again_is_a_no_op(fresh):
    with connect(fresh.admin_url, autocommit=True) as conn:
        assert migrations.current_version(conn) == migrations.LATEST
        assert migrations.check(conn) == migrations.LATEST
        assert migrations.migrate(conn) == []
    report = team.init(fresh.admin_url, fresh.supervisor, PASSWORD)
    assert (report.applied, report.schema_version) == ((), migrations.LATEST)


def test_a_newer_schema_on_the_server_is_refused_in_words_and_left_alone(fresh):
    admin = fresh.admin()
    with admin.transaction():
        admin.execute("SET LOCAL ROLE agent_assist_owner")
        admin.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, 'from_the_future')",
                      [migrations.LATEST + 1])
    with connect(fresh.admin_url, autocommit=True) as conn:
        with pytest.raises(NewerSchemaError, match=rf"schema version {migrations.LATEST + 1}, newer than this "
                                                   rf"Agent Assist knows \({migrations.LATEST}\)\. Update Agent Assist"):
            migrations.check(conn)
        with pytest.raises(NewerSchemaError):
            migrations.migrate(conn)
    with pytest.raises(NewerSchemaError):
        team.init(fresh.admin_url, fresh.supervisor, PASSWORD)
    with pytest.raises(NewerSchemaError):  # a desk connecting as a person is refused the same way
        with connect(fresh.url_for(fresh.supervisor)) as conn:
            migrations.check(conn)
    assert admin.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == migrations.LATEST + 1


def test_a_failing_migration_is_rolled_back_whole(fresh):
    broken = [*migrations.load(),
              migrations.Migration(migrations.LATEST + 1, "half_done",
                                   "CREATE TABLE half_done (id int); SELECT no_such_function();")]
    with connect(fresh.admin_url, autocommit=True) as conn:
        with pytest.raises(MigrationError, match=rf"{migrations.LATEST + 1:03d} \(half_done\) failed and was rolled "
                                                 "back: Function no_such_function\\(\\) does not exist"):
            migrations.migrate(conn, broken)
        assert migrations.current_version(conn) == migrations.LATEST
        assert conn.execute("SELECT to_regclass('agent_assist.half_done')").fetchone()[0] is None


def test_an_older_schema_asks_for_an_upgrade(fresh):
    with connect(fresh.admin_url, autocommit=True) as conn:
        newer = [*migrations.load(), migrations.Migration(migrations.LATEST + 1, "next", "SELECT 1")]
        with pytest.raises(MigrationError, match="An administrator upgrades it with `agent-assist team init URL`"):
            migrations.check(conn, newer)


def test_a_database_without_the_team_schema_is_named_as_such(postgres_server):
    name = postgres_server.create_database("plain")
    try:
        with connect(postgres_server.url(name)) as conn:
            with pytest.raises(TeamDatabaseError, match="no Agent Assist team schema"):
                migrations.check(conn)
    finally:
        postgres_server.drop_database(name)


def test_migrations_are_numbered_without_gaps():
    found = migrations.load()
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    assert all(m.sql.strip() for m in found)


def test_schema_objects_belong_to_the_owner(fresh):
    admin = fresh.admin()
    owners = {r[0] for r in admin.execute(
        "SELECT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'agent_assist'")}
    owners |= {r[0] for r in admin.execute(
        "SELECT pg_get_userbyid(p.proowner) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'agent_assist'")}
    assert owners == {"agent_assist_owner"}


def test_connect_errors_are_sentences(postgres_server):
    with pytest.raises(TeamDatabaseError, match=r"^Cannot connect to nobody@127\.0\.0\.1:\d+/postgres: Password "
                                                r"authentication failed for user \"nobody\"\.$"):
        connect(postgres_server.url(user="nobody", password="x"))
    with pytest.raises(TeamDatabaseError, match="is not a PostgreSQL connection URL"):
        connect("postgresql://[broken")
    closed = postgres_server.url().replace(f":{postgres_server.port}/", ":1/")
    with pytest.raises(TeamDatabaseError, match=r"^Cannot connect to postgres@127\.0\.0\.1:1/postgres: .*refused"):
        connect(closed)
