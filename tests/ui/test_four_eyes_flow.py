"""Four eyes through the windows: an agent asks, a supervisor approves or returns with a comment."""

from __future__ import annotations

from PySide6.QtCore import Qt

from agent_assist.store import Store, audit, drafts, people, tickets
from tests.ui.conftest import wait_loaded


def _flagged_ticket(store: Store) -> int:
    people.save_profile(store, "priya", "supervisor", actor="priya")  # the first supervisor
    people.save_profile(store, "alex", "agent", actor="priya")
    tickets.set_triage(store, 3, [("fraud", "Does not recognise a purchase")], sentiment="negative")
    return 3


def _ask_for_approval(qtbot, w, ticket_id: int) -> int:
    w.queue.status.setCurrentIndex(w.queue.status.findData(()))  # any status
    qtbot.waitUntil(lambda: w.model.row_of(ticket_id) >= 0)
    w.queue.select_row(w.model.row_of(ticket_id))
    wait_loaded(qtbot, w, ticket_id)
    w.draft.editor.setPlainText("Hola María, hemos bloqueado la compra y abierto una investigación.")
    with qtbot.waitSignal(w.approvalRequested) as asked:
        qtbot.keyClick(w.draft.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    return asked.args[1]


def test_supervisor_approves_in_the_review_view(small_store: Store, make_window, qtbot):
    tid = _flagged_ticket(small_store)
    agent = make_window(small_store, "alex")
    draft_id = _ask_for_approval(qtbot, agent, tid)
    agent.close()

    supervisor = make_window(small_store, "priya")
    assert supervisor.windowTitle().startswith("priya (supervisor)")
    view = supervisor.show_review()
    qtbot.waitUntil(lambda: view.awaiting_model.rowCount() == 1, timeout=5000)
    view.select_row(0)
    qtbot.waitUntil(lambda: view.detail is not None and view.detail.item.draft_id == draft_id, timeout=5000)
    with qtbot.waitSignal(view.approved, timeout=5000):
        view.approve_current()
    t = tickets.get_ticket(small_store.db, tid)
    assert t.messages[-1].direction == "outbound" and t.messages[-1].author == "priya"
    assert "investigación" in t.messages[-1].body_text
    actions = [(e.action, e.actor) for e in audit.for_ticket(small_store.db, tid)]
    assert ("draft.approval_requested", "alex") in actions and ("reply.sent", "priya") in actions


def test_supervisor_returns_it_and_the_agent_sees_why(small_store: Store, make_window, qtbot):
    tid = _flagged_ticket(small_store)
    agent = make_window(small_store, "alex")
    draft_id = _ask_for_approval(qtbot, agent, tid)
    supervisor = make_window(small_store, "priya")
    view = supervisor.show_review()
    qtbot.waitUntil(lambda: view.awaiting_model.rowCount() == 1, timeout=5000)
    view.select_row(0)
    qtbot.waitUntil(lambda: view.detail is not None, timeout=5000)
    view.comment.setPlainText("Please ask for the order number first.")
    with qtbot.waitSignal(view.returned, timeout=5000):
        view.return_current()
    assert drafts.get(small_store.db, draft_id).state == "edited"
    # the agent opens the ticket again and reads the comment
    agent.queue.select_row(agent.model.row_of(1))
    wait_loaded(qtbot, agent, 1)
    agent.queue.select_row(agent.model.row_of(tid))
    wait_loaded(qtbot, agent, tid)
    ws = agent.workspace
    assert "Please ask for the order number first." in agent.draft.banner.text(), (ws.draft, ws.review_comment)
    assert not agent.draft.editor.isReadOnly()


def test_agents_cannot_approve_in_the_review_view(small_store: Store, make_window, qtbot):
    tid = _flagged_ticket(small_store)
    agent = make_window(small_store, "alex")
    _ask_for_approval(qtbot, agent, tid)
    view = agent.show_review()
    qtbot.waitUntil(lambda: view.awaiting_model.rowCount() == 1, timeout=5000)
    assert not view.can_decide
