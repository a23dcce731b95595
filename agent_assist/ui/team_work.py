"""The window's part in team work: "Take next ticket", who else is on this ticket, the desk's heartbeat.

A controller, not a widget: the main window gives it the store, its task runner and a label, and
calls it when a ticket opens, the reply changes or the window closes. On a team server it keeps
this desk's presence row fresh (every ``teamwork.HEARTBEAT_S``, and at once when the ticket or the
writing state changes), renews the desk's claims with it, and follows the other desks through the
server's presence announcements. On a desk's own file there are no other desks: only "Take next
ticket" does anything there.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel

from agent_assist.store import StoreError, teamwork
from agent_assist.store.backend import is_postgres
from agent_assist.ui.tasks import TaskManager

log = logging.getLogger(__name__)


class TeamWork(QObject):
    claimed = Signal(int)  # a ticket was claimed for this person: the window opens it
    othersChanged = Signal(list)  # [teamwork.Presence] on the open ticket, other desks only

    def __init__(self, store, tasks: TaskManager, label: QLabel, *, user: str,
                 message: Callable[[str], None], parent: QObject | None = None):
        super().__init__(parent)
        self.store = store
        self.tasks = tasks
        self.label = label
        self.user = user
        self.message = message
        self.desk = teamwork.new_desk_id()
        self.team = is_postgres(store)
        self.ticket_id: int | None = None
        self.writing = False
        self.others: list[teamwork.Presence] = []
        self._sent: tuple[int | None, bool] | None = None  # what the server last heard from this desk
        self._presence_seen = -1
        self._beats = TaskManager(self, max_threads=1)  # one at a time, in order: the last word is the latest
        self.label.hide()
        self._beat = QTimer(self)
        self._beat.setInterval(teamwork.HEARTBEAT_S * 1000)
        self._beat.timeout.connect(lambda: self.beat(force=True))
        if self.team:
            self._beat.start()
            self.beat(force=True)

    # -- Take next ticket ---------------------------------------------------------------
    def take_next(self) -> None:
        self.message("Looking for the next ticket…")
        self.tasks.run(lambda: teamwork.claim_next(self.store, person=self.user, desk=self.desk),
                       self._claimed, lambda exc: self.message(str(exc) if isinstance(exc, StoreError)
                                                               else f"No ticket was taken: {exc}"),
                       key="claim-next", owner=self)

    def _claimed(self, ticket_id: int | None) -> None:
        if ticket_id is None:
            self.message("No free ticket is waiting: every new and open ticket has someone on it.")
            return
        self.message(f"#{ticket_id} is yours now.")
        self.claimed.emit(ticket_id)

    def reply_sent(self, ticket_id: int) -> None:
        """The reply went out: the claim has done its job (the ticket stays assigned)."""
        if self.team:
            self.tasks.run(lambda: teamwork.release_claim(self.store, ticket_id), None,
                           lambda exc: log.info("claim not released: %s", exc), owner=self, quiet=True)

    # -- presence -----------------------------------------------------------------------
    def ticket_opened(self, ticket_id: int | None) -> None:
        if ticket_id != self.ticket_id:
            self.ticket_id, self.writing, self.others = ticket_id, False, []
            self._show()
        self.beat()
        self.refresh_others()

    def set_writing(self, writing: bool) -> None:
        if writing != self.writing:
            self.writing = writing
            self.beat()

    def beat(self, *, force: bool = False) -> None:
        """Tell the server where this desk is (only when that changed, or on the timer)."""
        if not self.team:
            return
        state = (self.ticket_id, self.writing)
        if state == self._sent and not force:
            return
        self._sent = state
        ticket, writing = state

        def failed(exc: BaseException) -> None:
            self._sent = None  # say it again on the next beat
            log.info("heartbeat not delivered: %s", exc)

        self._beats.run(lambda: teamwork.heartbeat(self.store, desk=self.desk, ticket_id=ticket, writing=writing),
                        None, failed, owner=self, quiet=True)

    def poll(self) -> None:
        """From the window's live timer: re-read who is on this ticket when the server announced a change."""
        version = getattr(self.store, "presence_version", None)
        if version is None:
            return
        seen = version()
        if seen != self._presence_seen:
            self._presence_seen = seen
            self.refresh_others()

    def refresh_others(self) -> None:
        if not self.team or self.ticket_id is None:
            return
        ticket = self.ticket_id
        self.tasks.run(lambda: teamwork.others_on(self.store.db, ticket, desk=self.desk),
                       lambda found: self._got_others(ticket, found),
                       lambda exc: log.info("presence not read: %s", exc), key="presence", owner=self, quiet=True)

    def _got_others(self, ticket: int, found: list[teamwork.Presence]) -> None:
        if ticket != self.ticket_id:
            return
        self.others = list(found)
        self._show()
        self.othersChanged.emit(self.others)

    def writers(self) -> list[str]:
        """Who else is writing a reply to the open ticket right now."""
        return sorted({p.person for p in self.others if p.writing})

    def _show(self) -> None:
        if not self.others:
            self.label.hide()
            self.label.clear()
            return
        people: dict[str, bool] = {}
        for p in self.others:
            people[p.person] = people.get(p.person, False) or p.writing
        parts = [f"<b>{html.escape(name)}</b>" + (" is writing a reply" if writing else " has it open")
                 for name, writing in people.items()]
        self.label.setText("Also on this ticket: " + "; ".join(parts))
        self.label.setToolTip("Other desks with this ticket open now (updated live from the team server)")
        self.label.show()

    # -- closing ------------------------------------------------------------------------
    def leave(self) -> None:
        """The window closes: this desk is gone, and tickets it claimed but did not answer go back."""
        self._beat.stop()
        self._beats.shutdown()  # a late heartbeat must not put the desk back after it left
        if not self.team:
            return
        try:
            teamwork.leave(self.store, self.desk)
        except StoreError as exc:  # the server is away: the claims run out on their own
            log.info("desk not signed off: %s", exc)
