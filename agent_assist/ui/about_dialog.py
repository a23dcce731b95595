"""Help ▸ About: the version, where things live on disk, Qt's version, and "Copy diagnostics".

The diagnostics text comes from :func:`agent_assist.logs.diagnostics` (versions, platform,
paths, database schema and counts — no customer text, no keys) with Qt's own versions added here,
because the core never imports Qt.
"""

from __future__ import annotations

import html
from pathlib import Path

import PySide6
from PySide6.QtCore import Qt, QUrl, Signal, qVersion
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agent_assist import APP_NAME, __version__, config, logs
from agent_assist.store import Store


def qt_facts() -> list[tuple[str, str]]:
    """Qt's versions and the platform plugin in use, for diagnostics."""
    return [
        ("PySide6", PySide6.__version__),
        ("Qt (runtime)", qVersion()),
        ("Qt platform", QGuiApplication.platformName() or "-"),
    ]


class AboutDialog(QDialog):
    diagnosticsCopied = Signal(str)
    """The diagnostics text was put on the clipboard."""

    def __init__(self, *, store: Store | None = None, db_path: Path | None = None, log_file: Path | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        self.setObjectName("aboutDialog")
        self.store = store
        self.db_path = Path(store.path) if store is not None else (Path(db_path) if db_path else None)
        self.log_dir = Path(log_file).parent if log_file else config.log_dir()

        title = QLabel(f"<h2>{html.escape(APP_NAME)} {html.escape(__version__)}</h2>"
                       "<p>Live queue, knowledge snippets and AI-drafted replies that a person approves.</p>")
        title.setObjectName("aboutTitle")
        title.setWordWrap(True)
        self.title = title

        self.paths: dict[str, QLabel] = {}
        form = QFormLayout()
        rows = [("Version", __version__),
                ("Qt", f"{qVersion()} (PySide6 {PySide6.__version__})"),
                ("Data folder", str(config.data_dir())),
                ("Config folder", str(config.config_dir())),
                ("Log folder", str(self.log_dir)),
                ("Database", str(self.db_path) if self.db_path else "—")]
        for label, value in rows:
            field = QLabel(value)
            field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            field.setAccessibleName(label)
            field.setWordWrap(True)
            self.paths[label] = field
            form.addRow(f"{label}:", field)

        self.copy_button = QPushButton("Copy &diagnostics")
        self.copy_button.setObjectName("copyDiagnostics")
        self.copy_button.setToolTip("Versions, platform, paths and database counts for a bug report — "
                                    "no customer data or keys")
        self.copy_button.clicked.connect(self.copy_diagnostics)
        self.open_logs_button = QPushButton("Open &log folder")
        self.open_logs_button.clicked.connect(self.open_log_folder)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.open_logs_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        self.status = QLabel("")
        self.status.setObjectName("aboutStatus")

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)

    def diagnostics_text(self) -> str:
        return logs.diagnostics(self.db_path, store=self.store, extra=qt_facts())

    def copy_diagnostics(self) -> str:
        text = self.diagnostics_text()
        QGuiApplication.clipboard().setText(text)
        self.status.setText("Diagnostics copied to the clipboard.")
        self.diagnosticsCopied.emit(text)
        return text

    def open_log_folder(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.log_dir)))
