"""The thread of the open ticket: a header and the messages, safely rendered."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from agent_assist.sanitize import sanitize_html, text_to_html
from agent_assist.store.tickets import MAX_MESSAGE_CHARS, Ticket
from agent_assist.timefmt import parse_iso
from agent_assist.ui.safe_browser import SafeTextBrowser


DELIVERY_WORDS = {"queued": "waiting to be sent", "sending": "sending", "committing": "sending",
                  "sent": "sent", "failed": "failed", "unknown": "unclear whether it was sent — check Sent"}


def _extras_html(extra) -> str:
    parts = []
    for a in extra.attachments:
        warn = " ⚠ may be harmful" if a.risky else ""
        parts.append(f'<p>📎 <a href="save:{a.id}">{html.escape(a.filename)}</a> '
                     f'({html.escape(a.content_type)}, {max(1, a.size // 1024):,} KB){warn}</p>')
    if extra.notes:
        parts.append("<p style='color:#5d4037'>ℹ " + html.escape("; ".join(extra.notes)) + "</p>")
    d = extra.delivery
    if d is not None:
        words = DELIVERY_WORDS.get(d.state, d.state)
        color = "#b71c1c" if d.state in ("failed", "unknown") else "#555"
        error = f" — {html.escape(d.last_error)}" if d.last_error and d.state != "sent" else ""
        retry = f" (retrying, attempt {d.attempts})" if d.state == "queued" and d.attempts else ""
        parts.append(f"<p style='color:{color}'>✉ E-mail: {html.escape(words)}{retry}{error}</p>")
    return "".join(parts)


def _message_html(ticket: Ticket, extras: dict | None = None) -> str:
    parts = []
    extras = extras or {}
    for m in ticket.messages:
        outbound = m.direction == "outbound"
        if m.body_html:
            body = sanitize_html(m.body_html)  # sanitized on the way in; again on the way out
        else:
            text = m.body_text
            if len(text) > MAX_MESSAGE_CHARS:
                text = text[:MAX_MESSAGE_CHARS] + f"\n\n[… {len(m.body_text) - MAX_MESSAGE_CHARS:,} more characters not shown]"
            body = text_to_html(text)
        when = parse_iso(m.created_at).strftime("%d %b %Y %H:%M")
        who = html.escape(m.author or ("Agent" if outbound else ticket.customer_name))
        label = "replied" if outbound else "wrote"
        bg = "#e8f0fe" if outbound else "#f5f5f5"
        parts.append(
            f'<table width="100%" cellspacing="0" cellpadding="8" style="margin-bottom:10px;">'
            f'<tr><td bgcolor="{bg}">'
            f'<p style="color:#555;"><b>{who}</b> {label} · {when}</p>{body}'
            f'{_extras_html(extras[m.id]) if m.id in extras else ""}</td></tr></table>'
        )
    return "".join(parts)


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
        self.clear()

    def clear(self) -> None:
        self.ticket = None
        self.header.setText("<h3>No ticket open</h3><p>Pick one from the queue (↑/↓, Enter to reply).</p>")
        self.browser.clear()

    def set_ticket(self, ticket: Ticket, extras: dict | None = None) -> None:
        same = self.ticket is not None and self.ticket.id == ticket.id
        scroll = self.browser.verticalScrollBar().value() if same else None
        at_bottom = same and scroll == self.browser.verticalScrollBar().maximum()
        self.ticket = ticket
        tags = " ".join(f'<span style="background:#eceff1;">&nbsp;{html.escape(t)}&nbsp;</span>' for t in ticket.tags)
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
            self.flags.setText(f"<span style='color:#b71c1c'><b>⚠ Flagged</b></span><ul>{items}</ul>")
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
