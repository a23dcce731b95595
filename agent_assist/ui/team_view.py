"""The supervisor's view of the team: who is online, how many tickets each has open, whose replies wait.

One row per person (a team is tens of people, not thousands: a table model over a list). On a team
server "online" is a desk heard from in the last ``teamwork.PRESENCE_FRESH_S`` seconds (the server's
clock), and the view follows the server's announcements; on a desk's own file there is no presence,
so that column says "—". Read off the UI thread through :func:`agent_assist.store.teamwork.team_overview`.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from agent_assist.store import StoreError, teamwork
from agent_assist.store.teamwork import Member
from agent_assist.ui.tasks import TaskManager

COLUMNS = (("name", "Person"), ("role", "Role"), ("online", "Online"), ("on_ticket", "Working on"),
           ("open_tickets", "Open tickets"), ("waiting_replies", "Replies waiting for approval"))
REFRESH_MS = 1000  # how often the view checks whether the server announced anything


class TeamModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.members: list[Member] = []

    def set_members(self, members: list[Member]) -> None:
        self.beginResetModel()
        self.members = list(members)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.members)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][1]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        member = self.members[index.row()]
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            if key == "online":
                return {True: "● online", False: "away", None: "—"}[member.online]
            if key == "on_ticket":
                return f"#{member.on_ticket}" if member.on_ticket else ""
            if key == "role":
                return member.role.capitalize()
            return str(getattr(member, key))
        if role == Qt.ItemDataRole.TextAlignmentRole and key in ("open_tickets", "waiting_replies"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and key == "online" and member.online is None:
            return "A desk's own database has no presence: that needs a team server."
        return None


class TeamView(QWidget):
    loaded = Signal(int)  # how many people are shown

    def __init__(self, store, tasks: TaskManager, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("teamView")
        self.store = store
        self.tasks = tasks
        self.summary = QLabel()
        self.summary.setObjectName("teamSummary")
        self.summary.setWordWrap(True)
        self.model = TeamModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Team")
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # names take the room, figures stay close
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self._seen: tuple[int, int] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._check)
        self._timer.start()
        self.refresh()

    def _versions(self) -> tuple[int, int]:
        presence = getattr(self.store, "presence_version", None)
        return self.store.data_version(), presence() if presence is not None else 0

    def _check(self) -> None:
        if not self.isVisible():
            return
        try:
            seen = self._versions()
        except StoreError:
            return
        if seen != self._seen:
            self.refresh()

    def refresh(self) -> None:
        try:
            self._seen = self._versions()
        except StoreError:
            pass
        self.tasks.run(lambda: teamwork.team_overview(self.store.db), self._show, self._failed, key="team-view",
                       owner=self)

    def _show(self, members: list[Member]) -> None:
        self.model.set_members(members)
        online = [m for m in members if m.online]
        waiting = sum(m.waiting_replies for m in members)
        if any(m.online is not None for m in members):
            head = f"{len(online)} of {len(members)} online"
        else:
            head = f"{len(members)} people (who is online shows on a team server)"
        self.summary.setText(f"{head} · {sum(m.open_tickets for m in members)} open tickets assigned · "
                             f"{waiting} {'reply waits' if waiting == 1 else 'replies wait'} for a supervisor")
        self.loaded.emit(len(members))

    def _failed(self, exc: BaseException) -> None:
        self.summary.setText(f"The team could not be read: {exc}")

    def closeEvent(self, event) -> None:  # noqa: N802
        self._timer.stop()
        super().closeEvent(event)
