"""The encrypted paths: IMAP over TLS and STARTTLS (IDLE included), SMTP over TLS and STARTTLS,
and a certificate we do not trust is refused."""

from __future__ import annotations

import ssl
import threading

import pytest

from agent_assist.channels.email import MailboxConfig, deliver_pending, enqueue_reply, sync
from agent_assist.channels.email.imap_client import ImapConnection
from agent_assist.store import drafts
from tests.channels.email import mails
from tests.channels.email.conftest import SMTP_PASSWORD, SMTP_USER
from tests.channels.email.servers import Dovecot, SmtpSink, dovecot_binary, make_certificate


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    made = make_certificate(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("openssl is not installed: no test certificate")
    return made


@pytest.fixture
def tls_dovecot(tmp_path, certificate):
    if dovecot_binary() is None:
        pytest.skip("Dovecot is not installed: run packaging/mail-test-servers.sh")
    server = Dovecot(tmp_path, certificate=certificate)
    server.start()
    yield server
    server.cleanup()


def _box(server: Dovecot, certificate, mode: str, **kw) -> MailboxConfig:
    port = server.imaps_port if mode == "tls" else server.port
    return MailboxConfig(imap_host="127.0.0.1", imap_port=port, imap_tls=mode, imap_user=server.user,
                         ca_file=str(certificate[0]), from_address="support@desk.example", sent_folder="", **kw)


@pytest.mark.parametrize("mode", ["tls", "starttls"])
def test_imap_sync_and_idle_over_tls(estore, tls_dovecot, certificate, mode):
    box = _box(tls_dovecot, certificate, mode)
    tls_dovecot.append(mails.plain(message_id="<tls-1@mail.example>"))
    assert sync(estore, box, tls_dovecot.password).imported == 1
    with ImapConnection.open(box, tls_dovecot.password) as conn:
        assert isinstance(conn.imap.sock, ssl.SSLSocket)
        conn.examine("INBOX")
        stop = threading.Event()
        timer = threading.Timer(0.3, tls_dovecot.append, args=(mails.plain(message_id="<tls-2@mail.example>"),))
        timer.start()
        assert conn.idle(stop, max_s=20) == "changed"  # the server's push, read through TLS
        timer.join()
        conn.noop()  # the session is still in step after IDLE
    assert sync(estore, box, tls_dovecot.password).threaded == 1  # same customer, same subject


def test_an_untrusted_certificate_is_refused(estore, tls_dovecot, certificate):
    box = _box(tls_dovecot, certificate, "tls").with_(ca_file="")
    with pytest.raises(ssl.SSLCertVerificationError):
        sync(estore, box, tls_dovecot.password)


@pytest.mark.parametrize("mode", ["tls", "starttls"])
def test_smtp_over_tls(estore, tls_dovecot, certificate, mode):
    pytest.importorskip("aiosmtpd")
    sink = SmtpSink(user=SMTP_USER, password=SMTP_PASSWORD, tls=mode, certificate=certificate).start()
    try:
        box = _box(tls_dovecot, certificate, "tls").with_(smtp_host="127.0.0.1", smtp_port=sink.port, smtp_tls=mode,
                                                          smtp_user=SMTP_USER)
        tls_dovecot.append(mails.plain(message_id="<tls-out@mail.example>"))
        ticket_id = sync(estore, box, tls_dovecot.password).new_tickets[0]
        draft_id = drafts.suggest(estore, ticket_id, "d", actor="offline", source="offline")
        with estore.transaction():
            row = drafts.approve_and_send(estore, draft_id, "Over TLS.", actor="alex")
            outbox_id = enqueue_reply(estore, row, mailbox=box, actor="alex")
        report = deliver_pending(estore, box, tls_dovecot.password, smtp_password=SMTP_PASSWORD)
        assert report.sent == [outbox_id] and len(sink.received) == 1
    finally:
        sink.stop()
