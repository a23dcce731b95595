"""The few colours the app sets itself, for a light and for a dark desktop.

The app has no theme of its own: Qt takes the desktop's palette (light or dark, as the person chose
it in GNOME, KDE, Windows or macOS) and ``resources/style.qss`` only uses ``palette(...)`` roles. The
colours written into rich text (a warning's red, a message's background) cannot name a palette role,
so each is a pair and :func:`tone` picks the one that reads on the current palette.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette

WARNING = ("#b71c1c", "#ff8a80")
"""Red text: flags, failed delivery, a citation that points nowhere."""
NOTE = ("#5d4037", "#d7b8a8")
"""A rule's or the channel's note (four eyes, human-only, the message was cut)."""
MUTED = ("#555555", "#b0b0b0")
"""Secondary text: who wrote a message, and when."""
INBOUND = ("#f5f5f5", "#303030")
OUTBOUND = ("#e8f0fe", "#1f2d44")
"""The background of a customer's message and of a reply in the thread."""
TAG = ("#eceff1", "#3c4248")
RESTORED = ("#fff3c4", "#5a4a00")
"""The background of a value put back into the reply from the thread."""


# each ticket state its colour in the queue (None: the palette's own text); names as QueueRow.status reads
STATUS = {
    "new": ("#0b57d0", "#8ab4f8"),  # nobody has answered yet
    "pending": ("#616161", "#a8a8a8"),  # waiting for the customer
    "awaiting_approval": ("#8a5300", "#ffc470"),  # waiting for a supervisor
    "solved": ("#2e7d32", "#81c995"),
    "closed": ("#757575", "#9e9e9e"),
}
# initials badges of the people in a thread: dark enough for white letters on light and dark desktops
AVATARS = ("#3949ab", "#00796b", "#6d4c41", "#8e24aa", "#c2185b", "#455a64", "#2e7d32", "#ad1457", "#5e35b1",
           "#00838f")


def initials(name: str) -> str:
    """Up to two letters of a name ("Marcus Wright" -> "MW", "sam" -> "S"); "?" when it has none."""
    firsts = [next((ch for ch in word if ch.isalpha()), "") for word in (name or "").split()]
    firsts = [ch for ch in firsts if ch]  # a hyphenated name is one word: "Öberg-Lind" gives "Ö"
    if not firsts:
        return "?"
    return (firsts[0] + (firsts[-1] if len(firsts) > 1 else "")).upper()


def avatar_color(name: str) -> str:
    """The same colour for the same person, every time (a stable hash, not Python's salted one)."""
    total = sum((i + 1) * ord(ch) for i, ch in enumerate((name or "").strip().lower()))
    return AVATARS[total % len(AVATARS)]


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether the palette (the application's by default) has light text on a dark window."""
    palette = palette or QGuiApplication.palette()
    window, text = palette.color(QPalette.ColorRole.Window), palette.color(QPalette.ColorRole.WindowText)
    return window.lightness() < text.lightness()


def tone(pair: tuple[str, str], palette: QPalette | None = None) -> str:
    return pair[1] if is_dark(palette) else pair[0]


def dark_palette() -> QPalette:
    """A dark desktop's palette, as GNOME, KDE, Windows or macOS in dark mode hand it to Qt (for the
    screenshots and the tests: the app itself always takes the desktop's)."""
    p = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    for r, color in ((role.Window, "#2b2b2b"), (role.WindowText, "#e8e8e8"), (role.Base, "#1e1e1e"),
                     (role.AlternateBase, "#262626"), (role.Text, "#e8e8e8"), (role.Button, "#353535"),
                     (role.ButtonText, "#e8e8e8"), (role.Highlight, "#2f65ca"), (role.HighlightedText, "#ffffff"),
                     (role.ToolTipBase, "#353535"), (role.ToolTipText, "#e8e8e8"), (role.Link, "#8ab4f8"),
                     (role.LinkVisited, "#c58af9"), (role.PlaceholderText, "#9a9a9a"), (role.BrightText, "#ff6b6b"),
                     (role.Light, "#4a4a4a"), (role.Midlight, "#3e3e3e"), (role.Mid, "#2f2f2f"),
                     (role.Dark, "#1a1a1a"), (role.Shadow, "#000000")):
        p.setColor(r, QColor(color))
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(group.Disabled, r, QColor("#7a7a7a"))
    return p
