"""Stream a core generator's text into the UI: each delta becomes a signal on the GUI thread.

The job runs ``make(cancelled)`` — a generator of text deltas from the core (a model
stream) — on its own QThread. Deltas are coalesced: the worker appends to a buffer
and posts at most one wake-up at a time, and the GUI drains whatever has arrived,
so a burst of thousands of tokens costs a handful of event-loop turns, not
thousands. Cancel is a flag the generator checks between deltas; the generator
is closed when cancelled, which closes the HTTP stream under it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

DeltaGenerator = Generator[str, None, Any]


class _Worker(QObject):
    wake = Signal()
    done = Signal(object, object)  # result, exception

    def __init__(self, make: Callable[[Callable[[], bool]], DeltaGenerator], cancel_event: threading.Event):
        super().__init__()
        self._make = make
        self._cancel = cancel_event
        self._lock = threading.Lock()
        self._buffer: list[str] = []
        self._posted = False

    def take(self) -> str:
        with self._lock:
            text = "".join(self._buffer)
            self._buffer.clear()
            self._posted = False
        return text

    @Slot()
    def run(self) -> None:
        result: Any = None
        error: BaseException | None = None
        gen: DeltaGenerator | None = None
        try:
            gen = self._make(self._cancel.is_set)
            while True:
                if self._cancel.is_set():
                    break
                try:
                    delta = next(gen)
                except StopIteration as stop:
                    result = stop.value
                    break
                if not delta:
                    continue
                with self._lock:
                    self._buffer.append(delta)
                    post = not self._posted
                    self._posted = True
                if post:
                    self.wake.emit()
        except BaseException as exc:  # noqa: BLE001 - delivered to the GUI thread
            error = exc
        finally:
            if gen is not None:
                gen.close()
        self.done.emit(result, error)
        QThread.currentThread().quit()  # end this thread's event loop: wait() never deadlocks


class StreamJob(QObject):
    """One streaming call. Signals arrive on the GUI thread."""

    delta = Signal(str)
    finished = Signal(object)  # the generator's return value (None when cancelled)
    failed = Signal(object)  # the exception
    stopped = Signal()  # after finished/failed/cancel, always last

    def __init__(self, make: Callable[[Callable[[], bool]], DeltaGenerator], parent: QObject | None = None):
        super().__init__(parent)
        self._cancel = threading.Event()
        self._thread = QThread()
        self._worker = _Worker(make, self._cancel)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.wake.connect(self._drain)
        self._worker.done.connect(self._on_done)
        self.running = False
        self.text = ""

    def start(self) -> None:
        self.running = True
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @Slot()
    def _drain(self) -> None:
        text = self._worker.take()
        if text and not self._cancel.is_set():
            self.text += text
            self.delta.emit(text)

    @Slot(object, object)
    def _on_done(self, result: Any, error: BaseException | None) -> None:
        self._drain()
        self._thread.quit()
        self._thread.wait()
        self.running = False
        if error is not None:
            self.failed.emit(error)
        elif not self._cancel.is_set():
            self.finished.emit(result)
        self.stopped.emit()

    def wait(self, msecs: int = 10_000) -> bool:
        """Block until the worker thread ended (shutdown and tests)."""
        if not self._thread.isRunning():
            return True
        return self._thread.wait(msecs)
