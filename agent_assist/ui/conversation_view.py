"""The thread of the open ticket: a header and the messages, safely rendered.

A long message shows its first :data:`PREVIEW_CHARS` characters and a "Show all" link; the
whole text then opens in a plain-text viewer that is filled a slice at a time, so even a
10 MB message never freezes the window.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from agent_assist.sanitize import sanitize_html, text_to_html
from agent_assist.store.tickets import Message, Ticket
from agent_assist.timefmt import parse_iso
from agent_assist.ui.safe_browser import SafeTextBrowser
from agent_assist.ui.theme import INBOUND, MUTED, NOTE, OUTBOUND, TAG, WARNING, avatar_color, initials, tone

PREVIEW_CHARS = 20_000  # of a message's text shown in the thread; "Show all" opens the rest
PREVIEW_HTML_CHARS = 100_000  # longer (sanitized) HTML is shown as its text preview
FILL_SLICE = 200_000  # characters added to the full-message viewer per turn of the event loop
VIEW_LINE_CHARS = 2_000  # longer lines are broken for the viewer (Qt lays out one 10 MB line for minutes)


def viewer_lines(text: str, width: int = VIEW_LINE_CHARS) -> str:
    """The text with lines longer than ``width`` broken at a space (a space becomes the line break;
    a run without spaces is broken where it must). Short lines are left exactly as they are."""
    if len(text) <= width:
        return text
    out: list[str] = []
    for line in text.split("\n"):
        start = 0
        while len(line) - start > width:
            cut = line.rfind(" ", start + width // 2, start + width + 1)
            if cut < 0:
                out.append(line[start:start + width])
                start += width
            else:
                out.append(line[start:cut])
                start = cut + 1
        out.append(line[start:] if start else line)
    return "\n".join(out)


DELIVERY_WORDS = {"queued": "waiting to be sent", "sending": "sending", "committing": "sending",
                  "sent": "sent", "failed": "failed", "unknown": "unclear whether it was sent — check Sent"}


def _extras_html(extra) -> str:
    parts = []
    for a in extra.attachments:
        warn = " ⚠ may be harmful" if a.risky else ""
        parts.append(f'<p>📎 <a href="save:{a.id}">{html.escape(a.filename)}</a> '
                     f'({html.escape(a.content_type)}, {max(1, a.size // 1024):,} KB){warn}</p>')
    if extra.notes:
        parts.append(f"<p style='color:{tone(NOTE)}'>ℹ " + html.escape("; ".join(extra.notes)) + "</p>")
    d = extra.delivery
    if d is not None:
        words = DELIVERY_WORDS.get(d.state, d.state)
        color = tone(WARNING) if d.state in ("failed", "unknown") else tone(MUTED)
        error = f" — {html.escape(d.last_error)}" if d.last_error and d.state != "sent" else ""
        retry = f" (retrying, attempt {d.attempts})" if d.state == "queued" and d.attempts else ""
        parts.append(f"<p style='color:{color}'>✉ E-mail: {html.escape(words)}{retry}{error}</p>")
    return "".join(parts)


def _body_html(m: Message) -> str:
    """The message as shown in the thread: whole when short, else its start and a "Show all" link."""
    if m.body_html and len(m.body_html) <= PREVIEW_HTML_CHARS:
        return sanitize_html(m.body_html)  # sanitized on the way in; again on the way out
    text = m.body_text
    if len(text) <= PREVIEW_CHARS:
        return text_to_html(text)
    more = len(text) - PREVIEW_CHARS
    why = " (formatting not shown: the message is very long)" if m.body_html else ""
    return (text_to_html(text[:PREVIEW_CHARS] + f"\n\n[… {more:,} more characters{why}]")
            + f'<p><a href="showall:{m.id}">Show all ({len(text):,} characters)</a></p>')


def _notes_html(m: Message) -> str:
    if not m.notes:
        return ""
    return f"<p style='color:{tone(NOTE)}'>ℹ " + html.escape(" ".join(m.notes)) + "</p>"


def _message_html(ticket: Ticket, extras: dict | None = None) -> str:
    parts = []
    extras = extras or {}
    for m in ticket.messages:
        outbound = m.direction == "outbound"
        body = _body_html(m)
        when = parse_iso(m.created_at).strftime("%d %b %Y %H:%M")
        name = m.author or ("Agent" if outbound else ticket.customer_name)
        who = html.escape(name)
        badge = (f'<span style="background-color:{avatar_color(name)}; color:#ffffff; font-weight:bold;">'
                 f'&nbsp;{html.escape(initials(name))}&nbsp;</span>&nbsp;')
        label = "replied" if outbound else "wrote"
        bg = tone(OUTBOUND if outbound else INBOUND)
        parts.append(
            f'<table width="100%" cellspacing="0" cellpadding="8" style="margin-bottom:10px;">'
            f'<tr><td bgcolor="{bg}">'
            f'<p style="color:{tone(MUTED)};">{badge}<b>{who}</b> {label} · {when}</p>{body}{_notes_html(m)}'
            f'{_extras_html(extras[m.id]) if m.id in extras else ""}</td></tr></table>'
        )
    return "".join(parts)


class FullMessage(QDialog):
    """One whole message as plain text, filled a slice per event-loop turn (the window stays live)."""

    loaded = Signal()
    """All of the text is in the viewer."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("fullMessage")
        self.editor.setAccessibleName("Whole message")
        self.editor.setReadOnly(True)
        self.editor.setUndoRedoEnabled(False)
        self.status = QLabel()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(760, 560)
        self._text = viewer_lines(text)
        self._pos = 0
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._fill)
        self._timer.start()
        self._fill()

    @property
    def done(self) -> bool:
        return self._pos >= len(self._text)

    def _fill(self) -> None:
        piece = self._text[self._pos:self._pos + FILL_SLICE]
        self._pos += len(piece)
        cursor = self.editor.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        cursor.insertText(piece)
        if self.done:
            self._timer.stop()
            self.status.setText(f"{len(self._text):,} characters")
            self.editor.moveCursor(self.editor.textCursor().MoveOperation.Start)
            self.loaded.emit()
        else:
            self.status.setText(f"Loading… {self._pos * 100 // max(1, len(self._text))} %")


class ConversationView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.header = QLabel()
        self.header.setObjectName("ticketHeader")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setAccessibleName("Ticket details")
        self.browser = SafeTextBrowser()
        self.browser.setObjectName("conversation")
        self.browser.setAccessibleName("Conversation")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.flags = QLabel()
        self.flags.setObjectName("ticketFlags")
        self.flags.setAccessibleName("Flags")
        self.flags.setWordWrap(True)
        self.flags.setTextFormat(Qt.TextFormat.RichText)
        self.flags.hide()
        self.summary = QLabel()
        self.summary.setObjectName("threadSummary")
        self.summary.setAccessibleName("Thread summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.hide()
        layout.addWidget(self.header)
        layout.addWidget(self.flags)
        layout.addWidget(self.summary)
        layout.addWidget(self.browser, 1)
        self.ticket: Ticket | None = None
        self.full_message: FullMessage | None = None  # the last "Show all" viewer opened
        self.browser.linkActivated.connect(self._link)
        self.clear()

    def _link(self, url: QUrl) -> None:
        if url.scheme() == "showall":
            try:
                self.show_all(int(url.path() or url.toString().split(":", 1)[1]))
            except ValueError:
                pass  # not one of our links

    def show_all(self, message_id: int) -> FullMessage | None:
        """Open the whole text of one message of the open ticket."""
        m = next((m for m in (self.ticket.messages if self.ticket else ()) if m.id == message_id), None)
        if m is None:
            return None
        who = m.author or (self.ticket.customer_name if m.direction != "outbound" else "Agent")
        self.full_message = FullMessage(f"#{self.ticket.id} · {who}", m.body_text, self)
        self.full_message.show()
        return self.full_message

    def clear(self) -> None:
        self.ticket = None
        self.header.setText("<h3>No ticket open</h3><p>Pick one from the queue (↑/↓, Enter to reply).</p>")
        self.browser.clear()

    def set_ticket(self, ticket: Ticket, extras: dict | None = None) -> None:
        same = self.ticket is not None and self.ticket.id == ticket.id
        scroll = self.browser.verticalScrollBar().value() if same else None
        at_bottom = same and scroll == self.browser.verticalScrollBar().maximum()
        self.ticket = ticket
        tag_bg = tone(TAG)
        tags = " ".join(f'<span style="background:{tag_bg};">&nbsp;{html.escape(t)}&nbsp;</span>' for t in ticket.tags)
        email = f" &lt;{html.escape(ticket.customer_email)}&gt;" if ticket.customer_email else ""
        self.header.setText(
            f"<h3>#{ticket.id} {html.escape(ticket.subject)}</h3>"
            f"<p><b>{html.escape(ticket.customer_name)}</b>{email} · {ticket.language.upper()} · "
            f"{ticket.priority_name.capitalize()} · {ticket.status.capitalize()} · "
            f"{html.escape(ticket.assignee or 'unassigned')} · via {html.escape(ticket.channel)} {tags}</p>"
        )
        self.browser.setHtml(_message_html(ticket, extras))
        bar = self.browser.verticalScrollBar()
        if scroll is None or at_bottom:
            bar.setValue(bar.maximum())
        else:
            bar.setValue(scroll)

    def set_flags(self, reasons: list[str]) -> None:
        if reasons:
            items = "".join(f"<li>{html.escape(r)}</li>" for r in reasons)
            self.flags.setText(f"<span style='color:{tone(WARNING)}'><b>⚠ Flagged</b></span><ul>{items}</ul>")
            self.flags.show()
        else:
            self.flags.hide()
            self.flags.clear()

    def set_summary(self, text: str) -> None:
        self._summary_text = text
        self.summary.setText(f"Summary: {text}" if text else "")
        self.summary.setVisible(bool(text))

    def append_summary(self, delta: str) -> None:
        current = getattr(self, "_summary_text", "")
        self.set_summary((current if current != "…" else "") + delta)

    def text(self) -> str:
        return self.browser.toPlainText()
