"""Paints a ticket's triage flags as small coloured chips in the queue."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from agent_assist.ui.item_paint import paint_item_frame
from agent_assist.ui.queue_model import FLAG_LABELS, FLAGS_ROLE

PAD_X, GAP = 5, 3


class FlagChipDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        opt = paint_item_frame(self, painter, option, index)
        flags = index.data(FLAGS_ROLE) or []
        if not flags:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = opt.font
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        metrics = QFontMetrics(font)
        x = opt.rect.x() + 2
        height = metrics.height() + 2
        y = opt.rect.y() + (opt.rect.height() - height) / 2
        for flag in flags:
            label, color = FLAG_LABELS.get(flag, (flag, "#546e7a"))
            width = metrics.horizontalAdvance(label) + 2 * PAD_X
            if x + width > opt.rect.right():
                painter.setPen(opt.palette.text().color())
                painter.drawText(QRectF(x, y, 16, height), Qt.AlignmentFlag.AlignCenter, "…")
                break
            rect = QRectF(x, y, width, height)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(color))
            painter.drawRoundedRect(rect, height / 2, height / 2)
            painter.setPen(QColor("white"))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
            x += width + GAP
        painter.restore()

    def sizeHint(self, option, index) -> QSize:
        base = super().sizeHint(option, index)
        return QSize(max(base.width(), 60), base.height())
