"""One gateway for background work.

``TaskManager.run(fn, on_done, on_error, owner=widget)`` runs ``fn()`` on a pool
thread and calls ``on_done(result)`` or ``on_error(exc)`` back on the GUI thread.
Jobs never touch widgets; they call the core, which opens its own per-thread
SQLite connection. A job submitted under a *key* supersedes any earlier job with
the same key: the earlier one's result is dropped (and its cancel flag set), which
is how opening another ticket abandons the previous ticket's work.

Results never reach something that went away: a callback is dropped when its
owner (given, or the QObject a bound-method callback belongs to) was deleted,
after ``shutdown()``, and when the job failed only because the store was closed
under it. ``run()`` after ``shutdown()`` starts nothing.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from agent_assist.store.errors import StoreClosedError

log = logging.getLogger(__name__)

SHUTDOWN_WAIT_MS = 30_000


class CancelToken:
    """A flag a job checks between steps; set when the job is superseded or cancelled."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class _Relay(QObject):
    finished = Signal(int, object, object)  # job id, result, exception


class _Job(QRunnable):
    def __init__(self, job_id: int, fn: Callable[[], Any], relay: _Relay):
        super().__init__()
        self.job_id = job_id
        self.fn = fn
        self.relay = relay
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result = self.fn()
        except BaseException as exc:  # noqa: BLE001 - delivered to the GUI thread
            self.relay.finished.emit(self.job_id, None, exc)
        else:
            self.relay.finished.emit(self.job_id, result, None)


@dataclass
class _Pending:
    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None
    token: CancelToken
    owners: tuple[QObject, ...]
    quiet: bool = False  # housekeeping (a heartbeat): not shown as "working…"

    def owner_gone(self) -> bool:
        return any(not shiboken6.isValid(o) for o in self.owners)


def _owners_of(*callbacks: Callable | None, owner: QObject | None) -> tuple[QObject, ...]:
    found = [owner] if owner is not None else []
    for cb in callbacks:
        bound_to = getattr(cb, "__self__", None)
        if isinstance(bound_to, QObject) and all(bound_to is not o for o in found):
            found.append(bound_to)
    return tuple(found)


class TaskManager(QObject):
    """Runs core calls off the GUI thread and delivers their results back on it."""

    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None, max_threads: int = 4):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._relay = _Relay()  # not parented: jobs still running may emit on it after we are gone
        self._relay.finished.connect(self._on_finished)
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._by_key: dict[str, int] = {}
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def run(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None, *, key: str | None = None,
            token: CancelToken | None = None, owner: QObject | None = None, quiet: bool = False) -> CancelToken:
        """Run ``fn`` in the pool; deliver to ``on_done``/``on_error`` unless *owner* is gone by then.

        A ``quiet`` job (housekeeping the person did not ask for) does not make the window "working…"."""
        token = token or CancelToken()
        if self._closed:
            log.debug("background job %r not started: the task manager is shut down", key)
            token.cancel()
            return token
        job_id = next(self._ids)
        if key is not None:
            previous = self._by_key.get(key)
            if previous in self._pending:
                self._pending[previous].token.cancel()
            self._by_key[key] = job_id
        was_busy = self._loud()
        self._pending[job_id] = _Pending(on_done, on_error, token, _owners_of(on_done, on_error, owner=owner), quiet)
        if not was_busy and not quiet:
            self.busyChanged.emit(True)
        self._pool.start(_Job(job_id, fn, self._relay))
        return token

    @Slot(int, object, object)
    def _on_finished(self, job_id: int, result: Any, exc: BaseException | None) -> None:
        pending = self._pending.pop(job_id, None)
        if self._closed or not shiboken6.isValid(self):
            return
        if pending is not None and not pending.quiet and not self._loud():
            self.busyChanged.emit(False)
        if pending is None or pending.token.cancelled:
            return
        if pending.owner_gone():
            log.debug("background job %d finished after its owner went away; result dropped", job_id)
            return
        if exc is not None:
            if isinstance(exc, StoreClosedError):
                log.info("background job %d ended because the store was closed", job_id)
            elif pending.on_error is not None:
                pending.on_error(exc)
            else:
                log.error("background job failed", exc_info=exc)
        elif pending.on_done is not None:
            pending.on_done(result)

    def cancel(self, *keys: str) -> None:
        """Drop the results of the jobs last started under these keys (a controller stopping its own work)."""
        for key in keys:
            job_id = self._by_key.get(key)
            if job_id in self._pending:
                self._pending[job_id].token.cancel()

    def cancel_all(self) -> None:
        for pending in self._pending.values():
            pending.token.cancel()

    def _loud(self) -> bool:
        return any(not p.quiet for p in self._pending.values())

    def is_busy(self) -> bool:
        return bool(self._pending)

    def wait(self, msecs: int = 10_000) -> bool:
        """Block until every job has finished (used at shutdown and in tests)."""
        return self._pool.waitForDone(msecs)

    def shutdown(self) -> None:
        """Cancel everything, accept no more work, wait for running jobs and drop their results."""
        self._closed = True
        self.cancel_all()
        if not self.wait(SHUTDOWN_WAIT_MS):
            log.warning("background jobs still running %d s after shutdown", SHUTDOWN_WAIT_MS // 1000)
        self._pending.clear()
        self._by_key.clear()
