"""What the UI may ask about an e-mail message: its attachments, inline images and notes.

Attachments are listed and saved on request, never opened: :func:`save_attachment` writes
the bytes to a folder the person chose, under a cleaned name that cannot escape it, without
execute permission and readable only by its owner (0600). :func:`inline_image` serves ``cid:`` images to a viewer that asks for them
(raster formats only; SVG can carry script and is never rendered).

Why blobs in SQLite rather than files in the data folder: an attachment then commits in the
same transaction as its message and the sync ledger (no orphan or missing files after a
crash, nothing to clean up), the one database file stays the whole truth (backup = copy one
file), file names from strangers never reach the file system until a person saves one, and
identical files (logos, signatures) are stored once (content-addressed by SHA-256). The cost,
a bigger database file, does not slow the queue: blobs sit in their own table that no queue
query reads.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from agent_assist.channels.email.mime import safe_filename
from agent_assist.sanitize import strip_bidi
from agent_assist.store.errors import NotFoundError

RENDERABLE_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp")


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    message_row: int | None
    filename: str
    content_type: str
    size: int
    inline: bool
    risky: bool
    content_id: str | None
    note: str | None

    @property
    def kept(self) -> bool:
        return self.note is None


_COLUMNS = "id, message_row, filename, content_type, size, inline, risky, content_id, note"


def _info(row) -> AttachmentInfo:
    # names stored by an older version may still carry bidi overrides: never show one
    return AttachmentInfo(row[0], row[1], strip_bidi(row[2]), row[3], row[4], bool(row[5]), bool(row[6]), row[7],
                          row[8])


def list_attachments(db: sqlite_utils.Database, message_row: int, *,
                     include_inline: bool = True) -> list[AttachmentInfo]:
    """The attachments of one thread message (``messages.id``), in the order they came."""
    sql = f"SELECT {_COLUMNS} FROM email_attachments WHERE message_row = ?"
    if not include_inline:
        sql += " AND inline = 0"
    return [_info(r) for r in db.conn.execute(sql + " ORDER BY position", (message_row,))]


def attachments_for_ticket(db: sqlite_utils.Database, ticket_id: int) -> list[AttachmentInfo]:
    return [_info(r) for r in db.conn.execute(
        f"SELECT {', '.join('a.' + c for c in _COLUMNS.split(', '))} FROM email_attachments a "
        "JOIN messages m ON m.id = a.message_row WHERE m.ticket_id = ? ORDER BY m.created_at, m.id, a.position",
        (ticket_id,))]


def attachment_bytes(db: sqlite_utils.Database, attachment_id: int) -> bytes:
    row = db.conn.execute(
        "SELECT b.data, a.note FROM email_attachments a LEFT JOIN email_blobs b ON b.sha256 = a.sha256 "
        "WHERE a.id = ?", (attachment_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"Attachment {attachment_id} does not exist.")
    if row[0] is None:
        raise NotFoundError(f"This attachment was not kept ({row[1] or 'no content'}).")
    return bytes(row[0])


def save_attachment(db: sqlite_utils.Database, attachment_id: int, folder: str | os.PathLike[str],
                    *, filename: str | None = None) -> Path:
    """Write an attachment into ``folder`` (never over an existing file) and return its path."""
    row = db.conn.execute("SELECT filename, content_type, position FROM email_attachments WHERE id = ?",
                          (attachment_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"Attachment {attachment_id} does not exist.")
    data = attachment_bytes(db, attachment_id)
    name = safe_filename(filename or row[0], row[1], row[2])
    folder = Path(folder)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    target = folder / name
    n = 2
    while True:
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
            break
        except FileExistsError:
            target = folder / (f"{stem} ({n}){dot}{ext}")
            n += 1
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return target


def inline_image(db: sqlite_utils.Database, message_row: int, content_id: str) -> tuple[str, bytes] | None:
    """(content type, bytes) of a ``cid:`` image of this message, when it is a raster image we kept."""
    cid = content_id.strip().removeprefix("cid:").strip("<>")
    row = db.conn.execute(
        "SELECT a.content_type, b.data FROM email_attachments a JOIN email_blobs b ON b.sha256 = a.sha256 "
        "WHERE a.message_row = ? AND a.content_id = ? ORDER BY a.position LIMIT 1", (message_row, cid)).fetchone()
    if row is None or row[0] not in RENDERABLE_IMAGES:
        return None
    return row[0], bytes(row[1])


def message_notes(db: sqlite_utils.Database, message_row: int) -> list[str]:
    """What was done to show this message safely (empty for a clean message or a non-e-mail one)."""
    row = db.conn.execute("SELECT notes FROM email_messages WHERE message_row = ?", (message_row,)).fetchone()
    return json.loads(row[0]) if row and row[0] else []
