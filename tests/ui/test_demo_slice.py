"""The whole slice on the real demo data, as the README's first command shows it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from agent_assist.cli import create_demo_database
from agent_assist.store import Store, audit
from agent_assist.store.tickets import get_ticket
from tests.ui.conftest import wait_loaded


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    create_demo_database(path)
    return path


@pytest.fixture
def demo_store(demo_file: Path, tmp_path: Path):
    copy = tmp_path / "demo.db"
    copy.write_bytes(demo_file.read_bytes())  # each test gets its own copy of the demo data
    store = Store(copy)
    yield store
    store.close()


def test_whole_slice_on_demo_data(demo_store: Store, make_window, qtbot):
    w = make_window(demo_store)
    wait_loaded(qtbot, w)
    # pick an open English ticket from the queue, with the keyboard
    target = next(r for r in range(w.model.rowCount())
                  if w.model.row_data(r).language == "en" and w.model.row_data(r).status == "open"
                  and not w.model.row_data(r).flags)
    w.queue.view.setFocus()
    for _ in range(target - w.queue.view.currentIndex().row()):
        qtbot.keyClick(w.queue.view, Qt.Key.Key_Down)
    ticket_id = w.model.ticket_id(target)
    wait_loaded(qtbot, w, ticket_id)
    before = get_ticket(demo_store.db, ticket_id)

    # snippets and a cited draft in the customer's language
    assert w.knowledge.model.rowCount() > 0
    assert w.draft.text().startswith(f"Hi {before.first_name},")
    assert w.draft.cited_ids(), "the suggestion cites an article"
    assert w.draft.citations.text().startswith("Cites:")

    # Enter opens the reply; edit it; Ctrl+Enter approves and sends
    qtbot.keyClick(w.queue.view, Qt.Key.Key_Return)
    assert QApplication.focusWidget() is w.draft.editor
    w.draft.editor.moveCursor(w.draft.editor.textCursor().MoveOperation.Start)
    qtbot.keyClicks(w.draft.editor, "Thanks for your patience. ")
    with qtbot.waitSignal(w.replySent, timeout=3000):
        qtbot.keyClick(w.draft.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    after = get_ticket(demo_store.db, ticket_id)
    assert len(after.messages) == len(before.messages) + 1
    reply = after.messages[-1]
    assert reply.direction == "outbound" and reply.author == "alex"
    assert reply.body_text.startswith("Thanks for your patience. Hi ")
    assert after.status == "pending" and before.status == "open"
    assert "Thanks for your patience." in w.conversation.text()
    row = w.model.row_of(ticket_id)
    assert w.model.row_data(row).status == "pending"
    sent = [e for e in audit.for_ticket(demo_store.db, ticket_id) if e.action == "reply.sent"]
    assert len(sent) == 1 and sent[0].actor == "alex" and sent[0].details["message_id"] == reply.id
    assert audit.verify(demo_store.db).ok


def test_arrivals_from_another_process_show_within_a_second(demo_store: Store, make_window, qtbot):
    w = make_window(demo_store)
    wait_loaded(qtbot, w)
    while w.model.canFetchMore():  # everything loaded, so any position a newcomer sorts into is on screen
        w.model.fetchMore()
    total = w.model.total
    selected = w.queue.current_ticket_id()
    scroll_before = w.queue.view.verticalScrollBar().value()
    proc = subprocess.run(
        [sys.executable, "-m", "agent_assist", "demo", "--db", str(demo_store.path), "--arrivals", "2",
         "--interval", "0", "--seed", "5"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    committed = time.monotonic()
    new_ids = [int(line.split()[0].lstrip("#")) for line in proc.stdout.splitlines()]
    assert len(new_ids) == 2
    qtbot.waitUntil(lambda: all(w.model.row_of(t) >= 0 for t in new_ids), timeout=1000)
    assert time.monotonic() - committed < 1.0
    assert w.model.total == total + 2
    assert w.queue.current_ticket_id() == selected
    assert w.queue.view.verticalScrollBar().value() == scroll_before


def test_flagged_demo_ticket_goes_to_a_supervisor(demo_store: Store, make_window, qtbot):
    w = make_window(demo_store)
    wait_loaded(qtbot, w)
    w.queue.flag.setCurrentIndex(w.queue.flag.findData("fraud"))
    qtbot.waitUntil(lambda: w.model.rowCount() > 0 and all("fraud" in w.model.row_data(r).flags
                                                           for r in range(w.model.rowCount())))
    w.queue.select_row(0)
    ticket_id = w.model.ticket_id(0)
    wait_loaded(qtbot, w, ticket_id)
    assert "Four eyes" in w.draft.banner.text()
    assert "Fraud" in w.model.data(w.model.index(0, 3))
    if w.draft.flag_reasons:
        w.draft.confirm_flagged.setChecked(True)
    with qtbot.waitSignal(w.approvalRequested):
        qtbot.keyClick(w.draft.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert get_ticket(demo_store.db, ticket_id).messages[-1].direction == "inbound" or \
        get_ticket(demo_store.db, ticket_id).messages[-1].author != "alex"
