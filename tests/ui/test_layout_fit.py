"""The window fits a 1280×720 screen (and the same at 200 %) with no button or column header cut off,
and its panes keep their sizes from ticket to ticket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.exceptions import TimeoutError

from agent_assist.cli import create_demo_database
from agent_assist.store import Store
from agent_assist.ui.queue_model import COLUMNS
from agent_assist.ui.queue_panel import QUEUE_DROP_ORDER
from tests.ui import layout_check
from tests.ui.conftest import wait_loaded

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    create_demo_database(path)
    return path


@pytest.fixture
def demo_store(demo_file: Path, tmp_path: Path):
    copy = tmp_path / "demo.db"
    copy.write_bytes(demo_file.read_bytes())
    store = Store(copy)
    yield store
    store.close()


def fit_to_screen(qtbot, window) -> None:
    """As a window manager does on a 1280×720 screen: the window takes the screen, or its minimum if larger."""
    width, height = layout_check.SCREEN
    hint = window.minimumSizeHint()
    window.resize(max(width, hint.width()), max(height, hint.height()))
    qtbot.wait(50)
    QApplication.processEvents()


def settled_problems(qtbot, window) -> list[str]:
    """What is cut off once the layout has settled (a pane relays itself out an event later)."""
    try:
        qtbot.waitUntil(lambda: not layout_check.problems(window), timeout=1000)
    except TimeoutError:  # the problems below say which
        pass
    return layout_check.problems(window)


def test_main_window_fits_1280_by_720(demo_store: Store, make_window, qtbot):
    w = make_window(demo_store)
    fit_to_screen(qtbot, w)
    wait_loaded(qtbot, w)
    qtbot.waitUntil(lambda: w.knowledge.model.rowCount() > 0, timeout=5000)
    found = settled_problems(qtbot, w)
    assert not found, "\n".join(found)
    w.resize(1920, 1080)  # on a larger screen, and back: the panes hold whichever way they go
    qtbot.wait(50)
    header, keys = w.queue.view.horizontalHeader(), [key for key, _label in COLUMNS]
    shown = [key for i, key in enumerate(keys) if not header.isSectionHidden(i)]
    assert {"customer", "assignee", "updated"} <= set(shown), f"1920 px has room for them: {shown}"
    fit_to_screen(qtbot, w)
    found = settled_problems(qtbot, w)
    assert not found, "after 1920×1080 and back:\n" + "\n".join(found)


@pytest.mark.parametrize("side", ["show_review", "show_dashboard", "show_team"])
def test_side_windows_fit_1280_by_720(demo_store: Store, make_window, qtbot, side):
    w = make_window(demo_store, user="sam")
    window = getattr(w, side)()
    fit_to_screen(qtbot, window)
    qtbot.wait(300)  # its lists load in the background
    found = settled_problems(qtbot, window)
    assert not found, "\n".join(found)


def test_panes_keep_their_sizes_between_tickets(demo_store: Store, make_window, qtbot):
    """Opening ticket after ticket (long subjects, flags, human-only, four eyes) moves no splitter
    and does not widen the window."""
    w = make_window(demo_store)
    fit_to_screen(qtbot, w)
    wait_loaded(qtbot, w)
    before = (w.size(), w.splitter.sizes(), w.middle.sizes())
    rows = w.model.rowCount()
    for row in range(0, min(rows, 60), 3):
        w.queue.select_row(row)
        wait_loaded(qtbot, w, w.model.ticket_id(row))
        QApplication.processEvents()
        assert (w.size(), w.splitter.sizes(), w.middle.sizes()) == before, f"after opening row {row}"

    # and after Approve & send (the window widened itself by 54 px there once)
    target = next(r for r in range(w.model.rowCount()) if w.model.row_data(r).status == "open"
                  and w.model.row_data(r).language == "en" and not w.model.row_data(r).flags)
    w.queue.select_row(target)
    wait_loaded(qtbot, w, w.model.ticket_id(target))
    with qtbot.waitSignal(w.replySent, timeout=3000):
        qtbot.keyClick(w.draft.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(100)
    assert (w.size(), w.splitter.sizes(), w.middle.sizes()) == before, "after Approve & send"


@pytest.mark.parametrize(("pixels", "scale", "logical"), [
    ((2560, 1440), "2", "1280×720"),  # 200 %: a 1280×720 screen's worth of room, drawn twice as fine
    ((3840, 2160), "1", "3840×2160"),  # 4K at 100 %: the panes spread out, nothing stretches apart
])
def test_at_200_percent_and_4k(demo_file: Path, tmp_path: Path, pixels, scale, logical):
    """The same check in a fresh process on an offscreen screen of that many pixels and that scale."""
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "check", "x": 0, "y": 0, "width": pixels[0],
                                               "height": pixels[1], "logicalDpi": 96, "logicalBaseDpi": 96,
                                               "dpr": 1}]}))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}", "QT_SCALE_FACTOR": scale}
    result = subprocess.run([sys.executable, "-m", "tests.ui.layout_check", str(demo_file)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert f"screen {logical} logical at {scale}×" in result.stdout, result.stdout + result.stderr
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]


def test_a_column_never_gets_narrower_than_its_header(demo_store: Store, make_window, qtbot):
    """Dragging a column narrower (or a layout saved by an older version) stops at what its header needs;
    widening one gives Subject less, down to its minimum, and then hides the least needed columns."""
    w = make_window(demo_store)
    fit_to_screen(qtbot, w)
    header, columns = w.queue.view.horizontalHeader(), w.queue.columns
    keys = [key for key, _label in COLUMNS]
    status = keys.index("status")
    header.resizeSection(status, 20)
    assert header.sectionSize(status) == columns.needs[status]
    header.resizeSection(status, 400)  # a person wants the whole status: the optional columns make room
    assert header.sectionSize(status) == 400
    assert header.sectionSize(keys.index("subject")) >= columns.fill_min
    assert {keys[i] for i in range(len(keys)) if header.isSectionHidden(i)} == set(QUEUE_DROP_ORDER)
