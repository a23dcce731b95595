"""Desktop notifications: new urgent/high tickets and SLAs about to run out, each told once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from agent_assist.store import Store, tickets
from agent_assist.store.tickets import QueueRow
from agent_assist.timefmt import to_iso
from agent_assist.ui.notifications import Notifier
from agent_assist.ui.queue_model import QueueModel

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def row(tid: int, *, priority: int = 0, status: str = "new", sla_in_min: float | None = 60,
        assignee: str | None = None, updated: datetime = NOW, subject: str | None = None) -> QueueRow:
    return QueueRow(id=tid, priority=priority,
                    sla_due_at=to_iso(NOW + timedelta(minutes=sla_in_min)) if sla_in_min is not None else None,
                    subject=subject or f"Subject of {tid}", customer="Someone", language="en", status=status,
                    assignee=assignee, updated_at=to_iso(updated))


@pytest.fixture
def notifier(qtbot):
    n = Notifier(since=NOW - timedelta(minutes=1), use_tray=False)
    yield n
    n.close()


def test_offscreen_has_no_tray_and_falls_back_to_the_status_bar(qtbot):
    n = Notifier()
    assert not QSystemTrayIcon.isSystemTrayAvailable()
    assert n.tray is None
    with qtbot.waitSignal(n.statusMessage) as status, qtbot.waitSignal(n.notified) as notified:
        n.notify_new_tickets([row(7, subject="Card blocked", updated=datetime.now(UTC))])
    assert notified.args == ["New urgent ticket #7", "Card blocked"]
    assert status.args == ["New urgent ticket #7 — Card blocked"]


def test_a_new_urgent_ticket_is_announced_once(qtbot, notifier):
    with qtbot.waitSignal(notifier.notified) as blocker:
        assert notifier.notify_new_tickets([row(5, priority=1)]) == [5]
    assert blocker.args == ["New high ticket #5", "Subject of 5"]
    with qtbot.assertNotEmitted(notifier.notified):
        assert notifier.notify_new_tickets([row(5, priority=1)]) == []


@pytest.mark.parametrize("kwargs", [
    {"priority": 2},  # normal
    {"priority": 3},  # low
    {"status": "open"},  # somebody already took it
    {"updated": NOW - timedelta(hours=3)},  # older than the notifier: loaded by scrolling, not arrived
])
def test_what_is_not_a_new_urgent_ticket_is_not_announced(qtbot, notifier, kwargs):
    with qtbot.assertNotEmitted(notifier.notified):
        assert notifier.notify_new_tickets([row(9, **kwargs)]) == []


def test_several_arrivals_make_one_notification(qtbot, notifier):
    rows = [row(i, priority=i % 2, subject=f"Problem {i}") for i in range(1, 6)] + [row(99, priority=2)]
    with qtbot.waitSignal(notifier.notified) as blocker:
        assert sorted(notifier.notify_new_tickets(rows)) == [1, 2, 3, 4, 5]
    title, message = blocker.args
    assert title == "5 new urgent or high-priority tickets"
    lines = message.splitlines()
    assert lines[0] == "#2 Problem 2"  # urgent first
    assert lines[-1] == "… and 2 more" and len(lines) == 4


def test_mappings_and_priority_names_work_too(qtbot, notifier):
    with qtbot.waitSignal(notifier.notified) as blocker:
        notifier.notify_new_tickets([{"id": 3, "priority": "urgent", "status": "new", "subject": "x " * 80,
                                      "updated_at": to_iso(NOW)}])
    assert blocker.args[0] == "New urgent ticket #3"
    assert len(blocker.args[1]) <= 70 and blocker.args[1].endswith("…")


def test_sla_due_soon_is_announced_once(qtbot, notifier):
    rows = [row(1, sla_in_min=10, status="open"), row(2, sla_in_min=40, status="open")]
    with qtbot.waitSignal(notifier.notified) as blocker:
        assert notifier.check_sla(rows, NOW) == [1]
    assert blocker.args == ["SLA due in 10 min: #1", "Subject of 1"]
    with qtbot.assertNotEmitted(notifier.notified):
        assert notifier.check_sla(rows, NOW + timedelta(minutes=5)) == []
    # time passes: #2 comes within the window
    with qtbot.waitSignal(notifier.notified) as blocker:
        assert notifier.check_sla(rows, NOW + timedelta(minutes=30)) == [2]
    assert blocker.args[0] == "SLA due in 10 min: #2"


@pytest.mark.parametrize("kwargs", [
    {"sla_in_min": -5},  # already breached: the queue shows it in red; no flood at start-up
    {"sla_in_min": None},
    {"sla_in_min": 5, "status": "pending"},  # waiting on the customer: the clock is stopped
    {"sla_in_min": 5, "status": "solved"},
    {"sla_in_min": 5, "assignee": "sam"},  # somebody else's ticket
])
def test_what_is_not_due_soon_is_not_announced(qtbot, kwargs):
    n = Notifier(use_tray=False, user="alex")
    with qtbot.assertNotEmitted(n.notified):
        assert n.check_sla([row(4, **kwargs)], NOW) == []


def test_sla_window_and_several_tickets(qtbot):
    n = Notifier(use_tray=False, sla_minutes=30, user="alex")
    rows = [row(1, sla_in_min=25, assignee="alex"), row(2, sla_in_min=5), row(3, sla_in_min=31)]
    with qtbot.waitSignal(n.notified) as blocker:
        assert n.check_sla(rows, NOW) == [2, 1]
    assert blocker.args == ["2 SLAs due within 30 min", "#2 Subject of 2\n#1 Subject of 1"]


def test_disabled_tells_nothing_and_does_not_replay_later(qtbot, notifier):
    notifier.set_enabled(False)
    with qtbot.assertNotEmitted(notifier.notified), qtbot.assertNotEmitted(notifier.statusMessage):
        assert notifier.notify_new_tickets([row(1)]) == [1]
        assert notifier.check_sla([row(2, sla_in_min=3)], NOW) == [2]
    notifier.set_enabled(True)
    with qtbot.assertNotEmitted(notifier.notified):
        notifier.notify_new_tickets([row(1)])
        notifier.check_sla([row(2, sla_in_min=3)], NOW)
    with qtbot.waitSignal(notifier.notified):
        notifier.notify_new_tickets([row(3)])


def test_forget_allows_a_ticket_to_be_told_again(qtbot, notifier):
    notifier.check_sla([row(1, sla_in_min=3, status="open")], NOW)
    notifier.forget(1)
    with qtbot.waitSignal(notifier.notified):
        notifier.check_sla([row(1, sla_in_min=3, status="open")], NOW)


def _icon() -> QIcon:
    pixmap = QPixmap(16, 16)
    pixmap.fill()
    return QIcon(pixmap)


# the offscreen platform has no tray window to connect to; a real desktop does
@pytest.mark.qt_log_ignore("systemTrayWindowChanged")
def test_with_a_tray_the_message_goes_there_and_a_click_opens_the_ticket(qtbot):
    n = Notifier(use_tray=True, icon=_icon(), since=NOW - timedelta(minutes=1))
    try:
        assert n.tray is not None and n.tray.isVisible()
        shown = []
        n.tray.showMessage = lambda *args: shown.append(args)  # the desktop's notification service
        with qtbot.assertNotEmitted(n.statusMessage), qtbot.waitSignal(n.notified):
            n.notify_new_tickets([row(12, subject="Locked out")])
        assert shown and shown[0][:2] == ("New urgent ticket #12", "Locked out")
        with qtbot.waitSignal(n.trayActivated), qtbot.waitSignal(n.ticketActivated) as activated:
            n.tray.messageClicked.emit()
        assert activated.args == [12]
        n.set_enabled(False)
        assert not n.tray.isVisible()
    finally:
        n.close()


@pytest.mark.qt_log_ignore("systemTrayWindowChanged")
def test_quit_from_the_tray_closes_the_window_so_it_saves_its_work(qtbot):
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    n = Notifier(use_tray=True, icon=_icon(), parent=window)
    quit_action = [a for a in n.tray.contextMenu().actions() if a.text() == "Quit"][0]
    quit_action.trigger()
    assert not window.isVisible()
    n.close()


def test_wired_to_the_live_queue_model_a_new_urgent_ticket_is_announced(qtbot, small_store: Store):
    """The wiring main_window uses: rowsInserted of the queue model -> notify_new_tickets."""
    model = QueueModel(small_store, user="alex")
    notifier = Notifier(use_tray=False)
    model.rowsInserted.connect(lambda _p, first, last: notifier.notify_new_tickets(
        [model.row_data(i) for i in range(first, last + 1)]))
    with qtbot.assertNotEmitted(notifier.notified):
        model.start()  # what is already in the queue (older than the notifier) is not news
        assert model.rowCount() >= 3
    tid = tickets.create_ticket(small_store, actor="mail", customer_name="Eva", customer_email="eva@example.se",
                                subject="Fraud on my account", body_text="Someone used my card.", language="en",
                                priority="urgent", channel="email")
    tickets.create_ticket(small_store, actor="mail", customer_name="Bo", customer_email="bo@example.se",
                          subject="A question", body_text="When is my invoice due?", language="en",
                          priority="normal", channel="email")
    with qtbot.waitSignal(notifier.notified) as blocker:
        model.refresh()
    assert blocker.args == [f"New urgent ticket #{tid}", "Fraud on my account"]


@pytest.mark.qt_log_ignore("does not support raise")  # bringing the window forward, offscreen
def test_the_main_window_announces_a_new_urgent_ticket(qtbot, small_store: Store, tmp_path):
    """The wiring in main_window (rowsInserted and the SLA tick -> the notifier, status bar fallback)."""
    from PySide6.QtCore import QSettings

    from agent_assist.ui.main_window import MainWindow

    window = MainWindow(small_store, user="alex",
                        settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    try:
        assert window.notifier.tray is None and window.notifier.enabled
        tid = tickets.create_ticket(small_store, actor="mail", customer_name="Eva", customer_email="eva@example.se",
                                    subject="Fraud on my account", body_text="Someone used my card.",
                                    language="en", priority="urgent", channel="email")
        with qtbot.waitSignal(window.notifier.statusMessage, timeout=5000) as status, \
                qtbot.waitSignal(window.notifier.notified, timeout=5000) as blocker:
            pass  # the live poll picks the ticket up within a second
        assert blocker.args == [f"New urgent ticket #{tid}", "Fraud on my account"]
        assert status.args[0].startswith(f"New urgent ticket #{tid}")
        with qtbot.waitSignal(window.ticketLoaded, timeout=5000,
                              check_params_cb=lambda loaded: loaded == tid):
            window.notifier.ticketActivated.emit(tid)  # a click on the notification opens the ticket
        window.check_sla()  # the SLA tick runs without error on the loaded rows
    finally:
        window.close()
