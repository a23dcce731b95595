"""Preferences → Mailbox → Test connection, against a real Dovecot (IMAP) and a real SMTP server."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from agent_assist.settings import Settings
from agent_assist.store import Store
from agent_assist.ui.settings_dialog import SettingsDialog
from agent_assist.ui.tasks import TaskManager
from tests.channels.email.conftest import SMTP_PASSWORD, SMTP_USER, dovecot, smtp_sink  # noqa: F401
from tests.channels.email.servers import Dovecot, SmtpSink


@pytest.fixture
def dialog(tmp_path: Path, qtbot, small_store: Store):
    tasks = TaskManager()
    d = SettingsDialog(Settings(tmp_path / "settings.json"), tasks, store=small_store, user="priya")
    qtbot.addWidget(d)
    d.tabs.setCurrentIndex([d.tabs.tabText(i) for i in range(d.tabs.count())].index("Mailbox"))
    d.show()
    qtbot.waitExposed(d)
    yield d
    tasks.shutdown()


def fill(d: SettingsDialog, server: Dovecot, *, password: str, smtp: SmtpSink | None = None,
         smtp_password: str = "") -> None:
    values = {"imap_host": server.host, "imap_port": str(server.port), "imap_user": server.user,
              "folder": "INBOX", "smtp_host": "127.0.0.1" if smtp else "", "smtp_port": str(smtp.port if smtp else 587),
              "smtp_user": SMTP_USER if smtp else ""}
    for key, text in values.items():
        d.mail_fields[key].setText(text)
    for key in ("imap_tls", "smtp_tls"):
        d.mail_tls[key].setCurrentIndex(d.mail_tls[key].findData("none"))
    d.imap_password.setText(password)
    d.smtp_password.setText(smtp_password)


def run_test(qtbot, d: SettingsDialog) -> tuple[bool, str]:
    with qtbot.waitSignal(d.mailboxTested, timeout=20000) as blocker:
        qtbot.mouseClick(d.mail_test_button, Qt.MouseButton.LeftButton)
        assert d.mail_test_result.text() == "Testing…", d.mail_test_result.text()  # off the UI thread
        assert not d.mail_test_button.isEnabled()
    assert d.mail_test_button.isEnabled()
    assert d.mail_test_result.text() == blocker.args[1]
    return blocker.args[0], blocker.args[1]


def test_imap_and_smtp_both_work(qtbot, dialog, dovecot: Dovecot, smtp_sink: SmtpSink):  # noqa: F811
    fill(dialog, dovecot, password=dovecot.password, smtp=smtp_sink, smtp_password=SMTP_PASSWORD)
    ok, text = run_test(qtbot, dialog)
    imap_line, smtp_line = text.splitlines()
    assert ok
    assert imap_line.startswith("✔ IMAP: signed in to") and f"as {dovecot.user}" in imap_line and "INBOX" in imap_line
    assert smtp_line == f"✔ SMTP: signed in to 127.0.0.1:{smtp_sink.port} as {SMTP_USER}."


def test_wrong_passwords_are_said_in_words(qtbot, dialog, dovecot: Dovecot, smtp_sink: SmtpSink):  # noqa: F811
    fill(dialog, dovecot, password="not-the-password", smtp=smtp_sink, smtp_password="wrong-too")
    ok, text = run_test(qtbot, dialog)
    imap_line, smtp_line = text.splitlines()
    assert not ok
    assert imap_line.startswith("✘ IMAP:") and f"refused the login for {dovecot.user}" in imap_line
    assert smtp_line.startswith("✘ SMTP:") and f"refused the login for {SMTP_USER}" in smtp_line


def test_imap_only_when_no_smtp_server_is_set(qtbot, dialog, dovecot: Dovecot):  # noqa: F811
    fill(dialog, dovecot, password=dovecot.password)
    ok, text = run_test(qtbot, dialog)
    assert ok and len(text.splitlines()) == 1 and text.startswith("✔ IMAP: signed in")
    dialog.mail_fields["folder"].setText("No such folder")
    ok, text = run_test(qtbot, dialog)
    assert not ok and "does not exist" in text and f"signed in as {dovecot.user}" in text


def test_nothing_listening(qtbot, dialog, dovecot: Dovecot):  # noqa: F811
    fill(dialog, dovecot, password=dovecot.password)
    dovecot.stop()
    ok, text = run_test(qtbot, dialog)
    assert not ok and text.startswith("✘ IMAP: nothing answers at") and "connection refused" in text
