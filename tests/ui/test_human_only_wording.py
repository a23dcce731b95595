"""What the reply panel says on a human-only ticket, and hints that never hide a rule's warning."""

from __future__ import annotations

from PySide6.QtCore import Qt

from agent_assist.store import Store
from agent_assist.store.tickets import set_triage
from tests.ui.conftest import wait_loaded


def _open(qtbot, window, ticket_id: int) -> None:
    window.queue.select_row(window.model.row_of(ticket_id))
    wait_loaded(qtbot, window, ticket_id)


def test_a_human_only_reply_is_written_by_a_person(small_store: Store, make_window, qtbot):
    set_triage(small_store, 1, [("vulnerability", "mentions a recent bereavement")], sentiment=None)
    w = make_window(small_store)
    _open(qtbot, w, 1)
    source = w.draft.source.text()
    assert "Written by a person" in source
    assert "human" not in source.replace("Written by a person", "").lower()
    assert "suggested" not in source.lower()
    placeholder = w.draft.editor.placeholderText()
    assert "a person writes it" in placeholder and "let the suggestion do the typing" not in placeholder
    assert w.draft.text() == ""
    # a ticket with a suggestion keeps the usual words
    _open(qtbot, w, 2)
    assert w.draft.source.text().startswith("Offline suggestion")
    assert "let the suggestion do the typing" in w.draft.editor.placeholderText()


def test_the_ai_hint_sits_beside_the_four_eyes_warning(small_store: Store, make_window, qtbot):
    set_triage(small_store, 3, [("fraud", "does not recognise a purchase")], sentiment=None)
    w = make_window(small_store)
    _open(qtbot, w, 3)
    assert w.draft.banner.isVisible() and "Four eyes" in w.draft.banner.text()
    qtbot.keyClick(w, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)  # no AI model is set up
    qtbot.waitUntil(lambda: w.draft.hint.isVisible())
    assert "Turn on an AI model" in w.draft.hint.text()
    assert w.draft.banner.isVisible() and "Four eyes" in w.draft.banner.text()  # both visible
    _open(qtbot, w, 1)
    assert not w.draft.hint.isVisible()  # the hint was for that moment, that ticket
