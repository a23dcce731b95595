"""Review: the supervisor's window and the supervisor's send.

Shortcuts that land here: Ctrl+Shift+V "Supervisor review" → :meth:`ReviewController.show`.

The review window itself (:class:`agent_assist.ui.review_view.ReviewView`) lists the drafts awaiting
approval and the replies sent; this controller opens it once (the window keeps it as
``review_window``) and gives it the window's undo send (:class:`~agent_assist.ui.undo_send.UndoSend`):
an approval waits ``send.undo_seconds`` with an "Undo" before the reply goes out, as the main window's
Approve & send does; with 0 seconds :meth:`supervisor_send` approves through the core and has the
mailbox deliver at once. The view runs its jobs on the window's task manager, so they end with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from agent_assist.channels import replies
from agent_assist.store import Store
from agent_assist.ui.review_view import ReviewView

if TYPE_CHECKING:
    from agent_assist.ui.main_window import MainWindow


class ReviewController(QObject):
    def __init__(self, mw: MainWindow):
        super().__init__(mw)
        self.mw = mw

    def show(self) -> QWidget:
        mw = self.mw
        return mw.side_window("review_window", "Supervisor review", lambda: ReviewView(
            mw.store, mw.tasks, user=mw.user, role=mw.profile.role, parent=mw, send=self.supervisor_send,
            undo=mw.undo, undo_seconds=lambda: int(mw.app_settings.get("send.undo_seconds"))))

    def supervisor_send(self, store: Store, draft_id: int, body: str, actor: str, confirmed_pan: bool = False) -> int:
        mailroom = self.mw.mailroom
        message_id, outbox_id = replies.supervisor_approve_and_send(
            store, draft_id, body, actor=actor, mailbox=mailroom.mailbox, confirmed_pan=confirmed_pan)
        if outbox_id is not None:
            mailroom.deliver_soon()
        return message_id

    def stop(self) -> None:
        """Nothing of its own runs in the background: the review view's jobs end with the window's tasks."""
