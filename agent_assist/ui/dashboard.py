"""The quality dashboard: how much agents change the assistant's drafts, day by day and per person.

Four line charts (share sent as-is, mean edit distance, time to send, escalation
rate per UTC day), a table per agent, topic or language, filters, a banner when
the last week drifted from the four weeks before, and CSV export. The figures come
from :mod:`agent_assist.store.quality`, computed off the GUI thread.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCharts import QChart, QChartView, QDateTimeAxis, QLineSeries, QValueAxis
from PySide6.QtCore import QAbstractTableModel, QDateTime, QMargins, QModelIndex, QPersistentModelIndex, QPointF, Qt, \
    Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from agent_assist.store import Store, feedback, quality
from agent_assist.store.quality import Dashboard, QualityRow
from agent_assist.timefmt import humanize_delta, utcnow
from agent_assist.ui.tasks import TaskManager

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
NONE_TEXT = "—"
GROUPS = (("agent", "Agent"), ("topic", "Topic"), ("language", "Language"))
PERIOD_LABELS = {7: "Last 7 days", 28: "Last 28 days", 90: "Last 90 days", 365: "Last 365 days"}
_DAY_MS = 86_400_000


def _pct(value: float | None) -> str:
    return NONE_TEXT if value is None else f"{value:.0%}"


def _dist(value: float | None) -> str:
    return NONE_TEXT if value is None else f"{value:.3f}"


def _dur(value: float | None) -> str:
    return NONE_TEXT if value is None else humanize_delta(value)


# -- the table -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Column:
    title: str
    value: Callable[[QualityRow], object]
    text: Callable[[QualityRow], str]
    numeric: bool = True
    tip: str = ""


_METRIC_COLUMNS = (
    _Column("Sent", lambda r: r.sent, lambda r: f"{r.sent:,}", tip="Replies sent"),
    _Column("Sent as-is", lambda r: r.share_as_is, lambda r: _pct(r.share_as_is),
            tip="Share of replies sent exactly as the assistant drafted them"),
    _Column("Edit distance", lambda r: r.mean_distance, lambda r: _dist(r.mean_distance),
            tip="Mean share of characters changed (0 = none, 1 = all)"),
    _Column("Time to send", lambda r: r.mean_seconds_to_send, lambda r: _dur(r.mean_seconds_to_send),
            tip="Mean time from the first draft to the send"),
    _Column("Escalated", lambda r: r.escalation_rate, lambda r: _pct(r.escalation_rate),
            tip="Share of replies that went past a supervisor or belong to an escalated ticket"),
)


def _key_column(name: str, title: str) -> _Column:
    return _Column(title, lambda r: getattr(r, name) or "", lambda r: getattr(r, name) or NONE_TEXT, numeric=False)


class QualityTableModel(QAbstractTableModel):
    """Rows of :class:`QualityRow`, one per agent/topic/language, sortable by any column."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[QualityRow] = []
        self._columns: list[_Column] = [_key_column("agent", "Agent"), *_METRIC_COLUMNS]
        self._sort: tuple[int, Qt.SortOrder] | None = None

    def set_rows(self, rows: list[QualityRow], group_by: tuple[str, ...] = ("agent",)) -> None:
        titles = dict(GROUPS)
        self.beginResetModel()
        self._columns = [*(_key_column(g, titles[g]) for g in group_by), *_METRIC_COLUMNS]
        self._rows = list(rows)
        if self._sort is not None and self._sort[0] < len(self._columns):
            self._apply_sort(*self._sort)
        self.endResetModel()

    def row_at(self, row: int) -> QualityRow:
        return self._rows[row]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._columns[section].title
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._columns[section].tip or None
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self._rows)) or \
                not (0 <= index.column() < len(self._columns)):
            return None
        col = self._columns[index.column()]
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.text(row)
        if role == SORT_ROLE:
            return col.value(row)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            align = Qt.AlignmentFlag.AlignRight if col.numeric else Qt.AlignmentFlag.AlignLeft
            return int(align | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _apply_sort(self, column: int, order: Qt.SortOrder) -> None:
        col = self._columns[column]
        present = [r for r in self._rows if col.value(r) is not None]
        absent = [r for r in self._rows if col.value(r) is None]
        present.sort(key=lambda r: (col.value(r), r.agent or "", r.topic or "", r.language or ""),
                     reverse=order == Qt.SortOrder.DescendingOrder)
        self._rows = present + absent  # rows without a figure stay at the bottom either way

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self._columns):
            return
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        self._apply_sort(column, order)
        self.layoutChanged.emit()


# -- the charts ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Metric:
    key: str
    title: str
    axis_title: str
    value: Callable[[QualityRow], float | None]
    fixed_max: float | None  # None: fit to the data


METRICS = (
    _Metric("share_as_is", "Sent as-is", "% of replies", lambda r: None if r.share_as_is is None
            else r.share_as_is * 100, 100.0),
    _Metric("mean_distance", "Edit distance", "mean, 0–1", lambda r: r.mean_distance, None),
    _Metric("time_to_send", "Time to send", "minutes", lambda r: None if r.mean_seconds_to_send is None
            else r.mean_seconds_to_send / 60, None),
    _Metric("escalation_rate", "Escalation rate", "% of replies", lambda r: None if r.escalation_rate is None
            else r.escalation_rate * 100, None),
)


def _noon_ms(day: str) -> float:
    """A day's point sits at 12:00 UTC, so labels show the right date in any time zone within ±11 h."""
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC).timestamp() * 1000


class MetricChart(QChartView):
    """One metric as a line over the days of the period."""

    def __init__(self, metric: _Metric, parent: QWidget | None = None):
        self.chart_ = QChart()
        super().__init__(self.chart_, parent)
        self.metric = metric
        self.setObjectName(f"chart_{metric.key}")
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(170)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName(f"{metric.title} per day")
        chart = self.chart_
        chart.setTitle(metric.title)
        chart.legend().hide()
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.setBackgroundRoundness(0)
        self.series = QLineSeries()
        self.series.setName(metric.title)
        chart.addSeries(self.series)
        self.x_axis = QDateTimeAxis()
        self.x_axis.setFormat("d MMM")
        self.x_axis.setTickCount(5)
        self.y_axis = QValueAxis()
        self.y_axis.setTitleText(metric.axis_title)
        self.y_axis.setLabelFormat("%.3g")
        chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        self.series.attachAxis(self.x_axis)
        self.series.attachAxis(self.y_axis)

    def set_data(self, days: list[str], rows: list[QualityRow]) -> None:
        points = []
        for r in rows:
            value = self.metric.value(r)
            if value is not None and r.day is not None:
                points.append(QPointF(_noon_ms(r.day), value))
        self.series.replace(points)
        self.series.setPointsVisible(len(points) <= 31)
        if days:
            start = _noon_ms(days[0]) - _DAY_MS / 2
            end = _noon_ms(days[-1]) + _DAY_MS / 2
            self.x_axis.setRange(QDateTime.fromMSecsSinceEpoch(int(start)), QDateTime.fromMSecsSinceEpoch(int(end)))
            self.x_axis.setFormat("d MMM" if len(days) <= 120 else "MMM yy")
        top = self.metric.fixed_max
        if top is None:
            highest = max((p.y() for p in points), default=0.0)
            top = highest * 1.15 if highest > 0 else 1.0
        self.y_axis.setRange(0.0, top)
        if self.metric.fixed_max is None:
            self.y_axis.applyNiceNumbers()
        self.setToolTip(f"{self.metric.title}: {len(points)} day(s) with replies")

    def point_count(self) -> int:
        return self.series.count()


# -- the widget ------------------------------------------------------------------------------
class QualityDashboard(QWidget):
    refreshed = Signal()
    """New figures are drawn (charts, table, banner)."""
    failed = Signal(str)
    """Computing the figures failed; the message is on screen too."""
    exported = Signal(str, int)
    """path, data rows: a CSV file was written."""

    def __init__(self, store: Store, tasks: TaskManager, *, now: Callable[[], datetime] | None = None,
                 days: int = 28, margin: float = 0.10, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.tasks = tasks
        self._now = now or utcnow
        self.margin = margin
        self.data: Dashboard | None = None
        self.setObjectName("qualityDashboard")

        self.period = QComboBox()
        self.period.setAccessibleName("Period")
        for d in quality.PERIODS:
            self.period.addItem(PERIOD_LABELS.get(d, f"Last {d} days"), d)
        self.period.setCurrentIndex(max(0, self.period.findData(days)))
        self.agent = QComboBox()
        self.agent.setAccessibleName("Agent")
        self.agent.addItem("All agents", None)
        self.language = QComboBox()
        self.language.setAccessibleName("Language")
        self.language.addItem("All languages", None)
        self.group_by = QComboBox()
        self.group_by.setAccessibleName("Table rows per")
        for key, label in GROUPS:
            self.group_by.addItem(f"Per {label.lower()}", key)
        self.refresh_button = QPushButton("&Refresh")
        self.export_button = QPushButton("&Export CSV…")
        self.export_button.setToolTip("Save the per-day, per-agent figures of this period as a CSV file")

        bar = QHBoxLayout()
        for label, widget in (("Period", self.period), ("Agent", self.agent), ("Language", self.language),
                              ("Table", self.group_by)):
            caption = QLabel(label)
            caption.setBuddy(widget)
            bar.addWidget(caption)
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.export_button)

        self.banner = QLabel()
        self.banner.setObjectName("driftBanner")
        self.banner.setAccessibleName("Drift alert")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.setStyleSheet("QLabel#driftBanner { background: #fff4e5; color: #7a4100; "
                                  "border: 1px solid #f0b060; padding: 6px; }")
        self.banner.hide()
        self.summary = QLabel()
        self.summary.setObjectName("qualitySummary")
        self.message = QLabel()
        self.message.setObjectName("dashboardMessage")
        self.message.setWordWrap(True)
        self.message.hide()

        self.charts: dict[str, MetricChart] = {m.key: MetricChart(m) for m in METRICS}
        grid_host = QWidget()
        grid = QGridLayout(grid_host)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, chart in enumerate(self.charts.values()):
            grid.addWidget(chart, i // 2, i % 2)

        self.model = QualityTableModel(self)
        self.table = QTableView()
        self.table.setObjectName("qualityTable")
        self.table.setAccessibleName("Quality per group")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSortIndicatorShown(True)
        self.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(grid_host)
        splitter.addWidget(self.table)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        self.feedback_summary = QLabel()  # what agents said about the suggestions, per reason
        self.feedback_summary.setObjectName("feedbackSummary")
        self.feedback_summary.setAccessibleName("Suggestions marked not useful, per reason")
        self.feedback_summary.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.message)
        layout.addWidget(self.summary)
        layout.addWidget(self.feedback_summary)
        layout.addWidget(splitter, 1)

        for combo in (self.period, self.agent, self.language, self.group_by):
            combo.currentIndexChanged.connect(self.refresh)
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button.clicked.connect(self.choose_export_file)
        self.refresh()

    # -- filters ------------------------------------------------------------------------------
    @property
    def days(self) -> int:
        return int(self.period.currentData())

    @property
    def selected_agent(self) -> str | None:
        return self.agent.currentData()

    @property
    def selected_language(self) -> str | None:
        return self.language.currentData()

    @property
    def selected_group(self) -> str:
        return str(self.group_by.currentData())

    def set_filters(self, *, days: int | None = None, agent: str | None = None, language: str | None = None,
                    group_by: str | None = None) -> None:
        """Choose filters as a person would in the combo boxes (each change refreshes)."""
        for combo, value in ((self.period, days), (self.group_by, group_by)):
            if value is not None:
                combo.setCurrentIndex(combo.findData(value))
        for combo, value in ((self.agent, agent), (self.language, language)):
            if value is not None:
                if combo.findData(value) < 0:
                    combo.addItem(value, value)
                combo.setCurrentIndex(combo.findData(value))

    def _refill(self, combo: QComboBox, values: list[str]) -> None:
        current = combo.currentData()
        wanted = [combo.itemData(0), *values]
        if current is not None and current not in values:
            wanted.append(current)  # keep what the person chose even if it has no data now
        have = [combo.itemData(i) for i in range(combo.count())]
        if have == wanted:
            return
        combo.blockSignals(True)
        first = combo.itemText(0)
        combo.clear()
        combo.addItem(first, None)
        for v in wanted[1:]:
            combo.addItem(v, v)
        combo.setCurrentIndex(max(0, combo.findData(current)) if current is not None else 0)
        combo.blockSignals(False)

    # -- computing and drawing ---------------------------------------------------------------
    def refresh(self) -> None:
        store, now, days = self.store, self._now(), self.days
        agent, language, group, margin = self.selected_agent, self.selected_language, self.selected_group, self.margin

        def job() -> Dashboard:
            quality.update_cache(store)
            return quality.dashboard(store.db, now=now, days=days, agent=agent, language=language,
                                     group_by=(group,), margin=margin)

        self.refresh_button.setEnabled(False)
        self.tasks.run(job, self.show_data, self._on_error, key=f"quality-dashboard-{id(self)}", owner=self)

    def show_data(self, data: Dashboard) -> None:
        """Draw figures computed by :func:`quality.dashboard` (on the GUI thread)."""
        self.data = data
        self.refresh_button.setEnabled(True)
        self.message.hide()
        self._refill(self.agent, data.agents)
        self._refill(self.language, data.languages)
        for chart in self.charts.values():
            chart.set_data(data.days, data.daily)
        self.model.set_rows(data.groups, data.group_by)
        t = data.total
        if t.sent:
            self.summary.setText(
                f"{t.sent:,} replies sent · {_pct(t.share_as_is)} as-is · edit distance {_dist(t.mean_distance)} · "
                f"{_dur(t.mean_seconds_to_send)} to send · {_pct(t.escalation_rate)} escalated")
        else:
            self.summary.setText("No replies were sent in this period.")
        if any(data.not_useful.values()):
            self.feedback_summary.setText("Suggestions marked not useful: " + " · ".join(
                f"{feedback.REASONS[r]} {n:,}" for r, n in data.not_useful.items()))
        else:
            self.feedback_summary.setText("No suggestion was marked not useful in this period.")
        if data.alerts:
            items = "".join(f"<li>{html.escape(a.message)}</li>" for a in data.alerts)
            self.banner.setText(f"<b>Quality drift</b><ul style='margin:0'>{items}</ul>")
            self.banner.setToolTip("Compared with the 28 days before the last 7; margin "
                                   f"{self.margin:.0%}")
            self.banner.show()
        else:
            self.banner.hide()
            self.banner.clear()
        self.refreshed.emit()

    def _on_error(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        text = f"The figures could not be computed: {exc}"
        self.message.setText(html.escape(text))
        self.message.show()
        self.failed.emit(text)

    # -- export ----------------------------------------------------------------------------------
    def choose_export_file(self) -> None:
        start = str(Path.home() / f"reply-quality-{self._now().date().isoformat()}.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Export reply quality", start, "CSV files (*.csv)")
        if path:
            self.export_csv(path)

    def export_csv(self, path: str | Path) -> int:
        """Write this period's per-day, per-agent figures (current filters) to ``path``; returns data rows."""
        try:
            rows = quality.export_csv(self.store.db, path, now=self._now(), days=self.days,
                                      agent=self.selected_agent, language=self.selected_language)
        except OSError as exc:
            text = f"Could not write {path}: {exc.strerror or exc}."
            self.message.setText(html.escape(text))
            self.message.show()
            self.failed.emit(text)
            return 0
        self.exported.emit(str(path), rows)
        return rows
