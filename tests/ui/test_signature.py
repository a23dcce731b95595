"""A stored draft carries the name of whoever sends it, not of whoever drafted it."""

from __future__ import annotations

from PySide6.QtCore import Qt

from agent_assist.assist import workspace
from agent_assist.store import Store, people
from agent_assist.store.tickets import get_ticket
from tests.ui.conftest import wait_loaded


def test_the_sender_signs_a_draft_another_person_stored(small_store: Store, make_window, qtbot):
    ws = workspace.open_ticket(small_store, 1, agent="alex")
    kept = workspace.keep_draft(small_store, ws.draft, agent="alex")
    assert kept.body.rstrip().endswith("\nAlex")
    people.save_profile(small_store, "sue", "supervisor", actor="sue")
    w = make_window(small_store, user="sue")
    w.queue.select_row(w.model.row_of(1))
    wait_loaded(qtbot, w, 1)
    assert w.draft.text().rstrip().endswith("\nSue") and "\nAlex" not in w.draft.text()
    with qtbot.waitSignal(w.replySent, timeout=5000):
        qtbot.mouseClick(w.draft.approve, Qt.MouseButton.LeftButton)
    last = get_ticket(small_store.db, 1).messages[-1]
    assert last.direction == "outbound" and last.author == "sue"
    assert last.body_text.rstrip().endswith("\nSue") and "Alex" not in last.body_text
