"""What the store's error seam costs: a statement through the translating connection vs a plain one.

Prints microseconds per ``execute`` (a one-row SELECT by primary key) for both, and the time a write
waits before it reports a busy database (the busy timeout, plus the last try of BEGIN IMMEDIATE).

    .venv/bin/python benchmarks/store_seam.py [--calls 200000]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agent_assist.store import Store
from agent_assist.store.errors import DatabaseLockedError
from agent_assist.store.tickets import create_ticket

HOLD = ("import sqlite3, sys\nc = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE')\nprint('held', flush=True)\nsys.stdin.readline()\n")


def per_call_us(conn: sqlite3.Connection, calls: int) -> float:
    started = time.perf_counter()
    for i in range(calls):
        conn.execute("SELECT id FROM tickets WHERE id = ?", (i % 50 + 1,)).fetchone()
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200_000, help="statements per measurement")
    ap.add_argument("--timeout", type=float, default=0.5, help="busy timeout (s) for the busy measurement")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "seam.db"
        with Store(path) as store:
            for n in range(50):
                create_ticket(store, actor="bench", customer_name="A", customer_email=None, subject=f"s{n}",
                              body_text="b", language="en")
            plain = sqlite3.connect(path, isolation_level=None)
            seam, raw = [], []
            for _ in range(5):
                raw.append(per_call_us(plain, args.calls // 5))
                seam.append(per_call_us(store.db.conn, args.calls // 5))
            plain.close()
        print(f"execute, plain connection:       {statistics.median(raw):.2f} µs")
        print(f"execute, translating connection: {statistics.median(seam):.2f} µs "
              f"(+{statistics.median(seam) - statistics.median(raw):.2f} µs)")
        holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        try:
            with Store(path, busy_timeout=args.timeout) as store:
                started = time.perf_counter()
                try:
                    create_ticket(store, actor="bench", customer_name="A", customer_email=None, subject="x",
                                  body_text="b", language="en")
                except DatabaseLockedError:
                    waited = time.perf_counter() - started
        finally:
            holder.communicate("\n", timeout=30)
        print(f"busy: the write said so after {waited:.2f} s (busy timeout {args.timeout:.2f} s)")


if __name__ == "__main__":
    main()
