"""The first run: an empty database shows the next steps, which go away when the first ticket arrives."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

from agent_assist.store import Store
from agent_assist.store.tickets import create_ticket
from agent_assist.ui.settings_dialog import SettingsDialog


def test_an_empty_database_shows_the_next_steps_until_a_ticket_arrives(tmp_path: Path, make_window, qtbot):
    with Store(tmp_path / "new.db") as store:
        window = make_window(store, "alex")
        assert window.start_page.isVisible() and not window.conversation.isVisible()
        assert not window.draft.isVisible(), "no ticket, no reply: the steps have the column"
        assert set(window.start_page.buttons) == {"mailbox", "knowledge", "team"}

        window.start_page.buttons["mailbox"].click()  # opens Preferences where the mailbox is set up
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, SettingsDialog) and w.isVisible())
        assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Mailbox"
        dialog.reject()
        window.start_page.buttons["team"].click()
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, SettingsDialog) and w.isVisible())
        assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Team server"
        dialog.reject()

        with Store(tmp_path / "new.db") as mailroom:  # the first e-mail arrives (another connection)
            create_ticket(mailroom, actor="email", customer_name="Tom Baker", customer_email="tom@example.com",
                          subject="Late fee", body_text="Why was I charged a late fee?")
        qtbot.waitUntil(lambda: not window.start_page.isVisible(), timeout=5000)
        assert window.conversation.isVisible() and window.draft.isVisible() and window.model.rowCount() == 1


def test_a_database_with_tickets_never_shows_it(small_store, make_window):
    window = make_window(small_store, "alex")
    assert not window.start_page.isVisible() and window.conversation.isVisible()
