"""Ordered schema migrations. ``MIGRATIONS[n-1]`` takes the schema from n-1 to n.

Each runs inside one ``BEGIN IMMEDIATE`` transaction together with the
``PRAGMA user_version`` bump, so a failing migration leaves the file as it was.
Never edit a released migration: append a new one.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from agent_assist.channels.email import schema as email_schema
from agent_assist.knowledge import schema as knowledge_schema
from agent_assist.store import quality, review


APPLICATION_ID = 0x41415354  # "AAST": marks the file as Agent Assist's (PRAGMA application_id)


def _v1_initial(db: sqlite_utils.Database) -> None:
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db["customers"].create(
        {"id": int, "name": str, "email": str, "language": str, "created_at": str},
        pk="id",
        not_null={"name", "created_at"},
    )
    db["customers"].create_index(["email"], unique=True)
    db["customers"].create_index(["name"])

    db["tickets"].create(
        {
            "id": int,
            "customer_id": int,
            "subject": str,
            "status": str,
            "priority": int,  # 0 urgent, 1 high, 2 normal, 3 low
            "channel": str,
            "language": str,
            "assignee": str,
            "sla_due_at": str,
            "tags": str,  # JSON list
            "topic": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        foreign_keys=[("customer_id", "customers", "id")],
        not_null={"subject", "status", "priority", "channel", "created_at", "updated_at"},
        defaults={"status": "new", "priority": 2, "channel": "email", "tags": "[]", "language": "en"},
    )
    for cols in (
        ["status", "priority", "sla_due_at"],
        ["sla_due_at"],
        ["updated_at"],
        ["assignee", "status"],
        ["language"],
        ["customer_id"],
        ["priority", "sla_due_at"],
    ):
        db["tickets"].create_index(cols)

    db["messages"].create(
        {
            "id": int,
            "ticket_id": int,
            "direction": str,  # inbound | outbound | note
            "author": str,
            "body_text": str,
            "body_html": str,  # sanitized; NULL for plain-text messages
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("ticket_id", "tickets", "id")],
        not_null={"ticket_id", "direction", "body_text", "created_at"},
    )
    db["messages"].create_index(["ticket_id", "created_at"])

    db["articles"].create(
        {
            "id": int,
            "key": str,
            "title": str,
            "body": str,
            "section": str,
            "locale": str,
            "source": str,
            "url": str,
            "content_hash": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"title", "body"},
    )
    db["articles"].create_index(["source", "key", "locale"])
    db["articles"].enable_fts(
        ["title", "body"],
        tokenize="unicode61 remove_diacritics 2",
        create_triggers=True,
    )
    db.execute("CREATE VIRTUAL TABLE articles_fts_vocab USING fts5vocab(articles_fts, 'row')")

    db["drafts"].create(
        {
            "id": int,
            "ticket_id": int,
            "state": str,  # suggested | edited | approved | sent | discarded | awaiting_supervisor
            "source": str,  # offline | ai
            "original_body": str,
            "body": str,
            "citations": str,  # JSON list of article ids
            "provider": str,
            "model": str,
            "prompt_version": str,
            "created_by": str,
            "approved_by": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        foreign_keys=[("ticket_id", "tickets", "id")],
        not_null={"ticket_id", "state", "source", "body", "created_at", "updated_at"},
    )
    db["drafts"].create_index(["ticket_id", "state"])

    db["audit"].create(
        {
            "id": int,
            "at": str,
            "actor": str,
            "action": str,
            "ticket_id": int,
            "draft_id": int,
            "details": str,  # JSON object
            "prev_hash": str,
            "hash": str,
        },
        pk="id",
        not_null={"at", "actor", "action", "hash"},
    )
    db["audit"].create_index(["ticket_id"])
    db.execute(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    )


STATUS_RANK_SQL = ("CASE status WHEN 'new' THEN 0 WHEN 'open' THEN 1 WHEN 'pending' THEN 2 "
                   "WHEN 'solved' THEN 3 ELSE 4 END")

_TICKET_FTS_ROW = (
    "SELECT t.id, t.subject, COALESCE(c.name, ''), COALESCE(c.email, '') "
    "FROM tickets t LEFT JOIN customers c ON c.id = t.customer_id"
)


def _v2_queue_at_scale(db: sqlite_utils.Database) -> None:
    """Indexes for sorting 100k tickets by any column, and a word index for the queue's text filter."""
    for sql in (
        "CREATE INDEX idx_tickets_subject_nocase ON tickets (subject COLLATE NOCASE, id)",
        "CREATE INDEX idx_tickets_assignee_nocase ON tickets (assignee COLLATE NOCASE, id)",
        f"CREATE INDEX idx_tickets_status_rank ON tickets (({STATUS_RANK_SQL}), id)",
        "CREATE INDEX idx_tickets_priority_desc ON tickets (priority DESC, sla_due_at ASC, id ASC)",
        "CREATE INDEX idx_customers_name_nocase ON customers (name COLLATE NOCASE)",
        # subject, customer name and e-mail of each ticket, for prefix search as you type
        "CREATE VIRTUAL TABLE tickets_fts USING fts5(subject, customer, email, "
        "tokenize = 'unicode61 remove_diacritics 2')",
        f"INSERT INTO tickets_fts (rowid, subject, customer, email) {_TICKET_FTS_ROW}",
        "CREATE TRIGGER tickets_fts_ai AFTER INSERT ON tickets BEGIN "
        f"INSERT INTO tickets_fts (rowid, subject, customer, email) {_TICKET_FTS_ROW} WHERE t.id = new.id; END",
        "CREATE TRIGGER tickets_fts_au AFTER UPDATE OF subject, customer_id ON tickets BEGIN "
        "DELETE FROM tickets_fts WHERE rowid = old.id; "
        f"INSERT INTO tickets_fts (rowid, subject, customer, email) {_TICKET_FTS_ROW} WHERE t.id = new.id; END",
        "CREATE TRIGGER tickets_fts_ad AFTER DELETE ON tickets BEGIN "
        "DELETE FROM tickets_fts WHERE rowid = old.id; END",
        "CREATE TRIGGER tickets_fts_customer_au AFTER UPDATE OF name, email ON customers BEGIN "
        "DELETE FROM tickets_fts WHERE rowid IN (SELECT id FROM tickets WHERE customer_id = new.id); "
        f"INSERT INTO tickets_fts (rowid, subject, customer, email) {_TICKET_FTS_ROW} "
        "WHERE t.customer_id = new.id; END",
    ):
        db.execute(sql)


FLAG_KINDS = ("financial_hardship", "fraud", "dispute", "complaint_legal", "vulnerability", "repeat_contact",
              "prompt_injection", "angry")
DEFAULT_RULES = {  # flag kind -> what happens to the ticket's replies
    "vulnerability": "human_only",
    "financial_hardship": "four_eyes",
    "fraud": "four_eyes",
    "dispute": "four_eyes",
    "complaint_legal": "four_eyes",
    "prompt_injection": "four_eyes",
    "repeat_contact": "none",
    "angry": "none",
}


def _v3_people_rules_flags(db: sqlite_utils.Database) -> None:
    """Profiles with roles, editable routing rules, and triage flags on tickets."""
    db["profiles"].create({"name": str, "role": str, "created_at": str}, pk="name", not_null={"role", "created_at"})
    db["rules"].create({"flag": str, "action": str, "updated_by": str, "updated_at": str}, pk="flag",
                       not_null={"action"})
    for flag, action in DEFAULT_RULES.items():
        db.execute("INSERT INTO rules (flag, action, updated_by, updated_at) VALUES (?, ?, 'system', "
                   "strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))", [flag, action])
    db["ticket_flags"].create(
        {"ticket_id": int, "kind": str, "reason": str, "source": str, "created_at": str},
        pk=("ticket_id", "kind", "source"),
        foreign_keys=[("ticket_id", "tickets", "id")],
        not_null={"reason", "created_at"},
    )
    db.execute("ALTER TABLE tickets ADD COLUMN flags TEXT NOT NULL DEFAULT '[]'")  # kinds, for chips and filters
    db.execute("ALTER TABLE tickets ADD COLUMN sentiment TEXT")
    db.execute("ALTER TABLE drafts ADD COLUMN requested_by TEXT")  # who asked a supervisor to approve


def _v8_sort_by_flags(db: sqlite_utils.Database) -> None:
    """Sorting the queue by its flag chips (most flagged first) without sorting 100k rows each time."""
    db.execute("CREATE INDEX idx_tickets_flag_count ON tickets (json_array_length(flags), id)")


def _v9_message_notes(db: sqlite_utils.Database) -> None:
    """What was done to show a message safely (formatting simplified, characters replaced), as a JSON list."""
    db.execute("ALTER TABLE messages ADD COLUMN notes TEXT")


Migration = Callable[[sqlite_utils.Database], None]

MIGRATIONS: list[Migration] = [
    _v1_initial,
    _v2_queue_at_scale,
    _v3_people_rules_flags,
    knowledge_schema.migrate,  # 4: articles.body_html for imported articles
    email_schema.migrate,  # 5: the e-mail channel: mailboxes, UID ledger, attachments, outbox
    quality.migrate,  # 6: per-draft quality cache for the dashboard
    review.migrate,  # 7: supervisors' review comments
    _v8_sort_by_flags,
    _v9_message_notes,
]
