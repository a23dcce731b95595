"""Desktop notifications: new urgent/high tickets, and SLAs about to run out.

A :class:`Notifier` shows a tray icon when the desktop has a system tray, and pops its balloon /
native notification there. Without a tray (some Wayland and tiling desktops, offscreen) the same
text is offered as :attr:`Notifier.statusMessage` for the main window's status bar, and the
window is flashed in the task bar. :attr:`Notifier.notified` is emitted for every notification
either way, which is what the tests (and any log) observe.

It decides nothing about the database: the window hands it the queue rows it already has
(``QueueRow`` objects, or mappings with the same keys) — new rows as they are inserted into the
queue model, and the loaded rows on each SLA tick. Each ticket is notified at most once per kind
(new / SLA), also when notifications are switched off meanwhile, so switching them on later does
not replay a backlog.

It also keeps the count of tickets that arrived in the person's queue since they last looked
(:meth:`Notifier.count_arrivals`, fed from the queue model's ``arrived``): on the tray icon's tooltip,
or without a tray in the window's title ("(3 new) …"). Looking is the window becoming active or the
queue getting the focus (:meth:`Notifier.watch`); a ticket that arrives while the person has the
queue in front of them is not counted (its row's highlight shows it).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon, QWidget

from agent_assist import APP_NAME
from agent_assist.store.tickets import PRIORITIES
from agent_assist.timefmt import parse_iso

log = logging.getLogger(__name__)

NOTIFY_PRIORITIES = ("urgent", "high")
SLA_STATUSES = ("new", "open")  # the statuses whose SLA clock runs (as in the queue's SLA column)
DEFAULT_SLA_MINUTES = 15
MESSAGE_MS = 10_000
MAX_LISTED = 3
SUBJECT_CHARS = 70
_COUNT_PREFIX = re.compile(r"^\(\d+ new\) ")


def _get(row: Any, key: str, default: Any = None) -> Any:
    if isinstance(row, Mapping):
        return row.get(key, default)
    return getattr(row, key, default)


def _priority_name(value: Any) -> str:
    if isinstance(value, int) and 0 <= value < len(PRIORITIES):
        return PRIORITIES[value]
    return str(value or "")


def _short(text: str) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= SUBJECT_CHARS else text[:SUBJECT_CHARS - 1] + "…"


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return parse_iso(str(value))
    except ValueError:
        return None


class Notifier(QObject):
    notified = Signal(str, str)
    """title, message: a notification was given (tray or not)."""
    statusMessage = Signal(str)
    """No system tray: show this in the status bar instead."""
    ticketActivated = Signal(int)
    """The person clicked a notification about one ticket: open it."""
    trayActivated = Signal()
    """The tray icon was clicked: bring the window forward."""
    newCountChanged = Signal(int)
    """The number of tickets that arrived in the queue since the person last looked."""

    def __init__(self, *, enabled: bool = True, sla_minutes: int = DEFAULT_SLA_MINUTES,
                 icon: QIcon | None = None, since: datetime | None = None, user: str | None = None,
                 use_tray: bool | None = None, parent: QObject | None = None):
        """``since``: tickets last changed before this moment are not "new" (default: now), so rows
        the queue loads later by scrolling or filtering never count as arrivals. ``user``: SLA
        reminders only for tickets assigned to this person or to nobody (None: all).
        ``use_tray``: None follows ``QSystemTrayIcon.isSystemTrayAvailable()``."""
        super().__init__(parent)
        self.sla_minutes = sla_minutes
        self.user = user
        self.since = since or datetime.now(UTC).replace(microsecond=0)  # stored times have whole seconds
        self._enabled = enabled
        self._seen_new: set[int] = set()
        self._seen_sla: set[int] = set()
        self._last_ticket: int | None = None
        self._arrived: set[int] = set()  # since the person last looked at the queue
        self._window: QWidget | None = None
        self._queue_view: QWidget | None = None
        self.tray: QSystemTrayIcon | None = None
        if use_tray is None:
            use_tray = QSystemTrayIcon.isSystemTrayAvailable()
        if use_tray:
            self._make_tray(icon or QApplication.windowIcon())
        self._apply_enabled()

    # -- the tray ------------------------------------------------------------------------
    def _make_tray(self, icon: QIcon) -> None:
        tray = QSystemTrayIcon(icon, self)
        tray.setToolTip(APP_NAME)
        menu = QMenu()
        menu.addAction(f"Show {APP_NAME}", self.trayActivated.emit)
        menu.addSeparator()
        menu.addAction("Quit", self._quit)
        tray.setContextMenu(menu)
        self._menu = menu  # the tray does not own its menu
        tray.activated.connect(self._on_tray_activated)
        tray.messageClicked.connect(self._on_message_clicked)
        self.tray = tray

    def _quit(self) -> None:
        """Close the window the notifier belongs to (which saves drafts and layout), else quit."""
        window = self.parent()
        if isinstance(window, QWidget):
            window.window().close()
        else:
            QApplication.quit()

    def _on_tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.trayActivated.emit()

    def _on_message_clicked(self) -> None:
        self.trayActivated.emit()
        if self._last_ticket is not None:
            self.ticketActivated.emit(self._last_ticket)

    # -- switching -------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self._enabled

    def set_enabled(self, enabled: bool) -> None:
        self._enabled = bool(enabled)
        self._apply_enabled()

    def _apply_enabled(self) -> None:
        if self.tray is not None:
            self.tray.setVisible(self._enabled)

    def close(self) -> None:
        """Take the tray icon away (some desktops keep a dead one until the process exits)."""
        if self.tray is not None:
            self.tray.hide()

    # -- what is worth a notification -----------------------------------------------------
    def notify_new_tickets(self, rows: Iterable[Any]) -> list[int]:
        """Announce the new urgent/high-priority tickets among ``rows``; returns their ids.

        A row counts when its status is ``new``, its priority urgent or high, it changed at or after
        :attr:`since`, and it was not announced before."""
        fresh = []
        for row in rows:
            tid = _get(row, "id")
            if tid is None or tid in self._seen_new:
                continue
            if _get(row, "status") != "new" or _priority_name(_get(row, "priority")) not in NOTIFY_PRIORITIES:
                continue
            changed = _when(_get(row, "updated_at")) or _when(_get(row, "created_at"))
            if changed is not None and changed < self.since:
                continue
            self._seen_new.add(tid)
            fresh.append(row)
        if not fresh:
            return []
        fresh.sort(key=lambda r: (PRIORITIES.index(_priority_name(_get(r, "priority"))), _get(r, "id")))
        if len(fresh) == 1:
            row = fresh[0]
            title = f"New {_priority_name(_get(row, 'priority'))} ticket #{_get(row, 'id')}"
            message = _short(_get(row, "subject", ""))
        else:
            urgent = sum(1 for r in fresh if _priority_name(_get(r, "priority")) == "urgent")
            kind = "urgent" if urgent == len(fresh) else "urgent or high-priority" if urgent else "high-priority"
            title = f"{len(fresh)} new {kind} tickets"
            message = self._listing(fresh)
        self._give(title, message, _get(fresh[0], "id") if len(fresh) == 1 else None)
        return [_get(r, "id") for r in fresh]

    def check_sla(self, rows: Iterable[Any], now: datetime | None = None) -> list[int]:
        """Warn about tickets whose SLA runs out within :attr:`sla_minutes` from ``now``; returns their ids.

        Only tickets still waiting on us (new/open) count, only once each, and — with :attr:`user` —
        only the person's own and unassigned ones. Tickets already past their SLA are not announced
        (the queue shows them in red; a start-up flood of old breaches helps nobody)."""
        now = _when(now) or datetime.now(UTC)
        horizon = now + timedelta(minutes=self.sla_minutes)
        due = []
        for row in rows:
            tid = _get(row, "id")
            if tid is None or tid in self._seen_sla or _get(row, "status") not in SLA_STATUSES:
                continue
            assignee = _get(row, "assignee")
            if self.user is not None and assignee not in (None, "", self.user):
                continue
            deadline = _when(_get(row, "sla_due_at"))
            if deadline is None or not now < deadline <= horizon:
                continue
            self._seen_sla.add(tid)
            due.append((deadline, row))
        if not due:
            return []
        due.sort(key=lambda d: (d[0], _get(d[1], "id")))
        rows_due = [r for _, r in due]
        if len(rows_due) == 1:
            deadline, row = due[0]
            minutes = max(1, round((deadline - now).total_seconds() / 60))
            title = f"SLA due in {minutes} min: #{_get(row, 'id')}"
            message = _short(_get(row, "subject", ""))
        else:
            title = f"{len(rows_due)} SLAs due within {self.sla_minutes} min"
            message = self._listing(rows_due)
        self._give(title, message, _get(rows_due[0], "id") if len(rows_due) == 1 else None)
        return [_get(r, "id") for r in rows_due]

    def forget(self, ticket_id: int) -> None:
        """Allow a ticket to be announced again (e.g. its SLA was reset by a new customer message)."""
        self._seen_new.discard(ticket_id)
        self._seen_sla.discard(ticket_id)

    @staticmethod
    def _listing(rows: list[Any]) -> str:
        lines = [f"#{_get(r, 'id')} {_short(_get(r, 'subject', ''))}" for r in rows[:MAX_LISTED]]
        if len(rows) > MAX_LISTED:
            lines.append(f"… and {len(rows) - MAX_LISTED} more")
        return "\n".join(lines)

    # -- new in my queue since I last looked ----------------------------------------------
    @property
    def new_count(self) -> int:
        return len(self._arrived)

    def watch(self, window: QWidget, queue_view: QWidget) -> None:
        """Count for this window: its title carries the count when there is no tray, and the window
        becoming active or ``queue_view`` getting the focus is the person looking (the count goes)."""
        self._window, self._queue_view = window, queue_view
        window.installEventFilter(self)
        queue_view.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if (kind == QEvent.Type.WindowActivate and watched is self._window) or (
                kind == QEvent.Type.FocusIn and watched is self._queue_view):
            self.reset_new()
        return False

    def looking(self) -> bool:
        """Whether the person has the queue in front of them now (the window active, the queue focused)."""
        window, view = self._window, self._queue_view
        return (window is not None and view is not None and window.isActiveWindow() and not window.isMinimized()
                and view.hasFocus())

    def count_arrivals(self, ticket_ids: Iterable[int]) -> int:
        """Tickets that arrived in the queue; returns the count since the person last looked."""
        if self.looking():
            return self.new_count
        before = len(self._arrived)
        self._arrived.update(ticket_ids)
        if len(self._arrived) != before:
            self._show_count()
        return self.new_count

    def reset_new(self) -> None:
        """The person looked at the queue."""
        if self._arrived:
            self._arrived.clear()
            self._show_count()

    def _show_count(self) -> None:
        n = len(self._arrived)
        words = f"{n} new ticket{'s' if n != 1 else ''} in your queue" if n else ""
        if self.tray is not None:
            self.tray.setToolTip(f"{APP_NAME} — {words}" if n else APP_NAME)
        window = self._window
        if window is not None:
            base = _COUNT_PREFIX.sub("", window.windowTitle())
            # with a tray its tooltip says it; without one the task bar's title is where it shows
            window.setWindowTitle(f"({n} new) {base}" if n and (self.tray is None or not self.tray.isVisible())
                                  else base)
        self.newCountChanged.emit(n)

    # -- giving it ------------------------------------------------------------------------
    def _give(self, title: str, message: str, ticket_id: int | None) -> None:
        if not self._enabled:
            return
        self._last_ticket = ticket_id
        if self.tray is not None and self.tray.isVisible():
            self.tray.showMessage(title, message, QSystemTrayIcon.MessageIcon.Information, MESSAGE_MS)
        else:
            self.statusMessage.emit(f"{title} — {message.splitlines()[0] if message else ''}".rstrip(" —"))
            window = self.parent()
            if isinstance(window, QWidget):
                QApplication.alert(window.window(), 0)  # flash in the task bar until it is looked at
        log.info("notification: %s", title)  # ids only: the subject stays out of the log
        self.notified.emit(title, message)
