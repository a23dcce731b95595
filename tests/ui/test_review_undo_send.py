"""Undo send from the supervisor's review: a four-eyes approval waits ``send.undo_seconds`` with an Undo, as
the main window's Approve & send does, then goes out through the window's one send path."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt

from agent_assist.settings import Settings
from agent_assist.store import Store, drafts, people, tickets
from tests.backends import seed
from tests.conftest import small_dataset
from tests.ui.conftest import wait_loaded

pytestmark = [pytest.mark.undo_send, pytest.mark.both_backends]
TICKET = 3
TEXT = "Hola María, hemos bloqueado la compra y abierto una investigación."


def _undo_seconds(seconds: int) -> None:
    settings = Settings()
    settings.set("send.undo_seconds", seconds)
    settings.save()


def _outbound(store: Store) -> list:
    """The replies to the ticket that carry this test's text (the data set has an earlier one)."""
    return [m for m in tickets.get_ticket(store.db, TICKET).messages
            if m.direction == "outbound" and m.body_text.startswith("Hola María")]


def _ask_for_approval(qtbot, agent, text: str = TEXT) -> int:
    agent.queue.status.setCurrentIndex(agent.queue.status.findData(()))  # any status
    qtbot.waitUntil(lambda: agent.model.row_of(TICKET) >= 0, timeout=5000)
    agent.queue.select_row(agent.model.row_of(TICKET))
    wait_loaded(qtbot, agent, TICKET)
    agent.draft.editor.setPlainText(text)
    with qtbot.waitSignal(agent.approvalRequested, timeout=8000) as asked:
        agent.approve_and_send()
    return asked.args[1]


def _review(qtbot, supervisor, draft_id: int):
    view = supervisor.show_review()
    view.reload()
    qtbot.waitUntil(lambda: any(view.awaiting_model.index(r, 0).data(Qt.ItemDataRole.UserRole + 1) == draft_id
                                for r in range(view.awaiting_model.rowCount())), timeout=8000)
    view.select_row(next(r for r in range(view.awaiting_model.rowCount())
                         if view.awaiting_model.index(r, 0).data(Qt.ItemDataRole.UserRole + 1) == draft_id))
    qtbot.waitUntil(lambda: view.detail is not None and view.detail.item.draft_id == draft_id, timeout=5000)
    return view


def _two_desks(backend, request, make_window):
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


def test_the_supervisors_send_waits_its_seconds_and_undo_takes_the_approval_back(backend, request, make_window,
                                                                                  qtbot):
    _undo_seconds(10)
    alex, sue, agent, supervisor = _two_desks(backend, request, make_window)
    draft_id = _ask_for_approval(qtbot, agent)
    view = _review(qtbot, supervisor, draft_id)

    with qtbot.waitSignal(view.approved, timeout=8000):
        view.approve_current()
    assert drafts.get(sue.db, draft_id).state == "approved" and _outbound(sue) == []
    assert "Sending to Maria García in 10 s" in view.message.text()
    assert view.undo_button.isVisible()
    assert supervisor.undo.label.isVisible() and "Sending to Maria García" in supervisor.undo.label.text()
    assert not view.approve_button.isEnabled()  # decided: no second approval while it waits

    view.undo_button.click()
    assert drafts.get(sue.db, draft_id).state == "edited"  # back with the agent, who may change it
    assert "Not sent" in view.message.text() and "alex" in view.message.text()
    assert not view.undo_button.isVisible() and not supervisor.undo.label.isVisible()
    qtbot.wait(300)
    assert _outbound(sue) == [] and supervisor.undo.pending() == []


def test_the_supervisors_approved_reply_goes_out_after_its_seconds_from_the_supervisor(backend, request, make_window,
                                                                                        qtbot):
    _undo_seconds(5)
    alex, sue, agent, supervisor = _two_desks(backend, request, make_window)
    draft_id = _ask_for_approval(qtbot, agent)
    view = _review(qtbot, supervisor, draft_id)

    started = time.monotonic()
    with qtbot.waitSignal(view.approved, timeout=8000):
        view.approve_current()
    assert _outbound(sue) == [] and view.undo_button.isVisible()
    with qtbot.waitSignal(supervisor.replySent, timeout=12000):
        pass
    assert time.monotonic() - started >= 4.5  # not at once
    sent = _outbound(sue)
    assert len(sent) == 1 and sent[0].author == "sue" and sent[0].body_text.startswith("Hola María")
    assert drafts.get(sue.db, draft_id).state == "sent"
    qtbot.waitUntil(lambda: "Approved and sent" in view.message.text(), timeout=3000)
    assert not view.undo_button.isVisible()


def test_with_no_undo_seconds_the_supervisors_send_goes_at_once(backend, request, make_window, qtbot):
    _undo_seconds(0)
    alex, sue, agent, supervisor = _two_desks(backend, request, make_window)
    draft_id = _ask_for_approval(qtbot, agent)
    view = _review(qtbot, supervisor, draft_id)
    with qtbot.waitSignal(view.approved, timeout=8000):
        view.approve_current()
    assert len(_outbound(sue)) == 1 and not view.undo_button.isVisible()
    assert "Approved and sent" in view.message.text()
