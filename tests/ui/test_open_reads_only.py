"""Moving through the queue in the window writes nothing: with a team, every desk would notify every other."""

from __future__ import annotations

from agent_assist.store import Store
from tests.ui.conftest import wait_loaded


def _writes(store: Store) -> tuple[int, int, int]:
    return (store.data_version(), store.db.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0],
            store.db.conn.execute("SELECT COUNT(*) FROM drafts").fetchone()[0])


def test_opening_tickets_in_the_window_writes_nothing(small_store: Store, make_window, qtbot):
    w = make_window(small_store, "alex")
    w.queue.status.setCurrentIndex(w.queue.status.findData(()))  # any status: all four tickets
    wait_loaded(qtbot, w)
    before = _writes(small_store)
    for tid in (1, 2, 3, 4, 1):
        qtbot.waitUntil(lambda tid=tid: w.model.row_of(tid) >= 0)
        w.queue.select_row(w.model.row_of(tid))
        wait_loaded(qtbot, w, tid)
        assert w.workspace.draft is None or not w.workspace.draft.saved  # shown, not stored
    assert _writes(small_store) == before
    # the person starts on the reply: now it is written, once
    wait_loaded(qtbot, w, 1)
    assert w.workspace.draft is not None and not w.workspace.draft.saved
    w.draft.editor.setFocus()
    qtbot.keyClicks(w.draft.editor, " Thanks!")
    w.save_draft_edits()
    assert w.workspace.draft.saved
    assert _writes(small_store)[2] == before[2] + 1
