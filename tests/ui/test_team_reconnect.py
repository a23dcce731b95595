"""The team server restarts under a working desk: "reconnecting…", nothing typed is lost, the queue catches up.

These tests stop and start a real PostgreSQL, so they run on a private cluster of their own, never
on the session's shared one.
"""

from __future__ import annotations

import psycopg

from agent_assist.store import drafts, tickets
from agent_assist.store.unsent import UnsentReplies
from tests.backends import TeamDatabase, seed
from tests.conftest import small_dataset
from tests.ui.conftest import wait_loaded



def _open(qtbot, window, ticket_id: int) -> None:
    window.queue.status.setCurrentIndex(window.queue.status.findData(()))
    qtbot.waitUntil(lambda: window.model.row_of(ticket_id) >= 0, timeout=5000)
    window.queue.select_row(window.model.row_of(ticket_id))
    wait_loaded(qtbot, window, ticket_id)


def _saved_text(private_team: TeamDatabase, ticket_id: int) -> str | None:
    with psycopg.connect(private_team.admin_url, autocommit=True, options="-c search_path=agent_assist") as conn:
        row = conn.execute("SELECT body FROM drafts WHERE ticket_id = %s AND state NOT IN ('sent', 'discarded') "
                           "ORDER BY id DESC LIMIT 1", (ticket_id,)).fetchone()
    return row[0] if row else None


def test_restart_shows_reconnecting_keeps_the_reply_and_catches_up(private_team, make_window, qtbot):
    alex = private_team.desk("alex")
    seed(alex, small_dataset())
    window = make_window(alex, "alex")
    _open(qtbot, window, 1)
    qtbot.waitUntil(lambda: window.status_live.text() == "● live", timeout=5000)  # not "working…" any more

    private_team.server.stop()
    qtbot.waitUntil(lambda: window.status_live.text() == "● reconnecting…", timeout=10000)
    assert "not reachable" in window.statusBar().currentMessage()
    typed = "Hi Anna, I have refunded the duplicate charge; it shows on your card within 3 days."
    window.draft.editor.setPlainText(typed)

    # saving while the server is away: the text is kept on this desk, said in words, never a traceback
    assert window.save_draft_edits() is False
    kept = UnsentReplies().get(alex.path, 1)
    assert kept is not None and kept.text == typed
    assert "kept on this desk" in window.statusBar().currentMessage()
    assert window.draft.text() == typed

    private_team.server.resume()
    qtbot.waitUntil(lambda: window.status_live.text() == "● live", timeout=20000)
    # back online: the reply typed meanwhile is on the server, and the local copy is gone
    qtbot.waitUntil(lambda: _saved_text(private_team, 1) == typed, timeout=5000)
    assert UnsentReplies().get(alex.path, 1) is None
    assert window.draft.text() == typed and not window.draft.is_modified()

    # another desk writes after the restart: this desk's queue shows it (NOTIFY on the new listener)
    sue = private_team.desk("sue")
    new_id = tickets.create_ticket(sue, actor="sue", customer_name="Lena Berg", customer_email="lena@example.se",
                                   subject="Kortet nekades vid kassan", body_text="Mitt kort nekades igår.")
    qtbot.waitUntil(lambda: window.model.row_of(new_id) >= 0, timeout=5000)


def test_reply_typed_while_away_survives_closing_the_window(private_team, make_window, qtbot):
    alex = private_team.desk("alex")
    seed(alex, small_dataset())
    window = make_window(alex, "alex")
    _open(qtbot, window, 2)
    private_team.server.stop()
    qtbot.waitUntil(lambda: window.status_live.text() == "● reconnecting…", timeout=10000)
    typed = "Hello, the replacement card is on its way; tracking follows by e-mail."
    window.draft.editor.setPlainText(typed)
    window.close()  # the person quits while the server is away
    assert UnsentReplies().get(alex.path, 2).text == typed

    private_team.server.resume()
    again = private_team.desk("alex")
    second = make_window(again, "alex")
    _open(qtbot, second, 2)
    assert second.draft.text() == typed  # put back in the editor, said in a banner
    assert "Put back the reply you typed" in second.draft.banner.text()
    second.save_draft_edits()
    assert drafts.active_for_ticket(again.db, 2).body == typed
    assert UnsentReplies().get(again.path, 2) is None
