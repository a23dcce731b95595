"""The window title names the app once: Qt appends the display name to a title that does not end with it."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from agent_assist import APP_NAME
from agent_assist.store import Store


def test_the_title_names_the_person_and_the_app_once(small_store: Store, make_window, qtbot) -> None:
    app = QApplication.instance()
    before = app.applicationDisplayName()
    app.setApplicationDisplayName(APP_NAME)  # as agent_assist.app.make_application does
    try:
        title = make_window(small_store).windowTitle()
        # QPlatformWindow::formatWindowTitle adds " — <display name>" unless the title already ends with it
        assert title.endswith(app.applicationDisplayName())
    finally:
        app.setApplicationDisplayName(before)
    assert title == f"alex (agent) — {APP_NAME}"
    assert title.count(APP_NAME) == 1
