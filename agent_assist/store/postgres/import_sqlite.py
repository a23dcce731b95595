"""Moving a desk's SQLite file to the team's server (``agent-assist team import-sqlite FILE``).

Customers, tickets with their messages, triage flags, drafts, review comments, the quality cache,
the knowledge articles and the audit trail go over in one transaction, as the owner, or nothing
does. Before anything is written the desk's hash chain is verified; afterwards the counts are
checked table by table and the server's whole chain is verified again, before the commit.

Ids: the server may hold other desks' tickets already, so tickets, messages, drafts and comments
get ids after the server's highest (an offset per table, recorded in the import's audit row).
Customers are matched by e-mail, articles by (source, key, locale), and map to the server's row
when there is one; drafts' citations follow the articles' new ids. Text is never rewritten:
a ``[KB-12]`` inside a message that was sent stays as the customer saw it.

The desk's audit rows are appended to the server's chain with their original time, actor, action
and details (ticket and draft ids mapped), re-linked to the server's chain; a closing
``desk.imported`` row records the file, the counts, the offsets and the desk chain's last hash,
which proves what was imported and makes a second import of the same trail refusable.
The e-mail channel's tables (mailboxes, UID ledger, outbox) stay with the desk: a team sets up
its mailboxes anew.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from agent_assist.store import audit as desk_audit
from agent_assist.store.database import Store
from agent_assist.store.errors import StoreError
from agent_assist.store.postgres import audit as team_audit
from agent_assist.store.postgres import migrations
from agent_assist.store.postgres.connect import OWNER_ROLE, SCHEMA, TeamDatabaseError, connect, server_message

# triggers that would write audit rows or rewrite authors for rows that already have them
_QUIET_TRIGGERS = {"tickets": ("tickets_audit",), "messages": ("messages_audit", "messages_before_insert"),
                   "drafts": ("drafts_audit",), "articles": ("articles_audit_insert",)}
_OFFSET_TABLES = ("tickets", "messages", "drafts", "review_comments")
_LOCKED = ("customers", "tickets", "messages", "articles", "drafts", "ticket_flags", "review_comments",
           "draft_quality", "audit", "audit_head")


class ImportRefusedError(StoreError):
    """The file cannot be imported as it is; nothing was written."""


@dataclass
class ImportReport:
    source: str
    counts: dict[str, int] = field(default_factory=dict)  # rows added on the server, per table
    matched: dict[str, int] = field(default_factory=dict)  # rows that mapped onto existing ones
    offsets: dict[str, int] = field(default_factory=dict)
    audit_rows: int = 0
    chain_rows: int = 0  # the server's whole chain, verified after the import

    def lines(self) -> list[str]:
        added = ", ".join(f"{n} {t}" for t, n in self.counts.items() if n)
        matched = ", ".join(f"{n} {t}" for t, n in self.matched.items() if n)
        out = [f"Imported {self.source}: {added or 'nothing'}; {self.audit_rows} audit rows."]
        if matched:
            out.append(f"Already on the server, reused: {matched}.")
        out.append(f"Counts checked; the server's audit chain verifies ({self.chain_rows} rows).")
        return out


def _columns_sqlite(conn, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def _columns_pg(pg: psycopg.Connection, table: str) -> list[str]:
    return [r[0] for r in pg.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "AND is_generated = 'NEVER' ORDER BY ordinal_position", [SCHEMA, table])]


def _shared_columns(conn, pg: psycopg.Connection, table: str) -> list[str]:
    theirs = set(_columns_pg(pg, table))
    return [c for c in _columns_sqlite(conn, table) if c in theirs]


def _rows(conn, table: str, columns: Sequence[str], order: str = "1") -> list[dict]:
    cur = conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")
    return [dict(zip(columns, r)) for r in cur]


def _insert(pg: psycopg.Connection, table: str, rows: list[dict], columns: Sequence[str]) -> int:
    if not rows:
        return 0
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)))
    with pg.cursor() as cur:
        cur.executemany(query, [[r[c] for c in columns] for r in rows])
    return len(rows)


def _count(pg: psycopg.Connection, table: str) -> int:
    return pg.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]


def import_file(url: str, path: str | Path) -> ImportReport:
    """Import the desk file at ``path`` into the team database at ``url`` (as its administrator)."""
    path = Path(path)
    if not path.is_file():
        raise ImportRefusedError(f"{path} does not exist.")
    with Store(path) as store:  # refuses what is not an Agent Assist file; brings an old one up to date
        conn = store.db.conn
        checked = desk_audit.verify(store.db)
        if not checked.ok:
            raise ImportRefusedError(f"The audit trail of {path.name} is broken at row {checked.first_broken_id} "
                                     f"({checked.reason}); nothing was imported.")
        desk_head = (conn.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone() or [None])[0]
        with connect(url) as pg:
            migrations.check(pg)
            try:
                report = _import(conn, pg, path, desk_head, checked.rows)
            except psycopg.Error as exc:
                raise TeamDatabaseError(f"Importing {path.name} failed and nothing was kept: "
                                        f"{server_message(exc)}") from exc
    return report


def _import(conn, pg: psycopg.Connection, path: Path, desk_head: str | None, desk_audit_rows: int) -> ImportReport:
    report = ImportReport(path.name)
    with pg.transaction():
        pg.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER_ROLE)))
        # desks keep working elsewhere, but write nothing here until the import is in (or rolled back)
        pg.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(
            sql.SQL(", ").join(map(sql.Identifier, _LOCKED))))
        if desk_head and pg.execute("SELECT 1 FROM audit WHERE action = 'desk.imported' "
                                    "AND details::jsonb ->> 'desk_chain_head' = %s", [desk_head]).fetchone():
            raise ImportRefusedError(f"The audit trail of {path.name} was imported here already; nothing was "
                                     "imported twice.")
        for table, triggers in _QUIET_TRIGGERS.items():
            for trigger in triggers:
                pg.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(sql.Identifier(table),
                                                                             sql.Identifier(trigger)))
        before = {t: _count(pg, t) for t in _LOCKED if t != "audit_head"}
        offsets = {t: pg.execute(sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(sql.Identifier(t)))
                   .fetchone()[0] for t in _OFFSET_TABLES}
        report.offsets = offsets
        customers = _import_customers(conn, pg, report)
        articles = _import_articles(conn, pg, report)
        ticket_of = lambda old: None if old is None else old + offsets["tickets"]  # noqa: E731
        draft_of = lambda old: None if old is None else old + offsets["drafts"]  # noqa: E731

        def copy(table: str, remap) -> None:
            columns = _shared_columns(conn, pg, table)
            rows = _rows(conn, table, columns)
            for row in rows:
                remap(row)
            report.counts[table] = _insert(pg, table, rows, columns)

        def tickets(row: dict) -> None:
            row["id"] = ticket_of(row["id"])
            row["customer_id"] = customers.get(row["customer_id"])

        def messages(row: dict) -> None:
            row["id"] += offsets["messages"]
            row["ticket_id"] = ticket_of(row["ticket_id"])

        def drafts(row: dict) -> None:
            row["id"] = draft_of(row["id"])
            row["ticket_id"] = ticket_of(row["ticket_id"])
            try:
                cited = json.loads(row.get("citations") or "[]")
                row["citations"] = json.dumps([articles.get(a, a) for a in cited])
            except (ValueError, TypeError) as exc:
                raise ImportRefusedError(f"Draft {row['id'] - offsets['drafts']} in {path.name} has citations that "
                                         "are not a list of article ids; nothing was imported.") from exc

        def flags(row: dict) -> None:
            row["ticket_id"] = ticket_of(row["ticket_id"])

        def comments(row: dict) -> None:
            row["id"] += offsets["review_comments"]
            row["ticket_id"], row["draft_id"] = ticket_of(row["ticket_id"]), draft_of(row["draft_id"])

        def quality(row: dict) -> None:
            row["ticket_id"], row["draft_id"] = ticket_of(row["ticket_id"]), draft_of(row["draft_id"])

        copy("tickets", tickets)
        copy("messages", messages)
        copy("ticket_flags", flags)
        copy("drafts", drafts)
        copy("review_comments", comments)
        copy("draft_quality", quality)
        report.audit_rows = _append_audit(conn, pg, ticket_of, draft_of)
        for table in _OFFSET_TABLES + ("customers", "articles"):
            pg.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), "
                               "greatest((SELECT max(id) FROM {}), 1))").format(
                sql.Literal(f"{SCHEMA}.{table}"), sql.Identifier(table)))
        for table, triggers in _QUIET_TRIGGERS.items():
            for trigger in triggers:
                pg.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(sql.Identifier(table),
                                                                            sql.Identifier(trigger)))
        pg.execute("SELECT audit_append('desk.imported', NULL, NULL, %s::jsonb)", [json.dumps({
            "source": path.name, "counts": report.counts, "matched": report.matched, "offsets": offsets,
            "audit_rows": report.audit_rows, "desk_chain_head": desk_head})])
        report.counts["audit"] = report.audit_rows + 1
        _check_counts(conn, pg, before, report, desk_audit_rows)
        verified = team_audit.verify(pg)
        if not verified.ok:
            raise TeamDatabaseError(f"After importing {path.name} the server's audit chain did not verify at row "
                                    f"{verified.first_broken_id} ({verified.reason}); nothing was kept.")
        report.chain_rows = verified.rows
        pg.execute("SELECT pg_notify('agent_assist_tickets', id::text) FROM tickets WHERE id > %s",
                   [offsets["tickets"]])
    return report


def _import_customers(conn, pg: psycopg.Connection, report: ImportReport) -> dict[int, int]:
    """Desk customer id -> server id; a customer the server knows by e-mail is reused."""
    columns = [c for c in _shared_columns(conn, pg, "customers") if c != "id"]
    mapping: dict[int, int] = {}
    added = matched = 0
    for row in _rows(conn, "customers", ["id", *columns]):
        found = None
        if row.get("email"):
            found = pg.execute("SELECT id FROM customers WHERE email = %s", [row["email"]]).fetchone()
        if found:
            matched += 1
        else:
            found = pg.execute(sql.SQL("INSERT INTO customers ({}) VALUES ({}) RETURNING id").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)), sql.SQL(", ").join(sql.Placeholder() * len(columns))),
                [row[c] for c in columns]).fetchone()
            added += 1
        mapping[row["id"]] = found[0]
    report.counts["customers"], report.matched["customers"] = added, matched
    return mapping


def _import_articles(conn, pg: psycopg.Connection, report: ImportReport) -> dict[int, int]:
    """Desk article id -> server id. Into an empty knowledge base the ids stay as they are (so the
    ``[KB-n]`` in old replies still point at the right article); otherwise the same article (source,
    key, locale) is reused and the others get new ids."""
    columns = _shared_columns(conn, pg, "articles")
    rows = _rows(conn, "articles", columns, order="id")
    if _count(pg, "articles") == 0:
        report.counts["articles"] = _insert(pg, "articles", rows, columns)
        return {r["id"]: r["id"] for r in rows}
    mapping: dict[int, int] = {}
    added = matched = 0
    rest = [c for c in columns if c != "id"]
    for row in rows:
        found = pg.execute("SELECT id FROM articles WHERE source IS NOT DISTINCT FROM %s AND key IS NOT DISTINCT "
                           "FROM %s AND locale IS NOT DISTINCT FROM %s ORDER BY id LIMIT 1",
                           [row.get("source"), row.get("key"), row.get("locale")]).fetchone() \
            if row.get("key") else None
        if found:
            matched += 1
        else:
            found = pg.execute(sql.SQL("INSERT INTO articles ({}) VALUES ({}) RETURNING id").format(
                sql.SQL(", ").join(map(sql.Identifier, rest)), sql.SQL(", ").join(sql.Placeholder() * len(rest))),
                [row[c] for c in rest]).fetchone()
            added += 1
        mapping[row["id"]] = found[0]
    report.counts["articles"], report.matched["articles"] = added, matched
    return mapping


def _append_audit(conn, pg: psycopg.Connection, ticket_of, draft_of) -> int:
    """The desk's rows, in order, re-linked onto the server's chain (the owner writes them)."""
    prev = pg.execute("SELECT last_hash FROM audit_head FOR UPDATE").fetchone()[0]
    rows = []
    for _id, at, actor, action, ticket_id, draft_id, details in conn.execute(
            "SELECT id, at, actor, action, ticket_id, draft_id, details FROM audit ORDER BY id"):
        ticket_id, draft_id, details = ticket_of(ticket_id), draft_of(draft_id), details or ""
        digest = desk_audit._row_hash(prev, at, actor, action, ticket_id, draft_id, details)
        rows.append([at, actor, action, ticket_id, draft_id, details, prev, digest])
        prev = digest
    if rows:
        with pg.cursor() as cur:
            cur.executemany("INSERT INTO audit (at, actor, action, ticket_id, draft_id, details, prev_hash, hash) "
                            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)
        pg.execute("UPDATE audit_head SET last_hash = %s", [prev])
    return len(rows)


def _check_counts(conn, pg: psycopg.Connection, before: dict[str, int], report: ImportReport,
                  desk_audit_rows: int) -> None:
    for table, added in report.counts.items():
        now = _count(pg, table)
        if now != before[table] + added:
            raise TeamDatabaseError(f"{table}: the server has {now} rows, expected {before[table] + added}; "
                                    "nothing was kept.")
    for table in ("tickets", "messages", "drafts", "ticket_flags", "review_comments", "draft_quality"):
        desk = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        if desk != report.counts.get(table, 0):
            raise TeamDatabaseError(f"{table}: {desk} rows on the desk but {report.counts.get(table, 0)} imported; "
                                    "nothing was kept.")
    desk_customers = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
    desk_articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    if desk_customers != report.counts["customers"] + report.matched.get("customers", 0) or \
            desk_articles != report.counts["articles"] + report.matched.get("articles", 0):
        raise TeamDatabaseError("Customers or articles did not add up after the import; nothing was kept.")
    if desk_audit_rows != report.audit_rows:
        raise TeamDatabaseError("The audit rows did not add up after the import; nothing was kept.")
