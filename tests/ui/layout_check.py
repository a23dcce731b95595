"""What a person would call "cut off" on a screen: button text or a column header that does not fit.

Shared by ``test_layout_fit.py`` (in the test process) and its 200 % run, which starts this file as a
script under ``QT_SCALE_FACTOR=2`` on an offscreen screen of 2560×1440 pixels (1280×720 logical):

    python -m tests.ui.layout_check DEMO.db
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QHeaderView,
    QPushButton,
    QStyle,
    QStyleOptionButton,
    QToolButton,
    QWidget,
)

SCREEN = (1280, 720)  # logical pixels: a 1280×720 laptop, or a 2560×1440 screen at 200 %


def _label(text: str) -> str:
    """A button's text as painted: "&&" is one ampersand, a single "&" marks the mnemonic."""
    return text.replace("&&", "\x00").replace("&", "").replace("\x00", "&")


def _shown_width(widget: QWidget) -> int:
    """How much of the widget's width is on screen (its parents clip what they cannot hold)."""
    return widget.visibleRegion().boundingRect().width()


def _button_needs(button: QAbstractButton) -> int:
    """The width the style needs to paint the button's whole text (margins, frame, menu arrow)."""
    style = button.style()
    text_width = button.fontMetrics().horizontalAdvance(_label(button.text()))
    if isinstance(button, QPushButton):
        opt = QStyleOptionButton()
        button.initStyleOption(opt)
        # the contents rect is the button less its frame and margins: the text must fit in it
        contents = style.subElementRect(QStyle.SubElement.SE_PushButtonContents, opt, button)
        frame = button.width() - contents.width()
        indicator = style.pixelMetric(QStyle.PixelMetric.PM_MenuButtonIndicator, opt, button) if button.menu() else 0
        return text_width + frame + indicator
    margin = 2 * style.pixelMetric(QStyle.PixelMetric.PM_ButtonMargin, None, button)
    frame = 2 * style.pixelMetric(QStyle.PixelMetric.PM_DefaultFrameWidth, None, button)
    tool = button if isinstance(button, QToolButton) else None
    has_arrow = tool is not None and (tool.menu() is not None or tool.defaultAction() is not None
                                      and tool.defaultAction().menu() is not None) \
        and tool.popupMode() != QToolButton.ToolButtonPopupMode.DelayedPopup
    indicator = style.pixelMetric(QStyle.PixelMetric.PM_MenuButtonIndicator, None, button) if has_arrow else 0
    return text_width + margin + frame + indicator


def clipped_buttons(window: QWidget) -> list[str]:
    problems = []
    for button in window.findChildren(QAbstractButton):
        if not isinstance(button, (QPushButton, QToolButton)) or not button.isVisibleTo(window) or not button.text():
            continue
        if not button.window().isVisible():
            continue
        needs, shown = _button_needs(button), min(button.width(), _shown_width(button))
        if shown < needs:
            problems.append(f"{button.window().objectName() or type(button.window()).__name__}: button "
                            f"“{_label(button.text())}” is {shown} px wide, its text needs {needs} px")
    return problems


def clipped_headers(window: QWidget) -> list[str]:
    problems = []
    for header in window.findChildren(QHeaderView):
        if header.orientation() != Qt.Orientation.Horizontal or not header.isVisibleTo(window):
            continue
        model = header.model()
        if model is None:
            continue
        viewport = header.viewport().rect()
        name = header.parentWidget().objectName() or type(header.parentWidget()).__name__
        for logical in range(header.count()):
            if header.isSectionHidden(logical):
                continue
            rect = QRect(header.sectionViewportPosition(logical), 0, header.sectionSize(logical), viewport.height())
            if not rect.intersects(viewport):
                continue  # scrolled away: not on screen
            text = str(model.headerData(logical, Qt.Orientation.Horizontal) or "")
            needs = header.sectionSizeFromContents(logical).width()  # text, margins, the sort arrow
            shown = rect.intersected(viewport).width()
            if text and shown < needs:
                problems.append(f"{name}: column “{text}” is {shown} px on screen, its header needs {needs} px")
            elif text and shown < rect.width():  # its centred text may be anywhere: the edge cuts it
                problems.append(f"{name}: column “{text}” is cut by the table's edge ({shown} of {rect.width()} px)")
    return problems


def too_wide(window: QWidget, screen: tuple[int, int] = SCREEN) -> list[str]:
    hint = window.minimumSizeHint()
    problems = []
    if hint.width() > screen[0] or hint.height() > screen[1]:
        problems.append(f"{window.objectName()}: its minimum size is {hint.width()}×{hint.height()}, the screen "
                        f"{screen[0]}×{screen[1]}")
    if window.width() > screen[0] or window.height() > screen[1]:
        problems.append(f"{window.objectName()}: it is {window.width()}×{window.height()} on a "
                        f"{screen[0]}×{screen[1]} screen")
    return problems


def problems(window: QWidget, screen: tuple[int, int] = SCREEN) -> list[str]:
    return too_wide(window, screen) + clipped_buttons(window) + clipped_headers(window)


def main(argv: list[str]) -> int:
    """Open the main window (and its side windows) on a copy of the demo database, each as large as the
    screen; print what is cut off."""
    import shutil
    import tempfile
    import time
    from pathlib import Path

    from PySide6.QtCore import QSettings

    from agent_assist.app import make_application
    from agent_assist.store import Store
    from agent_assist.ui.main_window import MainWindow

    tmp = Path(tempfile.mkdtemp(prefix="aa-layout-"))
    shutil.copy(argv[0], tmp / "demo.db")
    app = make_application(["layout_check"])
    screen = app.primaryScreen().availableGeometry()
    print(f"screen {screen.width()}×{screen.height()} logical at {app.primaryScreen().devicePixelRatio():g}×")
    store = Store(tmp / "demo.db")
    window = MainWindow(store, user="alex", settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
    size = (screen.width(), screen.height())
    window.resize(*size)
    window.show()

    def settle(until, seconds: float = 10.0) -> None:
        end = time.monotonic() + seconds
        while not until() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)
        for _ in range(5):
            app.processEvents()

    settle(lambda: window.workspace is not None and window.knowledge.model.rowCount() > 0)
    found = problems(window, size)
    for side in (window.show_review(), window.show_dashboard(), window.show_team()):
        side.resize(*size)
        settle(lambda: False, 0.5)
        found += problems(side, size)
    for line in found:
        print("PROBLEM", line)
    window.close()
    store.close()
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
