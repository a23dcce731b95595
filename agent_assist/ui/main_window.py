"""The main window: queue | conversation + reply | knowledge, with menus and shortcuts.

The window builds the widgets and the layout, the menus and shortcuts, opens tickets and follows
the database; the work behind each action is one controller's (:mod:`agent_assist.ui.controllers`
lists which file handles which shortcut): drafting, review, mail and knowledge, with team work in
:mod:`agent_assist.ui.team_work`. Each owns its background jobs; :meth:`MainWindow.closeEvent` stops
them in order.
"""

from __future__ import annotations

import html
import logging

import shiboken6

from PySide6.QtCore import QByteArray, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from agent_assist import APP_NAME
from agent_assist.assist import workspace
from agent_assist.assist.workspace import TicketWorkspace
from agent_assist.store.backend import is_postgres
from agent_assist.store import Store, StoreError, people, tickets
from agent_assist.settings import Settings
from agent_assist.store.errors import StoreClosedError
from agent_assist.ui.about_dialog import AboutDialog
from agent_assist.ui.controllers.drafting import UNDO_SHORTCUT, DraftingController
from agent_assist.ui.controllers.knowledge import KnowledgeController
from agent_assist.ui.controllers.mail import MailController
from agent_assist.ui.controllers.review import ReviewController
from agent_assist.ui.controllers.thread import ThreadController
from agent_assist.ui.conversation_view import ConversationView
from agent_assist.ui.draft_panel import DraftPanel
from agent_assist.channels.thread_info import extras_for
from agent_assist.ui.dashboard import QualityDashboard
from agent_assist.ui.knowledge_panel import KnowledgePanel
from agent_assist.ui.knowledge_sync import KnowledgeSync
from agent_assist.ui.semantic_index import SemanticIndex, make_layer
from agent_assist.ui.notifications import Notifier
from agent_assist.ui.queue_model import QueueModel
from agent_assist.ui.queue_panel import QueuePanel
from agent_assist.ui.settings_dialog import SettingsDialog
from agent_assist.ui.shortcuts_dialog import ShortcutsDialog
from agent_assist.ui.start_page import StartPage
from agent_assist.ui.tasks import TaskManager
from agent_assist.ui.team_view import TeamView
from agent_assist.ui.team_work import TeamWork
from agent_assist.ui.undo_send import UndoSend

log = logging.getLogger(__name__)

LIVE_POLL_MS = 400
SLA_TICK_MS = 30_000
PANE_SHARES = (44, 34, 22)
"""Queue, conversation and reply, knowledge: the first layout's widths in per cent of the window."""


class _Wake(QObject):
    """Carries "the server announced a change" from the store's listener thread to the window's thread."""

    ping = Signal()


def _on(controller: str, name: str) -> property:
    """A window attribute that lives on one of its controllers (kept for callers and tests; setting it
    sets the controller's, so a test replacing ``window.confirm_card_number`` reaches the drafting)."""
    return property(lambda self: getattr(getattr(self, controller), name),
                    lambda self, value: setattr(getattr(self, controller), name, value),
                    doc=f"``self.{controller}.{name}``")


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
    """kind ("draft", "rewrite", "translation", "summary", "triage"), success: a model job ended."""

    # what moved to the controllers, under the names callers and tests know
    ai_job = _on("drafting", "ai_job")
    unsent = _on("drafting", "unsent")
    confirm_card_number = _on("drafting", "confirm_card_number")
    confirm_after_other_reply = _on("drafting", "confirm_after_other_reply")
    confirm_collision = _on("drafting", "confirm_collision")
    approve_and_send = _on("drafting", "approve_and_send")
    save_draft_edits = _on("drafting", "save_draft_edits")
    start_ai_draft = _on("drafting", "start_ai_draft")
    regenerate_draft = _on("drafting", "regenerate_draft")
    summarize_thread = _on("drafting", "summarize_thread")
    show_review = _on("review", "show")
    reload_thread = _on("thread", "reload")
    set_status = _on("thread", "set_status")
    save_attachment = _on("thread", "save_attachment")
    mail = _on("mailroom", "service")
    toggle_mail = _on("mailroom", "toggle")
    import_knowledge = _on("knowledge_base", "import_paths")
    refresh_knowledge_filters = _on("knowledge_base", "refresh_filters")
    load_article = _on("knowledge_base", "load_article")

    def __init__(self, store: Store, *, user: str, settings: QSettings | None = None,
                 app_settings: Settings | None = None):
        super().__init__()
        self.store = store
        if is_postgres(store):  # on a team server the person is the database login, whatever name was given
            user = store.user
        self.user = user
        self.settings = settings or QSettings()
        self.app_settings = app_settings or Settings()
        self.tasks = TaskManager(self)
        self._closing = False
        self.error_box: QMessageBox | None = None
        self.workspace: TicketWorkspace | None = None
        self._loading_ticket: int | None = None
        self._data_version = store.data_version()
        self._server_state = "online"

        self.profile = people.ensure_profile(store, user)
        self.setWindowTitle(f"{user} ({self.profile.role}) — {APP_NAME}")  # ends with the display name: Qt adds none
        self.setObjectName("mainWindow")
        self.model = QueueModel(store, user=user, parent=self)
        self.queue = QueuePanel(self.model, tickets.languages(store.db))
        self.conversation = ConversationView()
        self.draft = DraftPanel()
        self.draft.enable_feedback(self.store, self.tasks, self.user)
        self.knowledge = KnowledgePanel()

        self.presence = QLabel()  # who else has this ticket open (team server), hidden when nobody
        self.presence.setObjectName("presenceBar")
        self.presence.setAccessibleName("Others on this ticket")
        self.presence.setWordWrap(True)
        conversation_box = QWidget()
        box = QVBoxLayout(conversation_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.presence)
        self.start_page = StartPage(mailbox=lambda: self.show_preferences("Mailbox"),
                                    knowledge=lambda: self.knowledge_base.import_files(),
                                    team=lambda: self.show_preferences("Team server"))
        box.addWidget(self.start_page, 1)  # the first run: shown instead of an empty conversation
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
        for pane, share in enumerate(PANE_SHARES):  # a larger window grows the panes in the same proportion
            self.splitter.setStretchFactor(pane, share)
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
        self.thread = ThreadController(self)
        self.drafting = DraftingController(self)
        self.review = ReviewController(self)
        self.mailroom = MailController(self)
        self.knowledge_base = KnowledgeController(self)
        self.meaning = SemanticIndex(store, self.kb_sync, make_layer(
            self.app_settings.get("knowledge.semantic"), provider_factory=self.drafting.embedding_provider,
            model=self.app_settings.get("knowledge.embedding_model")), parent=self,
            message=lambda text: self.statusBar().showMessage(text, 10000))
        self.meaning.statusChanged.connect(
            lambda words: self.knowledge.set_sync_status(words or self.kb_sync.status_text()))
        self.kb_sync.synced.connect(lambda _r: self.meaning.reindex())
        self.undo = UndoSend(store, self.tasks, self.statusBar(), user=user, mailbox=lambda: self.mailroom.mailbox,
                             parent=self)
        self.undo.sent.connect(self.drafting.held_sent)
        self.undo.undone.connect(self.drafting.held_undone)
        self.undo.failed.connect(lambda _ticket, text: self._show_error(StoreError(text)))
        self._build_actions()
        self._connect()
        self.model.start()
        self._follow_first_run()
        self._restore_layout()
        self.drafting.refresh_ai_state()
        self.drafting.warm_up()
        self.knowledge_base.load()
        self.meaning.start()

        self._live = QTimer(self)
        self._live.setInterval(LIVE_POLL_MS)
        self._live.timeout.connect(self.poll_changes)
        self._live.start()
        if is_postgres(store):  # the server's announcement wakes the window at once, not at the next tick
            self._wake = _Wake(self)
            self._wake.ping.connect(self.poll_changes, Qt.ConnectionType.QueuedConnection)
            store.on_change = self._wake.ping.emit
        self._tick = QTimer(self)
        self._tick.setInterval(SLA_TICK_MS)
        self._tick.timeout.connect(self.model.tick)
        self._tick.timeout.connect(self.check_sla)
        self._tick.start()
        self.mailroom.start()
        self.undo.send_due()  # replies whose undo time ran out while the app was closed go out now
        self.notifier = Notifier(enabled=self.app_settings.get("notifications.enabled"), user=user, parent=self)
        self.notifier.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.notifier.trayActivated.connect(self._bring_forward)
        self.notifier.ticketActivated.connect(self._select_ticket)
        self.model.rowsInserted.connect(self._notify_inserted)
        self.notifier.watch(self, self.queue.view)  # "(3 new)": arrivals since the person last looked
        self.model.arrived.connect(self.notifier.count_arrivals)
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
        self.act_send = self._action("&Approve && send reply", "Ctrl+Return", self.drafting.approve_and_send, ticket,
                                     "Send the reply as written; nothing is sent without this")
        self.act_send_enter = QAction(self)  # the keypad Enter, too
        self.act_send_enter.setShortcut(QKeySequence("Ctrl+Enter"))
        self.act_send_enter.triggered.connect(self.drafting.approve_and_send)
        self.addAction(self.act_send_enter)
        self.act_undo_send = self._action("&Undo send", UNDO_SHORTCUT, self.undo.undo_latest, ticket,
                                          "Take back the reply waiting its seconds before it goes out")
        self.act_regen = self._action("Re&generate draft", "Ctrl+Shift+G", self.drafting.regenerate_draft, ticket)
        self.act_assign = self._action("Assign to &me", "Ctrl+Shift+M", self.thread.assign_to_me, ticket)
        self.act_solve = self._action("Mark &solved", "Ctrl+Shift+S", lambda: self.thread.set_status("solved"),
                                      ticket)

        ai = bar.addMenu("&AI")
        self.act_ai_draft = self._action("&Draft with AI", "Ctrl+D", self.drafting.start_ai_draft, ai)
        self.act_ai_stop = self._action("&Stop", "Esc", self.drafting.stop_ai, ai)
        self.act_translate = self._action("&Translate draft for me", "Ctrl+T", self.drafting.translate_draft, ai)
        self.act_summarize = self._action("Su&mmarize thread", "Ctrl+Shift+U", self.drafting.summarize_thread, ai)
        self.act_model_triage = self._action("Triage with the &model", "Ctrl+Shift+T",
                                             self.drafting.triage_with_model, ai,
                                             "Ask the model for flags and show them beside the offline rules")
        rewrite = ai.addMenu("&Rewrite draft")
        for action, label in (("shorter", "Shorter"), ("warmer", "Warmer"), ("formal", "More formal"),
                              ("grammar", "Fix grammar")):
            act = rewrite.addAction(label)
            act.triggered.connect(lambda _c=False, a=action: self.drafting.rewrite_draft(a, None))

        kb = bar.addMenu("&Knowledge")
        self.act_search = self._action("&Search knowledge", "Ctrl+K", self.knowledge.focus_search, kb)
        self.act_insert = self._action("&Insert snippet into reply", "Ctrl+I", self.knowledge.request_insert, kb)
        kb.addSeparator()
        self._action("Import &files…", None, self.knowledge_base.import_files, kb,
                     "Import Markdown, HTML, text, CSV or JSON help-centre exports")
        self._action("Import a f&older…", None, self.knowledge_base.import_folder, kb)
        kb.addSeparator()
        self._action("Article &drafts…", None, self.knowledge_base.show_article_drafts, kb,
                     "Articles proposed from solved tickets; a supervisor publishes them")

        mail_menu = bar.addMenu("&Mail")
        self.act_mail_pause = self._action("&Pause mailbox", None, self.mailroom.toggle, mail_menu,
                                           "Stop syncing the mailbox; resuming continues where it stopped")
        self.act_mail_pause.setEnabled(False)
        self._action("&Send waiting replies now", None,
                     self.mailroom.deliver_soon, mail_menu)

        view = bar.addMenu("&View")
        self.act_refresh = self._action("&Refresh", QKeySequence.StandardKey.Refresh, self.poll_changes, view)
        view.addSeparator()
        self.act_review = self._action("Supervisor &review", "Ctrl+Shift+V", self.review.show, view,
                                       "Drafts awaiting approval and recently sent replies, AI draft beside sent text")
        self.act_dashboard = self._action("&Quality dashboard", "Ctrl+Shift+Q", self.show_dashboard, view)
        self.act_team = self._action("&Team", "Ctrl+Shift+P", self.show_team, view,
                                     "Who is online, how many tickets each has open, whose replies wait for approval")

        help_menu = bar.addMenu("&Help")
        self._action("&Keyboard shortcuts", "F1", self.show_shortcuts, help_menu)
        self._action("&About", None, self.show_about, help_menu)

    def _connect(self) -> None:
        drafting, kb = self.drafting, self.knowledge_base
        self.queue.currentTicketChanged.connect(self.open_ticket)
        self.team_work.claimed.connect(self.open_claimed)
        self.queue.view.openRequested.connect(lambda _row: self.focus_reply())
        self.draft.editor.textChanged.connect(drafting.reply_changed)
        self.draft.approveRequested.connect(drafting.approve_and_send)
        self.draft.regenerateRequested.connect(drafting.regenerate_draft)
        self.draft.aiDraftRequested.connect(drafting.start_ai_draft)
        self.draft.stopRequested.connect(drafting.stop_ai)
        self.draft.rewriteRequested.connect(drafting.rewrite_draft)
        self.draft.translateRequested.connect(drafting.translate_draft)
        self.draft.previewUsed.connect(drafting.use_preview)
        self.draft.citationActivated.connect(kb.load_article)
        self.knowledge.searchRequested.connect(kb.search)
        self.knowledge.articleRequested.connect(kb.load_article)
        self.knowledge.insertRequested.connect(self.draft.insert_text)
        self.knowledge.proposeRequested.connect(self.knowledge_base.propose_article)
        self.conversation.browser.linkActivated.connect(self.thread.link_clicked)
        drafting.aiFinished.connect(self.aiFinished)  # the controllers' news, as the window's signals
        drafting.replySent.connect(self.replySent)
        drafting.approvalRequested.connect(self.approvalRequested)
        kb.searchShown.connect(self.searchShown)

    # -- tickets -----------------------------------------------------------------------
    def current_ticket_id(self) -> int | None:
        return self.workspace.ticket.id if self.workspace else None

    def open_ticket(self, ticket_id: int | None) -> None:
        if ticket_id is not None and ticket_id == self._loading_ticket:
            return
        if self.workspace and ticket_id == self.workspace.ticket.id:
            return
        self.drafting.save_draft_edits()
        self.drafting.stop_ai()
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
            self.knowledge.set_solved([])
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
        self.knowledge.set_solved(list(ws.solved))
        self.draft.set_draft(ws.draft)
        self.draft.set_enabled_for_ticket(ws.draft is not None)
        self.draft.set_flags([f.reason for f in ws.flags])
        self.thread.show_flags()
        self.drafting.refresh_ai_state()
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
        self.drafting.ticket_shown(ws)  # auto-draft, the reply kept on this desk, the replies seen
        self.team_work.ticket_opened(ws.ticket.id)
        self.statusBar().showMessage(f"#{ws.ticket.id} · {ws.ticket.subject}", 4000)
        self.ticketLoaded.emit(ws.ticket.id)

    def focus_reply(self) -> None:
        self.draft.editor.setFocus()

    def _focus_filter(self) -> None:
        self.queue.text.setFocus()
        self.queue.text.selectAll()

    def open_claimed(self, ticket_id: int) -> None:
        """The ticket "Take next ticket" claimed: shown in the queue where the filter allows, and opened."""
        self.queue.refresh_keeping_scroll()
        row = self.model.row_of(ticket_id)
        if row >= 0:
            self.queue.select_row(row)
        else:
            self.open_ticket(ticket_id)

    def show_preferences(self, tab: str | None = None) -> None:
        dialog = SettingsDialog(self.app_settings, self.tasks, self, store=self.store, user=self.user)
        for i in range(dialog.tabs.count()):
            if tab is not None and dialog.tabs.tabText(i).replace("&&", "&") == tab:
                dialog.tabs.setCurrentIndex(i)
        dialog.accepted.connect(self.mailroom.start)
        dialog.finished.connect(lambda _r: (self.drafting.close_provider(), self.drafting.refresh_ai_state(),
                                            self.notifier.set_enabled(self.app_settings.get("notifications.enabled"))))
        dialog.open()
        self.preferences = dialog

    def side_window(self, attr: str, title: str, make) -> QWidget:
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

    def show_dashboard(self) -> QWidget:
        return self.side_window("dashboard_window", "Quality dashboard",
                                 lambda: QualityDashboard(self.store, self.tasks, parent=self))

    def show_team(self) -> QWidget:
        return self.side_window("team_window", "Team", lambda: TeamView(self.store, self.tasks, parent=self))

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
        if not self.knowledge_base.follow_changes():
            return  # the store could not say (the status bar does); the next poll tries again
        self.queue.refresh_keeping_scroll()
        self.thread.reload()
        self._follow_first_run()

    def _follow_first_run(self) -> None:
        """The start page shows while the database has no ticket at all, and goes once one arrives."""
        if self.start_page.isHidden():
            return
        try:
            empty = not tickets.has_any(self.store.db)
        except StoreError:
            return
        self.start_page.setVisible(empty)
        self.conversation.setVisible(not empty)
        self.draft.setVisible(not empty)  # no ticket, no reply: the steps get the whole column

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
                saved = typed and self.drafting.save_draft_edits()  # the reply typed meanwhile goes to the server now
                self.statusBar().showMessage("Reconnected to the team server; the queue caught up"
                                             + (" and the reply you typed is saved there." if saved else "."), 6000)
        return state == "reconnecting"

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
        self.shortcuts_dialog = ShortcutsDialog.for_window(self)
        self.shortcuts_dialog.open()

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
            # shares of the window, so the panes start in proportion on any screen; each pane's minimum
            # width comes from its own content (no pane asks for more than a 1280 px screen can give)
            width, height = self.width(), self.height()
            self.splitter.setSizes([width * share // 100 for share in PANE_SHARES])
            self.middle.setSizes([height * 55 // 100, height * 45 // 100])

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
        self.drafting.stop()  # the AI stream ends first: nothing may write into the reply any more
        self.review.stop()
        self.knowledge_base.stop()
        self.thread.stop()
        for timer in self.findChildren(QTimer):  # no timer may start work on a store about to close
            timer.stop()
        if hasattr(self, "_wake") and getattr(self.store, "on_change", None) == self._wake.ping.emit:
            self.store.on_change = None  # the listener thread must not wake a closed window
        self.tasks.shutdown()  # waits for running jobs; their results are dropped
        self.meaning.close()
        self.kb_sync.close()
        self.undo.flush()  # closing ends the undo time: held replies go out now (with the mailbox still known)
        self.drafting.close_provider()  # no job can use the model client now
        self.mailroom.stop()
        self.notifier.close()
        try:
            self.drafting.save_draft_edits()
            self.team_work.leave()
        except StoreClosedError:
            log.warning("the store closed before the reply being written could be saved")
        self.save_layout()
        super().closeEvent(event)
