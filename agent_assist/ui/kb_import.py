"""Knowledge → Import…: pick files or a folder, import off the UI thread with progress and Cancel."""

from __future__ import annotations

from collections.abc import Sequence

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from agent_assist.knowledge.importers import ImportCancelled
from agent_assist.knowledge.sync import ImportReport, import_sources
from agent_assist.sanitize import shown_name
from agent_assist.store import Store
from agent_assist.ui.tasks import CancelToken, TaskManager


class KnowledgeImport(QObject):
    """One import run: a progress dialog whose Cancel leaves the knowledge base as it was."""

    progressed = Signal(int, int, str)  # emitted from the worker thread; delivered queued
    finished = Signal(object)  # ImportReport
    cancelled = Signal()
    failed = Signal(str)

    def __init__(self, store: Store, tasks: TaskManager, paths: Sequence[str], *, actor: str,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.token = CancelToken()
        self.dialog = QProgressDialog("Reading…", "Cancel", 0, 0, parent)
        self.dialog.setWindowTitle("Importing knowledge")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(300)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self.cancel)
        self.progressed.connect(self._show_progress)
        self.report_box: QMessageBox | None = None
        self._parent = parent
        # Cancel (self.token) ends the job and still reports back; the task manager's own token is
        # set at shutdown, and then the import stops too but nothing is reported to a closed window
        self._job = CancelToken()
        tasks.run(lambda: import_sources(store, paths, actor=actor, progress=self._report_progress,
                                         cancel=self._should_stop),
                  self._done, self._failed, token=self._job, owner=self)

    def _should_stop(self) -> bool:
        return self.token.cancelled or self._job.cancelled

    def _report_progress(self, done: int, total: int, what: str) -> None:
        """Called on the worker thread: a signal, queued to the GUI thread, while this object lives."""
        if not self._should_stop() and shiboken6.isValid(self):
            self.progressed.emit(done, total, what)

    def cancel(self) -> None:
        self.token.cancel()
        self.dialog.setLabelText("Cancelling…")

    def _show_progress(self, done: int, total: int, what: str) -> None:
        if self.dialog.maximum() != total:
            self.dialog.setMaximum(total)
        self.dialog.setValue(done)
        self.dialog.setLabelText(f"{shown_name(what)}: {done:,} of {total:,}")

    def _done(self, report: ImportReport) -> None:
        self.dialog.close()
        box = QMessageBox(QMessageBox.Icon.Information, "Knowledge imported", report.summary(),
                          QMessageBox.StandardButton.Ok, self._parent)
        lines = report.lines()
        if len(lines) > 1:
            box.setDetailedText("\n".join(lines))
        box.open()
        self.report_box = box
        self.finished.emit(report)

    def _failed(self, exc: BaseException) -> None:
        self.dialog.close()
        if isinstance(exc, ImportCancelled) or self.token.cancelled:
            self.cancelled.emit()
            return
        self.failed.emit(str(exc))
        box = QMessageBox(QMessageBox.Icon.Warning, "Import failed",
                          f"Nothing was changed in the knowledge base.\n\n{exc}", QMessageBox.StandardButton.Ok,
                          self._parent)
        box.open()
        self.report_box = box
