"""Mail: the support mailbox's life in the window — start, pause, resume, and what the status bar says.

Menu entries that land here (no shortcuts): Mail → Pause/Resume mailbox → :meth:`MailController.toggle`;
Mail → Send waiting replies now → :meth:`MailController.deliver_soon`. Preferences accepted →
:meth:`start` (the mailbox restarts with the new settings).

The watcher thread itself is :class:`agent_assist.ui.mail_service.MailService` (:attr:`service`,
``None`` while mail is off); this controller creates it from the settings, follows its status and
progress into the window's mailbox label, and stops it when the window closes (:meth:`stop`).
Drafting and review ask it for the :attr:`mailbox` a reply goes out through and to deliver soon.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from agent_assist.channels.email.config import MailboxConfig
from agent_assist.ui.mail_service import MailService

if TYPE_CHECKING:
    from agent_assist.ui.main_window import MainWindow


class MailController(QObject):
    def __init__(self, mw: MainWindow):
        super().__init__(mw)
        self.mw = mw
        self.service: MailService | None = None

    @property
    def mailbox(self) -> MailboxConfig | None:
        return self.service.mailbox if self.service is not None else None

    def deliver_soon(self) -> None:
        if self.service is not None:
            self.service.deliver_soon()

    def start(self) -> None:
        """Run the support mailbox when Preferences say so (restarted after changes)."""
        mw = self.mw
        if self.service is not None:
            self.service.stop()
            self.service = None
        if not mw.app_settings.get("email.enabled"):
            return
        try:
            mailbox = MailboxConfig.from_dict(mw.app_settings.get("email.mailbox"))
        except (KeyError, TypeError, ValueError) as exc:
            mw.statusBar().showMessage(f"The mailbox settings are incomplete: {exc}", 10000)
            return
        self.service = MailService(mw.store, mailbox, self, desk=mw.team_work.desk)
        self.service.status.connect(self._status)
        self.service.progress.connect(self._progress)
        self.service.start()
        mw.act_mail_pause.setEnabled(True)
        mw.act_mail_pause.setText("&Pause mailbox")

    def toggle(self) -> None:
        """Pause the mailbox (a long first sync stops after its current batch) or resume it where it was."""
        if self.service is not None and self.service.running:
            self.service.stop()
            self.mw.act_mail_pause.setText("&Resume mailbox")
            self.mw.status_mail.setText("✉ paused")
        else:
            self.start()

    def _progress(self, done: int, total: int) -> None:
        if total:
            self.mw.status_mail.setText(f"✉ syncing {done:,} / {total:,}")

    def _status(self, kind: str, message: str) -> None:
        self.mw.status_mail.setText(f"✉ {message}" if message else "")
        if kind in ("error", "auth_error"):
            self.mw.statusBar().showMessage(f"Mail: {message}", 10000)

    def stop(self) -> None:
        """The window closes: the watcher stops (its thread ends after the current step)."""
        if self.service is not None:
            self.service.stop()
