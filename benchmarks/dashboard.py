"""Quality dashboard and review view at scale: 100k tickets, each with a sent draft, over a year.

Printed: the one-off cost of filling the per-draft cache (edit distances) after an
upgrade; then, with the cache warm, p50/p95 of computing the dashboard's figures
(:func:`quality.dashboard` after the cache check), of drawing them (charts, table,
banner, painted), and of the whole round trip through the TaskManager, for each
period; the review view's load time; peak RSS. Target: compute + draw <= 300 ms.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/dashboard.py [--tickets 100000]
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder holds a queue.py: keep it off the import path so the standard library's queue wins
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from agent_assist.store import Store, quality, review  # noqa: E402
from agent_assist.store.bulk import import_dataset  # noqa: E402
from agent_assist.store.migrations import MIGRATIONS  # noqa: E402
from agent_assist.timefmt import to_iso  # noqa: E402

# until store.migrations lists them (then they are not applied twice)
ALL_MIGRATIONS = [*MIGRATIONS, *(m for m in (quality.migrate, review.migrate) if m not in MIGRATIONS)]
LANGS = ("en", "sv", "de", "es", "fr", "nl")
TOPICS = ("refund-status", "late-fees", "pay-early", "fraud", "card-declined", "dispute", "address-change",
          "statement", "hardship", "promo")
AGENTS = ("alex", "sam", "priya", "jonas", "maria", "li", "omar", "eva")
SUPERVISORS = ("sue", "kim")
SENTENCES = (
    "Thank you for getting in touch about your purchase.",
    "I have looked at your account and can see the payment you mention.",
    "Refunds show within 5 business days after the merchant registers your return.",
    "A late fee applies only after the retry of a failed payment also fails.",
    "You can pay any instalment early in the app at no extra cost.",
    "We have paused the payments while we investigate the purchase you do not recognise.",
    "Please reply with the order number so that I can check it with the merchant.",
    "I have removed the fee this time as a goodwill gesture.",
    "Your next payment date has moved by 14 days.",
    "If anything is still unclear, just answer this e-mail and we will help.",
    "The merchant confirmed the return on Monday, so the refund is on its way.",
    "For your security we never ask for your password or card code.",
)
EXTRA = ("I am sorry for the trouble this caused.", "I hope this helps!", "Have a lovely weekend.",
         "I have also added a note to your account.")


def _body(rng: random.Random, name: str) -> str:
    middle = " ".join(rng.sample(SENTENCES, rng.randint(3, 6)))
    return f"Hi {name},\n\n{middle}\n\n{rng.choice(EXTRA)}\n\nKind regards,\nThe support team"


def _edit(rng: random.Random, text: str, heavy: bool) -> str:
    if heavy:  # rewrite most of it
        return f"Hello,\n\n{' '.join(rng.sample(SENTENCES, rng.randint(2, 5)))}\n\nBest wishes,\nSupport"
    kind = rng.random()
    if kind < 0.4:  # one word changed
        words = text.split(" ")
        i = rng.randrange(1, len(words) - 1)
        words[i] = rng.choice(("really", "quickly", "today", "3", "7", "gladly"))
        return " ".join(words)
    if kind < 0.8:  # a sentence added before the closing
        head, _, tail = text.rpartition("\n\nKind regards")
        return f"{head} {rng.choice(EXTRA)}\n\nKind regards{tail}"
    return text.replace("Hi ", "Dear ", 1)


def build(path: Path, n: int, seed: int = 7) -> None:
    """Tickets through the bulk importer, drafts with sqlite-utils' insert_all (run in a child process)."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    customers = [{"ref": i, "name": f"Customer {i:06d}", "email": f"c{i}@example.com"} for i in range(n * 7 // 10)]
    tickets, plans = [], []
    for _ in range(n):
        sent_at = now - timedelta(seconds=rng.randrange(365 * 86400))
        created = sent_at - timedelta(minutes=rng.randrange(10, 60 * 30))
        tags = ["escalated"] if rng.random() < 0.04 else []
        tickets.append({"customer_ref": rng.randrange(len(customers)), "subject": "Question about my purchase",
                        "status": "pending", "priority": "normal", "language": rng.choice(LANGS),
                        "assignee": rng.choice(AGENTS), "topic": rng.choice(TOPICS), "tags": tags,
                        "created_at": to_iso(created), "updated_at": to_iso(sent_at),
                        "messages": [{"direction": "inbound", "author": "c", "body_text": "Where is my refund?",
                                      "created_at": to_iso(created)}]})
        plans.append((created, sent_at, tickets[-1]["assignee"]))
    with Store(path, migrations=ALL_MIGRATIONS) as store:
        import_dataset(store, {"customers": customers, "tickets": tickets}, label="benchmark")
        rows = []
        for tid, (created, sent_at, agent) in enumerate(plans, start=1):
            recent = (now - sent_at) < timedelta(days=7)
            as_is = rng.random() < (0.45 if recent else 0.62)  # the last week drifted
            original = _body(rng, f"Customer {tid}")
            body = original if as_is else _edit(rng, original, heavy=rng.random() < 0.12)
            first = created + timedelta(minutes=rng.randrange(1, 30))
            if rng.random() < 0.1:  # a first suggestion the agent threw away
                rows.append({"ticket_id": tid, "state": "discarded", "source": "ai", "original_body": original,
                             "body": original, "citations": "[]", "created_by": "assistant",
                             "created_at": to_iso(first), "updated_at": to_iso(first)})
                first += timedelta(minutes=2)
            supervised = rng.random() < 0.08
            row = {"ticket_id": tid, "state": "sent", "source": "ai", "original_body": original, "body": body,
                   "citations": "[]", "created_by": "assistant",
                   "approved_by": rng.choice(SUPERVISORS) if supervised else agent,
                   "created_at": to_iso(min(first, sent_at)), "updated_at": to_iso(sent_at)}
            row["requested_by"] = agent if supervised else None  # four eyes: the writer asked a supervisor
            rows.append(row)
        for tid in rng.sample(range(1, n + 1), min(n, 300)):  # a queue for the supervisors
            original = _body(rng, f"Customer {tid}")
            at = to_iso(now - timedelta(minutes=rng.randrange(600)))
            rows.append({"ticket_id": tid, "state": "awaiting_supervisor", "source": "ai", "original_body": original,
                         "body": _edit(rng, original, heavy=False), "citations": "[]", "created_by": "assistant",
                         "requested_by": rng.choice(AGENTS), "created_at": at, "updated_at": at})
        with store.transaction() as db:
            db["drafts"].insert_all(rows, batch_size=2000)
        store.analyze()


def pct(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1] if len(samples) > 1 else samples[0]


def fmt(samples: list[float]) -> str:
    return f"p50 {pct(samples, 50):6.1f} ms, p95 {pct(samples, 95):6.1f} ms"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()

    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from agent_assist.ui.dashboard import QualityDashboard
    from agent_assist.ui.review_view import ReviewView
    from agent_assist.ui.tasks import TaskManager

    tmp = Path(tempfile.mkdtemp(prefix="aa-bench-dash-"))
    path = tmp / "quality.db"
    try:
        t0 = time.perf_counter()
        child = multiprocessing.get_context("spawn").Process(target=build, args=(path, args.tickets))
        child.start()
        child.join()
        if child.exitcode:
            return child.exitcode
        print(f"built {args.tickets:,} tickets with drafts over a year in {time.perf_counter() - t0:.1f} s "
              f"({path.stat().st_size / 1e6:.0f} MB)")

        app = QApplication.instance() or QApplication([sys.argv[0]])
        store = Store(path, migrations=ALL_MIGRATIONS)
        t0 = time.perf_counter()
        added = quality.update_cache(store)
        fill_s = time.perf_counter() - t0
        print(f"cache fill, once after the upgrade: {added:,} sent drafts in {fill_s:.1f} s "
              f"({fill_s / max(added, 1) * 1e6:.0f} µs each, off the GUI thread)")

        tasks = TaskManager()
        dash = QualityDashboard(store, tasks)
        dash.resize(1400, 900)
        dash.show()
        first = QEventLoop()
        dash.refreshed.connect(first.quit)
        first.exec()
        dash.refreshed.disconnect(first.quit)
        print(f"drift banner shown: {dash.banner.isVisible()} ({len(dash.data.alerts)} alert(s))")

        for days in quality.PERIODS:
            compute, draw, total, round_trip = [], [], [], []
            for _ in range(args.repeat):
                t = time.perf_counter()
                quality.update_cache(store)
                data = quality.dashboard(store.db, days=days, group_by=("agent",))
                t1 = time.perf_counter()
                dash.show_data(data)
                app.processEvents()  # the charts lay themselves out on the next pass of the event loop
                dash.repaint()  # paint now: charts, table and banner
                t2 = time.perf_counter()
                compute.append((t1 - t) * 1000)
                draw.append((t2 - t1) * 1000)
                total.append((t2 - t) * 1000)
            dash.period.blockSignals(True)
            dash.period.setCurrentIndex(dash.period.findData(days))
            dash.period.blockSignals(False)
            for _ in range(max(3, args.repeat // 3)):
                loop = QEventLoop()  # the GUI thread waits in Qt, as in the app, not in a Python spin
                dash.refreshed.connect(loop.quit)
                t = time.perf_counter()
                dash.refresh()
                loop.exec()
                dash.refreshed.disconnect(loop.quit)
                app.processEvents()
                dash.repaint()
                round_trip.append((time.perf_counter() - t) * 1000)
            print(f"{days:>3} days ({data.total.sent:>6,} replies, {len(data.daily)} points): "
                  f"compute {fmt(compute)} | draw {fmt(draw)} | compute+draw {fmt(total)} | "
                  f"via TaskManager p50 {pct(round_trip, 50):.1f} ms")

        for group in ("topic", "language"):
            samples = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                data = quality.dashboard(store.db, days=365, group_by=(group,))
                dash.show_data(data)
                app.processEvents()
                dash.repaint()
                samples.append((time.perf_counter() - t) * 1000)
            print(f"365 days per {group}: compute+draw {fmt(samples)}")
        samples = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            quality.export_csv(store.db, tmp / "export.csv", days=365)
            samples.append((time.perf_counter() - t) * 1000)
        print(f"CSV export, 365 days per day and agent: {fmt(samples)}")

        loads = []
        for _ in range(max(3, args.repeat // 3)):
            t = time.perf_counter()
            view = ReviewView(store, tasks, user="sue", role="supervisor", poll_ms=0)
            view.resize(1200, 800)
            shown = QEventLoop()
            view.detailShown.connect(shown.quit)
            view.show()
            if view.detail is None:
                shown.exec()
            view.repaint()
            loads.append((time.perf_counter() - t) * 1000)
            view.close()
            view.deleteLater()
        print(f"review view: {view.awaiting_model.rowCount()} awaiting, {view.sent_model.rowCount()} recent, "
              f"lists + first diff on screen: {fmt(loads)}")

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS: {peak:.0f} MB")
        dash.close()
        tasks.shutdown()
        store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
