"""The reply being prepared: an editable draft, AI drafting and rewrites, citations, Approve & send.

Model output never lands on text the agent typed: it streams into the *preview*
box above the editor, and moves into the editor only when the editor still holds
an untouched suggestion, or when the agent presses **Use this draft**. Rewrites
replace the editor text as one undoable edit (Ctrl+Z brings the old text back).
"""

from __future__ import annotations

import html
import re
from dataclasses import replace

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from agent_assist.assist import workspace
from agent_assist.assist.redact import Restored
from agent_assist.store import Store, feedback
from agent_assist.store.drafts import Draft
from agent_assist.ui.sizing import ReflowRow
from agent_assist.ui.tasks import TaskManager
from agent_assist.ui.theme import NOTE, RESTORED, WARNING, tone

_CITATION = re.compile(r"\[KB-(\d+)\]")
SUGGESTION_PLACEHOLDER = "Write the reply here, or let the suggestion do the typing."
HUMAN_PLACEHOLDER = "Write the reply here: on this ticket a person writes it, no suggestion is offered."
REWRITES = (("shorter", "Shorter"), ("warmer", "Warmer, more empathetic"), ("formal", "More formal"),
            ("grammar", "Fix grammar and spelling"))
TRANSLATE_TO = (("en", "English"), ("sv", "Swedish"), ("de", "German"), ("es", "Spanish"), ("fr", "French"),
                ("nl", "Dutch"))


class ElidedLabel(QLabel):
    """One line of italic text that is elided (…) instead of widening the window; the full text is its tooltip."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._full = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(0)
        font = self.font()
        font.setItalic(True)
        self.setFont(font)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._elide()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(0, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(min(super().sizeHint().width(), 240), super().sizeHint().height())

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, max(0, self.width()))
        if shown != super().text():
            super().setText(shown)


class DraftPanel(QWidget):
    approveRequested = Signal()
    regenerateRequested = Signal()
    aiDraftRequested = Signal()
    stopRequested = Signal()
    rewriteRequested = Signal(str, object)  # action, target language (translate) or None
    translateRequested = Signal()
    citationActivated = Signal(int)
    previewUsed = Signal()
    feedbackGiven = Signal(int, str)
    """draft id, reason: the agent marked the suggestion not useful, and it is stored."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.draft: Draft | None = None
        self.source_note = ""
        self.busy = False
        self._ai_available = False
        self._ai_why = ""
        self.known_articles: set[int] | None = None  # None: not checked
        self.suspect_citations: set[int] = set()  # real articles the model should not have cited here
        self.flag_reasons: list[str] = []
        self.title = QLabel("<b>Reply</b>")
        self.source = ElidedLabel()
        self.source.setObjectName("draftSource")
        self.source.setAccessibleName("Draft source")

        self.ai_button = QPushButton("AI draft")
        self.ai_button.setObjectName("aiDraftButton")
        self.ai_button.setAccessibleName("Draft with AI")
        self.ai_button.setToolTip("Stream a reply from the AI model, grounded in the knowledge base (Ctrl+D)")
        self.ai_button.clicked.connect(self.aiDraftRequested)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setAccessibleName("Stop the AI")
        self.stop_button.setToolTip("Stop the model (Esc)")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stopRequested)
        self.rewrite_button = QPushButton("Rewrite")  # a push button with a menu: the row's height and look
        self.rewrite_button.setObjectName("rewriteButton")
        self.rewrite_button.setAccessibleName("Rewrite the draft")
        menu = QMenu(self.rewrite_button)
        self.rewrite_actions: dict[str, QAction] = {}
        for action, label in REWRITES:
            act = menu.addAction(label)
            act.triggered.connect(lambda _c=False, a=action: self.rewriteRequested.emit(a, None))
            self.rewrite_actions[action] = act
        translate_menu = menu.addMenu("Translate to")
        for code, label in TRANSLATE_TO:
            act = translate_menu.addAction(label)
            act.triggered.connect(lambda _c=False, c=code: self.rewriteRequested.emit("translate", c))
            self.rewrite_actions[f"translate:{code}"] = act
        self.rewrite_button.setMenu(menu)
        self.translate_button = QPushButton("Translate for me")
        self.translate_button.setAccessibleName("Translate the draft into my language")
        self.translate_button.setToolTip("Show the draft in your language, for reading only (Ctrl+T)")
        self.translate_button.clicked.connect(self.translateRequested)

        self.banner = QLabel()
        self.banner.setObjectName("draftBanner")
        self.banner.setAccessibleName("Draft message")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.hide()
        self.hint = QLabel()
        self.hint.setObjectName("draftHint")
        self.hint.setAccessibleName("Hint")
        self.hint.setWordWrap(True)
        self.hint.setTextFormat(Qt.TextFormat.PlainText)
        self.hint.hide()

        self.preview_label = QLabel()
        self.preview_label.setObjectName("previewLabel")
        self.preview = QPlainTextEdit()
        self.preview.setObjectName("draftPreview")
        self.preview.setAccessibleName("AI output")
        self.preview.setReadOnly(True)
        self.use_button = QPushButton("Use this draft")
        self.use_button.setAccessibleName("Use the AI draft")
        self.use_button.clicked.connect(self.previewUsed)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setAccessibleName("Dismiss the AI output")
        self.dismiss_button.clicked.connect(self.hide_preview)
        self.preview_box = QWidget()
        pv = QVBoxLayout(self.preview_box)
        pv.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.preview_label, 1)
        row.addWidget(self.use_button)
        row.addWidget(self.dismiss_button)
        pv.addLayout(row)
        pv.addWidget(self.preview, 1)
        self.preview_box.hide()

        self.editor = QPlainTextEdit()
        self.editor.setObjectName("draftEditor")
        self.editor.setAccessibleName("Reply text")
        self.editor.setPlaceholderText(SUGGESTION_PLACEHOLDER)
        self.editor.setTabChangesFocus(True)
        self.citations = QLabel()
        self.citations.setObjectName("draftCitations")
        self.citations.setAccessibleName("Citations")
        self.citations.setTextFormat(Qt.TextFormat.RichText)
        self.citations.setWordWrap(True)  # many citations wrap instead of widening the pane
        self.citations.linkActivated.connect(lambda href: self.citationActivated.emit(int(href.split(":")[1])))
        self.restored_values: list[Restored] = []
        self.restored_note = QLabel()
        self.restored_note.setObjectName("restoredNote")
        self.restored_note.setAccessibleName("Values put back from the thread")
        self.restored_note.setWordWrap(True)
        self.restored_note.hide()
        self.confirm_flagged = QCheckBox()
        self.confirm_flagged.setObjectName("confirmFlagged")
        self.confirm_flagged.setAccessibleName("Confirm the flagged reply")
        self.confirm_flagged.hide()
        self.confirm_why = QLabel()  # the checkbox cannot wrap: its reason is a label that can
        self.confirm_why.setObjectName("confirmFlaggedWhy")
        self.confirm_why.setWordWrap(True)
        self.confirm_why.hide()
        self.confirm_flagged.toggled.connect(self._update_state)
        self.after = QComboBox()
        self.after.setAccessibleName("Ticket status after sending")
        self.after.addItem("→ Pending", "pending")
        self.after.addItem("→ Solved", "solved")
        self.after.setToolTip("The ticket's status after the reply is sent")
        self.regenerate = QPushButton("Regenerate")
        self.regenerate.setAccessibleName("Regenerate draft")
        self.regenerate.setToolTip("Discard this draft and suggest a new one (Ctrl+Shift+G)")
        self.regenerate.clicked.connect(self.regenerateRequested)
        send_keys = QKeySequence("Ctrl+Return").toString(QKeySequence.SequenceFormat.NativeText)  # as F1 says
        self.approve = QPushButton(f"Approve && send  ({send_keys})")
        self.approve.setObjectName("approveButton")
        self.approve.setAccessibleName("Approve and send")
        self.approve.setToolTip(f"Send this reply to the customer as it is written ({send_keys})")
        self.approve.clicked.connect(self.approveRequested)
        self.editor.textChanged.connect(self._update_state)
        self.not_useful = QPushButton("Not useful")
        self.not_useful.setObjectName("notUsefulButton")
        self.not_useful.setAccessibleName("Mark the suggestion not useful")
        self.not_useful.setToolTip("Tell the team why this suggestion did not help (counted on the quality "
                                   "dashboard)")
        feedback_menu = QMenu(self.not_useful)
        self.feedback_actions: dict[str, QAction] = {}
        for reason, label in feedback.REASONS.items():
            act = feedback_menu.addAction(label)
            act.triggered.connect(lambda _checked=False, r=reason: self.mark_not_useful(r))
            self.feedback_actions[reason] = act
        self.not_useful.setMenu(feedback_menu)
        self._feedback_to: tuple[Store, TaskManager, str] | None = None

        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.source, 1)  # a long model name is elided, never crowds the buttons
        tools = QHBoxLayout()
        tools.addWidget(self.ai_button)
        tools.addWidget(self.stop_button)
        tools.addWidget(self.rewrite_button)
        tools.addWidget(self.translate_button)
        tools.addStretch(1)
        self.buttons = ReflowRow([self.regenerate, self.not_useful], [self.after, self.approve])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addLayout(tools)
        layout.addWidget(self.banner)
        layout.addWidget(self.hint)
        layout.addWidget(self.preview_box, 2)
        layout.addWidget(self.editor, 3)
        layout.addWidget(self.citations)
        layout.addWidget(self.restored_note)
        layout.addWidget(self.confirm_flagged)
        layout.addWidget(self.confirm_why)
        layout.addWidget(self.buttons)
        self.set_ai_available(False, "Turn on an AI model in Preferences (Ctrl+,)")
        self.set_draft(None)

    # -- feedback on the suggestion --------------------------------------------------------
    def enable_feedback(self, store: Store, tasks: TaskManager, user: str) -> None:
        """Where "Not useful" is stored, and as whom (the window gives its store and task gateway)."""
        self._feedback_to = (store, tasks, user)
        self._update_feedback()

    def _update_feedback(self) -> None:
        draft = self.draft
        machine = draft is not None and draft.source != "human"  # a person's own text is not a suggestion
        self.not_useful.setVisible(machine)
        self.not_useful.setEnabled(machine and self._feedback_to is not None
                                   and draft.state not in ("sent", "discarded"))

    def mark_not_useful(self, reason: str) -> None:
        """Store the agent's "not useful" for the suggestion shown (kept first if it was not stored yet)."""
        if self._feedback_to is None or self.draft is None or self.draft.source == "human":
            return
        store, tasks, user = self._feedback_to
        shown = self.draft

        def job() -> Draft:
            kept = workspace.keep_draft(store, shown, agent=user)
            feedback.mark_not_useful(store, kept.id, reason, actor=user)
            return kept

        def done(kept: Draft) -> None:
            if self.draft is not None and self.draft.ticket_id == kept.ticket_id and not self.draft.saved:
                self.draft = replace(self.draft, id=kept.id)  # now stored: later feedback goes to the same row
            self.show_hint(f"Thank you: the suggestion is marked not useful ({feedback.REASONS[reason].lower()}).")
            self.feedbackGiven.emit(kept.id, reason)

        def failed(exc: BaseException) -> None:
            self.show_hint(f"The feedback could not be stored: {exc}")

        self.not_useful.setEnabled(False)
        tasks.run(job, lambda kept: (done(kept), self._update_feedback()),
                  lambda exc: (failed(exc), self._update_feedback()), key=f"draft-feedback-{id(self)}", owner=self)

    # -- the draft ------------------------------------------------------------------------
    def set_draft(self, draft: Draft | None, *, keep_text: bool = False) -> None:
        """Show a draft. With ``keep_text`` the editor keeps what the agent typed."""
        self.draft = draft
        if not keep_text:
            self.mark_restored(())
            self.suspect_citations = set()
            self.source_note = ""
            self.editor.setPlainText(draft.body if draft else "")
        self.editor.setPlaceholderText(HUMAN_PLACEHOLDER if draft is not None and draft.source == "human"
                                       else SUGGESTION_PLACEHOLDER)
        self.hide_hint()
        self._update_feedback()
        self._show_source()
        self._update_state()

    def set_source_note(self, note: str) -> None:
        """A word after the draft's state, such as “cut off” for a reply that hit the length limit."""
        self.source_note = note
        self._show_source()

    def _show_source(self) -> None:
        draft = self.draft
        if draft is None:
            self.source.setText("")
            return
        if draft.source == "human":  # a person writes it: nothing was "suggested"
            origin = "Written by a person" + (f" ({draft.created_by})" if draft.saved and draft.created_by else "")
            state = "" if draft.state == "suggested" else draft.state.replace("_", " ")
        else:
            origin = {"offline": "Offline suggestion",
                      "ai": " · ".join(p for p in ("AI draft", draft.provider or "", draft.model or "") if p)}.get(
                draft.source, draft.source)
            state = draft.state.replace("_", " ")
        parts = [p for p in (origin, state, self.source_note) if p]
        self.source.setText(" · ".join(parts))

    def mark_restored(self, restored: list[Restored] | tuple[Restored, ...]) -> None:
        """Highlight the values put back in place of placeholders and list them under the editor."""
        unique: dict[str, Restored] = {}
        for r in restored:
            unique.setdefault(r.shown, r)
        self.restored_values = list(unique.values())
        if not self.restored_values:
            self.restored_note.hide()
            self.restored_note.clear()
        else:
            kinds = {"CARD": "card", "IBAN": "IBAN", "EMAIL": "e-mail", "PHONE": "phone",
                     "PERSONNUMMER": "personnummer", "SSN": "SSN"}
            listed = "; ".join(f"{r.shown} ({kinds.get(r.kind, r.kind.lower())}{', masked' if r.masked else ''})"
                               for r in self.restored_values)
            self.restored_note.setText(f"Put back from the customer's thread (highlighted): {listed}. "
                                       "Card numbers and IBANs are shown masked; type a full number only if the "
                                       "customer must receive it.")
            self.restored_note.show()
        self._highlight_restored()

    def _highlight_restored(self) -> None:
        selections: list[QTextEdit.ExtraSelection] = []
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(tone(RESTORED, self.editor.palette())))
        doc = self.editor.document()
        for r in self.restored_values:
            cursor = doc.find(r.shown, 0, QTextDocument.FindFlag.FindCaseSensitively)
            while not cursor.isNull():
                sel = QTextEdit.ExtraSelection()
                sel.cursor = cursor
                sel.format = fmt
                selections.append(sel)
                cursor = doc.find(r.shown, cursor, QTextDocument.FindFlag.FindCaseSensitively)
        self.editor.setExtraSelections(selections)

    def restored_highlights(self) -> list[str]:
        """The highlighted texts in the editor (for tests and accessibility checks)."""
        return [sel.cursor.selectedText() for sel in self.editor.extraSelections()]

    def set_enabled_for_ticket(self, enabled: bool) -> None:
        self.editor.setReadOnly(not enabled)
        self._update_state()

    def set_flags(self, reasons: list[str]) -> None:
        """A flagged ticket's reply needs a deliberate extra confirmation before it can be sent."""
        self.flag_reasons = list(reasons)
        self.confirm_flagged.setChecked(False)
        if reasons:
            self.confirm_flagged.setText("I have checked this reply")
            why = "The customer's message tries to steer the AI: read the reply before it goes."
            self.confirm_why.setText(why)
            self.confirm_flagged.setAccessibleDescription(why)  # a screen reader says why with the checkbox
            self.confirm_flagged.show()
            self.confirm_why.show()
        else:
            self.confirm_flagged.hide()
            self.confirm_why.hide()
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

    def replace_text(self, text: str) -> None:
        """Replace the whole reply as one undoable edit."""
        cursor = self.editor.textCursor()
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        cursor.endEditBlock()
        self.editor.setTextCursor(cursor)

    def status_after(self) -> str:
        return self.after.currentData()

    def cited_ids(self) -> list[int]:
        return [int(n) for n in dict.fromkeys(_CITATION.findall(self.text()))]

    def unknown_citations(self) -> list[int]:
        if self.known_articles is None:
            return []
        return [i for i in self.cited_ids() if i not in self.known_articles]

    # -- AI output ------------------------------------------------------------------------------
    def set_ai_available(self, available: bool, why: str = "") -> None:
        self._ai_available = available
        self._ai_why = why
        self.set_busy(False)

    def set_busy(self, busy: bool) -> None:
        """While the model works: Stop on, the other AI actions off."""
        self.busy = busy
        self.stop_button.setEnabled(busy)
        self.regenerate.setEnabled(not busy)
        for w in (self.ai_button, self.rewrite_button, self.translate_button):
            w.setEnabled(self._ai_available and not busy)
        self.ai_button.setToolTip("Stream a reply from the AI model, grounded in the knowledge base (Ctrl+D)"
                                  if self._ai_available else self._ai_why)

    def start_preview(self, label: str) -> None:
        self.preview_label.setText(f"<b>{html.escape(label)}</b>")
        self.preview.clear()
        self.use_button.hide()
        self.preview_box.show()
        self.hide_banner()

    def append_preview(self, text: str) -> None:
        cursor = self.preview.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)

    def preview_text(self) -> str:
        return self.preview.toPlainText()

    def set_preview_text(self, text: str) -> None:
        """Replace the streamed output with the guarded, finished text."""
        if text != self.preview.toPlainText():
            self.preview.setPlainText(text)

    def set_suspect_citations(self, ids) -> None:
        self.suspect_citations = set(ids)
        self._update_state()

    def offer_preview(self, label: str) -> None:
        """The output is complete but the agent has typed: let them choose."""
        self.preview_label.setText(f"<b>{html.escape(label)}</b>")
        self.use_button.show()

    def hide_preview(self) -> None:
        self.preview_box.hide()
        self.preview.clear()

    def show_banner(self, text: str, *, error: bool = True) -> None:
        color = tone(WARNING if error else NOTE, self.palette())
        self.banner.setText(f"<span style='color:{color}'>{html.escape(text)}</span>")
        self.banner.show()

    def show_hint(self, text: str) -> None:
        """A passing hint (how to turn on the AI…) beside the banner: a rule's warning stays visible."""
        self.hint.setText(text)
        self.hint.show()

    def hide_hint(self) -> None:
        self.hint.hide()
        self.hint.clear()

    def hide_banner(self) -> None:
        self.banner.hide()
        self.banner.clear()

    # -- state ------------------------------------------------------------------------------------
    def _update_state(self) -> None:
        if self.restored_values:
            self._highlight_restored()
        ids = self.cited_ids()
        unknown = set(self.unknown_citations())
        red = tone(WARNING, self.palette())
        parts = [f'<span style="color:{red}">KB-{i} (not found)</span>' if i in unknown
                 else f'<a href="kb:{i}">KB-{i}</a> <span style="color:{red}">(check)</span>'
                 if i in self.suspect_citations else f'<a href="kb:{i}">KB-{i}</a>' for i in ids]
        self.citations.setText("Cites: " + ", ".join(parts) if parts else "")
        if unknown or self.suspect_citations & set(ids):
            self.citations.setToolTip("Citations marked red point at no article, or at one the AI was not given "
                                      "or that the rewrite changed; check or remove them.")
        confirmed = not self.flag_reasons or self.confirm_flagged.isChecked()
        self.approve.setEnabled(self.draft is not None and bool(self.text().strip()) and not self.editor.isReadOnly()
                                and confirmed)
