"""Undo send from the supervisor's review: a four-eyes approval waits ``send.undo_seconds`` with an Undo, as
the main window's Approve & send does, then goes out through the window's one send path."""

from __future__ import annotations

import time

import pytest

from agent_assist.settings import Settings
from agent_assist.store import drafts
from tests.ui.four_eyes_desks import ask_for_approval as _ask_for_approval
from tests.ui.four_eyes_desks import outbound as _outbound
from tests.ui.four_eyes_desks import review as _review
from tests.ui.four_eyes_desks import two_desks as _two_desks

pytestmark = [pytest.mark.undo_send, pytest.mark.both_backends]


def _undo_seconds(seconds: int) -> None:
    settings = Settings()
    settings.set("send.undo_seconds", seconds)
    settings.save()


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
