"""A coherent look: each ticket state has its colour in the queue (light and dark), and each person in a
thread an initials badge in a colour of their own."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from agent_assist.ui import theme
from agent_assist.ui.conversation_view import _message_html
from agent_assist.ui.queue_model import _status_brush
from agent_assist.store import Store, tickets


def _contrast(a: QColor, b: QColor) -> float:
    def lum(c: QColor) -> float:
        def ch(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF())
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_initials_and_their_colours_are_stable_and_readable() -> None:
    assert theme.initials("Marcus Wright") == "MW" and theme.initials("sam") == "S"
    assert theme.initials("  ") == "?" and theme.initials("Åsa Öberg-Lind") == "ÅÖ"
    assert theme.avatar_color("Marcus Wright") == theme.avatar_color("marcus wright ")
    assert len({theme.avatar_color(n) for n in ("Ana", "Bea", "Kim", "Lee", "Sam", "Sue", "Tom")}) >= 4
    for colour in theme.AVATARS:
        assert _contrast(QColor(colour), QColor("#ffffff")) >= 4.5, colour


def test_each_state_has_a_colour_that_reads_on_light_and_dark(qapp) -> None:
    light_base, dark_base = QColor("#ffffff"), QColor("#1e1e1e")
    for status, (light, dark) in theme.STATUS.items():
        assert _contrast(QColor(light), light_base) >= 4.5, status
        assert _contrast(QColor(dark), dark_base) >= 4.5, status
    assert _status_brush("awaiting_approval").color() != _status_brush("new").color()
    assert _status_brush("open") is None  # the palette's own text


def test_the_thread_shows_each_writer_with_an_initials_badge(small_store: Store) -> None:
    html = _message_html(tickets.get_ticket(small_store.db, 1))
    ticket = tickets.get_ticket(small_store.db, 1)
    first = ticket.messages[0]
    name = first.author or ticket.customer_name
    assert f"&nbsp;{theme.initials(name)}&nbsp;" in html and theme.avatar_color(name) in html
