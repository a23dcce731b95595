"""The supervisor's review view: lists, side-by-side differences, approve & send, return with comment."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QTextCursor, QTextDocument
from PySide6.QtCore import Qt

from agent_assist.store import Store, audit, drafts, people, review
from agent_assist.store.tickets import create_ticket, set_triage
from agent_assist.ui.diff_view import tokens, word_diff, word_diff_html
from agent_assist.ui.review_view import DRAFT_ID_ROLE, ReviewListModel, ReviewView
from agent_assist.ui.tasks import TaskManager
from tests.store.test_quality import open_store
from tests.store.test_review import submit

AI_TEXT = "Hi Tom,\n\nYour refund shows within 5 days. <b>Thanks</b> & bye"
AGENT_TEXT = "Hi Tom,\n\nYour refund shows within 3 business days. <b>Thanks</b> & bye"


@pytest.fixture
def rstore(db_path: Path):
    s = open_store(db_path)
    people.save_profile(s, "sue", "supervisor", actor="sue")  # the first supervisor adds the team
    people.save_profile(s, "alex", "agent", actor="sue")
    people.save_profile(s, "kim", "supervisor", actor="sue")
    yield s
    s.close()


def make_draft(store: Store, subject: str, *, awaiting: bool = True, send: bool = False) -> tuple[int, int]:
    """A draft the agent edited; by default on a four-eyes ticket and submitted to the supervisors."""
    tid = create_ticket(store, actor="email", customer_name="Tom Baker", customer_email=f"{len(subject)}@ex.com",
                        subject=subject, body_text="Where is my refund?", language="en", topic="refund")
    did = drafts.suggest(store, tid, AI_TEXT, actor="assistant", source="ai")
    if send:
        drafts.approve_and_send(store, did, AGENT_TEXT, actor="alex")
    else:
        set_triage(store, tid, [("fraud", "an unknown purchase")], sentiment=None)
        drafts.save_edit(store, did, AGENT_TEXT, actor="alex")
        if awaiting:
            submit(store, did)
    return tid, did


@pytest.fixture
def queue(rstore: Store) -> dict[str, tuple[int, int]]:
    return {"first": make_draft(rstore, "First question"), "second": make_draft(rstore, "Second one"),
            "sent": make_draft(rstore, "Already answered", send=True)}


def make_view(qtbot, store: Store, tasks: TaskManager, role: str = "supervisor", user: str = "sue") -> ReviewView:
    view = ReviewView(store, tasks, user=user, role=role, poll_ms=0)
    qtbot.addWidget(view)
    with qtbot.waitSignals([view.loaded, view.detailShown], timeout=5000):
        view.show()
    qtbot.waitExposed(view)
    return view


def char_format_of(doc: QTextDocument, word: str):
    found = doc.find(word)
    assert not found.isNull(), f"{word!r} is not shown"
    cursor = QTextCursor(doc)
    cursor.setPosition(found.selectionStart() + 1)
    return cursor.charFormat()


# -- the diff itself ------------------------------------------------------------------------------
def test_tokens_rebuild_the_text() -> None:
    text = "Hej Anna!\n\n  Återbetalningen, 5 dagar."
    assert "".join(tokens(text)) == text
    assert tokens("a, b") == ["a", ",", " ", "b"]


def test_word_diff_marks_and_escapes() -> None:
    left, right = word_diff_html("pay <now> in 5 days", "pay <now> in 3 days, thanks")
    assert '<span style="background-color:#fbd9d9; color:#a11010; text-decoration:line-through;">5</span>' in left
    assert '<span style="background-color:#d6f5d6; color:#0a5c0a;">3</span>' in right
    assert ", thanks" in right and "&lt;now&gt;" in left and "<now>" not in left + right
    d = word_diff("same text", "same text")
    assert (d.added, d.removed) == (0, 0) and "span" not in d.left_html


# -- the view ---------------------------------------------------------------------------------------
def test_lists_pass_the_model_tester(qtbot, qtmodeltester, rstore: Store, queue) -> None:
    model = ReviewListModel("Waiting")
    model.set_items(review.awaiting(rstore.db))
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 2 and model.index(0, 1).data() == "First question"
    assert model.index(0, 0).data(DRAFT_ID_ROLE) == queue["first"][1]
    model.set_items(review.recently_sent(rstore.db))
    assert model.rowCount() == 1


def test_view_lists_awaiting_and_sent(qtbot, rstore: Store, tasks: TaskManager, queue) -> None:
    view = make_view(qtbot, rstore, tasks)
    assert view.awaiting_model.rowCount() == 2 and view.sent_model.rowCount() == 1
    assert view.tabs.tabText(0) == "Awaiting approval (2)" and view.tabs.tabText(1) == "Recently sent (1)"
    assert view.detail.item.draft_id == queue["first"][1]  # the longest-waiting one is shown first


def test_shows_the_differences_side_by_side(qtbot, rstore: Store, tasks: TaskManager, queue) -> None:
    view = make_view(qtbot, rstore, tasks)
    left, right = view.diff.left.document(), view.diff.right.document()
    assert left.toPlainText() == AI_TEXT and right.toPlainText() == AGENT_TEXT  # HTML shown as text
    removed = char_format_of(left, "5")
    assert removed.fontStrikeOut() and removed.foreground().color() == QColor("#a11010")
    added = char_format_of(right, "business")
    assert not added.fontStrikeOut() and added.background().color() == QColor("#d6f5d6")
    same = char_format_of(right, "refund")
    assert not same.fontStrikeOut() and same.background().style() == Qt.BrushStyle.NoBrush
    assert view.diff.right_title.text() == "<b>Agent’s text</b>"
    assert view.diff.summary.text().startswith("Changed in 1 place(s): 1 addition(s)")


def test_sent_reply_shown_read_only(qtbot, rstore: Store, tasks: TaskManager, queue) -> None:
    view = make_view(qtbot, rstore, tasks)
    with qtbot.waitSignal(view.detailShown, timeout=5000) as blocker:
        view.tabs.setCurrentWidget(view.sent_view)
    assert blocker.args == [queue["sent"][1]]
    assert view.diff.right_title.text() == "<b>Sent reply</b>"
    assert not view.approve_button.isEnabled() and not view.return_button.isEnabled()
    assert "approved by alex" in view.header.text()


def test_approve_and_send(qtbot, rstore: Store, tasks: TaskManager, queue) -> None:
    view = make_view(qtbot, rstore, tasks)
    tid, did = queue["first"]
    assert view.approve_button.isEnabled()
    got: list[int] = []
    view.approved.connect(got.append)
    with qtbot.waitSignals([view.approved, view.loaded], order="strict", timeout=5000):
        qtbot.mouseClick(view.approve_button, Qt.MouseButton.LeftButton)
    assert got == [did]
    d = drafts.get(rstore.db, did)
    assert (d.state, d.approved_by, d.body) == ("sent", "sue", AGENT_TEXT)
    assert [(e.action, e.actor) for e in audit.for_ticket(rstore.db, tid)][-3:] == \
        [("draft.approval_requested", "alex"), ("draft.approved", "sue"), ("reply.sent", "sue")]
    assert view.awaiting_model.rowCount() == 1 and view.sent_model.rowCount() == 2
    # the pane keeps the decided draft, now shown as sent; nothing is left to approve
    qtbot.waitUntil(lambda: view.detail is not None and view.detail.item.draft_id == did
                    and view.detail.item.state == "sent" and "approved by sue" in view.header.text())  # re-read
    assert not view.approve_button.isEnabled() and not view.comment.isEnabled()
    assert "sent" in view.header.text() and "approved by sue" in view.header.text()
    assert "awaiting" not in view.header.text()
    assert view.message.text().startswith("Approved and sent")
    assert view.diff.right_title.text() == "<b>Sent reply</b>"


def test_return_with_comment(qtbot, rstore: Store, tasks: TaskManager, queue) -> None:
    view = make_view(qtbot, rstore, tasks)
    tid, did = queue["first"]
    assert not view.return_button.isEnabled()  # nothing said yet
    view.comment.setFocus()
    qtbot.keyClicks(view.comment, "Mention the <fee> waiver")
    assert view.return_button.isEnabled()
    got: list[int] = []
    view.returned.connect(got.append)
    with qtbot.waitSignals([view.returned, view.loaded], order="strict", timeout=5000):
        qtbot.mouseClick(view.return_button, Qt.MouseButton.LeftButton)
    assert got == [did]
    assert drafts.get(rstore.db, did).state == "edited"
    [entry] = [e for e in audit.for_ticket(rstore.db, tid) if e.action == "draft.returned"]
    assert (entry.actor, entry.details["comment"]) == ("sue", "Mention the <fee> waiver")
    assert review.latest_comment(rstore.db, tid).comment == "Mention the <fee> waiver"
    assert view.comment.toPlainText() == "" and view.awaiting_model.rowCount() == 1
    assert audit.verify(rstore.db).ok


def test_earlier_comments_are_shown(qtbot, rstore: Store, tasks: TaskManager, queue) -> None:
    _tid, did = queue["first"]
    review.return_to_agent(rstore, did, "Be <warmer>", actor="sue")
    submit(rstore, did)
    view = make_view(qtbot, rstore, tasks)
    assert view.history.isVisible() and "Be &lt;warmer&gt;" in view.history.text()


def test_buttons_disabled_for_an_agent(qtbot, rstore: Store, tasks: TaskManager, queue) -> None:
    view = make_view(qtbot, rstore, tasks, role="agent", user="alex")
    assert view.detail.item.state == "awaiting_supervisor"
    assert not view.approve_button.isEnabled()
    assert not view.return_button.isEnabled() and not view.comment.isEnabled()
    assert "supervisor" in view.approve_button.toolTip()
    view.approve_current()  # even called directly nothing happens
    view.return_current()
    tasks.wait()
    assert drafts.get(rstore.db, queue["first"][1]).state == "awaiting_supervisor"


def test_a_draft_decided_elsewhere_is_reported(qtbot, rstore: Store, tasks: TaskManager, queue) -> None:
    view = make_view(qtbot, rstore, tasks)
    _tid, did = queue["first"]
    review.return_to_agent(rstore, did, "already returned by someone else", actor="kim")
    with qtbot.waitSignal(view.failed, timeout=5000) as blocker:
        qtbot.mouseClick(view.approve_button, Qt.MouseButton.LeftButton)
    assert "no longer awaiting" in blocker.args[0]
    qtbot.waitUntil(lambda: view.detail is not None and view.detail.item.state == "edited")
    assert not view.approve_button.isEnabled()
    assert drafts.get(rstore.db, did).state == "edited"


def test_empty_queue(qtbot, rstore: Store, tasks: TaskManager) -> None:
    view = ReviewView(rstore, tasks, user="sue", role="supervisor", poll_ms=0)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.show()
    assert view.detail is None and not view.approve_button.isEnabled()
    assert view.tabs.tabText(0) == "Awaiting approval (0)"


def test_live_reload_while_shown(qtbot, rstore: Store, tasks: TaskManager, queue) -> None:
    view = ReviewView(rstore, tasks, user="sue", role="supervisor", poll_ms=50)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.awaiting_model.rowCount() == 2 and view.detail is not None, timeout=5000)
    make_draft(rstore, "Third")
    qtbot.waitUntil(lambda: view.awaiting_model.rowCount() == 3, timeout=5000)
    assert view.detail.item.draft_id == queue["first"][1]  # the selection stays
    view.hide()  # hidden, it stops looking
    assert not view._poll.isActive()
    make_draft(rstore, "Fourth")
    with qtbot.assertNotEmitted(view.loaded, wait=200):
        pass
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.show()
    assert view.awaiting_model.rowCount() == 4


def test_a_full_card_number_is_sent_only_when_the_supervisor_confirms(qtbot, rstore: Store, tasks: TaskManager):
    tid = create_ticket(rstore, actor="email", customer_name="Tom Baker", customer_email="tom@ex.com",
                        subject="Card", body_text="Which card did I pay with?", language="en", topic="card")
    did = drafts.suggest(rstore, tid, AI_TEXT, actor="assistant", source="ai")
    set_triage(rstore, tid, [("fraud", "an unknown purchase")], sentiment=None)
    text = "Hi Tom, you paid with 4111 1111 1111 1111."
    drafts.save_edit(rstore, did, text, actor="alex")
    submit(rstore, did)
    view = make_view(qtbot, rstore, tasks)
    asked: list[str] = []
    view.confirm_card_number = lambda message: asked.append(message) or False
    qtbot.mouseClick(view.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Nothing was sent" in view.message.text(), timeout=5000)
    assert "1111" in asked[0] and drafts.get(rstore.db, did).state == "awaiting_supervisor"
    assert view.approve_button.isEnabled()
    view.confirm_card_number = lambda message: asked.append(message) or True
    with qtbot.waitSignal(view.approved, timeout=5000):
        qtbot.mouseClick(view.approve_button, Qt.MouseButton.LeftButton)
    d = drafts.get(rstore.db, did)
    assert (d.state, d.approved_by, d.body) == ("sent", "sue", text) and len(asked) == 2


# -- context: what the reply answers, why it is here, what it cites ---------------------------------
def test_review_shows_the_context(qtbot, rstore: Store, tasks: TaskManager) -> None:
    from agent_assist.store import articles

    articles.add(rstore, [{"key": "refund-times", "title": "Refund <times>", "body": "Refunds take 3 days.",
                           "locale": "en"}])
    [(aid,)] = rstore.db.conn.execute("SELECT id FROM articles").fetchall()
    tid = create_ticket(rstore, actor="email", customer_name="Tom Baker", customer_email="tom@ex.com",
                        subject="Refund", body_text="Where is my refund? It has been <two> weeks.", language="en")
    did = drafts.suggest(rstore, tid, AI_TEXT, actor="assistant", source="ai", citations=[aid],
                         provider="Local", model="smollm2")
    set_triage(rstore, tid, [("fraud", "an unknown purchase of 40 EUR")], sentiment=None)
    drafts.save_edit(rstore, did, AGENT_TEXT, actor="alex")
    submit(rstore, did)
    view = make_view(qtbot, rstore, tasks)
    text = view.context.toPlainText()
    assert "Where is my refund? It has been <two> weeks." in text  # the customer's words, as text
    assert "fraud: an unknown purchase of 40 EUR" in text
    assert f"[{aid}] Refund <times>" in text
    assert view.diff.left_title.text() == "<b>AI draft · Local · smollm2</b>"
    assert view.diff.right_title.text() == "<b>Agent’s text</b>"
    assert view.awaiting_model.index(0, 5).data() == "Awaiting approval"  # the list says it too


@pytest.mark.parametrize(("source", "label"), [("offline", "Offline suggestion"), ("human", "Written by alex")])
def test_the_first_text_is_labelled_by_its_source(qtbot, rstore: Store, tasks: TaskManager, source, label) -> None:
    tid = create_ticket(rstore, actor="email", customer_name="Tom Baker", customer_email="tom@ex.com",
                        subject="Refund", body_text="Where is my refund?", language="en")
    did = drafts.suggest(rstore, tid, AI_TEXT, actor="alex", source=source)
    set_triage(rstore, tid, [("fraud", "an unknown purchase")], sentiment=None)
    drafts.save_edit(rstore, did, AGENT_TEXT, actor="alex")
    submit(rstore, did)
    view = make_view(qtbot, rstore, tasks)
    assert view.diff.left_title.text() == f"<b>{label}</b>"
    assert "AI draft" not in view.diff.left_title.text()


def test_tickets_with_the_same_subject_show_their_date(qtbot, rstore: Store, tasks: TaskManager) -> None:
    for day in ("2026-11-02T09:00:00Z", "2026-11-20T15:30:00Z"):
        tid = create_ticket(rstore, actor="email", customer_name="Tom Baker", customer_email="tom@ex.com",
                            subject="Where is my refund?", body_text="Where is it?", language="en", created_at=day)
        did = drafts.suggest(rstore, tid, AI_TEXT, actor="assistant", source="ai")
        set_triage(rstore, tid, [("fraud", "an unknown purchase")], sentiment=None)
        drafts.save_edit(rstore, did, AGENT_TEXT, actor="alex")
        submit(rstore, did)
    make_draft(rstore, "Another question")
    view = make_view(qtbot, rstore, tasks)
    subjects = sorted(view.awaiting_model.index(r, 1).data() for r in range(view.awaiting_model.rowCount()))
    assert subjects == ["Another question", "Where is my refund? (02 Nov 2026 09:00)",
                        "Where is my refund? (20 Nov 2026 15:30)"]
    assert view.tabs.minimumWidth() >= 480
