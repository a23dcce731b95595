"""Two texts side by side with word-level differences marked.

:func:`word_diff` is plain Python (no Qt objects), so it can run off the GUI thread.

The left pane shows the original (the AI draft) with removed words in red and
struck through; the right pane shows the new text (sent or current) with added
words in green. Both are HTML-escaped, whitespace kept as written.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass

from PySide6.QtWidgets import QHBoxLayout, QLabel, QTextBrowser, QVBoxLayout, QWidget

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)
INSERT_STYLE = "background-color:#d6f5d6; color:#0a5c0a;"
DELETE_STYLE = "background-color:#fbd9d9; color:#a11010; text-decoration:line-through;"
DIFF_TOKEN_LIMIT = 8_000  # past this, each pane is shown whole and marked changed (no quadratic stall)


def tokens(text: str) -> list[str]:
    """Words, single punctuation marks and whitespace runs; joined they give the text back."""
    return _TOKEN.findall(text)


def _span(text: str, style: str) -> str:
    return f'<span style="{style}">{html.escape(text)}</span>'


@dataclass(frozen=True)
class WordDiff:
    left_html: str  # the old text, deletions marked
    right_html: str  # the new text, insertions marked
    added: int  # runs of inserted words
    removed: int  # runs of deleted words
    places: int  # changed places (a replacement is one place with an addition and a removal)


def word_diff(old: str, new: str) -> WordDiff:
    """Mark what changed between ``old`` and ``new``, word by word."""
    a, b = tokens(old), tokens(new)
    added = removed = places = 0
    left: list[str] = []
    right: list[str] = []
    if len(a) + len(b) > DIFF_TOKEN_LIMIT:
        opcodes = [("replace", 0, len(a), 0, len(b))] if old != new else [("equal", 0, len(a), 0, len(b))]
    else:
        opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for op, i1, i2, j1, j2 in opcodes:
        if op == "equal":
            left.append(html.escape("".join(a[i1:i2])))
            right.append(html.escape("".join(b[j1:j2])))
            continue
        places += 1
        if i2 > i1:
            left.append(_span("".join(a[i1:i2]), DELETE_STYLE))
            removed += 1
        if j2 > j1:
            right.append(_span("".join(b[j1:j2]), INSERT_STYLE))
            added += 1
    wrap = '<div style="white-space:pre-wrap;">{}</div>'
    return WordDiff(wrap.format("".join(left)), wrap.format("".join(right)), added, removed, places)


def word_diff_html(old: str, new: str) -> tuple[str, str]:
    """HTML for the two panes: ``old`` with deletions marked, ``new`` with insertions marked."""
    d = word_diff(old, new)
    return d.left_html, d.right_html


class DiffView(QWidget):
    """The original and the new text in two read-only panes."""

    def __init__(self, left_title: str = "AI draft", right_title: str = "Sent reply", parent: QWidget | None = None):
        super().__init__(parent)
        self.left_title = QLabel(f"<b>{html.escape(left_title)}</b>")
        self.right_title = QLabel(f"<b>{html.escape(right_title)}</b>")
        self.left = QTextBrowser()
        self.right = QTextBrowser()
        for pane, name in ((self.left, "Original text, removed words struck through"),
                           (self.right, "New text, added words highlighted")):
            pane.setOpenLinks(False)
            pane.setAccessibleName(name)
        self.summary = QLabel()
        self.summary.setObjectName("diffSummary")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        panes = QHBoxLayout()
        for title, pane in ((self.left_title, self.left), (self.right_title, self.right)):
            col = QVBoxLayout()
            col.addWidget(title)
            col.addWidget(pane)
            panes.addLayout(col)
        layout.addLayout(panes)
        layout.addWidget(self.summary)
        self.old_text = ""
        self.new_text = ""

    def set_titles(self, left: str, right: str) -> None:
        self.left_title.setText(f"<b>{html.escape(left)}</b>")
        self.right_title.setText(f"<b>{html.escape(right)}</b>")

    def set_texts(self, old: str, new: str, diff: WordDiff | None = None) -> None:
        """Show both texts; pass ``diff`` when :func:`word_diff` already ran (e.g. in a background job)."""
        self.old_text, self.new_text = old, new
        diff = diff or word_diff(old, new)
        self.left.setHtml(diff.left_html)
        self.right.setHtml(diff.right_html)
        if old == new:
            self.summary.setText("No changes: the text is exactly as the assistant suggested.")
        else:
            self.summary.setText(f"Changed in {diff.places} place(s): "
                                 f"{diff.added} addition(s) in green, {diff.removed} removal(s) struck through in red.")

    def clear(self) -> None:
        self.old_text = self.new_text = ""
        self.left.clear()
        self.right.clear()
        self.summary.clear()
