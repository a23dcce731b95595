"""What the UI may ask about an e-mail message: its attachments, inline images and notes.

Attachments are listed and saved on request, never opened: :func:`save_attachment` writes
the bytes to a folder the person chose, under a cleaned name that cannot escape it, without
execute permission and readable only by its owner (0600). :func:`inline_image` serves ``cid:`` images to a viewer that asks for them
(raster formats only; SVG can carry script and is never rendered).

Why blobs in the database (a desk's SQLite file or the team server) rather than files in the data
folder: an attachment then commits in the same transaction as its message and the sync ledger (no
orphan or missing files after a crash, nothing to clean up), the database stays the whole truth (on a
desk: backup = copy one file), file names from strangers never reach the file system until a person
saves one, and identical files (logos, signatures) are stored once (content-addressed by SHA-256). The
cost, a bigger database, does not slow the queue: blobs sit in their own table that no queue query
reads. The rows are read through :mod:`agent_assist.store.mail`.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from agent_assist.channels.email.mime import safe_filename
from agent_assist.sanitize import strip_bidi
from agent_assist.store import mail

RENDERABLE_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp")


AttachmentInfo = mail.AttachmentRow  # an attachment as the conversation shows it


def _info(row: mail.AttachmentRow) -> AttachmentInfo:
    # names stored by an older version may still carry bidi overrides: never show one
    return replace(row, filename=strip_bidi(row.filename))


def list_attachments(db, message_row: int, *, include_inline: bool = True) -> list[AttachmentInfo]:
    """The attachments of one thread message (``messages.id``), in the order they came (``db``: a store's)."""
    return [_info(r) for r in mail.attachments_of_message(db, message_row, include_inline=include_inline)]


def attachments_for_ticket(db, ticket_id: int) -> list[AttachmentInfo]:
    return [_info(r) for r in mail.attachments_of_ticket(db, ticket_id)]


def attachment_bytes(db, attachment_id: int) -> bytes:
    return mail.attachment_data(db, attachment_id)


def save_attachment(db, attachment_id: int, folder: str | os.PathLike[str], *, filename: str | None = None) -> Path:
    """Write an attachment into ``folder`` (never over an existing file) and return its path."""
    row = mail.attachment(db, attachment_id)
    data = attachment_bytes(db, attachment_id)
    name = safe_filename(filename or row.filename, row.content_type, row.position)
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


def inline_image(db, message_row: int, content_id: str) -> tuple[str, bytes] | None:
    """(content type, bytes) of a ``cid:`` image of this message, when it is a raster image we kept."""
    cid = content_id.strip().removeprefix("cid:").strip("<>")
    found = mail.inline_part(db, message_row, cid)
    if found is None or found[0] not in RENDERABLE_IMAGES:
        return None
    return found


def message_notes(db, message_row: int) -> list[str]:
    """What was done to show this message safely (empty for a clean message or a non-e-mail one)."""
    return mail.message_notes(db, message_row)
