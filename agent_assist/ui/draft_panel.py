"""The reply being prepared: an editable draft, its citations, and Approve & send."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agent_assist.store.drafts import Draft

_CITATION = re.compile(r"\[KB-(\d+)\]")


class DraftPanel(QWidget):
    approveRequested = Signal()
    regenerateRequested = Signal()
    citationActivated = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.draft: Draft | None = None
        self.title = QLabel("<b>Reply</b>")
        self.source = QLabel()
        self.source.setObjectName("draftSource")
        self.source.setAccessibleName("Draft source")
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("draftEditor")
        self.editor.setAccessibleName("Reply text")
        self.editor.setPlaceholderText("Write the reply here, or let the suggestion do the typing.")
        self.editor.setTabChangesFocus(True)
        self.citations = QLabel()
        self.citations.setObjectName("draftCitations")
        self.citations.setAccessibleName("Citations")
        self.citations.setTextFormat(Qt.TextFormat.RichText)
        self.citations.linkActivated.connect(lambda href: self.citationActivated.emit(int(href.split(":")[1])))
        self.after = QComboBox()
        self.after.setAccessibleName("Ticket status after sending")
        self.after.addItem("→ Pending", "pending")
        self.after.addItem("→ Solved", "solved")
        self.after.setToolTip("The ticket's status after the reply is sent")
        self.regenerate = QPushButton("Regenerate")
        self.regenerate.setAccessibleName("Regenerate draft")
        self.regenerate.setToolTip("Discard this draft and suggest a new one (Ctrl+Shift+G)")
        self.regenerate.clicked.connect(self.regenerateRequested)
        self.approve = QPushButton("Approve && send  (Ctrl+Enter)")
        self.approve.setObjectName("approveButton")
        self.approve.setAccessibleName("Approve and send")
        self.approve.setToolTip("Send this reply to the customer as it is written (Ctrl+Enter)")
        self.approve.setDefault(False)
        self.approve.clicked.connect(self.approveRequested)
        self.editor.textChanged.connect(self._update_state)

        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.source)
        buttons = QHBoxLayout()
        buttons.addWidget(self.regenerate)
        buttons.addStretch(1)
        buttons.addWidget(self.after)
        buttons.addWidget(self.approve)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.citations)
        layout.addLayout(buttons)
        self.set_draft(None)

    def set_draft(self, draft: Draft | None, *, keep_text: bool = False) -> None:
        """Show a draft. With ``keep_text`` the editor keeps what the agent typed."""
        self.draft = draft
        if not keep_text:
            self.editor.setPlainText(draft.body if draft else "")
        if draft is None:
            self.source.setText("")
        else:
            origin = {"offline": "Offline suggestion", "ai": f"AI draft · {draft.model or ''}"}.get(
                draft.source, draft.source)
            state = draft.state.replace("_", " ")
            self.source.setText(f"<i>{origin} · {state}</i>")
        self._update_state()

    def set_enabled_for_ticket(self, enabled: bool) -> None:
        self.editor.setReadOnly(not enabled)
        self._update_state()

    def text(self) -> str:
        return self.editor.toPlainText()

    def is_modified(self) -> bool:
        return self.draft is not None and self.text() != self.draft.body

    def insert_text(self, text: str) -> None:
        cursor = self.editor.textCursor()
        if cursor.positionInBlock() > 0:
            text = "\n" + text
        cursor.insertText(text)
        self.editor.setTextCursor(cursor)
        self.editor.setFocus()

    def status_after(self) -> str:
        return self.after.currentData()

    def cited_ids(self) -> list[int]:
        return [int(n) for n in dict.fromkeys(_CITATION.findall(self.text()))]

    def _update_state(self) -> None:
        ids = self.cited_ids()
        self.citations.setText(
            "Cites: " + ", ".join(f'<a href="kb:{i}">KB-{i}</a>' for i in ids) if ids else "")
        self.approve.setEnabled(self.draft is not None and bool(self.text().strip()) and not self.editor.isReadOnly())
