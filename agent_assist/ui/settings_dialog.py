"""Preferences: the AI provider (with Test connection), drafting policy, your language, the mailbox, routing
rules and the team server the app works on."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from agent_assist import config as app_config
from agent_assist.assist import secrets
from agent_assist.channels.email.config import MailboxConfig
from agent_assist.channels.email.check import Step, check_mailbox
from agent_assist.channels.email.config import get_password as get_mail_password
from agent_assist.channels.email.config import set_password as set_mail_password
from agent_assist.assist.provider import PRESETS, Provider, ProviderConfig, ProviderError, default_timeout
from agent_assist.settings import SCHEMA, Settings, url_secrets
from agent_assist.store import Store, StoreError, people, rules
from agent_assist.store.backend import is_postgres
from agent_assist.store.postgres import sign_in
from agent_assist.store.postgres.connect import describe
from agent_assist.store.migrations import FLAG_KINDS
from agent_assist.ui.queue_model import FLAG_LABELS

RULE_LABELS = {"none": "Show the flag only", "human_only": "Human-only (no machine draft first)",
               "four_eyes": "Four eyes (a supervisor approves)"}
from agent_assist.ui.tasks import TaskManager

LANGUAGE_NAMES = {"en": "English", "sv": "Svenska", "de": "Deutsch", "es": "Español", "fr": "Français",
                  "nl": "Nederlands", "da": "Dansk", "no": "Norsk", "fi": "Suomi", "it": "Italiano",
                  "pt": "Português", "pl": "Polski"}


class SettingsDialog(QDialog):
    connectionTested = Signal(bool, str)
    mailboxTested = Signal(bool, str)
    """The mailbox test finished: everything worked, and what it said (one line per server)."""
    modelsLoaded = Signal(list)

    def __init__(self, settings: Settings, tasks: TaskManager, parent: QWidget | None = None, *,
                 store: Store | None = None, user: str | None = None):
        super().__init__(parent)
        self.store = store
        self.user = user
        self.setWindowTitle("Preferences")
        self.setObjectName("settingsDialog")
        self.settings = settings
        self.tasks = tasks
        self._key_dirty = False
        descriptions = {s.key: s.description for s in SCHEMA}
        config = ProviderConfig.from_dict(settings.get("ai.provider"))

        # -- AI provider page
        self.enabled = QCheckBox("Draft replies with an AI model")
        self.enabled.setAccessibleName("Use an AI model")
        self.enabled.setToolTip(descriptions["ai.enabled"])
        self.enabled.setChecked(settings.get("ai.enabled"))
        self.preset = QComboBox()
        self.preset.setAccessibleName("Provider")
        for p in PRESETS.values():
            self.preset.addItem(p.label, p.id)
        self.preset.setCurrentIndex(max(0, self.preset.findData(config.preset)))
        self.preset_note = QLabel()
        self.preset_note.setWordWrap(True)
        self.preset_note.setObjectName("presetNote")
        self.base_url = QLineEdit(config.base_url)
        self.base_url.setAccessibleName("Base URL")
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.setAccessibleName("Model")
        self.model.setEditText(config.model)
        self.refresh_models = QPushButton("Refresh models")
        self.refresh_models.setAccessibleName("Refresh the model list")
        self.refresh_models.clicked.connect(self.load_models)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(self.refresh_models)
        self.temperature = QDoubleSpinBox()
        self.temperature.setAccessibleName("Temperature")
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(config.temperature if config.temperature is not None else 0.3)
        self.timeout = QDoubleSpinBox()
        self.timeout.setAccessibleName("Timeout in seconds")
        self.timeout.setToolTip("The longest the model may stay silent, before its first token or between tokens. "
                                "Local servers get longer: a small computer can read a long prompt for minutes.")
        self.timeout.setRange(2, 600)
        self.timeout.setSuffix(" s")
        self.timeout.setValue(config.timeout_s)
        self.reply_limit = QSpinBox()
        self.reply_limit.setAccessibleName("Longest reply in tokens")
        self.reply_limit.setRange(16, 32_000)
        self.reply_limit.setSingleStep(50)
        self.reply_limit.setSuffix(" tokens")
        self.reply_limit.setValue(config.reply_limit)
        self.reply_limit.setToolTip("Sent as max_tokens; a reply that reaches it is marked “cut off”.")
        self.context_window = QSpinBox()
        self.context_window.setAccessibleName("Context window in tokens")
        self.context_window.setRange(0, 2_000_000)
        self.context_window.setSingleStep(1024)
        self.context_window.setSpecialValueText("Ask the server")
        self.context_window.setSuffix(" tokens")
        self.context_window.setValue(config.context_window)
        self.context_window.setToolTip("The model's context size. “Ask the server” reads it from llama.cpp, "
                                       "Ollama or vLLM; prompts are cut down to fit it.")
        self.profile = QComboBox()
        self.profile.setAccessibleName("Prompt profile")
        self.profile.addItem("Standard", "standard")
        self.profile.addItem("Small model (fewer, shorter snippets; last messages only)", "small")
        self.profile.setCurrentIndex(max(0, self.profile.findData(config.profile)))
        self.redact = QCheckBox("Replace card numbers, IBANs, e-mails, phone and ID numbers with placeholders "
                                "before sending")
        self.redact.setAccessibleName("Redact personal data")
        self.redact.setChecked(config.redact)
        self.api_key = QLineEdit()
        self.api_key.setAccessibleName("API key")
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("stored in your system keyring")
        self.api_key.textEdited.connect(self._mark_key_dirty)
        ok, message = secrets.keyring_status()
        self.keyring_note = QLabel(message)
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setObjectName("keyringNote")
        self.test_button = QPushButton("Test connection")
        self.test_button.setAccessibleName("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.check_button = QPushButton("Check this model…")
        self.check_button.setAccessibleName("Check this model on the demo tickets")
        self.check_button.setToolTip("Run labelled demo tickets through this model and report citations, language, "
                                     "payment data, injections, speed and triage agreement")
        self.check_button.clicked.connect(self.check_model)
        self.model_check: QDialog | None = None
        self.test_result = QLabel()
        self.test_result.setObjectName("testResult")
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.auto_draft = QCheckBox("Start an AI draft when a ticket opens")
        self.auto_draft.setAccessibleName("Draft automatically")
        self.auto_draft.setChecked(settings.get("ai.auto_draft"))

        ai_page = QWidget()
        form = QFormLayout(ai_page)
        form.addRow(self.enabled)
        form.addRow("Provider", self.preset)
        form.addRow("", self.preset_note)
        form.addRow("Base URL", self.base_url)
        form.addRow("Model", model_row)
        form.addRow("Temperature", self.temperature)
        form.addRow("Timeout", self.timeout)
        form.addRow("Longest reply", self.reply_limit)
        form.addRow("Context window", self.context_window)
        form.addRow("Prompt profile", self.profile)
        form.addRow("API key", self.api_key)
        form.addRow("", self.keyring_note)
        form.addRow(self.redact)
        form.addRow(self.auto_draft)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.check_button)
        test_row.addWidget(self.test_result, 1)
        form.addRow(test_row)
        self.preset.currentIndexChanged.connect(self._preset_changed)
        self._show_preset_note()

        # -- drafting page
        from agent_assist.assist import prompts

        self.policy = QPlainTextEdit(settings.get("ai.policy") or prompts.DEFAULT_POLICY)
        self.policy.setAccessibleName("Tone and policy instructions")
        self.language = QComboBox()
        self.language.setAccessibleName("Your language")
        for code in next(s for s in SCHEMA if s.key == "agent.language").choices:
            self.language.addItem(LANGUAGE_NAMES.get(code, code), code)
        self.language.setCurrentIndex(max(0, self.language.findData(settings.get("agent.language"))))
        draft_page = QWidget()
        draft_form = QFormLayout(draft_page)
        draft_form.addRow("Your language", self.language)
        self.notifications = QCheckBox("Notify me of new urgent tickets and SLAs about to breach")
        self.notifications.setAccessibleName("Desktop notifications")
        self.notifications.setToolTip(descriptions["notifications.enabled"])
        self.notifications.setChecked(settings.get("notifications.enabled"))
        draft_form.addRow(self.notifications)
        self.undo_seconds = QComboBox()
        self.undo_seconds.setAccessibleName("Undo send")
        self.undo_seconds.setToolTip(descriptions["send.undo_seconds"])
        for seconds in (0, 5, 10, 20, 30, 60):
            self.undo_seconds.addItem("Send at once, no undo" if seconds == 0 else f"{seconds} seconds", seconds)
        self.undo_seconds.setCurrentIndex(max(0, self.undo_seconds.findData(settings.get("send.undo_seconds"))))
        draft_form.addRow("Undo send: a reply waits", self.undo_seconds)
        self.semantic = QComboBox()
        self.semantic.setAccessibleName("Search by meaning")
        self.semantic.setToolTip(descriptions["knowledge.semantic"])
        for mode, label in (("offline", "On this desk (offline, built in)"),
                            ("server", "With the AI server's embedding model"), ("off", "Off: by words only")):
            self.semantic.addItem(label, mode)
        self.semantic.setCurrentIndex(max(0, self.semantic.findData(settings.get("knowledge.semantic"))))
        self.embedding_model = QLineEdit(settings.get("knowledge.embedding_model"))
        self.embedding_model.setAccessibleName("Embedding model")
        self.embedding_model.setPlaceholderText("e.g. bge-m3, nomic-embed-text, text-embedding-3-small")
        self.embedding_model.setToolTip(descriptions["knowledge.embedding_model"])
        self.embedding_model.setEnabled(self.semantic.currentData() == "server")
        self.semantic.currentIndexChanged.connect(
            lambda _i: self.embedding_model.setEnabled(self.semantic.currentData() == "server"))
        draft_form.addRow("Search knowledge by meaning\n(from the next start)", self.semantic)
        draft_form.addRow("Embedding model", self.embedding_model)
        draft_form.addRow(QLabel("Instructions given to the model with every draft:"))
        draft_form.addRow(self.policy)

        self.tabs = QTabWidget()
        self.tabs.addTab(ai_page, "AI provider")
        self.tabs.addTab(draft_page, "Drafting && general")
        self.tabs.addTab(self._mail_page(), "Mailbox")
        self.rule_boxes: dict[str, QComboBox] = {}
        self.role_boxes: dict[str, QComboBox] = {}  # profile name -> its role (supervisors change them)
        if store is not None:
            self.tabs.addTab(self._rules_page(store), "Routing rules")
        self.tabs.addTab(self._team_page(), "Team server")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.error = QLabel()
        self.error.setObjectName("settingsError")
        self.error.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(640, 560)

    def _mail_page(self) -> QWidget:
        data = self.settings.get("email.mailbox") or {}
        defaults = MailboxConfig(imap_host="", imap_user="")
        page = QWidget()
        form = QFormLayout(page)
        self.mail_enabled = QCheckBox("Run the queue from this support mailbox")
        self.mail_enabled.setAccessibleName("Use the mailbox")
        self.mail_enabled.setChecked(self.settings.get("email.enabled"))
        form.addRow(self.mail_enabled)
        self.mail_fields: dict[str, QLineEdit] = {}
        for key, label in (("imap_host", "IMAP server"), ("imap_port", "IMAP port"), ("imap_user", "User"),
                           ("folder", "Folder"), ("smtp_host", "SMTP server (empty: the IMAP server)"),
                           ("smtp_port", "SMTP port"), ("smtp_user", "SMTP user (empty: the same user)"),
                           ("from_address", "From address"), ("sent_folder", "Sent folder")):
            edit = QLineEdit(str(data.get(key, getattr(defaults, key))))
            edit.setAccessibleName(label)
            self.mail_fields[key] = edit
            form.addRow(label, edit)
        self.mail_tls: dict[str, QComboBox] = {}
        for key, label in (("imap_tls", "IMAP security"), ("smtp_tls", "SMTP security")):
            box = QComboBox()
            box.setAccessibleName(label)
            for mode, text in (("tls", "TLS"), ("starttls", "STARTTLS"), ("none", "None (this computer only)")):
                box.addItem(text, mode)
            box.setCurrentIndex(max(0, box.findData(data.get(key, getattr(defaults, key)))))
            self.mail_tls[key] = box
            form.addRow(label, box)
        self.server_files_sent = QCheckBox("My provider saves sent mail itself (Gmail, Microsoft 365)")
        self.server_files_sent.setAccessibleName("Provider files sent mail")
        self.server_files_sent.setChecked(bool(data.get("server_files_sent", False)))
        self.bcc_self = QCheckBox("Keep a hidden copy of every reply in the mailbox")
        self.bcc_self.setAccessibleName("Blind copy to the mailbox")
        self.bcc_self.setChecked(bool(data.get("bcc_self", False)))
        form.addRow(self.server_files_sent)
        form.addRow(self.bcc_self)
        self.imap_password = QLineEdit()
        self.imap_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.imap_password.setAccessibleName("Mailbox password")
        self.imap_password.setPlaceholderText("stored in your system keyring")
        self.smtp_password = QLineEdit()
        self.smtp_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.smtp_password.setAccessibleName("SMTP password")
        self.smtp_password.setPlaceholderText("empty: the mailbox password")
        form.addRow("Password", self.imap_password)
        form.addRow("SMTP password", self.smtp_password)
        self.mail_test_button = QPushButton("Test connection")
        self.mail_test_button.setObjectName("mailTestButton")
        self.mail_test_button.setAccessibleName("Test the mailbox connection")
        self.mail_test_button.setToolTip("Sign in to the IMAP server (and the SMTP server when set); nothing is "
                                         "fetched or sent")
        self.mail_test_button.clicked.connect(self.test_mailbox)
        self.mail_test_result = QLabel()
        self.mail_test_result.setObjectName("mailTestResult")
        self.mail_test_result.setWordWrap(True)
        self.mail_test_result.setTextFormat(Qt.TextFormat.PlainText)
        self.mail_test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.mail_test_button, self.mail_test_result)
        return page

    def test_mailbox(self) -> None:
        """Sign in with what is typed now (saved passwords when the fields are empty), off the UI thread."""
        try:
            mailbox = self.mailbox()
        except (TypeError, ValueError) as exc:
            self._show_mail_test(False, f"The mailbox settings are not valid: {exc}")
            return
        # the From address matters for sending, not for signing in: test without it
        problems = [p for p in mailbox.problems() if "From address" not in p]
        if problems:
            self._show_mail_test(False, "✘ Mailbox: " + "; ".join(problems))
            return
        typed_imap, typed_smtp = self.imap_password.text(), self.smtp_password.text()
        with_smtp = bool(self.mail_fields["smtp_host"].text().strip())
        self.mail_test_button.setEnabled(False)
        self.mail_test_result.setText("Testing…")

        def work() -> list[Step]:
            imap_password = typed_imap or get_mail_password(mailbox, "imap")
            smtp_password = typed_smtp or (get_mail_password(mailbox, "smtp") if not typed_imap else None)
            return check_mailbox(mailbox, imap_password, smtp_password, smtp=with_smtp)

        def done(steps: list[Step]) -> None:
            ok = all(step.ok for step in steps)
            self._show_mail_test(ok, "\n".join(("✔ " if step.ok else "✘ ") + step.text for step in steps))

        def failed(exc: BaseException) -> None:
            self._show_mail_test(False, f"✘ Unexpected problem: {exc}")

        self.tasks.run(work, done, failed, key="settings-mail-test", owner=self)

    def _show_mail_test(self, ok: bool, text: str) -> None:
        self.mail_test_button.setEnabled(True)
        self.mail_test_result.setText(text)
        self.mailboxTested.emit(ok, text)

    # -- Team server ----------------------------------------------------------------------
    def _team_page(self) -> QWidget:
        """Which database this window works on, and the team server the app starts on next time."""
        page = QWidget()
        layout = QVBoxLayout(page)
        self.team_now = QLabel()
        self.team_now.setObjectName("teamNow")
        self.team_now.setWordWrap(True)
        self.team_next = QLabel()
        self.team_next.setObjectName("teamNext")
        self.team_next.setWordWrap(True)
        self.team_connect = QPushButton("Connect to a team server…")
        self.team_connect.clicked.connect(self.choose_team_server)
        self.team_local = QPushButton("Use this computer's own database")
        self.team_local.clicked.connect(self.use_own_database)
        self.team_forget = QPushButton("Forget my saved password")
        self.team_forget.clicked.connect(self.forget_team_password)
        row = QHBoxLayout()
        for button in (self.team_connect, self.team_local, self.team_forget):
            row.addWidget(button)
        row.addStretch(1)
        layout.addWidget(self.team_now)
        layout.addWidget(self.team_next)
        layout.addLayout(row)
        layout.addStretch(1)
        self._show_team_state()
        return page

    def _team_url(self) -> str | None:
        """The team server in use now, else the one the app starts on next time."""
        if self.store is not None and is_postgres(self.store):
            return self.store.url
        return app_config.last_team()

    def _show_team_state(self, note: str = "") -> None:
        if self.store is not None and is_postgres(self.store):
            now = (f"This window works on the team server {self.store.path}, signed in as {self.store.user} "
                   f"({self.store.role}). The server decides who may approve, send and change rules.")
        elif self.store is not None:
            now = f"This window works on this computer's own database, {self.store.path}."
        else:
            now = ""
        team = app_config.last_team()
        following = (f"Agent Assist starts on the team server {describe(team)} next time." if team else
                     "Agent Assist starts on this computer's own database next time.")
        self.team_now.setText(now)
        self.team_next.setText((note + " " if note else "") + following)
        self.team_local.setEnabled(team is not None)
        self.team_forget.setEnabled(self._team_url() is not None)

    def choose_team_server(self) -> None:
        from agent_assist.ui.team_server_dialog import TeamServerDialog

        dialog = TeamServerDialog(self, url=self._team_url())
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        url = dialog.url()
        typed = dialog.secret.text()
        why = sign_in.remember_password(url, typed) if typed and dialog.keep.isChecked() else None
        app_config.remember_team(url)
        note = "Close Agent Assist and start it again to sign in there."
        self._show_team_state(note + (f" {why}" if why else ""))

    def use_own_database(self) -> None:
        app_config.forget_team()
        self._show_team_state()

    def forget_team_password(self) -> None:
        url = self._team_url()
        if url is None:
            return
        why = sign_in.forget_password(url)
        self._show_team_state(why or f"The password for {describe(url)} was removed from the keyring.")

    def mailbox(self) -> MailboxConfig:
        values: dict[str, object] = {k: e.text().strip() for k, e in self.mail_fields.items()}
        for key in ("imap_port", "smtp_port"):
            values[key] = int(str(values[key]) or 0)
        values.update({k: b.currentData() for k, b in self.mail_tls.items()})
        values["server_files_sent"] = self.server_files_sent.isChecked()
        values["bcc_self"] = self.bcc_self.isChecked()
        return MailboxConfig.from_dict(values)

    def _rules_page(self, store: Store) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        supervisor = people.role_of(store.db, self.user) == "supervisor"
        note = QLabel("What a triage flag means for a ticket's replies. "
                      + ("" if supervisor else "Only a supervisor can change these."))
        note.setWordWrap(True)
        form.addRow(note)
        current = rules.all_rules(store.db)
        for flag in FLAG_KINDS:
            box = QComboBox()
            box.setAccessibleName(f"Rule for {FLAG_LABELS.get(flag, (flag,))[0]}")
            for action in rules.ACTIONS:
                box.addItem(RULE_LABELS[action], action)
            box.setCurrentIndex(max(0, box.findData(current.get(flag, "none"))))
            box.setEnabled(supervisor)
            self.rule_boxes[flag] = box
            form.addRow(FLAG_LABELS.get(flag, (flag,))[0], box)
        team = QLabel("<b>Team</b> — who may approve four-eyes replies and change these rules."
                      + ("" if supervisor else " Only a supervisor can change roles."))
        team.setWordWrap(True)
        form.addRow(team)
        for profile in people.profiles(store.db):
            box = QComboBox()
            box.setAccessibleName(f"Role of {profile.name}")
            for role in people.ROLES:
                box.addItem(role.capitalize(), role)
            box.setCurrentIndex(max(0, box.findData(profile.role)))
            box.setEnabled(supervisor)
            self.role_boxes[profile.name] = box
            form.addRow(profile.name, box)
        return page

    # -- helpers -------------------------------------------------------------------------
    def _mark_key_dirty(self, _text: str) -> None:
        self._key_dirty = True

    def _show_preset_note(self) -> None:
        self.preset_note.setText(PRESETS[self.preset.currentData()].note)

    def _preset_changed(self) -> None:
        p = PRESETS[self.preset.currentData()]
        self.base_url.setText(p.base_url)
        self.model.setEditText(p.default_model)
        self.redact.setChecked(p.redact)
        self.timeout.setValue(default_timeout(p.id))
        self._show_preset_note()

    def config(self) -> ProviderConfig:
        return ProviderConfig.for_preset(
            self.preset.currentData(),
            base_url=self.base_url.text().strip(),
            model=self.model.currentText().strip(),
            temperature=round(self.temperature.value(), 2),
            timeout_s=self.timeout.value(),
            redact=self.redact.isChecked(),
            reply_limit=self.reply_limit.value(),
            context_window=self.context_window.value(),
            profile=self.profile.currentData(),
        )

    def _key_for(self, config: ProviderConfig) -> str | None:
        typed = self.api_key.text().strip()
        return typed if typed else secrets.get_api_key(config)

    # -- actions ----------------------------------------------------------------------------
    def test_connection(self) -> None:
        config = self.config()
        key = self._key_for(config)
        self.test_button.setEnabled(False)
        self.test_result.setText("Testing…")

        def work() -> str:
            with Provider(config, key) as provider:
                return provider.test_connection()

        def done(message: str) -> None:
            self.test_button.setEnabled(True)
            self.test_result.setText(f"✔ {message}")
            self.connectionTested.emit(True, message)

        def failed(exc: BaseException) -> None:
            self.test_button.setEnabled(True)
            text = str(exc) if isinstance(exc, ProviderError) else f"Unexpected problem: {exc}"
            self.test_result.setText(f"✘ {text}")
            self.connectionTested.emit(False, text)

        self.tasks.run(work, done, failed, key="settings-test", owner=self)

    def check_model(self, *, limit: int | None = None) -> None:
        """Open the model check for the settings as they are in this dialog (saved or not)."""
        from agent_assist.ui.model_check_view import ModelCheckDialog

        config = self.config()
        dialog = ModelCheckDialog(config, self._key_for(config), self.tasks, self, limit=limit)
        self.model_check = dialog
        dialog.open()
        dialog.start()

    def load_models(self) -> None:
        config = self.config()
        key = self._key_for(config)

        def work() -> list[str]:
            with Provider(config, key) as provider:
                return provider.list_models()

        def done(models: list[str]) -> None:
            current = self.model.currentText()
            self.model.clear()
            self.model.addItems(models)
            self.model.setEditText(current or (models[0] if models else ""))
            self.test_result.setText(f"{len(models)} models on the server." if models else
                                     "The server offers no model list; type the model name.")
            self.modelsLoaded.emit(models)

        def failed(exc: BaseException) -> None:
            self.test_result.setText(f"✘ {exc}")
            self.modelsLoaded.emit([])

        self.tasks.run(work, done, failed, key="settings-models", owner=self)

    def _move_key_out_of_url(self) -> bool:
        """A key or password typed into the base URL goes to the API key field (and so to the
        keyring), never into the settings file; False with a sentence when it cannot be moved."""
        clean, found = url_secrets(self.base_url.text())
        if not found:
            return True
        typed = self.api_key.text().strip()
        if len(found) > 1 or (typed and typed != found[0]):
            self.error.setText("The base URL holds a key or password. Take it out of the URL and enter the key "
                               "as the API key: it is kept in your system keyring.")
            return False
        self.base_url.setText(clean)
        self.api_key.setText(found[0])
        self._key_dirty = True
        self.error.setText("The key in the base URL was moved to the API key, which is kept in your keyring.")
        return True

    def save(self) -> bool:
        """Write settings (and the key to the keyring); False with a message when that fails."""
        if not self._move_key_out_of_url():
            return False
        config = self.config()
        if self._key_dirty and self.api_key.text().strip():
            try:
                secrets.set_api_key(config, self.api_key.text().strip())
            except secrets.SecretStoreUnavailable as exc:
                self.error.setText(str(exc))
                return False
        self.settings.set("ai.enabled", self.enabled.isChecked())
        self.settings.set("ai.provider", config.to_dict())
        self.settings.set("ai.auto_draft", self.auto_draft.isChecked())
        from agent_assist.assist import prompts

        policy = self.policy.toPlainText().strip()
        self.settings.set("ai.policy", "" if policy == prompts.DEFAULT_POLICY.strip() else policy)
        self.settings.set("agent.language", self.language.currentData())
        self.settings.set("notifications.enabled", self.notifications.isChecked())
        self.settings.set("send.undo_seconds", int(self.undo_seconds.currentData()))
        if self.semantic.currentData() == "server" and not self.embedding_model.text().strip():
            self.error.setText("Name the AI server's embedding model, or search by meaning on this desk.")
            return False
        self.settings.set("knowledge.semantic", self.semantic.currentData())
        self.settings.set("knowledge.embedding_model", self.embedding_model.text().strip())
        if not self._save_mailbox():
            return False
        self.settings.save()
        if self.store is not None and people.role_of(self.store.db, self.user) == "supervisor":
            for flag, box in self.rule_boxes.items():
                rules.set_rule(self.store, flag, box.currentData(), actor=self.user or "")
            # promotions first and one's own step down last, so that handing the role over in one go works
            changes = sorted(((name, box.currentData()) for name, box in self.role_boxes.items()
                              if people.role_of(self.store.db, name) != box.currentData()),
                             key=lambda change: (change[1] != "supervisor", change[0] == self.user))
            for name, role in changes:
                try:
                    people.save_profile(self.store, name, role, actor=self.user or "")
                except StoreError as exc:
                    self.error.setText(str(exc))
                    return False
        return True

    def _save_mailbox(self) -> bool:
        try:
            mailbox = self.mailbox()
        except (TypeError, ValueError) as exc:
            self.error.setText(f"The mailbox settings are not valid: {exc}")
            return False
        if self.mail_enabled.isChecked():
            problems = mailbox.problems()
            if problems:
                self.error.setText("Mailbox: " + "; ".join(problems))
                return False
        try:
            if self.imap_password.text():
                set_mail_password(mailbox, self.imap_password.text(), "imap")
            if self.smtp_password.text():
                set_mail_password(mailbox, self.smtp_password.text(), "smtp")
        except secrets.SecretStoreUnavailable as exc:
            self.error.setText(str(exc))
            return False
        self.settings.set("email.enabled", self.mail_enabled.isChecked())
        self.settings.set("email.mailbox", mailbox.to_dict())
        return True

    def accept(self) -> None:
        if self.save():
            super().accept()
