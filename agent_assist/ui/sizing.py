"""Sizes from the font, not from pixels typed in: what keeps the window whole from 1280×720 to 4K and 200 %.

:class:`ContentColumns` sizes a table's columns by what they hold (the header's text and sort arrow,
the widest sample value), lets one column take the rest, and hides the least needed columns while the
pane is too narrow for them, so no header is cut; a cell the view had to elide shows its whole text as
a tooltip. :class:`ReflowRow` is a row of buttons that moves its right-hand group onto a second line
when the pane is too narrow for one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import shiboken6
from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QHeaderView,
    QLayout,
    QSizePolicy,
    QStyle,
    QTableView,
    QToolTip,
    QWidget,
)


def text_margin(widget: QWidget) -> int:
    """The room an item view leaves around a cell's text (both sides), as the style paints it."""
    return 2 * (widget.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) + 1)


class ContentColumns(QObject):
    """Columns as wide as their content; ``fill`` takes what is left (at least ``fill_chars`` characters).

    ``samples`` maps a column to the texts it can show (its widest sets the width) or to a number of
    average characters (for names and the like, elided beyond that), measured in bold unless the
    column is in ``regular``. Columns in ``drop_order`` are
    hidden, first to last, while the view is too narrow to show them beside the ``fill`` column, and
    come back when it widens. A person may widen a column; none gets narrower than its header needs.
    """

    def __init__(self, view: QTableView, samples: Mapping[int, Sequence[str] | int], *, fill: int,
                 fill_chars: int = 24, drop_order: Sequence[int] = (), regular: Sequence[int] = ()):
        super().__init__(view)
        self.view = view
        self.fill = fill
        self.drop_order = tuple(drop_order)
        self._samples = dict(samples)
        self._fill_chars = fill_chars
        self._regular = set(regular)
        self._fitting = False
        header = view.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.needs: dict[int, int] = {}
        self.measure()
        header.sectionResized.connect(self._on_section_resized)
        self._viewport = view.viewport()
        self._viewport.installEventFilter(self)

    # -- widths ------------------------------------------------------------------------------
    def measure(self) -> None:
        """Work out each column's width from the current font (call again after a font change)."""
        header = self.view.horizontalHeader()
        bold = QFont(self.view.font())
        bold.setBold(True)  # a new ticket's row is bold: its text is the widest
        metrics = QFontMetrics(bold)
        plain = QFontMetrics(self.view.font())
        margin = text_margin(self.view)
        self.needs = {}
        for column in range(header.count()):
            needs = header.sectionSizeFromContents(column).width()  # the header's text and its sort arrow
            sample = self._samples.get(column)
            fm = plain if column in self._regular else metrics
            if isinstance(sample, int):
                needs = max(needs, sample * fm.averageCharWidth() + margin)
            elif sample:
                needs = max(needs, max(fm.horizontalAdvance(s) for s in sample) + margin)
            self.needs[column] = needs
        self.fill_min = max(self.needs.get(self.fill, 0), self._fill_chars * metrics.averageCharWidth() + margin)
        self._fitting = True
        try:
            for column, needs in self.needs.items():
                if column != self.fill:
                    header.resizeSection(column, needs)
        finally:
            self._fitting = False
        self.fit()

    def minimum_width(self) -> int:
        """The narrowest the view can be with every column that is never hidden shown whole."""
        kept = sum(w for c, w in self.needs.items() if c != self.fill and c not in self.drop_order)
        return kept + self.fill_min

    def fit(self) -> None:
        """Hide or show the optional columns for the view's width; the fill column takes the rest."""
        if self._fitting:
            return
        self._fitting = True
        try:
            header = self.view.horizontalHeader()
            width = self.view.viewport().width()
            for column, needs in self.needs.items():  # a state saved by an older layout may be narrower
                if column != self.fill and header.sectionSize(column) < needs:
                    header.resizeSection(column, needs)

            def used() -> int:
                return sum(header.sectionSize(c) for c in range(header.count())
                           if c != self.fill and not header.isSectionHidden(c))

            for column in self.drop_order:  # the least needed go first
                if width - used() >= self.fill_min:
                    break
                header.setSectionHidden(column, True)
            for column in reversed(self.drop_order):  # and come back, most needed first, when there is room
                if not header.isSectionHidden(column):
                    continue
                if width - used() - self.needs[column] < self.fill_min:  # a hidden section's size reads 0
                    break
                header.setSectionHidden(column, False)
                header.resizeSection(column, self.needs[column])
            header.resizeSection(self.fill, max(self.fill_min, width - used()))
        finally:
            self._fitting = False

    def _on_section_resized(self, column: int, _old: int, _new: int) -> None:
        if column != self.fill:
            self.fit()

    # -- events ------------------------------------------------------------------------------
    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if obj is self._viewport and shiboken6.isValid(self.view):  # not while the view is being destroyed
            if event.type() == QEvent.Type.Resize:
                self.fit()
            elif event.type() == QEvent.Type.ToolTip and self._elided_tooltip(event):
                return True
        return super().eventFilter(obj, event)

    def _elided_tooltip(self, event) -> bool:
        """A cell whose text the view had to shorten shows it whole (unless the model has a tooltip)."""
        index = self.view.indexAt(event.pos())
        if not index.isValid() or index.data(Qt.ItemDataRole.ToolTipRole):
            return False
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if not isinstance(text, str) or not text:
            return False
        font = index.data(Qt.ItemDataRole.FontRole) or self.view.font()
        rect = self.view.visualRect(index)
        if QFontMetrics(font).horizontalAdvance(text) + text_margin(self.view) <= rect.width():
            return False
        QToolTip.showText(event.globalPos(), text, self.view.viewport(), rect)
        return True


class ReflowRow(QWidget):
    """Two groups of widgets on one line (``left`` at the left, ``right`` at the right), or, when the
    row is too narrow for both, ``right`` on a second line under ``left``: buttons are never squeezed
    below the width of their text."""

    def __init__(self, left: Sequence[QWidget], right: Sequence[QWidget], parent: QWidget | None = None):
        super().__init__(parent)
        self.left = QHBoxLayout()
        self.right = QHBoxLayout()
        for widget in left:
            self.left.addWidget(widget)
        self.left.addStretch(1)
        self.right.addStretch(1)
        for widget in right:
            self.right.addWidget(widget)
        self.box = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.addLayout(self.left, 1)
        self.box.addLayout(self.right, 1)
        self.box.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)  # our minimum is the two-line one
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)  # as tall as its lines

    def _one_line_width(self) -> int:
        return self.left.sizeHint().width() + self.box.spacing() + self.right.sizeHint().width()

    def _heights(self) -> tuple[int, int]:
        one = max(self.left.sizeHint().height(), self.right.sizeHint().height())
        two = self.left.sizeHint().height() + self.box.spacing() + self.right.sizeHint().height()
        return one, two

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        one, two = self._heights()
        return QSize(max(self.left.minimumSize().width(), self.right.minimumSize().width()),
                     one if self.is_one_line() else two)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        one, two = self._heights()
        return QSize(self._one_line_width(), one if self.is_one_line() else two)

    def is_one_line(self) -> bool:
        return self.box.direction() == QBoxLayout.Direction.LeftToRight

    def _reflow(self, width: int) -> None:
        one_line = width >= self._one_line_width()
        if one_line != self.is_one_line():
            self.box.setDirection(QBoxLayout.Direction.LeftToRight if one_line else QBoxLayout.Direction.TopToBottom)
            self.updateGeometry()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._reflow(event.size().width())
        super().resizeEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # a button was shown, hidden or renamed
            self._reflow(self.width())
        return super().event(event)
