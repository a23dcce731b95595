"""Take the README screenshot: the real window on demo data, as the screen shows it.

    xvfb-run -a -s "-screen 0 1600x900x24" .venv/bin/python packaging/screenshot.py [OUT.png]

Creates a throwaway demo database, opens the main window, waits until a ticket
with its suggestions and draft is on screen, and grabs the screen (not an
offscreen render), so what is saved is what a person sees.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from agent_assist.app import make_application
from agent_assist.cli import create_demo_database
from agent_assist.store import Store
from agent_assist.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshots import few_colours  # noqa: E402 - the sibling script


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "resources" / "screenshots" / "main-window.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="aa-shot-"))
    create_demo_database(tmp / "demo.db")
    app = make_application([sys.argv[0]])
    store = Store(tmp / "demo.db")
    window = MainWindow(store, user="alex", settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
    window.resize(1600, 900)
    window.show()
    result = {"rc": 1}

    def pick() -> None:
        # a ticket with a conversation and a cited suggestion makes the best picture
        for row in range(min(window.model.rowCount(), 40)):
            r = window.model.row_data(row)
            if r.language == "en" and r.status == "open":
                window.queue.select_row(row)
                break

    def shoot() -> None:
        if window.workspace is None or not window.knowledge.model.rowCount():
            QTimer.singleShot(200, shoot)
            return
        QApplication.processEvents()
        pixmap = window.screen().grabWindow(0, window.x(), window.y(), window.frameGeometry().width(),
                                            window.frameGeometry().height())
        if pixmap.isNull() or pixmap.width() < 100:
            pixmap = window.grab()
        few_colours(pixmap.toImage()).save(str(out), "PNG", 0)  # the gallery's small PNGs
        print(f"saved {out} ({pixmap.width()}x{pixmap.height()})")
        result["rc"] = 0
        window.close()
        app.quit()

    QTimer.singleShot(300, pick)
    QTimer.singleShot(1500, shoot)
    app.exec()
    store.close()
    return result["rc"]


if __name__ == "__main__":
    raise SystemExit(main())
