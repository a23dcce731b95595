"""Two desks on one real PostgreSQL: an agent's four-eyes reply reaches the supervisor's window live.

Each window signs in as its own database login; nothing is shared between them but the server.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from agent_assist.store import audit, drafts, tickets
from agent_assist.store.postgres.audit import verify as verify_team_audit
from tests.backends import seed
from tests.conftest import small_dataset
from tests.ui.conftest import wait_loaded

pytestmark = pytest.mark.both_backends


@pytest.mark.team_only
def test_agent_asks_supervisor_approves_live_across_two_desks(backend, team_database, make_window, qtbot):
    alex = team_database.desk("alex")
    sue = team_database.desk("sue")
    seed(alex, small_dataset())
    tickets.set_triage(alex, 3, [("fraud", "Does not recognise a purchase")], sentiment="negative")

    agent = make_window(alex, "someone-else")  # the name the app is given does not matter: the login does
    supervisor = make_window(sue, "sue")
    assert agent.windowTitle().startswith("alex (agent)")
    assert supervisor.windowTitle().startswith("sue (supervisor)")
    view = supervisor.show_review()
    assert view.awaiting_model.rowCount() == 0

    agent.queue.status.setCurrentIndex(agent.queue.status.findData(()))
    qtbot.waitUntil(lambda: agent.model.row_of(3) >= 0)
    agent.queue.select_row(agent.model.row_of(3))
    wait_loaded(qtbot, agent, 3)
    agent.draft.editor.setPlainText("Hola María, hemos bloqueado la compra y abierto una investigación.")
    with qtbot.waitSignal(agent.approvalRequested, timeout=8000) as asked:
        agent.approve_and_send()  # Ctrl+Enter in the agent's window (the other window has the focus here)
    draft_id = asked.args[1]
    assert drafts.get(sue.db, draft_id).state == "awaiting_supervisor"

    # the supervisor's desk hears of it from the server (NOTIFY), with no polling scan
    qtbot.waitUntil(lambda: view.awaiting_model.rowCount() == 1, timeout=5000)
    view.select_row(0)
    qtbot.waitUntil(lambda: view.detail is not None and view.detail.item.draft_id == draft_id, timeout=5000)
    with qtbot.waitSignal(view.approved, timeout=5000):
        view.approve_current()

    # and the agent's desk shows it sent
    def agent_sees_sent() -> bool:
        ticket = tickets.get_ticket(alex.db, 3)
        return ticket.messages[-1].direction == "outbound" and agent.model.row_of(3) >= 0
    qtbot.waitUntil(agent_sees_sent, timeout=5000)
    qtbot.waitUntil(lambda: agent.workspace is not None and any(
        m.direction == "outbound" and "investigación" in m.body_text for m in agent.workspace.ticket.messages),
        timeout=5000)
    sent = tickets.get_ticket(alex.db, 3).messages[-1]
    assert sent.author == "sue"
    actions = [(e.action, e.actor) for e in audit.for_ticket(alex.db, 3)]
    assert ("draft.approval_requested", "alex") in actions and ("reply.sent", "sue") in actions
    import psycopg

    with psycopg.connect(team_database.admin_url, autocommit=True, options="-c search_path=agent_assist") as conn:
        assert verify_team_audit(conn).ok
