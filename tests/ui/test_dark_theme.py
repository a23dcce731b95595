"""On a dark desktop the colours the app writes itself still read: the thread's message backgrounds
against the text, and the warning and note colours against the window."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from agent_assist.store import Store, drafts
from agent_assist.store.tickets import create_ticket, set_triage
from agent_assist.ui.theme import dark_palette
from tests.ui.conftest import wait_loaded


def contrast(a: QColor, b: QColor) -> float:
    """The WCAG contrast ratio of two colours (1 to 21; body text wants 4.5)."""
    def luminance(c: QColor) -> float:
        channels = [x / 255 for x in (c.red(), c.green(), c.blue())]
        r, g, b = ((x / 12.92) if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.fixture
def dark():
    app = QApplication.instance()
    before = app.palette()
    app.setPalette(dark_palette())
    yield app.palette()
    app.setPalette(before)


def test_thread_and_warnings_read_on_a_dark_palette(dark: QPalette, db_path: Path, make_window, qtbot):
    store = Store(db_path)
    tid = create_ticket(store, actor="email", customer_name="Tom Baker", customer_email="tom@example.com",
                        subject="Unknown purchase", body_text="I did not buy this.", language="en",
                        tags=["fraud"])
    set_triage(store, tid, [("fraud", "an unknown purchase")], sentiment=None)
    drafts.suggest(store, tid, "Hi Tom,\n\nWe are looking into it.", actor="assistant", source="offline")
    w = make_window(store)
    wait_loaded(qtbot, w, tid)
    text, window = dark.color(QPalette.ColorRole.Text), dark.color(QPalette.ColorRole.Window)

    thread = w.conversation.browser.toHtml()
    backgrounds = set(re.findall(r'bgcolor="(#[0-9a-fA-F]{6})"', thread))
    assert backgrounds, "the thread's messages have a background"
    for bg in backgrounds:
        assert contrast(QColor(bg), text) >= 4.5, f"message background {bg} under the text"

    shown = [w.conversation.header.text(), w.conversation.flags.text(), w.draft.banner.text()]
    assert w.draft.banner.isVisible(), "the four-eyes note is shown"
    colours = {c for html in shown for c in re.findall(r"color:\s*(#[0-9a-fA-F]{6})", html)}
    assert colours, "the flags and the banner are coloured"
    for colour in colours:
        assert contrast(QColor(colour), window) >= 4.5, f"text colour {colour} on the window"
    for tag_bg in re.findall(r"background:\s*(#[0-9a-fA-F]{6})", w.conversation.header.text()):
        assert contrast(QColor(tag_bg), dark.color(QPalette.ColorRole.WindowText)) >= 4.5, f"tag {tag_bg}"
    store.close()
