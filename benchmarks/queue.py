"""Queue at scale: 100k tickets.

Prints the time to open the window on them, p50/p95 of filters and sorts (each a
full round trip through the Qt model: SQL, reset, first page), and peak RSS.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/queue.py [--tickets 100000]
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder holds a queue.py: keep it off the import path so the standard library's queue wins
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from agent_assist.store import Store  # noqa: E402
from agent_assist.store.bulk import import_dataset  # noqa: E402
from agent_assist.store.tickets import ACTIVE_STATUSES, PRIORITIES, STATUSES, QueueFilter  # noqa: E402
from agent_assist.timefmt import to_iso  # noqa: E402

WORDS = ("refund late fee payment failed card declined return dispute invoice schedule account locked "
         "identity fraud hardship complaint merchant order delivery instalment statement promo").split()
LANGS = ("en", "sv", "de", "es", "fr", "nl")


def build(n: int, seed: int = 1) -> dict:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    n_customers = max(1, n * 7 // 10)
    customers = [{"ref": i, "name": f"{rng.choice('ABCDEFGHIJKLMNOPRSTUVW')}{rng.randrange(10**6):06d} Customer",
                  "email": f"c{i}@example.com", "language": rng.choice(LANGS)} for i in range(n_customers)]
    tickets = []
    for _ in range(n):
        created = now - timedelta(minutes=rng.randrange(60 * 24 * 365))
        p = rng.choice(PRIORITIES)
        subject = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))).capitalize()
        tickets.append({
            "customer_ref": rng.randrange(n_customers), "subject": subject, "status": rng.choice(STATUSES),
            "priority": p, "channel": "email", "language": rng.choice(LANGS),
            "assignee": rng.choice((None, "alex", "sam", "priya", "jonas")),
            "sla_due_at": to_iso(created + timedelta(hours=(2, 8, 24, 72)[PRIORITIES.index(p)])),
            "created_at": to_iso(created), "updated_at": to_iso(created),
            "messages": [{"direction": "inbound", "author": "customer", "body_text": subject + ". Please help.",
                          "created_at": to_iso(created)}],
        })
    return {"customers": customers, "tickets": tickets}


def _build_file(path: Path, n: int) -> None:
    with Store(path) as store:
        import_dataset(store, build(n), label="benchmark")


def pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1] if len(samples) > 1 else samples[0]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from agent_assist.ui.main_window import MainWindow
    from agent_assist.ui.queue_model import COLUMNS

    tmp = Path(tempfile.mkdtemp(prefix="aa-bench-"))
    path = tmp / "queue.db"
    t0 = time.perf_counter()
    # built in a child process so the peak RSS below is the app's, not the generator's
    ctx = multiprocessing.get_context("spawn")
    child = ctx.Process(target=_build_file, args=(path, args.tickets))
    child.start()
    child.join()
    if child.exitcode:
        return child.exitcode
    print(f"built {args.tickets:,} tickets in {time.perf_counter() - t0:.1f} s ({path.stat().st_size / 1e6:.0f} MB)")

    app = QApplication.instance() or QApplication([sys.argv[0]])
    store = Store(path)
    t0 = time.perf_counter()
    window = MainWindow(store, user="alex", settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
    window.show()
    app.processEvents()
    open_ms = (time.perf_counter() - t0) * 1000
    print(f"open window with {window.model.total:,} active tickets: {open_ms:.0f} ms")

    model = window.model
    filters = [
        QueueFilter(statuses=()),
        QueueFilter(scope="mine"),
        QueueFilter(scope="unassigned"),
        QueueFilter(language="sv"),
        QueueFilter(statuses=("new",), language="de"),
        QueueFilter(text="refund"),
        QueueFilter(text="c12345"),
        QueueFilter(),
    ]
    samples: list[float] = []
    for i in range(args.repeat):
        for flt in filters:
            model.set_filter(QueueFilter())  # start from the default each time
            t = time.perf_counter()
            model.set_filter(flt)
            app.processEvents()
            if flt != QueueFilter():
                samples.append((time.perf_counter() - t) * 1000)
    print(f"filter (status/scope/language/text, {len(samples)} runs): p50 {pct(samples, 50):.1f} ms, "
          f"p95 {pct(samples, 95):.1f} ms")
    text_samples: list[float] = []
    for _ in range(args.repeat):
        model.set_filter(QueueFilter())
        t = time.perf_counter()
        model.set_filter(QueueFilter(text="refund"))
        app.processEvents()
        text_samples.append((time.perf_counter() - t) * 1000)
    print(f"  of which text filter: p50 {pct(text_samples, 50):.1f} ms, p95 {pct(text_samples, 95):.1f} ms")

    model.set_filter(QueueFilter(statuses=()))
    from PySide6.QtCore import Qt

    sort_samples: list[float] = []
    for _ in range(args.repeat // 2 or 1):
        for col in range(len(COLUMNS)):
            for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
                t = time.perf_counter()
                model.sort(col, order)
                app.processEvents()
                sort_samples.append((time.perf_counter() - t) * 1000)
            model.sort(0, Qt.SortOrder.AscendingOrder)
    print(f"sort any column, all {model.total:,} tickets ({len(sort_samples)} runs): p50 {pct(sort_samples, 50):.1f} ms, "
          f"p95 {pct(sort_samples, 95):.1f} ms")

    t = time.perf_counter()
    while model.canFetchMore() and model.rowCount() < 5000:
        model.fetchMore()
    print(f"scroll-load 5,000 rows: {(time.perf_counter() - t) * 1000:.0f} ms")
    t = time.perf_counter()
    model.refresh()
    print(f"live refresh with 5,000 rows loaded: {(time.perf_counter() - t) * 1000:.0f} ms")

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MB")
    window.close()
    store.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
