"""The queue: filter bar over a table view of :class:`QueueModel`."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from agent_assist.store.tickets import QUEUE_ACTIVE, QUEUE_STATUSES, QueueFilter
from agent_assist.ui.flag_chips import FlagChipDelegate
from agent_assist.ui.queue_model import COLUMNS, FLAG_LABELS, QueueModel, status_label
from agent_assist.ui.sizing import ContentColumns

STATUS_CHOICES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Active", QUEUE_ACTIVE),
    *((status_label(s), (s,)) for s in QUEUE_STATUSES),
    ("Any status", ()),
)
SCOPES = (("All", "all"), ("Mine", "mine"), ("Unassigned", "unassigned"))
QUEUE_SAMPLES: dict[str, tuple[str, ...] | int] = {  # what each column can show: its widest sets the width
    "priority": ("Urgent", "Normal"),
    "sla": ("−23h 59m", "−6d 23h"),
    "flags": tuple(label for label, _color in FLAG_LABELS.values()),
    "customer": 14,  # characters; a longer name is elided, its tooltip whole
    "language": ("EN",),
    "status": tuple(status_label(s) for s in QUEUE_STATUSES),  # "New", the only bold one, is short
    "assignee": 8,
    "updated": ("59m ago", "just now", "30 Sep"),
}
QUEUE_DROP_ORDER = ("language", "updated", "assignee", "customer")
"""The columns a narrow queue hides first (the ticket's header shows them all)."""


class QueueView(QTableView):
    openRequested = Signal(int)
    """Enter on a row: the agent wants to work on it (focus the reply)."""

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            idx = self.currentIndex()
            if idx.isValid():
                self.openRequested.emit(idx.row())
                return
        super().keyPressEvent(event)


class QueuePanel(QWidget):
    currentTicketChanged = Signal(object)  # int | None

    def __init__(self, model: QueueModel, languages: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.scope = QComboBox()
        self.scope.setAccessibleName("Queue scope")
        for label, value in SCOPES:
            self.scope.addItem(label, value)
        self.status = QComboBox()
        self.status.setAccessibleName("Status filter")
        for label, value in STATUS_CHOICES:
            self.status.addItem(label, value)
        self.language = QComboBox()
        self.language.setAccessibleName("Language filter")
        self.language.addItem("Any language", None)
        for code in languages:
            self.language.addItem(code.upper(), code)
        self.flag = QComboBox()
        self.flag.setAccessibleName("Flag filter")
        self.flag.addItem("Any flags", None)
        self.flag.addItem("Flagged", "any")
        for kind, (label, _color) in FLAG_LABELS.items():
            self.flag.addItem(label, kind)
        self.text = QLineEdit()
        self.text.setObjectName("queueFilter")
        self.text.setAccessibleName("Filter tickets")
        self.text.setPlaceholderText("Filter: subject, customer, #id  (Ctrl+F)")
        self.text.setClearButtonEnabled(True)
        self.text.setMinimumWidth(90)
        for combo in (self.scope, self.status, self.language, self.flag):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(7)
        self.count = QLabel()
        self.count.setObjectName("queueCount")
        self.count.setAccessibleName("Ticket count")

        self.view = QueueView()
        self.view.setObjectName("queueView")
        self.view.setAccessibleName("Ticket queue")
        self.view.setModel(model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        keys = [k for k, _ in COLUMNS]
        self.columns = ContentColumns(self.view, {keys.index(k): v for k, v in QUEUE_SAMPLES.items()},
                                      fill=keys.index("subject"), drop_order=[keys.index(k) for k in QUEUE_DROP_ORDER],
                                      regular=[keys.index("status")])  # bold only when "New"
        flags_column = keys.index("flags")
        self.view.setItemDelegateForColumn(flags_column, FlagChipDelegate(self.view))

        self._text_timer = QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.setInterval(200)
        self._text_timer.timeout.connect(self.apply_filter)
        self.text.textChanged.connect(lambda _t: self._text_timer.start())
        for combo in (self.scope, self.status, self.language, self.flag):
            combo.currentIndexChanged.connect(self.apply_filter)
        self.view.selectionModel().currentRowChanged.connect(self._on_current_row)
        model.countChanged.connect(self._show_count)
        model.modelReset.connect(lambda: self.currentTicketChanged.emit(self.current_ticket_id()))

        bar = QHBoxLayout()  # the search line, and the filters under it: each fits a narrow pane
        self.bar = bar
        bar.addWidget(self.text, 1)
        bar.addWidget(self.count)
        filters = QHBoxLayout()
        for combo in (self.scope, self.status, self.language, self.flag):
            filters.addWidget(combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addLayout(filters)
        layout.addWidget(self.view, 1)

    def add_action_button(self, action) -> QToolButton:
        """A button for a window action (its text, shortcut in the tooltip), first in the filter bar."""
        button = QToolButton()
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        button.setToolTip(action.statusTip() + (f" ({shortcut})" if shortcut else ""))
        self.bar.insertWidget(0, button)
        return button

    def current_filter(self) -> QueueFilter:
        return QueueFilter(
            scope=self.scope.currentData(),
            statuses=tuple(self.status.currentData()),
            language=self.language.currentData(),
            text=self.text.text().strip(),
            flag=self.flag.currentData(),
        )

    def apply_filter(self) -> None:
        self.model.set_filter(self.current_filter())

    def _show_count(self, n: int) -> None:
        if not self.model.total_exact:  # a team server's estimate: three significant digits
            n = round(n, 2 - len(str(n)) + 1) if n >= 1000 else n
            self.count.setText(f"≈{n:,} tickets")
            return
        self.count.setText(f"{n:,} ticket{'s' if n != 1 else ''}")

    def current_ticket_id(self) -> int | None:
        idx = self.view.currentIndex()
        return self.model.ticket_id(idx.row()) if idx.isValid() else None

    def _on_current_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.currentTicketChanged.emit(self.model.ticket_id(current.row()) if current.isValid() else None)

    def select_row(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            idx = self.model.index(row, 0)
            self.view.selectionModel().setCurrentIndex(
                idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            self.view.scrollTo(idx)

    def move(self, step: int) -> None:
        idx = self.view.currentIndex()
        row = (idx.row() + step) if idx.isValid() else 0
        if row >= self.model.rowCount() and self.model.canFetchMore():
            self.model.fetchMore()
        self.select_row(max(0, min(row, self.model.rowCount() - 1)))

    def refresh_keeping_scroll(self) -> None:
        """Merge database changes; keep the top visible ticket where it is."""
        bar = self.view.verticalScrollBar()
        at_top = bar.value() == 0
        top_row = self.view.rowAt(0)
        anchor = self.model.ticket_id(top_row) if top_row >= 0 else None
        self.model.refresh()
        if at_top or anchor is None:
            bar.setValue(0)
            return
        row = self.model.row_of(anchor)
        if row >= 0:
            self.view.scrollTo(self.model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtTop)
