"""Run the UI tests many times in a row, optionally with every core kept busy, and count aborts.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/stress_ui.py --runs 20 --load

Each run is a fresh ``pytest tests/ui`` process (a crash in one cannot hide behind another).
With ``--load`` one busy-loop process per core competes for the CPU, which is how timing-dependent
crashes (a background job finishing after its window closed) show themselves. Prints one line per
run and a summary: passed / failed / aborted (killed by a signal), and the slowest run. Exits
non-zero when any run did not pass.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _burn(stop_at: float) -> None:
    x = 0
    while time.monotonic() < stop_at:
        x = (x * 31 + 7) % 1_000_003


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="how many times to run the subset (default 20)")
    parser.add_argument("--load", action="store_true", help="keep every core busy with a busy-loop process")
    parser.add_argument("--subset", default="tests/ui", help="the pytest path to run (default tests/ui)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a run counts as hung")
    args = parser.parse_args(argv)

    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    burners: list[multiprocessing.Process] = []
    if args.load:
        stop_at = time.monotonic() + args.runs * args.timeout
        for _ in range(os.cpu_count() or 2):
            p = multiprocessing.Process(target=_burn, args=(stop_at,), daemon=True)
            p.start()
            burners.append(p)
    results: list[tuple[str, float]] = []
    try:
        for i in range(1, args.runs + 1):
            start = time.monotonic()
            proc = None
            try:
                proc = subprocess.run([sys.executable, "-m", "pytest", args.subset, "-q", "-p", "no:cacheprovider"],
                                      cwd=ROOT, env=env, capture_output=True, text=True, timeout=args.timeout)
                code = proc.returncode
                tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [""]
            except subprocess.TimeoutExpired:
                code, tail = None, ["hung"]
            took = time.monotonic() - start
            if code == 0:
                outcome = "passed"
            elif code is None:
                outcome = "hung"
            elif code < 0 or code >= 128:
                outcome = "aborted"
            else:
                outcome = "failed"
            results.append((outcome, took))
            print(f"run {i:2}/{args.runs}: {outcome:7} {took:6.1f} s  {tail[0]}", flush=True)
            if outcome != "passed" and proc is not None and code is not None:
                for line in (proc.stdout + proc.stderr).splitlines():
                    if "Fatal Python error" in line or "FAILED" in line or "aborted during" in line:
                        print("    " + line, flush=True)
    finally:
        for p in burners:
            p.terminate()
    counts = {k: sum(1 for o, _ in results if o == k) for k in ("passed", "failed", "aborted", "hung")}
    print(f"{args.subset} x{args.runs}{' under CPU load' if args.load else ''}: "
          + ", ".join(f"{v} {k}" for k, v in counts.items())
          + f"; slowest run {max(t for _, t in results):.1f} s, median {sorted(t for _, t in results)[len(results) // 2]:.1f} s")
    return 0 if counts["passed"] == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
