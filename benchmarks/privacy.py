"""What the privacy guards cost: the log scrubber per line, and reading a help-centre export whole
versus cut off mid-file (the incremental path that keeps the complete records).

    .venv/bin/python benchmarks/privacy.py [--lines 20000] [--records 20000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]  # this folder has a queue.py
ROOT = _HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agent_assist.knowledge.importers import ArticleRecord, Skipped, read_path  # noqa: E402
from agent_assist.logs import Scrubber  # noqa: E402

LINES = [
    "queue loaded: 412 tickets in 38 ms",
    "GET https://api.example.com/v1/models?api-version=2024-06-01 200",
    "draft for #1234 streamed: 312 tokens, provider openai, model gpt-4o-mini",
    "mail from anna%40example.com threaded into #88 (references)",
    "card 4111.1111.1111.1111 mentioned in #77; payment ref 2026-11-25",
    "POST https://u:sk-proj-Zq3XbT9uKc2LmN8pQr4sVw6yA1bC@llm.example.com/v1/chat/completions 429",
]


def bench_scrubber(n: int) -> None:
    scrub = Scrubber()
    for line in LINES:
        scrub(line)  # warm up the detectors' regular expressions
    rounds = []
    for _ in range(3):
        start = time.perf_counter()
        for i in range(n):
            scrub(LINES[i % len(LINES)])
        rounds.append((time.perf_counter() - start) / n * 1e6)
    print(f"log scrubber: {statistics.median(rounds):.1f} µs per line (median of 3 rounds of {n:,} lines)")


def bench_export(records: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        doc = {"articles": [{"id": i, "title": f"Article {i}", "locale": "en", "section_id": i % 40,
                             "body": f"<p>Answer {i}: open the app and choose Pay now.</p>" * 6}
                            for i in range(records)]}
        text = json.dumps(doc, indent=1)
        whole, cut = Path(tmp, "whole.json"), Path(tmp, "cut.json")
        whole.write_text(text, encoding="utf-8")
        cut.write_text(text[: len(text) * 9 // 10], encoding="utf-8")
        for label, path in (("whole", whole), ("cut at 90 %", cut)):
            start = time.perf_counter()
            items = list(read_path(path))
            took = time.perf_counter() - start
            ok = sum(isinstance(i, ArticleRecord) for i in items)
            tail = next((i.reason for i in items if isinstance(i, Skipped)), "-")
            print(f"export {label} ({path.stat().st_size / 2**20:.1f} MB, {records:,} records): {took:.2f} s, "
                  f"{ok:,} read; {tail}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args()
    bench_scrubber(args.lines)
    bench_export(args.records)


if __name__ == "__main__":
    main()
