"""Bring new mail from one IMAP folder into the store: resumable, and never twice.

Per mailbox and folder the store keeps UIDVALIDITY and the highest UID handled
(``email_sync_state``), and a ledger row per UID (``email_uids``). New UIDs are read in
batches (``BODY.PEEK[]``, so \\Seen is never set; the folder is opened read-only). Each
batch commits in one transaction together with the ledger rows and the new high-water mark,
so a cancel or a crash loses at most the batch in flight, and the next sync redoes exactly
that batch. Every message is also unique by Message-ID, which makes a UIDVALIDITY change
(the server renumbered the folder) safe: the folder is read again from the start, known
Message-IDs are recognised from a cheap header fetch and recorded as duplicates without
downloading them.

One bad message never stops a sync: it is filed with a note saying what was wrong, or, if
even that fails, recorded in the ledger as ``skipped`` with the reason.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent_assist.assist.escalation import retriage_many
from agent_assist.channels.email import ingest, mime
from agent_assist.channels.email.config import MailboxConfig
from agent_assist.channels.email.imap_client import Fetched, ImapConnection
from agent_assist.store import mail
from agent_assist.store.database import Store
from agent_assist.store.errors import StorageError
from agent_assist.store.tickets import CleanBody
from agent_assist.timefmt import now_iso

log = logging.getLogger(__name__)

ACTOR = "email"
MAX_BATCH_BYTES = 32 * 1024 * 1024  # at most this much mail is held in memory per batch

Progress = Callable[[int, int], Any]  # (done, total)


@dataclass
class SyncReport:
    mailbox: str
    folder: str
    uidvalidity: int | None = None
    uidvalidity_changed: bool = False
    total: int = 0  # new UIDs found on the server at the start
    imported: int = 0  # new tickets
    threaded: int = 0  # messages added to existing tickets
    duplicates: int = 0  # known Message-IDs (a resync, or our own reply copied back)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (UID, reason)
    last_uid: int = 0
    cancelled: bool = False
    elapsed_s: float = 0.0
    new_tickets: list[int] = field(default_factory=list)
    touched_tickets: list[int] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return self.imported + self.threaded + self.duplicates + len(self.skipped)

    @property
    def per_second(self) -> float:
        return self.processed / self.elapsed_s if self.elapsed_s > 0 else 0.0


def _cancelled(cancel: Any) -> bool:
    if cancel is None:
        return False
    if hasattr(cancel, "is_set"):
        return bool(cancel.is_set())
    return bool(cancel())


def sync(store: Store, mailbox: MailboxConfig, password: str | None, *, progress: Progress | None = None,
         cancel: Any = None, batch: int = 200, folder: str | None = None, actor: str = ACTOR) -> SyncReport:
    """Connect, sync ``mailbox.folder`` (or ``folder``), disconnect.

    ``cancel`` is a ``threading.Event`` (or a callable returning True to stop); it is checked
    between batches, and what was committed stays. ``progress(done, total)`` is called after
    each batch (from this thread). Network errors propagate; everything committed before them stays.
    """
    with ImapConnection.open(mailbox, password) as conn:
        return sync_folder(store, conn, mailbox, folder=folder, progress=progress, cancel=cancel,
                           batch=batch, actor=actor)


def sync_folder(store: Store, conn: ImapConnection, mailbox: MailboxConfig, *, folder: str | None = None,
                progress: Progress | None = None, cancel: Any = None, batch: int = 200,
                actor: str = ACTOR) -> SyncReport:
    """Sync one folder over an open connection (``watch`` reuses its connection this way)."""
    started = time.monotonic()
    folder = folder or mailbox.folder
    key = mailbox.key
    report = SyncReport(key, folder)
    status = conn.examine(folder)
    report.uidvalidity = status.uidvalidity
    start = mail.start_folder(store, key, folder, status.uidvalidity)
    if start.uidvalidity_before is not None and start.uidvalidity_before != status.uidvalidity:
        # the server renumbered the folder: old UIDs mean nothing now; Message-IDs still do
        log.warning("UIDVALIDITY of %s/%s changed (%s -> %s): reading the folder again", key, folder,
                    start.uidvalidity_before, status.uidvalidity)
        report.uidvalidity_changed = True
    last_uid = start.last_uid
    report.last_uid = last_uid
    if status.exists == 0 or (status.uidnext is not None and status.uidnext - 1 <= last_uid):
        _finish(store, key, folder, report, started, progress)
        return report
    todo = conn.list_uids(last_uid)
    report.total = len(todo)
    if progress:
        progress(0, report.total)
    done = 0
    for chunk in _chunks(todo, batch):
        if _cancelled(cancel):
            report.cancelled = True
            break
        _sync_chunk(store, conn, mailbox, folder, status.uidvalidity, chunk, report, actor)
        done += len(chunk)
        if progress:
            progress(done, report.total)
    _finish(store, key, folder, report, started, progress=None)
    return report


def _finish(store: Store, key: str, folder: str, report: SyncReport, started: float, progress: Progress | None) -> None:
    mail.folder_synced(store, key, folder, now_iso())
    report.elapsed_s = time.monotonic() - started
    if progress and report.total == 0:
        progress(0, 0)


def _chunks(todo: list[tuple[int, int]], batch: int) -> list[list[tuple[int, int]]]:
    """Batches of at most ``batch`` messages and ``MAX_BATCH_BYTES`` (at least one message each)."""
    out: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    size = 0
    for uid, n in todo:
        if current and (len(current) >= max(1, batch) or size + n > MAX_BATCH_BYTES):
            out.append(current)
            current, size = [], 0
        current.append((uid, n))
        size += n
    if current:
        out.append(current)
    return out


@dataclass
class _Item:
    uid: int
    kind: str  # mail | duplicate | skip
    parsed: mime.ParsedMail | None = None
    received_at: str | None = None
    language: str | None = None
    reason: str | None = None
    message_id: str | None = None
    body: CleanBody | None = None  # sanitized here, before the batch's write transaction


def _prepare(store: Store, conn: ImapConnection, mailbox: MailboxConfig,
             chunk: list[tuple[int, int]]) -> list[_Item]:
    """Download and parse one batch (no write lock held: this is the slow part)."""
    uids = [u for u, _ in chunk]
    known: dict[int, str] = {}
    for uid, header in conn.fetch_message_ids(uids).items():
        mid = mime.normalize_message_id(header.decode("latin-1").partition(":")[2])
        if mid and ingest.known_message(store, mid):
            known[uid] = mid
    big = [u for u, n in chunk if u not in known and n > mailbox.max_message_bytes]
    wanted = [u for u, n in chunk if u not in known and n <= mailbox.max_message_bytes]
    fetched: dict[int, Fetched] = conn.fetch(wanted)
    fetched.update(conn.fetch(big, headers_only=True))
    sizes = dict(chunk)
    items = []
    for uid in uids:
        if uid in known:
            items.append(_Item(uid, "duplicate", message_id=known[uid]))
            continue
        got = fetched.get(uid)
        if got is None:
            items.append(_Item(uid, "skip", reason="it was removed from the server before it could be read"))
            continue
        try:
            if uid in big:
                parsed = mime.headers_only(
                    got.raw, f"it is too large ({sizes[uid] / 1_048_576:.0f} MB, the limit is "
                    f"{mailbox.max_message_bytes // 1_048_576} MB) to download")
            else:
                parsed = mime.parse(got.raw)
            threaded = ingest.continues_a_ticket(store, parsed, mailbox.thread_window_days)
            language = None if threaded else ingest.detect_language(parsed)
            body = ingest.prepare_body(parsed)
        except Exception as exc:  # noqa: BLE001 - one message must never stop the sync
            log.exception("Could not read UID %s", uid)
            items.append(_Item(uid, "skip", reason=f"it could not be read ({type(exc).__name__}: {exc})"[:500]))
            continue
        items.append(_Item(uid, "mail", parsed=parsed, received_at=got.internaldate, language=language, body=body))
    return items


def _sync_chunk(store: Store, conn: ImapConnection, mailbox: MailboxConfig, folder: str, uidvalidity: int,
                chunk: list[tuple[int, int]], report: SyncReport, actor: str) -> None:
    items = _prepare(store, conn, mailbox, chunk)
    key = mailbox.key
    arrived = len(report.new_tickets), len(report.touched_tickets)
    with store.transaction() as db:
        for item in items:
            if mail.uid_handled(db, key, folder, uidvalidity, item.uid):
                continue  # another sync (another window or process) got here first
            outcome, reason, email_message = "skipped", item.reason, None
            if item.kind == "duplicate":
                found = ingest.known_message(store, item.message_id or "")
                outcome, email_message = "duplicate", found[0] if found else None
            elif item.kind == "mail":
                assert item.parsed is not None
                try:
                    with mail.savepoint(store):
                        done = ingest.store_mail(store, item.parsed, actor=actor,
                                                 window_days=mailbox.thread_window_days, received_at=item.received_at,
                                                 language=item.language, body=item.body)
                except (sqlite3.OperationalError, StorageError):
                    raise  # the database itself is in trouble (disk full, I/O): stop, retry the batch later
                except Exception as exc:  # noqa: BLE001 - one message must never stop the sync
                    log.exception("Could not store UID %s", item.uid)
                    reason = f"it could not be stored ({type(exc).__name__}: {exc})"[:500]
                else:
                    outcome, email_message = done.outcome, done.email_message
                    if done.outcome == "imported" and done.ticket_id is not None:
                        report.new_tickets.append(done.ticket_id)
                    if done.outcome == "threaded" and done.ticket_id is not None:
                        report.touched_tickets.append(done.ticket_id)
            mail.record_uid(store, key, folder, uidvalidity, item.uid, outcome=outcome, reason=reason,
                            email_message=email_message, at=now_iso())
            if outcome == "imported":
                report.imported += 1
            elif outcome == "threaded":
                report.threaded += 1
            elif outcome == "duplicate":
                report.duplicates += 1
            else:
                report.skipped.append((item.uid, reason or "unknown"))
        high = max(u for u, _ in chunk)
        mail.advance_folder(store, key, folder, uidvalidity, high)
    report.last_uid = max(report.last_uid, high)
    # triage follows the new messages once, here where they arrive (never when someone opens a ticket)
    fresh = dict.fromkeys([*report.new_tickets[arrived[0]:], *report.touched_tickets[arrived[1]:]])
    if fresh:
        retriage_many(store, list(fresh), actor=actor)


def skipped_messages(store: Store, mailbox: MailboxConfig, folder: str | None = None) -> list[tuple[int, int, str]]:
    """(UIDVALIDITY, UID, reason) of every message a sync could not file, for a settings page."""
    return mail.skipped_uids(store.db, mailbox.key, folder or mailbox.folder)
