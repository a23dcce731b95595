"""F1: the shortcuts, grouped by task and searchable, in the platform's key names, as the README says."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from agent_assist.store import Store
from agent_assist.ui.shortcuts_dialog import GROUPS, ShortcutsDialog
from tests.ui.conftest import wait_loaded

README = Path(__file__).resolve().parents[2] / "README.md"


def _native(keys: str) -> str:
    return QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)


def _open(qtbot, w) -> ShortcutsDialog:
    wait_loaded(qtbot, w)
    qtbot.keyClick(w, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: isinstance(getattr(w, "shortcuts_dialog", None), ShortcutsDialog)
                    and w.shortcuts_dialog.isVisible())
    return w.shortcuts_dialog


def test_f1_opens_grouped_shortcuts(small_store: Store, make_window, qtbot):
    w = make_window(small_store)
    dialog = _open(qtbot, w)
    rows = dialog.visible_rows()
    groups = list(dict.fromkeys(g for g, _a, _k in rows))
    assert groups == [g for g in GROUPS if g in groups] and set(groups) == set(GROUPS)
    where = {a: (g, k) for g, a, k in rows}
    assert where["Approve & send reply"] == ("Reply", _native("Ctrl+Return"))
    assert where["Draft with AI"] == ("AI", _native("Ctrl+D"))
    assert where["Search knowledge"] == ("Knowledge", _native("Ctrl+K"))
    assert where["Supervisor review"] == ("Review", _native("Ctrl+Shift+V"))
    assert where["Next in queue"][0] == "Queue" and where["Keyboard shortcuts"] == ("Window", _native("F1"))
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.filter)  # type to filter at once
    dialog.close()


def test_filter_by_words_or_keys(small_store: Store, make_window, qtbot):
    w = make_window(small_store)
    dialog = _open(qtbot, w)
    qtbot.keyClicks(dialog.filter, "send")
    assert sorted(a for _g, a, _k in dialog.visible_rows()) == ["Approve & send reply", "Undo send"]
    dialog.filter.clear()
    qtbot.keyClicks(dialog.filter, _native("Ctrl+K"))
    assert [(g, a) for g, a, _k in dialog.visible_rows()] == [("Knowledge", "Search knowledge")]
    dialog.filter.clear()
    qtbot.keyClicks(dialog.filter, "no such thing")
    assert dialog.visible_rows() == [] and dialog.empty.isVisible()
    dialog.filter.clear()
    assert len(dialog.visible_rows()) > 15 and not dialog.empty.isVisible()


def test_readme_and_the_dialog_agree(small_store: Store, make_window, qtbot):
    w = make_window(small_store)
    shown = {a: k for _g, a, k in _open(qtbot, w).visible_rows()}
    table = dict(re.findall(r"^\| (.+?) \| (.+?) \|$", README.read_text(encoding="utf-8"), re.M))
    send = table["Approve & send the reply"]
    assert send.startswith(shown["Approve & send reply"])  # both say Ctrl+Return
    assert send.split()[0] in w.draft.approve.text()
    for task, action in (("Regenerate the suggestion", "Regenerate draft"), ("All shortcuts", "Keyboard shortcuts"),
                         ("Filter the queue (subject, customer, e-mail, #id)", "Filter queue")):
        assert table[task] == shown[action]
