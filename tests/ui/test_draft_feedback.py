"""Per-draft feedback: the agent marks a suggestion not useful with a reason; the dashboard counts them."""

from __future__ import annotations

from agent_assist.store import Store, drafts, feedback
from agent_assist.store.tickets import set_triage
from agent_assist.ui.dashboard import QualityDashboard
from tests.ui.conftest import wait_loaded


def _open(qtbot, window, ticket_id: int) -> None:
    window.queue.select_row(window.model.row_of(ticket_id))
    wait_loaded(qtbot, window, ticket_id)


def test_not_useful_is_stored_and_counted_on_the_dashboard(small_store: Store, make_window, qtbot):
    w = make_window(small_store)
    _open(qtbot, w, 1)
    assert w.draft.not_useful.isVisible() and w.draft.not_useful.isEnabled()
    assert [a.text() for a in w.draft.not_useful.menu().actions()] == list(feedback.REASONS.values())
    with qtbot.waitSignal(w.draft.feedbackGiven, timeout=5000) as given:
        w.draft.feedback_actions["wrong_tone"].trigger()
    draft_id, reason = given.args
    assert reason == "wrong_tone"
    [row] = feedback.for_draft(small_store.db, draft_id)
    assert (row.ticket_id, row.reason, row.author) == (1, "wrong_tone", "alex")
    assert drafts.get(small_store.db, draft_id).ticket_id == 1  # the suggestion was kept to say so
    assert "marked not useful (wrong tone)" in w.draft.hint.text()
    with qtbot.waitSignal(w.draft.feedbackGiven, timeout=5000) as again:
        w.draft.feedback_actions["missed_point"].trigger()
    assert again.args[0] == draft_id  # the same stored draft, not a second one

    dash = QualityDashboard(small_store, w.tasks, days=7)
    qtbot.addWidget(dash)
    with qtbot.waitSignal(dash.refreshed, timeout=5000):
        dash.show()
    text = dash.feedback_summary.text()
    assert "Wrong tone 1" in text and "Missed the point 1" in text and "Wrong facts 0" in text


def test_a_persons_own_reply_has_no_not_useful(small_store: Store, make_window, qtbot):
    set_triage(small_store, 1, [("vulnerability", "a recent bereavement")], sentiment=None)  # human-only
    w = make_window(small_store)
    _open(qtbot, w, 1)
    assert not w.draft.not_useful.isVisible()
    _open(qtbot, w, 2)
    assert w.draft.not_useful.isVisible()


def test_empty_dashboard_says_none(small_store: Store, tasks, qtbot):
    dash = QualityDashboard(small_store, tasks, days=7)
    qtbot.addWidget(dash)
    with qtbot.waitSignal(dash.refreshed, timeout=5000):
        dash.show()
    assert dash.feedback_summary.text() == "No suggestion was marked not useful in this period."
