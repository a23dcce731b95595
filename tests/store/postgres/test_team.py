"""Setting up a team: ``team.init`` and ``team.add_person`` as the server's administrator runs them."""

from __future__ import annotations

import psycopg
import pytest

from agent_assist.store.errors import InvalidTransitionError
from agent_assist.store.postgres import TeamDatabaseError, team
from tests.store.postgres.conftest import PASSWORD, make_team


UNREACHABLE = "postgresql://nobody@127.0.0.1:1/nothing"


@pytest.fixture
def fresh(postgres_server):
    t = make_team(postgres_server)
    yield t
    t.drop()


def groups_of(conn: psycopg.Connection, name: str) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s", [name])}


def test_a_person_added_signs_in_with_their_password_and_nothing_else(fresh):
    name = fresh.add("alex", "agent")
    with psycopg.connect(fresh.url_for(name)) as conn:
        assert conn.execute("SELECT session_user, role FROM profiles WHERE name = session_user").fetchone() == \
            (name, "agent")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(fresh.url_for(name, password="not the password"))
    admin = fresh.admin()
    assert groups_of(admin, name) == {"agent_assist_agent"}
    flags = admin.execute("SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolcanlogin FROM pg_roles "
                          "WHERE rolname = %s", [name]).fetchone()
    assert flags == (False, False, False, False, True)
    # the password reached the server hashed, never as text
    stored = admin.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [name]).fetchone()[0]
    assert stored.startswith("SCRAM-SHA-256$") and PASSWORD not in stored


def test_the_password_never_appears_in_a_statement_the_server_logs(fresh):
    admin = fresh.admin()
    admin.execute(f'ALTER DATABASE "{fresh.dbname}" SET log_statement = \'all\'')
    secret = "a-unique-secret-4711-password"
    name = fresh.login("logged")
    team.add_person(fresh.admin_url, name, "agent", secret)
    log = fresh.server.log.read_text(errors="replace")
    assert f'ROLE "{name}" LOGIN' in log  # the statement was logged...
    assert secret not in log  # ...without the password


def test_changing_a_persons_role_moves_them_between_groups_and_is_audited(fresh):
    name = fresh.add("sam", "agent")
    assert team.add_person(fresh.admin_url, name, "supervisor", None) == "changed"
    assert team.add_person(fresh.admin_url, name, "supervisor", None) == "unchanged"
    admin = fresh.admin()
    assert groups_of(admin, name) == {"agent_assist_supervisor"}
    assert admin.execute("SELECT role FROM profiles WHERE name = %s", [name]).fetchone()[0] == "supervisor"
    rows = admin.execute("SELECT actor, details::jsonb ->> 'role', details::jsonb ->> 'role_before' FROM audit "
                         "WHERE action = 'profile.saved' AND details::jsonb ->> 'profile' = %s ORDER BY id",
                         [name]).fetchall()
    assert rows == [("postgres", "agent", None), ("postgres", "supervisor", "agent")]
    with psycopg.connect(fresh.url_for(name)) as conn:  # the old password still works
        assert conn.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.parametrize("name, reason", [
    ("", "needs a name"),
    ("   ", "needs a name"),
    ("two words", "without spaces"),
    ("tab\there", "without spaces"),
    ("x" * 64, "too long"),
    ("pg_monitor", "reserved"),
    ("agent_assist_owner", "reserved"),
])
def test_names_that_cannot_be_logins_are_refused_in_words(name, reason):
    with pytest.raises(InvalidTransitionError, match=reason):  # before any connection is tried
        team.add_person(UNREACHABLE, name, "agent", PASSWORD)


def test_odd_but_valid_names_are_quoted_safely(fresh):
    name = fresh.login('Åsa-"Robert\');DROP_TABLE')
    assert team.add_person(fresh.admin_url, name, "agent", PASSWORD) == "added"
    with psycopg.connect(fresh.url_for(name)) as conn:
        assert conn.execute("SELECT session_user").fetchone()[0] == name
        assert conn.execute("SELECT count(*) FROM drafts").fetchone()[0] == 0


def test_bad_roles_and_passwords_are_refused(fresh):
    with pytest.raises(InvalidTransitionError, match="A role is one of agent, supervisor"):
        team.add_person(UNREACHABLE, fresh.login("x"), "admin", PASSWORD)
    with pytest.raises(InvalidTransitionError, match="at least 8 characters"):
        team.add_person(fresh.admin_url, fresh.login("x"), "agent", "short")
    with pytest.raises(InvalidTransitionError, match="at least 8 characters"):
        team.add_person(fresh.admin_url, fresh.login("x"), "agent", None)  # a new person needs one


def test_a_superuser_cannot_join_the_team_as_a_person(fresh):
    with pytest.raises(TeamDatabaseError, match="superuser"):
        team.add_person(fresh.admin_url, "postgres", "agent", PASSWORD)


def test_a_person_cannot_run_the_administrators_commands(fresh):
    name = fresh.add("alex", "agent")
    with pytest.raises(TeamDatabaseError, match="may not create roles"):
        team.add_person(fresh.url_for(name), fresh.login("eve"), "supervisor", PASSWORD)
    with pytest.raises(TeamDatabaseError, match="may not create roles"):
        team.init(fresh.url_for(name), fresh.login("eve"), PASSWORD)


def test_init_creates_the_database_when_it_is_missing(postgres_server):
    dbname = "team_created_by_init"
    try:
        report = team.init(postgres_server.url(dbname), "sue_created", PASSWORD)
        assert report.database == dbname and report.supervisor == "sue_created"
        with psycopg.connect(postgres_server.url(dbname, user="sue_created", password=PASSWORD)) as conn:
            assert conn.execute("SELECT role FROM profiles").fetchall() == [("supervisor",)]
    finally:
        postgres_server.drop_database(dbname)
        with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
            conn.execute("DROP ROLE IF EXISTS sue_created")


def test_a_person_of_one_team_cannot_connect_to_another_teams_database(postgres_server, fresh):
    other = make_team(postgres_server)
    try:
        outsider = other.add("olga", "supervisor")  # the same group roles: they are cluster-wide
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(fresh.url_for(outsider))
    finally:
        other.drop()


def test_a_database_owner_with_createrole_sets_up_a_team_without_being_superuser(postgres_server):
    admin_name, dbname = "hosted_admin", "team_hosted"
    with psycopg.connect(postgres_server.url(), autocommit=True) as root:
        root.execute(f"CREATE ROLE {admin_name} LOGIN CREATEROLE CREATEDB PASSWORD '{PASSWORD}'")
    url = postgres_server.url(dbname, user=admin_name, password=PASSWORD)
    try:
        report = team.init(url, "sue_hosted", PASSWORD)  # creates the database, so owns it
        assert report.schema_version >= 2
        assert team.add_person(url, "alex_hosted", "agent", PASSWORD) == "added"
        with psycopg.connect(postgres_server.url(dbname, user="alex_hosted", password=PASSWORD)) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("UPDATE drafts SET state = 'approved'")
    finally:
        postgres_server.drop_database(dbname)
        with psycopg.connect(postgres_server.url(), autocommit=True) as root:
            for role in ("alex_hosted", "sue_hosted"):
                root.execute(f"DROP ROLE IF EXISTS {role}")
            root.execute(f"DROP OWNED BY {admin_name}")
            root.execute(f"DROP ROLE {admin_name}")
