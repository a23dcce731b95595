"""The append-only audit trail, each row chained to the previous one by a MAC.

``record`` must be called inside the same transaction as the change it
describes (every state-changing store function does this). Triggers make the
table append-only; the chain makes tampering with the file itself visible to
:func:`verify`.

Rows are signed with HMAC-SHA256 under a per-database key kept in the OS keyring
(:mod:`agent_assist.store.audit_key`), over the row's id, its predecessor's MAC and
its content: whoever can write the file but not read the keyring cannot rewrite a
row and recompute the chain. Rows written before a key existed (older databases,
or a computer without a keyring) keep their plain SHA-256 links and are checked
as such; the keyed chain starts from their head with an ``audit.keyed`` row.
Once a database is keyed, a row without a MAC after that point is tampering.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from agent_assist.store import audit_key
from agent_assist.store.backend import is_postgres
from agent_assist.store.errors import AuditKeyMissingError
from agent_assist.timefmt import now_iso

log = logging.getLogger(__name__)

GENESIS = "0" * 64
PLAIN = "sha256"
KEYED = "hmac-sha256"
TRIGGERS = {  # name -> the statement that keeps the table append-only (compared without whitespace)
    "audit_no_update": "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
                       "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "audit_no_delete": "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
                       "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
}


def _row_hash(prev_hash: str, at: str, actor: str, action: str, ticket_id: int | None,
              draft_id: int | None, details: str) -> str:
    """The unkeyed link of rows written before the chain was keyed."""
    payload = json.dumps(
        [prev_hash, at, actor, action, ticket_id, draft_id, details],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _row_mac(key: bytes, row_id: int, prev_hash: str, at: str, actor: str, action: str,
             ticket_id: int | None, draft_id: int | None, details: str) -> str:
    payload = json.dumps(
        [KEYED, row_id, prev_hash, at, actor, action, ticket_id, draft_id, details],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def _meta(db: sqlite_utils.Database) -> dict[str, str]:
    try:
        return dict(db.conn.execute("SELECT key, value FROM store_meta"))
    except sqlite3.OperationalError:  # a schema from before store_meta (only while migrating)
        return {}


def database_id(db: sqlite_utils.Database) -> str | None:
    return _meta(db).get("database_id")


def _keyed_from(meta: dict[str, str]) -> int | None:
    value = meta.get("audit_keyed_from")
    return int(value) if value else None


def _load_key(dbid: str | None) -> audit_key.ChainKey | None:
    """The keyring's key for this database; None when it has none or does not answer."""
    if dbid is None:
        return None
    try:
        return audit_key.load(dbid)
    except audit_key.KeyringUnreadable:
        return None


def _append(db: sqlite_utils.Database, chain_key: audit_key.ChainKey | None, *, actor: str, action: str,
            ticket_id: int | None, draft_id: int | None, details: dict[str, Any], with_alg: bool = True) -> int:
    last = db.conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    row_id, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = now_iso()
    details_json = json.dumps(details, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if chain_key is not None:
        alg, digest = KEYED, _row_mac(chain_key.key, row_id, prev_hash, at, actor, action, ticket_id, draft_id,
                                      details_json)
    else:
        alg, digest = PLAIN, _row_hash(prev_hash, at, actor, action, ticket_id, draft_id, details_json)
    columns = "id, at, actor, action, ticket_id, draft_id, details, prev_hash, hash"
    values: list[object] = [row_id, at, actor, action, ticket_id, draft_id, details_json, prev_hash, digest]
    if with_alg:  # the alg column came with store_meta (schema 10)
        columns += ", alg"
        values.append(alg)
    db.conn.execute(f"INSERT INTO audit ({columns}) VALUES ({', '.join('?' for _ in values)})", values)
    return row_id


def record(db: sqlite_utils.Database, *, actor: str, action: str, ticket_id: int | None = None,
           draft_id: int | None = None, **details: Any) -> int:
    """Append one audit row (call inside a write transaction). Returns its id.

    On a team server the database writes its own audit rows, from triggers, as the signed-in person
    (a client cannot insert into the audit table at all): there this returns 0 and writes nothing.
    """
    if is_postgres(db):
        return 0
    if not db.conn.in_transaction:
        raise RuntimeError("audit.record must run inside the transaction of the change it records")
    meta = _meta(db)
    chain_key = None
    if _keyed_from(meta) is not None:  # a signed chain: every row after its start is signed
        chain_key = _load_key(meta.get("database_id"))
        if chain_key is None:
            raise AuditKeyMissingError(
                "This database's audit trail is signed with a key that this computer's keyring does not give "
                "(it is locked, or the key is elsewhere), so no change can be recorded. Unlock the keyring "
                "that holds it (or open the file where it was created); nothing was changed.")
    return _append(db, chain_key, actor=actor, action=action, ticket_id=ticket_id, draft_id=draft_id,
                   details=details, with_alg=bool(meta))


def start_keyed_chain(store: Any) -> bool:
    """Key this database's chain from its current head, once, when a keyring can keep the key.

    Returns True when the chain is keyed (now or before). Called when the store opens; a
    keyring that does not answer, or a database busy elsewhere, just leaves it for next time.
    """
    db = store.db
    meta = _meta(db)
    dbid = meta.get("database_id")
    if dbid is None:
        return False
    if _keyed_from(meta) is not None:
        return True  # keyed before (record refuses to write unsigned rows if the key is not here)
    if not audit_key.available():
        return False  # no keyring here: the chain stays unkeyed, and verify says so
    try:
        if audit_key.load(dbid) is not None:
            # a key for this id, but the file says unkeyed: the file was rolled back or tampered with;
            # never overwrite the key (verify reports what the file lacks)
            log.warning("Database %s has an audit key in the keyring but claims an unsigned trail", dbid)
            return False
    except audit_key.KeyringUnreadable:
        return False
    try:
        with store.transaction() as tx:
            last = tx.conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
            first_keyed = (last[0] + 1) if last else 1
            chain_key = audit_key.create(dbid, first_keyed)
            if chain_key is None:
                return False
            try:
                _append(tx, chain_key, actor="system", action="audit.keyed", ticket_id=None, draft_id=None,
                        details={"unkeyed_head": last[1] if last else GENESIS,
                                 "unkeyed_rows": last[0] if last else 0,
                                 "legacy_message_max": int(meta.get("legacy_message_max", 0)),
                                 "legacy_draft_max": int(meta.get("legacy_draft_max", 0))})
                tx.conn.execute("INSERT INTO store_meta (key, value) VALUES ('audit_keyed_from', ?) "
                                "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(first_keyed),))
            except BaseException:
                audit_key.discard(dbid)
                raise
    except sqlite3.OperationalError as exc:  # busy or read-only: stay unkeyed this time
        log.warning("The audit chain of %s could not be keyed now (%s)", store.path, exc)
        return False
    return True


def head(db: sqlite_utils.Database) -> dict[str, Any]:
    """The newest row's id and MAC, with the database's id: what ``audit export-head`` writes."""
    last = db.conn.execute("SELECT id, hash, at FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    return {"database_id": database_id(db), "last_id": last[0] if last else 0,
            "hash": last[1] if last else GENESIS, "at": last[2] if last else None}


def remember_head(db: sqlite_utils.Database) -> dict[str, Any] | None:
    """Keep the current head in the keyring (keyed databases only); returns it, or None when not kept."""
    meta = _meta(db)
    dbid = meta.get("database_id")
    if _keyed_from(meta) is None or _load_key(dbid) is None:
        return None
    current = head(db)
    remembered = audit_key.load_head(dbid)
    if remembered and isinstance(remembered.get("last_id"), int) and remembered["last_id"] > 0:
        row = db.conn.execute("SELECT hash FROM audit WHERE id = ?", (remembered["last_id"],)).fetchone()
        if row is None or row[0] != remembered.get("hash"):
            # the trail no longer reaches the head we saw: keep that one, it is the evidence
            log.warning("The audit trail no longer reaches its remembered head (row %s)", remembered["last_id"])
            return None
    return current if audit_key.save_head(dbid, current) else None


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
    rows: int  # rows read: all of them, or up to the first broken one
    first_broken_id: int | None = None
    reason: str = ""
    keyed_from: int | None = None  # the first row signed with the keyring's key; None: unkeyed
    problems: tuple[str, ...] = ()  # every finding, one sentence each (the first is ``reason``)
    notes: tuple[str, ...] = field(default=())  # not tampering, but worth saying (e.g. no keyring)


def _normalised(sql: str | None) -> str:
    return "".join((sql or "").split()).lower()


def _check_triggers(db: sqlite_utils.Database) -> list[str]:
    found = dict(db.conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'"))
    problems = []
    for name, sql in TRIGGERS.items():
        if name not in found:
            problems.append(f"the trigger that keeps the audit trail append-only ({name}) is missing")
        elif _normalised(found[name]) != _normalised(sql):
            problems.append(f"the trigger {name} was changed")
    for name in sorted(set(found) - set(TRIGGERS)):
        problems.append(f"an unexpected trigger on the audit table ({name}) exists")
    return problems


def _covered(ranges: list[tuple[int, int]], value: int) -> bool:
    return any(lo <= value <= hi for lo, hi in ranges)


def _check_replies(db: sqlite_utils.Database, legacy_messages: int, legacy_drafts: int) -> list[str]:
    """Sent drafts, outbound messages and their ``reply.sent`` rows tell the same story."""
    problems: list[str] = []
    sent_rows: dict[int, dict] = {}  # message id -> details
    sent_drafts: set[int] = set()
    message_ranges: list[tuple[int, int]] = []
    draft_ranges: list[tuple[int, int]] = []
    for rid, action, ticket_id, draft_id, details in db.conn.execute(
            "SELECT id, action, ticket_id, draft_id, details FROM audit WHERE action IN ('reply.sent', "
            "'data.imported') ORDER BY id"):
        d = json.loads(details or "{}")
        if action == "data.imported":
            for prefix, ranges in (("message", message_ranges), ("draft", draft_ranges)):
                lo, hi = d.get(f"first_{prefix}_id"), d.get(f"last_{prefix}_id")
                if isinstance(lo, int) and isinstance(hi, int):
                    ranges.append((lo, hi))
            continue
        mid = d.get("message_id")
        if isinstance(mid, int):
            sent_rows[mid] = {"row": rid, "ticket_id": ticket_id, "draft_id": draft_id, **d}
        if draft_id is not None:
            sent_drafts.add(draft_id)
    messages = {mid: (tid, direction, body) for mid, tid, direction, body in db.conn.execute(
        "SELECT id, ticket_id, direction, body_text FROM messages WHERE direction = 'outbound' OR id IN "
        f"({', '.join(str(int(m)) for m in sent_rows) or 'NULL'})")}
    for mid, row in sent_rows.items():
        msg = messages.get(mid)
        if msg is None or msg[1] != "outbound":
            problems.append(f"audit row {row['row']} records reply message {mid}, which is not in the thread")
            continue
        if msg[0] != row["ticket_id"]:
            problems.append(f"reply message {mid} belongs to another ticket than its audit row {row['row']} says")
        want = row.get("body_sha256")
        if want and hashlib.sha256((msg[2] or "").encode("utf-8")).hexdigest() != want:
            problems.append(f"the text of reply message {mid} differs from what audit row {row['row']} recorded")
    for mid in sorted(set(messages) - set(sent_rows)):
        if messages[mid][1] == "outbound" and mid > legacy_messages and not _covered(message_ranges, mid):
            problems.append(f"reply message {mid} has no audit row: it was not sent through Agent Assist")
    for (did,) in db.conn.execute("SELECT id FROM drafts WHERE state = 'sent' ORDER BY id"):
        if did not in sent_drafts and did > legacy_drafts and not _covered(draft_ranges, did):
            problems.append(f"draft {did} is marked sent but no audit row records its sending")
    for did in sorted(sent_drafts):
        row = db.conn.execute("SELECT state FROM drafts WHERE id = ?", (did,)).fetchone()
        if row is None or row[0] != "sent":
            problems.append(f"draft {did} was sent according to the audit trail but is "
                            f"{'missing' if row is None else row[0]} now")
    return problems


def verify(db: sqlite_utils.Database, *, expected_head: dict[str, Any] | None = None) -> VerifyResult:
    """Walk the chain and check what the trail vouches for; report every finding.

    Besides each row's link and MAC this checks that row ids run without gaps, that
    the chain still reaches the head remembered in the keyring (and ``expected_head``,
    an exported one), that the append-only triggers exist, and that sent drafts and
    outbound messages match their audit rows.

    On a team server the database writes and guards the chain itself (no keyring, no file to
    tamper with): the walk is :func:`agent_assist.store.postgres.audit.verify`'s.
    """
    if is_postgres(db):
        from agent_assist.store.postgres import audit as team_audit

        return team_audit.verify(db.conn.raw)
    meta = _meta(db)
    dbid = meta.get("database_id")
    chain_key = _load_key(dbid)
    # the keyring's word on where signing starts wins over the file's (which an attacker can edit)
    keyed_from = chain_key.keyed_from if chain_key is not None else _keyed_from(meta)
    has_alg = "alg" in db["audit"].columns_dict
    problems: list[str] = []
    notes: list[str] = []
    first_broken: int | None = None
    rows_read: int | None = None  # how far the chain held: up to and including the first broken row

    def broken(rid: int | None, why: str) -> None:
        nonlocal first_broken, rows_read
        if first_broken is None:
            first_broken, rows_read = rid, count
        problems.append(f"row {rid}: {why}" if rid is not None else why)

    prev, expected_id, count, last_id, unchecked = GENESIS, 1, 0, 0, 0
    keyed_detail: dict[str, Any] = {}
    sql = ("SELECT id, at, actor, action, ticket_id, draft_id, details, prev_hash, hash, "
           f"{'alg' if has_alg else repr(PLAIN)} FROM audit ORDER BY id")
    for rid, at, actor, action, ticket_id, draft_id, details, prev_hash, digest, alg in db.conn.execute(sql):
        count += 1
        if rid != expected_id and first_broken is None:
            broken(rid, f"rows {expected_id}–{rid - 1} are missing" if rid > expected_id + 1
                   else f"row {expected_id} is missing")
        expected_id = rid + 1
        last_id = rid
        if first_broken is not None:
            continue  # after the first break the rest cannot be vouched for; one finding is enough
        if prev_hash != prev:
            broken(rid, "its link to the previous row is broken")
            continue
        if keyed_from is not None and rid >= keyed_from:
            if alg != KEYED:
                broken(rid, f"it is not signed although the chain is keyed from row {keyed_from}")
            elif chain_key is None:
                unchecked += 1  # links and ids are still checked; the signatures need the key
            elif not hmac.compare_digest(_row_mac(chain_key.key, rid, prev_hash, at, actor, action, ticket_id,
                                                  draft_id, details or ""), digest):
                broken(rid, "its content does not match its signature")
            if rid == keyed_from and action == "audit.keyed":
                keyed_detail = json.loads(details or "{}")
        elif alg == KEYED:
            broken(rid, "it claims a signature the keyring does not know" if chain_key is None
                   else f"it is signed although the keyed chain starts at row {keyed_from}")
        elif _row_hash(prev_hash, at, actor, action, ticket_id, draft_id, details or "") != digest:
            broken(rid, "its content does not match its hash")
        prev = digest
    if unchecked:
        problems.append(f"the trail is signed from row {keyed_from} with a key this computer's keyring does not "
                        f"give (locked, or kept elsewhere), so {unchecked} signed row{'s' if unchecked != 1 else ''} "
                        "could not be checked")
    if keyed_from is not None and last_id < keyed_from and first_broken is None:
        broken(None, f"the keyed chain should start at row {keyed_from}, but the trail ends at row {last_id}")

    heads = []
    if dbid is not None and chain_key is not None:
        remembered = audit_key.load_head(dbid)
        if remembered:
            heads.append(("the head remembered in the keyring", remembered))
    if expected_head:
        heads.append(("the exported head", expected_head))
    for label, h in heads:
        if h.get("database_id") not in (None, dbid):
            problems.append(f"{label} belongs to another database")
            continue
        hid, hhash = h.get("last_id"), h.get("hash")
        if not isinstance(hid, int) or hid < 0:
            problems.append(f"{label} is unreadable")
        elif hid > last_id:
            problems.append(f"rows {last_id + 1}–{hid} were removed from the end (the trail ends at row "
                            f"{last_id}; {label} reaches row {hid})")
        elif hid > 0:
            row = db.conn.execute("SELECT hash FROM audit WHERE id = ?", (hid,)).fetchone()
            if row is None or row[0] != hhash:
                problems.append(f"row {hid} differs from {label}")

    problems.extend(_check_triggers(db))
    legacy_messages = int(keyed_detail.get("legacy_message_max", meta.get("legacy_message_max", 0)))
    legacy_drafts = int(keyed_detail.get("legacy_draft_max", meta.get("legacy_draft_max", 0)))
    problems.extend(_check_replies(db, legacy_messages, legacy_drafts))
    if keyed_from is None:
        notes.append("the trail is not signed: no keyring can keep its key on this computer, so someone who "
                     "can write the file could rewrite it and its hashes")
    return VerifyResult(not problems, count if rows_read is None else rows_read, first_broken, problems[0] if problems else "", keyed_from,
                        tuple(problems), tuple(notes))
