"""A stored draft carries the name of whoever sends it, not of whoever drafted it."""

from __future__ import annotations

import pytest
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


# -- four eyes: the reply keeps the sign-off of the person who asked for it to go out ------------------
# A supervisor approves an awaiting reply exactly as its writer asked (both backends refuse any change to an
# awaiting text, a signature's too, and the audit row keeps its hash), so the customer reads the writer's
# name: the agent who answered them. Whoever asks for a reply to go out signs it; a stored draft is
# re-signed for the person who opens it, a supervisor included, and then that supervisor is its writer.


def _signed(name: str) -> str:
    from agent_assist.assist.phrases import phrases_for
    from tests.ui.four_eyes_desks import TEXT

    return f"{TEXT}\n\n{phrases_for('es').sign_off}\n{name}"


def _open(qtbot, window, ticket_id: int) -> None:
    window.queue.status.setCurrentIndex(window.queue.status.findData(()))  # any status
    qtbot.waitUntil(lambda: window.model.row_of(ticket_id) >= 0, timeout=5000)
    window.queue.select_row(window.model.row_of(ticket_id))
    wait_loaded(qtbot, window, ticket_id)


@pytest.mark.both_backends
def test_a_four_eyes_reply_goes_out_signed_by_the_agent_who_asked(backend, request, make_window, qtbot):
    from tests.ui.four_eyes_desks import TICKET, ask_for_approval, outbound, review, two_desks

    _alex, sue, agent, supervisor = two_desks(backend, request, make_window)
    draft_id = ask_for_approval(qtbot, agent, _signed("Alex"))

    # the supervisor opening the ticket sees the text that waits for them, as alex wrote and signed it
    _open(qtbot, supervisor, TICKET)
    assert supervisor.workspace.draft.id == draft_id
    assert supervisor.draft.text().rstrip().endswith("\nAlex") and "Sue" not in supervisor.draft.text()
    assert supervisor.draft.editor.isReadOnly()

    view = review(qtbot, supervisor, draft_id)
    assert view.detail.body.rstrip().endswith("\nAlex")
    with qtbot.waitSignal(view.approved, timeout=8000):
        view.approve_current()
    [sent] = outbound(sue)
    assert sent.body_text == _signed("Alex") and sent.author == "sue"  # sue sent it; alex's reply, alex's name


@pytest.mark.both_backends
def test_a_supervisor_who_takes_over_an_agents_stored_draft_signs_it_and_another_supervisor_approves(
        backend, request, make_window, qtbot):
    from agent_assist.store import drafts
    from tests.ui.four_eyes_desks import TICKET, outbound, review, two_desks

    alex, sue, _agent, supervisor = two_desks(backend, request, make_window)
    if backend == "postgres":
        vera = request.getfixturevalue("team_database").desk("vera")
    else:
        people.save_profile(sue, "vera", "supervisor", actor="sue")
        vera = sue
    did = drafts.suggest(alex, TICKET, _signed("Alex"), actor="alex", source="human")
    drafts.save_edit(alex, did, _signed("Alex"), actor="alex")  # stored at alex's desk, not sent for approval

    _open(qtbot, supervisor, TICKET)
    assert supervisor.draft.text() == _signed("Sue")  # offered to sue signed by her
    with qtbot.waitSignal(supervisor.approvalRequested, timeout=8000):
        supervisor.approve_and_send()  # four eyes: sue is now its writer, another supervisor approves
    assert drafts.get(sue.db, did).state == "awaiting_supervisor" and outbound(sue) == []

    second = make_window(vera, "vera")
    view = review(qtbot, second, did)
    with qtbot.waitSignal(view.approved, timeout=8000):
        view.approve_current()
    [sent] = outbound(vera)
    assert sent.body_text == _signed("Sue") and sent.author == "vera" and "Alex" not in sent.body_text
