"""Team work in the window: "Take next ticket", who else is on a ticket, writing collisions, a reply sent meanwhile.

Two windows, each signed in as its own login on the session's real PostgreSQL; "Take next ticket"
also on a desk's own file.
"""

from __future__ import annotations

import pytest

from agent_assist.store import tickets
from tests.backends import seed
from tests.conftest import small_dataset
from tests.store.test_teamwork import _dataset
from agent_assist.ui.team_view import COLUMNS as TEAM_COLUMNS
from tests.ui.conftest import wait_loaded

pytestmark = pytest.mark.both_backends


def _take_next(qtbot, window) -> int:
    with qtbot.waitSignal(window.team_work.claimed, timeout=8000) as claimed:
        window.act_take_next.trigger()
    taken = claimed.args[0]
    wait_loaded(qtbot, window, taken)
    return taken


def test_take_next_ticket_claims_assigns_and_opens_the_most_urgent(store, desk, make_window, qtbot):
    seed(store, _dataset(4))
    window = make_window(store, "alex")
    taken = _take_next(qtbot, window)
    ticket = tickets.get_ticket(store.db, taken)
    assert tickets.PRIORITIES[ticket.priority] == "urgent" and ticket.assignee == "alex"
    assert window.workspace.ticket.id == taken
    assert window.queue.bar.itemAt(0).widget().defaultAction() is window.act_take_next  # the button
    for _ in range(3):
        _take_next(qtbot, window)
    window.act_take_next.trigger()
    qtbot.waitUntil(lambda: "No free ticket" in window.statusBar().currentMessage(), timeout=5000)


def _team_windows(backend, desk, store, make_window):
    assert backend == "postgres", "other desks are other logins on a team server"
    priya = desk("priya")
    seed(store, small_dataset())
    return make_window(store, "alex"), make_window(priya, "priya"), priya


def _open(qtbot, window, ticket_id: int) -> None:
    window.queue.status.setCurrentIndex(window.queue.status.findData(()))
    qtbot.waitUntil(lambda: window.model.row_of(ticket_id) >= 0, timeout=5000)
    window.queue.select_row(window.model.row_of(ticket_id))
    wait_loaded(qtbot, window, ticket_id)


@pytest.mark.team_only
def test_each_desk_sees_who_else_is_on_the_ticket_and_who_is_writing(backend, store, desk, make_window, qtbot):
    alex, priya, _ = _team_windows(backend, desk, store, make_window)
    _open(qtbot, alex, 1)
    _open(qtbot, priya, 1)
    qtbot.waitUntil(lambda: "alex</b> has it open" in priya.presence.text(), timeout=5000)
    qtbot.waitUntil(lambda: "priya</b> has it open" in alex.presence.text(), timeout=5000)
    assert priya.presence.isVisible()

    alex.draft.editor.setPlainText("Hi Tom, I removed the late fee.")
    qtbot.waitUntil(lambda: "alex</b> is writing a reply" in priya.presence.text(), timeout=5000)

    asked: list[list[str]] = []
    priya.confirm_collision = lambda writers: asked.append(writers) or False
    before = priya.draft.text()
    priya.draft.editor.setPlainText("Hello Tom, we are looking into it.")
    assert asked == [["alex"]]
    assert priya.draft.text() == before  # she chose not to write: nothing changed
    assert "alex is writing the reply" in priya.draft.banner.text()

    _open(qtbot, alex, 2)  # alex moves on: priya no longer sees him on #1
    qtbot.waitUntil(lambda: not priya.presence.isVisible(), timeout=5000)


@pytest.mark.team_only
def test_a_reply_sent_meanwhile_is_shown_before_yours_goes(backend, store, desk, make_window, qtbot):
    alex, priya, priya_store = _team_windows(backend, desk, store, make_window)
    _open(qtbot, alex, 1)
    _open(qtbot, priya, 1)
    priya.confirm_collision = lambda writers: True
    priya.draft.editor.setPlainText("Hello Tom, we are looking into it.")
    alex.draft.editor.setPlainText("Hi Tom, I removed the late fee.")
    with qtbot.waitSignal(alex.replySent, timeout=8000):
        alex.approve_and_send()

    asked: list[str] = []
    priya.confirm_after_other_reply = lambda message: asked.append(message) or False
    priya.approve_and_send()
    assert asked and "alex replied to Tom Baker while you were writing" in asked[0]
    outbound = [m for m in tickets.get_ticket(priya_store.db, 1).messages if m.direction == "outbound"]
    assert [m.author for m in outbound] == ["alex"]  # hers was not sent
    assert any("I removed the late fee" in m.body_text for m in priya.workspace.ticket.messages)
    assert priya.draft.text() == "Hello Tom, we are looking into it."  # and is still there
    assert "Not sent: alex answered meanwhile" in priya.draft.banner.text()

    priya.confirm_after_other_reply = lambda message: asked.append(message) or True
    with qtbot.waitSignal(priya.replySent, timeout=8000):
        priya.approve_and_send()  # seen now: no second question
    assert len(asked) == 1


@pytest.mark.team_only
def test_closing_the_window_gives_back_what_it_claimed_but_did_not_answer(backend, store, desk, make_window, qtbot):
    seed(store, _dataset(3))
    priya_store = desk("priya")
    priya = make_window(priya_store, "priya")
    taken = _take_next(qtbot, priya)
    assert tickets.get_ticket(store.db, taken).assignee == "priya"
    priya.close()
    assert tickets.get_ticket(store.db, taken).assignee is None


def test_the_team_view_shows_who_is_online_and_what_waits(backend, store, desk, make_window, qtbot):
    if backend != "postgres":
        seed(store, small_dataset())
        window = make_window(store, "alex")
        with qtbot.waitSignal(window.show_team().loaded, timeout=5000):
            pass
        view = window.team_window
        assert "who is online shows on a team server" in view.summary.text()
        return
    alex, priya, _ = _team_windows(backend, desk, store, make_window)
    _open(qtbot, priya, 1)
    sue = make_window(desk("sue", "supervisor"), "sue")
    view = sue.show_team()
    model = view.model

    def row(name: str) -> dict[str, str]:
        names = [model.data(model.index(r, 0)) for r in range(model.rowCount())]
        r = names.index(name)
        return {key: model.data(model.index(r, c)) for c, (key, _) in enumerate(TEAM_COLUMNS)}

    qtbot.waitUntil(lambda: model.rowCount() > 0 and row("priya")["on_ticket"] == "#1", timeout=8000)
    assert row("priya")["online"] == "● online" and row("alex")["online"] == "● online"
    assert row("sue")["role"] == "Supervisor"
    assert row("alex")["open_tickets"] == "1"  # ticket 2 in the small data set
    assert row("lee")["online"] == "away"
    assert "online" in view.summary.text() and "replies wait for a supervisor" in view.summary.text()
    priya.close()  # she leaves: the view follows the server's announcement
    qtbot.waitUntil(lambda: row("priya")["online"] == "away", timeout=8000)
