"""A text browser for untrusted content: it never loads anything, local or remote."""

from __future__ import annotations

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QTextBrowser, QWidget


class SafeTextBrowser(QTextBrowser):
    """Shows sanitized HTML. Images, style sheets and links are never fetched;
    a clicked link is reported through :attr:`linkActivated` for the caller to decide."""

    linkActivated = Signal(QUrl)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self.linkActivated)

    def loadResource(self, type: int, name: QUrl):  # noqa: A002 - Qt's signature
        return None
