from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QModelIndex, Qt

from agent_assist.store import Store, tickets
from agent_assist.store.bulk import import_dataset
from agent_assist.store.tickets import QueueFilter, queue_page
from agent_assist.timefmt import to_iso
from agent_assist.ui.queue_model import COLUMNS, SLA_AMBER, SLA_RED, TICKET_ID_ROLE, QueueModel


def many_tickets(n: int) -> dict:
    now = datetime.now(UTC)
    customers = [{"ref": i, "name": f"Customer {i:05d}", "email": f"c{i}@example.com", "language": "en"}
                 for i in range(50)]
    rows = []
    for i in range(n):
        created = to_iso(now - timedelta(minutes=i * 7))
        rows.append({"customer_ref": i % 50, "subject": f"Question {i:05d}", "status": ("new", "open", "pending")[i % 3],
                     "priority": ("urgent", "high", "normal", "low")[i % 4], "language": ("en", "sv", "de")[i % 3],
                     "assignee": (None, "alex", "sam")[i % 3], "sla_due_at": to_iso(now + timedelta(minutes=(i % 50) * 13 - 200)),
                     "created_at": created, "updated_at": created,
                     "messages": [{"direction": "inbound", "author": "c", "body_text": "hello", "created_at": created}]})
    return {"customers": customers, "tickets": rows}


@pytest.fixture
def model(small_store: Store, qtbot) -> QueueModel:
    m = QueueModel(small_store, user="alex")
    m.start()
    return m


def test_model_passes_qtmodeltester(model, qtmodeltester):
    qtmodeltester.check(model, force_py=True)


def test_fetches_lazily_page_by_page(store: Store, qtbot, qtmodeltester):
    import_dataset(store, many_tickets(650))
    m = QueueModel(store, user="alex")
    m.start()
    assert m.rowCount() == QueueModel.PAGE
    assert m.canFetchMore(QModelIndex())
    assert m.total == 650
    while m.canFetchMore(QModelIndex()):
        m.fetchMore(QModelIndex())
    ids = [m.ticket_id(r) for r in range(m.rowCount())]
    assert len(ids) == 650 == len(set(ids))
    qtmodeltester.check(m, force_py=True)


@pytest.mark.parametrize("column", range(len(COLUMNS)))
@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
def test_sort_is_done_in_sql(store: Store, qtbot, column, order):
    import_dataset(store, many_tickets(300))
    m = QueueModel(store, user="alex")
    m.start()
    m.sort(column, order)
    expected = queue_page(store.db, QueueFilter(user="alex"), sort=COLUMNS[column][0],
                          descending=order == Qt.SortOrder.DescendingOrder, limit=QueueModel.PAGE)
    assert [m.ticket_id(r) for r in range(m.rowCount())] == [r.id for r in expected]


def test_filters(model: QueueModel):
    model.set_filter(QueueFilter(scope="mine"))
    assert {model.row_data(r).assignee for r in range(model.rowCount())} == {"alex"}
    model.set_filter(QueueFilter(scope="unassigned"))
    assert {model.row_data(r).assignee for r in range(model.rowCount())} == {None}
    model.set_filter(QueueFilter(statuses=(), language="en"))
    assert {model.row_data(r).language for r in range(model.rowCount())} == {"en"}
    assert model.rowCount() == model.total == 2
    model.set_filter(QueueFilter(text="García"))
    assert [model.row_data(r).customer for r in range(model.rowCount())] == ["Maria García"]


def test_refresh_merges_changes_and_keeps_persistent_indexes(model: QueueModel, small_store: Store, db_path, qtbot):
    from PySide6.QtCore import QPersistentModelIndex

    tracked_id = model.ticket_id(1)
    tracked = QPersistentModelIndex(model.index(1, 2))
    other = Store(db_path)  # a second connection, as another process would be
    try:
        new_id = tickets.create_ticket(other, actor="test", customer_name="Zed New", customer_email="zed@example.com",
                                       subject="Urgent: account locked", body_text="I am locked out", priority="urgent")
        tickets.set_status(other, model.ticket_id(0), "closed", actor="test")
    finally:
        other.close()
    with qtbot.waitSignal(model.refreshed):
        model.refresh()
    ids = [model.ticket_id(r) for r in range(model.rowCount())]
    assert new_id in ids
    assert len(ids) == len(set(ids)) == model.total
    assert tracked.isValid() and tracked.data(TICKET_ID_ROLE) == tracked_id


def test_sla_countdown_colours(store: Store, qtbot):
    now = datetime.now(UTC)
    data = many_tickets(3)
    data["tickets"][0].update(status="new", sla_due_at=to_iso(now - timedelta(minutes=5)), subject="overdue")
    data["tickets"][1].update(status="open", sla_due_at=to_iso(now + timedelta(minutes=20)), subject="soon")
    data["tickets"][2].update(status="open", sla_due_at=to_iso(now + timedelta(hours=20)), subject="later")
    import_dataset(store, data)
    m = QueueModel(store, user="alex")
    m.start()
    by_subject = {m.row_data(r).subject: r for r in range(m.rowCount())}
    sla = [c for c, (k, _) in enumerate(COLUMNS) if k == "sla"][0]

    def colour(subject):
        brush = m.data(m.index(by_subject[subject], sla), Qt.ItemDataRole.ForegroundRole)
        return brush.color() if brush is not None else None

    assert colour("overdue") == SLA_RED
    assert m.data(m.index(by_subject["overdue"], sla)).startswith("−")
    assert "Overdue by" in m.data(m.index(by_subject["overdue"], sla), Qt.ItemDataRole.ToolTipRole)
    assert colour("soon") == SLA_AMBER
    assert colour("later") is None


_STATUS_RANK = {"new": 0, "open": 1, "pending": 2, "solved": 3, "closed": 4}


def _expected_order(rows, sort: str, descending: bool) -> list[int]:
    """The queue's order as SQLite gives it, in Python: an empty value is the smallest, ties by id."""
    if sort == "priority":  # the most urgent SLA breaks a tie, whichever way priority goes
        return [r.id for r in sorted(rows, key=lambda r: ((-r.priority if descending else r.priority),
                                                          r.sla_due_at is not None, r.sla_due_at or "", r.id))]
    value = {
        "sla": lambda r: r.sla_due_at, "subject": lambda r: r.subject.lower(), "flags": lambda r: len(r.flags),
        "customer": lambda r: r.customer.lower(), "language": lambda r: r.language, "status": lambda r: _STATUS_RANK[r.status],
        "assignee": lambda r: r.assignee.lower() if r.assignee else None, "updated": lambda r: r.updated_at,
    }[sort]
    return [r.id for r in sorted(rows, key=lambda r: (value(r) is not None, value(r), r.id), reverse=descending)]


@pytest.mark.both_backends
@pytest.mark.parametrize("column", range(len(COLUMNS)))
def test_every_sort_orders_alike_on_both_backends(store: Store, qtbot, column):
    """A team server orders the queue as a desk's file does (an empty SLA or assignee first), though its
    indexes spell NULLS FIRST (team migration 008)."""
    from tests.backends import seed

    data = many_tickets(120)
    for i, t in enumerate(data["tickets"]):
        if i % 7 == 0:
            t["sla_due_at"] = None
        if i % 5 == 0:  # ties on the sort value: the id decides
            t["updated_at"] = data["tickets"][0]["updated_at"]
    seed(store, data)
    everything = queue_page(store.db, QueueFilter(statuses=()), limit=1000)
    for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
        m = QueueModel(store, user="alex")
        m.set_filter(QueueFilter(statuses=()))
        m.sort(column, order)
        got = [m.ticket_id(r) for r in range(m.rowCount())]
        assert got == _expected_order(everything, COLUMNS[column][0], order == Qt.SortOrder.DescendingOrder)[:len(got)]


def test_count_comes_from_the_rows_when_they_fit_and_is_not_redone_for_a_sort(store: Store, qtbot, monkeypatch):
    import agent_assist.ui.queue_model as queue_model

    import_dataset(store, many_tickets(650))
    counted = []
    real = queue_model.queue_total
    monkeypatch.setattr(queue_model, "queue_total", lambda *a, **k: counted.append(1) or real(*a, **k))
    m = QueueModel(store, user="alex")
    m.start()
    assert (m.total, m.total_exact, len(counted)) == (650, True, 1)
    m.sort(2, Qt.SortOrder.DescendingOrder)
    assert (m.total, len(counted)) == (650, 1)  # the same tickets in another order
    m.set_filter(QueueFilter(text="question 0000"))  # one page holds them all: no count
    assert (m.total, m.rowCount(), len(counted)) == (130, 130, 1)
    m.set_filter(QueueFilter())
    assert (m.total, len(counted)) == (650, 2)


@pytest.mark.both_backends
def test_a_large_count_on_a_team_server_is_its_estimate(store: Store, backend, qtbot, monkeypatch):
    from agent_assist.ui.queue_panel import QueuePanel
    from tests.backends import seed

    seed(store, many_tickets(650))
    monkeypatch.setattr(QueueModel, "EXACT_COUNT_UP_TO", 0)  # any count beyond a page is estimated
    m = QueueModel(store, user="alex")
    panel = QueuePanel(m, [])
    qtbot.addWidget(panel)
    m.start()
    if backend == "sqlite":  # a desk's file counts
        assert (m.total, m.total_exact, panel.count.text()) == (650, True, "650 tickets")
        return
    assert not m.total_exact and m.total >= m.rowCount() == QueueModel.PAGE  # the planner's estimate
    assert panel.count.text().startswith("≈")
    while m.canFetchMore():  # scrolled to the end: the number is known
        m.fetchMore()
    assert (m.total, m.total_exact, panel.count.text()) == (650, True, "650 tickets")
    m.set_filter(QueueFilter(text="question 0000"))  # all on one page: exact again
    assert (m.total, m.total_exact, panel.count.text()) == (130, True, "130 tickets")


@pytest.mark.both_backends
def test_queue_shows_and_filters_awaiting_approval(small_store: Store, qtbot):
    """The status column says "Awaiting approval" and the status filter offers it (real store, real panel)."""
    from agent_assist.store import drafts, people
    from agent_assist.store.tickets import AWAITING_APPROVAL, set_triage
    from agent_assist.ui.queue_panel import QueuePanel

    set_triage(small_store, 3, [("fraud", "an unknown purchase")], sentiment=None)  # four eyes
    did = drafts.suggest(small_store, 3, "Hola María", actor="alex", source="offline")
    assert people.role_of(small_store.db, "alex") != "supervisor"
    assert drafts.approve_and_send(small_store, did, "Hola María", actor="alex") is None
    model = QueueModel(small_store, user="alex")
    panel = QueuePanel(model, ["en", "es"])
    qtbot.addWidget(panel)
    model.start()
    status_col = [k for k, _ in COLUMNS].index("status")
    row = model.row_of(3)
    assert model.index(row, status_col).data() == "Awaiting approval"
    others = {model.index(r, status_col).data() for r in range(model.rowCount()) if r != row}
    assert "Awaiting approval" not in others
    choice = panel.status.findText("Awaiting approval")
    assert choice >= 0 and panel.status.itemData(choice) == (AWAITING_APPROVAL,)
    panel.status.setCurrentIndex(choice)
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    assert model.ticket_id(0) == 3 and model.total == 1
