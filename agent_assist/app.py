"""Start-up of the desktop app: the Qt application, the store, the window."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from agent_assist import APP_ID, APP_NAME, __version__, config, logs
from agent_assist.store.backend import is_team_url
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


def missing_display(env: Mapping[str, str] | None = None, qt_args: Sequence[str] = (),
                    platform: str | None = None, x11_socket_dir: str = "/tmp/.X11-unix") -> str | None:
    """Why no window can open here (Linux or BSD without a display), or None.

    Qt would abort with "could not load the Qt platform plugin xcb … xcb-cursor0 is needed", which
    sends people after a library when the real gap is the display: say so before Qt tries.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    if "-platform" in qt_args or any(a.startswith("-platform=") for a in qt_args):
        return None
    qpa = env.get("QT_QPA_PLATFORM", "")
    if qpa and not qpa.startswith(("xcb", "wayland")):
        return None  # offscreen, vnc, eglfs…: Qt needs no display server
    if qpa.startswith("wayland") and not env.get("WAYLAND_DISPLAY"):
        return ("QT_QPA_PLATFORM asks for Wayland, but no Wayland session is running (WAYLAND_DISPLAY is not "
                "set): " + _WHAT_TO_DO)
    if env.get("WAYLAND_DISPLAY") and not qpa.startswith("xcb"):
        return None
    display = env.get("DISPLAY", "")
    if not display:
        return "There is no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set): " + _WHAT_TO_DO
    if not x_server_reachable(display, socket_dir=x11_socket_dir):
        return f"No X server answers on DISPLAY={display} (it may have stopped, or the SSH forwarding ended): " \
               + _WHAT_TO_DO
    return None


_WHAT_TO_DO = ("start Agent Assist from a desktop session, under a virtual display with `xvfb-run -a agent-assist "
               "…`, or use the commands that need no window (`agent-assist --help` lists them).")


def x_server_reachable(display: str, *, socket_dir: str = "/tmp/.X11-unix", timeout: float = 1.0) -> bool:
    """Whether an X server accepts a connection for ``display`` ("[host]:N[.screen]"); Qt would
    otherwise abort with a message about libraries. Unparseable values are left to Qt."""
    import re
    import socket

    match = re.fullmatch(r"(?:(?P<host>[^:]*?)(?:/unix)?)?:(?P<num>\d+)(?:\.\d+)?", display.strip())
    if match is None:
        return True
    host, num = match.group("host") or "", int(match.group("num"))
    if host in ("", "unix") or host.startswith("/"):
        paths = [host] if host.startswith("/") else []
        paths += [f"{socket_dir}/X{num}"]
        candidates = ([f"\0{socket_dir}/X{num}"] if sys.platform.startswith("linux") else []) + paths
        for path in candidates:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                try:
                    sock.connect(path)
                except OSError:
                    continue
                return True
        return False
    try:
        with socket.create_connection((host, 6000 + num), timeout=timeout):
            return True
    except OSError:
        return False


def explain_missing_display(qt_args: Sequence[str] = ()) -> bool:
    """False (after one sentence on stderr) when no window can open here."""
    problem = missing_display(qt_args=qt_args)
    if problem is not None:
        print(f"agent-assist: {problem}", file=sys.stderr)
    return problem is None


def ask_to_create_folder(path: Path) -> bool:
    """Ask before making the folders of a database the person named; False when they say no."""
    box = QMessageBox(QMessageBox.Icon.Question, f"Create a new database for {APP_NAME}?",
                      f"The folder {path.parent} does not exist.\n\nCreate it and a new, empty database "
                      f"{path.name} in it? If the path has a typo, choose No and start again with the right one.",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes


def folder_ready(path: Path, ask: Callable[[Path], bool] | None) -> bool:
    """True when ``path``'s folder exists, or the person agreed to create it (nothing is created unasked).

    ``ask`` is None when there is no person to ask (the offscreen or minimal platform): the answer is no.
    """
    if path.parent.is_dir():
        return True
    agreed = ask is not None and ask(path)
    if not agreed:
        print(f"agent-assist: the folder {path.parent} does not exist, so no database was created there; "
              "create the folder first, or check the path.", file=sys.stderr)
    return agreed


def open_store_or_explain(path: Path) -> Store | None:
    """Open the database; on failure tell the person why in a dialog and return None."""
    try:
        return Store(path)
    except StoreError as exc:
        print(f"agent-assist: {exc}", file=sys.stderr)
        if QApplication.platformName() not in ("offscreen", "minimal"):  # a person is looking
            QMessageBox.critical(None, f"{APP_NAME} cannot open the database", str(exc))
        return None


def open_team_store_or_explain(url: str, *, password: str | None = None, keep_password: bool = True):
    """Sign in to a team server as the login in ``url``: with ``password``, else the one from the URL,
    the keyring or $AGENT_ASSIST_TEAM_PASSWORD, else asked for. A password the person typed is kept in
    the keyring (unless ``keep_password`` is False). None, said in words, on failure."""
    from PySide6.QtWidgets import QInputDialog, QLineEdit

    from agent_assist.store.postgres import sign_in
    from agent_assist.store.postgres.connect import describe
    from agent_assist.store.postgres.store import PostgresStore

    nobody_looks = QApplication.platformName() in ("offscreen", "minimal")
    asked = bool(password) and password != sign_in.stored_password(url)
    password = password or sign_in.stored_password(url)
    while True:
        try:
            store = PostgresStore(url, password=password)
        except StoreError as exc:
            if not nobody_looks and sign_in.is_bad_password(str(exc)):
                prompt = ("That password was not accepted. " if password else "") + f"Password for {describe(url)}:"
                text, ok = QInputDialog.getText(None, f"Sign in to the team server — {APP_NAME}", prompt,
                                                QLineEdit.EchoMode.Password)
                if not ok:
                    return None
                password, asked = text, True
                continue
            print(f"agent-assist: {exc}", file=sys.stderr)
            if not nobody_looks:
                QMessageBox.critical(None, f"{APP_NAME} cannot open the team database", str(exc))
            return None
        if asked and password and keep_password:
            why = sign_in.remember_password(url, password)
            if why:
                log.warning("%s", why)
        config.remember_team(sign_in.without_password(url))  # the window starts here next time
        return store


def choose_profile(store: Store, suggested: str):
    """Ask who is working when nobody said (--user): a profile's name, a :class:`TeamChoice` (the person
    connects to a team server instead), or None when cancelled."""
    from agent_assist.store import people
    from agent_assist.store.errors import InvalidTransitionError
    from agent_assist.ui.profile_dialog import ProfileDialog

    existing = people.profiles(store.db)
    if QApplication.platformName() in ("offscreen", "minimal"):
        return suggested
    # an empty database asks too: its first profile may be the supervisor who sets the team up
    dialog = ProfileDialog(existing, suggested, allow_supervisor=not people.has_supervisor(store.db),
                           team_url=config.last_team())
    while True:
        if dialog.exec() != ProfileDialog.DialogCode.Accepted:
            return None
        if dialog.team is not None:
            return dialog.team
        name, role = dialog.choice()
        if not name:
            return None
        if role is None:
            return name
        if people.get_profile(store.db, name) is not None:
            QMessageBox.warning(dialog, "Profile not saved",
                                f"A profile named {name} exists already; pick it from the list.")
            continue
        try:
            people.save_profile(store, name, role, actor=name)
        except InvalidTransitionError as exc:
            QMessageBox.warning(dialog, "Profile not saved", str(exc))
            continue
        return name


def run(db_path: Path | str, *, user: str | None, default_user: str = "agent",
        qt_args: list[str] | None = None, quit_after_ms: int | None = None, ask_folder: bool = False) -> int:
    """Start the app on ``db_path``. ``ask_folder``: the path was named by the person (``--db`` or the
    environment), so missing folders are asked about, not created silently."""
    if not explain_missing_display(qt_args or ()):
        return 2
    from agent_assist.ui.main_window import MainWindow

    log_file = logs.setup_logging()
    logs.log_uncaught_exceptions()
    private_files.secure_own_folders()  # customers' data: 0700 folders, 0600 files, fixed at each start
    log.info("%s %s starting; log file %s", APP_NAME, __version__, log_file)
    app = make_application(qt_args)
    nobody_looks = QApplication.platformName() in ("offscreen", "minimal")
    if is_team_url(db_path):  # who is working is the database login, never a name picked here
        store = open_team_store_or_explain(str(db_path))
        if store is None:
            return 2
        user = store.user
    else:
        db_path = Path(db_path)
        if ask_folder and not folder_ready(db_path, None if nobody_looks else ask_to_create_folder):
            return 2
        store = open_store_or_explain(db_path)
        if store is None:
            return 2
        config.remember_db(db_path)  # the commands (kb search, audit verify …) use this one next
    if user is None:
        picked = choose_profile(store, default_user)
        if picked is None:
            store.close()
            return 0
        if isinstance(picked, str):
            user = picked
        else:  # "Team server…": this desk's file is left for the shared server
            store.close()
            store = open_team_store_or_explain(picked.url, password=picked.password,
                                               keep_password=picked.keep_password)
            if store is None:
                return 2
            user = store.user
    window = MainWindow(store, user=user, settings=QSettings())
    window.show()
    if quit_after_ms is not None:  # tests and the bundle smoke test: close as a person would, then exit
        QTimer.singleShot(max(0, quit_after_ms), window.close)
    try:
        return app.exec()
    finally:
        window.close()  # however the loop ended: background work is stopped before the store closes
        store.close()
