"""The outbox with several senders: e-mails/s, and that each reply goes out exactly once.

Queues N replies in a fresh store, then delivers them to a real aiosmtpd server, first with one
sender, then with K sender processes started together (half of them opening the database through a
symlink). Prints e-mails/s and the e-mails the server received per reply (1.00 is right). Also times
an outbox step committed normally against one committed with ``synchronous = FULL`` (``durable=True``).

    .venv/bin/python benchmarks/outbox_senders.py [--replies 200] [--senders 4] [--dir FOLDER]

Needs aiosmtpd (the test extra); no IMAP server (no Sent folder is used).
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder holds a queue.py: keep it off the import path so the standard library's queue wins
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse
import json
import subprocess
import tempfile
import time

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent_assist.channels.email import MailboxConfig, deliver_pending, enqueue_reply  # noqa: E402
from agent_assist.store import drafts, tickets  # noqa: E402
from tests.channels.email.conftest import email_store  # noqa: E402
from tests.channels.email.servers import SmtpSink  # noqa: E402


def queue(store, mailbox: MailboxConfig, n: int) -> None:
    ticket_id = tickets.create_ticket(store, actor="bench", customer_name="Tom", customer_email="tom@example.co.uk",
                                      subject="Late fee", body_text="Please help", language="en")
    for i in range(n):
        draft_id = drafts.suggest(store, ticket_id, "draft", actor="offline", source="offline")
        with store.transaction():
            row = drafts.approve_and_send(store, draft_id, f"Reply {i}.", actor="alex")
            enqueue_reply(store, row, mailbox=mailbox, actor="alex")


def senders(db: Path, link: Path, mailbox: MailboxConfig, k: int) -> float:
    args = {"mailbox": mailbox.to_dict(), "password": None, "smtp_password": None, "barrier": True,
            "limit": 1_000_000}
    procs = [subprocess.Popen([sys.executable, "-m", "tests.channels.email.crash_child",
                               json.dumps({**args, "db": str(link if i % 2 else db)})], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE) for i in range(k)]
    for p in procs:
        assert p.stdout.readline().strip() == b"ready"
    start = time.perf_counter()
    for p in procs:
        p.stdin.write(b"go\n")
        p.stdin.flush()
    for p in procs:
        p.communicate(timeout=600)
    return time.perf_counter() - start


def commit_cost(store, n: int = 300) -> tuple[float, float]:
    out = []
    for durable in (False, True):
        start = time.perf_counter()
        for i in range(n):
            with store.transaction(durable=durable) as db:
                db.conn.execute("UPDATE email_outbox SET last_error = ? WHERE id = 1", (f"bench {i}",))
        out.append((time.perf_counter() - start) / n * 1000)
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replies", type=int, default=200)
    ap.add_argument("--senders", type=int, default=4)
    ap.add_argument("--dir", default=None, help="where the databases go (a real disk: /tmp may be in memory)")
    opts = ap.parse_args()
    sink = SmtpSink().start()
    try:
        with tempfile.TemporaryDirectory(dir=opts.dir) as tmp:
            box = MailboxConfig(imap_host="127.0.0.1", imap_user="support", imap_tls="none", smtp_host="127.0.0.1",
                                smtp_port=sink.port, smtp_tls="none", sent_folder="",
                                from_address="Support <support@desk.example>")
            for k in (1, opts.senders):
                db = Path(tmp) / f"k{k}" / "assist.db"
                db.parent.mkdir()
                link = Path(tmp) / f"k{k}" / "link.db"
                link.symlink_to(db)
                store = email_store(db)
                queue(store, box, opts.replies)
                before = len(sink.received)
                if k == 1:
                    start = time.perf_counter()
                    deliver_pending(store, box, None, limit=1_000_000)
                    took = time.perf_counter() - start
                else:
                    took = senders(db, link, box, k)
                got = len(sink.received) - before
                left = store.db.conn.execute("SELECT COUNT(*) FROM email_outbox WHERE state != 'sent'").fetchone()[0]
                print(f"{k} sender(s): {opts.replies} replies in {took:.2f} s = {opts.replies / took:.0f} e-mails/s; "
                      f"received {got} ({got / opts.replies:.2f} per reply), not sent {left}")
                if k == 1:
                    plain, durable = commit_cost(store)
                    print(f"one outbox step: {plain:.2f} ms committed normally, {durable:.2f} ms with "
                          f"synchronous=FULL (this disk: {db.parent})")
                store.close()
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
