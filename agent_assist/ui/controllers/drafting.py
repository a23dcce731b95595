"""Drafting: everything that happens to the reply being written, from the first AI token to the send.

Shortcuts and buttons that land here (the window's actions call these methods):

- Ctrl+D "Draft with AI" → :meth:`DraftingController.start_ai_draft` (streams into the preview,
  :meth:`use_preview` puts it into the editor); Esc "Stop" → :meth:`stop_ai`
- AI → Rewrite draft → :meth:`rewrite_draft`; Ctrl+T → :meth:`translate_draft`;
  Ctrl+Shift+U → :meth:`summarize_thread`; Ctrl+Shift+T → :meth:`triage_with_model`
- Ctrl+Shift+G "Regenerate draft" (offline drafter) → :meth:`regenerate_draft`
- Ctrl+Return / Ctrl+Enter "Approve & send" → :meth:`approve_and_send`: the flagged-ticket tick, someone
  else's reply meanwhile (:meth:`confirm_after_other_reply`), a full card number
  (:meth:`confirm_card_number`), four eyes (the reply waits for a supervisor)
- typing in the reply → :meth:`reply_changed` (another desk writing: :meth:`confirm_collision`)

It owns the model client (one per configuration, warmed up in the background, closed when
Preferences change or the window goes), the one streaming job (:attr:`ai_job`), its background jobs
(keys ``draft``, ``model-triage``, ``ai-warm-up``) and the replies kept on this desk while the
database cannot take them (:attr:`unsent`). The window stops it first when it closes (:meth:`stop`),
then closes the client (:meth:`close_provider`) once no job can use it any more.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from agent_assist.assist import drafting, model_triage, secrets, workspace
from agent_assist.assist.provider import Provider, ProviderConfig, ProviderError
from agent_assist.assist.workspace import TicketWorkspace
from agent_assist.channels import replies
from agent_assist.store import StoreError, drafts
from agent_assist.store.errors import UnmaskedCardNumberError
from agent_assist.store.tickets import get_ticket
from agent_assist.store.unsent import UnsentReplies
from agent_assist.timefmt import parse_iso
from agent_assist.ui.streaming import StreamJob

if TYPE_CHECKING:
    from agent_assist.ui.main_window import MainWindow

log = logging.getLogger(__name__)
UNDO_SHORTCUT = "Ctrl+Alt+Z"  # not Ctrl+Z: that is the editor's own undo of typing

JOB_KEYS = ("draft", "model-triage", "ai-warm-up")


class _NotSent(Exception):
    """The person chose not to send (nothing to report beyond the banner already shown)."""


class DraftingController(QObject):
    aiFinished = Signal(str, bool)
    """kind ("draft", "rewrite", "translation", "summary", "triage"), success: a model job ended."""
    replySent = Signal(int, int)
    """ticket id, message id: a reply was approved and sent."""
    approvalRequested = Signal(int, int)
    """ticket id, draft id: a reply went to a supervisor (four eyes)."""

    def __init__(self, mw: MainWindow):
        super().__init__(mw)
        self.mw = mw  # the window: its widgets, the open ticket's workspace, the status bar
        self.store = mw.store
        self.tasks = mw.tasks
        self.user = mw.user
        self.app_settings = mw.app_settings
        self.draft = mw.draft  # the reply panel
        self.ai_job: StreamJob | None = None
        self._provider_cache: tuple[tuple[ProviderConfig, str | None], Provider] | None = None
        self._ai_kind = ""
        self._pending_ai: drafting.AiDraft | None = None
        self._pending_restored: tuple = ()
        self._pending_suspect: tuple[int, ...] = ()
        self.replies_seen: set[int] = set()  # outbound messages of the open ticket the person has been shown
        self.unsent = UnsentReplies()  # replies the database could not take yet, kept on this desk

    def _message(self, text: str, msecs: int = 0) -> None:
        self.mw.statusBar().showMessage(text, msecs)

    # -- a ticket comes and goes -------------------------------------------------------
    def ticket_shown(self, ws: TicketWorkspace) -> None:
        """The window put a ticket on screen: auto-draft if asked, put back a kept reply, note the replies seen."""
        if self.app_settings.get("ai.enabled") and self.app_settings.get("ai.auto_draft") and ws.draft is not None \
                and ws.draft.source != "ai":
            self.start_ai_draft()
        self._put_back_unsent(ws)
        self.replies_seen = {m.id for m in ws.ticket.messages if m.direction == "outbound"}

    def save_draft_edits(self) -> bool:
        """Keep what the agent typed before leaving a ticket; nothing typed is ever lost.

        When the database cannot take it (the team server is away, the file is locked) the text is
        kept on this desk (:mod:`agent_assist.store.unsent`) and put back when the ticket opens again.
        True when the database has the text.
        """
        ws = self.mw.workspace
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
        if self.mw.workspace is not None and self.mw.workspace.ticket.id == ws.ticket.id:  # now the saved text
            self.mw.workspace = replace(self.mw.workspace, draft=replace(self.mw.workspace.draft or draft, body=text))
            self.draft.set_draft(self.mw.workspace.draft, keep_text=True)
        return True

    def _keep_unsent(self, ws: TicketWorkspace, text: str, exc: StoreError) -> None:
        draft_id = ws.draft.id if ws.draft is not None and ws.draft.saved else None
        try:
            self.unsent.keep(self.store.path, ws.ticket.id, draft_id, text)
        except OSError as disk:
            log.warning("could not keep the reply on this desk: %s", disk)
            self.mw._show_error(exc)  # the text is still in the editor; say why it is not saved
            return
        if self.mw._closing:
            log.info("reply to #%s kept on this desk: %s", ws.ticket.id, exc)
            return
        self._message(f"{exc} Your reply to #{ws.ticket.id} is kept on this desk and comes back "
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
        if self.mw.workspace is ws:
            self.mw.workspace = replace(ws, draft=kept)
        return kept

    # -- approve & send (Ctrl+Return) ---------------------------------------------------
    def approve_and_send(self) -> None:
        mw = self.mw
        ws = mw.workspace
        if ws is None or ws.draft is None:
            self._message("Open a ticket first.", 4000)
            return
        text = self.draft.text()
        if not text.strip():
            self._message("The reply is empty; nothing was sent.", 4000)
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
        delay = int(mw.app_settings.get("send.undo_seconds"))
        try:
            draft_id = self._kept_draft(ws).id
            if delay > 0:  # undo send: approve now, send when the seconds are over (ui/undo_send.py)
                state, confirmed = self._approve_and_hold_checked(draft_id, text)
                message_id = outbox_id = None
            else:
                message_id, outbox_id = self._approve_and_send_checked(draft_id, text, status_after)
                state = "sent" if message_id is not None else "awaiting_supervisor"
        except _NotSent:
            return
        except StoreError as exc:
            mw._show_error(exc)
            return
        self.unsent.drop(self.store.path, ws.ticket.id)  # the database has this reply now
        if state == "awaiting_supervisor":  # four eyes: it waits for a supervisor
            self._show_waiting(ws, draft_id)
            return
        if state == "approved":
            try:
                mw.undo.hold(draft_id, ws.ticket.id, delay_s=delay, status_after=status_after, confirmed_pan=confirmed,
                             to=ws.ticket.customer_name)
            except OSError as exc:  # the hold cannot be kept on disk: send now rather than risk losing it
                log.warning("undo hold not kept (%s); sending now", exc)
                mw.undo.send_now(draft_id, ws.ticket.id, status_after=status_after, confirmed_pan=confirmed)
                return
            approved = drafts.get(self.store.db, draft_id)
            mw.workspace = replace(ws, draft=approved)
            self.draft.set_draft(approved)
            self.draft.set_enabled_for_ticket(False)
            self.draft.show_banner(f"Sending to {ws.ticket.customer_name} in {delay} s. Undo (in the status bar, or "
                                   f"{UNDO_SHORTCUT}) takes it back into the editor.", error=False)
            return
        if outbox_id is not None:
            mw.mailroom.deliver_soon()
        self._show_sent(ws.ticket.id, message_id)

    def _show_waiting(self, ws: TicketWorkspace, draft_id: int) -> None:
        mw = self.mw
        ticket = get_ticket(self.store.db, ws.ticket.id)
        waiting = drafts.get(self.store.db, draft_id)
        mw.workspace = replace(ws, ticket=ticket, draft=waiting)
        self.draft.set_draft(waiting)
        self.draft.set_enabled_for_ticket(False)
        self.draft.show_banner("Sent to a supervisor for approval (four eyes). Nothing goes to the customer "
                               "until a supervisor approves it.", error=False)
        self._message(f"#{ticket.id}: reply waits for a supervisor's approval.", 8000)
        self.approvalRequested.emit(ticket.id, waiting.id)

    def _show_sent(self, ticket_id: int, message_id: int) -> None:
        """The reply went out: the ticket on screen (if it still is) shows it; the claim is done."""
        mw = self.mw
        mw.team_work.reply_sent(ticket_id)
        ticket = get_ticket(self.store.db, ticket_id)
        ws = mw.workspace
        if ws is not None and ws.ticket.id == ticket_id:
            mw.workspace = replace(ws, ticket=ticket, draft=None)
            mw.conversation.set_ticket(ticket, ws.extras)
            mw.thread.reload()  # the delivery state of the new reply follows
            self.draft.set_draft(None)
            self.draft.set_enabled_for_ticket(False)
            self.draft.hide_banner()
        mw.queue.refresh_keeping_scroll()
        self._message(f"Reply sent to {ticket.customer_name} — #{ticket.id} is now {ticket.status}.", 8000)
        self.replySent.emit(ticket.id, message_id)

    def held_sent(self, ticket_id: int, message_id: int, outbox_id) -> None:
        """A held reply's seconds are over and it went out (ui/undo_send.py)."""
        if outbox_id is not None:
            self.mw.mailroom.deliver_soon()
        self._show_sent(ticket_id, message_id)

    def held_undone(self, ticket_id: int, draft) -> None:
        """Undo: the approval is taken back; the reply is in its ticket's editor again."""
        mw = self.mw
        ws = mw.workspace
        if ws is not None and ws.ticket.id == ticket_id:
            mw.workspace = replace(ws, draft=draft)
            self.draft.set_draft(draft)
            self.draft.set_enabled_for_ticket(True)
            self.draft.show_banner("Not sent: the reply is back in the editor.", error=False)
            self.draft.editor.setFocus()
        self._message(f"The reply to #{ticket_id} was taken back; nothing went to the customer.", 8000)

    def _approve_and_hold_checked(self, draft_id: int, text: str) -> tuple[str, bool]:
        """Approve for undo send; a full card number only when the person confirms it. (state, confirmed)."""
        try:
            return replies.approve_and_hold(self.store, draft_id, text, actor=self.user), False
        except UnmaskedCardNumberError as exc:
            if not self.confirm_card_number(str(exc)):
                self.draft.show_banner("Nothing was sent. Replace the full card number with its last four digits "
                                       "(for example •••• " + exc.endings[0] + "), then send again.")
                raise _NotSent from None
        return replies.approve_and_hold(self.store, draft_id, text, actor=self.user, confirmed_pan=True), True

    def _no_reply_meanwhile(self, ws: TicketWorkspace) -> bool:
        """False when someone else replied to this customer since the thread was shown and the person,
        now shown that reply, chose not to send theirs as well."""
        try:
            ticket = get_ticket(self.store.db, ws.ticket.id)
        except StoreError as exc:
            self.mw._show_error(exc)
            return False
        theirs = [m for m in ticket.messages if m.direction == "outbound" and m.id not in self.replies_seen
                  and m.author != self.user]
        self.replies_seen = {m.id for m in ticket.messages if m.direction == "outbound"}
        if not theirs:
            return True
        self.mw.workspace = replace(ws, ticket=ticket)
        self.mw.conversation.set_ticket(ticket, ws.extras)  # shown before anything else is sent
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
            self.mw, "Someone else replied", message + "\n\nSend your reply as well?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No) == QMessageBox.StandardButton.Yes

    def _approve_and_send_checked(self, draft_id: int, text: str, status_after: str) -> tuple[int | None, int | None]:
        """Send through the core; a full card number is sent only when the person confirms it."""
        mailbox = self.mw.mailroom.mailbox
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
            self.mw, "Full card number in the reply", message + "\n\nSend the reply with the full card number?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No) == QMessageBox.StandardButton.Yes

    # -- typing ---------------------------------------------------------------------------
    def reply_changed(self) -> None:
        """Typing in the reply: the other desks see this one writing; someone else writing is asked about."""
        team_work = self.mw.team_work
        writing = self.draft.is_modified()
        started = writing and not team_work.writing
        team_work.set_writing(writing)
        if not started:
            return
        writers = team_work.writers()
        if writers and not self.confirm_collision(writers):
            self.draft.editor.blockSignals(True)
            self.draft.editor.setPlainText(self.draft.draft.body if self.draft.draft else "")
            self.draft.editor.blockSignals(False)
            team_work.set_writing(False)
            self.draft.show_banner(f"{', '.join(writers)} is writing the reply to this ticket; nothing was changed "
                                   "here.", error=False)

    def confirm_collision(self, writers: list[str]) -> bool:
        """Ask before writing a reply someone else is writing (tests replace this)."""
        return QMessageBox.question(
            self.mw, "Someone is writing a reply", f"{', '.join(writers)} is writing a reply to this ticket right "
            "now.\n\nWrite one as well?", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No) == QMessageBox.StandardButton.Yes

    # -- the offline drafter (Ctrl+Shift+G) -----------------------------------------------
    def regenerate_draft(self) -> None:
        ws = self.mw.workspace
        if ws is None:
            return
        if self.draft.is_modified() and QMessageBox.question(
            self.mw, "Regenerate draft", "Replace the reply you edited with a new suggestion?"
        ) != QMessageBox.StandardButton.Yes:
            return
        ticket_id = ws.ticket.id
        self.tasks.run(lambda: workspace.regenerate_offline(self.store, ticket_id, agent=self.user),
                       lambda d: self._show_new_draft(ticket_id, d), self.mw._show_error, key="draft", owner=self)

    def _show_new_draft(self, ticket_id: int, draft: drafts.Draft) -> None:
        ws = self.mw.workspace
        if ws and ws.ticket.id == ticket_id:
            self.mw.workspace = replace(ws, draft=draft)
            self.draft.set_draft(draft)
            self.draft.set_enabled_for_ticket(True)

    # -- the model client -----------------------------------------------------------------
    def refresh_ai_state(self) -> None:
        ws = self.mw.workspace
        provider_ok, why = self._provider_status()
        if ws is not None and ws.human_only:
            provider_ok, why = False, "Human-only ticket: a person writes this reply (routing rule)."
        self.draft.set_ai_available(provider_ok, why)
        self.draft.regenerate.setEnabled(not (ws and ws.human_only))

    def _provider_status(self) -> tuple[bool, str]:
        if not self.app_settings.get("ai.enabled"):
            return False, "Turn on an AI model in Preferences (Ctrl+,); the offline drafter works meanwhile."
        config = ProviderConfig.from_dict(self.app_settings.get("ai.provider"))
        if not config.model.strip():
            return False, "Choose a model in Preferences (Ctrl+,)."
        return True, ""

    def provider(self) -> Provider | None:
        ok, why = self._provider_status()
        if not ok:
            self.draft.show_hint(why)  # beside the banner: a four-eyes or human-only warning stays
            return None
        config = ProviderConfig.from_dict(self.app_settings.get("ai.provider"))
        key = secrets.get_api_key(config)
        if config.needs_key and not key:
            self.draft.show_banner(f"No API key for {config.preset_info.label}: add it in Preferences (Ctrl+,).")
            return None
        cached = self._provider_cache
        if cached is not None and cached[0] == (config, key):
            return cached[1]  # one client per configuration: its connections stay warm
        self.close_provider()
        provider = Provider(config, key)
        self._provider_cache = ((config, key), provider)
        return provider

    def embedding_provider(self) -> Provider | None:
        """A client for the AI server's embeddings (Preferences → Knowledge → server), whether or not
        drafting with the model is on; None when the server or its key is missing."""
        config = ProviderConfig.from_dict(self.app_settings.get("ai.provider"))
        key = secrets.get_api_key(config)
        if config.needs_key and not key:
            return None
        try:
            return Provider(config, key)
        except ProviderError:
            return None

    def close_provider(self) -> None:
        if self._provider_cache is not None:
            self._provider_cache[1].close()
            self._provider_cache = None

    def warm_up(self) -> None:
        """Load the model client in the background, so the first draft does not pay for it."""
        if not self._provider_status()[0]:
            return
        config = ProviderConfig.from_dict(self.app_settings.get("ai.provider"))
        key = secrets.get_api_key(config)
        if config.needs_key and not key:
            return
        provider = self.provider()
        if provider is not None:
            self.tasks.run(provider.connect, on_error=lambda exc: log.info("AI warm-up: %s", exc),
                           key="ai-warm-up", owner=self)

    # -- model jobs -----------------------------------------------------------------------
    def triage_with_model(self) -> None:
        ws = self.mw.workspace
        provider = self.provider()
        if ws is None or provider is None:
            return
        tid = ws.ticket.id
        self._message(f"Asking the model to triage #{tid}…")

        def done(result) -> None:
            self._message(f"Model triage of #{tid}: " + (", ".join(k for k, _ in result.flags) or "no flags"), 6000)
            self.mw.thread.reload()
            self.aiFinished.emit("triage", True)

        def failed(exc: BaseException) -> None:
            self.draft.show_banner(f"Model triage failed: {exc}")
            self.aiFinished.emit("triage", False)

        self.tasks.run(lambda: model_triage.ask_model(self.store, tid, provider, actor=self.user), done, failed,
                       key="model-triage", owner=self)

    def _run_ai(self, kind: str, label: str, make, on_done) -> None:
        """Start one model job streaming into the preview; only one runs at a time."""
        provider = self.provider()
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
        job.delta.connect(self.draft.append_preview if kind != "summary" else self.mw.conversation.append_summary)

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
                self.mw.conversation.set_summary("")
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
            self.mw.conversation.set_summary("")
        elif self.draft.preview_text():
            self.draft.offer_preview("Stopped — what arrived so far")
        else:
            self.draft.hide_preview()
        self._message("Stopped.", 3000)

    def start_ai_draft(self) -> None:
        ws = self.mw.workspace
        if ws is None or ws.ticket.status == "closed":
            return
        tid = ws.ticket.id
        policy = self.app_settings.get("ai.policy")

        def make(provider, cancelled):
            return drafting.stream_draft(self.store, tid, provider, agent_name=self.user, policy=policy,
                                         cancel=cancelled)

        self._run_ai("draft", "AI draft — writing…", make, self._ai_draft_done)

    def _ai_draft_done(self, result: drafting.AiDraft) -> None:
        ws = self.mw.workspace
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
        ws = self.mw.workspace
        text = self.draft.preview_text()
        if ws is None or not text.strip():
            return
        result = self._pending_ai
        if self._ai_kind == "draft" and result is not None and result.ticket_id == ws.ticket.id:
            try:
                new = drafting.record_ai_draft(self.store, result, actor=self.user, body=text)
            except StoreError as exc:
                self.mw._show_error(exc)
                return
            self.mw.workspace = replace(ws, draft=new)
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
        ws = self.mw.workspace
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
        if self.mw.workspace is None or not text.strip():
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
        ws = self.mw.workspace
        if ws is None:
            return
        tid = ws.ticket.id
        self.mw.conversation.set_summary("…")

        def make(provider, cancelled):
            return drafting.stream_summary(self.store, tid, provider, cancel=cancelled)

        def done(result: drafting.AiText) -> None:
            self.mw.conversation.set_summary(result.text)
            self.draft.hide_preview()

        self._run_ai("summary", "Summary", make, done)

    # -- going away -----------------------------------------------------------------------
    def stop(self) -> None:
        """The window closes: stop the stream and wait for its thread, drop this controller's job results."""
        job = self.ai_job
        self.stop_ai()
        if job is not None:
            job.wait()
        self.tasks.cancel(*JOB_KEYS)
