"""The window when the database is in trouble, and the start-up question about a missing folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from agent_assist.app import ask_to_create_folder, folder_ready
from agent_assist.store import Store
from agent_assist.store.bulk import import_dataset
from agent_assist.store.tickets import get_ticket
from tests.conftest import small_dataset
from tests.store.lock_holder import LockHolder
from tests.ui.conftest import wait_loaded


class DialogAnswerer:
    """Answers every message box that opens (as a person would click), and keeps what it said."""

    def __init__(self, button: QMessageBox.StandardButton) -> None:
        self.button = button
        self.texts: list[str] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._answer)
        self.timer.start()

    def _answer(self) -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            self.texts.append(box.text())
            target = box.button(self.button) or box.button(QMessageBox.StandardButton.Ok)
            if target is not None:
                target.click()
            else:
                box.reject()

    def stop(self) -> None:
        self.timer.stop()


@pytest.fixture
def quick_store(tmp_path: Path):
    """The small data set, on a store that waits only 0.2 s for another program's lock."""
    path = tmp_path / "busy.db"
    with Store(path) as setup:
        import_dataset(setup, small_dataset(), label="test data")
    store = Store(path, busy_timeout=0.2)
    yield store
    store.close()


def test_approve_and_send_on_a_busy_database_says_so_and_keeps_the_reply(quick_store: Store, make_window, qtbot):
    store, path = quick_store, quick_store.path
    w = make_window(store)
    row = w.model.row_of(1)
    w.queue.select_row(row)
    wait_loaded(qtbot, w, 1)
    w.draft.editor.setPlainText("Dear Tom, the late fee is removed.")
    outbound = len(get_ticket(store.db, 1).messages)
    answerer = DialogAnswerer(QMessageBox.StandardButton.Ok)
    holder = LockHolder(path)
    try:
        with qtbot.assertNotEmitted(w.replySent):
            qtbot.mouseClick(w.draft.approve, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: bool(answerer.texts) or "busy" in w.statusBar().currentMessage(),
                            timeout=5000)
    finally:
        holder.release()
        answerer.stop()
    said = " ".join(answerer.texts) or w.statusBar().currentMessage()
    assert "busy" in said and str(path) in said
    assert w.draft.text() == "Dear Tom, the late fee is removed."  # the agent's words are still there
    assert len(get_ticket(store.db, 1).messages) == outbound
    with qtbot.waitSignal(w.replySent, timeout=5000):  # free again: the same words go out
        qtbot.mouseClick(w.draft.approve, Qt.MouseButton.LeftButton)
    assert get_ticket(store.db, 1).messages[-1].body_text == "Dear Tom, the late fee is removed."


def test_a_missing_folder_is_asked_about_and_no_means_nothing_is_made(tmp_path: Path, qtbot, capsys):
    path = tmp_path / "typo" / "assist.db"
    answerer = DialogAnswerer(QMessageBox.StandardButton.No)
    try:
        assert folder_ready(path, ask_to_create_folder) is False
    finally:
        answerer.stop()
    assert len(answerer.texts) == 1 and str(path.parent) in answerer.texts[0]
    assert not path.parent.exists()
    assert "does not exist" in capsys.readouterr().err


def test_a_missing_folder_is_made_when_the_person_says_yes(tmp_path: Path, qtbot):
    path = tmp_path / "new" / "assist.db"
    answerer = DialogAnswerer(QMessageBox.StandardButton.Yes)
    try:
        assert folder_ready(path, ask_to_create_folder) is True
    finally:
        answerer.stop()
    assert answerer.texts
    with Store(path) as store:  # the store makes the folder and the file
        assert store.schema_version() == store.latest_version


def test_with_nobody_to_ask_a_missing_folder_is_refused(tmp_path: Path, qtbot):
    assert folder_ready(tmp_path / "x" / "assist.db", None) is False
    assert folder_ready(tmp_path / "assist.db", None) is True  # its folder exists: nothing to ask
