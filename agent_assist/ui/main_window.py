"""The main window: queue | conversation + reply | knowledge, with menus and shortcuts."""

from __future__ import annotations

import html
import logging
from pathlib import Path
from dataclasses import replace

import shiboken6

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from agent_assist import APP_NAME
from agent_assist.assist import drafting, injection, model_triage, secrets, workspace
from agent_assist.assist.provider import Provider, ProviderConfig, ProviderError
from agent_assist.assist.workspace import TicketWorkspace
from agent_assist.knowledge import search as kb_search
from agent_assist.knowledge.articles import all_ids as all_article_ids
from agent_assist.knowledge.articles import fingerprint as article_fingerprint
from agent_assist.knowledge.articles import get_article
from agent_assist.store.backend import is_postgres
from agent_assist.store import Store, StoreError, drafts, people, tickets
from agent_assist.settings import Settings
from agent_assist.store.errors import StoreClosedError, UnmaskedCardNumberError
from agent_assist.store.tickets import get_ticket
from agent_assist.store.unsent import UnsentReplies
from agent_assist.timefmt import parse_iso
from agent_assist.ui.about_dialog import AboutDialog
from agent_assist.ui.conversation_view import ConversationView
from agent_assist.ui.draft_panel import DraftPanel
from agent_assist.channels import replies
from agent_assist.channels.email import attachments
from agent_assist.channels.thread_info import extras_for
from agent_assist.channels.email.config import MailboxConfig
from agent_assist.ui.kb_import import KnowledgeImport
from agent_assist.ui.dashboard import QualityDashboard
from agent_assist.ui.mail_service import MailService
from agent_assist.ui.review_view import ReviewView
from agent_assist.ui.knowledge_panel import KnowledgePanel
from agent_assist.ui.knowledge_sync import KnowledgeSync
from agent_assist.ui.notifications import Notifier
from agent_assist.ui.queue_model import QueueModel
from agent_assist.ui.queue_panel import QueuePanel
from agent_assist.ui.settings_dialog import SettingsDialog
from agent_assist.ui.streaming import StreamJob
from agent_assist.ui.tasks import TaskManager
from agent_assist.ui.team_work import TeamWork

log = logging.getLogger(__name__)


class _NotSent(Exception):
    """The person chose not to send (nothing to report beyond the banner already shown)."""


LIVE_POLL_MS = 400
SLA_TICK_MS = 30_000


class MainWindow(QMainWindow):
    ticketLoaded = Signal(int)
    """A ticket's thread, suggestions and draft are on screen."""
    replySent = Signal(int, int)
    """ticket id, message id: a reply was approved and sent."""
    searchShown = Signal(str)
    """Knowledge results for this query are on screen."""
    approvalRequested = Signal(int, int)
    """ticket id, draft id: a reply went to a supervisor (four eyes)."""
    aiFinished = Signal(str, bool)
    """kind ("draft", "rewrite", "translation", "summary"), success: a model job ended."""

    def __init__(self, store: Store, *, user: str, settings: QSettings | None = None,
                 app_settings: Settings | None = None):
        super().__init__()
        self.store = store
        if is_postgres(store):  # on a team server the person is the database login, whatever name was given
            user = store.user
        self.user = user
        self.settings = settings or QSettings()
        self.app_settings = app_settings or Settings()
        self.ai_job: StreamJob | None = None
        self._provider_cache: tuple[tuple[ProviderConfig, str | None], Provider] | None = None
        self._ai_kind = ""
        self.tasks = TaskManager(self)
        self._closing = False
        self.error_box: QMessageBox | None = None
        self.workspace: TicketWorkspace | None = None
        self._loading_ticket: int | None = None
        self._replies_seen: set[int] = set()  # outbound messages of the open ticket the person has been shown
        self._data_version = store.data_version()
        self._server_state = "online"
        self.unsent = UnsentReplies()  # replies the database could not take yet, kept on this desk

        self.profile = people.ensure_profile(store, user)
        self.setWindowTitle(f"{user} ({self.profile.role}) — {APP_NAME}")  # ends with the display name: Qt adds none
        self.setObjectName("mainWindow")
        self.model = QueueModel(store, user=user, parent=self)
        self.queue = QueuePanel(self.model, tickets.languages(store.db))
        self.conversation = ConversationView()
        self.draft = DraftPanel()
        self.knowledge = KnowledgePanel()

        self.presence = QLabel()  # who else has this ticket open (team server), hidden when nobody
        self.presence.setObjectName("presenceBar")
        self.presence.setAccessibleName("Others on this ticket")
        self.presence.setWordWrap(True)
        conversation_box = QWidget()
        box = QVBoxLayout(conversation_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.presence)
        box.addWidget(self.conversation, 1)
        middle = QSplitter(Qt.Orientation.Vertical)
        middle.setObjectName("middleSplitter")
        middle.addWidget(conversation_box)
        middle.addWidget(self.draft)
        middle.setStretchFactor(0, 3)
        middle.setStretchFactor(1, 2)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.queue)
        self.splitter.addWidget(middle)
        self.splitter.addWidget(self.knowledge)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 4)
        self.splitter.setStretchFactor(2, 3)
        self.middle = middle
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter)
        self.setCentralWidget(central)

        self.status_user = QLabel(f"Signed in as <b>{html.escape(user)}</b> · {self.profile.role}")
        self.status_live = QLabel("● live")
        self.status_live.setToolTip(f"The queue follows changes to {store.path} as they happen")
        self.status_mail = QLabel()
        self.status_mail.setAccessibleName("Mailbox status")
        self.statusBar().addPermanentWidget(self.status_mail)
        self.statusBar().addPermanentWidget(self.status_user)
        self.statusBar().addPermanentWidget(self.status_live)
        self.tasks.busyChanged.connect(lambda busy: self.status_live.setText(
            "● reconnecting…" if self._server_state == "reconnecting" else "● working…" if busy else "● live"))

        self.team_work = TeamWork(store, self.tasks, self.presence, user=user, parent=self,
                                  message=lambda text: self.statusBar().showMessage(text, 8000))
        # a team desk searches its own replica of the articles (instant, offline); a desk's file is its own
        self.kb_sync = KnowledgeSync(store, self.knowledge, parent=self,
                                     message=lambda text: self.statusBar().showMessage(text, 10000))
        self._build_actions()
        self._connect()
        self.model.start()
        self._restore_layout()
        self.refresh_ai_state()
        self._warm_up_ai()
        self._pending_ai = None
        self._pending_restored: tuple = ()
        self._pending_suspect: tuple[int, ...] = ()
        self._articles_seen = article_fingerprint(store.db)
        self.draft.known_articles = all_article_ids(store.db)
        self.refresh_knowledge_filters()

        self._live = QTimer(self)
        self._live.setInterval(LIVE_POLL_MS)
        self._live.timeout.connect(self.poll_changes)
        self._live.start()
        self._tick = QTimer(self)
        self._tick.setInterval(SLA_TICK_MS)
        self._tick.timeout.connect(self.model.tick)
        self._tick.timeout.connect(self.check_sla)
        self._tick.start()
        self.mail: MailService | None = None
        self.start_mail()
        self.notifier = Notifier(enabled=self.app_settings.get("notifications.enabled"), user=user, parent=self)
        self.notifier.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.notifier.trayActivated.connect(self._bring_forward)
        self.notifier.ticketActivated.connect(self._select_ticket)
        self.model.rowsInserted.connect(self._notify_inserted)
        if self.model.rowCount():
            self.queue.select_row(0)
        self.queue.view.setFocus()

    # -- actions and menus -------------------------------------------------------------
    def _action(self, text: str, shortcut: str | QKeySequence.StandardKey | None, slot, menu, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setStatusTip(tip or text.replace("&", ""))
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action("&Preferences…", "Ctrl+,", self.show_preferences, file_menu)
        file_menu.addSeparator()
        self._action("&Quit", QKeySequence.StandardKey.Quit, self.close, file_menu)

        ticket = bar.addMenu("&Ticket")
        self.act_take_next = self._action("&Take next ticket", "Ctrl+Shift+N", self.team_work.take_next, ticket,
                                          "Claim the most urgent free ticket, assign it to you and open it")
        self.queue.add_action_button(self.act_take_next)
        self.act_next = self._action("&Next in queue", "Alt+Down", lambda: self.queue.move(1), ticket)
        self.act_prev = self._action("&Previous in queue", "Alt+Up", lambda: self.queue.move(-1), ticket)
        self.act_focus_queue = self._action("Focus &queue", "Ctrl+L", self.queue.view.setFocus, ticket)
        self.act_filter = self._action("&Filter queue", "Ctrl+F", self._focus_filter, ticket)
        ticket.addSeparator()
        self.act_reply = self._action("Focus &reply", "Ctrl+R", self.focus_reply, ticket)
        self.act_send = self._action("&Approve && send reply", "Ctrl+Return", self.approve_and_send, ticket,
                                     "Send the reply as written; nothing is sent without this")
        self.act_send_enter = QAction(self)  # the keypad Enter, too
        self.act_send_enter.setShortcut(QKeySequence("Ctrl+Enter"))
        self.act_send_enter.triggered.connect(self.approve_and_send)
        self.addAction(self.act_send_enter)
        self.act_regen = self._action("Re&generate draft", "Ctrl+Shift+G", self.regenerate_draft, ticket)
        self.act_assign = self._action("Assign to &me", "Ctrl+Shift+M", self.assign_to_me, ticket)
        self.act_solve = self._action("Mark &solved", "Ctrl+Shift+S", lambda: self.set_status("solved"), ticket)

        ai = bar.addMenu("&AI")
        self.act_ai_draft = self._action("&Draft with AI", "Ctrl+D", self.start_ai_draft, ai)
        self.act_ai_stop = self._action("&Stop", "Esc", self.stop_ai, ai)
        self.act_translate = self._action("&Translate draft for me", "Ctrl+T", self.translate_draft, ai)
        self.act_summarize = self._action("Su&mmarize thread", "Ctrl+Shift+U", self.summarize_thread, ai)
        self.act_model_triage = self._action("Triage with the &model", "Ctrl+Shift+T", self.triage_with_model, ai,
                                             "Ask the model for flags and show them beside the offline rules")
        rewrite = ai.addMenu("&Rewrite draft")
        for action, label in (("shorter", "Shorter"), ("warmer", "Warmer"), ("formal", "More formal"),
                              ("grammar", "Fix grammar")):
            act = rewrite.addAction(label)
            act.triggered.connect(lambda _c=False, a=action: self.rewrite_draft(a, None))

        kb = bar.addMenu("&Knowledge")
        self.act_search = self._action("&Search knowledge", "Ctrl+K", self.knowledge.focus_search, kb)
        self.act_insert = self._action("&Insert snippet into reply", "Ctrl+I", self.knowledge.request_insert, kb)
        kb.addSeparator()
        self._action("Import &files…", None, self.import_knowledge_files, kb,
                     "Import Markdown, HTML, text, CSV or JSON help-centre exports")
        self._action("Import a f&older…", None, self.import_knowledge_folder, kb)

        mail_menu = bar.addMenu("&Mail")
        self.act_mail_pause = self._action("&Pause mailbox", None, self.toggle_mail, mail_menu,
                                           "Stop syncing the mailbox; resuming continues where it stopped")
        self.act_mail_pause.setEnabled(False)
        self._action("&Send waiting replies now", None,
                     lambda: self.mail.deliver_soon() if self.mail is not None else None, mail_menu)

        view = bar.addMenu("&View")
        self.act_refresh = self._action("&Refresh", QKeySequence.StandardKey.Refresh, self.poll_changes, view)
        view.addSeparator()
        self.act_review = self._action("Supervisor &review", "Ctrl+Shift+V", self.show_review, view,
                                       "Drafts awaiting approval and recently sent replies, AI draft beside sent text")
        self.act_dashboard = self._action("&Quality dashboard", "Ctrl+Shift+Q", self.show_dashboard, view)

        help_menu = bar.addMenu("&Help")
        self._action("&Keyboard shortcuts", "F1", self.show_shortcuts, help_menu)
        self._action("&About", None, self.show_about, help_menu)

    def _connect(self) -> None:
        self.queue.currentTicketChanged.connect(self.open_ticket)
        self.team_work.claimed.connect(self.open_claimed)
        self.draft.editor.textChanged.connect(self._reply_changed)
        self.queue.view.openRequested.connect(lambda _row: self.focus_reply())
        self.knowledge.searchRequested.connect(self.run_search)
        self.knowledge.articleRequested.connect(self.load_article)
        self.knowledge.insertRequested.connect(self.draft.insert_text)
        self.draft.approveRequested.connect(self.approve_and_send)
        self.draft.regenerateRequested.connect(self.regenerate_draft)
        self.draft.citationActivated.connect(self.load_article)
        self.draft.aiDraftRequested.connect(self.start_ai_draft)
        self.draft.stopRequested.connect(self.stop_ai)
        self.draft.rewriteRequested.connect(self.rewrite_draft)
        self.draft.translateRequested.connect(self.translate_draft)
        self.draft.previewUsed.connect(self.use_preview)
        self.conversation.browser.linkActivated.connect(self._link_clicked)

    # -- tickets -----------------------------------------------------------------------
    def current_ticket_id(self) -> int | None:
        return self.workspace.ticket.id if self.workspace else None

    def open_ticket(self, ticket_id: int | None) -> None:
        if ticket_id is not None and ticket_id == self._loading_ticket:
            return
        if self.workspace and ticket_id == self.workspace.ticket.id:
            return
        self.save_draft_edits()
        self.stop_ai()
        self.draft.hide_preview()
        self.draft.hide_banner()
        self.conversation.set_summary("")
        self._loading_ticket = ticket_id
        if ticket_id is None:
            self.workspace = None
            self.team_work.ticket_opened(None)
            self.conversation.clear()
            self.draft.set_draft(None)
            self.knowledge.set_suggestions([])
            return
        self.statusBar().showMessage(f"Opening #{ticket_id}…")
        self.tasks.run(lambda: workspace.open_ticket(self.store, ticket_id, agent=self.user, extras=extras_for,
                                                       knowledge=self.kb_sync.db),
                       self._show_workspace, self._show_error, key="ticket", owner=self)

    def _show_workspace(self, ws: TicketWorkspace) -> None:
        if ws.ticket.id != self._loading_ticket:
            return
        self.workspace = ws
        self._loading_ticket = None
        self.conversation.set_ticket(ws.ticket, ws.extras)
        self.knowledge.set_suggestions(list(ws.suggestions))
        self.draft.set_draft(ws.draft)
        self.draft.set_enabled_for_ticket(ws.draft is not None)
        self.draft.set_flags([f.reason for f in ws.flags])
        self._show_flags()
        self.refresh_ai_state()
        if ws.human_only:
            self.draft.show_banner("Human-only ticket (routing rule): no machine draft is offered — write the "
                                   "reply yourself.", error=False)
        elif ws.four_eyes:
            self.draft.show_banner("Four eyes: a supervisor approves this reply before it is sent.", error=False)
        if ws.draft is not None and ws.draft.state == "awaiting_supervisor":
            self.draft.set_enabled_for_ticket(False)
            self.draft.show_banner("This reply waits for a supervisor's approval.", error=False)
        if ws.review_comment is not None:
            c = ws.review_comment
            self.draft.show_banner(f"Returned by {c.author}: “{c.comment}” — edit the reply and approve it again.",
                                   error=False)
        if self.app_settings.get("ai.enabled") and self.app_settings.get("ai.auto_draft") and ws.draft is not None \
                and ws.draft.source != "ai":
            self.start_ai_draft()
        self._put_back_unsent(ws)
        self._replies_seen = {m.id for m in ws.ticket.messages if m.direction == "outbound"}
        self.team_work.ticket_opened(ws.ticket.id)
        self.statusBar().showMessage(f"#{ws.ticket.id} · {ws.ticket.subject}", 4000)
        self.ticketLoaded.emit(ws.ticket.id)

    def _show_flags(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        reasons = [f.reason for f in ws.ticket.flags]
        reasons += [f.reason for f in ws.flags if f.reason not in reasons]
        self.conversation.set_flags(reasons)

    def triage_with_model(self) -> None:
        ws = self.workspace
        provider = self._provider()
        if ws is None or provider is None:
            return
        tid = ws.ticket.id
        self.statusBar().showMessage(f"Asking the model to triage #{tid}…")

        def done(result) -> None:
            self.statusBar().showMessage(
                f"Model triage of #{tid}: " + (", ".join(k for k, _ in result.flags) or "no flags"), 6000)
            self.reload_thread()
            self.aiFinished.emit("triage", True)

        def failed(exc: BaseException) -> None:
            self.draft.show_banner(f"Model triage failed: {exc}")
            self.aiFinished.emit("triage", False)

        self.tasks.run(lambda: model_triage.ask_model(self.store, tid, provider, actor=self.user), done, failed,
                       key="model-triage", owner=self)

    def save_draft_edits(self) -> bool:
        """Keep what the agent typed before leaving a ticket; nothing typed is ever lost.

        When the database cannot take it (the team server is away, the file is locked) the text is
        kept on this desk (:mod:`agent_assist.store.unsent`) and put back when the ticket opens again.
        True when the database has the text.
        """
        ws = self.workspace
        if ws is None or ws.draft is None or not self.draft.is_modified():
            return True
        text = self.draft.text()
        try:
            draft = self._kept_draft(ws)
            drafts.save_edit(self.store, draft.id, text, actor=self.user)
        except StoreError as exc:
            self._keep_unsent(ws, text, exc)
            return False
        self.unsent.drop(self.store.path, ws.ticket.id)
        if self.workspace is not None and self.workspace.ticket.id == ws.ticket.id:  # now the saved text
            self.workspace = replace(self.workspace, draft=replace(self.workspace.draft or draft, body=text))
            self.draft.set_draft(self.workspace.draft, keep_text=True)
        return True

    def _keep_unsent(self, ws: TicketWorkspace, text: str, exc: StoreError) -> None:
        draft_id = ws.draft.id if ws.draft is not None and ws.draft.saved else None
        try:
            self.unsent.keep(self.store.path, ws.ticket.id, draft_id, text)
        except OSError as disk:
            log.warning("could not keep the reply on this desk: %s", disk)
            self._show_error(exc)  # the text is still in the editor; say why it is not saved
            return
        if self._closing:
            log.info("reply to #%s kept on this desk: %s", ws.ticket.id, exc)
            return
        self.statusBar().showMessage(f"{exc} Your reply to #{ws.ticket.id} is kept on this desk and comes back "
                                     "when you open the ticket again.", 12000)

    def _put_back_unsent(self, ws: TicketWorkspace) -> None:
        """The reply kept on this desk for this ticket goes back into the editor (or is dropped if done)."""
        kept = self.unsent.get(self.store.path, ws.ticket.id)
        if kept is None:
            return
        editable = ws.draft is not None and ws.draft.state not in ("awaiting_supervisor", "sent", "discarded")
        if not editable or (ws.draft is not None and ws.draft.saved and kept.draft_id not in (None, ws.draft.id)):
            # the reply was sent, discarded or replaced at another desk meanwhile: say so, keep nothing hidden
            self.draft.show_banner(f"A reply you typed while the database was away could not be put back: this "
                                   f"ticket's draft changed meanwhile. Your text was:\n{kept.text}", error=True)
            self.unsent.drop(self.store.path, ws.ticket.id)
            return
        if kept.text != self.draft.text():
            self.draft.editor.setPlainText(kept.text)
            at = parse_iso(kept.kept_at).astimezone()
            self.draft.show_banner(f"Put back the reply you typed at {at:%H:%M} while the database was away; it is "
                                   "saved when you leave the ticket or send it.", error=False)

    def _kept_draft(self, ws: TicketWorkspace) -> drafts.Draft:
        """The workspace's draft, stored now if it was only a suggestion on screen (opening never writes)."""
        assert ws.draft is not None
        if ws.draft.saved:
            return ws.draft
        kept = workspace.keep_draft(self.store, ws.draft, agent=self.user)
        if self.workspace is ws:
            self.workspace = replace(ws, draft=kept)
        return kept

    def focus_reply(self) -> None:
        self.draft.editor.setFocus()

    def _focus_filter(self) -> None:
        self.queue.text.setFocus()
        self.queue.text.selectAll()

    def approve_and_send(self) -> None:
        ws = self.workspace
        if ws is None or ws.draft is None:
            self.statusBar().showMessage("Open a ticket first.", 4000)
            return
        text = self.draft.text()
        if not text.strip():
            self.statusBar().showMessage("The reply is empty; nothing was sent.", 4000)
            return
        if self.draft.flag_reasons and not self.draft.confirm_flagged.isChecked():
            self.draft.show_banner("This ticket is flagged: tick the confirmation under the reply before sending.")
            return
        if self.draft.busy:
            self.draft.show_banner("The AI is still writing; stop it or wait before sending.")
            return
        if not self._no_reply_meanwhile(ws):
            return
        status_after = self.draft.status_after()
        try:
            draft_id = self._kept_draft(ws).id
            message_id, outbox_id = self._approve_and_send_checked(draft_id, text, status_after)
        except _NotSent:
            return
        except StoreError as exc:
            self._show_error(exc)
            return
        self.unsent.drop(self.store.path, ws.ticket.id)  # the database has this reply now
        if outbox_id is not None and self.mail is not None:
            self.mail.deliver_soon()
        ticket = get_ticket(self.store.db, ws.ticket.id)
        if message_id is None:  # four eyes: it waits for a supervisor
            waiting = drafts.get(self.store.db, draft_id)
            self.workspace = replace(ws, ticket=ticket, draft=waiting)
            self.draft.set_draft(waiting)
            self.draft.set_enabled_for_ticket(False)
            self.draft.show_banner("Sent to a supervisor for approval (four eyes). Nothing goes to the customer "
                                   "until a supervisor approves it.", error=False)
            self.statusBar().showMessage(f"#{ticket.id}: reply waits for a supervisor's approval.", 8000)
            self.approvalRequested.emit(ticket.id, waiting.id)
            return
        self.team_work.reply_sent(ticket.id)
        self.workspace = replace(ws, ticket=ticket, draft=None)
        self.conversation.set_ticket(ticket, ws.extras)
        self.reload_thread()  # the delivery state of the new reply follows
        self.draft.set_draft(None)
        self.draft.set_enabled_for_ticket(False)
        self.queue.refresh_keeping_scroll()
        self.statusBar().showMessage(
            f"Reply sent to {ticket.customer_name} — #{ticket.id} is now {ticket.status}.", 8000)
        self.replySent.emit(ticket.id, message_id)

    def _no_reply_meanwhile(self, ws: TicketWorkspace) -> bool:
        """False when someone else replied to this customer since the thread was shown and the person,
        now shown that reply, chose not to send theirs as well."""
        try:
            ticket = get_ticket(self.store.db, ws.ticket.id)
        except StoreError as exc:
            self._show_error(exc)
            return False
        theirs = [m for m in ticket.messages if m.direction == "outbound" and m.id not in self._replies_seen
                  and m.author != self.user]
        self._replies_seen = {m.id for m in ticket.messages if m.direction == "outbound"}
        if not theirs:
            return True
        self.workspace = replace(ws, ticket=ticket)
        self.conversation.set_ticket(ticket, ws.extras)  # shown before anything else is sent
        who = ", ".join(sorted({m.author or "someone" for m in theirs}))
        if self.confirm_after_other_reply(f"{who} replied to {ticket.customer_name} while you were writing; their "
                                          "reply is now in the conversation above."):
            return True
        self.draft.show_banner(f"Not sent: {who} answered meanwhile. Your reply is kept here; change it or send "
                               "it when it still fits.", error=False)
        return False

    def confirm_after_other_reply(self, message: str) -> bool:
        """Ask whether the reply still goes out after someone else's (tests replace this)."""
        return QMessageBox.question(
            self, "Someone else replied", message + "\n\nSend your reply as well?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No) == QMessageBox.StandardButton.Yes

    def _reply_changed(self) -> None:
        """Typing in the reply: the other desks see this one writing; someone else writing is asked about."""
        writing = self.draft.is_modified()
        started = writing and not self.team_work.writing
        self.team_work.set_writing(writing)
        if not started:
            return
        writers = self.team_work.writers()
        if writers and not self.confirm_collision(writers):
            self.draft.editor.blockSignals(True)
            self.draft.editor.setPlainText(self.draft.draft.body if self.draft.draft else "")
            self.draft.editor.blockSignals(False)
            self.team_work.set_writing(False)
            self.draft.show_banner(f"{', '.join(writers)} is writing the reply to this ticket; nothing was changed "
                                   "here.", error=False)

    def confirm_collision(self, writers: list[str]) -> bool:
        """Ask before writing a reply someone else is writing (tests replace this)."""
        return QMessageBox.question(
            self, "Someone is writing a reply", f"{', '.join(writers)} is writing a reply to this ticket right now."
            "\n\nWrite one as well?", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No) == QMessageBox.StandardButton.Yes

    def open_claimed(self, ticket_id: int) -> None:
        """The ticket "Take next ticket" claimed: shown in the queue where the filter allows, and opened."""
        self.queue.refresh_keeping_scroll()
        row = self.model.row_of(ticket_id)
        if row >= 0:
            self.queue.select_row(row)
        else:
            self.open_ticket(ticket_id)

    def _approve_and_send_checked(self, draft_id: int, text: str, status_after: str) -> tuple[int | None, int | None]:
        """Send through the core; a full card number is sent only when the person confirms it."""
        mailbox = self.mail.mailbox if self.mail is not None else None
        try:
            return replies.approve_and_send(self.store, draft_id, text, actor=self.user, status_after=status_after,
                                            mailbox=mailbox)
        except UnmaskedCardNumberError as exc:
            if not self.confirm_card_number(str(exc)):
                self.draft.show_banner("Nothing was sent. Replace the full card number with its last four digits "
                                       "(for example •••• " + exc.endings[0] + "), then send again.")
                raise _NotSent from None
        return replies.approve_and_send(self.store, draft_id, text, actor=self.user, status_after=status_after,
                                        mailbox=mailbox, confirmed_pan=True)

    def confirm_card_number(self, message: str) -> bool:
        """Ask the person whether a reply holding a full card number really goes out (tests replace this)."""
        return QMessageBox.question(
            self, "Full card number in the reply", message + "\n\nSend the reply with the full card number?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No) == QMessageBox.StandardButton.Yes

    def regenerate_draft(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        if self.draft.is_modified() and QMessageBox.question(
            self, "Regenerate draft", "Replace the reply you edited with a new suggestion?"
        ) != QMessageBox.StandardButton.Yes:
            return
        ticket_id = ws.ticket.id
        self.tasks.run(lambda: workspace.regenerate_offline(self.store, ticket_id, agent=self.user),
                       lambda d: self._show_new_draft(ticket_id, d), self._show_error, key="draft", owner=self)

    def _show_new_draft(self, ticket_id: int, draft: drafts.Draft) -> None:
        if self.workspace and self.workspace.ticket.id == ticket_id:
            self.workspace = replace(self.workspace, draft=draft)
            self.draft.set_draft(draft)
            self.draft.set_enabled_for_ticket(True)

    def assign_to_me(self) -> None:
        if self.workspace:
            self._change(lambda tid: tickets.assign(self.store, tid, self.user, actor=self.user))

    def set_status(self, status: str) -> None:
        if self.workspace:
            self._change(lambda tid: tickets.set_status(self.store, tid, status, actor=self.user))

    def _change(self, fn) -> None:
        tid = self.workspace.ticket.id
        try:
            fn(tid)
        except StoreError as exc:
            self._show_error(exc)
            return
        self.reload_thread()
        self.queue.refresh_keeping_scroll()

    # -- AI ---------------------------------------------------------------------------------
    def refresh_ai_state(self) -> None:
        provider_ok, why = self._provider_status()
        if self.workspace is not None and self.workspace.human_only:
            provider_ok, why = False, "Human-only ticket: a person writes this reply (routing rule)."
        self.draft.set_ai_available(provider_ok, why)
        self.draft.regenerate.setEnabled(not (self.workspace and self.workspace.human_only))

    def _provider_status(self) -> tuple[bool, str]:
        if not self.app_settings.get("ai.enabled"):
            return False, "Turn on an AI model in Preferences (Ctrl+,); the offline drafter works meanwhile."
        config = ProviderConfig.from_dict(self.app_settings.get("ai.provider"))
        if not config.model.strip():
            return False, "Choose a model in Preferences (Ctrl+,)."
        return True, ""

    def _provider(self) -> Provider | None:
        ok, why = self._provider_status()
        if not ok:
            self.draft.show_banner(why, error=False)
            return None
        config = ProviderConfig.from_dict(self.app_settings.get("ai.provider"))
        key = secrets.get_api_key(config)
        if config.needs_key and not key:
            self.draft.show_banner(f"No API key for {config.preset_info.label}: add it in Preferences (Ctrl+,).")
            return None
        cached = self._provider_cache
        if cached is not None and cached[0] == (config, key):
            return cached[1]  # one client per configuration: its connections stay warm
        self._close_provider()
        provider = Provider(config, key)
        self._provider_cache = ((config, key), provider)
        return provider

    def _close_provider(self) -> None:
        if self._provider_cache is not None:
            self._provider_cache[1].close()
            self._provider_cache = None

    def _warm_up_ai(self) -> None:
        """Load the model client in the background, so the first draft does not pay for it."""
        if not self._provider_status()[0]:
            return
        config = ProviderConfig.from_dict(self.app_settings.get("ai.provider"))
        key = secrets.get_api_key(config)
        if config.needs_key and not key:
            return
        provider = self._provider()
        if provider is not None:
            self.tasks.run(provider.connect, on_error=lambda exc: log.info("AI warm-up: %s", exc),
                           key="ai-warm-up", owner=self)

    def _run_ai(self, kind: str, label: str, make, on_done) -> None:
        """Start one model job streaming into the preview; only one runs at a time."""
        provider = self._provider()
        if provider is None:
            return
        self.stop_ai()
        self._pending_restored = ()
        self._pending_suspect = ()
        job = StreamJob(lambda cancelled: make(provider, cancelled), self)
        self.ai_job = job
        self._ai_kind = kind
        self.draft.start_preview(label)
        self.draft.set_busy(True)
        job.delta.connect(self.draft.append_preview if kind != "summary" else self.conversation.append_summary)

        def finished(result) -> None:
            if self.ai_job is job:
                on_done(result)
                self.aiFinished.emit(kind, True)

        def failed(exc: BaseException) -> None:
            if self.ai_job is not job:
                return
            partial = getattr(exc, "partial", "") or job.text
            message = str(exc) if isinstance(exc, (ProviderError, StoreError)) else f"Unexpected problem: {exc}"
            if kind == "summary":
                self.conversation.set_summary("")
            if partial and kind != "summary":
                self.draft.offer_preview("What arrived before the problem (incomplete)")
            else:
                self.draft.hide_preview()
            self.draft.show_banner(message + (" Your reply is unchanged." if kind != "summary" else ""))
            self.aiFinished.emit(kind, False)

        def stopped() -> None:
            if self.ai_job is job:
                self.ai_job = None
                self.draft.set_busy(False)
            job.deleteLater()

        job.finished.connect(finished)
        job.failed.connect(failed)
        job.stopped.connect(stopped)
        job.start()

    def stop_ai(self) -> None:
        job = self.ai_job
        if job is None:
            return
        job.cancel()
        self.ai_job = None
        self.draft.set_busy(False)
        if self._ai_kind == "summary":
            self.conversation.set_summary("")
        elif self.draft.preview_text():
            self.draft.offer_preview("Stopped — what arrived so far")
        else:
            self.draft.hide_preview()
        self.statusBar().showMessage("Stopped.", 3000)

    def start_ai_draft(self) -> None:
        ws = self.workspace
        if ws is None or ws.ticket.status == "closed":
            return
        tid = ws.ticket.id
        policy = self.app_settings.get("ai.policy")

        def make(provider, cancelled):
            return drafting.stream_draft(self.store, tid, provider, agent_name=self.user, policy=policy,
                                         cancel=cancelled)

        self._run_ai("draft", "AI draft — writing…", make, self._ai_draft_done)

    def _ai_draft_done(self, result: drafting.AiDraft) -> None:
        ws = self.workspace
        if ws is None or ws.ticket.id != result.ticket_id:
            return
        self._pending_ai = result
        self._pending_restored = result.restored
        self._pending_suspect = result.suspect_citations
        self.draft.set_preview_text(result.text)  # what the guards kept: no prompt markup
        if result.warnings:
            self.draft.show_banner(" ".join(result.warnings))
        if self.draft.is_modified():
            self.draft.offer_preview("AI draft ready — your text is untouched")
            return
        self.use_preview()

    def use_preview(self) -> None:
        """Put the finished AI draft (or its rewrite) into the editor, as one undoable edit."""
        ws = self.workspace
        text = self.draft.preview_text()
        if ws is None or not text.strip():
            return
        result = getattr(self, "_pending_ai", None)
        if self._ai_kind == "draft" and result is not None and result.ticket_id == ws.ticket.id:
            try:
                new = drafting.record_ai_draft(self.store, result, actor=self.user, body=text)
            except StoreError as exc:
                self._show_error(exc)
                return
            self.workspace = replace(ws, draft=new)
            self.draft.draft = new
            self.draft.replace_text(text)
            self.draft.set_draft(new, keep_text=True)
            self.draft.set_source_note("cut off" if result.cut_off else "")
            self.draft.set_enabled_for_ticket(True)
        else:
            self.draft.replace_text(text)
        self.draft.mark_restored(self._pending_restored)
        self.draft.set_suspect_citations(self._pending_suspect)
        self._pending_ai = None
        self.draft.hide_preview()

    def rewrite_draft(self, action: str, target: str | None) -> None:
        ws = self.workspace
        text = self.draft.text()
        if ws is None or not text.strip():
            return
        language = ws.ticket.language

        def make(provider, cancelled):
            return drafting.stream_rewrite(provider, text, action, language=language, target_language=target,
                                           cancel=cancelled)

        def done(result: drafting.AiText) -> None:
            self._pending_restored, self._pending_suspect = result.restored, result.suspect_citations
            self.draft.set_preview_text(result.text)
            if result.warnings:
                self.draft.show_banner(" ".join(result.warnings))
            if self.draft.text() == text:  # the agent did not type meanwhile: apply, undoable
                self.draft.replace_text(result.text)
                self.draft.mark_restored(result.restored)
                self.draft.set_suspect_citations(result.suspect_citations)
                self.draft.set_source_note("rewrite cut off" if result.cut_off else "")
                self.draft.hide_preview()
            else:
                self.draft.offer_preview("Rewrite ready — your text changed meanwhile")

        label = f"Rewrite: {action}" + (f" → {target}" if target else "")
        self._run_ai("rewrite", label, make, done)

    def translate_draft(self) -> None:
        text = self.draft.text()
        if self.workspace is None or not text.strip():
            return
        target = self.app_settings.get("agent.language")

        def make(provider, cancelled):
            return drafting.stream_translation(provider, text, target, cancel=cancelled)

        def done(result: drafting.AiText) -> None:
            self.draft.set_preview_text(result.text)
            if result.warnings:
                self.draft.show_banner(" ".join(result.warnings))
            self.draft.preview_label.setText(f"<b>Translation ({target}) — for you to read, not sent</b>")

        self._run_ai("translation", f"Translation ({target}) — writing…", make, done)

    def summarize_thread(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        tid = ws.ticket.id
        self.conversation.set_summary("…")

        def make(provider, cancelled):
            return drafting.stream_summary(self.store, tid, provider, cancel=cancelled)

        def done(result: drafting.AiText) -> None:
            self.conversation.set_summary(result.text)
            self.draft.hide_preview()

        self._run_ai("summary", "Summary", make, done)

    def show_preferences(self) -> None:
        dialog = SettingsDialog(self.app_settings, self.tasks, self, store=self.store, user=self.user)
        dialog.accepted.connect(self.start_mail)
        dialog.finished.connect(lambda _r: (self._close_provider(), self.refresh_ai_state(),
                                            self.notifier.set_enabled(self.app_settings.get("notifications.enabled"))))
        dialog.open()
        self.preferences = dialog

    # -- supervisors ---------------------------------------------------------------------
    def _supervisor_send(self, store: Store, draft_id: int, body: str, actor: str, confirmed_pan: bool = False) -> int:
        message_id, outbox_id = replies.supervisor_approve_and_send(
            store, draft_id, body, actor=actor, mailbox=self.mail.mailbox if self.mail is not None else None,
            confirmed_pan=confirmed_pan)
        if outbox_id is not None and self.mail is not None:
            self.mail.deliver_soon()
        return message_id

    def _side_window(self, attr: str, title: str, make) -> QWidget:
        window = getattr(self, attr, None)
        if window is None:
            window = make()
            window.setWindowTitle(f"{title} — {APP_NAME}")
            window.setWindowFlag(Qt.WindowType.Window, True)
            window.resize(1100, 700)
            setattr(self, attr, window)
        window.show()
        window.raise_()
        return window

    def show_review(self) -> QWidget:
        return self._side_window("review_window", "Supervisor review", lambda: ReviewView(
            self.store, self.tasks, user=self.user, role=self.profile.role, parent=self, send=self._supervisor_send))

    def show_dashboard(self) -> QWidget:
        return self._side_window("dashboard_window", "Quality dashboard",
                                 lambda: QualityDashboard(self.store, self.tasks, parent=self))

    # -- mail ----------------------------------------------------------------------------
    def start_mail(self) -> None:
        """Run the support mailbox when Preferences say so (restarted after changes)."""
        if self.mail is not None:
            self.mail.stop()
            self.mail = None
        if not self.app_settings.get("email.enabled"):
            return
        try:
            mailbox = MailboxConfig.from_dict(self.app_settings.get("email.mailbox"))
        except (KeyError, TypeError, ValueError) as exc:
            self.statusBar().showMessage(f"The mailbox settings are incomplete: {exc}", 10000)
            return
        self.mail = MailService(self.store, mailbox, self)
        self.mail.status.connect(self._mail_status)
        self.mail.progress.connect(self._mail_progress)
        self.mail.start()
        self.act_mail_pause.setEnabled(True)
        self.act_mail_pause.setText("&Pause mailbox")

    def toggle_mail(self) -> None:
        """Pause the mailbox (a long first sync stops after its current batch) or resume it where it was."""
        if self.mail is not None and self.mail.running:
            self.mail.stop()
            self.act_mail_pause.setText("&Resume mailbox")
            self.status_mail.setText("✉ paused")
        else:
            self.start_mail()

    def _mail_progress(self, done: int, total: int) -> None:
        if total:
            self.status_mail.setText(f"✉ syncing {done:,} / {total:,}")

    def _mail_status(self, kind: str, message: str) -> None:
        self.status_mail.setText(f"✉ {message}" if message else "")
        if kind in ("error", "auth_error"):
            self.statusBar().showMessage(f"Mail: {message}", 10000)

    # -- live ----------------------------------------------------------------------------
    def poll_changes(self) -> None:
        """Called every few hundred ms: if anything committed, merge it into the screen."""
        try:
            version = self.store.data_version()
        except StoreError as exc:  # pragma: no cover - the file vanished under us
            self._show_error(exc)
            return
        if self._follow_server_state():
            return  # the team server is away: nothing to read until it is back (the listener retries)
        self.team_work.poll()
        if version == self._data_version:
            return
        self._data_version = version
        try:
            seen = article_fingerprint(self.store.db)
        except StoreError as exc:  # e.g. the server went away between two polls
            self.statusBar().showMessage(str(exc), 8000)
            return  # most changes are to tickets: skip re-reading 50k ids
        if seen != self._articles_seen:
            self._articles_seen = seen
            self.draft.known_articles = all_article_ids(self.store.db)
            self.refresh_knowledge_filters()
        self.queue.refresh_keeping_scroll()
        self.reload_thread()

    def _follow_server_state(self) -> bool:
        """Show "reconnecting…" while a team server is away; True while it is. (A desk's file is never away.)"""
        state = getattr(self.store, "state", "online")
        if state != self._server_state:
            self._server_state = state
            if state == "reconnecting":
                self.status_live.setText("● reconnecting…")
                self.status_live.setToolTip(f"{self.store.state_detail} Trying again; the reply you are writing "
                                            "stays here and nothing is lost.")
                self.statusBar().showMessage(f"The team server {self.store.path} is not reachable; reconnecting…")
            else:
                self.status_live.setText("● live")
                self.status_live.setToolTip(f"The queue follows changes to {self.store.path} as they happen")
                typed = self.draft.is_modified()
                saved = typed and self.save_draft_edits()  # the reply typed meanwhile goes to the server now
                self.statusBar().showMessage("Reconnected to the team server; the queue caught up"
                                             + (" and the reply you typed is saved there." if saved else "."), 6000)
        return state == "reconnecting"

    def reload_thread(self) -> None:
        """Re-read the open ticket's thread; the reply being written is left alone."""
        ws = self.workspace
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
            hits = kb_search.suggest_for_text(self.kb_sync.db(), ticket.inbound_text(), subject=ticket.subject,
                                              language=ticket.language, limit=8)
            return ticket, tuple(hits), tuple(injection.scan(ticket.inbound_text())), extras

        def done(result) -> None:
            ticket, hits, flags, extras = result
            if not (self.workspace and self.workspace.ticket.id == tid):
                return
            if hits is not None:
                self.workspace = replace(self.workspace, suggestions=hits, flags=flags)
                self.knowledge.set_suggestions(list(hits))
                self.draft.set_flags([f.reason for f in self.workspace.flags])
            if ticket != self.workspace.ticket or extras != self.workspace.extras:
                self.workspace = replace(self.workspace, ticket=ticket, extras=extras)
                self.conversation.set_ticket(ticket, extras)
                self._show_flags()

        self.tasks.run(work, done, self._show_error, key="thread", owner=self)

    # -- knowledge ----------------------------------------------------------------------
    def run_search(self, query: str, locale: str | None = None, section: str | None = None) -> None:
        def done(hits) -> None:
            self.knowledge.show_results(query, hits)
            self.searchShown.emit(query)

        self.tasks.run(lambda: kb_search.search(self.kb_sync.db(), query, locale=locale, section=section, limit=30),
                       done, self._show_error, key="kb-search", owner=self)

    def refresh_knowledge_filters(self) -> None:
        self.knowledge.set_filter_choices(kb_search.locales(self.store.db), kb_search.sections(self.store.db))

    def import_knowledge(self, paths: list[str]) -> KnowledgeImport | None:
        """Import (or re-import) these files/folders with a progress dialog; returns the running import."""
        if not paths:
            return None
        job = KnowledgeImport(self.store, self.tasks, paths, actor=self.user, parent=self)
        job.finished.connect(lambda report: self.statusBar().showMessage(report.summary(), 10000))
        job.finished.connect(lambda _r: self.poll_changes())
        job.cancelled.connect(lambda: self.statusBar().showMessage(
            "Import cancelled; the knowledge base is as it was.", 8000))
        self.kb_import = job
        return job

    def import_knowledge_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Import knowledge", "", "Knowledge (*.md *.markdown *.html *.htm *.txt *.csv *.json *.jsonl);;"
                                          "All files (*)")
        self.import_knowledge(paths)

    def import_knowledge_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a folder of articles")
        self.import_knowledge([folder] if folder else [])

    def load_article(self, article_id: int) -> None:
        self.tasks.run(lambda: get_article(self.kb_sync.db(), article_id), self.knowledge.show_article,
                       self._show_error, key="kb-article", owner=self)

    # -- dialogs ----------------------------------------------------------------------
    def _show_error(self, exc: BaseException) -> None:
        """One sentence in the status bar and a (non-blocking) message box; quiet once the window closes."""
        if self._closing or not shiboken6.isValid(self):
            log.info("error after the window closed: %s", exc)
            return
        if isinstance(exc, StoreClosedError):
            log.info("store closed under a job: %s", exc)
            return
        if isinstance(exc, StoreError):
            text, icon = str(exc), QMessageBox.Icon.Warning
            self.statusBar().showMessage(text, 10000)
        else:
            log.error("unexpected error", exc_info=exc)
            text, icon = f"Something went wrong: {exc}", QMessageBox.Icon.Critical
        box = QMessageBox(icon, APP_NAME, text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("errorMessage")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # window-modal without a nested event loop: a late job cannot re-enter it
        self.error_box = box

    def _link_clicked(self, url: QUrl) -> None:
        if url.scheme() == "save":
            self.save_attachment(int(url.path() or url.toString().split(":", 1)[1]))
        elif url.scheme() == "showall":
            return  # the conversation view shows the whole message itself
        else:
            self._confirm_link(url)

    def save_attachment(self, attachment_id: int, folder: str | None = None) -> Path | None:
        """Save an attachment where the agent chooses; it is never opened by the app."""
        folder = folder or QFileDialog.getExistingDirectory(self, "Save the attachment in…")
        if not folder:
            return None
        try:
            path = attachments.save_attachment(self.store.db, attachment_id, folder)
        except (OSError, StoreError) as exc:
            self._show_error(StoreError(f"The attachment could not be saved: {exc}"))
            return None
        self.statusBar().showMessage(f"Saved {path}", 8000)
        return Path(path)

    def _confirm_link(self, url: QUrl) -> None:
        if url.scheme() not in ("http", "https", "mailto"):
            return
        warning = self.conversation.browser.link_warning(url)  # a look-alike or a text that lies
        answer = QMessageBox.question(
            self, "Open link?",
            (f"{warning}\n\n" if warning else "")
            + f"This link comes from a customer message and may not be what it seems:\n\n{url.toString()}\n\n"
            "Open it in your browser?")
        if answer == QMessageBox.StandardButton.Yes:
            QDesktopServices.openUrl(url)

    def shortcut_rows(self) -> list[tuple[str, str]]:
        rows = []
        for menu_action in self.menuBar().actions():
            for action in menu_action.menu().actions():
                if action.shortcut().toString():
                    rows.append((action.text().replace("&&", "\x00").replace("&", "").replace("\x00", "&"),
                                 action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)))
        rows.append(("Open ticket and reply (in the queue)", "Enter"))
        rows.append(("Move in the queue", "↑ / ↓"))
        return rows

    def show_shortcuts(self) -> None:
        body = "".join(f"<tr><td>{html.escape(a)}</td><td><b>{html.escape(k)}</b></td></tr>"
                       for a, k in self.shortcut_rows())
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(f"<table cellpadding='3'>{body}</table>")
        box.open()

    def show_about(self) -> None:
        self.about = AboutDialog(store=self.store, parent=self)
        self.about.open()

    # -- notifications -------------------------------------------------------------------
    def _notify_inserted(self, _parent, first: int, last: int) -> None:
        self.notifier.notify_new_tickets([self.model.row_data(i) for i in range(first, last + 1)])

    def check_sla(self) -> None:
        self.notifier.check_sla([self.model.row_data(i) for i in range(self.model.rowCount())])

    def _bring_forward(self) -> None:
        if self.isMinimized():
            self.showNormal()
        else:
            self.show()
        self.raise_()
        self.activateWindow()

    def _select_ticket(self, ticket_id: int) -> None:
        self._bring_forward()
        row = self.model.row_of(ticket_id)
        if row >= 0:
            self.queue.select_row(row)

    # -- layout ----------------------------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            screen = self.screen().availableGeometry()
            self.resize(min(1440, screen.width()), min(860, screen.height()))
        for key, widget in (("window/state", self), ("window/main_splitter", self.splitter),
                            ("window/middle_splitter", self.middle),
                            ("window/kb_splitter", self.knowledge.splitter),
                            ("window/queue_header", self.queue.view.horizontalHeader())):
            value = self.settings.value(key)
            if isinstance(value, QByteArray) and not value.isEmpty():
                widget.restoreState(value)
        if not isinstance(self.settings.value("window/main_splitter"), QByteArray):
            self.splitter.setSizes([760, 420, 280])
            self.middle.setSizes([480, 320])

    def save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/main_splitter", self.splitter.saveState())
        self.settings.setValue("window/middle_splitter", self.middle.saveState())
        self.settings.setValue("window/kb_splitter", self.knowledge.splitter.saveState())
        self.settings.setValue("window/queue_header", self.queue.view.horizontalHeader().saveState())
        self.settings.sync()

    def closeEvent(self, event) -> None:
        if self._closing:
            super().closeEvent(event)
            return
        self._closing = True
        job = self.ai_job
        self.stop_ai()
        if job is not None:
            job.wait()
        for timer in self.findChildren(QTimer):  # no timer may start work on a store about to close
            timer.stop()
        self.tasks.shutdown()  # waits for running jobs; their results are dropped
        self.kb_sync.close()
        self._close_provider()
        if self.mail is not None:
            self.mail.stop()
        self.notifier.close()
        try:
            self.save_draft_edits()
            self.team_work.leave()
        except StoreClosedError:
            log.warning("the store closed before the reply being written could be saved")
        self.save_layout()
        super().closeEvent(event)
