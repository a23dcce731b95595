"""A text browser for untrusted content: it never loads anything, local or remote."""

from __future__ import annotations

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QTextBrowser, QToolTip, QWidget

from agent_assist.links import link_warning


class SafeTextBrowser(QTextBrowser):
    """Shows sanitized HTML. Images, style sheets and links are never fetched;
    a clicked link is reported through :attr:`linkActivated` for the caller to decide.

    A link whose text names another site than the one it leads to (or that hides its address)
    shows a warning when the pointer rests on it, and :meth:`link_warning` gives the same
    sentence to whoever confirms a click."""

    linkActivated = Signal(QUrl)
    linkWarningShown = Signal(str)
    """The warning just shown for the link under the pointer."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self._link_texts: dict[str, list[str]] = {}
        self.anchorClicked.connect(self.linkActivated)
        self.highlighted.connect(self._hovered)

    def loadResource(self, type: int, name: QUrl):  # noqa: A002 - Qt's signature
        return None

    def setHtml(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setHtml(text)
        self._index_links()

    def _index_links(self) -> None:
        """href -> the texts shown for it, read from the document as it is displayed."""
        texts: dict[str, list[str]] = {}
        block = self.document().begin()
        while block.isValid():
            it = block.begin()
            current, parts = None, []
            while not it.atEnd():
                fragment = it.fragment()
                href = fragment.charFormat().anchorHref() if fragment.charFormat().isAnchor() else ""
                if href != current and current:
                    texts.setdefault(current, []).append("".join(parts))
                    parts = []
                current = href
                if href:
                    parts.append(fragment.text())
                it += 1
            if current:
                texts.setdefault(current, []).append("".join(parts))
            block = block.next()
        self._link_texts = {QUrl(href).toString(): shown for href, shown in texts.items()}

    def link_warning(self, url: QUrl) -> str | None:
        """Why the link to ``url`` in this document may not be what it seems; None when it looks honest."""
        href = url.toString()
        for shown in self._link_texts.get(href, [""]):
            warning = link_warning(href, shown)
            if warning:
                return warning
        return None

    def _hovered(self, url: QUrl) -> None:
        warning = self.link_warning(url) if not url.isEmpty() else None
        if warning:
            QToolTip.showText(QCursor.pos(), warning, self.viewport())
            self.linkWarningShown.emit(warning)
        else:
            QToolTip.hideText()
