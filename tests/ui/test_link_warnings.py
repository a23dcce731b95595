"""Customer links that point elsewhere than their text says: a warning on hover and on click."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QMessageBox, QToolTip

from agent_assist.store import Store
from agent_assist.store.tickets import create_ticket, get_ticket
from agent_assist.ui.conversation_view import ConversationView

PHISH = ('<p>Please confirm your payment at <a href="https://lumopay-secure.example.net/login">www.lumopay.se</a> '
         'or read <a href="https://www.lumopay.se/help/refunds">our help pages</a>.</p>')


def open_phish(store: Store, qtbot) -> ConversationView:
    tid = create_ticket(store, actor="mail", customer_name="Lumo Pay", customer_email="no-reply@lumopay.example.net",
                        subject="Confirm your payment", body_text="Please confirm your payment.", body_html=PHISH)
    view = ConversationView()
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    qtbot.waitExposed(view)
    view.set_ticket(get_ticket(store.db, tid))
    return view


def anchor_point(view: ConversationView, href: str) -> QPoint:
    """Where the link to ``href`` is drawn, in the browser's viewport."""
    doc = view.browser.document()
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().anchorHref() == href:
                cursor = QTextCursor(doc)
                cursor.setPosition(fragment.position() + 1)
                return view.browser.cursorRect(cursor).center()
            it += 1
        block = block.next()
    raise AssertionError(f"no link to {href}")


def test_hovering_a_link_whose_text_names_another_site_warns(small_store: Store, qtbot):
    view = open_phish(small_store, qtbot)
    where = anchor_point(view, "https://lumopay-secure.example.net/login")
    with qtbot.waitSignal(view.browser.linkWarningShown, timeout=5000) as shown:
        qtbot.mouseMove(view.browser.viewport(), where)
    assert shown.args[0] == ("⚠ This link may not be what it seems: its text says www.lumopay.se but it leads to "
                             "lumopay-secure.example.net.")
    assert QToolTip.text() == shown.args[0]
    honest = anchor_point(view, "https://www.lumopay.se/help/refunds")
    with qtbot.assertNotEmitted(view.browser.linkWarningShown, wait=100):
        qtbot.mouseMove(view.browser.viewport(), honest)


def test_clicking_it_warns_in_the_confirmation(small_store: Store, qtbot, make_window, monkeypatch):
    window = make_window(small_store)
    tid = create_ticket(small_store, actor="mail", customer_name="Lumo Pay", customer_email=None,
                        subject="Confirm your payment", body_text="Confirm.", body_html=PHISH)
    window.conversation.set_ticket(get_ticket(small_store.db, tid))
    asked: list[str] = []

    def question(parent, title, text, *args, **kwargs):  # the person says No
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", question)
    browser = window.conversation.browser
    for href in ("https://lumopay-secure.example.net/login", "https://www.lumopay.se/help/refunds"):
        view_point = anchor_point(window.conversation, href)
        with qtbot.waitSignal(browser.linkActivated, timeout=5000):
            qtbot.mouseClick(browser.viewport(), Qt.MouseButton.LeftButton, pos=view_point)
    assert len(asked) == 2
    assert asked[0].startswith("⚠ This link may not be what it seems: its text says www.lumopay.se")
    assert "lumopay-secure.example.net" in asked[0]
    assert not asked[1].startswith("⚠")  # an honest link: the usual question only
