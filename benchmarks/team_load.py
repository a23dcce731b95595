"""Team mode under load: 50 agent processes work one queue for a fixed time while some are killed.

Starts a private PostgreSQL, sets up a team (one supervisor, N agents, a four-eyes rule), loads
tickets on the server (``team.load``), then runs N agent processes and one supervisor process, each
with its own real connection as its own login, for ``--seconds``:

* an agent presses "Next ticket" (``teamwork.claim_next``: FOR UPDATE SKIP LOCKED), renews its
  desk's heartbeat, drafts a reply and approves and sends it (a four-eyes ticket goes to the
  supervisor instead), and gives the claim back;
* the supervisor approves and sends what waits for four eyes;
* every ``--kill-every`` seconds a random agent process is killed with SIGKILL (no clean-up) and a
  new one starts for the same person at a new desk; the dead desk's claims run out after their lease.

Then it checks, from the processes' own logs and the database: no ticket claimed by two live desks,
no reply sent twice, nothing a process reported missing in the database (no lost update), every
claim of a killed desk given back, ``audit verify`` clean; and prints claim latency p50/p95 and
throughput.

    .venv/bin/python benchmarks/team_load.py [--agents 50] [--seconds 60] [--kill-every 5] [--tickets 20000]
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]  # our queue.py is not the stdlib's

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

ROOT = _HERE.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from agent_assist.store.postgres import audit as team_audit  # noqa: E402
from agent_assist.store.postgres import team  # noqa: E402
from tests.postgres_server import PostgresServer, postgres_bindir  # noqa: E402

PASSWORD = "load test password"
SUPERVISOR = "lead"
LEASE_S = 10  # claims of a killed desk run out after this (the app uses teamwork.CLAIM_LEASE_S)
FOUR_EYES_FLAG = "complaint_legal"  # team.load flags about 3% of tickets with it


# -- the worker processes ------------------------------------------------------------------------
def _log(out, **event) -> None:
    out.write(json.dumps(event) + "\n")
    out.flush()


def agent_main(url: str, person: str, seconds: float, log_path: str) -> int:
    from agent_assist.store import drafts, teamwork
    from agent_assist.store.postgres.store import PostgresStore

    store = PostgresStore(url, listen=False)
    desk = teamwork.new_desk_id()
    end = time.time() + seconds
    with open(log_path, "a", encoding="utf-8") as out:
        _log(out, e="start", desk=desk, at=time.time())
        while time.time() < end:
            started = time.perf_counter()
            ticket = teamwork.claim_next(store, person=person, desk=desk, lease_s=LEASE_S)
            ms = (time.perf_counter() - started) * 1000
            _log(out, e="claim", t=ticket, ms=ms, at=time.time(), desk=desk)
            if ticket is None:
                time.sleep(0.2)
                continue
            teamwork.heartbeat(store, desk=desk, ticket_id=ticket, writing=True, lease_s=LEASE_S)
            draft = drafts.suggest(store, ticket, "Hello, thank you for writing.", actor=person, source="offline")
            message = drafts.approve_and_send(store, draft, f"Hello, {person} here: we sorted out ticket #{ticket}.",
                                              actor=person)
            if message is None:
                _log(out, e="requested", t=ticket, d=draft, desk=desk)
            else:
                _log(out, e="sent", t=ticket, m=message, desk=desk)
            teamwork.release_claim(store, ticket)
            teamwork.heartbeat(store, desk=desk, ticket_id=None, writing=False, lease_s=LEASE_S)
    store.close()
    return 0


def supervisor_main(url: str, person: str, seconds: float, log_path: str) -> int:
    from agent_assist.store import review
    from agent_assist.store.postgres.store import PostgresStore

    store = PostgresStore(url, listen=False)
    end = time.time() + seconds + 2 * LEASE_S  # stays on a little to finish what waits
    with open(log_path, "a", encoding="utf-8") as out:
        while time.time() < end:
            waiting = store.db.conn.execute(
                "SELECT id, body, ticket_id FROM drafts WHERE state = 'awaiting_supervisor' ORDER BY id LIMIT 20"
            ).fetchall()
            for draft, body, ticket in waiting:
                message = review.approve_and_send(store, draft, body, actor=person)
                _log(out, e="sent", t=ticket, m=message, d=draft, by="supervisor")
            if not waiting:
                time.sleep(0.2)
    store.close()
    return 0


# -- the run -------------------------------------------------------------------------------------
def _spawn(role: str, url: str, person: str, seconds: float, log_path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "--worker", role, url, person, str(seconds), str(log_path)],
                            cwd=ROOT, stdout=subprocess.DEVNULL)


def _events(folder: Path) -> list[dict]:
    found = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:  # a line cut short by SIGKILL
                continue
    return found


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(args) -> bool:
    with PostgresServer(max_connections=args.agents + 40) as server, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dbname = server.create_database("load")
        admin = server.url(dbname)
        team.init(admin, SUPERVISOR, PASSWORD)
        people = [f"agent{i:02d}" for i in range(1, args.agents + 1)]
        for person in people:
            team.add_person(admin, person, "agent", PASSWORD)
        from benchmarks.team import load  # the 1M benchmark's loader: varied tickets in one statement

        load(admin, args.tickets, people[0])
        with psycopg.connect(server.url(dbname, user=SUPERVISOR, password=PASSWORD), autocommit=True,
                             options="-c search_path=agent_assist") as sup:
            sup.execute("INSERT INTO rules (flag, action) VALUES (%s, 'four_eyes') "
                        "ON CONFLICT (flag) DO UPDATE SET action = 'four_eyes'", [FOUR_EYES_FLAG])
        with psycopg.connect(admin, autocommit=True, options="-c search_path=agent_assist") as conn:
            free = conn.execute("SELECT count(*) FROM tickets WHERE assignee IS NULL AND status IN ('new', 'open')"
                                ).fetchone()[0]
        print(f"{args.tickets:,} tickets, {free:,} free to claim; {args.agents} agents + 1 supervisor for "
              f"{args.seconds:g} s, one agent killed every {args.kill_every:g} s")

        def url(person: str) -> str:
            return server.url(dbname, user=person, password=PASSWORD)

        procs: dict[str, subprocess.Popen] = {}
        started = time.time()
        for i, person in enumerate(people):
            procs[person] = _spawn("agent", url(person), person, args.seconds, folder / f"{person}-0.jsonl")
        supervisor = _spawn("supervisor", url(SUPERVISOR), SUPERVISOR, args.seconds, folder / "supervisor.jsonl")
        kills: list[tuple[str, float, int]] = []  # person, when, its log generation
        generation = {p: 0 for p in people}
        next_kill = started + args.kill_every
        while time.time() < started + args.seconds:
            time.sleep(0.2)
            if args.kill_every and time.time() >= next_kill and time.time() < started + args.seconds - 1:
                next_kill += args.kill_every
                person = random.choice(people)
                os.kill(procs[person].pid, signal.SIGKILL)
                procs[person].wait()
                kills.append((person, time.time(), generation[person]))
                generation[person] += 1
                left = started + args.seconds - time.time()
                procs[person] = _spawn("agent", url(person), person, left,
                                       folder / f"{person}-{generation[person]}.jsonl")
        for proc in procs.values():
            proc.wait(timeout=120)
        elapsed = time.time() - started  # the agents' working time (the supervisor finishes what waits)
        supervisor.wait(timeout=120)
        events = _events(folder)

        # which desk each log line came from, and when each killed desk died
        killed_desks: dict[str, float] = {}
        for person, at, gen in kills:
            log_file = folder / f"{person}-{gen}.jsonl"
            if not log_file.exists():  # killed while it was still starting: it never claimed anything
                continue
            lines = log_file.read_text(encoding="utf-8").splitlines()
            start = next((json.loads(x) for x in lines if '"e": "start"' in x), None)
            if start is not None:
                killed_desks[start["desk"]] = at
        time.sleep(LEASE_S + 1)  # the dead desks' leases run out
        problems: list[str] = []
        with psycopg.connect(admin, autocommit=True, options="-c search_path=agent_assist") as conn:
            conn.execute("SELECT release_expired_claims()")
            claims: dict[int, list[dict]] = {}
            for e in events:
                if e["e"] == "claim" and e["t"] is not None:
                    claims.setdefault(e["t"], []).append(e)
            for ticket, got in claims.items():
                got.sort(key=lambda e: e["at"])
                for earlier, later in zip(got, got[1:]):
                    died = killed_desks.get(earlier["desk"])
                    if died is None or died > later["at"]:
                        problems.append(f"#{ticket} claimed by {earlier['desk']} and {later['desk']} while both lived")
            twice = conn.execute("SELECT ticket_id, count(*) FROM messages WHERE direction = 'outbound' "
                                 "GROUP BY ticket_id HAVING count(*) > 1").fetchall()
            problems += [f"#{t}: {n} replies sent" for t, n in twice]
            sent_events = [e for e in events if e["e"] == "sent"]
            for e in sent_events:
                row = conn.execute("SELECT ticket_id FROM messages WHERE id = %s AND direction = 'outbound'",
                                   [e["m"]]).fetchone()
                if row is None or row[0] != e["t"]:
                    problems.append(f"reply {e['m']} to #{e['t']} reported sent but not in the database")
            for e in (e for e in events if e["e"] == "requested"):
                state = conn.execute("SELECT state FROM drafts WHERE id = %s", [e["d"]]).fetchone()
                if state is None or state[0] not in ("awaiting_supervisor", "sent"):
                    problems.append(f"draft {e['d']} asked for four eyes but is {state}")
            outbound = conn.execute("SELECT count(*) FROM messages WHERE direction = 'outbound'").fetchone()[0]
            audited = conn.execute("SELECT count(*) FROM audit WHERE action = 'reply.sent'").fetchone()[0]
            if outbound != audited:
                problems.append(f"{outbound} replies but {audited} reply.sent audit rows")
            left_claims = conn.execute("SELECT count(*) FROM ticket_claims WHERE desk = ANY(%s)",
                                       [list(killed_desks)]).fetchone()[0]
            if left_claims:
                problems.append(f"{left_claims} claims of killed desks were not given back")
            stranded = conn.execute(
                "SELECT count(*) FROM tickets t WHERE t.assignee IS NOT NULL AND t.status IN ('new', 'open') "
                "AND t.assignee LIKE 'agent%%' AND NOT EXISTS (SELECT 1 FROM ticket_claims c WHERE c.ticket_id = t.id) "
                "AND EXISTS (SELECT 1 FROM audit a WHERE a.ticket_id = t.id AND a.action = 'ticket.assigned' "
                "AND a.at >= %s)", [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))]).fetchone()[0]
            if stranded:
                problems.append(f"{stranded} tickets claimed in the run are still assigned with no claim and no reply")
            verified = team_audit.verify(conn)
            if not verified.ok:
                problems.append(f"audit verify: {verified}")
            four_eyes = conn.execute("SELECT count(*) FROM drafts WHERE requested_by IS NOT NULL AND state = 'sent'"
                                     ).fetchone()[0]
            audit_rows = conn.execute("SELECT count(*) FROM audit").fetchone()[0]
        latencies = [e["ms"] for e in events if e["e"] == "claim" and e["t"] is not None]
        empty = sum(1 for e in events if e["e"] == "claim" and e["t"] is None)
        reclaimed = sum(len(v) - 1 for v in claims.values())
        print(f"claims: {len(latencies):,} (and {empty:,} with nothing free); claim latency p50 "
              f"{statistics.median(latencies) if latencies else float('nan'):.1f} ms, p95 {_pct(latencies, 0.95):.1f} ms, "
              f"max {max(latencies, default=float('nan')):.1f} ms")
        print(f"replies sent: {outbound:,} in {elapsed:.0f} s = {outbound / elapsed:.1f}/s "
              f"({four_eyes:,} through four eyes by the supervisor)")
        print(f"agents killed with SIGKILL: {len(kills)}; their tickets claimed again after the lease: {reclaimed}")
        print(f"audit: {audit_rows:,} rows, verify {'clean' if verified.ok else 'FAILED'}")
        print(f"claimed twice: {sum('claimed by' in p for p in problems)}; sent twice: {len(twice)}; "
              f"lost updates: {sum('not in the database' in p or 'asked for four eyes' in p for p in problems)}")
        for p in problems[:20]:
            print("PROBLEM:", p)
        return not problems


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        role, url, person, seconds, log_path = sys.argv[2:7]
        fn = agent_main if role == "agent" else supervisor_main
        return fn(url, person, float(seconds), log_path)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--kill-every", type=float, default=5)
    parser.add_argument("--tickets", type=int, default=20_000)
    args = parser.parse_args()
    if postgres_bindir() is None:
        print("PostgreSQL is not installed: run packaging/postgres-test-server.sh", file=sys.stderr)
        return 2
    return 0 if run(args) else 1


if __name__ == "__main__":
    raise SystemExit(main())
