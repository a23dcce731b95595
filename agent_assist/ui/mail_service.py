"""The support mailbox, live: a watcher thread syncing new mail into the store and delivering the outbox.

New tickets reach the screen the usual way (the window follows the database file).
This object only runs the core's ``watch`` loop off the UI thread, reports its state,
and delivers replies after each send and each sync.
"""

from __future__ import annotations

import logging
import threading

import shiboken6
from PySide6.QtCore import QObject, Signal

from agent_assist.channels.email.config import MailboxConfig, get_password
from agent_assist.channels.email.imap_sync import sync
from agent_assist.channels.email.smtp_send import deliver_pending
from agent_assist.channels.email.fetcher import watch_as_one_desk
from agent_assist.channels.email.watcher import WatchEvent
from agent_assist.store import Store, teamwork

log = logging.getLogger(__name__)


class MailService(QObject):
    status = Signal(str, str)  # kind, message (emitted from the watcher thread; delivered queued)
    progress = Signal(int, int)  # done, total: the first sync of what is waiting in the mailbox
    delivered = Signal(object)  # DeliveryReport

    def __init__(self, store: Store, mailbox: MailboxConfig, parent: QObject | None = None, *,
                 desk: str | None = None):
        super().__init__(parent)
        self.store = store
        self.mailbox = mailbox
        self.desk = desk or teamwork.new_desk_id()  # the name this window holds the mailbox's lease under
        self._stop = threading.Event()
        self._deliver_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._deliveries: list[threading.Thread] = []
        self.last_status = ("", "")
        self.status.connect(lambda kind, message: setattr(self, "last_status", (kind, message)))

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="mail-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # on a team server one desk fetches the mailbox and the others stand by (channels/email/fetcher.py)
        watch_as_one_desk(self.store, self.mailbox, lambda: get_password(self.mailbox, "imap"), desk=self.desk,
                          stop=self._stop, on_event=self._event, on_acquired=self._catch_up,
                          on_synced=lambda _report: self.deliver())
        if self._stop.is_set():
            self._emit(self.status, "stopped", "Mailbox paused.", even_stopped=True)

    def _catch_up(self, stop: threading.Event) -> None:
        """Catch up first, with progress (a big mailbox takes a while; pausing keeps what was done)."""
        try:
            sync(self.store, self.mailbox, get_password(self.mailbox, "imap"),
                 progress=lambda done, total: self._emit(self.progress, done, total), cancel=stop)
        except Exception as exc:  # noqa: BLE001 - the watcher reports and retries connection trouble
            log.info("First mail sync did not finish: %s", exc)

    def _emit(self, signal, *args, even_stopped: bool = False) -> None:
        """Emit from a worker thread only while this object (and so its window) is alive."""
        if (even_stopped or not self._stop.is_set()) and shiboken6.isValid(self):
            signal.emit(*args)

    def _event(self, event: WatchEvent) -> None:
        self._emit(self.status, event.kind, event.message)

    def deliver(self) -> None:
        """Send what the outbox holds (safe to call from any thread; one delivery at a time)."""
        if not self._deliver_lock.acquire(blocking=False):
            return
        try:
            report = deliver_pending(self.store, self.mailbox, get_password(self.mailbox, "imap"),
                                     smtp_password=get_password(self.mailbox, "smtp"))
            self._emit(self.delivered, report, even_stopped=True)
        except Exception:  # noqa: BLE001 - the outbox keeps the row and retries; never lose the thread
            log.exception("Delivering the outbox failed")
        finally:
            self._deliver_lock.release()

    def deliver_soon(self) -> None:
        thread = threading.Thread(target=self.deliver, name="mail-deliver", daemon=True)
        self._deliveries = [t for t in self._deliveries if t.is_alive()] + [thread]
        thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for thread in self._deliveries:  # a send in flight finishes (the outbox keeps it exactly-once)
            thread.join(timeout)
        self._deliveries = []
