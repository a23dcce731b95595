"""Attachment names cannot disguise themselves: bidi controls are gone from names shown and saved."""

from __future__ import annotations

import os
import stat
from email.message import EmailMessage
from pathlib import Path

from agent_assist.channels.email import mime
from agent_assist.channels.email.attachments import list_attachments, save_attachment
from agent_assist.channels.email.ingest import store_mail
from tests.channels.email.conftest import email_store

RLO = "\u202e"
DISGUISED = f"invoice{RLO}fdp.exe"  # shown by a bidi-aware viewer as "invoiceexe.pdf"


def mail_with(filename: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Anna Lindqvist <anna@example.se>"
    msg["To"] = "support@desk.example"
    msg["Subject"] = "Faktura"
    msg["Message-ID"] = "<bidi-1@example.se>"
    msg.set_content("Se bifogad faktura.")
    msg.add_attachment(b"MZ\x90\x00 not really a pdf", maintype="application", subtype="octet-stream",
                       filename=filename)
    return msg.as_bytes()


def test_bidi_controls_are_stripped_from_names_but_joiners_stay():
    for control in ("\u202e", "\u202d", "\u202a", "\u202b", "\u202c", "\u2066", "\u2067", "\u2068", "\u2069",
                    "\u200e", "\u200f", "\u061c"):
        assert mime.safe_filename(f"invoice{control}fdp.exe", "application/pdf", 1) == "invoicefdp.exe"
    persian = "نامه\u200cها.pdf"  # the zero-width non-joiner belongs to the word
    assert mime.safe_filename(persian, "application/pdf", 1) == persian


# SQLite only: it writes a name as an older version stored it, straight into the file (on a team server a
# desk may not change a stored attachment at all, team migration 004)
def test_a_right_to_left_override_is_neither_shown_nor_saved(tmp_path: Path):
    parsed = mime.parse(mail_with(DISGUISED))
    assert [a.filename for a in parsed.attachments] == ["invoicefdp.exe"]
    assert parsed.attachments[0].risky  # what it really is: an .exe
    with email_store(tmp_path / "assist.db") as store:
        done = store_mail(store, parsed, actor="alex", window_days=14)
        files = list_attachments(store.db, done.message_row)
        assert [f.filename for f in files] == ["invoicefdp.exe"] and files[0].risky
        # a name stored by an older version with the override in it is cleaned when shown and saved
        store.db.conn.execute("UPDATE email_attachments SET filename = ? WHERE id = ?", (DISGUISED, files[0].id))
        assert list_attachments(store.db, done.message_row)[0].filename == "invoicefdp.exe"
        out = tmp_path / "saved"
        out.mkdir()
        saved = save_attachment(store.db, files[0].id, out)
    assert saved.name == "invoicefdp.exe" and RLO not in os.listdir(out)[0]
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
