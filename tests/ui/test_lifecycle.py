"""Background work never reaches a window, widget or store that went away."""

from __future__ import annotations

import threading

import pytest
import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from agent_assist.store import Store
from agent_assist.store.errors import StoreClosedError, StoreError
from agent_assist.ui.main_window import MainWindow
from agent_assist.ui.tasks import TaskManager
from tests.ui.conftest import wait_loaded


def test_result_is_dropped_when_its_owner_was_deleted(qtbot, tasks: TaskManager):
    owner = QWidget()
    release = threading.Event()
    got: list[object] = []
    tasks.run(lambda: release.wait(5) and "late", got.append, got.append, owner=owner)
    shiboken6.delete(owner)  # the widget goes away while its job still runs
    release.set()
    tasks.wait()
    qtbot.waitUntil(lambda: not tasks.is_busy(), timeout=5000)
    assert got == []


def test_bound_method_callbacks_name_their_owner(qtbot, tasks: TaskManager):
    class Sink(QObject):
        def __init__(self):
            super().__init__()
            self.got: list[object] = []

        def done(self, value):
            self.got.append(value)

    alive, gone = Sink(), Sink()
    release = threading.Event()
    tasks.run(lambda: release.wait(5) and 1, alive.done)
    tasks.run(lambda: release.wait(5) and 2, gone.done)
    shiboken6.delete(gone)
    release.set()
    qtbot.waitUntil(lambda: not tasks.is_busy(), timeout=5000)
    assert alive.got == [1]


def test_a_controller_cancels_only_its_own_keys(qtbot, tasks: TaskManager):
    release = threading.Event()
    got: list[object] = []
    tasks.run(lambda: release.wait(5) and "search", got.append, key="kb-search")
    tasks.run(lambda: release.wait(5) and "thread", got.append, key="thread")
    tasks.cancel("kb-search", "kb-article")  # what KnowledgeController.stop() does; no kb-article job runs
    release.set()
    qtbot.waitUntil(lambda: not tasks.is_busy(), timeout=5000)
    assert got == ["thread"]


def test_nothing_runs_or_arrives_after_shutdown(qtbot):
    tasks = TaskManager()
    release = threading.Event()
    got: list[object] = []
    tasks.run(lambda: release.wait(5) and "first", got.append)
    release.set()
    tasks.shutdown()
    ran = threading.Event()
    token = tasks.run(ran.set, got.append)
    assert token.cancelled
    qtbot.wait(50)
    assert not ran.is_set()
    assert got == []


def test_a_closed_store_is_quiet_and_other_errors_still_arrive(qtbot, tasks: TaskManager, store: Store):
    errors: list[BaseException] = []
    store.close()
    tasks.run(lambda: store.db, errors.append, errors.append)
    qtbot.waitUntil(lambda: not tasks.is_busy(), timeout=5000)
    assert errors == []  # "the store was closed" is not something a person can act on

    def broken():
        raise StoreError("The database is busy.")

    tasks.run(broken, errors.append, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert str(errors[0]) == "The database is busy."


def test_closed_store_error_is_a_store_error(store: Store):
    store.close()
    with pytest.raises(StoreClosedError, match="was closed"):
        _ = store.db


def test_closing_while_an_article_loads_shows_nothing_and_keeps_quiet(small_store: Store, settings, qtbot):
    window = MainWindow(small_store, user="alex", settings=settings)
    qtbot.addWidget(window)
    window.show()
    wait_loaded(qtbot, window)
    gate = threading.Event()

    def slow_article(article_id: int):
        gate.wait(5)
        raise StoreError("This would be a dialog on a window that is gone.")

    window.tasks.run(lambda: slow_article(1), window.knowledge.show_article, window._show_error,
                     key="kb-article", owner=window)
    window.knowledge._article_timer.start(0)  # the panel's own timer would fire during close
    threading.Timer(0.2, gate.set).start()
    window.close()  # waits for the job, which fails after the window closed
    qtbot.wait(100)
    assert window.error_box is None
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def test_errors_open_a_message_box_that_does_not_block(small_store: Store, make_window, qtbot):
    window: MainWindow = make_window(small_store)
    window._show_error(StoreError("The database is busy: another program is writing to it."))
    box = window.error_box
    assert box is not None and box.isVisible()  # open() returned: no nested event loop
    assert "busy" in box.text()
    assert "busy" in window.statusBar().currentMessage()
    box.accept()
