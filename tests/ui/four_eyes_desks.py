"""Two desks for the four-eyes tests: an agent's window and a supervisor's, on one desk file or as two logins
on the team server; the agent asks for approval of a reply to ticket 3 (flagged: four eyes)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from agent_assist.store import Store, people, tickets
from tests.backends import seed
from tests.conftest import small_dataset
from tests.ui.conftest import wait_loaded

TICKET = 3
TEXT = "Hola María, hemos bloqueado la compra y abierto una investigación."


def outbound(store: Store) -> list:
    """The replies to the ticket that carry this test's text (the data set has an earlier one)."""
    return [m for m in tickets.get_ticket(store.db, TICKET).messages
            if m.direction == "outbound" and m.body_text.startswith("Hola María")]


def ask_for_approval(qtbot, agent, text: str = TEXT) -> int:
    agent.queue.status.setCurrentIndex(agent.queue.status.findData(()))  # any status
    qtbot.waitUntil(lambda: agent.model.row_of(TICKET) >= 0, timeout=5000)
    agent.queue.select_row(agent.model.row_of(TICKET))
    wait_loaded(qtbot, agent, TICKET)
    agent.draft.editor.setPlainText(text)
    with qtbot.waitSignal(agent.approvalRequested, timeout=8000) as asked:
        agent.approve_and_send()
    return asked.args[1]


def review(qtbot, supervisor, draft_id: int):
    view = supervisor.show_review()
    view.reload()
    qtbot.waitUntil(lambda: any(view.awaiting_model.index(r, 0).data(Qt.ItemDataRole.UserRole + 1) == draft_id
                                for r in range(view.awaiting_model.rowCount())), timeout=8000)
    view.select_row(next(r for r in range(view.awaiting_model.rowCount())
                         if view.awaiting_model.index(r, 0).data(Qt.ItemDataRole.UserRole + 1) == draft_id))
    qtbot.waitUntil(lambda: view.detail is not None and view.detail.item.draft_id == draft_id, timeout=5000)
    return view


def two_desks(backend, request, make_window):
    """The agent's and the supervisor's window: two logins on the team server, or two people on one file."""
    if backend == "postgres":
        team = request.getfixturevalue("team_database")
        alex, sue = team.desk("alex"), team.desk("sue")
        seed(alex, small_dataset())
        tickets.set_triage(alex, TICKET, [("fraud", "Does not recognise a purchase")], sentiment="negative")
        return alex, sue, make_window(alex, "alex"), make_window(sue, "sue")
    store = request.getfixturevalue("small_store")
    people.save_profile(store, "sue", "supervisor", actor="sue")  # the first supervisor
    people.save_profile(store, "alex", "agent", actor="sue")
    tickets.set_triage(store, TICKET, [("fraud", "Does not recognise a purchase")], sentiment="negative")
    return store, store, make_window(store, "alex"), make_window(store, "sue")
