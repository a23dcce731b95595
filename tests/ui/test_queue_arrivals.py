"""Live changes in the queue: a row that arrives or changes is tinted for a few seconds, and the count of
tickets new in the queue since the person last looked shows on the tray or in the window title."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from agent_assist.store import Store, tickets
from agent_assist.ui.queue_model import QueueModel

BACKGROUND = Qt.ItemDataRole.BackgroundRole


def tint(model: QueueModel, ticket_id: int):
    row = model.row_of(ticket_id)
    assert row >= 0, f"#{ticket_id} is not in the queue"
    return [model.data(model.index(row, c), BACKGROUND) for c in range(model.columnCount())]


def lit_rows(model: QueueModel) -> list[int]:
    return [model.ticket_id(r) for r in range(model.rowCount()) if model.data(model.index(r, 0), BACKGROUND) is not None]


def new_ticket(store: Store, subject: str = "My card was declined twice") -> int:
    return tickets.create_ticket(store, actor="mail", customer_name="Nora Newcomer", customer_email="nora@example.com",
                                 subject=subject, body_text="Declined at checkout.", language="en", priority="high")


@pytest.mark.both_backends
def test_a_ticket_the_store_creates_arrives_highlighted_and_the_highlight_fades_out(small_store: Store, qtbot):
    model = QueueModel(small_store, user="alex")
    model.HIGHLIGHT_MS = 600
    model.start()
    assert model.rowCount() > 0 and lit_rows(model) == []  # the first load is not news
    arrivals = []
    model.arrived.connect(arrivals.append)

    tid = new_ticket(small_store)
    model.refresh()

    assert arrivals == [[tid]]
    colours = tint(model, tid)
    assert all(isinstance(c, QColor) and c.alpha() > 0 for c in colours)
    assert lit_rows(model) == [tid]  # only the newcomer
    first_alpha = colours[0].alpha()
    qtbot.waitUntil(lambda: (tint(model, tid)[0] or QColor(0, 0, 0, 0)).alpha() < first_alpha, timeout=2000)  # fading
    qtbot.waitUntil(lambda: tint(model, tid) == [None] * model.columnCount(), timeout=3000)
    qtbot.waitUntil(lambda: not model._fade.isActive(), timeout=1000)  # nothing left to fade: the timer rests


@pytest.mark.both_backends
def test_a_changed_row_is_highlighted_but_is_no_arrival_and_a_sort_or_filter_highlights_nothing(small_store: Store,
                                                                                               qtbot):
    model = QueueModel(small_store, user="alex")
    model.start()
    arrivals = []
    model.arrived.connect(arrivals.append)
    tid = model.ticket_id(0)
    before = model.row_data(0).assignee
    tickets.assign(small_store, tid, "sam" if before != "sam" else "alex", actor="test")

    model.refresh()

    assert arrivals == []
    assert lit_rows(model) == [tid]
    with qtbot.waitSignal(model.modelReset):
        model.sort(2, Qt.SortOrder.DescendingOrder)  # another order: what shows is not news
    assert lit_rows(model) == []
    model.refresh()  # nothing changed since
    assert lit_rows(model) == [] and arrivals == []


def test_the_new_count_goes_up_in_the_title_and_resets_when_the_person_looks(small_store: Store, make_window, qtbot):
    w = make_window(small_store)
    w.model.HIGHLIGHT_MS = 700
    w.notifier.tray = None  # the offscreen platform has no tray: the title carries the count
    w.draft.editor.setFocus()  # the person is writing a reply, not looking at the queue
    title = w.windowTitle()
    assert w.notifier.new_count == 0 and not title.startswith("(")

    first = new_ticket(small_store, "Refund for a double charge")
    qtbot.waitUntil(lambda: w.model.row_of(first) >= 0, timeout=3000)  # the window's live timer
    assert w.model.highlighted(first) is not None
    assert w.notifier.new_count == 1 and w.windowTitle() == f"(1 new) {title}"
    # the view paints the tint, and the row looks as the others once it has faded
    view = w.queue.view
    rect = view.visualRect(w.model.index(w.model.row_of(first), 2))
    spot = QPoint(rect.right() - 4, rect.center().y())  # the end of the subject cell: no text there
    assert view.viewport().rect().contains(spot)
    qtbot.wait(50)
    lit = view.viewport().grab().toImage().pixelColor(spot)
    qtbot.waitUntil(lambda: not w.model._fade.isActive(), timeout=3000)
    qtbot.wait(50)
    plain = view.viewport().grab().toImage().pixelColor(spot)
    assert lit != plain

    second = new_ticket(small_store, "Parcel never arrived")
    qtbot.waitUntil(lambda: w.notifier.new_count == 2, timeout=3000)
    assert w.windowTitle() == f"(2 new) {title}"
    assert w.model.highlighted(second) is not None

    QApplication.sendEvent(w, QEvent(QEvent.Type.WindowActivate))  # the person comes back to the window
    assert w.notifier.new_count == 0 and w.windowTitle() == title

    third = new_ticket(small_store, "Card blocked abroad")
    qtbot.waitUntil(lambda: w.notifier.new_count == 1, timeout=3000)
    assert w.windowTitle() == f"(1 new) {title}" and w.model.row_of(third) >= 0
    QApplication.sendEvent(w.queue.view, QEvent(QEvent.Type.FocusIn))  # ... or looks at the queue
    assert w.notifier.new_count == 0 and w.windowTitle() == title


@pytest.mark.qt_log_ignore("systemTrayWindowChanged")
def test_with_a_tray_the_count_is_on_its_tooltip(qtbot):
    from PySide6.QtGui import QIcon, QPixmap
    from PySide6.QtWidgets import QListView, QMainWindow

    from agent_assist.ui.notifications import Notifier

    window, view = QMainWindow(), QListView()
    qtbot.addWidget(window)
    window.setWindowTitle("alex (agent) — Agent Assist")
    pixmap = QPixmap(16, 16)
    pixmap.fill(QColor("#1565c0"))
    notifier = Notifier(use_tray=True, icon=QIcon(pixmap), parent=window)
    notifier.watch(window, view)
    counts = []
    notifier.newCountChanged.connect(counts.append)

    assert notifier.count_arrivals([7, 8]) == 2
    assert notifier.count_arrivals([8, 9]) == 3  # a ticket counts once
    assert notifier.tray.toolTip() == "Agent Assist — 3 new tickets in your queue"
    notifier.count_arrivals([])
    notifier.reset_new()
    assert notifier.tray.toolTip() == "Agent Assist" and counts == [2, 3, 0]
    assert window.windowTitle() == "alex (agent) — Agent Assist"  # with a tray shown, the title stays as it is
    assert notifier.count_arrivals([5]) == 1 and notifier.tray.toolTip() == "Agent Assist — 1 new ticket in your queue"


def _luminance(c: QColor) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())


def _over(tint: QColor, base: QColor) -> QColor:
    a = tint.alphaF()
    return QColor.fromRgbF(*(t * a + b * (1 - a) for t, b in ((tint.redF(), base.redF()), (tint.greenF(), base.greenF()),
                                                            (tint.blueF(), base.blueF()))))


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_highlight_keeps_the_text_readable_in_light_and_dark_themes(qtbot, theme):
    from PySide6.QtGui import QPalette

    from agent_assist.ui.queue_model import highlight_color

    app = QApplication.instance()
    before = app.palette()
    palette = QPalette(before)
    if theme == "dark":  # a dark desktop's colours (as Fusion's dark palettes have them)
        for role, colour in ((QPalette.ColorRole.Base, "#232323"), (QPalette.ColorRole.AlternateBase, "#2e2e2e"),
                             (QPalette.ColorRole.Text, "#f0f0f0"), (QPalette.ColorRole.Highlight, "#2a82da")):
            palette.setColor(role, QColor(colour))
    else:
        for role, colour in ((QPalette.ColorRole.Base, "#ffffff"), (QPalette.ColorRole.AlternateBase, "#f5f5f5"),
                             (QPalette.ColorRole.Text, "#000000"), (QPalette.ColorRole.Highlight, "#308cc6")):
            palette.setColor(role, QColor(colour))
    app.setPalette(palette)
    try:
        tint = highlight_color(0.0)
        assert tint.alpha() > 0 and highlight_color(1.0).alpha() == 0
        text = _luminance(palette.color(QPalette.ColorRole.Text))
        for base_role in (QPalette.ColorRole.Base, QPalette.ColorRole.AlternateBase):
            base = palette.color(base_role)
            lit = _luminance(_over(tint, base))
            contrast = (max(lit, text) + 0.05) / (min(lit, text) + 0.05)
            assert contrast >= 4.5, (theme, base_role, contrast)  # WCAG AA for body text
            assert abs(lit - _luminance(base)) > 0.01  # and the tint shows
    finally:
        app.setPalette(before)
