"""The append-only audit trail, each row chained to the previous one by a hash.

``record`` must be called inside the same transaction as the change it
describes (every state-changing store function does this). Triggers make the
table append-only; the hash chain makes tampering with the file itself visible
to :func:`verify`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from agent_assist.timefmt import now_iso

GENESIS = "0" * 64


def _row_hash(prev_hash: str, at: str, actor: str, action: str, ticket_id: int | None,
              draft_id: int | None, details: str) -> str:
    payload = json.dumps(
        [prev_hash, at, actor, action, ticket_id, draft_id, details],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(db: sqlite_utils.Database, *, actor: str, action: str, ticket_id: int | None = None,
           draft_id: int | None = None, **details: Any) -> int:
    """Append one audit row (call inside a write transaction). Returns its id."""
    if not db.conn.in_transaction:
        raise RuntimeError("audit.record must run inside the transaction of the change it records")
    last = db.conn.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    prev_hash = last[0] if last else GENESIS
    at = now_iso()
    details_json = json.dumps(details, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    digest = _row_hash(prev_hash, at, actor, action, ticket_id, draft_id, details_json)
    cur = db.conn.execute(
        "INSERT INTO audit (at, actor, action, ticket_id, draft_id, details, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (at, actor, action, ticket_id, draft_id, details_json, prev_hash, digest),
    )
    return cur.lastrowid


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    ticket_id: int | None
    draft_id: int | None
    details: dict[str, Any]


def for_ticket(db: sqlite_utils.Database, ticket_id: int) -> list[AuditEntry]:
    rows = db.conn.execute(
        "SELECT id, at, actor, action, ticket_id, draft_id, details FROM audit "
        "WHERE ticket_id = ? ORDER BY id",
        (ticket_id,),
    ).fetchall()
    return [AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6] or "{}")) for r in rows]


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows: int
    first_broken_id: int | None = None
    reason: str = ""


def verify(db: sqlite_utils.Database) -> VerifyResult:
    """Walk the chain; report the first row whose link or content does not add up."""
    prev = GENESIS
    count = 0
    for row in db.conn.execute(
        "SELECT id, at, actor, action, ticket_id, draft_id, details, prev_hash, hash FROM audit ORDER BY id"
    ):
        count += 1
        rid, at, actor, action, ticket_id, draft_id, details, prev_hash, digest = row
        if prev_hash != prev:
            return VerifyResult(False, count, rid, "its link to the previous row is broken")
        if _row_hash(prev_hash, at, actor, action, ticket_id, draft_id, details or "") != digest:
            return VerifyResult(False, count, rid, "its content does not match its hash")
        prev = digest
    return VerifyResult(True, count)
