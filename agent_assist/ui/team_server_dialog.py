"""Connect to a team server: where the shared PostgreSQL is and who signs in, with Test connection.

Used from the start dialog ("Who is working?") and from Preferences. The password goes to the OS
keyring (when the person keeps it), never into a settings file; what is remembered for the next
start is the address without it.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from agent_assist.store.postgres import sign_in
from agent_assist.store.postgres.sign_in import Address
from agent_assist.ui.tasks import TaskManager


class TeamServerDialog(QDialog):
    """Asks for a team server's address and the person's password; ``address()`` and ``password()``."""

    tested = Signal(bool, str)  # ok, the sentence shown

    def __init__(self, parent: QWidget | None = None, *, url: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Connect to a team server")
        self.setObjectName("teamServerDialog")
        self.setMinimumWidth(480)
        self.tasks = TaskManager(self, max_threads=1)
        known = sign_in.parse_address(url or "") or Address("", 5432, "support", "")
        self.paste = QLineEdit()
        self.paste.setAccessibleName("Team server URL")
        self.paste.setPlaceholderText("postgresql://login@server:5432/database — or fill in the fields below")
        self.paste.textEdited.connect(self._pasted)
        self.host = QLineEdit(known.host)
        self.host.setAccessibleName("Server")
        self.host.setPlaceholderText("db.example.com")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(known.port)
        self.port.setAccessibleName("Port")
        self.database = QLineEdit(known.database)
        self.database.setAccessibleName("Database")
        self.login = QLineEdit(known.login)
        self.login.setAccessibleName("Your login")
        self.login.setToolTip("Your own login on the team server: the administrator made it with "
                              "`agent-assist team add-person`. Everything you do is recorded under it.")
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName("Password")
        if url:
            self.secret.setPlaceholderText("kept in your keyring" if sign_in.stored_password(url) else "")
        self.keep = QCheckBox("Keep the password in this computer's keyring")
        self.keep.setChecked(True)
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.result = QLabel()
        self.result.setObjectName("teamServerResult")
        self.result.setWordWrap(True)

        form = QFormLayout()
        form.addRow("URL", self.paste)
        form.addRow("Server", self.host)
        form.addRow("Port", self.port)
        form.addRow("Database", self.database)
        form.addRow("Your login", self.login)
        form.addRow("Password", self.secret)
        form.addRow("", self.keep)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect")
        self.buttons.addButton(self.test_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        intro = QLabel("A team works on one shared PostgreSQL server: the server checks who may approve, send and "
                       "change rules. Sign in with your own login.")
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.result)
        layout.addWidget(self.buttons)
        for edit in (self.host, self.database, self.login):
            edit.textChanged.connect(self._update)
        self._update()

    # -- what was entered -----------------------------------------------------------------
    def address(self) -> Address:
        return Address(self.host.text().strip(), self.port.value(), self.database.text().strip(),
                       self.login.text().strip())

    def url(self) -> str:
        return self.address().url()

    def password(self) -> str | None:
        """What was typed, else the keyring's (None: the server will say a password is needed)."""
        return self.secret.text() or sign_in.stored_password(self.url())

    def _pasted(self, text: str) -> None:
        found = sign_in.parse_address(text)
        if found is None:
            self.result.setText("A team server URL starts with postgresql:// — or fill in the fields below."
                                if text.strip() else "")
            return
        self.host.setText(found.host)
        self.port.setValue(found.port)
        self.database.setText(found.database)
        self.login.setText(found.login)
        typed = sign_in.url_password(text)
        if typed:
            self.secret.setText(typed)
            self.paste.setText(sign_in.without_password(text))  # the password is not left on screen
        self.result.setText("")

    def _update(self) -> None:
        problems = self.address().problems()
        ok = not problems
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
        self.test_button.setEnabled(ok)

    # -- Test connection -------------------------------------------------------------------
    def test_connection(self) -> None:
        problems = self.address().problems()
        if problems:
            self._show(False, " ".join(problems))
            return
        url, password = self.url(), self.password()
        self.test_button.setEnabled(False)
        self.result.setText(f"Connecting to {url.removeprefix('postgresql://')}…")
        self.tasks.run(lambda: sign_in.probe(url, password), lambda text: self._show(True, text),
                       lambda exc: self._show(False, str(exc)), key="team-probe", owner=self)

    def _show(self, ok: bool, text: str) -> None:
        self.test_button.setEnabled(not self.address().problems())
        self.result.setText(("✓ " if ok else "✗ ") + text)
        self.tested.emit(ok, text)

    def accept(self) -> None:
        problems = self.address().problems()
        if problems:
            self._show(False, " ".join(problems))
            return
        super().accept()

    def done(self, result: int) -> None:  # noqa: D401 - Qt's name
        self.tasks.shutdown()
        super().done(result)
