"""The supervisor's review: drafts awaiting approval and recently sent replies, each shown against the
assistant's draft with the differences marked; approve & send, or return to the agent with a comment.

Only a supervisor can decide (``role`` given at construction); anyone else sees
the same lists and differences read-only. Reading and deciding go through
:mod:`agent_assist.store.review`, off the GUI thread.
"""

from __future__ import annotations

import html
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QAbstractTableModel, QItemSelectionModel, QModelIndex, QPersistentModelIndex, Qt, \
    QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from agent_assist.store import Store, review
from agent_assist.store.errors import UnmaskedCardNumberError
from agent_assist.store.drafts import Draft
from agent_assist.store.review import ReviewDetail, ReviewItem
from agent_assist.timefmt import humanize_delta, parse_iso, utcnow
from agent_assist.ui.diff_view import DiffView, WordDiff, word_diff
from agent_assist.ui.tasks import TaskManager

log = logging.getLogger(__name__)

DRAFT_ID_ROLE = Qt.ItemDataRole.UserRole + 1
NONE_TEXT = "—"
STATE_LABELS = {review.AWAITING: "Awaiting approval", "sent": "Sent", "edited": "Returned to the agent",
                "approved": "Approved", "discarded": "Discarded", "suggested": "Suggested"}


def source_label(draft: Draft | None) -> str:
    """Who or what wrote the first text: never "AI draft" for the offline suggestion or a person's reply."""
    if draft is None:
        return "Suggestion"
    if draft.source == "ai":
        return " · ".join(["AI draft", *(p for p in (draft.provider, draft.model) if p)])
    if draft.source == "human":
        return f"Written by {draft.created_by or 'a person'}"
    return "Offline suggestion"


def _day(iso: str) -> str:
    try:
        return parse_iso(iso).strftime("%d %b %Y %H:%M")
    except ValueError:
        return iso


class ReviewListModel(QAbstractTableModel):
    """A list of :class:`ReviewItem` (awaiting or sent), one row each."""

    def __init__(self, time_title: str, parent=None):
        super().__init__(parent)
        self._items: list[ReviewItem] = []
        self._headers = ("Ticket", "Subject", "Agent", "Lang", time_title, "Status")
        self._now = utcnow()
        self._repeated: set[str] = set()

    def set_items(self, items: list[ReviewItem]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self._now = utcnow()
        counts = Counter(it.subject.strip().casefold() for it in self._items)
        self._repeated = {subject for subject, n in counts.items() if n > 1}
        self.endResetModel()

    def subject_text(self, it: ReviewItem) -> str:
        """The subject, with the ticket's date when another ticket in the list has the same one."""
        if it.subject.strip().casefold() in self._repeated and it.ticket_created_at:
            return f"{it.subject} ({_day(it.ticket_created_at)})"
        return it.subject

    def item(self, row: int) -> ReviewItem:
        return self._items[row]

    def row_of(self, draft_id: int) -> int | None:
        for i, it in enumerate(self._items):
            if it.draft_id == draft_id:
                return i
        return None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self._headers):
            return self._headers[section]
        return None

    def _age(self, it: ReviewItem) -> str:
        try:
            return humanize_delta((self._now - parse_iso(it.updated_at)).total_seconds()) + " ago"
        except ValueError:
            return it.updated_at

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self._items)) or \
                not (0 <= index.column() < len(self._headers)):
            return None
        it = self._items[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (f"#{it.ticket_id}", self.subject_text(it), it.agent or NONE_TEXT, it.language or NONE_TEXT,
                    self._age(it), STATE_LABELS.get(it.state, it.state.replace("_", " ")))[col]
        if role == DRAFT_ID_ROLE:
            return it.draft_id
        if role == Qt.ItemDataRole.ToolTipRole:
            return it.updated_at if col == 4 else (it.subject if col == 1 else None)
        return None


class ReviewView(QWidget):
    approved = Signal(int)
    """draft id: a supervisor approved it and the reply was sent."""
    returned = Signal(int)
    """draft id: it went back to its agent with a comment."""
    loaded = Signal()
    """Both lists are on screen."""
    detailShown = Signal(int)
    """draft id: its texts and differences are on screen."""
    failed = Signal(str)
    """An action failed; the message is on screen too."""

    def __init__(self, store: Store, tasks: TaskManager, *, user: str, role: str, poll_ms: int = 3000,
                 parent: QWidget | None = None, send=None, undo=None, undo_seconds=None):
        """``send``: how an approved reply goes out at once (through the ticket's channel when the window
        provides one). ``undo`` (the window's :class:`~agent_assist.ui.undo_send.UndoSend`) and
        ``undo_seconds`` (a callable: the setting ``send.undo_seconds`` as it is now): when the seconds are
        more than 0, an approval is held that long with an "Undo", as the main window's Approve & send."""
        super().__init__(parent)
        self._send = send or (lambda s, draft_id, body, actor, confirmed_pan=False: review.approve_and_send(
            s, draft_id, body, actor=actor, confirmed_pan=confirmed_pan))
        self._undo = undo
        self._undo_seconds = undo_seconds or (lambda: 0)
        self._held_draft: int | None = None  # the reply this view approved, waiting out its seconds
        self._held_ticket: int | None = None
        self.store = store
        self.tasks = tasks
        self.user = user
        self.role = role
        self.detail: ReviewDetail | None = None
        self._version = store.data_version()
        self.setObjectName("reviewView")

        self.awaiting_model = ReviewListModel("Waiting", self)
        self.sent_model = ReviewListModel("Sent", self)
        self.awaiting_view = self._make_table(self.awaiting_model, "Drafts awaiting approval")
        self.sent_view = self._make_table(self.sent_model, "Recently sent replies")
        self.tabs = QTabWidget()
        self.tabs.addTab(self.awaiting_view, "Awaiting approval")
        self.tabs.addTab(self.sent_view, "Recently sent")

        self.header = QLabel("Choose a draft on the left.")
        self.header.setObjectName("reviewHeader")
        self.header.setWordWrap(True)
        self.diff = DiffView("Suggestion", "Current text")
        self.context = QTextBrowser()  # what the reply answers, why it is routed here, what it cites
        self.context.setObjectName("reviewContext")
        self.context.setAccessibleName("The customer's messages, flags and cited articles")
        self.context.setOpenLinks(False)
        self.history = QLabel()
        self.history.setObjectName("reviewHistory")
        self.history.setWordWrap(True)
        self.history.setTextFormat(Qt.TextFormat.RichText)
        self.history.hide()
        self.comment = QPlainTextEdit()
        self.comment.setObjectName("reviewComment")
        self.comment.setAccessibleName("Comment for the agent")
        self.comment.setPlaceholderText("What should the agent change? (sent back with the draft)")
        self.comment.setMaximumHeight(90)
        self.approve_button = QPushButton("&Approve && send")
        self.approve_button.setObjectName("approveButton")
        self.return_button = QPushButton("Re&turn with comment")
        self.return_button.setObjectName("returnButton")
        self.message = QLabel()
        self.message.setObjectName("reviewMessage")
        self.message.setWordWrap(True)
        self.undo_button = QPushButton("&Undo send")
        self.undo_button.setObjectName("reviewUndoButton")
        self.undo_button.setToolTip("Take the approval back before the reply goes out")
        self.undo_button.hide()

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.header)
        middle = QSplitter(Qt.Orientation.Vertical)
        middle.addWidget(self.context)
        middle.addWidget(self.diff)
        middle.setStretchFactor(0, 2)
        middle.setStretchFactor(1, 3)
        rl.addWidget(middle, 1)
        rl.addWidget(self.history)
        rl.addWidget(self.comment)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.return_button)
        buttons.addWidget(self.approve_button)
        rl.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.tabs)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        self.tabs.setMinimumWidth(480)  # ticket, a subject with its date, agent, age and status all readable
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self.approve_button.clicked.connect(self.approve_current)
        self.return_button.clicked.connect(self.return_current)
        self.undo_button.clicked.connect(self.undo_held)
        if undo is not None:
            undo.sent.connect(self._held_sent)
            undo.undone.connect(self._held_undone)
            undo.failed.connect(self._held_failed)
        self.comment.textChanged.connect(self._update_buttons)
        self.tabs.currentChanged.connect(self._on_tab)
        if not review.is_supervisor(role):
            tip = "Only a supervisor can approve or return drafts."
            for w in (self.approve_button, self.return_button, self.comment):
                w.setToolTip(tip)
        self._update_buttons()

        self._poll = QTimer(self)  # follows changes from other windows and processes while shown
        self._poll.setInterval(max(poll_ms, 1))
        self._poll.timeout.connect(self._poll_changes)
        self._poll_enabled = poll_ms > 0
        self.reload()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._poll_enabled:
            self._poll.start()
            self._poll_changes()

    def hideEvent(self, event: QHideEvent) -> None:
        self._poll.stop()
        super().hideEvent(event)

    def _make_table(self, model: ReviewListModel, name: str) -> QTableView:
        view = QTableView()
        view.setModel(model)
        view.setAccessibleName(name)
        view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        view.verticalHeader().hide()
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        view.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        view.selectionModel().currentRowChanged.connect(lambda cur, _prev, v=view: self._on_current(cur, v))
        return view

    @property
    def can_decide(self) -> bool:
        return review.is_supervisor(self.role)

    def _current_view(self) -> QTableView:
        return self.sent_view if self.tabs.currentWidget() is self.sent_view else self.awaiting_view

    # -- loading -------------------------------------------------------------------------------
    def reload(self) -> None:
        """Reload both lists (keeping the selected draft if it is still there)."""
        store = self.store

        def job() -> tuple[list[ReviewItem], list[ReviewItem]]:
            return review.awaiting(store.db), review.recently_sent(store.db)

        self.tasks.run(job, self._show_lists, self._on_error, key=f"review-lists-{id(self)}", owner=self)

    def _poll_changes(self) -> None:
        version = self.store.data_version()
        if version != self._version:
            self._version = version
            self.reload()

    def _show_lists(self, lists: tuple[list[ReviewItem], list[ReviewItem]]) -> None:
        awaiting, sent = lists
        keep = self.detail.item.draft_id if self.detail else None
        for view, model, items in ((self.awaiting_view, self.awaiting_model, awaiting),
                                   (self.sent_view, self.sent_model, sent)):
            model.set_items(items)
            row = model.row_of(keep) if keep is not None else None
            if row is not None:
                view.selectionModel().blockSignals(True)
                view.selectionModel().setCurrentIndex(
                    model.index(row, 0),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
                view.selectionModel().blockSignals(False)
        self.tabs.setTabText(0, f"Awaiting approval ({len(awaiting)})")
        self.tabs.setTabText(1, f"Recently sent ({len(sent)})")
        if keep is not None and self.awaiting_model.row_of(keep) is None and self.sent_model.row_of(keep) is None:
            self._show_detail(None)
        elif self.detail is None:
            view = self._current_view()
            if view.model().rowCount():
                self.select_row(0, sent=view is self.sent_view)
        self.loaded.emit()

    def select_row(self, row: int, *, sent: bool = False) -> None:
        """Select a row of the awaiting (or sent) list, as a click would."""
        self.tabs.setCurrentWidget(self.sent_view if sent else self.awaiting_view)
        view = self._current_view()
        view.selectionModel().setCurrentIndex(
            view.model().index(row, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        view.setFocus()

    def _on_tab(self, _index: int) -> None:
        view = self._current_view()
        if view.currentIndex().isValid():
            self._on_current(view.currentIndex())
        elif view.model().rowCount():
            self.select_row(0, sent=view is self.sent_view)
        else:
            self._show_detail(None)

    def _on_current(self, current: QModelIndex, view: QTableView | None = None) -> None:
        if view is not None and view is not self._current_view():
            return
        if not current.isValid():
            return
        draft_id = current.data(DRAFT_ID_ROLE)
        if draft_id is None:
            return
        self.load_detail(int(draft_id))

    def load_detail(self, draft_id: int) -> None:
        store = self.store

        def job() -> tuple[ReviewDetail, WordDiff]:
            detail = review.detail(store.db, draft_id)
            return detail, word_diff(detail.original_body, detail.body)

        self.tasks.run(job, lambda result: self._show_detail(*result), self._on_error,
                       key=f"review-detail-{id(self)}", owner=self)

    def _show_detail(self, detail: ReviewDetail | None, diff: WordDiff | None = None) -> None:
        same = detail is not None and self.detail is not None and self.detail.item.draft_id == detail.item.draft_id
        self.detail = detail
        if not same:  # what was said about this draft (approved and sent…) stays while it is shown
            self.message.clear()
        if detail is None:
            self.header.setText("Choose a draft on the left.")
            self.context.clear()
            self.diff.clear()
            self.history.hide()
            self._update_buttons()
            return
        it = detail.item
        awaiting = it.state == review.AWAITING
        what = STATE_LABELS.get(it.state, it.state.replace("_", " ")).lower()
        by = f" · approved by {html.escape(detail.approved_by)}" if detail.approved_by and not awaiting else ""
        opened = f" · opened {html.escape(_day(it.ticket_created_at))}" if it.ticket_created_at else ""
        self.header.setText(f"<b>#{it.ticket_id} {html.escape(it.subject)}</b><br>"
                            f"{html.escape(it.agent or NONE_TEXT)} · {html.escape(what)}{by}{opened}")
        self.context.setHtml(context_html(detail))
        self.diff.set_titles(source_label(detail.draft),
                             "Agent’s text" if awaiting else ("Sent reply" if it.state == "sent" else "Current text"))
        self.diff.set_texts(detail.original_body, detail.body, diff)
        if detail.comments:
            items = "".join(f"<li><b>{html.escape(c.author)}</b> ({html.escape(c.created_at)}): "
                            f"{html.escape(c.comment)}</li>" for c in detail.comments)
            self.history.setText(f"Earlier comments:<ul style='margin:0'>{items}</ul>")
            self.history.show()
        else:
            self.history.hide()
        self._update_buttons()
        self.detailShown.emit(it.draft_id)

    def _update_buttons(self) -> None:
        awaiting = self.detail is not None and self.detail.item.state == review.AWAITING
        decide = self.can_decide and awaiting
        self.approve_button.setEnabled(decide)
        self.comment.setEnabled(decide)
        self.return_button.setEnabled(decide and bool(self.comment.toPlainText().strip()))

    # -- deciding --------------------------------------------------------------------------------
    def _decide(self, action: Callable[[], object], done: Callable[[int], None], draft_id: int,
                on_refused: Callable[[BaseException], bool] | None = None, *, state_after: str) -> None:
        self.approve_button.setEnabled(False)
        self.return_button.setEnabled(False)

        def on_done(_result: object) -> None:
            if self.detail is not None and self.detail.item.draft_id == draft_id:  # decided: no second decision
                self.detail = replace(self.detail, item=replace(self.detail.item, state=state_after))
            done(draft_id)
            self._update_buttons()
            self.load_detail(draft_id)  # the pane shows it as it is now (sent, or back with its agent)
            self.reload()

        def on_error(exc: BaseException) -> None:
            if on_refused is not None and on_refused(exc):
                return  # asked again (e.g. a confirmed card number): a new attempt is under way
            self._on_error(exc)
            self.load_detail(draft_id)  # it may have changed under us: show it as it is now

        self.tasks.run(action, on_done, on_error, key=f"review-decide-{id(self)}", owner=self)

    def approve_current(self, *, confirmed_pan: bool = False) -> None:
        if not self.can_decide or self.detail is None or self.detail.item.state != review.AWAITING:
            return
        store, user, draft_id, body = self.store, self.user, self.detail.item.draft_id, self.detail.body
        ticket_id = self.detail.item.ticket_id
        delay = int(self._undo_seconds()) if self._undo is not None else 0

        def done(did: int) -> None:
            self.comment.clear()
            self.message.setText(f"Approved and sent the reply to #{ticket_id}.")
            self.approved.emit(did)

        def held(did: int) -> None:
            self.comment.clear()
            to = _customer_of(store, ticket_id)
            try:
                self._undo.hold(did, ticket_id, delay_s=delay, status_after="pending", confirmed_pan=confirmed_pan,
                                to=to)
            except OSError as exc:  # the hold cannot be kept on disk: send now rather than risk losing it
                log.warning("undo hold not kept (%s); sending now", exc)
                self._undo.send_now(did, ticket_id, status_after="pending", confirmed_pan=confirmed_pan)
                self.message.setText(f"Approved; the reply to #{ticket_id} goes out now (the undo time could not "
                                     "be kept on this computer).")
                self.approved.emit(did)
                return
            self._held_draft, self._held_ticket = did, ticket_id
            self.message.setText(f"Approved. Sending to {to} in {delay} s — Undo send takes the approval back.")
            self.undo_button.show()
            self.approved.emit(did)

        def refused(exc: BaseException) -> bool:
            """A full card number in the reply: the supervisor decides, as the agent would."""
            if confirmed_pan or not isinstance(exc, UnmaskedCardNumberError):
                return False
            if not self.confirm_card_number(str(exc)):
                self.message.setText("Nothing was sent. Return the draft to the agent to replace the full card "
                                     f"number with its last four digits (•••• {exc.endings[0]}).")
                self._update_buttons()
                return True
            self.approve_current(confirmed_pan=True)
            return True

        if delay > 0:  # undo send: approve now, the window's UndoSend sends when the seconds are over
            self._decide(lambda: review.approve(store, draft_id, body, actor=user, confirmed_pan=confirmed_pan), held,
                         draft_id, refused, state_after="approved")
            return
        self._decide(lambda: self._send(store, draft_id, body, user, confirmed_pan=confirmed_pan), done, draft_id,
                     refused, state_after="sent")

    # -- undo send ---------------------------------------------------------------------------------
    def undo_held(self) -> bool:
        """Take back the approval this view gave, while its reply waits; False (said) when too late."""
        if self._undo is None or self._held_draft is None:
            return False
        return self._undo.undo(self._held_draft)

    def _held_done(self, ticket_id: int, text: str) -> None:
        """The reply this view approved went out, was taken back, or failed: say so, show it as it is."""
        if self._held_draft is None or self._held_ticket != ticket_id:
            return  # another reply of the window's (the main window's own Approve & send)
        draft_id, self._held_draft = self._held_draft, None
        self.undo_button.hide()
        self.message.setText(text)
        if self.detail is not None and self.detail.item.draft_id == draft_id:
            self.load_detail(draft_id)
        self.reload()

    def _held_sent(self, ticket_id: int, _message_id: int, _outbox_id) -> None:
        self._held_done(ticket_id, f"Approved and sent the reply to #{ticket_id}.")

    def _held_undone(self, ticket_id: int, draft) -> None:
        agent = getattr(draft, "requested_by", None) or "the agent"
        self._held_done(ticket_id, f"Not sent: your approval is taken back and the reply to #{ticket_id} is back "
                                   f"with {agent} to change. Nothing went to the customer.")

    def _held_failed(self, ticket_id: int, text: str) -> None:
        self._held_done(ticket_id, text)

    def confirm_card_number(self, message: str) -> bool:
        """Ask whether a reply holding a full card number really goes out (tests replace this)."""
        return QMessageBox.question(
            self, "Full card number in the reply", message + "\n\nSend the reply with the full card number?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No) == QMessageBox.StandardButton.Yes

    def return_current(self) -> None:
        text = self.comment.toPlainText().strip()
        if not self.can_decide or self.detail is None or self.detail.item.state != review.AWAITING or not text:
            return
        store, user, draft_id = self.store, self.user, self.detail.item.draft_id

        def done(did: int) -> None:
            self.comment.clear()
            self.message.setText("Returned to the agent with your comment.")
            self.returned.emit(did)

        self._decide(lambda: review.return_to_agent(store, draft_id, text, actor=user), done, draft_id,
                     state_after="edited")

    def _on_error(self, exc: BaseException) -> None:
        text = str(exc) or exc.__class__.__name__
        self.message.setText(f"<span style='color:#c62828'>{html.escape(text)}</span>")
        self._update_buttons()
        self.failed.emit(text)


def context_html(detail: ReviewDetail) -> str:
    """What a supervisor needs beside the texts: the customer's words, the flags with reasons, the sources."""
    parts = []
    if detail.flags:
        items = "".join(f"<li><b>{html.escape(f.kind.replace('_', ' '))}</b>: {html.escape(f.reason)}</li>"
                        for f in detail.flags)
        parts.append(f"<p><b>Flags</b></p><ul style='margin:0'>{items}</ul>")
    else:
        parts.append("<p><b>Flags</b>: none</p>")
    if detail.cited:
        items = "".join(f"<li>[{aid}] {html.escape(title)}</li>" for aid, title in detail.cited)
        parts.append(f"<p><b>Articles cited</b></p><ul style='margin:0'>{items}</ul>")
    else:
        parts.append("<p><b>Articles cited</b>: none</p>")
    if detail.customer_messages:
        for m in detail.customer_messages:
            body = html.escape(m.body_text[:20_000]).replace("\n", "<br>")
            parts.append(f"<p><b>{html.escape(m.author or 'The customer')}</b> wrote "
                         f"({html.escape(_day(m.created_at))}):</p><blockquote>{body}</blockquote>")
    else:
        parts.append("<p>No message from the customer to answer.</p>")
    return "".join(parts)


def _customer_of(store: Store, ticket_id: int) -> str:
    """Who a held reply goes to, for "Sending to … in 10 s" (the ticket number when it cannot be read)."""
    from agent_assist.store import StoreError, tickets

    try:
        return tickets.get_ticket(store.db, ticket_id).customer_name or f"#{ticket_id}"
    except StoreError:
        return f"#{ticket_id}"
