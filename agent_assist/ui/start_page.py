"""The first run: an empty database shows what to do next instead of "0 tickets" and nothing else.

Shown over the conversation while the database has no ticket at all; it goes away by itself as soon
as the first ticket arrives (from the mailbox, an import, another desk). Each step is a button that
opens the place where it is done.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class StartPage(QFrame):
    def __init__(self, *, mailbox: Callable[[], None], knowledge: Callable[[], None], team: Callable[[], None],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("startPage")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        title = QLabel("<h2>Welcome to Agent Assist</h2>This database has no tickets yet. Three steps get a desk going:")
        title.setWordWrap(True)
        self.buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        steps = (
            ("mailbox", "Connect the support mailbox…", mailbox,
             "New e-mails become tickets; replies go out from the same address."),
            ("knowledge", "Import your help-centre articles…", knowledge,
             "Markdown, HTML, text, CSV or JSON exports: drafts cite them, and search works offline."),
            ("team", "Work with a team server…", team,
             "A shared PostgreSQL where the server checks who may approve and send."),
        )
        for row, (key, text, slot, why) in enumerate(steps):
            button = QPushButton(text)
            button.setObjectName(f"startPage_{key}")
            button.clicked.connect(slot)
            self.buttons[key] = button
            note = QLabel(why)
            note.setWordWrap(True)
            grid.addWidget(button, row, 0)
            grid.addWidget(note, row, 1)
        grid.setColumnStretch(1, 1)
        demo = QLabel("Just looking? Start <code>agent-assist --demo</code> for a copy with 360 sample tickets in six "
                      "languages.")
        demo.setWordWrap(True)
        demo.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(grid)
        layout.addWidget(demo)
        layout.addStretch(1)
