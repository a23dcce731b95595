from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from agent_assist.settings import Settings
from agent_assist.store import Store
from agent_assist.ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def _send_at_once(request, _isolated_home):
    """A reply goes out when it is approved, as before undo send, unless the test is about undo send
    (marked ``undo_send``: the app's own default of 10 s then applies, or what the test sets)."""
    settings = Settings()
    if not request.node.get_closest_marker("undo_send"):
        settings.set("send.undo_seconds", 0)
    if not request.node.get_closest_marker("semantic"):
        # and searches by words only: loading the embedder in every window costs seconds; the tests
        # of meaning search (marked ``semantic``) turn it on
        settings.set("knowledge.semantic", "off")
    settings.save()


@pytest.fixture
def tasks(qtbot):
    """A background-work gateway that is drained at teardown."""
    from agent_assist.ui.tasks import TaskManager

    t = TaskManager()
    yield t
    t.shutdown()


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, settings):
    windows: list[MainWindow] = []

    def make(store: Store, user: str = "alex") -> MainWindow:
        w = MainWindow(store, user=user, settings=settings)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.close()  # saves the layout and waits for background jobs


def wait_loaded(qtbot, window: MainWindow, ticket_id: int | None = None) -> None:
    """Wait until the given (or any) ticket's workspace is on screen."""
    qtbot.waitUntil(lambda: window.workspace is not None and (ticket_id is None or window.workspace.ticket.id == ticket_id),
                    timeout=5000)
