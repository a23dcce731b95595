"""Who is working: pick a local profile (or make one) at start."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from agent_assist.store.people import ROLES, Profile

NEW = "__new__"


class ProfileDialog(QDialog):
    def __init__(self, profiles: list[Profile], suggested: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Who is working?")
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
        for role in ROLES:
            self.role.addItem(role.capitalize(), role)
        form = QFormLayout()
        form.addRow("Profile", self.profile_box)
        form.addRow("Name", self.name)
        form.addRow("Role", self.role)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Every action is recorded under this profile's name."))
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.profile_box.currentIndexChanged.connect(self._toggle)
        self._toggle()

    def _toggle(self) -> None:
        new = self.profile_box.currentData() == NEW
        self.name.setEnabled(new)
        self.role.setEnabled(new)

    def choice(self) -> tuple[str, str | None]:
        """(name, role) — role is None for an existing profile."""
        if self.profile_box.currentData() == NEW:
            return self.name.text().strip(), self.role.currentData()
        return self.profile_box.currentData(), None
