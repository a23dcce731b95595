"""Knowledge snippets: suggestions for the open ticket, search-as-you-type, the article
viewer, and inserting a snippet (with its citation) into the reply."""

from __future__ import annotations

import html

from PySide6.QtCore import QAbstractListModel, QEvent, QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPalette, QTextDocument
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QVBoxLayout,
    QWidget,
)

from agent_assist.assist.similar_tickets import SolvedExample, article_draft
from agent_assist.knowledge.articles import Article
from agent_assist.knowledge.search import SearchHit, query_note
from agent_assist.sanitize import sanitize_html, text_to_html
from agent_assist.ui.item_paint import paint_item_frame
from agent_assist.ui.safe_browser import SafeTextBrowser

HTML_ROLE = Qt.ItemDataRole.UserRole + 10
HIT_ROLE = Qt.ItemDataRole.UserRole + 11
DEBOUNCE_MS = 150
ARTICLE_SETTLE_MS = 250


class HitListModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._hits: list[SearchHit] = []

    def set_hits(self, hits: list[SearchHit]) -> None:
        self.beginResetModel()
        self._hits = list(hits)
        self.endResetModel()

    def hits(self) -> list[SearchHit]:
        return list(self._hits)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._hits)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._hits):
            return None
        hit = self._hits[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{hit.title} — {hit.snippet_terminal('', '')}"
        if role == HTML_ROLE:
            meta = " · ".join(html.escape(x) for x in (hit.section, (hit.locale or "").upper(), f"KB-{hit.article_id}") if x)
            return (f"<b>{html.escape(hit.title)}</b> <span class='meta'>{meta}</span><br>"
                    f"<span>{hit.snippet_html()}</span>")
        if role == HIT_ROLE:
            return hit
        return None


class SolvedListModel(QAbstractListModel):
    """Solved tickets like this one, with the reply that was sent (assist.similar_tickets)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._examples: list[SolvedExample] = []

    def set_examples(self, examples: list[SolvedExample]) -> None:
        self.beginResetModel()
        self._examples = list(examples)
        self.endResetModel()

    def examples(self) -> list[SolvedExample]:
        return list(self._examples)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._examples)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._examples):
            return None
        ex = self._examples[index.row()]
        reply = " ".join(ex.reply.split())
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"Ticket {ex.ticket_id}: {ex.subject} — answered: {reply[:200]}"
        if role == HTML_ROLE:
            meta = " · ".join(x for x in ((ex.language or "").upper(), f"#{ex.ticket_id}", (ex.sent_at or "")[:10],
                                          f"{round(ex.score * 100)} % alike") if x)
            return (f"<b>{html.escape(ex.subject)}</b> <span class='meta'>{html.escape(meta)}</span><br>"
                    f"<span>{html.escape(reply[:300])}</span>")
        if role == Qt.ItemDataRole.ToolTipRole:
            return ex.reply[:1500]
        if role == HIT_ROLE:
            return ex
        return None


def mix(a: QColor, b: QColor, weight: float) -> QColor:
    """``weight`` of colour ``a`` over ``b``: a secondary text colour that follows the theme."""
    return QColor.fromRgbF(*(x * weight + y * (1 - weight) for x, y in zip(a.getRgbF()[:3], b.getRgbF()[:3])))


def whole_lines_height(doc: QTextDocument, height: int) -> int:
    """The height, at most ``height``, that ends under the last line of ``doc`` that fits whole."""
    layout = doc.documentLayout()
    bottom = 0
    block = doc.begin()
    while block.isValid():
        top = layout.blockBoundingRect(block).top()
        lines = block.layout()
        for i in range(lines.lineCount()):
            line = lines.lineAt(i)
            line_bottom = top + line.y() + line.height()
            if line_bottom > height:
                return int(bottom) or height
            bottom = line_bottom
        block = block.next()
    return height


class HtmlDelegate(QStyledItemDelegate):
    """Paints an item's ``HTML_ROLE`` text (bold matches) instead of plain text.

    Every row has the same height (a title line and three snippet lines), so the view
    never lays out documents just to measure them; laid-out documents are cached per
    row text and width, so scrolling and repaints reuse them.
    """

    LINES = 4
    CACHE = 256

    def __init__(self, parent=None):
        super().__init__(parent)
        self._docs: dict[tuple[str, int, str], QTextDocument] = {}

    def _doc(self, html_text: str, width: int, font, color: str, meta: str) -> QTextDocument:
        key = (html_text, width, color, meta)
        doc = self._docs.get(key)
        if doc is None:
            if len(self._docs) >= self.CACHE:
                self._docs.clear()
            doc = QTextDocument()
            doc.setDefaultFont(font)
            doc.setDefaultStyleSheet(f"body {{ color: {color}; }} .meta {{ color: {meta}; }}")
            doc.setHtml(html_text)
            doc.setTextWidth(width)
            self._docs[key] = doc
        return doc

    def paint(self, painter, option, index) -> None:
        opt = paint_item_frame(self, painter, option, index)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        text = opt.palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        ground = opt.palette.color(QPalette.ColorRole.Highlight if selected else QPalette.ColorRole.Base)
        doc = self._doc(index.data(HTML_ROLE) or "", max(opt.rect.width(), 150), opt.font, text.name(),
                        mix(text, ground, 0.7 if selected else 0.6).name())  # quieter, and readable on the selection
        height = whole_lines_height(doc, opt.rect.height())  # a line that does not fit is left out, not cut through
        painter.save()
        painter.translate(opt.rect.topLeft())
        painter.setClipRect(0, 0, opt.rect.width(), height)
        doc.drawContents(painter, QRectF(0, 0, opt.rect.width(), height))
        painter.restore()

    def sizeHint(self, option, index) -> QSize:
        width = option.widget.viewport().width() if option.widget else 300
        return QSize(width, self.row_height(option.font))

    @classmethod
    def row_height(cls, font: QFont) -> int:
        """A bold title line and ``LINES - 1`` lines of text, with the document's margins."""
        bold = QFont(font)
        bold.setBold(True)
        margin = 2 * 4  # QTextDocument's own margin, above and below
        return QFontMetrics(bold).lineSpacing() + QFontMetrics(font).lineSpacing() * (cls.LINES - 1) + margin + 2


class KnowledgePanel(QWidget):
    searchRequested = Signal(str, object, object)  # query, locale or None, section or None
    """The query changed (debounced): the owner runs the search and calls :meth:`show_results`."""
    articleRequested = Signal(int)
    """The owner loads the article and calls :meth:`show_article`."""
    insertRequested = Signal(str)
    """Text to insert into the reply: the chosen paragraph and its citation."""
    proposeRequested = Signal(object)
    """A solved ticket's answer to propose as an article (a ``SolvedExample``)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.search_box = QLineEdit()
        self.search_box.setObjectName("kbSearch")
        self.search_box.setAccessibleName("Search knowledge")
        self.search_box.setPlaceholderText("Search knowledge  (Ctrl+K)")
        self.search_box.setClearButtonEnabled(True)
        self.locale = QComboBox()
        self.locale.setAccessibleName("Article language")
        self.section = QComboBox()
        self.section.setAccessibleName("Article section")
        self.set_filter_choices([], [])
        for combo in (self.locale, self.section):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
            combo.currentIndexChanged.connect(lambda _i: self._debounce.start())
        self.sync_status = QLabel()  # a team desk's copy of the knowledge base: how fresh (ui/knowledge_sync.py)
        self.sync_status.setObjectName("kbSyncStatus")
        self.sync_status.setAccessibleName("Knowledge sync")
        self.sync_status.setWordWrap(True)
        self.sync_status.setStyleSheet("color: gray")
        self.sync_status.hide()
        self.heading = QLabel("<b>Suggested for this ticket</b>")
        self.heading.setObjectName("kbHeading")
        self.heading.setWordWrap(True)
        self.model = HitListModel(self)
        self.results = QListView()
        self.results.setObjectName("kbResults")
        self.results.setAccessibleName("Knowledge results")
        self.results.setModel(self.model)
        self.results.setItemDelegate(HtmlDelegate(self.results))
        self.results.setWordWrap(True)
        self.results.setUniformItemSizes(True)
        self.results.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.solved_heading = QLabel("<b>How we answered this before</b>")
        self.solved_heading.setObjectName("kbSolvedHeading")
        self.solved_model = SolvedListModel(self)
        self.solved = QListView()
        self.solved.setObjectName("kbSolved")
        self.solved.setAccessibleName("Similar solved tickets")
        self.solved.setModel(self.solved_model)
        self.solved.setItemDelegate(HtmlDelegate(self.solved))
        self.solved.setWordWrap(True)
        self.solved.setUniformItemSizes(True)
        self.solved.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.solved.setMaximumHeight(0)  # sized to its rows in set_solved
        self.solved_heading.hide()
        self.solved.hide()
        self.viewer = SafeTextBrowser()
        self.viewer.setObjectName("kbViewer")
        self.viewer.setAccessibleName("Article")
        self.insert_button = QPushButton("Insert  (Ctrl+I)")
        self.insert_button.setObjectName("kbInsert")
        self.insert_button.setAccessibleName("Insert snippet into reply")
        self.insert_button.setToolTip("Insert the selected paragraph (or the article's answer) with its citation")
        self.insert_button.setEnabled(False)
        self.insert_button.clicked.connect(self.request_insert)
        self.propose_button = QPushButton("Propose as article…")
        self.propose_button.setObjectName("kbPropose")
        self.propose_button.setAccessibleName("Propose as article")
        self.propose_button.setToolTip("Turn this answer into an article draft for a supervisor to publish")
        self.propose_button.hide()
        self.propose_button.clicked.connect(lambda: self.example is not None and self.proposeRequested.emit(self.example))

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._emit_search)
        self._article_timer = QTimer(self)
        self._article_timer.setSingleShot(True)
        self._article_timer.timeout.connect(self._emit_article)
        self.search_box.textChanged.connect(lambda _t: self._debounce.start())
        self.search_box.returnPressed.connect(self._focus_results)
        self.results.selectionModel().currentChanged.connect(self._on_current)
        self.results.activated.connect(lambda _i: self.request_insert())
        self.solved.clicked.connect(self._show_solved)
        self.solved.activated.connect(self._show_solved)
        self.search_box.installEventFilter(self)

        self._suggestions: list[SearchHit] = []
        self.article: Article | None = None
        self.example: SolvedExample | None = None  # a solved ticket shown in the viewer
        self._cursor_placed = False
        self.viewer.cursorPositionChanged.connect(self._on_viewer_cursor)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.search_box)
        filters = QHBoxLayout()
        filters.addWidget(self.locale, 1)
        filters.addWidget(self.section, 1)
        top_layout.addLayout(filters)
        top_layout.addWidget(self.sync_status)
        top_layout.addWidget(self.heading)
        top_layout.addWidget(self.results, 1)
        top_layout.addWidget(self.solved_heading)
        top_layout.addWidget(self.solved)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.viewer, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.propose_button)
        row.addWidget(self.insert_button)
        bottom_layout.addLayout(row)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("kbSplitter")
        self.splitter.addWidget(top)
        self.splitter.addWidget(bottom)
        self.splitter.setSizes([300, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.search_box and event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Down:
            self._focus_results()
            return True
        return super().eventFilter(obj, event)

    # -- search --------------------------------------------------------------------------
    def set_filter_choices(self, locales: list[str], sections: list[str]) -> None:
        """The languages and sections the knowledge base has (refreshed after imports)."""
        for combo, label, values, fmt in ((self.locale, "Any language", locales, str.upper),
                                          (self.section, "Any section", sections, str)):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(label, None)
            for v in values:
                combo.addItem(fmt(v), v)
            combo.setCurrentIndex(max(0, combo.findData(current)))
            combo.blockSignals(False)

    def set_sync_status(self, text: str) -> None:
        """How fresh this desk's copy of the knowledge base is; hidden when there is none (empty text)."""
        self.sync_status.setText(text)
        self.sync_status.setVisible(bool(text))

    def query(self) -> str:
        return self.search_box.text().strip()

    def focus_search(self) -> None:
        self.search_box.setFocus()
        self.search_box.selectAll()

    def _emit_search(self) -> None:
        q = self.query()
        if not q:
            self.heading.setText("<b>Suggested for this ticket</b>")
            self._show(self._suggestions)
        else:
            self.searchRequested.emit(q, self.locale.currentData(), self.section.currentData())

    def _focus_results(self) -> None:
        if self.model.rowCount():
            self.results.setFocus()
            if not self.results.currentIndex().isValid():
                self.results.setCurrentIndex(self.model.index(0, 0))

    def set_suggestions(self, hits: list[SearchHit]) -> None:
        self._suggestions = list(hits)
        if not self.query():
            self.heading.setText("<b>Suggested for this ticket</b>" if hits else
                                 "<b>No suggestions</b> — search the knowledge base above")
            self._show(hits)

    def set_solved(self, examples: list[SolvedExample]) -> None:
        """Solved tickets like the open one (hidden when there are none)."""
        self.solved_model.set_examples(examples)
        shown = bool(examples)
        self.solved_heading.setVisible(shown)
        self.solved.setVisible(shown)
        rows = min(len(examples), 3)
        height = HtmlDelegate.row_height(self.solved.font())
        self.solved.setMaximumHeight(rows * height + 2 * self.solved.frameWidth())
        self.solved.setMinimumHeight(self.solved.maximumHeight() if shown else 0)

    def _show_solved(self, index: QModelIndex) -> None:
        example = index.data(HIT_ROLE)
        if example is None:
            return
        self.article = None
        self.example = example
        self._cursor_placed = False
        meta = " · ".join(x for x in ((example.language or "").upper(), f"ticket #{example.ticket_id}",
                                      f"reply sent {(example.sent_at or '')[:10]}") if x)
        self.viewer.setHtml(f"<h3>{html.escape(example.subject)}</h3><p style='color:gray'>{html.escape(meta)}</p>"
                            f"<h4>The customer wrote</h4>{text_to_html(example.question[:3000])}"
                            f"<h4>We answered</h4>{text_to_html(example.reply)}")
        self.insert_button.setEnabled(True)
        self.propose_button.show()

    def show_results(self, query: str, hits: list[SearchHit]) -> None:
        if query != self.query():
            return  # the person typed on; a newer search is coming
        shown = query if len(query) <= 80 else query[:79].rstrip() + "…"  # a pasted page is not a heading
        note = query_note(query)
        self.heading.setText((f"<b>{len(hits)} result{'s' if len(hits) != 1 else ''}</b> for “{html.escape(shown)}”"
                              if hits else f"<b>Nothing found</b> for “{html.escape(shown)}”")
                             + (f"<br><i>{html.escape(note)}</i>" if note else ""))
        self._show(hits)

    def _show(self, hits: list[SearchHit]) -> None:
        self.model.set_hits(hits)
        if hits:
            self.results.setCurrentIndex(self.model.index(0, 0))
        else:
            self.viewer.clear()
            self.article = None
            self.insert_button.setEnabled(False)

    def current_hit(self) -> SearchHit | None:
        idx = self.results.currentIndex()
        return idx.data(HIT_ROLE) if idx.isValid() else None

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        # while the agent types, result lists come and go: open the article once they settle
        # (at once when the agent is moving through the results with the keyboard)
        self._article_timer.start(0 if self.results.hasFocus() else ARTICLE_SETTLE_MS)

    def _emit_article(self) -> None:
        hit = self.current_hit()
        if hit is not None:
            self.articleRequested.emit(hit.article_id)

    # -- article -------------------------------------------------------------------------
    def show_article(self, article: Article, highlight: str = "") -> None:
        self.article = article
        self.example = None
        self.propose_button.hide()
        self._cursor_placed = False
        meta = " · ".join(html.escape(x) for x in (article.section, (article.locale or "").upper(), f"KB-{article.id}") if x)
        body = sanitize_html(article.body_html) if article.body_html else text_to_html(article.body)
        self.viewer.setHtml(f"<h3>{html.escape(article.title)}</h3><p style='color:gray'>{meta}</p>" + body)
        self.insert_button.setEnabled(True)

    def _on_viewer_cursor(self) -> None:
        self._cursor_placed = self.viewer.hasFocus()

    def selected_paragraph(self) -> str:
        """The paragraph under the viewer's selection or cursor; the answer paragraph otherwise."""
        if self.article is None and self.example is None:
            return ""
        cursor = self.viewer.textCursor()
        if cursor.hasSelection():
            text = cursor.selectedText().replace("\u2029", "\n").strip()
            if text:
                return text
        if self._cursor_placed and cursor.block().text().strip() and cursor.blockNumber() > 1:
            return cursor.block().text().strip()  # the paragraph the agent clicked into
        if self.article is None:
            return article_draft(self.example)["body"]  # the reply sent, less its greeting and sign-off
        return self.article.answer()

    def request_insert(self) -> None:
        text = self.selected_paragraph()
        if text and self.article is not None:
            self.insertRequested.emit(f"{text} {self.article.citation}")
        elif text and self.example is not None:  # a past reply's words: no article to cite
            self.insertRequested.emit(text)
