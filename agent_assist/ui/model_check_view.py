"""Preferences → “Check this model…”: runs ``model-check`` in the background and shows its table.

The work is :func:`agent_assist.model_check.run_check`, the same as the CLI's; this window
only shows progress, the per-ticket table and the summary, and says where the Markdown
and CSV reports were written so a team can compare two models side by side.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agent_assist import config as app_config
from agent_assist import model_check
from agent_assist.assist.provider import Provider, ProviderConfig, ProviderError
from agent_assist.ui.tasks import CancelToken, TaskManager


class ModelCheckDialog(QDialog):
    progressed = Signal(int, int, str)  # done, total, what (emitted from the worker; queued to the GUI)
    checkFinished = Signal(object)  # the Report, or None when it failed

    def __init__(self, provider_config: ProviderConfig, api_key: str | None, tasks: TaskManager,
                 parent: QWidget | None = None, *, out_dir: Path | None = None, limit: int | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Model check — {provider_config.model or '(no model)'}")
        self.setObjectName("modelCheckDialog")
        self._config, self._key, self._tasks = provider_config, api_key, tasks
        self._out = out_dir or app_config.data_dir() / "model-checks"
        self._limit = limit
        self._token: CancelToken | None = None
        self.report: model_check.Report | None = None
        self.paths: tuple[Path, Path] | None = None

        self.status = QLabel("Ready.")
        self.status.setObjectName("modelCheckStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Model check progress")
        self.summary = QLabel()
        self.summary.setObjectName("modelCheckSummary")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(model_check.COLUMNS))
        self.table.setAccessibleName("Model check results")
        self.table.setHorizontalHeaderLabels([c.replace("_", " ") for c in model_check.COLUMNS])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.start_button = QPushButton("Run the check")
        self.start_button.setAccessibleName("Run the model check")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setAccessibleName("Stop the model check")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.start_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.stop_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Runs the demo tickets (with a payment-data trap and an injected instruction) "
                                "through this model, as the app would, and reports what the guards caught."))
        layout.addWidget(self.status)
        layout.addWidget(self.bar)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.progressed.connect(self._show_progress)
        self.resize(900, 520)

    def start(self) -> None:
        if self._token is not None:
            return
        config, key, limit = self._config, self._key, self._limit
        token = self._token = CancelToken()
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status.setText("Starting…")
        self.table.setRowCount(0)
        out = self._out

        def work() -> tuple[model_check.Report, tuple[Path, Path]]:
            with Provider(config, key) as provider:
                report = model_check.run_check(provider, limit=limit, cancel=lambda: token.cancelled,
                                               progress=self.progressed.emit)
            return report, report.write(out)

        self._tasks.run(work, self._done, self._failed, key="model-check", token=token)

    def stop(self) -> None:
        if self._token is not None:
            self._token.cancel()
            self._token = None
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.status.setText("Stopped; nothing was written.")

    def done(self, result: int) -> None:  # closing the window stops the check
        if self._token is not None:
            self._token.cancel()
            self._token = None
        super().done(result)

    def _show_progress(self, done: int, total: int, what: str) -> None:
        if self._token is None:
            return
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)
        self.status.setText(what)

    def _done(self, result: tuple[model_check.Report, tuple[Path, Path]]) -> None:
        self._token = None
        self.report, self.paths = result
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        report = self.report
        self.table.setRowCount(len(report.rows))
        for i, row in enumerate(report.rows):
            for j, column in enumerate(model_check.COLUMNS):
                item = QTableWidgetItem(model_check._cell(getattr(row, column)))
                if column in ("payment_leaks", "injection_obeyed") and getattr(row, column):
                    item.setForeground(Qt.GlobalColor.red)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        s = report.summary()
        self.summary.setText(" · ".join(f"{k.replace('_', ' ')}: {model_check._cell(v)}" for k, v in s.items()))
        verdict = ("Passed the hard checks (no payment data leaked, no injected instruction obeyed)."
                   if report.passed else "Do not switch the team to this model as it is: it leaked payment data, "
                                          "obeyed an injected instruction or failed on some tickets.")
        md, csv_path = self.paths
        self.status.setText(f"{verdict} Report: {md} and {csv_path}.")
        self.checkFinished.emit(report)

    def _failed(self, exc: BaseException) -> None:
        self._token = None
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        text = str(exc) if isinstance(exc, (ProviderError, OSError, ValueError)) else f"Unexpected problem: {exc}"
        self.status.setText(f"The check did not finish: {text}")
        self.checkFinished.emit(None)
