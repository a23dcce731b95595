"""The mailbox is the queue: real Dovecot in, real SMTP out, driven through the window."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from agent_assist.settings import Settings
from agent_assist.store import Store
from agent_assist.store.tickets import get_ticket
from tests.channels.email.conftest import SMTP_PASSWORD, dovecot, full_mailbox, mailbox, smtp_sink  # noqa: F401
from tests.channels.email.mails import plain
from tests.ui.conftest import wait_loaded


@pytest.fixture
def mail_window(store: Store, full_mailbox, dovecot, tmp_path: Path, qtbot, monkeypatch):  # noqa: F811
    from agent_assist.ui.main_window import MainWindow

    monkeypatch.setenv("AGENT_ASSIST_IMAP_PASSWORD", dovecot.password)
    monkeypatch.setenv("AGENT_ASSIST_SMTP_PASSWORD", SMTP_PASSWORD)
    app_settings = Settings(tmp_path / "settings.json")
    app_settings.set("send.undo_seconds", 0)  # sent when approved (undo send: tests/ui/test_undo_send.py)
    app_settings.set("email.enabled", True)
    app_settings.set("email.mailbox", full_mailbox.with_(poll_interval_s=1).to_dict())
    w = MainWindow(store, user="alex", settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
                   app_settings=app_settings)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


def test_new_mail_appears_live_and_the_reply_is_received_exactly_once(mail_window, dovecot, smtp_sink, store,
                                                                       qtbot):  # noqa: F811
    w = mail_window
    qtbot.waitUntil(lambda: w.mail.last_status[0] in ("idle", "polling"), timeout=15_000)
    dovecot.append(plain(subject="Where is my refund?", body="Hi, I returned the shoes two weeks ago and "
                                                           "the refund has not arrived. Tom"))
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=10_000)
    ticket_id = w.model.ticket_id(0)
    assert w.model.row_data(0).subject == "Where is my refund?"
    w.queue.select_row(0)
    wait_loaded(qtbot, w, ticket_id)
    assert get_ticket(store.db, ticket_id).channel == "email"
    w.draft.editor.setPlainText("Hi Tom,\n\nThe refund is on its way.\n\nAlex")
    with qtbot.waitSignal(w.replySent, timeout=5000):
        qtbot.keyClick(w.draft.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(smtp_sink.received) == 1, timeout=15_000)
    received = smtp_sink.received[0]
    assert b"The refund is on its way." in received.data and b"In-Reply-To:" in received.data
    qtbot.wait(1500)  # another sync and delivery pass: still exactly one
    w.mail.deliver()
    assert len(smtp_sink.received) == 1


def test_attachments_are_listed_saved_on_request_and_delivery_shows(mail_window, dovecot, smtp_sink, store, qtbot,
                                                                    tmp_path):  # noqa: F811
    from tests.channels.email.mails import html_with_attachments

    w = mail_window
    qtbot.waitUntil(lambda: w.mail.last_status[0] in ("idle", "polling"), timeout=15_000)
    dovecot.append(html_with_attachments())
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=10_000)
    ticket_id = w.model.ticket_id(0)
    w.queue.select_row(0)
    wait_loaded(qtbot, w, ticket_id)
    html = w.conversation.browser.toHtml()
    assert "📎" in w.conversation.text() and "save:" in html
    attachment_id = next(a for a in w.workspace.extras[w.workspace.ticket.messages[0].id].attachments).id
    saved = w.save_attachment(attachment_id, str(tmp_path))
    assert saved is not None and saved.exists() and saved.parent == tmp_path
    w.draft.editor.setPlainText("Thanks, we have the receipt.")
    with qtbot.waitSignal(w.replySent, timeout=5000):
        qtbot.keyClick(w.draft.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(smtp_sink.received) == 1, timeout=15_000)
    qtbot.waitUntil(lambda: "E-mail: sent" in w.conversation.text(), timeout=5000)


def test_first_sync_shows_progress_and_resumes_after_a_pause(store, full_mailbox, dovecot, tmp_path, qtbot,
                                                              monkeypatch):  # noqa: F811
    from agent_assist.store.tickets import QueueFilter, queue_count
    from agent_assist.ui.main_window import MainWindow
    from tests.channels.email.mails import batch

    dovecot.write_maildir(batch(450, prefix="backlog"))
    monkeypatch.setenv("AGENT_ASSIST_IMAP_PASSWORD", dovecot.password)
    app_settings = Settings(tmp_path / "settings.json")
    app_settings.set("send.undo_seconds", 0)  # sent when approved (undo send: tests/ui/test_undo_send.py)
    app_settings.set("email.enabled", True)
    app_settings.set("email.mailbox", full_mailbox.with_(poll_interval_s=1).to_dict())
    w = MainWindow(store, user="alex", settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
                   app_settings=app_settings)
    qtbot.addWidget(w)
    w.show()
    try:
        with qtbot.waitSignal(w.mail.progress, timeout=15_000, check_params_cb=lambda done, total: done > 0):
            pass
        w.toggle_mail()  # pause mid-way (after the current batch)
        assert "paused" in w.status_mail.text()
        assert w.act_mail_pause.text() == "&Resume mailbox"
        w.toggle_mail()  # resume: continues from the last UID it committed
        qtbot.waitUntil(lambda: store.db.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 450,
                        timeout=30_000)
        qtbot.wait(500)
        assert store.db.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 450
        assert queue_count(store.db, QueueFilter(statuses=())) >= 1
    finally:
        w.close()
