"""Checking the team database's audit trail: the same hash chain as the SQLite store's.

The rows are written by ``audit_append`` in the database (``migrations/002_rules_enforced.sql``),
which hashes exactly what :func:`agent_assist.store.audit._row_hash` hashes, so one walk checks a
desk's file and a team's server alike, and a trail moved from one to the other stays one chain.
"""

from __future__ import annotations

import psycopg

from agent_assist.store.audit import GENESIS, VerifyResult, _row_hash


def verify(conn: psycopg.Connection) -> VerifyResult:
    """Walk the chain; report the first row whose link or content does not add up."""
    prev = GENESIS
    count = 0
    with conn.cursor(name="audit_verify") if not conn.autocommit else conn.cursor() as cur:
        cur.execute("SELECT id, at, actor, action, ticket_id, draft_id, details, prev_hash, hash "
                    "FROM audit ORDER BY id")
        for rid, at, actor, action, ticket_id, draft_id, details, prev_hash, digest in cur:
            count += 1
            if prev_hash != prev:
                return VerifyResult(False, count, rid, "its link to the previous row is broken")
            if _row_hash(prev_hash, at, actor, action, ticket_id, draft_id, details or "") != digest:
                return VerifyResult(False, count, rid, "its content does not match its hash")
            prev = digest
    return VerifyResult(True, count)
