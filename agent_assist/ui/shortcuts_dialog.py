"""F1: every keyboard shortcut, grouped by what a person is doing, with a filter.

The rows come from the window's own actions (menu text and shortcut), so the list cannot
drift from what the keys do; keys are written as the platform writes them
(``QKeySequence.NativeText``: "Ctrl+Return" here, "⌘↩" on a Mac).
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QAction, QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHeaderView, QLabel, QLineEdit, QTreeView, QVBoxLayout, \
    QWidget

GROUPS = ("Queue", "Reply", "AI", "Knowledge", "Review", "Window")
# actions whose menu does not say the task they belong to (by their text, without the & marks)
_BY_TEXT = {
    "Focus reply": "Reply", "Approve & send reply": "Reply", "Undo send": "Reply", "Regenerate draft": "Reply",
    "Supervisor review": "Review", "Quality dashboard": "Review", "Team": "Review",
}
_BY_MENU = {"Ticket": "Queue", "AI": "AI", "Knowledge": "Knowledge"}  # any other menu: Window


def native(keys: QKeySequence | str | Qt.Key) -> str:
    """A key sequence as this platform writes it."""
    return (keys if isinstance(keys, QKeySequence) else QKeySequence(keys)).toString(
        QKeySequence.SequenceFormat.NativeText)


def plain_text(action: QAction) -> str:
    """A menu text without its mnemonic marks ("&&" stays one "&")."""
    return action.text().replace("&&", "\x00").replace("&", "").replace("\x00", "&")


def rows_of_menus(menus: Iterable[tuple[str, Iterable[QAction]]]) -> list[tuple[str, str, str]]:
    """(group, what it does, keys) for every menu action that has a shortcut."""
    rows = []
    for menu_title, actions in menus:
        title = menu_title.replace("&", "")
        for action in actions:
            if action.isSeparator() or action.shortcut().isEmpty():
                continue
            text = plain_text(action)
            group = _BY_TEXT.get(text) or _BY_MENU.get(title, "Window")
            rows.append((group, text, native(action.shortcut())))
    return rows


def rows_for_window(window) -> list[tuple[str, str, str]]:
    """The window's menus, plus the keys that work in the queue without a menu entry."""
    menus = [(m.text(), m.menu().actions()) for m in window.menuBar().actions() if m.menu() is not None]
    rows = rows_of_menus(menus)
    rows.append(("Queue", "Open the ticket and start replying", native(Qt.Key.Key_Return)))
    rows.append(("Queue", "Move in the queue", f"{native(Qt.Key.Key_Up)} / {native(Qt.Key.Key_Down)}"))
    return rows


class ShortcutsDialog(QDialog):
    """A filterable tree: task groups, each with its actions and their keys."""

    def __init__(self, rows: Iterable[tuple[str, str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("shortcutsDialog")
        self.model = QStandardItemModel(0, 2, self)
        self.model.setHorizontalHeaderLabels(["Action", "Keys"])
        by_group: dict[str, list[tuple[str, str]]] = {}
        for group, text, keys in rows:
            by_group.setdefault(group, []).append((text, keys))
        for group in [*GROUPS, *sorted(set(by_group) - set(GROUPS))]:
            if group not in by_group:
                continue
            parent_item = QStandardItem(group)
            parent_item.setEditable(False)
            font = parent_item.font()
            font.setBold(True)
            parent_item.setFont(font)
            blank = QStandardItem("")
            blank.setEditable(False)
            for text, keys in by_group[group]:
                a, k = QStandardItem(text), QStandardItem(keys)
                a.setEditable(False)
                k.setEditable(False)
                k.setAccessibleText(f"{text}: {keys}")
                parent_item.appendRow([a, k])
            self.model.appendRow([parent_item, blank])

        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setRecursiveFilteringEnabled(True)  # a matching action keeps its group shown
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)  # the action's words or its keys

        self.filter = QLineEdit()
        self.filter.setObjectName("shortcutsFilter")
        self.filter.setAccessibleName("Filter shortcuts")
        self.filter.setPlaceholderText("Type to filter: an action (“send”) or a key (“Ctrl+K”)")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter)

        self.view = QTreeView()
        self.view.setObjectName("shortcutsView")
        self.view.setAccessibleName("Keyboard shortcuts")
        self.view.setModel(self.proxy)
        self.view.setRootIsDecorated(False)
        self.view.setUniformRowHeights(True)
        self.view.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.view.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.view.header().setStretchLastSection(False)
        self.view.expandAll()

        self.empty = QLabel("No shortcut matches.")
        self.empty.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty)
        layout.addWidget(buttons)
        self.resize(520, 560)
        self.filter.setFocus()

    @classmethod
    def for_window(cls, window) -> ShortcutsDialog:
        return cls(rows_for_window(window), window)

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self.view.expandAll()
        self.empty.setVisible(self.proxy.rowCount() == 0)

    def visible_rows(self) -> list[tuple[str, str, str]]:
        """(group, action, keys) as shown now, in order (for tests and screen readers)."""
        shown = []
        for g in range(self.proxy.rowCount()):
            group_index = self.proxy.index(g, 0)
            for r in range(self.proxy.rowCount(group_index)):
                shown.append((group_index.data(), self.proxy.index(r, 0, group_index).data(),
                              self.proxy.index(r, 1, group_index).data()))
        return shown
