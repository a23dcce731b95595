"""Reply-quality metrics on hand-built data with known answers."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent_assist.store import Store, drafts, quality, review
from agent_assist.store.bulk import import_dataset
from agent_assist.store.migrations import MIGRATIONS
from agent_assist.store.quality import levenshtein, normalised_distance, period
from agent_assist.store.tickets import create_ticket
from agent_assist.timefmt import to_iso

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
# until store.migrations lists them (then they are not applied twice)
ALL_MIGRATIONS = [*MIGRATIONS, *(m for m in (quality.migrate, review.migrate) if m not in MIGRATIONS)]


def open_store(path: Path) -> Store:
    return Store(path, migrations=ALL_MIGRATIONS)


@pytest.fixture
def qstore(db_path: Path):
    s = open_store(db_path)
    yield s
    s.close()


def add_tickets(store: Store, specs: list[dict]) -> list[int]:
    """Tickets (topic, language, assignee, tags) with one customer each; returns their ids."""
    first = store.db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM tickets").fetchone()[0] + 1
    customers = [{"ref": i, "name": f"Customer {first + i}", "email": f"c{first + i}@example.com"}
                 for i in range(len(specs))]
    tickets = [{"customer_ref": i, "subject": f"Question {first + i}", "status": "open",
                "language": s.get("language", "en"), "assignee": s.get("assignee"), "tags": s.get("tags", []),
                "topic": s.get("topic"), "created_at": "2026-01-01T00:00:00Z",
                "messages": [{"direction": "inbound", "author": "c", "body_text": "hi",
                              "created_at": "2026-01-01T00:00:00Z"}]}
               for i, s in enumerate(specs)]
    import_dataset(store, {"customers": customers, "tickets": tickets})
    return list(range(first, first + len(specs)))


def add_draft(store: Store, ticket_id: int, original: str | None, body: str, *, created: str, sent: str | None,
              by: str = "alex", state: str | None = None) -> int:
    """A draft written straight into the table, with the timestamps we want."""
    with store.transaction() as db:
        cur = db.conn.execute(
            "INSERT INTO drafts (ticket_id, state, source, original_body, body, citations, created_by, approved_by, "
            "created_at, updated_at) VALUES (?, ?, 'ai', ?, ?, '[]', 'assistant', ?, ?, ?)",
            (ticket_id, state or ("sent" if sent else "suggested"), original, body, by if sent else None,
             created, sent or created))
    return cur.lastrowid


def add_comment(store: Store, draft_id: int, ticket_id: int) -> None:
    with store.transaction() as db:
        db.conn.execute("INSERT INTO review_comments (draft_id, ticket_id, author, comment, created_at) "
                        "VALUES (?, ?, 'sue', 'please soften', '2026-02-28T07:45:00Z')", (draft_id, ticket_id))


@pytest.fixture
def known(qstore: Store) -> Store:
    """The worked example from the module's tests: five sent drafts, answers computed by hand.

    =====  ======  =====  =====  ============  ========  =======  =========
    draft  ticket  agent  lang   topic         distance  seconds  escalated
    =====  ======  =====  =====  ============  ========  =======  =========
    D0     T1      alex   en     refund        0         300      no    (02-20, outside 7 days)
    D1     T1      alex   en     refund        0         600      no    (02-27)
    D2     T2      sam    sv     refund        1/4       3600     tag   (02-27)
    D3     T3      alex   en     fees          3/7       1800     no    (02-28)
    D5     T4      sam    en     fees          0         7200     comment (02-28; first draft D4 discarded)
    =====  ======  =====  =====  ============  ========  =======  =========
    """
    t1, t2, t3, t4 = add_tickets(qstore, [
        {"topic": "refund", "language": "en", "assignee": "alex"},
        {"topic": "refund", "language": "sv", "assignee": "sam", "tags": ["escalated", "refund"]},
        {"topic": "fees", "language": "en", "assignee": "alex"},
        {"topic": "fees", "language": "en", "assignee": "sam"},
    ])
    add_draft(qstore, t1, "x", "x", created="2026-02-20T10:00:00Z", sent="2026-02-20T10:05:00Z")
    add_draft(qstore, t1, "hello world", "hello world", created="2026-02-27T10:00:00Z", sent="2026-02-27T10:10:00Z")
    add_draft(qstore, t2, "abcd", "abxd", created="2026-02-27T09:00:00Z", sent="2026-02-27T10:00:00Z", by="sam")
    add_draft(qstore, t3, "kitten", "sitting", created="2026-02-28T08:00:00Z", sent="2026-02-28T08:30:00Z")
    add_draft(qstore, t4, "first try", "first try", created="2026-02-28T07:00:00Z", sent=None, state="discarded")
    d5 = add_draft(qstore, t4, "same", "same", created="2026-02-28T07:30:00Z", sent="2026-02-28T09:00:00Z", by="sam")
    add_comment(qstore, d5, t4)
    add_draft(qstore, t3, "waiting", "waiting", created="2026-02-28T10:00:00Z", sent=None, state="awaiting_supervisor")
    assert quality.update_cache(qstore) == 5
    return qstore


# -- edit distance ---------------------------------------------------------------------------------
def _dp(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@pytest.mark.parametrize(("a", "b", "d"), [
    ("", "", 0), ("abc", "", 3), ("", "abc", 3), ("kitten", "sitting", 3), ("flaw", "lawn", 2),
    ("same", "same", 0), ("Hej Anna", "Hej Anna!", 1), ("åäö", "aao", 3), ("ab", "ba", 2),
])
def test_levenshtein_known_pairs(a: str, b: str, d: int) -> None:
    assert levenshtein(a, b) == d == levenshtein(b, a)


def test_levenshtein_matches_the_textbook_algorithm_on_random_texts() -> None:
    rng = random.Random(7)
    for _ in range(400):
        n = rng.choice((5, 40, 63, 64, 65, 130))
        a = "".join(rng.choice("ab cé\n") for _ in range(rng.randrange(n)))
        b = "".join(rng.choice("ab cé\n") for _ in range(rng.randrange(n)))
        if rng.random() < 0.5:  # a local edit, as agents make them
            cut = rng.randrange(len(a) + 1)
            b = a[:cut] + b[:4] + a[cut + rng.randrange(3):]
        assert levenshtein(a, b) == _dp(a, b), (a, b)


def test_normalised_distance() -> None:
    assert normalised_distance("kitten", "sitting") == pytest.approx(3 / 7)
    assert normalised_distance("", "") == 0.0
    assert normalised_distance(None, "new text") == 1.0
    assert normalised_distance("abc", "xyz") == 1.0


def test_levenshtein_is_fast_on_long_replies() -> None:
    rng = random.Random(1)
    a = " ".join(rng.choice(("refund", "payment", "late", "fee", "your", "the")) for _ in range(400))
    b = " ".join(rng.choice(("refund", "payment", "late", "fee", "your", "the")) for _ in range(400))
    start = datetime.now()
    assert levenshtein(a, b) == levenshtein(b, a) > 0
    assert (datetime.now() - start).total_seconds() < 0.5  # the textbook DP takes seconds here


# -- the cache ---------------------------------------------------------------------------------
def test_cache_rows_hold_the_per_draft_facts(known: Store) -> None:
    rows = {r[0]: r[1:] for r in known.db.conn.execute(
        "SELECT draft_id, agent, topic, language, sent_as_is, round(distance, 6), seconds_to_send, escalated "
        "FROM draft_quality ORDER BY draft_id")}
    assert list(rows.values()) == [
        ("alex", "refund", "en", 1, 0.0, 300.0, 0),
        ("alex", "refund", "en", 1, 0.0, 600.0, 0),  # from its own first draft, not the earlier reply's
        ("sam", "refund", "sv", 0, 0.25, 3600.0, 1),
        ("alex", "fees", "en", 0, round(3 / 7, 6), 1800.0, 0),
        ("sam", "fees", "en", 1, 0.0, 7200.0, 1),  # timed from the discarded first draft
    ]


def test_cache_fills_lazily_and_only_once(known: Store) -> None:
    assert quality.missing(known.db) == []
    assert quality.update_cache(known) == 0
    tid = add_tickets(known, [{"topic": "fees"}])[0]
    add_draft(known, tid, "abc", "abd", created="2026-02-28T11:00:00Z", sent="2026-02-28T11:01:00Z")
    assert len(quality.missing(known.db)) == 1
    assert quality.update_cache(known, batch=1) == 1
    assert quality.update_cache(known) == 0


def test_a_reply_through_the_real_lifecycle_is_measured(qstore: Store) -> None:
    tid = create_ticket(qstore, actor="email", customer_name="Tom", customer_email="tom@example.com",
                        subject="Refund?", body_text="Where is it?", language="en", topic="refund")
    did = drafts.suggest(qstore, tid, "Your refund arrives in 5 days.", actor="assistant", source="ai")
    drafts.approve_and_send(qstore, did, "Your refund arrives in 3 days.", actor="priya")
    assert quality.update_cache(qstore) == 1
    row = quality.total(qstore.db, period(None, 1))
    assert (row.sent, row.sent_as_is, row.escalated) == (1, 0, 0)
    assert row.mean_distance == pytest.approx(1 / 30)
    assert 0 <= row.mean_seconds_to_send < 60
    assert [(r.agent, r.topic, r.language) for r in quality.by_group(qstore.db, period(None, 1),
                                                                     ("agent", "topic", "language"))] \
        == [("priya", "refund", "en")]


def test_a_draft_submitted_to_a_supervisor_counts_as_escalated(qstore: Store) -> None:
    tid = add_tickets(qstore, [{"topic": "fraud", "assignee": "alex"}])[0]
    did = add_draft(qstore, tid, "a", "a", created="2026-02-28T10:00:00Z", sent="2026-02-28T10:30:00Z", by="sue")
    qstore.db.conn.execute("UPDATE drafts SET requested_by = 'alex' WHERE id = ?", (did,))
    quality.update_cache(qstore)
    row = quality.by_group(qstore.db, period(NOW, 7))[0]
    assert (row.agent, row.escalated) == ("alex", 1)  # the agent who asked, not the approving supervisor


# -- figures -----------------------------------------------------------------------------------
def test_period_is_whole_utc_days_up_to_now() -> None:
    scope = period(NOW, 7)
    assert (scope.since, scope.until) == ("2026-02-23T00:00:00Z", "2026-03-01T12:00:01Z")
    assert quality.days_in(scope) == [f"2026-02-{d}" for d in range(23, 29)] + ["2026-03-01"]
    with pytest.raises(ValueError):
        period(NOW, 0)


def test_totals_over_seven_days(known: Store) -> None:
    t = quality.total(known.db, period(NOW, 7))
    assert (t.sent, t.sent_as_is, t.escalated, t.timed) == (4, 2, 2, 4)
    assert t.share_as_is == 0.5
    assert t.mean_distance == pytest.approx((0.25 + 3 / 7) / 4)
    assert t.mean_seconds_to_send == 3300
    assert t.escalation_rate == 0.5
    assert quality.total(known.db, period(NOW, 28)).sent == 5


def test_per_agent(known: Store) -> None:
    alex, sam = quality.by_group(known.db, period(NOW, 7), ("agent",))
    assert (alex.agent, alex.sent, alex.share_as_is, alex.mean_seconds_to_send, alex.escalation_rate) == \
        ("alex", 2, 0.5, 1200, 0.0)
    assert alex.mean_distance == pytest.approx(3 / 14)
    assert (sam.agent, sam.sent, sam.share_as_is, sam.mean_distance, sam.mean_seconds_to_send,
            sam.escalation_rate) == ("sam", 2, 0.5, 0.125, 5400, 1.0)


def test_per_topic_and_language(known: Store) -> None:
    scope = period(NOW, 7)
    assert [(r.topic, r.sent, r.sent_as_is) for r in quality.by_group(known.db, scope, ("topic",))] == \
        [("fees", 2, 1), ("refund", 2, 1)]
    assert [(r.language, r.sent, r.escalated) for r in quality.by_group(known.db, scope, ("language",))] == \
        [("en", 3, 1), ("sv", 1, 1)]
    assert [(r.agent, r.topic, r.sent) for r in quality.by_group(known.db, scope, ("agent", "topic"))] == \
        [("alex", "fees", 1), ("alex", "refund", 1), ("sam", "fees", 1), ("sam", "refund", 1)]
    with pytest.raises(ValueError):
        quality.by_group(known.db, scope, ("ticket_id; DROP TABLE drafts",))


def test_filters(known: Store) -> None:
    assert quality.total(known.db, period(NOW, 7, agent="sam")).sent == 2
    assert quality.total(known.db, period(NOW, 7, language="sv")).sent == 1
    assert quality.total(known.db, period(NOW, 7, agent="alex", topic="fees")).sent == 1
    assert quality.total(known.db, period(NOW, 7, agent="nobody")).share_as_is is None


def test_daily_series(known: Store) -> None:
    d27, d28 = quality.daily(known.db, period(NOW, 7))
    assert (d27.day, d27.sent, d27.share_as_is, d27.mean_distance, d27.mean_seconds_to_send, d27.escalation_rate) \
        == ("2026-02-27", 2, 0.5, 0.125, 2100, 0.5)
    assert (d28.day, d28.sent, d28.share_as_is, d28.mean_seconds_to_send, d28.escalation_rate) == \
        ("2026-02-28", 2, 0.5, 4500, 0.5)
    assert d28.mean_distance == pytest.approx(3 / 14)
    assert [r.day for r in quality.daily(known.db, period(NOW, 28))] == ["2026-02-20", "2026-02-27", "2026-02-28"]
    per_agent = quality.daily(known.db, period(NOW, 7), by_agent=True)
    assert [(r.day, r.agent, r.sent) for r in per_agent] == [
        ("2026-02-27", "alex", 1), ("2026-02-27", "sam", 1), ("2026-02-28", "alex", 1), ("2026-02-28", "sam", 1)]


def test_dashboard_bundle(known: Store) -> None:
    data = quality.dashboard(known.db, now=NOW, days=7, group_by=("topic",))
    assert data.total.sent == 4 and len(data.daily) == 2 and len(data.days) == 7
    assert [g.topic for g in data.groups] == ["fees", "refund"]
    assert data.agents == ["alex", "sam"] and data.languages == ["en", "sv"]
    assert data.alerts == []


# -- drift alerts ----------------------------------------------------------------------------------
def _sends(store: Store, n: int, *, as_is: int, start: datetime, span: timedelta, distance_chars: int = 0) -> None:
    """``n`` sends spread over ``span`` from ``start``; ``as_is`` of them unchanged, the rest with
    ``distance_chars`` of 10 characters changed (or 10 when 0)."""
    ids = add_tickets(store, [{"topic": "t", "assignee": "alex"} for _ in range(n)])
    for i, tid in enumerate(ids):
        at = start + span * (i + 0.5) / n
        changed = distance_chars or 10
        body = "aaaaaaaaaa" if i < as_is else "b" * changed + "a" * (10 - changed)
        add_draft(store, tid, "aaaaaaaaaa", body, created=to_iso(at - timedelta(minutes=5)), sent=to_iso(at))


def _drift(store: Store, *, base_as_is: int, recent_as_is: int, n: int = 100) -> None:
    _sends(store, n, as_is=base_as_is, start=NOW - timedelta(days=35), span=timedelta(days=28))
    _sends(store, n, as_is=recent_as_is, start=NOW - timedelta(days=7), span=timedelta(days=7))
    quality.update_cache(store)


@pytest.mark.parametrize(("recent_as_is", "fires"), [(70, False), (61, False), (60, False), (59, True), (30, True),
                                                      (90, False)])
def test_share_as_is_alert_around_the_margin(qstore: Store, recent_as_is: int, fires: bool) -> None:
    _drift(qstore, base_as_is=70, recent_as_is=recent_as_is)
    found = [a for a in quality.alerts(qstore.db, NOW, margin=0.10) if a.metric == "share_as_is"]
    assert bool(found) is fires
    if fires:
        a = found[0]
        assert (a.recent, a.baseline) == (pytest.approx(recent_as_is / 100), pytest.approx(0.70))
        assert f"{recent_as_is}%" in a.message and "70%" in a.message


@pytest.mark.parametrize(("recent_chars", "fires"), [(1, False), (2, False), (3, True)])
def test_edit_distance_alert_around_the_margin(qstore: Store, recent_chars: int, fires: bool) -> None:
    # every reply edited: baseline distance 0.1, recent 0.1 / 0.2 (exactly the margin) / 0.3
    _sends(qstore, 20, as_is=0, start=NOW - timedelta(days=35), span=timedelta(days=28), distance_chars=1)
    _sends(qstore, 10, as_is=0, start=NOW - timedelta(days=7), span=timedelta(days=7), distance_chars=recent_chars)
    quality.update_cache(qstore)
    found = quality.alerts(qstore.db, NOW, margin=0.10)
    assert [a.metric for a in found] == (["mean_distance"] if fires else [])
    if fires:
        assert found[0].recent == pytest.approx(0.3) and found[0].baseline == pytest.approx(0.1)


def test_alerts_need_enough_sends_and_respect_filters(qstore: Store) -> None:
    _drift(qstore, base_as_is=4, recent_as_is=0, n=4)  # 100% -> 0% but only 4 sends each
    assert quality.alerts(qstore.db, NOW) == []
    assert [a.metric for a in quality.alerts(qstore.db, NOW, min_sent=4)] == ["share_as_is", "mean_distance"]
    assert quality.alerts(qstore.db, NOW, min_sent=4, agent="someone else") == []
    assert quality.alerts(qstore.db, NOW, min_sent=4, margin=1.0) == []


def test_an_improvement_does_not_alert(qstore: Store) -> None:
    _drift(qstore, base_as_is=20, recent_as_is=90)
    assert quality.alerts(qstore.db, NOW) == []


# -- export ------------------------------------------------------------------------------------
def test_export_csv(known: Store, tmp_path: Path) -> None:
    target = tmp_path / "quality.csv"
    assert quality.export_csv(known.db, target, now=NOW, days=7) == 4
    with target.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == list(quality.CSV_HEADER)
    assert rows[1:] == [
        ["2026-02-27", "alex", "1", "1", "1.0000", "0.0000", "10.0", "0", "0.0000"],
        ["2026-02-27", "sam", "1", "0", "0.0000", "0.2500", "60.0", "1", "1.0000"],
        ["2026-02-28", "alex", "1", "0", "0.0000", "0.4286", "30.0", "0", "0.0000"],
        ["2026-02-28", "sam", "1", "1", "1.0000", "0.0000", "120.0", "1", "1.0000"],
    ]
    assert not (tmp_path / "quality.csv.part").exists()
    assert quality.export_csv(known.db, target, now=NOW, days=7, agent="sam") == 2


def test_export_csv_defuses_spreadsheet_formulas(qstore: Store, tmp_path: Path) -> None:
    tid = add_tickets(qstore, [{"topic": "x"}])[0]
    add_draft(qstore, tid, "a", "a", created="2026-02-28T10:00:00Z", sent="2026-02-28T10:01:00Z",
              by="=HYPERLINK(\"http://x\")")
    quality.update_cache(qstore)
    quality.export_csv(qstore.db, tmp_path / "q.csv", now=NOW, days=7)
    with (tmp_path / "q.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[1][1] == "'=HYPERLINK(\"http://x\")"


def test_migration_applies_on_an_existing_file(db_path: Path) -> None:
    before = ALL_MIGRATIONS[:ALL_MIGRATIONS.index(quality.migrate)]  # the schema just before the cache came
    with Store(db_path, migrations=before) as plain:
        tid = add_tickets(plain, [{"topic": "t", "assignee": "alex"}])[0]
        add_draft(plain, tid, "ab", "ab", created="2026-02-28T10:00:00Z", sent="2026-02-28T10:01:00Z")
    with open_store(db_path) as upgraded:
        assert upgraded.schema_version() == len(ALL_MIGRATIONS)
        assert quality.update_cache(upgraded) == 1  # sends from before the upgrade are measured too
        assert quality.total(upgraded.db, period(NOW, 7)).sent_as_is == 1


@pytest.mark.parametrize("group_by", [("agent",), ("topic",), ("language",), ("agent", "language")])
@pytest.mark.parametrize("days", [1, 7, 28])
def test_dashboard_rolls_up_to_the_same_figures(known: Store, group_by: tuple[str, ...], days: int) -> None:
    data = quality.dashboard(known.db, now=NOW, days=days, group_by=group_by)
    scope = period(NOW, days)
    assert data.daily == quality.daily(known.db, scope)
    assert data.groups == quality.by_group(known.db, scope, group_by)
    assert data.total == quality.total(known.db, scope)
