"""The live queue: a lazily fetched table model over the store.

It keeps the rows loaded so far (a page at a time through
``canFetchMore``/``fetchMore``), sorts and filters in SQL, and on
:meth:`refresh` merges what changed in the database into the rows on screen
with row inserts/removes and a layout change, so the view keeps its selection.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QGuiApplication, QPalette

from agent_assist.store import Store
from agent_assist.store.tickets import AWAITING_APPROVAL, PRIORITIES, QueueFilter, QueueRow, queue_page, queue_total
from agent_assist.timefmt import humanize_delta, parse_iso, to_iso
from agent_assist.ui import theme

COLUMNS: tuple[tuple[str, str], ...] = (
    ("priority", "Priority"),
    ("sla", "SLA"),
    ("subject", "Subject"),
    ("flags", "Flags"),
    ("customer", "Customer"),
    ("language", "Lang"),
    ("status", "Status"),
    ("assignee", "Assignee"),
    ("updated", "Updated"),
)
TICKET_ID_ROLE = Qt.ItemDataRole.UserRole + 1
FLAGS_ROLE = Qt.ItemDataRole.UserRole + 2
FLAG_LABELS = {
    "financial_hardship": ("Hardship", "#6a1b9a"),
    "fraud": ("Fraud", "#c62828"),
    "dispute": ("Dispute", "#ad1457"),
    "complaint_legal": ("Complaint", "#e65100"),
    "vulnerability": ("Vulnerable", "#4527a0"),
    "repeat_contact": ("Repeat", "#37474f"),
    "prompt_injection": ("Injection", "#b71c1c"),
    "angry": ("Angry", "#bf360c"),
}
SLA_WARN_SECONDS = 3600


def status_label(status: str) -> str:
    """How the queue names a status: ``awaiting_approval`` reads "Awaiting approval"."""
    return "Awaiting approval" if status == AWAITING_APPROVAL else status.replace("_", " ").capitalize()

PRIORITY_COLORS = {0: QColor("#c62828"), 1: QColor("#ef6c00"), 2: QColor("#546e7a"), 3: QColor("#90a4ae")}
SLA_RED = QColor("#c62828")
SLA_AMBER = QColor("#b26a00")


_KEYS = tuple(k for k, _ in COLUMNS)
_DISPLAY, _FOREGROUND, _FONT, _TOOLTIP, _ACCESSIBLE, _BACKGROUND = (int(r) for r in (
    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.FontRole,
    Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.BackgroundRole))
_ROLES = frozenset({_DISPLAY, _FOREGROUND, _FONT, _TOOLTIP, _ACCESSIBLE, _BACKGROUND, int(TICKET_ID_ROLE),
                    int(FLAGS_ROLE)})
_PRIORITY_BRUSHES = {p: QBrush(c) for p, c in PRIORITY_COLORS.items()}
_SLA_RED_BRUSH, _SLA_AMBER_BRUSH = QBrush(SLA_RED), QBrush(SLA_AMBER)


_PRIORITY_TEXT = tuple(p.capitalize() for p in PRIORITIES)
_SLA_COLUMN = _KEYS.index("sla")
_N_COLUMNS = len(COLUMNS)
_NO_PARENT = QModelIndex()
_INDEXES_KEPT = 1_000  # rows whose cells' indexes the model keeps (a screenful is ~40; scrolled far: made anew)
_SLA_STATUSES = ("new", "open")  # the statuses whose SLA clock runs
_CELLS_KEPT = 2_000  # rows whose cell texts are kept beyond the loaded ones (scrolled past, filtered away)


def _epoch(iso: str) -> float:
    """Seconds since the epoch of a stored timestamp (naive means UTC), without building an aware datetime
    through :func:`parse_iso` and subtracting two of them."""
    try:
        dt = datetime.fromisoformat(iso)  # takes the stored "...Z" form as it is
    except ValueError:
        dt = parse_iso(iso)
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


_DAY_LABELS: dict[str, str] = {}


def _day_label(iso: str) -> str:
    """``25 Nov`` (the locale's month name): one strftime per calendar day seen, not one per cell."""
    if len(iso) == 20 and iso[10] == "T" and iso[19] == "Z":  # to_iso's form: the date is the UTC date
        label = _DAY_LABELS.get(iso[:10])
        if label is None:
            if len(_DAY_LABELS) > 4_096:
                _DAY_LABELS.clear()
            label = _DAY_LABELS[iso[:10]] = parse_iso(iso).strftime("%d %b")
        return label
    return parse_iso(iso).strftime("%d %b")


def _relative_secs(secs: float, iso: str) -> str:
    if secs < 60:
        return "just now"
    if secs < 3600:
        return f"{int(secs // 60)}m ago"
    if secs < 86400 * 2:
        return f"{int(secs // 3600)}h ago"
    return _day_label(iso)


HIGHLIGHT_ALPHA = 110  # of 255: the theme's own selection colour, faint enough to read any text over it


def highlight_color(progress: float) -> QColor:
    """The tint of a row that just arrived or changed, ``progress`` (0..1) into its fade: the palette's
    highlight colour made translucent, so it reads over light and dark themes' rows alike."""
    color = QColor(QGuiApplication.palette().color(QPalette.ColorRole.Highlight))
    color.setAlpha(max(0, round(HIGHLIGHT_ALPHA * (1.0 - progress))))
    return color


class QueueModel(QAbstractTableModel):
    PAGE = 200
    EXACT_COUNT_UP_TO = 1_000  # on a team server a larger number of matching tickets is the server's estimate
    HIGHLIGHT_MS = 4_000
    """How long a row that arrived or changed (a live refresh) stays tinted, fading out."""
    HIGHLIGHT_STEP_MS = 100
    CLOCK_SLACK_S = 30
    """A row that joins the loaded ones counts as arriving when it changed after the last look at the
    database less this much (other desks' clocks); older ones only moved up into the loaded page."""

    countChanged = Signal(int)
    """The number of tickets matching the filter (not just the loaded ones)."""
    refreshed = Signal()
    """Emitted after :meth:`refresh` merged changes from the database."""
    arrived = Signal(list)
    """Ticket ids that a live refresh brought into the queue (new, or newly matching the filter), not
    those of a load, a scroll, a sort or a filter change."""

    def __init__(self, store: Store, *, user: str, parent=None):
        super().__init__(parent)
        self._store = store
        self._user = user
        self._rows: list[QueueRow] = []
        self._index_of: dict[int, int] = {}
        self._exhausted = False
        self._filter = QueueFilter(user=user)
        self._sort = ("priority", False)
        self._total = 0
        self._total_exact = True
        self._now = datetime.now(UTC)
        self._now_ts = self._now.timestamp()
        self._indexes: list[list[QModelIndex]] = []  # row -> its cells' indexes (see index())
        self._cells: dict[int, tuple[QueueRow, tuple[str, ...], float | None]] = {}
        """ticket id -> (the row they were made from, its cells' texts, seconds to its SLA): what a view
        reads of a visible row at every paint, made once for each row as it is and the clock stood."""
        self._bold = QFont()
        self._bold.setBold(True)
        self._lit: dict[int, float] = {}  # ticket id -> when (monotonic) its row's highlight began
        self._since = ""  # rows that changed at or after this (ISO) arrive: see CLOCK_SLACK_S
        self._fade = QTimer(self)
        self._fade.setInterval(self.HIGHLIGHT_STEP_MS)
        self._fade.timeout.connect(self._fade_step)

    # -- configuration -------------------------------------------------------------
    @property
    def queue_filter(self) -> QueueFilter:
        return self._filter

    def set_filter(self, flt: QueueFilter) -> None:
        flt = replace(flt, user=self._user)
        if flt == self._filter:
            return
        self._filter = flt
        self._reload()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        key = (COLUMNS[column][0], order == Qt.SortOrder.DescendingOrder)
        if key == self._sort:
            return
        self._sort = key
        self._reload(recount=False)  # the same tickets in another order: the count stands

    @property
    def total(self) -> int:
        return self._total

    @property
    def total_exact(self) -> bool:
        """False when :attr:`total` is the team server's estimate (a large queue)."""
        return self._total_exact

    # -- loading ---------------------------------------------------------------------
    def _page(self, offset: int, limit: int) -> list[QueueRow]:
        sort, desc = self._sort
        return queue_page(self._store.db, self._filter, sort=sort, descending=desc, offset=offset, limit=limit)

    def _reindex(self) -> None:
        self._index_of = {r.id: i for i, r in enumerate(self._rows)}

    def _update_total(self) -> None:
        """The number of matching tickets: the loaded rows when they are all there (no query), else the
        store's count (on a team server an estimate when large: see :func:`queue_total`)."""
        if self._exhausted:
            self._total, self._total_exact = len(self._rows), True
        else:
            total, self._total_exact = queue_total(self._store.db, self._filter, exact_up_to=self.EXACT_COUNT_UP_TO)
            self._total = max(total, len(self._rows))
        self.countChanged.emit(self._total)

    def _reload(self, *, recount: bool = True) -> None:
        self.beginResetModel()
        self._rows = []
        self._index_of = {}
        self._cells.clear()
        self._lit.clear()  # another filter or order: what shows is not news
        self._fade.stop()
        self._exhausted = False
        self._since = self._look_time()
        self.endResetModel()
        self.fetchMore(QModelIndex())
        if recount or self._exhausted:
            self._update_total()

    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = _NO_PARENT) -> QModelIndex:
        # Qt's own index() asks hasIndex(), which calls rowCount() and columnCount() back into Python, and
        # PySide's createIndex() alone takes a couple of microseconds: for every cell of every paint. A
        # table's index is only its row and column (no internal pointer), the same value whatever the row
        # holds, so the first rows' indexes are made once for the model's life and handed out again.
        if not (0 <= row < len(self._rows) and 0 <= column < _N_COLUMNS) or (
                parent is not _NO_PARENT and parent.isValid()):
            return QModelIndex()
        made = self._indexes
        if row < len(made):
            return made[row][column]
        if row >= _INDEXES_KEPT:
            return self.createIndex(row, column)
        create = self.createIndex
        made.extend([create(r, c) for c in range(_N_COLUMNS)] for r in range(len(made), row + 1))
        return made[row][column]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _NO_PARENT) -> int:
        return 0 if parent.isValid() else _N_COLUMNS

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:
        if parent.isValid() or self._exhausted:
            return
        page = self._page(len(self._rows), self.PAGE)
        if len(page) < self.PAGE:
            self._exhausted = True
        if not page:
            if not self._total_exact:  # scrolled to the end: now the number is known
                self._update_total()
            return
        start = len(self._rows)
        self.beginInsertRows(QModelIndex(), start, start + len(page) - 1)
        self._rows.extend(page)
        for i, r in enumerate(page, start):
            self._index_of[r.id] = i
        self.endInsertRows()
        if self._exhausted and not self._total_exact:  # scrolled to the end: now the number is known
            self._update_total()

    def start(self) -> None:
        """Load the first page (call once after construction)."""
        self._reload()

    # -- live --------------------------------------------------------------------------
    def refresh(self) -> None:
        """Merge the database's current state into the loaded rows, keeping selection."""
        # everything was loaded: stay that way, so newcomers anywhere in the order show up
        limit = max(len(self._rows) + (self.PAGE if self._exhausted else 0), self.PAGE)
        since, self._since = self._since, self._look_time()
        fresh = self._page(0, limit)
        fresh_ids = {r.id for r in fresh}
        before = {r.id: r for r in self._rows}
        # 1. rows that left the filter go, in contiguous runs from the bottom up
        i = len(self._rows) - 1
        while i >= 0:
            if self._rows[i].id in fresh_ids:
                i -= 1
                continue
            last = i
            while i - 1 >= 0 and self._rows[i - 1].id not in fresh_ids:
                i -= 1
            self.beginRemoveRows(QModelIndex(), i, last)
            del self._rows[i:last + 1]
            self.endRemoveRows()
            i -= 1
        # 2. rows that joined are appended, then moved into place by the layout change
        known = {r.id for r in self._rows}
        added = [r for r in fresh if r.id not in known]
        if added:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(added) - 1)
            self._rows.extend(added)
            self.endInsertRows()
        # 3. the new order and contents (row count is now len(fresh))
        if self._rows != fresh:
            self.layoutAboutToBeChanged.emit()
            new_pos = {r.id: i for i, r in enumerate(fresh)}
            persistent = self.persistentIndexList()
            targets = [new_pos[self._rows[idx.row()].id] for idx in persistent]
            self._rows = fresh
            self.changePersistentIndexList(
                persistent, [self.index(row, idx.column()) for row, idx in zip(targets, persistent)]
            )
            self.layoutChanged.emit()
            self.dataChanged.emit(self.index(0, 0), self.index(len(fresh) - 1, len(COLUMNS) - 1))
        self._reindex()
        if len(self._cells) > len(fresh) + _CELLS_KEPT:
            self._cells.clear()
        self._exhausted = len(fresh) < limit
        arrived = [r.id for r in added if r.updated_at >= since]
        changed = [r.id for r in fresh if r.id in before and before[r.id] != r]
        self._highlight(arrived + changed)
        self._update_total()
        self.refreshed.emit()
        if arrived:
            self.arrived.emit(arrived)

    def tick(self) -> None:
        """Time passed: repaint the SLA countdowns."""
        self._now = datetime.now(UTC)
        self._now_ts = self._now.timestamp()
        self._cells.clear()  # the SLA countdowns and "5m ago" moved on
        if self._rows:
            col = _SLA_COLUMN
            self.dataChanged.emit(self.index(0, col), self.index(len(self._rows) - 1, col))

    # -- highlights of live changes -----------------------------------------------------
    def _look_time(self) -> str:
        return to_iso(datetime.now(UTC) - timedelta(seconds=self.CLOCK_SLACK_S))

    def _highlight(self, ticket_ids: list[int]) -> None:
        if not ticket_ids or self.HIGHLIGHT_MS <= 0:
            return
        now = time.monotonic()
        for tid in ticket_ids:
            self._lit[tid] = now
        self._repaint_lit(ticket_ids)
        self._fade.start()

    def highlighted(self, ticket_id: int) -> float | None:
        """How far (0..1) the ticket's row is into its highlight's fade; None when it is not highlighted."""
        began = self._lit.get(ticket_id)
        if began is None:
            return None
        progress = (time.monotonic() - began) * 1000 / self.HIGHLIGHT_MS
        return progress if progress < 1 else None

    def _fade_step(self) -> None:
        now = time.monotonic()
        ended = [tid for tid, began in self._lit.items() if (now - began) * 1000 >= self.HIGHLIGHT_MS]
        for tid in ended:
            del self._lit[tid]
        self._repaint_lit([*self._lit, *ended])
        if not self._lit:
            self._fade.stop()

    def _repaint_lit(self, ticket_ids) -> None:
        rows = sorted(r for r in (self._index_of.get(t, -1) for t in ticket_ids) if r >= 0)
        last_col = _N_COLUMNS - 1
        for r in rows:  # a few rows at a time: each on its own
            self.dataChanged.emit(self.index(r, 0), self.index(r, last_col), [Qt.ItemDataRole.BackgroundRole])

    # -- lookups -----------------------------------------------------------------------
    def ticket_id(self, row: int) -> int | None:
        return self._rows[row].id if 0 <= row < len(self._rows) else None

    def row_of(self, ticket_id: int) -> int:
        return self._index_of.get(ticket_id, -1)

    def row_data(self, row: int) -> QueueRow:
        return self._rows[row]

    # -- presentation ------------------------------------------------------------------
    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(COLUMNS):
            return COLUMNS[section][1]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        # a view asks for a dozen roles of every visible cell at each paint: plain ints compared, the
        # roles this model never answers turned away first, and a row's texts made once (_cells_of)
        role = int(role)
        if role not in _ROLES:
            return None
        r = index.row()  # -1 for an invalid index
        rows = self._rows
        if not 0 <= r < len(rows):
            return None
        row = rows[r]
        if role == _DISPLAY:
            hit = self._cells.get(row.id)
            if hit is None or hit[0] is not row:
                hit = self._cells_of(row)
            return hit[1][index.column()]
        if role == TICKET_ID_ROLE:
            return row.id
        if role == _BACKGROUND:
            if not self._lit:
                return None
            progress = self.highlighted(row.id)
            return None if progress is None else highlight_color(progress)
        if role == FLAGS_ROLE:
            return list(row.flags)
        key = _KEYS[index.column()]
        if role == _FOREGROUND:
            if key == "priority":
                return _PRIORITY_BRUSHES[row.priority]
            if key == "status":
                return _status_brush(AWAITING_APPROVAL if row.awaiting_approval else row.status)
            if key == "sla":
                secs = self._cells_of(row)[2]
                if secs is not None and secs < 0:
                    return _SLA_RED_BRUSH
                if secs is not None and secs < SLA_WARN_SECONDS:
                    return _SLA_AMBER_BRUSH
            return None
        if role == _FONT:
            if row.status == "new" or (key == "sla" and (self._cells_of(row)[2] or 1) < 0):
                return self._bold
            return None
        if role == _TOOLTIP:
            if key == "sla" and row.sla_due_at:
                due = row.sla_due_at.replace("T", " ").replace("Z", " UTC")
                secs = self._cells_of(row)[2]
                if secs is not None and secs < 0:
                    return f"Overdue by {humanize_delta(-secs)} (SLA was due {due})"
                return f"SLA due {due}"
            if key == "subject":
                tags = ", ".join(row.tags)
                return f"#{row.id} {row.subject}" + (f"\nTags: {tags}" if tags else "")
            return None
        if role == _ACCESSIBLE:
            cells = self._cells_of(row)
            if key == "sla" and cells[2] is not None and cells[2] < 0:
                return f"SLA: overdue by {humanize_delta(-cells[2])}"
            return f"{COLUMNS[index.column()][1]}: {cells[1][index.column()]}"
        return None

    def _cells_of(self, row: QueueRow) -> tuple[QueueRow, tuple[str, ...], float | None]:
        """The texts of a row's cells and its SLA seconds, made at the first read of the row and kept
        while the row is unchanged (a refresh that brings it back equal keeps them) and the clock has
        not ticked."""
        hit = self._cells.get(row.id)
        if hit is not None and (hit[0] is row or hit[0] == row):
            return hit
        now = self._now_ts
        sla = None
        if row.sla_due_at and row.status in _SLA_STATUSES:
            sla = _epoch(row.sla_due_at) - now
        if sla is None:
            sla_text = "—"
        else:
            sla_text = f"−{humanize_delta(-sla)}" if sla < 0 else humanize_delta(sla)
        flags = row.flags
        texts = (
            _PRIORITY_TEXT[row.priority],
            sla_text,
            row.subject,
            ", ".join(FLAG_LABELS.get(f, (f, ""))[0] for f in flags) if flags else "",
            row.customer,
            row.language.upper(),
            _status_text(AWAITING_APPROVAL if row.awaiting_approval else row.status),
            row.assignee or "—",
            _relative_secs(now - _epoch(row.updated_at), row.updated_at),
        )
        hit = self._cells[row.id] = (row, texts, sla)
        return hit


_STATUS_TEXTS: dict[str, str] = {}


_STATUS_BRUSHES: dict[tuple[str, bool], QBrush | None] = {}


def _status_brush(status: str) -> QBrush | None:
    """The state's colour for the palette in use (theme.STATUS), one brush per state and palette."""
    dark = theme.is_dark()
    key = (status, dark)
    if key not in _STATUS_BRUSHES:
        pair = theme.STATUS.get(status)
        _STATUS_BRUSHES[key] = QBrush(QColor(pair[1] if dark else pair[0])) if pair else None
    return _STATUS_BRUSHES[key]


def _status_text(status: str) -> str:
    text = _STATUS_TEXTS.get(status)
    if text is None:
        text = _STATUS_TEXTS[status] = status_label(status)
    return text
