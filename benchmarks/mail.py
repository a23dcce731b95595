"""E-mail sync at scale: 20k messages from a real Dovecot into a fresh store.

Generates the mail (first contacts, replies that thread by In-Reply-To, replies that thread by
subject only, some HTML with a tracking pixel and an inline image, six languages), writes it
straight into a Maildir (seconds, instead of 20k APPENDs), lets Dovecot index it, then times
``sync()`` and prints messages/s. With ``--resync`` it also renumbers the folder (new
UIDVALIDITY) and times the duplicate-safe resync.

    .venv/bin/python benchmarks/mail.py [--messages 20000] [--batch 200] [--resync]

Needs Dovecot (packaging/mail-test-servers.sh).
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder holds a queue.py: keep it off the import path so the standard library's queue wins
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse
import random
import resource
import shutil
import tempfile
import time

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent_assist.channels.email import MailboxConfig, sync  # noqa: E402
from tests.channels.email.conftest import email_store  # noqa: E402
from tests.channels.email.servers import Dovecot, dovecot_binary  # noqa: E402

BODIES = {
    "en": "Hello, my refund for order {order} has not arrived yet although the shop confirmed the return. "
          "Could you please check what is going on? Thanks a lot.",
    "sv": "Hej! Jag har fortfarande inte fått min återbetalning för order {order} trots att butiken har "
          "bekräftat returen. Kan ni kolla vad som händer?",
    "de": "Hallo, meine Rückerstattung für die Bestellung {order} ist noch nicht angekommen, obwohl der Shop "
          "die Rücksendung bestätigt hat. Können Sie das bitte prüfen?",
    "es": "Hola, todavía no he recibido el reembolso del pedido {order} aunque la tienda confirmó la "
          "devolución. ¿Pueden revisarlo, por favor?",
    "fr": "Bonjour, je n'ai toujours pas reçu le remboursement de la commande {order} alors que la boutique a "
          "confirmé le retour. Pouvez-vous vérifier ?",
    "nl": "Hallo, mijn terugbetaling voor bestelling {order} is nog steeds niet binnen, terwijl de winkel de "
          "retour heeft bevestigd. Kunnen jullie dat nakijken?",
}
SUBJECTS = ("Refund missing", "Payment failed", "Change due date", "Wrong item", "Card declined", "Late fee",
            "Account locked", "Invoice question")


def generate(n: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    out: list[bytes] = []
    sent: list[tuple[int, str, str]] = []  # (customer, message id, subject) of earlier mail
    customers = max(1, n * 6 // 10)
    for i in range(n):
        lang = rng.choice(tuple(BODIES))
        body = BODIES[lang].format(order=f"LP{rng.randrange(10**7, 10**8)}")
        mid = f"<bench-{seed}-{i}@mail{i % 50}.example>"
        headers = []
        kind = rng.random()
        if sent and kind < 0.20:  # a reply by header
            cust, parent, subject = rng.choice(sent[-2000:])
            headers += [f"In-Reply-To: {parent}", f"References: {parent}"]
            subject = f"Re: {subject}"
        elif sent and kind < 0.30:  # a reply by subject only
            cust, _, subject = rng.choice(sent[-2000:])
            subject = f"AW: {subject}"
        else:
            cust, subject = rng.randrange(customers), f"{rng.choice(SUBJECTS)} {rng.randrange(10**5)}"
        sender = f"Customer {cust} <customer{cust}@example{cust % 97}.com>"
        head = (f"From: {sender}\r\nTo: support@desk.example\r\nSubject: {subject}\r\n"
                f"Date: Tue, 10 Mar 2026 12:{i % 60:02d}:00 +0000\r\nMessage-ID: {mid}\r\nMIME-Version: 1.0\r\n"
                + "".join(h + "\r\n" for h in headers))
        if rng.random() < 0.25:
            raw = (head + 'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
                   "--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                   f"{body}\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                   f'<html><body><p style="color:#222">{body}</p><img src="https://t.example/p.gif?i={i}">'
                   f"<script>track({i})</script></body></html>\r\n--b--\r\n")
        else:
            raw = head + f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
        out.append(raw.encode("utf-8"))
        sent.append((cust, mid, subject.removeprefix("Re: ").removeprefix("AW: ")))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--resync", action="store_true", help="also time a resync after a UIDVALIDITY change")
    args = parser.parse_args()
    if dovecot_binary() is None:
        sys.exit("Dovecot is not installed: run packaging/mail-test-servers.sh")
    work = Path(tempfile.mkdtemp(prefix="agent-assist-mail-bench-"))
    server = Dovecot(work)
    try:
        t0 = time.perf_counter()
        messages = generate(args.messages)
        t1 = time.perf_counter()
        server.start()
        server.write_maildir(messages)
        t2 = time.perf_counter()
        assert server.count() == args.messages  # Dovecot scans and indexes the Maildir here
        t3 = time.perf_counter()
        total_mb = sum(len(m) for m in messages) / 1_048_576
        print(f"generated {args.messages} mails ({total_mb:.1f} MB) in {t1 - t0:.1f} s; "
              f"Maildir written in {t2 - t1:.1f} s; Dovecot indexed them in {t3 - t2:.1f} s")

        store = email_store(work / "bench.db")
        mailbox = MailboxConfig(imap_host=server.host, imap_port=server.port, imap_tls="none",
                                imap_user=server.user, from_address="support@desk.example")
        marks: list[tuple[float, int]] = []
        start = time.perf_counter()
        report = sync(store, mailbox, server.password, batch=args.batch,
                      progress=lambda done, total: marks.append((time.perf_counter() - start, done)))
        elapsed = time.perf_counter() - start
        tickets = store.db.conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        msgs = store.db.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        first_batch = marks[1][0] if len(marks) > 1 else float("nan")
        print(f"sync: {report.processed} messages in {elapsed:.1f} s = {report.processed / elapsed:.0f} messages/s "
              f"(first batch of {args.batch} after {first_batch:.2f} s, incl. loading the language model)")
        print(f"  {report.imported} new tickets, {report.threaded} threaded into existing ones, "
              f"{report.duplicates} duplicates, {len(report.skipped)} skipped; {tickets} tickets, {msgs} messages")
        size = sum(p.stat().st_size for p in work.glob("bench.db*")) / 1_048_576
        print(f"  database {size:.0f} MB; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        start = time.perf_counter()
        again = sync(store, mailbox, server.password)
        print(f"sync with nothing new: {(time.perf_counter() - start) * 1000:.0f} ms ({again.processed} processed)")

        if args.resync:
            server.stop()
            for path in server.maildir.glob("dovecot*"):  # forget the UIDs: a new UIDVALIDITY
                path.unlink()
            server.start()
            start = time.perf_counter()
            resync = sync(store, mailbox, server.password, batch=args.batch)
            elapsed = time.perf_counter() - start
            print(f"resync after UIDVALIDITY change: {resync.processed} messages in {elapsed:.1f} s "
                  f"({resync.duplicates} recognised as duplicates without downloading, {resync.imported} new)")
        store.close()
    finally:
        server.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
