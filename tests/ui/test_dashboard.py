"""The quality dashboard: charts, table, filters, drift banner and CSV export."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from agent_assist.store import Store, quality
from agent_assist.store.migrations import MIGRATIONS
from agent_assist.ui.dashboard import SORT_ROLE, QualityDashboard, QualityTableModel
from agent_assist.ui.tasks import TaskManager
from tests.store.test_quality import NOW, _drift, add_draft, add_tickets, open_store
from tests.store.test_quality import known, qstore  # noqa: F401 - the worked example, as fixtures


def make_dashboard(qtbot, store: Store, tasks: TaskManager, days: int = 7) -> QualityDashboard:
    dash = QualityDashboard(store, tasks, now=lambda: NOW, days=days)
    qtbot.addWidget(dash)
    with qtbot.waitSignal(dash.refreshed, timeout=5000):
        dash.show()
    qtbot.waitExposed(dash)
    return dash


def refreshed_after(qtbot, dash: QualityDashboard, change) -> None:
    with qtbot.waitSignal(dash.refreshed, timeout=5000):
        change()
    tasks_idle = dash.tasks
    qtbot.waitUntil(lambda: not tasks_idle.is_busy(), timeout=5000)  # superseded jobs are done too


def test_charts_have_one_point_per_day_with_replies(qtbot, known: Store, tasks: TaskManager) -> None:
    dash = make_dashboard(qtbot, known, tasks)
    assert set(dash.charts) == {"share_as_is", "mean_distance", "time_to_send", "escalation_rate"}
    for chart in dash.charts.values():
        assert chart.point_count() == 2
    share = [(p.y()) for p in dash.charts["share_as_is"].series.points()]
    assert share == [50.0, 50.0]
    minutes = [p.y() for p in dash.charts["time_to_send"].series.points()]
    assert minutes == [pytest.approx(35.0), pytest.approx(75.0)]
    assert "4 replies sent" in dash.summary.text() and "50% as-is" in dash.summary.text()

    refreshed_after(qtbot, dash, lambda: dash.set_filters(days=28))
    assert dash.charts["share_as_is"].point_count() == 3
    assert len(dash.data.days) == 28


def test_table_per_agent_topic_language(qtbot, known: Store, tasks: TaskManager, qtmodeltester) -> None:
    dash = make_dashboard(qtbot, known, tasks)
    model = dash.model
    checked = QualityTableModel()  # the same rows in a model the tester may outlive the widget with
    checked.set_rows(dash.data.groups, dash.data.group_by)
    qtmodeltester.check(checked, force_py=True)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Agent", "Sent", "Sent as-is", "Edit distance", "Time to send", "Escalated"]
    rows = {model.index(r, 0).data(): [model.index(r, c).data() for c in range(1, 6)] for r in range(model.rowCount())}
    assert rows == {"alex": ["2", "50%", "0.214", "20m", "0%"], "sam": ["2", "50%", "0.125", "1h 30m", "100%"]}

    refreshed_after(qtbot, dash, lambda: dash.set_filters(group_by="language"))
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Language"
    assert sorted(model.index(r, 0).data() for r in range(model.rowCount())) == ["en", "sv"]
    checked.set_rows(dash.data.groups, dash.data.group_by)
    checked.sort(2, Qt.SortOrder.AscendingOrder)
    assert checked.columnCount() == 6 and checked.rowCount() == 2


def test_table_sorts_by_the_figure_not_its_text(qtbot) -> None:
    model = QualityTableModel()
    rows = [quality.QualityRow(n, 0, 0.0, secs * n, n, 0, agent=a) for a, n, secs in
            (("a", 2, 600.0), ("b", 10, 7200.0), ("c", 9, 60.0))]
    model.set_rows(rows)
    model.sort(1, Qt.SortOrder.DescendingOrder)  # Sent: 10 > 9 > 2, though "9" > "10" as text
    assert [model.index(r, 0).data() for r in range(3)] == ["b", "c", "a"]
    model.sort(4, Qt.SortOrder.AscendingOrder)
    assert [model.index(r, 0).data() for r in range(3)] == ["c", "a", "b"]
    assert model.index(0, 4).data(SORT_ROLE) == 60.0


def test_filters_fill_from_the_data_and_narrow_it(qtbot, known: Store, tasks: TaskManager) -> None:
    dash = make_dashboard(qtbot, known, tasks)
    assert [dash.agent.itemText(i) for i in range(dash.agent.count())] == ["All agents", "alex", "sam"]
    assert [dash.language.itemData(i) for i in range(dash.language.count())] == [None, "en", "sv"]
    refreshed_after(qtbot, dash, lambda: dash.agent.setCurrentIndex(dash.agent.findData("sam")))
    assert dash.data.total.sent == 2 and dash.model.rowCount() == 1
    refreshed_after(qtbot, dash, lambda: dash.language.setCurrentIndex(dash.language.findData("sv")))
    assert dash.data.total.sent == 1
    assert dash.charts["share_as_is"].point_count() == 1


def test_no_banner_without_drift(qtbot, known: Store, tasks: TaskManager) -> None:
    dash = make_dashboard(qtbot, known, tasks)
    assert not dash.banner.isVisible()


def test_banner_shows_when_drifting(qtbot, db_path: Path, tasks: TaskManager) -> None:
    store = open_store(db_path)
    try:
        _drift(store, base_as_is=70, recent_as_is=30)
        dash = make_dashboard(qtbot, store, tasks)
        assert dash.banner.isVisible()
        assert "fell to 30%" in dash.banner.text() and "70%" in dash.banner.text()
        assert [a.metric for a in dash.data.alerts] == ["share_as_is", "mean_distance"]
    finally:
        tasks.wait()
        store.close()


def test_new_sends_show_up_on_refresh(qtbot, known: Store, tasks: TaskManager) -> None:
    dash = make_dashboard(qtbot, known, tasks)
    tid = add_tickets(known, [{"topic": "fees", "assignee": "priya"}])[0]
    add_draft(known, tid, "abc", "abc", created="2026-03-01T09:00:00Z", sent=(NOW - timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"), by="priya")
    refreshed_after(qtbot, dash, lambda: qtbot.mouseClick(dash.refresh_button, Qt.MouseButton.LeftButton))
    assert dash.data.total.sent == 5
    assert dash.charts["share_as_is"].point_count() == 3
    assert "priya" in [dash.agent.itemData(i) for i in range(dash.agent.count())]


def test_export_writes_the_file(qtbot, known: Store, tasks: TaskManager, tmp_path: Path) -> None:
    dash = make_dashboard(qtbot, known, tasks)
    target = tmp_path / "out.csv"
    with qtbot.waitSignal(dash.exported) as blocker:
        assert dash.export_csv(target) == 4
    assert blocker.args == [str(target), 4]
    with target.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:3] == ["day", "agent", "sent"]
    assert [r[:3] for r in rows[1:]] == [["2026-02-27", "alex", "1"], ["2026-02-27", "sam", "1"],
                                         ["2026-02-28", "alex", "1"], ["2026-02-28", "sam", "1"]]


def test_export_to_an_unwritable_place_says_so(qtbot, known: Store, tasks: TaskManager, tmp_path: Path) -> None:
    dash = make_dashboard(qtbot, known, tasks)
    with qtbot.waitSignal(dash.failed):
        assert dash.export_csv(tmp_path / "missing-folder" / "out.csv") == 0
    assert dash.message.isVisible() and "Could not write" in dash.message.text()


def test_a_failure_is_shown(qtbot, db_path: Path, tasks: TaskManager) -> None:
    store = Store(db_path, migrations=[m for m in MIGRATIONS if m is not quality.migrate])  # no cache table
    try:
        dash = QualityDashboard(store, tasks, now=lambda: NOW)
        qtbot.addWidget(dash)
        with qtbot.waitSignal(dash.failed, timeout=5000):
            dash.show()
        assert "could not be computed" in dash.message.text()
        assert dash.refresh_button.isEnabled()
    finally:
        tasks.wait()
        store.close()
