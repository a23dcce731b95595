"""One gateway for background work.

``TaskManager.run(fn, on_done, on_error)`` runs ``fn()`` on a pool thread and
calls ``on_done(result)`` or ``on_error(exc)`` back on the GUI thread. Jobs never
touch widgets; they call the core, which opens its own per-thread SQLite
connection. A job submitted under a *key* supersedes any earlier job with the
same key: the earlier one's result is dropped (and its cancel flag set), which
is how opening another ticket abandons the previous ticket's work.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


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


class TaskManager(QObject):
    """Runs core calls off the GUI thread and delivers their results back on it."""

    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None, max_threads: int = 4):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._relay = _Relay()
        self._relay.finished.connect(self._on_finished)
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[Callable[[Any], None] | None, Callable[[BaseException], None] | None, CancelToken]] = {}
        self._by_key: dict[str, int] = {}

    def run(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None, *, key: str | None = None,
            token: CancelToken | None = None) -> CancelToken:
        token = token or CancelToken()
        job_id = next(self._ids)
        if key is not None:
            previous = self._by_key.get(key)
            if previous in self._pending:
                self._pending[previous][2].cancel()
            self._by_key[key] = job_id
        self._pending[job_id] = (on_done, on_error, token)
        if len(self._pending) == 1:
            self.busyChanged.emit(True)
        self._pool.start(_Job(job_id, fn, self._relay))
        return token

    @Slot(int, object, object)
    def _on_finished(self, job_id: int, result: Any, exc: BaseException | None) -> None:
        on_done, on_error, token = self._pending.pop(job_id, (None, None, None))
        if not self._pending:
            self.busyChanged.emit(False)
        if token is None or token.cancelled:
            return
        if exc is not None:
            if on_error is not None:
                on_error(exc)
            else:
                log.error("background job failed", exc_info=exc)
        elif on_done is not None:
            on_done(result)

    def cancel_all(self) -> None:
        for _, _, token in self._pending.values():
            token.cancel()

    def is_busy(self) -> bool:
        return bool(self._pending)

    def wait(self, msecs: int = 10_000) -> bool:
        """Block until every job has finished (used at shutdown and in tests)."""
        return self._pool.waitForDone(msecs)

    def shutdown(self) -> None:
        self.cancel_all()
        self.wait()
