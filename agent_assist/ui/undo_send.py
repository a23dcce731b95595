"""Undo send in the window: an approved reply waits a few seconds with "Undo" before it goes out.

Approving writes the approval at once (the card-number question was asked at the click); this
controller holds the send (:mod:`agent_assist.store.held`, a private file, so a crash or a quit
loses nothing), shows "Sending to … in 8 s · Undo" in the status bar, and when the time is up sends
it through the ticket's channel off the UI thread. "Undo" (the button, or Ctrl+Z while a send is
held) takes the approval back and hands the draft to the window, which puts it in the editor.
At start, replies whose time came while the app was closed are sent; when the window closes,
replies still held go out then (closing ends the undo time, it does not cancel the send).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QStatusBar

from agent_assist.channels import replies
from agent_assist.store import StoreError, drafts
from agent_assist.store.held import Held, HeldReplies
from agent_assist.ui.tasks import TaskManager

log = logging.getLogger(__name__)


class UndoSend(QObject):
    sent = Signal(int, int, object)  # ticket id, message id, outbox id (or None)
    undone = Signal(int, object)  # ticket id, the draft (edited again, with its text)
    failed = Signal(int, str)  # ticket id, why the held reply could not go out (in words)

    def __init__(self, store, tasks: TaskManager, status_bar: QStatusBar, *, user: str, mailbox=None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.store = store
        self.tasks = tasks
        self.user = user
        self.mailbox = mailbox
        self.held = HeldReplies()
        self.label = QLabel()
        self.label.setObjectName("undoSendLabel")
        self.button = QPushButton("Undo")
        self.button.setObjectName("undoSendButton")
        self.button.setToolTip("Take the reply back before it goes out (Ctrl+Z)")
        self.button.clicked.connect(self.undo_latest)
        self._bar = status_bar
        status_bar.insertPermanentWidget(0, self.label)  # a normal widget would hide under messages
        status_bar.insertPermanentWidget(1, self.button)
        self._names: dict[int, str] = {}  # draft id -> who it goes to, for the status bar
        self._sending: set[int] = set()
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._tick)
        self._show()

    # -- holding -----------------------------------------------------------------------------
    def hold(self, draft_id: int, ticket_id: int, *, delay_s: float, status_after: str, confirmed_pan: bool,
             to: str) -> Held:
        """Hold the approved draft's send for ``delay_s`` seconds (raises OSError when the disk refuses)."""
        held = self.held.hold(self.store.path, draft_id, ticket_id, person=self.user, delay_s=delay_s,
                              status_after=status_after, confirmed_pan=confirmed_pan)
        self._names[draft_id] = to
        self._timer.start()
        self._show()
        return held

    def pending(self) -> list[Held]:
        return [h for h in self.held.for_database(self.store.path, self.user) if h.draft_id not in self._sending]

    def held_for_ticket(self, ticket_id: int) -> Held | None:
        return next((h for h in self.pending() if h.ticket_id == ticket_id), None)

    def undo_latest(self) -> bool:
        waiting = self.pending()
        return bool(waiting) and self.undo(max(waiting, key=lambda h: h.send_at).draft_id)

    def undo(self, draft_id: int) -> bool:
        """Take the approval back; False (said in the status bar) when it was too late."""
        held = self.held.get(self.store.path, draft_id)
        if held is None or draft_id in self._sending:
            self._say("Too late to undo: the reply is on its way.")
            return False
        try:
            draft = drafts.withdraw_approval(self.store, draft_id, actor=self.user)
        except StoreError as exc:
            self._say(f"The reply could not be taken back: {exc}")
            return False
        self.held.drop(self.store.path, draft_id)
        self._names.pop(draft_id, None)
        self._show()
        self.undone.emit(held.ticket_id, draft)
        return True

    # -- sending -----------------------------------------------------------------------------
    def _tick(self) -> None:
        for held in self.held.due(self.store.path, self.user):
            if held.draft_id not in self._sending:
                self._send(held)
        self._show()
        if not self.pending() and not self._sending:
            self._timer.stop()

    def send_due(self) -> None:
        """At start: what came due while the app was closed goes out now; what is still held waits."""
        if self.held.for_database(self.store.path, self.user):
            self._timer.start()
            self._tick()

    def send_now(self, draft_id: int, ticket_id: int, *, status_after: str, confirmed_pan: bool) -> None:
        """Send at once, without a hold (when the hold file cannot be written)."""
        held = Held(str(self.store.path), draft_id, ticket_id, self.user, 0.0, status_after, confirmed_pan)
        self._send(held)

    def _send(self, held: Held) -> None:
        self._sending.add(held.draft_id)
        mailbox = self.mailbox() if callable(self.mailbox) else self.mailbox
        self.tasks.run(lambda: replies.send_held(self.store, held, mailbox=mailbox),
                       lambda result: self._sent(held, result), lambda exc: self._not_sent(held, exc),
                       owner=self)

    def _sent(self, held: Held, result: tuple[int, int | None]) -> None:
        self._sending.discard(held.draft_id)
        self.held.drop(self.store.path, held.draft_id)
        self._names.pop(held.draft_id, None)
        self._show()
        self.sent.emit(held.ticket_id, result[0], result[1])

    def _not_sent(self, held: Held, exc: BaseException) -> None:
        self._sending.discard(held.draft_id)
        state = _state_of(held, self.store)
        if isinstance(exc, StoreError) and state == "approved":
            log.info("held reply not sent yet, trying again: %s", exc)  # the server is away: next tick
            return
        self.held.drop(self.store.path, held.draft_id)
        self._show()
        if state == "sent":  # it went out already (at the last close, its result unseen): nothing to say
            log.info("held reply to #%s was sent already", held.ticket_id)
            return
        self.failed.emit(held.ticket_id, f"The reply to #{held.ticket_id} was not sent: {exc}")

    def flush(self) -> None:
        """The window closes: what is still held goes out now, in this thread (the undo time is over)."""
        self._timer.stop()
        mailbox = self.mailbox() if callable(self.mailbox) else self.mailbox
        for held in self.held.for_database(self.store.path, self.user):
            if held.draft_id in self._sending:
                continue
            if _state_of(held, self.store) not in ("approved", None):  # sent, taken back or changed elsewhere
                self.held.drop(self.store.path, held.draft_id)
                continue
            try:
                replies.send_held(self.store, held, mailbox=mailbox)
            except StoreError as exc:  # kept in the file: sent at the next start
                log.warning("held reply to #%s not sent at close (sent at the next start): %s", held.ticket_id, exc)
                continue
            self.held.drop(self.store.path, held.draft_id)

    # -- what the person sees ------------------------------------------------------------------
    def _show(self) -> None:
        waiting = self.pending()
        if not waiting:
            self.label.hide()
            self.button.hide()
            return
        first = min(waiting, key=lambda h: h.send_at)
        to = self._names.get(first.draft_id) or f"#{first.ticket_id}"
        more = f" (+{len(waiting) - 1} more)" if len(waiting) > 1 else ""
        self.label.setText(f"Sending to {to} in {first.seconds_left():.0f} s{more}")
        self.label.show()
        self.button.show()

    def _say(self, text: str) -> None:
        self._bar.showMessage(text, 8000)


def _state_of(held: Held, store) -> str | None:
    """The held draft's state now (None when it cannot be read: the database is away)."""
    try:
        return drafts.get(store.db, held.draft_id).state
    except StoreError:
        return None
