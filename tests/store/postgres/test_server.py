"""The test session's PostgreSQL: real, private, loopback only, with password logins."""

from __future__ import annotations

import psycopg
import pytest


def test_server_answers_over_tcp_with_a_password(postgres_server):
    with psycopg.connect(postgres_server.url()) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()[0]
        listen = conn.execute("SHOW listen_addresses").fetchone()[0]
    assert int(version) >= 140000
    assert listen == "127.0.0.1"


def test_a_wrong_password_is_refused(postgres_server):
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(postgres_server.url(user=postgres_server.superuser, password="wrong"))


def test_databases_are_created_and_dropped(postgres_server):
    name = postgres_server.create_database("smoke")
    with psycopg.connect(postgres_server.url(name)) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == name
    postgres_server.drop_database(name)
    with pytest.raises(psycopg.OperationalError, match="does not exist"):
        psycopg.connect(postgres_server.url(name))
