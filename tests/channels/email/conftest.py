"""Fixtures with real servers: Dovecot (IMAP) on 127.0.0.1 and aiosmtpd (SMTP) in-process.

Tests marked ``both_backends`` take the ``store`` fixture (tests/conftest.py): a SQLite file, or a fresh
team database on a real PostgreSQL signed in as the agent ``alex``. ``estore`` is always a SQLite file,
for the few checks that only make sense on one (paths, symlinks, ``PRAGMA synchronous``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_assist.channels.email import schema as email_schema
from agent_assist.channels.email.config import MailboxConfig
from agent_assist.store import Store
from agent_assist.store.backend import is_postgres
from agent_assist.store.migrations import MIGRATIONS
from agent_assist.store.postgres.store import PostgresStore
from tests.channels.email.servers import Dovecot, SmtpSink, dovecot_binary

SMTP_USER, SMTP_PASSWORD = "agent-smtp", "smtp-secret"


def email_store(path: Path) -> Store:
    """A store with the e-mail tables (until schema.migrate is in MIGRATIONS this adds it)."""
    migrations = list(MIGRATIONS)
    if email_schema.migrate not in migrations:
        migrations.append(email_schema.migrate)
    return Store(path, migrations=migrations)


@pytest.fixture
def estore(tmp_path: Path):
    s = email_store(tmp_path / "assist.db")
    yield s
    s.close()


def target_of(store) -> str:
    """What another process opens to reach the same database as the same person."""
    return store.url if is_postgres(store) else str(store.path)


def open_target(target: str):
    """The store behind :func:`target_of` (in this process or another one)."""
    return PostgresStore(target) if target.startswith("postgresql://") else email_store(Path(target))


@pytest.fixture
def reopen(store):
    """``reopen()``: the same database opened again, as after a restart (closed at the end)."""
    opened = []

    def again():
        s = open_target(target_of(store))
        opened.append(s)
        return s

    yield again
    for s in opened:
        s.close()


@pytest.fixture
def dovecot(tmp_path: Path):
    if dovecot_binary() is None:
        pytest.skip("Dovecot is not installed: run packaging/mail-test-servers.sh (apt-get install dovecot-imapd)")
    server = Dovecot(tmp_path)
    server.start()
    server.create_folder("Sent")
    yield server
    server.cleanup()


@pytest.fixture
def smtp_sink():
    pytest.importorskip("aiosmtpd", reason="aiosmtpd is not installed (pip install aiosmtpd)")
    sink = SmtpSink(user=SMTP_USER, password=SMTP_PASSWORD).start()
    yield sink
    sink.stop()


@pytest.fixture
def mailbox(dovecot: Dovecot) -> MailboxConfig:
    return MailboxConfig(imap_host=dovecot.host, imap_port=dovecot.port, imap_tls="none", imap_user=dovecot.user,
                         smtp_host="127.0.0.1", smtp_port=1, smtp_tls="none",
                         from_address="Lumo Pay Support <support@desk.example>", sent_folder="Sent")


@pytest.fixture
def full_mailbox(mailbox: MailboxConfig, smtp_sink: SmtpSink) -> MailboxConfig:
    return mailbox.with_(smtp_port=smtp_sink.port, smtp_user=SMTP_USER)
