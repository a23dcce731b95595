"""Team mode on PostgreSQL: how fast a change reaches another desk, and what the rules cost.

Starts a private PostgreSQL (as the tests do), sets up a team with ``team.init``, then measures:

* LISTEN/NOTIFY latency: one desk creates a ticket (ticket + first message, one transaction),
  another desk that LISTENs is woken; the time from before the INSERT to the notification (the
  issue asks for under 1 s);
* the enforced send path: ``approve_and_send`` through the SECURITY DEFINER functions, per reply;
* the audit chain: ``verify`` over every row written.

    .venv/bin/python benchmarks/team_postgres.py [--tickets 300] [--desks 3]

Needs the PostgreSQL server package (packaging/postgres-test-server.sh).
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder holds a queue.py: keep it off the import path so the standard library's queue wins
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import statistics  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from agent_assist.store.postgres import audit  # noqa: E402
from tests.postgres_server import PostgresServer, postgres_bindir  # noqa: E402
from tests.store.postgres.conftest import make_team  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def create_ticket(conn: psycopg.Connection, i: int) -> int:
    with conn.transaction():
        customer = conn.execute("INSERT INTO customers (name) VALUES (%s) RETURNING id", [f"Customer {i}"]).fetchone()[0]
        ticket = conn.execute("INSERT INTO tickets (customer_id, subject) VALUES (%s, %s) RETURNING id",
                              [customer, f"Question {i}"]).fetchone()[0]
        conn.execute("INSERT INTO messages (ticket_id, direction, author, body_text) VALUES (%s, 'inbound', %s, %s)",
                     [ticket, f"Customer {i}", "Where is my refund?"])
    return ticket


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--desks", type=int, default=3, help="desks writing at once for the throughput run")
    args = parser.parse_args()
    if postgres_bindir() is None:
        print("PostgreSQL is not installed: run packaging/postgres-test-server.sh", file=sys.stderr)
        return 2
    with PostgresServer() as server:
        team = make_team(server)
        alex, sam = team.add("alex", "agent"), team.add("sam", "agent")
        writer, listener = team.connect(alex), team.connect(sam)
        listener.execute("LISTEN agent_assist_tickets")

        latencies = []
        for i in range(args.tickets):
            started = time.perf_counter()
            ticket = create_ticket(writer, i)
            for note in listener.notifies(timeout=5, stop_after=1):
                assert note.payload == str(ticket)
            latencies.append(time.perf_counter() - started)
        print(f"ticket created at one desk -> seen at another (LISTEN/NOTIFY), {args.tickets} tickets: "
              f"median {statistics.median(latencies) * 1000:.1f} ms, p95 {percentile(latencies, 0.95) * 1000:.1f} ms, "
              f"max {max(latencies) * 1000:.1f} ms")

        tickets = [r[0] for r in writer.execute("SELECT id FROM tickets ORDER BY id")]
        drafts = [writer.execute("INSERT INTO drafts (ticket_id, source, body) VALUES (%s, 'ai', 'Hello, it is on "
                                 "its way.') RETURNING id", [t]).fetchone()[0] for t in tickets]
        started = time.perf_counter()
        for d in drafts:
            writer.execute("SELECT approve_and_send(%s, 'Hello, it is on its way.')", [d])
        took = time.perf_counter() - started
        print(f"approve_and_send through the enforced path, one desk: {len(drafts) / took:.0f} replies/s "
              f"({took / len(drafts) * 1000:.1f} ms each)")

        names = [team.add(f"desk{n}", "agent") for n in range(args.desks)]
        per_desk = max(1, args.tickets // args.desks)

        def desk(name: str) -> None:
            with psycopg.connect(team.url_for(name), autocommit=True) as conn:
                for i in range(per_desk):
                    create_ticket(conn, i)

        threads = [threading.Thread(target=desk, args=(n,)) for n in names]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.perf_counter() - started
        print(f"{args.desks} desks creating tickets at once (one audit chain): "
              f"{per_desk * args.desks / took:.0f} tickets/s")

        admin = team.admin()
        started = time.perf_counter()
        result = audit.verify(admin)
        took = time.perf_counter() - started
        print(f"audit chain: {result.rows} rows, intact={result.ok}, verified in {took:.2f} s")
        team.drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
