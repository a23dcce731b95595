"""The window's part in keeping a team desk's knowledge replica fresh, and saying how fresh it is.

A controller, not a widget: the main window gives it the store, the knowledge panel and a way to
show a sentence, and asks it which database knowledge searches read (:meth:`KnowledgeSync.db`). On
a team server it opens the desk's replica (:mod:`agent_assist.store.knowledge_replica`) and syncs it
at start, whenever the server announces changed articles (``PostgresStore.articles_version``), and
every :data:`SYNC_EVERY_S` seconds; the panel shows "Knowledge synced 2 min ago", "Syncing
knowledge… 1,200 of 50,000" or "Offline: knowledge last synced 14:02 (search still works)". Syncs
run one at a time on their own worker, never on the UI thread. On a desk's own file the knowledge
base is the file itself: nothing to sync, nothing shown.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from agent_assist.knowledge.replica import (
    KnowledgeReplica,
    SyncCancelled,
    SyncResult,
    knowledge_db,
    open_replica,
    sync,
)
from agent_assist.store import StoreError
from agent_assist.store.backend import is_postgres
from agent_assist.store.postgres.adapter import ServerUnavailableError
from agent_assist.timefmt import parse_iso
from agent_assist.ui.tasks import CancelToken, TaskManager

log = logging.getLogger(__name__)

SYNC_EVERY_S = 5 * 60  # a sync even when no announcement came (one may be lost while the listener reconnects)
CHECK_MS = 1000  # how often the announcements' counter is read and the words refreshed


def synced_words(synced_at: str | None, *, offline: bool, now: float | None = None) -> str:
    """The panel's sentence for a replica last synced at ``synced_at`` (ISO UTC), on- or offline."""
    if synced_at is None:
        if offline:
            return "Offline: knowledge is not on this desk yet; search needs the team server."
        return "Knowledge is not on this desk yet."
    at = parse_iso(synced_at)
    if offline:
        local = at.astimezone()
        today = datetime.fromtimestamp(now if now is not None else time.time()).astimezone().date()
        when = local.strftime("%H:%M") if local.date() == today else local.strftime("%Y-%m-%d %H:%M")
        return f"Offline: knowledge last synced {when} (search still works)"
    seconds = max(0, (now if now is not None else time.time()) - at.timestamp())
    if seconds < 60:
        return "Knowledge synced just now"
    if seconds < 3600:
        return f"Knowledge synced {int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"Knowledge synced {int(seconds // 3600)} h ago"
    return f"Knowledge synced {int(seconds // 86400)} days ago"


class KnowledgeSync(QObject):
    """Keeps the replica in step with the team server; :meth:`db` is what knowledge reads go to."""

    statusChanged = Signal(str)
    """The words the panel shows changed."""
    synced = Signal(object)
    """A sync ran to its end (a :class:`SyncResult`)."""
    progressed = Signal(int, int)
    """Emitted from the worker while a sync runs (rows done, rows to do); delivered queued."""

    def __init__(self, store, panel, *, message: Callable[[str], None], parent: QObject | None = None,
                 replica: KnowledgeReplica | None = None, every_s: float = SYNC_EVERY_S):
        super().__init__(parent)
        self.store = store
        self.panel = panel
        self.message = message
        self.team = is_postgres(store)
        self.replica = replica
        self.every_s = every_s
        self.offline = False
        self.syncing = False
        self.last_result: SyncResult | None = None
        self._progress: tuple[int, int] | None = None
        self._again = False  # an announcement came while a sync ran: one more when it ends
        self._seen = -1
        self._last_try = 0.0
        self._words = ""
        self._closed = False
        self._made: KnowledgeReplica | None = None
        self._synced_at: str | None = None  # the replica's, kept here: the words refresh every second
        self._jobs = TaskManager(self, max_threads=1)  # one sync at a time, and never on the window's workers
        self._token = CancelToken()
        self.progressed.connect(self._show_progress)
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_MS)
        self._timer.timeout.connect(self.check)
        if not self.team:
            return
        if self.replica is None:
            self._jobs.run(self._open, self._opened, self._failed, owner=self, quiet=True)
        else:
            self._synced_at = self.replica.synced_at()
            self._opened(self.replica)
        self._timer.start()

    # -- what knowledge reads go to ---------------------------------------------------------
    def db(self):
        """The replica once it has synced (instant, offline, a desk's typo and compound search), else
        the store (a desk's own file, or the server until the first sync has ended)."""
        return knowledge_db(self.store, None if self._closed else self.replica)

    # -- syncing ------------------------------------------------------------------------------
    def _open(self) -> KnowledgeReplica:
        """On the worker: opening checks (and may have to make again) the file."""
        self._made = open_replica(self.store)  # closed by close() even when the window is gone by now
        self._synced_at = self._made.synced_at()
        return self._made

    def _opened(self, replica: KnowledgeReplica) -> None:
        self.replica = replica
        if replica.notice:
            self.message(replica.notice)
        self._refresh_words()
        self.sync_now()

    def check(self) -> None:
        """Each second: sync when the server announced article changes (or it is time), and keep the
        words current ("2 min ago" moves on by itself)."""
        if self.replica is None:
            return
        version = self.store.articles_version()
        online = getattr(self.store, "state", "online") == "online"
        if version != self._seen or (online and time.monotonic() - self._last_try >= self.every_s):
            self.sync_now()
        self._refresh_words()

    def sync_now(self) -> None:
        if self.replica is None or not self.team:
            return
        self._seen = self.store.articles_version()
        if self.syncing:
            self._again = True
            return
        self.syncing = True
        self._last_try = time.monotonic()
        self._progress = None
        replica, token = self.replica, self._token
        self._jobs.run(lambda: sync(self.store, replica, progress=self._report, cancel=lambda: token.cancelled),
                       self._done, self._failed, owner=self, quiet=True)
        self._refresh_words()

    def _report(self, done: int, total: int) -> None:
        """On the worker thread: queued to the UI thread while this object lives."""
        if not self._closed and not self._token.cancelled and shiboken6.isValid(self):
            self.progressed.emit(done, total)

    def _show_progress(self, done: int, total: int) -> None:
        if self._closed:  # queued before the window closed
            return
        self._progress = (done, total)
        self._refresh_words()

    def _done(self, result: SyncResult) -> None:
        self.syncing = False
        self.offline = False
        self.last_result = result
        self._synced_at = result.at
        self._progress = None
        if self.replica is not None and self.replica.notice and result.full:
            self.message(f"Knowledge copied to this desk again: {result.added:,} articles.")
            self.replica.notice = ""
        self._refresh_words()
        self.synced.emit(result)
        self._follow_up()

    def _failed(self, exc: BaseException) -> None:
        self.syncing = False
        self._progress = None
        if isinstance(exc, SyncCancelled):
            return
        if isinstance(exc, ServerUnavailableError):
            self.offline = True  # the listener reconnects; its catch-up bump brings the next sync
        elif isinstance(exc, StoreError):
            self.message(f"The knowledge copy on this desk was not updated: {exc}")
        else:
            log.error("knowledge sync failed", exc_info=exc)
            self.message(f"The knowledge copy on this desk was not updated: {exc}")
        if self.replica is None:  # it could not even be opened: searches go to the server
            self.team = False
        self._refresh_words()
        self._follow_up()

    def _follow_up(self) -> None:
        if self._again:
            self._again = False
            self.sync_now()

    # -- words ----------------------------------------------------------------------------------
    def status_text(self) -> str:
        if not self.team or self.replica is None or self._closed:
            return ""
        synced_at = self._synced_at
        if self.syncing and self._progress is not None and (synced_at is None or self._progress[1] > 200):
            done, total = self._progress
            return f"Syncing knowledge… {done:,} of {total:,}"
        if self.syncing and synced_at is None:
            return "Syncing knowledge…"
        away = self.offline or getattr(self.store, "state", "online") != "online"
        return synced_words(synced_at, offline=away)

    def _refresh_words(self) -> None:
        words = self.status_text()
        if words != self._words:
            self._words = words
            self.panel.set_sync_status(words)
            self.statusChanged.emit(words)

    def close(self) -> None:
        """Stop: a running sync ends after its batch (what it applied stays), then the file is closed."""
        self._closed = True
        self._timer.stop()
        self._token.cancel()
        self._jobs.shutdown()
        for replica in {id(r): r for r in (self.replica, self._made) if r is not None}.values():
            replica.close()
