"""Undo send in the window's controller: the reply waits its seconds with Undo, then goes out once.

Real stores on both backends; the e-mail case runs through the real outbox, SMTP sink and Dovecot.
"""

from __future__ import annotations

import time

import pytest
from PySide6.QtWidgets import QMainWindow

from agent_assist.channels import replies
from agent_assist.channels.email import deliver_pending
from agent_assist.store import drafts, mail
from agent_assist.store.held import HeldReplies
from agent_assist.store.tickets import create_ticket, get_ticket
from agent_assist.ui.undo_send import UndoSend
from tests.channels.email.conftest import SMTP_PASSWORD, dovecot, full_mailbox, mailbox, smtp_sink  # noqa: F401
from tests.channels.email.servers import IMAP_PASSWORD
from tests.channels.email.test_outbox import _ticket_from_mail

pytestmark = pytest.mark.both_backends
TEXT = "Hi Tom, we refunded the second charge."


@pytest.fixture
def controller(store, tasks, qtbot):
    window = QMainWindow()
    window.statusBar()  # made before the window shows, as the main window's is
    qtbot.addWidget(window)
    made = []

    def make(mailbox_config=None) -> UndoSend:
        undo = UndoSend(store, tasks, window.statusBar(), user="alex", mailbox=mailbox_config, parent=window)
        made.append(undo)
        return undo

    window.show()
    return make


def _approved(store, ticket_id: int | None = None) -> tuple[int, int]:
    if ticket_id is None:
        ticket_id = create_ticket(store, actor="email", customer_name="Tom Baker", customer_email="tom@example.com",
                                  subject="Double charge", body_text="My card was charged twice.")
    draft_id = drafts.suggest(store, ticket_id, "Hi Tom,", actor="alex", source="offline")
    assert replies.approve_and_hold(store, draft_id, TEXT, actor="alex") == "approved"
    return ticket_id, draft_id


def _outbound(store, ticket_id: int) -> int:
    return sum(m.direction == "outbound" for m in get_ticket(store.db, ticket_id).messages)


def test_undo_within_the_time_puts_the_reply_back_and_nothing_goes(store, controller, qtbot):
    undo = controller()
    ticket_id, draft_id = _approved(store)
    undo.hold(draft_id, ticket_id, delay_s=3, status_after="pending", confirmed_pan=False, to="Tom Baker")
    assert undo.label.isVisible() and "Sending to Tom Baker in" in undo.label.text()
    assert undo.button.isVisible()
    with qtbot.waitSignal(undo.undone, timeout=2000) as got:
        undo.button.click()
    assert got.args[0] == ticket_id and got.args[1].state == "edited" and got.args[1].body == TEXT
    assert not undo.label.isVisible()
    qtbot.wait(3500)  # past the time it would have gone
    assert _outbound(store, ticket_id) == 0


def test_the_reply_goes_when_its_time_is_up_and_not_before(store, controller, qtbot):
    undo = controller()
    ticket_id, draft_id = _approved(store)
    started = time.monotonic()
    undo.hold(draft_id, ticket_id, delay_s=1.5, status_after="solved", confirmed_pan=False, to="Tom")
    qtbot.wait(700)
    assert _outbound(store, ticket_id) == 0
    with qtbot.waitSignal(undo.sent, timeout=5000) as got:
        pass
    assert time.monotonic() - started >= 1.5
    assert got.args[0] == ticket_id and _outbound(store, ticket_id) == 1
    assert get_ticket(store.db, ticket_id).status == "solved"
    assert not undo.undo(draft_id)  # too late: said in words
    assert HeldReplies().for_database(store.path) == []


def test_a_reply_due_while_the_app_was_closed_is_sent_at_start(store, controller, qtbot):
    ticket_id, draft_id = _approved(store)
    HeldReplies().hold(store.path, draft_id, ticket_id, person="alex", delay_s=0, status_after="pending")
    undo = controller()  # the app starts again
    with qtbot.waitSignal(undo.sent, timeout=5000):
        undo.send_due()
    assert _outbound(store, ticket_id) == 1


def test_closing_the_window_sends_what_is_still_held(store, controller):
    undo = controller()
    ticket_id, draft_id = _approved(store)
    undo.hold(draft_id, ticket_id, delay_s=30, status_after="pending", confirmed_pan=False, to="Tom")
    undo.flush()
    assert _outbound(store, ticket_id) == 1
    assert HeldReplies().for_database(store.path) == []


def test_an_email_reply_reaches_the_outbox_only_after_its_undo_time(store, controller, qtbot, dovecot,  # noqa: F811
                                                                   full_mailbox, smtp_sink):  # noqa: F811
    undo = controller(full_mailbox)
    ticket_id, draft_id = _approved(store, _ticket_from_mail(store, dovecot, full_mailbox))
    undo.hold(draft_id, ticket_id, delay_s=1.5, status_after="pending", confirmed_pan=False, to="Tom")
    qtbot.wait(500)
    assert mail.outbox_for_ticket(store.db, ticket_id) == []  # nothing queued while Undo is possible
    with qtbot.waitSignal(undo.sent, timeout=6000) as got:
        pass
    outbox_id = got.args[2]
    assert outbox_id is not None
    report = deliver_pending(store, full_mailbox, IMAP_PASSWORD, smtp_password=SMTP_PASSWORD)
    assert report.sent == [outbox_id]
    assert len(smtp_sink.received) == 1 and TEXT.encode() in smtp_sink.received[0].data


# -- in the window ------------------------------------------------------------------------------------------
@pytest.mark.undo_send
def test_in_the_window_send_waits_with_undo_and_undo_puts_it_back(store, make_window, qtbot):
    from agent_assist.settings import Settings
    from tests.backends import seed
    from tests.conftest import small_dataset
    from tests.ui.conftest import wait_loaded

    assert Settings().get("send.undo_seconds") == 10  # the app's default
    seed(store, small_dataset())
    window = make_window(store, "alex")
    window.queue.select_row(window.model.row_of(1))
    wait_loaded(qtbot, window, 1)
    window.draft.editor.setPlainText("Hi Tom, I removed the late fee.")
    window.approve_and_send()
    assert "Sending to Tom Baker in 10 s" in window.draft.banner.text()
    assert window.undo.label.isVisible() and window.undo.button.isVisible()
    assert window.draft.editor.isReadOnly()
    assert _outbound(store, 1) == 0
    assert drafts.get(store.db, window.workspace.draft.id).state == "approved"
    window.act_undo_send.trigger()  # Ctrl+Alt+Z
    assert window.draft.text() == "Hi Tom, I removed the late fee." and not window.draft.editor.isReadOnly()
    assert drafts.get(store.db, window.workspace.draft.id).state == "edited"
    assert "back in the editor" in window.draft.banner.text()
    assert not window.undo.label.isVisible()
    assert _outbound(store, 1) == 0


@pytest.mark.undo_send
def test_in_the_window_the_held_reply_goes_after_its_seconds_and_at_close(store, make_window, qtbot):
    from agent_assist.settings import Settings
    from tests.backends import seed
    from tests.conftest import small_dataset
    from tests.ui.conftest import wait_loaded

    settings = Settings()
    settings.set("send.undo_seconds", 5)
    settings.save()
    seed(store, small_dataset())
    window = make_window(store, "alex")
    window.queue.select_row(window.model.row_of(1))
    wait_loaded(qtbot, window, 1)
    window.draft.editor.setPlainText("Hi Tom, I removed the late fee.")
    started = time.monotonic()
    with qtbot.waitSignal(window.replySent, timeout=12000):
        window.approve_and_send()
    assert time.monotonic() - started >= 4.5
    assert _outbound(store, 1) == 1
    assert not window.undo.label.isVisible()

    window.queue.select_row(window.model.row_of(2))  # a second one, then the window closes at once
    wait_loaded(qtbot, window, 2)
    window.draft.editor.setPlainText("Hej Anna, återbetalningen är på väg.")
    window.approve_and_send()
    assert _outbound(store, 2) == 1  # the one sam sent earlier in the small data set
    window.close()
    assert _outbound(store, 2) == 2  # closing ended the undo time: it went out
    assert HeldReplies().for_database(store.path) == []
