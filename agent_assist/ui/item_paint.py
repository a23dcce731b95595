"""Shared by the delegates that paint their own item content."""

from __future__ import annotations

from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem


def paint_item_frame(delegate: QStyledItemDelegate, painter: QPainter, option: QStyleOptionViewItem,
                     index) -> QStyleOptionViewItem:
    """Draw the item's background, selection and focus as the style does, without its text; returns
    the initialised option for the caller to paint the content into."""
    opt = QStyleOptionViewItem(option)
    delegate.initStyleOption(opt, index)
    opt.text = ""
    style = opt.widget.style() if opt.widget else None
    if style:
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
    return opt
