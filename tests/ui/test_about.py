"""Help ▸ About: version, paths, Qt's version, and "Copy diagnostics" without customer data."""

from __future__ import annotations

from pathlib import Path

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QGuiApplication

from agent_assist import __version__, config
from agent_assist.store import Store
from agent_assist.ui import about_dialog
from agent_assist.ui.about_dialog import AboutDialog


def make(qtbot, **kwargs) -> AboutDialog:
    dialog = AboutDialog(**kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_shows_version_paths_and_qt(qtbot, small_store: Store):
    dialog = make(qtbot, store=small_store)
    assert dialog.windowTitle() == "About Agent Assist"
    assert __version__ in dialog.title.text()
    shown = {label: field.text() for label, field in dialog.paths.items()}
    assert shown["Version"] == __version__
    assert shown["Database"] == str(small_store.path)
    assert shown["Data folder"] == str(config.data_dir())
    assert shown["Config folder"] == str(config.config_dir())
    assert shown["Log folder"] == str(config.log_dir())
    assert qVersion() in shown["Qt"] and PySide6.__version__ in shown["Qt"]


def test_copy_diagnostics_puts_them_on_the_clipboard_without_customer_data(qtbot, small_store: Store, monkeypatch):
    monkeypatch.setenv("AGENT_ASSIST_API_KEY", "sk-test-abcdefghijklmnopqrstuvwxyz")
    dialog = make(qtbot, store=small_store)
    with qtbot.waitSignal(dialog.diagnosticsCopied) as blocker:
        qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    text = blocker.args[0]
    assert QGuiApplication.clipboard().text() == text
    assert "copied" in dialog.status.text()
    assert text.startswith("Agent Assist diagnostics")
    for expected in (__version__, "PySide6:", PySide6.__version__, "Qt (runtime):", qVersion(),
                     "Qt platform:", "offscreen", "SQLite:", "Tickets:", "Articles:", str(small_store.path)):
        assert expected in text
    for private in ("tom@example.co.uk", "anna@example.se", "Maria García", "Late fee charged twice",
                    "Compra no reconocida", "sk-test", "abcdefghijklmnop"):
        assert private not in text


def test_works_with_only_a_database_path_and_never_creates_it(qtbot, tmp_path: Path):
    missing = tmp_path / "not-yet.db"
    dialog = make(qtbot, db_path=missing)
    assert dialog.paths["Database"].text() == str(missing)
    assert "does not exist yet" in dialog.copy_diagnostics()
    assert not missing.exists()


def test_open_log_folder_creates_and_opens_it(qtbot, tmp_path: Path, monkeypatch):
    opened = []
    monkeypatch.setattr(about_dialog.QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    dialog = make(qtbot, log_file=tmp_path / "logs" / "agent-assist.log")
    qtbot.mouseClick(dialog.open_logs_button, Qt.MouseButton.LeftButton)
    assert (tmp_path / "logs").is_dir()
    assert [u.toLocalFile() for u in opened] == [str(tmp_path / "logs")]


def test_close_button_closes(qtbot):
    dialog = make(qtbot)
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_help_about_in_the_main_window_opens_this_dialog(qtbot, small_store: Store, tmp_path: Path):
    from PySide6.QtCore import QSettings

    from agent_assist.ui import main_window

    window = main_window.MainWindow(small_store, user="alex",
                                    settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    try:
        window.show_about()
        qtbot.waitExposed(window.about)
        assert isinstance(window.about, AboutDialog) and window.about.isModal()
        assert window.about.paths["Database"].text() == str(small_store.path)
        window.about.close()
    finally:
        window.close()
