"""Start-up of the desktop app: the Qt application, the store, the window."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from agent_assist import APP_ID, APP_NAME, __version__, logs
from agent_assist.store import Store, StoreError, private_files

log = logging.getLogger(__name__)
DESKTOP_ID = "io.github.agent_assist.AgentAssist"  # packaging/linux/<DESKTOP_ID>.desktop, the icon's name


def resource_path(*parts: str) -> Path:
    try:
        from importlib.resources import files

        p = Path(str(files("agent_assist.resources").joinpath(*parts)))
        if p.exists():
            return p
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[1].joinpath("resources", *parts)


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    QCoreApplication.setOrganizationName(APP_ID)
    QCoreApplication.setApplicationName(APP_ID)
    QCoreApplication.setApplicationVersion(__version__)
    app.setApplicationDisplayName(APP_NAME)
    app.setDesktopFileName(DESKTOP_ID)  # Wayland app id: the compositor finds the .desktop entry and icon
    icon = QIcon()
    for png in sorted(resource_path("icons", "hicolor").glob(f"*/apps/{DESKTOP_ID}.png")):
        icon.addFile(str(png))  # 16..512 px, rendered by packaging/make-icons.py: no SVG plugin needed
    svg = resource_path("icons", "agent-assist.svg")
    if icon.isNull() and svg.exists():
        icon = QIcon(str(svg))
    if not icon.isNull():
        app.setWindowIcon(icon)
    style = resource_path("style.qss")
    if style.exists():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    return app


def open_store_or_explain(path: Path) -> Store | None:
    """Open the database; on failure tell the person why in a dialog and return None."""
    try:
        return Store(path)
    except StoreError as exc:
        print(f"agent-assist: {exc}", file=sys.stderr)
        if QApplication.platformName() not in ("offscreen", "minimal"):  # a person is looking
            QMessageBox.critical(None, f"{APP_NAME} cannot open the database", str(exc))
        return None


def choose_profile(store: Store, suggested: str) -> str | None:
    """Ask who is working when profiles exist and nobody said (--user); None when cancelled."""
    from agent_assist.store import people
    from agent_assist.ui.profile_dialog import ProfileDialog

    existing = people.profiles(store.db)
    if not existing or QApplication.platformName() in ("offscreen", "minimal"):
        return suggested
    dialog = ProfileDialog(existing, suggested)
    if dialog.exec() != ProfileDialog.DialogCode.Accepted:
        return None
    name, role = dialog.choice()
    if not name:
        return None
    if role is not None:
        people.save_profile(store, name, role, actor=name)
    return name


def run(db_path: Path, *, user: str | None, default_user: str = "agent",
        qt_args: list[str] | None = None, quit_after_ms: int | None = None) -> int:
    from agent_assist.ui.main_window import MainWindow

    log_file = logs.setup_logging()
    logs.log_uncaught_exceptions()
    private_files.secure_own_folders()  # customers' data: 0700 folders, 0600 files, fixed at each start
    log.info("%s %s starting; log file %s", APP_NAME, __version__, log_file)
    app = make_application(qt_args)
    store = open_store_or_explain(db_path)
    if store is None:
        return 2
    if user is None:
        user = choose_profile(store, default_user)
        if user is None:
            store.close()
            return 0
    window = MainWindow(store, user=user, settings=QSettings())
    window.show()
    if quit_after_ms is not None:  # tests and the bundle smoke test: close as a person would, then exit
        QTimer.singleShot(max(0, quit_after_ms), window.close)
    try:
        return app.exec()
    finally:
        window.close()  # however the loop ended: background work is stopped before the store closes
        store.close()
