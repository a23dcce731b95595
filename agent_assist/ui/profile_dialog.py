"""Who is working: pick a local profile (or make one) at start, or connect to a team server.

A new profile may be a supervisor only while the database has none (the first one
sets the team up); after that new profiles are agents, and a supervisor changes roles.
The core checks the same rule (``people.save_profile``); this only keeps the choice honest.
"Team server…" leaves this desk's file for a shared PostgreSQL, where the login is the person.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agent_assist.store.people import ROLES, Profile

NEW = "__new__"


@dataclass(frozen=True)
class TeamChoice:
    """The person chose to work on a team server instead of this desk's file."""

    url: str
    password: str | None
    keep_password: bool


class ProfileDialog(QDialog):
    def __init__(self, profiles: list[Profile], suggested: str, parent: QWidget | None = None, *,
                 allow_supervisor: bool | None = None, team_url: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Who is working?")
        self.team: TeamChoice | None = None
        self._team_url = team_url
        self.profile_box = QComboBox()
        self.profile_box.setAccessibleName("Profile")
        for p in profiles:
            self.profile_box.addItem(f"{p.name} ({p.role})", p.name)
        self.profile_box.addItem("New profile…", NEW)
        index = self.profile_box.findData(suggested)
        self.profile_box.setCurrentIndex(index if index >= 0 else self.profile_box.count() - 1)
        self.name = QLineEdit(suggested if index < 0 else "")
        self.name.setAccessibleName("New profile name")
        self.role = QComboBox()
        self.role.setAccessibleName("New profile role")
        if allow_supervisor is None:
            allow_supervisor = not any(p.is_supervisor for p in profiles)
        for role in ROLES:
            if role == "supervisor" and not allow_supervisor:
                continue
            self.role.addItem(role.capitalize(), role)
        self.role_note = QLabel("New profiles are agents; a supervisor changes roles." if not allow_supervisor
                                else "The first supervisor sets up the team's rules.")
        self.role_note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Profile", self.profile_box)
        form.addRow("Name", self.name)
        form.addRow("Role", self.role)
        form.addRow("", self.role_note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.team_button = QPushButton("Team server…")
        self.team_button.setToolTip("Work on your team's shared server instead of this computer's own database")
        self.team_button.clicked.connect(self.choose_team_server)
        buttons.addButton(self.team_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Every action is recorded under this profile's name."))
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.profile_box.currentIndexChanged.connect(self._toggle)
        self._toggle()

    def choose_team_server(self) -> None:
        from agent_assist.ui.team_server_dialog import TeamServerDialog

        dialog = TeamServerDialog(self, url=self._team_url)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.team = TeamChoice(dialog.url(), dialog.password(), dialog.keep.isChecked())
            self.accept()

    def _toggle(self) -> None:
        new = self.profile_box.currentData() == NEW
        self.name.setEnabled(new)
        self.role.setEnabled(new)

    def choice(self) -> tuple[str, str | None]:
        """(name, role) — role is None for an existing profile."""
        if self.profile_box.currentData() == NEW:
            return self.name.text().strip(), self.role.currentData()
        return self.profile_box.currentData(), None
