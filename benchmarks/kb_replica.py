"""A team desk's knowledge replica at scale: 50k articles on the server, a local SQLite FTS5 copy.

Starts a private PostgreSQL (as the tests do), sets up a team with ``team.init``, loads generated
articles (benchmarks/kb.py's generator) through the app's import path, then prints:

* the first sync (everything, in batches, off the UI thread in the app) of all articles;
* an incremental sync after another desk changed 100 articles (and how many rows it read);
* search latency p50/p95 over the same queries, on the replica (FTS5, the desk's search) and on the
  server (``tsvector``, team_search), each run through ``knowledge.search.search``.

    .venv/bin/python benchmarks/kb_replica.py [--articles 50000] [--changes 100] [--queries 200]

Needs the PostgreSQL server package (packaging/postgres-test-server.sh).

Measured here (2 shared cores, 50k articles of 1-5 KB): first sync 21 s (2,400 articles/s, a 291 MB
replica; indexed once at its end, where FTS5 kept row by row took over 6 min); incremental sync of 100
changes 85 ms (100 rows read), nothing new 2 ms; search p50/p95 4.5/22 ms on the replica against
13.6/103 ms on the server.
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder holds a queue.py: keep it off the import path so the standard library's queue wins
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agent_assist.knowledge.articles import add_articles  # noqa: E402
from agent_assist.knowledge.search import search  # noqa: E402
from agent_assist.store import articles  # noqa: E402
from agent_assist.store.knowledge_replica import KnowledgeReplica, sync  # noqa: E402
from agent_assist.store.postgres import team  # noqa: E402
from agent_assist.store.postgres.store import PostgresStore  # noqa: E402
from tests.postgres_server import PostgresServer, postgres_bindir  # noqa: E402

from benchmarks.kb import generate_articles, make_queries  # noqa: E402

PASSWORD = "benchmark password"


def _pct(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def latency(db, queries: list[str], rounds: int) -> list[float]:
    for q in queries:  # warm-up
        search(db, q)
    out = []
    for _ in range(rounds):
        for q in queries:
            t = time.perf_counter()
            search(db, q)
            out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=50_000)
    ap.add_argument("--changes", type=int, default=100)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    if postgres_bindir() is None:
        print("PostgreSQL is not installed: run packaging/postgres-test-server.sh", file=sys.stderr)
        return 2
    with PostgresServer() as server, tempfile.TemporaryDirectory() as tmp:
        name = server.create_database("kbreplica")
        team.init(server.url(name), "sue", PASSWORD)
        team.add_person(server.url(name), "alex", "agent", PASSWORD)
        sue = PostgresStore(server.url(name, user="sue", password=PASSWORD), listen=False)
        alex = PostgresStore(server.url(name, user="alex", password=PASSWORD), listen=False)
        t0 = time.perf_counter()
        add_articles(sue, list(generate_articles(args.articles)), actor="sue")
        sue.analyze()
        print(f"server: {args.articles:,} articles imported in {time.perf_counter() - t0:.1f} s")

        with KnowledgeReplica(Path(tmp) / "replica.db") as replica:
            t0 = time.perf_counter()
            first = sync(alex, replica)
            took = time.perf_counter() - t0
            size = (Path(tmp) / "replica.db").stat().st_size / 1e6
            print(f"first sync: {first.added:,} articles in {took:.1f} s ({first.added / took:,.0f} articles/s), "
                  f"replica {size:.0f} MB")

            ids = [r[0] for r in sue.db.conn.execute("SELECT id FROM articles ORDER BY id LIMIT ?", (args.changes,))]
            with sue.transaction() as db:
                for i in ids[: args.changes - args.changes // 10]:
                    articles.update(db, i, {"title": f"Changed title {i}"})
                for i in ids[args.changes - args.changes // 10:]:
                    articles.delete(db, i)
            t0 = time.perf_counter()
            step = sync(alex, replica)
            took = time.perf_counter() - t0
            print(f"incremental sync after {args.changes} changes at another desk: {took * 1000:.0f} ms, "
                  f"read {step.transferred} rows ({step.changed} changed, {step.removed} removed, {step.added} added)")
            t0 = time.perf_counter()
            idle = sync(alex, replica)
            print(f"sync with nothing new: {(time.perf_counter() - t0) * 1000:.1f} ms, read {idle.transferred} rows")

            queries = make_queries(replica, args.queries)
            local = latency(replica.db, queries, args.rounds)
            remote = latency(alex.db, queries, args.rounds)
            print(f"search on the replica (FTS5, {len(local)} runs): p50 {statistics.median(local):.2f} ms, "
                  f"p95 {_pct(local, 95):.2f} ms")
            print(f"search on the server (tsvector, {len(remote)} runs): p50 {statistics.median(remote):.2f} ms, "
                  f"p95 {_pct(remote, 95):.2f} ms")
            print(f"replica vs server, p50: {statistics.median(remote) / statistics.median(local):.1f}x faster")
        alex.close()
        sue.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
