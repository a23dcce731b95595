"""The README's gallery: the real windows on demo data at 1280×720 and 1920×1080, light and dark.

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python packaging/screenshots.py [OUT_DIR] [--only NAME]

Writes ``main-window``, ``review``, ``dashboard`` and ``start-page`` for each size and theme, named
like ``main-window-1280x720-dark.png``, into ``resources/screenshots/`` (or OUT_DIR). Each picture
is taken in its own process on a fresh copy of one demo database, so nothing of one run (a palette,
a window's size) leaks into the next. The dark pictures use a dark palette as a dark desktop theme
gives it (the app follows the desktop: it has no theme of its own). The start page is an empty
database's first run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = ((1280, 720), (1920, 1080))
THEMES = ("light", "dark")
SHOTS = ("main-window", "review", "dashboard", "start-page")


def take(shot: str, width: int, height: int, theme: str, demo: Path, out: Path) -> int:
    """One picture, in this process: open the window, wait for its content, save what it shows."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from agent_assist.app import make_application
    from agent_assist.store import Store, drafts, tickets
    from agent_assist.ui.main_window import MainWindow
    from agent_assist.ui.theme import dark_palette

    tmp = Path(tempfile.mkdtemp(prefix="aa-shots-"))
    app = make_application(["agent-assist"])
    if theme == "dark":
        app.setPalette(dark_palette())  # as a dark desktop hands it to Qt
    db = tmp / "shot.db"
    if shot != "start-page":
        shutil.copy(demo, db)
    store = Store(db)
    user = "alex"
    if shot == "review":
        user = "priya"  # the demo's supervisor
        _one_awaiting(store, drafts, tickets)
    window = MainWindow(store, user=user, settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
    window.resize(width, height)
    window.show()

    def settle(until, seconds: float = 15.0) -> None:
        end = time.monotonic() + seconds
        while not until() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)
        end = time.monotonic() + 0.5  # the last paint
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    target = window
    if shot == "main-window":
        row = next((r for r in range(min(window.model.rowCount(), 60))
                    if window.model.row_data(r).language == "en" and window.model.row_data(r).status == "open"), 0)
        window.queue.select_row(row)
        ticket_id = window.model.ticket_id(row)
        settle(lambda: window.workspace is not None and window.workspace.ticket.id == ticket_id
               and window.knowledge.model.rowCount() > 0)
    elif shot == "start-page":
        settle(lambda: window.start_page.isVisible())
    else:
        settle(lambda: window.workspace is not None)
        target = window.show_review() if shot == "review" else window.show_dashboard()
        target.resize(width, height)
        settle(lambda: False, 3.0)  # its lists and charts load in the background
    image = few_colours(target.grab().toImage())
    image.save(str(out), "PNG", 0)  # 0: the strongest compression
    print(f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: {image.width()}×{image.height()}, "
          f"{out.stat().st_size // 1024} KB")
    window.close()
    for w in QApplication.topLevelWidgets():
        w.close()
    store.close()
    return 0


def few_colours(image):
    """The picture in its 256 most used colours: a window has a few thousand (flat panes, antialiased
    text), so the nearest of those is indistinguishable, and the file is a third of the size."""
    from collections import Counter

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage

    image = image.convertToFormat(QImage.Format.Format_RGB32)
    counts = Counter(memoryview(image.constBits()).cast("I"))
    table = [colour | 0xFF000000 for colour, _n in counts.most_common(256)]
    return image.convertToFormat(QImage.Format.Format_Indexed8, table, Qt.ImageConversionFlag.ThresholdDither)


def _one_awaiting(store, drafts, tickets) -> None:
    """The demo's replies are all sent: put one reply of a four-eyes (flagged) ticket in the supervisor's queue,
    as an agent who edited the suggestion and approved it would."""
    for row in store.db.execute("SELECT t.id FROM tickets t JOIN ticket_flags f ON f.ticket_id = t.id "
                                "WHERE t.status IN ('new', 'open') AND t.language = 'en' LIMIT 20").fetchall():
        ticket = tickets.get_ticket(store.db, row[0])
        draft_id = drafts.suggest(store, ticket.id, f"Hi {ticket.first_name},\n\nThank you for writing to us. We "
                                  "have looked at your account and the payment in question is now on hold while "
                                  "we check it.\n\nKind regards,\nAlex", actor="assistant", source="offline")
        body = drafts.get(store.db, draft_id).body.replace("now on hold", "on hold for up to five working days")
        drafts.save_edit(store, draft_id, body, actor="alex")
        if drafts.approve(store, draft_id, body, actor="alex") == "awaiting_supervisor":
            return


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:  # a child: --one SHOT WIDTH HEIGHT THEME DEMO OUT
        shot, width, height, theme, demo, out = argv[1:7]
        return take(shot, int(width), int(height), theme, Path(demo), Path(out))
    only = argv[argv.index("--only") + 1] if "--only" in argv else ""  # e.g. --only main-window-1280x720
    argv = [a for i, a in enumerate(argv) if a != "--only" and (i == 0 or argv[i - 1] != "--only")]
    out_dir = Path(argv[0]) if argv else ROOT / "resources" / "screenshots"
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="aa-shots-"))
    for var, sub in (("HOME", "home"), ("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                     ("XDG_STATE_HOME", "state"), ("XDG_CACHE_HOME", "cache")):  # your own settings stay untouched
        (tmp / sub).mkdir()
        os.environ[var] = str(tmp / sub)
    os.environ.pop("AGENT_ASSIST_DB", None)
    from agent_assist.cli import create_demo_database

    demo = tmp / "demo.db"
    create_demo_database(demo)
    failed = 0
    for width, height in SIZES:
        for theme in THEMES:
            for shot in SHOTS:
                out = out_dir / f"{shot}-{width}x{height}-{theme}.png"
                if only not in out.name:
                    continue
                done = subprocess.run([sys.executable, __file__, "--one", shot, str(width), str(height), theme,
                                       str(demo), str(out)], cwd=ROOT)
                failed += done.returncode != 0
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
