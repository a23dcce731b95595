"""Loading a whole data set at once (demo data, benchmarks, migrations from other tools).

The shape is plain data: ``{"articles": [...], "customers": [...], "tickets": [...]}``
where each ticket names its customer by ``customer_ref`` and carries its
``messages``. Everything goes in through sqlite-utils' batched inserts inside one
transaction, with one audit row for the import.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agent_assist.sanitize import sanitize_html
from agent_assist.store import audit
from agent_assist.store.article_rows import article_row
from agent_assist.store.database import Store
from agent_assist.store.tickets import priority_rank
from agent_assist.timefmt import now_iso

BATCH = 1000


def import_dataset(store: Store, data: Mapping[str, Any], *, actor: str = "system", label: str = "import") -> dict[str, int]:
    """Insert customers, tickets (with messages) and articles; returns counts."""
    now = now_iso()
    # sanitized before the write transaction opens: hostile HTML must not hold the lock
    tickets_in = [{**t, "messages": list(t.get("messages", ()))} for t in data.get("tickets", ())]
    safe_html = [[sanitize_html(m["body_html"]) if m.get("body_html") else None for m in t["messages"]]
                 for t in tickets_in]
    with store.transaction() as db:
        first_customer = (db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM customers").fetchone()[0]) + 1
        customer_ids: dict[int, int] = {}
        by_email: dict[str, int] = {}  # a customer we already know (or saw above) is reused, by e-mail
        customer_rows = []
        for c in data.get("customers", ()):
            email = (c.get("email") or "").strip() or None
            if email is not None and email not in by_email:
                found = db.conn.execute("SELECT id FROM customers WHERE email = ?", (email,)).fetchone()
                if found:
                    by_email[email] = found[0]
            if email is not None and email in by_email:
                customer_ids[c["ref"]] = by_email[email]
                continue
            cid = first_customer + len(customer_rows)
            customer_ids[c["ref"]] = cid
            if email is not None:
                by_email[email] = cid
            customer_rows.append({"id": cid, "name": (c.get("name") or "").strip(), "email": c.get("email"),
                                  "language": c.get("language"), "created_at": c.get("created_at") or now})
        db["customers"].insert_all(customer_rows, batch_size=BATCH)

        first_ticket = (db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM tickets").fetchone()[0]) + 1
        ticket_rows = []
        message_rows = []
        for offset, t in enumerate(tickets_in):
            tid = first_ticket + offset
            ticket_rows.append({
                "id": tid,
                "customer_id": customer_ids[t["customer_ref"]],
                "subject": t["subject"],
                "status": t.get("status", "new"),
                "priority": priority_rank(t.get("priority", "normal")),
                "channel": t.get("channel", "email"),
                "language": t.get("language", "en"),
                "assignee": t.get("assignee"),
                "sla_due_at": t.get("sla_due_at"),
                "tags": json.dumps(list(t.get("tags", ()))),
                "topic": t.get("topic"),
                "created_at": t["created_at"],
                "updated_at": t.get("updated_at") or t["created_at"],
            })
            for m, body_html in zip(t["messages"], safe_html[offset]):
                message_rows.append({
                    "ticket_id": tid,
                    "direction": m["direction"],
                    "author": m.get("author"),
                    "body_text": m["body_text"],
                    "body_html": body_html,
                    "created_at": m["created_at"],
                })
        db["tickets"].insert_all(ticket_rows, batch_size=BATCH)
        first_message = (db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0]) + 1
        db["messages"].insert_all(message_rows, batch_size=BATCH)
        last_message = db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0]

        article_rows = [article_row(a, now) for a in data.get("articles", ())]
        db["articles"].insert_all(article_rows, batch_size=BATCH)
        counts = {"customers": len(customer_rows), "tickets": len(ticket_rows),
                  "messages": len(message_rows), "articles": len(article_rows)}
        ranges = {"first_message_id": first_message, "last_message_id": last_message} if message_rows else {}
        audit.record(db, actor=actor, action="data.imported", label=label, **counts, **ranges)
    store.analyze()
    return counts


def import_draft_history(store: Store, rows: list[Mapping[str, Any]], *, actor: str = "system") -> int:
    """Drafts that were worked on before (sent or discarded), for tickets already in the store."""
    with store.transaction() as db:
        first = (db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM drafts").fetchone()[0]) + 1
        db["drafts"].insert_all(rows, batch_size=BATCH)
        last = db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM drafts").fetchone()[0]
        ranges = {"first_draft_id": first, "last_draft_id": last} if rows else {}
        audit.record(db, actor=actor, action="data.imported", label="draft history", drafts=len(rows), **ranges)
    return len(rows)


REPLY_FIELDS = ("ticket_id", "message_id", "author", "body", "created_at")


def outbound_replies(db: Any) -> list[dict[str, Any]]:
    """Every reply sent so far, oldest first, as :data:`REPLY_FIELDS` (what the demo's draft history
    is made from: each sent reply had a draft)."""
    return [dict(zip(REPLY_FIELDS, r)) for r in db.conn.execute(
        "SELECT ticket_id, id, author, body_text, created_at FROM messages WHERE direction = 'outbound' ORDER BY id")]
