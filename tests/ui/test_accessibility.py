"""Every control a person can reach has a name a screen reader can say."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from agent_assist.store import Store
from agent_assist.ui.settings_dialog import SettingsDialog
from tests.ui.conftest import wait_loaded

CONTROLS = (QAbstractButton, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit, QAbstractItemView, QAbstractSpinBox)


def unnamed(root: QWidget) -> list[str]:
    missing = []
    for w in root.findChildren(QWidget):
        if not isinstance(w, CONTROLS) or w.parent() is None:
            continue
        if isinstance(w, QHeaderView) or isinstance(w.parent(), (QLineEdit, QAbstractSpinBox, QComboBox)) \
                or w.objectName().startswith("qt_") or type(w).__name__ == "QTableCornerButton" \
                or w.parent().metaObject().className() == "QComboBoxPrivateContainer":
            continue  # Qt's own parts of composite widgets (headers, clear buttons, combo popups)
        name = w.accessibleName() or (w.text() if isinstance(w, QAbstractButton) else "")
        if not name.strip():
            missing.append(f"{type(w).__name__} {w.objectName() or ''} in {type(w.parent()).__name__}")
    return missing


def test_main_window_controls_are_named(small_store: Store, make_window, qtbot):
    w = make_window(small_store)
    wait_loaded(qtbot, w)
    assert unnamed(w) == [], unnamed(w)


def test_side_windows_and_dialogs_are_named(small_store: Store, make_window, qtbot):
    w = make_window(small_store)
    wait_loaded(qtbot, w)
    for window in (w.show_review(), w.show_dashboard()):
        assert unnamed(window) == [], unnamed(window)
    dialog = SettingsDialog(w.app_settings, w.tasks, w, store=small_store, user="alex")
    qtbot.addWidget(dialog)
    assert unnamed(dialog) == [], unnamed(dialog)


def test_every_menu_action_is_listed_with_its_shortcut(small_store: Store, make_window):
    w = make_window(small_store)
    rows = dict(w.shortcut_rows())
    for menu_action in w.menuBar().actions():
        for action in menu_action.menu().actions():
            if action.isSeparator() or action.menu() is not None:
                continue
            assert action.text().strip()
            if action.shortcut().toString():
                assert action.text().replace("&&", "\x00").replace("&", "").replace("\x00", "&") in rows
