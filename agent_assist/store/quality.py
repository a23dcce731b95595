"""How much people change the drafts they send: reply-quality metrics for supervisors.

Every figure comes from *sent* drafts, one row each in ``draft_quality``, a cache
filled lazily by :func:`update_cache` (the drafts themselves are never touched):

``sent_as_is``
    the body sent is exactly the draft's ``original_body`` (what the assistant wrote).
``distance``
    the character-level Levenshtein distance between ``original_body`` and the sent
    body divided by the longer of the two (0 = unchanged, 1 = nothing kept). A reply
    written without a suggestion (``original_body`` NULL) counts as fully rewritten.
``seconds_to_send``
    from the moment work on this reply began — the ``created_at`` of the ticket's
    first draft since its previous sent reply, which is when the first
    ``draft.suggested`` row was written — to the send.
``escalated``
    the reply went past a supervisor or the ticket was escalated: the ticket carries
    the tag (or flag) ``escalated``, or its writer asked a supervisor to approve it
    (four eyes: ``drafts.requested_by`` is set, ``draft.approval_requested`` in the
    audit), or a supervisor returned it with a comment (:mod:`agent_assist.store.review`).
``agent``
    who worked the reply: the writer who asked a supervisor to approve it
    (``requested_by``), else the person who approved it, else the ticket's assignee.
``topic``, ``language``
    the ticket's, as they were when the row was cached.

Days are UTC calendar days of the send. Everything is summed in SQL; the rows
returned carry sums and counts so that any roll-up stays exact.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import sqlite_utils

from agent_assist.store import migrations
from agent_assist.timefmt import to_iso, utcnow

if TYPE_CHECKING:
    from agent_assist.store.database import Store

GROUP_COLUMNS = ("agent", "topic", "language")
PERIODS = (7, 28, 90, 365)
RECENT_DAYS = 7
BASELINE_DAYS = 28
FILL_BATCH = 2000


# -- schema ----------------------------------------------------------------------------------
migrate = migrations.v6_draft_quality  # its table, created by the store's migrations (schema 6)


# -- edit distance -----------------------------------------------------------------------------
def _common_prefix(a: str, b: str) -> int:
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:  # binary search on slices: C-speed comparisons, O(n log n) at worst
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    lo, hi = 0, limit
    la, lb = len(a), len(b)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[la - mid:] == b[lb - mid:]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def levenshtein(a: str, b: str) -> int:
    """Character edit distance (insert, delete, substitute each cost 1).

    Equal ends are trimmed first (edits are usually local); the rest runs Myers'
    bit-parallel algorithm (Hyyrö's formulation) on Python integers of any width, so
    two 2,000-character texts take about a millisecond rather than seconds.
    """
    if a == b:
        return 0
    start = _common_prefix(a, b)
    if start:
        a, b = a[start:], b[start:]
    end = _common_suffix(a, b, min(len(a), len(b)))
    if end:
        a, b = a[:-end], b[:-end]
    if not a or not b:
        return len(a) + len(b)
    if len(a) < len(b):
        a, b = b, a  # the shorter text is the bit pattern
    m = len(b)
    peq: dict[str, int] = {}
    bit = 1
    for ch in b:
        peq[ch] = peq.get(ch, 0) | bit
        bit <<= 1
    mask = (1 << m) - 1
    last = 1 << (m - 1)
    vp, vn, dist = mask, 0, m
    get = peq.get
    for ch in a:
        pm = get(ch, 0)
        d0 = (((pm & vp) + vp) ^ vp) | pm | vn
        hp = vn | ~(d0 | vp)
        hn = d0 & vp
        if hp & last:
            dist += 1
        elif hn & last:
            dist -= 1
        hp = (hp << 1) | 1
        hn <<= 1
        vp = (hn | ~(d0 | hp)) & mask
        vn = hp & d0
    return dist


def normalised_distance(original: str | None, sent: str | None) -> float:
    """``levenshtein / max(len)``: 0.0 for an unchanged text, 1.0 when nothing was kept."""
    a, b = original or "", sent or ""
    longest = max(len(a), len(b))
    return levenshtein(a, b) / longest if longest else 0.0


# -- filling the cache -------------------------------------------------------------------------
def _fill_sql(db: sqlite_utils.Database) -> str:
    escalated = [
        "EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(t.tags) THEN t.tags ELSE '[]' END) "
        "WHERE value = 'escalated')",
        "EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(t.flags) THEN t.flags ELSE '[]' END) "
        "WHERE value = 'escalated')",
        "d.requested_by IS NOT NULL",  # set when the writer asked a supervisor (drafts.approve, four eyes)
    ]
    if db["review_comments"].exists():  # review.migrate: returned with a comment
        escalated.append("EXISTS (SELECT 1 FROM review_comments r WHERE r.draft_id = d.id)")
    started = (
        "(SELECT MIN(p.created_at) FROM drafts p WHERE p.ticket_id = d.ticket_id AND p.id <= d.id AND p.id > "
        "COALESCE((SELECT MAX(s.id) FROM drafts s WHERE s.ticket_id = d.ticket_id AND s.state = 'sent' "
        "AND s.id < d.id), 0))"
    )
    return (
        "INSERT OR IGNORE INTO draft_quality (draft_id, ticket_id, sent_at, day, agent, topic, language, "
        "sent_as_is, distance, seconds_to_send, escalated) "
        "SELECT d.id, d.ticket_id, d.updated_at, substr(d.updated_at, 1, 10), "
        "COALESCE(NULLIF(d.requested_by, ''), NULLIF(d.approved_by, ''), NULLIF(t.assignee, ''), '(unknown)'), "
        "t.topic, t.language, "
        "d.original_body IS NOT NULL AND d.body = d.original_body, "
        "CASE WHEN d.original_body IS NOT NULL AND d.body = d.original_body THEN 0.0 "
        "ELSE aa_normalised_distance(d.original_body, d.body) END, "
        f"MAX(0.0, ROUND((julianday(d.updated_at) - julianday({started})) * 86400.0)), "
        f"({' OR '.join(escalated)}) "
        "FROM drafts d JOIN tickets t ON t.id = d.ticket_id "
        "WHERE d.state = 'sent' AND d.id IN (SELECT value FROM json_each(?))"
    )


def missing(db: sqlite_utils.Database) -> list[int]:
    """Ids of sent drafts not yet in the cache (cheap when there are none)."""
    sent = db.conn.execute("SELECT COUNT(*) FROM drafts WHERE state = 'sent'").fetchone()[0]
    cached = db.conn.execute("SELECT COUNT(*) FROM draft_quality").fetchone()[0]
    if sent == cached:  # a sent draft stays sent and cache rows are never removed: equal means complete
        return []
    return [r[0] for r in db.conn.execute(
        "SELECT d.id FROM drafts d WHERE d.state = 'sent' "
        "AND NOT EXISTS (SELECT 1 FROM draft_quality q WHERE q.draft_id = d.id) ORDER BY d.id")]


def update_cache(store: Store, *, batch: int = FILL_BATCH) -> int:
    """Cache the figures of every sent draft not cached yet; returns how many were added.

    Runs in short write transactions of ``batch`` drafts each, so other writers wait
    at most one batch. Safe to call from any thread and from several processes.
    """
    db = store.db
    ids = missing(db)
    if not ids:
        return 0
    db.conn.create_function("aa_normalised_distance", 2, normalised_distance, deterministic=True)
    sql = _fill_sql(db)
    added = 0
    for i in range(0, len(ids), batch):
        chunk = ids[i:i + batch]
        with store.transaction() as tx:
            added += tx.conn.execute(sql, (json.dumps(chunk),)).rowcount
    return added


# -- reading ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class QualityRow:
    """Sums for one group (a day, an agent, a topic, ... or everything); unused keys are None."""

    sent: int
    sent_as_is: int
    distance_sum: float
    seconds_sum: float
    timed: int
    escalated: int
    day: str | None = None
    agent: str | None = None
    topic: str | None = None
    language: str | None = None

    @property
    def share_as_is(self) -> float | None:
        return self.sent_as_is / self.sent if self.sent else None

    @property
    def mean_distance(self) -> float | None:
        return self.distance_sum / self.sent if self.sent else None

    @property
    def mean_seconds_to_send(self) -> float | None:
        return self.seconds_sum / self.timed if self.timed else None

    @property
    def escalation_rate(self) -> float | None:
        return self.escalated / self.sent if self.sent else None


EMPTY = QualityRow(0, 0, 0.0, 0.0, 0, 0)
_SUMS = ("COUNT(*), COALESCE(SUM(sent_as_is), 0), COALESCE(SUM(distance), 0.0), "
         "COALESCE(SUM(seconds_to_send), 0.0), COUNT(seconds_to_send), COALESCE(SUM(escalated), 0)")


@dataclass(frozen=True)
class Scope:
    """Which sent drafts: ``since <= sent_at < until`` (ISO UTC), optionally one agent/language/topic."""

    since: str
    until: str
    agent: str | None = None
    language: str | None = None
    topic: str | None = None

    def where(self) -> tuple[str, list[object]]:
        # the day bounds let SQLite walk the covering day index; sent_at makes the bounds exact
        clauses = ["day >= ?", "day <= ?", "sent_at >= ?", "sent_at < ?"]
        params: list[object] = [self.since[:10], self.until[:10], self.since, self.until]
        for col in GROUP_COLUMNS:
            value = getattr(self, col)
            if value is not None:
                clauses.append(f"{col} = ?")
                params.append(value)
        return " WHERE " + " AND ".join(clauses), params


def _as_datetime(now: datetime | str | None) -> datetime:
    if now is None:
        return utcnow()
    if isinstance(now, str):
        now = datetime.fromisoformat(now.replace("Z", "+00:00"))
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def period(now: datetime | str | None, days: int, *, agent: str | None = None, language: str | None = None,
           topic: str | None = None) -> Scope:
    """The last ``days`` UTC calendar days up to ``now``, today included."""
    if days < 1:
        raise ValueError("a period has at least one day")
    now_dt = _as_datetime(now)
    first = datetime.combine(now_dt.astimezone(UTC).date() - timedelta(days=days - 1), datetime.min.time(), UTC)
    return Scope(to_iso(first), to_iso(now_dt + timedelta(seconds=1)), agent, language, topic)


def days_in(scope: Scope) -> list[str]:
    """Every calendar day the scope touches, oldest first (for axes and gaps)."""
    first = date.fromisoformat(scope.since[:10])
    last = (_as_datetime(scope.until) - timedelta(seconds=1)).date()
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def total(db: sqlite_utils.Database, scope: Scope) -> QualityRow:
    where, params = scope.where()
    row = db.conn.execute(f"SELECT {_SUMS} FROM draft_quality{where}", params).fetchone()
    return QualityRow(*row)


def by_group(db: sqlite_utils.Database, scope: Scope, group_by: Sequence[str] = ("agent",)) -> list[QualityRow]:
    """One row per distinct combination of ``group_by`` (any of agent, topic, language), sorted by it."""
    cols = list(group_by)
    if not cols or any(c not in GROUP_COLUMNS for c in cols) or len(set(cols)) != len(cols):
        raise ValueError(f"group by one or more of {', '.join(GROUP_COLUMNS)}")
    where, params = scope.where()
    keys = ", ".join(cols)
    rows = db.conn.execute(
        f"SELECT {_SUMS}, {keys} FROM draft_quality{where} GROUP BY {keys} ORDER BY {keys}", params
    ).fetchall()
    return [QualityRow(*r[:6], **dict(zip(cols, r[6:], strict=True))) for r in rows]


def daily(db: sqlite_utils.Database, scope: Scope, *, by_agent: bool = False) -> list[QualityRow]:
    """One row per UTC day that had sends (per day and agent with ``by_agent``), oldest first."""
    where, params = scope.where()
    extra = ", agent" if by_agent else ""
    rows = db.conn.execute(
        f"SELECT {_SUMS}, day{extra} FROM draft_quality{where} "
        f"GROUP BY day{extra} ORDER BY day{extra}", params
    ).fetchall()
    if by_agent:
        return [QualityRow(*r[:6], day=r[6], agent=r[7]) for r in rows]
    return [QualityRow(*r[:6], day=r[6]) for r in rows]


def agents(db: sqlite_utils.Database) -> list[str]:
    """Everyone with a sent reply, by name (a skip-scan of the agent index: one probe per agent)."""
    return [r[0] for r in db.conn.execute(
        "WITH RECURSIVE a(name) AS (SELECT MIN(agent) FROM draft_quality UNION ALL "
        "SELECT (SELECT MIN(agent) FROM draft_quality WHERE agent > a.name) FROM a WHERE a.name IS NOT NULL) "
        "SELECT name FROM a WHERE name IS NOT NULL")]


def languages(db: sqlite_utils.Database) -> list[str]:
    return [r[0] for r in db.conn.execute("SELECT DISTINCT language FROM tickets WHERE language IS NOT NULL "
                                          "ORDER BY language")]


# -- drift -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Alert:
    metric: str  # "share_as_is" | "mean_distance"
    recent: float
    baseline: float
    message: str


def alerts(db: sqlite_utils.Database, now: datetime | str | None = None, margin: float = 0.10, *,
           agent: str | None = None, language: str | None = None, min_sent: int = 5,
           recent_days: int = RECENT_DAYS, baseline_days: int = BASELINE_DAYS) -> list[Alert]:
    """Drift of the last ``recent_days`` (rolling, up to ``now``) against the ``baseline_days`` before them.

    Fires when the share sent as-is fell, or the mean edit distance rose, by *more than*
    ``margin`` (absolute, on the 0–1 scale: 0.10 is ten percentage points). Only
    worsening alerts; with fewer than ``min_sent`` sends in either window it stays quiet.
    """
    now_dt = _as_datetime(now)
    split = now_dt - timedelta(days=recent_days)
    recent = total(db, Scope(to_iso(split), to_iso(now_dt + timedelta(seconds=1)), agent, language))
    base = total(db, Scope(to_iso(split - timedelta(days=baseline_days)), to_iso(split), agent, language))
    if recent.sent < min_sent or base.sent < min_sent:
        return []
    found: list[Alert] = []
    eps = 1e-9  # "more than the margin": a change of exactly the margin does not fire
    r_share, b_share = recent.share_as_is, base.share_as_is
    assert r_share is not None and b_share is not None
    if b_share - r_share > margin + eps:
        found.append(Alert("share_as_is", r_share, b_share,
                           f"Drafts sent as-is fell to {r_share:.0%} in the last {recent_days} days "
                           f"(baseline {b_share:.0%} over the {baseline_days} days before)."))
    r_dist, b_dist = recent.mean_distance, base.mean_distance
    assert r_dist is not None and b_dist is not None
    if r_dist - b_dist > margin + eps:
        found.append(Alert("mean_distance", r_dist, b_dist,
                           f"Agents change more of each draft: mean edit distance {r_dist:.2f} in the last "
                           f"{recent_days} days (baseline {b_dist:.2f} over the {baseline_days} days before)."))
    return found


# -- everything the dashboard shows ----------------------------------------------------------------
@dataclass(frozen=True)
class Dashboard:
    scope: Scope
    days: list[str]
    total: QualityRow
    daily: list[QualityRow]
    groups: list[QualityRow]
    group_by: tuple[str, ...]
    alerts: list[Alert]
    agents: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    not_useful: dict[str, int] = field(default_factory=dict)  # reason -> how often agents said so, in the period


def _cells(db: sqlite_utils.Database, scope: Scope, cols: Sequence[str]) -> list[QualityRow]:
    """One row per day and combination of ``cols``: both the series and the table roll up from these."""
    where, params = scope.where()
    keys = "".join(f", {c}" for c in cols)
    rows = db.conn.execute(
        f"SELECT {_SUMS}, day{keys} FROM draft_quality{where} GROUP BY day{keys}", params
    ).fetchall()
    return [QualityRow(*r[:6], day=r[6], **dict(zip(cols, r[7:], strict=True))) for r in rows]


def _roll_up(rows: Iterable[QualityRow], key: Callable[[QualityRow], tuple]) -> dict[tuple, QualityRow]:
    sums: dict[tuple, list[float]] = {}
    for r in rows:
        acc = sums.setdefault(key(r), [0, 0, 0.0, 0.0, 0, 0])
        acc[0] += r.sent
        acc[1] += r.sent_as_is
        acc[2] += r.distance_sum
        acc[3] += r.seconds_sum
        acc[4] += r.timed
        acc[5] += r.escalated
    return {k: QualityRow(int(a[0]), int(a[1]), a[2], a[3], int(a[4]), int(a[5])) for k, a in sums.items()}


def _null_first(values: tuple) -> tuple:
    return tuple((v is not None, v if v is not None else "") for v in values)


def dashboard(db: sqlite_utils.Database, *, now: datetime | str | None = None, days: int = 28,
              agent: str | None = None, language: str | None = None, group_by: Sequence[str] = ("agent",),
              margin: float = 0.10) -> Dashboard:
    """What the dashboard draws, in one call (run :func:`update_cache` first).

    One range scan grouped by day and ``group_by`` gives both the daily series and
    the table (rolled up here), the same figures :func:`daily` and :func:`by_group` return.
    """
    cols = tuple(group_by)
    if not cols or any(c not in GROUP_COLUMNS for c in cols) or len(set(cols)) != len(cols):
        raise ValueError(f"group by one or more of {', '.join(GROUP_COLUMNS)}")
    now_dt = _as_datetime(now)
    scope = period(now_dt, days, agent=agent, language=language)
    cells = _cells(db, scope, cols)
    per_day = _roll_up(cells, lambda r: (r.day,))
    series = [replace(row, day=day) for (day,), row in sorted(per_day.items())]
    per_group = _roll_up(cells, lambda r: tuple(getattr(r, c) for c in cols))
    groups = [replace(row, **dict(zip(cols, k, strict=True)))
              for k, row in sorted(per_group.items(), key=lambda kv: _null_first(kv[0]))]
    t = _roll_up(series, lambda r: ()).get((), EMPTY)
    from agent_assist.store import feedback

    return Dashboard(scope, days_in(scope), t, series, groups, cols,
                     alerts(db, now_dt, margin, agent=agent, language=language), agents(db), languages(db),
                     feedback.counts(db, since=scope.since, until=scope.until))


# -- export ----------------------------------------------------------------------------------
CSV_HEADER = ("day", "agent", "sent", "sent_as_is", "share_sent_as_is", "mean_edit_distance",
              "mean_minutes_to_send", "escalated", "escalation_rate")


def _cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _fmt(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def csv_rows(rows: Iterable[QualityRow]) -> Iterable[tuple[object, ...]]:
    for r in rows:
        minutes = r.mean_seconds_to_send / 60 if r.mean_seconds_to_send is not None else None
        yield (r.day, _cell(r.agent), r.sent, r.sent_as_is, _fmt(r.share_as_is, 4), _fmt(r.mean_distance, 4),
               _fmt(minutes, 1), r.escalated, _fmt(r.escalation_rate, 4))


def export_csv(db: sqlite_utils.Database, path: str | Path, *, now: datetime | str | None = None, days: int = 28,
               agent: str | None = None, language: str | None = None) -> int:
    """Write the per-day, per-agent table of the period as UTF-8 CSV; returns the number of data rows."""
    rows = daily(db, period(now, days, agent=agent, language=language), by_agent=True)
    target = Path(path)
    tmp = target.with_name(target.name + ".part")
    try:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_HEADER)
            writer.writerows(csv_rows(rows))
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(rows)


__all__ = [
    "Alert", "Dashboard", "QualityRow", "Scope", "agents", "alerts", "by_group", "daily", "dashboard", "days_in",
    "export_csv", "languages", "levenshtein", "migrate", "missing", "normalised_distance", "period", "total",
    "update_cache",
]
