"""The open ticket's thread: kept fresh, its status and owner changed, its links and attachments handled.

Shortcuts and clicks that land here:

- Ctrl+Shift+M "Assign to me" → :meth:`ThreadController.assign_to_me`;
  Ctrl+Shift+S "Mark solved" → :meth:`set_status`
- a link in a customer message → :meth:`link_clicked` (asks first, warns about look-alikes);
  an attachment's "save" link → :meth:`save_attachment` (saved, never opened)
- F5 and the live poll, after any commit → the window's ``poll_changes`` → :meth:`reload`

Opening a ticket is the window's (``MainWindow.open_ticket``); once it is on screen this controller
re-reads its thread (job key ``thread``): when the customer wrote again, the suggestions and the
injection scan follow the new text. The reply being written is never touched here.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox

from agent_assist.assist import injection
from agent_assist.channels.email import attachments
from agent_assist.channels.thread_info import extras_for
from agent_assist.knowledge import search as kb_search
from agent_assist.store import StoreError, tickets
from agent_assist.store.tickets import get_ticket

if TYPE_CHECKING:
    from agent_assist.ui.main_window import MainWindow

JOB_KEYS = ("thread",)


class ThreadController(QObject):
    def __init__(self, mw: MainWindow):
        super().__init__(mw)
        self.mw = mw
        self.store = mw.store
        self.user = mw.user

    def show_flags(self) -> None:
        """The ticket's stored flags and this opening's (injection scan) beside the conversation."""
        ws = self.mw.workspace
        if ws is None:
            return
        reasons = [f.reason for f in ws.ticket.flags]
        reasons += [f.reason for f in ws.flags if f.reason not in reasons]
        self.mw.conversation.set_flags(reasons)

    def reload(self) -> None:
        """Re-read the open ticket's thread; the reply being written is left alone."""
        mw = self.mw
        ws = mw.workspace
        if ws is None:
            return
        tid = ws.ticket.id

        old_inbound = ws.ticket.inbound_text()

        def work():
            ticket = get_ticket(self.store.db, tid)
            extras = extras_for(self.store.db, ticket)
            if ticket.inbound_text() == old_inbound:
                return ticket, None, None, extras
            # the customer wrote again: suggestions and the injection scan follow the new text (triage
            # ran where the message arrived)
            hits = kb_search.suggest_for_text(self.mw.kb_sync.db(), ticket.inbound_text(), subject=ticket.subject,
                                              language=ticket.language, limit=8)
            return ticket, tuple(hits), tuple(injection.scan(injection.customer_text(ticket))), extras

        def done(result) -> None:
            ticket, hits, flags, extras = result
            if not (mw.workspace and mw.workspace.ticket.id == tid):
                return
            if hits is not None:
                mw.workspace = replace(mw.workspace, suggestions=hits, flags=flags)
                mw.knowledge.set_suggestions(list(hits))
                mw.draft.set_flags([f.reason for f in mw.workspace.flags])
            if ticket != mw.workspace.ticket or extras != mw.workspace.extras:
                mw.workspace = replace(mw.workspace, ticket=ticket, extras=extras)
                mw.conversation.set_ticket(ticket, extras)
                self.show_flags()

        mw.tasks.run(work, done, mw._show_error, key="thread", owner=self)

    # -- status and owner ---------------------------------------------------------------
    def assign_to_me(self) -> None:
        if self.mw.workspace:
            self._change(lambda tid: tickets.assign(self.store, tid, self.user, actor=self.user))

    def set_status(self, status: str) -> None:
        if self.mw.workspace:
            self._change(lambda tid: tickets.set_status(self.store, tid, status, actor=self.user))

    def _change(self, fn) -> None:
        tid = self.mw.workspace.ticket.id
        try:
            fn(tid)
        except StoreError as exc:
            self.mw._show_error(exc)
            return
        self.reload()
        self.mw.queue.refresh_keeping_scroll()

    # -- links and attachments in the conversation -----------------------------------------
    def link_clicked(self, url: QUrl) -> None:
        if url.scheme() == "save":
            self.save_attachment(int(url.path() or url.toString().split(":", 1)[1]))
        elif url.scheme() == "showall":
            return  # the conversation view shows the whole message itself
        else:
            self._confirm_link(url)

    def save_attachment(self, attachment_id: int, folder: str | None = None) -> Path | None:
        """Save an attachment where the agent chooses; it is never opened by the app."""
        folder = folder or QFileDialog.getExistingDirectory(self.mw, "Save the attachment in…")
        if not folder:
            return None
        try:
            path = attachments.save_attachment(self.store.db, attachment_id, folder)
        except (OSError, StoreError) as exc:
            self.mw._show_error(StoreError(f"The attachment could not be saved: {exc}"))
            return None
        self.mw.statusBar().showMessage(f"Saved {path}", 8000)
        return Path(path)

    def _confirm_link(self, url: QUrl) -> None:
        if url.scheme() not in ("http", "https", "mailto"):
            return
        warning = self.mw.conversation.browser.link_warning(url)  # a look-alike or a text that lies
        answer = QMessageBox.question(
            self.mw, "Open link?",
            (f"{warning}\n\n" if warning else "")
            + f"This link comes from a customer message and may not be what it seems:\n\n{url.toString()}\n\n"
            "Open it in your browser?")
        if answer == QMessageBox.StandardButton.Yes:
            QDesktopServices.openUrl(url)

    def stop(self) -> None:
        """The window closes: a late re-read of the thread is dropped."""
        self.mw.tasks.cancel(*JOB_KEYS)
