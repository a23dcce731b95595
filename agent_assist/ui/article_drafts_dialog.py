"""Article drafts in the window: propose a solved ticket's answer as an article; a supervisor publishes it.

:class:`ProposeArticleDialog` opens from the knowledge panel's "Propose as article…" on a solved
ticket (prefilled by ``assist.similar_tickets.article_draft``): the agent edits title and text and
proposes. :class:`ArticleDraftsDialog` (Knowledge → Article drafts…) lists the proposals; a
supervisor edits, publishes or discards each, an agent sees them and is told who decides. The store
(and on a team server the database) checks the role either way.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agent_assist.store import StoreError, article_drafts
from agent_assist.store.errors import InvalidTransitionError


class ProposeArticleDialog(QDialog):
    def __init__(self, draft: dict[str, str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Propose as article")
        self.draft = dict(draft)
        self.title_edit = QLineEdit(draft.get("title", ""))
        self.title_edit.setAccessibleName("Article title")
        self.body_edit = QPlainTextEdit(draft.get("body", ""))
        self.body_edit.setAccessibleName("Article text")
        note = QLabel("A supervisor reviews the proposal and publishes it to the knowledge base "
                      "(Knowledge → Article drafts…). Take out anything about this one customer.")
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Title", self.title_edit)
        form.addRow("Text", self.body_edit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.propose_button = buttons.addButton("Propose", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(560, 420)

    def values(self) -> dict[str, str]:
        return {**self.draft, "title": self.title_edit.text().strip(), "body": self.body_edit.toPlainText().strip()}


class ArticleDraftsDialog(QDialog):
    """The proposals waiting for a supervisor; publish or discard (a supervisor), or read (anyone)."""

    def __init__(self, store, *, user: str, supervisor: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.user = user
        self.supervisor = supervisor
        self.setWindowTitle("Article drafts")
        self.list = QListWidget()
        self.list.setAccessibleName("Article drafts waiting")
        self.title_edit = QLineEdit()
        self.title_edit.setAccessibleName("Article title")
        self.body_edit = QPlainTextEdit()
        self.body_edit.setAccessibleName("Article text")
        self.meta = QLabel()
        self.meta.setStyleSheet("color: gray")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.publish = QPushButton("Publish")
        self.discard = QPushButton("Discard")
        for button in (self.publish, self.discard):
            button.setEnabled(False)
        if not supervisor:
            self.message.setText("A supervisor publishes or discards these proposals.")
        self.publish.clicked.connect(lambda: self._decide(True))
        self.discard.clicked.connect(lambda: self._decide(False))
        self.list.currentRowChanged.connect(self._show)
        right = QVBoxLayout()
        right.addWidget(self.meta)
        right.addWidget(self.title_edit)
        right.addWidget(self.body_edit, 1)
        row = QHBoxLayout()
        row.addWidget(self.message, 1)
        row.addWidget(self.discard)
        row.addWidget(self.publish)
        right.addLayout(row)
        top = QHBoxLayout()
        top.addWidget(self.list, 1)
        top.addLayout(right, 2)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(close)
        self.resize(860, 480)
        self.drafts: list[article_drafts.ArticleDraft] = []
        self.reload()

    def reload(self) -> None:
        self.drafts = article_drafts.waiting(self.store.db)
        self.list.clear()
        for d in self.drafts:
            QListWidgetItem(f"{d.title}  ({d.locale.upper()}, {d.proposed_by})", self.list)
        if not self.drafts:
            self.meta.setText("No article drafts are waiting.")
            self.title_edit.clear()
            self.body_edit.clear()
        else:
            self.list.setCurrentRow(0)

    def _show(self, row: int) -> None:
        ok = 0 <= row < len(self.drafts)
        for button in (self.publish, self.discard):
            button.setEnabled(ok and self.supervisor)
        if not ok:
            return
        d = self.drafts[row]
        origin = f"from ticket #{d.ticket_id}" if d.ticket_id else "proposed"
        self.meta.setText(f"{origin} · proposed by {d.proposed_by} on {d.proposed_at[:10]} · {d.locale.upper()}")
        self.title_edit.setText(d.title)
        self.body_edit.setPlainText(d.body)
        self.title_edit.setReadOnly(not self.supervisor)
        self.body_edit.setReadOnly(not self.supervisor)

    def _decide(self, publish: bool) -> None:
        row = self.list.currentRow()
        if not 0 <= row < len(self.drafts):
            return
        d = self.drafts[row]
        try:
            article_id = article_drafts.decide(self.store, d.id, publish=publish, actor=self.user,
                                               title=self.title_edit.text(), body=self.body_edit.toPlainText())
        except (StoreError, InvalidTransitionError) as exc:
            self.message.setText(str(exc))
            return
        self.message.setText(f"Published as KB-{article_id}." if publish else "Discarded.")
        self.reload()
