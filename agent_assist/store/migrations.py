"""Ordered schema migrations. ``MIGRATIONS[n-1]`` takes the schema from n-1 to n.

Each runs inside one ``BEGIN IMMEDIATE`` transaction together with the
``PRAGMA user_version`` bump, so a failing migration leaves the file as it was.
Never edit a released migration: append a new one.

The store owns every migration's SQL, the tables of the layers above it included
(knowledge, the e-mail channel): the store is the one place that knows the
schema and the backend, and nothing here imports upwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import sqlite_utils

from agent_assist.store import vectors


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


def v4_article_html(db: sqlite_utils.Database) -> None:
    """``articles.body_html``: imported articles keep their sanitized HTML beside the plain text
    (``body``, which the FTS index and the prompts use), so the UI can show their formatting."""
    db.execute("ALTER TABLE articles ADD COLUMN body_html TEXT")


_EMAIL_DDL = (
    """CREATE TABLE email_sync_state (
        mailbox TEXT NOT NULL,
        folder TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL,
        last_uid INTEGER NOT NULL DEFAULT 0,
        last_sync_at TEXT,
        PRIMARY KEY (mailbox, folder)
    )""",
    """CREATE TABLE email_messages (
        id INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL UNIQUE,
        direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
        ticket_id INTEGER REFERENCES tickets(id),
        message_row INTEGER REFERENCES messages(id),
        customer_id INTEGER REFERENCES customers(id),
        subject TEXT NOT NULL DEFAULT '',
        subject_norm TEXT NOT NULL DEFAULT '',
        from_addr TEXT,
        reply_to TEXT,
        in_reply_to TEXT,
        refs TEXT,
        date_header TEXT,
        received_at TEXT,
        size INTEGER,
        notes TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX idx_email_messages_subject ON email_messages (customer_id, subject_norm, created_at)",
    "CREATE INDEX idx_email_messages_ticket ON email_messages (ticket_id, direction, id)",
    "CREATE INDEX idx_email_messages_row ON email_messages (message_row)",
    """CREATE TABLE email_uids (
        mailbox TEXT NOT NULL,
        folder TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('imported', 'threaded', 'duplicate', 'skipped')),
        reason TEXT,
        email_message INTEGER REFERENCES email_messages(id),
        at TEXT NOT NULL,
        PRIMARY KEY (mailbox, folder, uidvalidity, uid)
    ) WITHOUT ROWID""",
    "CREATE INDEX idx_email_uids_outcome ON email_uids (outcome)",
    """CREATE TABLE email_blobs (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        data BLOB NOT NULL
    )""",
    """CREATE TABLE email_attachments (
        id INTEGER PRIMARY KEY,
        email_message INTEGER NOT NULL REFERENCES email_messages(id),
        message_row INTEGER REFERENCES messages(id),
        position INTEGER NOT NULL,
        filename TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT REFERENCES email_blobs(sha256),
        content_id TEXT,
        inline INTEGER NOT NULL DEFAULT 0,
        risky INTEGER NOT NULL DEFAULT 0,
        note TEXT
    )""",
    "CREATE INDEX idx_email_attachments_row ON email_attachments (message_row, position)",
    "CREATE INDEX idx_email_attachments_msg ON email_attachments (email_message)",
    """CREATE TABLE email_outbox (
        id INTEGER PRIMARY KEY,
        mailbox TEXT NOT NULL,
        ticket_id INTEGER NOT NULL REFERENCES tickets(id),
        message_row INTEGER NOT NULL UNIQUE REFERENCES messages(id),
        message_id TEXT NOT NULL UNIQUE,
        in_reply_to TEXT,
        refs TEXT,
        mail_from TEXT NOT NULL,
        rcpt_to TEXT NOT NULL,
        raw BLOB NOT NULL,
        state TEXT NOT NULL DEFAULT 'queued'
            CHECK (state IN ('queued', 'sending', 'committing', 'sent', 'failed', 'unknown')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        next_attempt_at TEXT,
        smtp_reply TEXT,
        filed TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        sent_at TEXT
    )""",
    "CREATE INDEX idx_email_outbox_due ON email_outbox (state, next_attempt_at)",
    "CREATE INDEX idx_email_outbox_ticket ON email_outbox (ticket_id)",
)


def v5_email_channel(db: sqlite_utils.Database) -> None:
    """The e-mail channel's tables (all prefixed ``email_``; the core tables are not changed).

    ``email_sync_state``   per mailbox and folder: UIDVALIDITY and the highest UID handled.
    ``email_uids``         a ledger with one row per (mailbox, folder, UIDVALIDITY, UID) ever handled, and its
                           outcome (imported, threaded, duplicate, skipped + reason): a UID is processed once.
    ``email_messages``     every e-mail known by its Message-ID (unique), inbound and our outbound replies,
                           with the ticket and ``messages`` row it belongs to and the headers threading needs.
    ``email_blobs``        attachment contents, content-addressed by SHA-256 (a logo in 500 mails is kept once).
    ``email_attachments``  the attachments and inline images of each message, with a reason when one was
                           not kept.
    ``email_outbox``       replies to send: the full RFC 5322 message, its recipients and its delivery state
                           (queued -> sending -> committing -> sent; failed / unknown wait for a person).
    """
    for sql in _EMAIL_DDL:
        db.execute(sql)


def v6_draft_quality(db: sqlite_utils.Database) -> None:
    """The per-sent-draft cache behind the quality dashboard (:mod:`agent_assist.store.quality`)."""
    # clustered by send time (WITHOUT ROWID, sent_at first): a period is one sequential range scan
    db.execute(
        "CREATE TABLE draft_quality ("
        " sent_at TEXT NOT NULL,"
        " day TEXT NOT NULL,"  # the UTC date of sent_at
        " draft_id INTEGER NOT NULL REFERENCES drafts (id),"
        " ticket_id INTEGER NOT NULL,"
        " agent TEXT NOT NULL,"
        " topic TEXT,"
        " language TEXT,"
        " sent_as_is INTEGER NOT NULL,"
        " distance REAL NOT NULL,"
        " seconds_to_send REAL,"
        " escalated INTEGER NOT NULL,"
        " PRIMARY KEY (sent_at, draft_id)) WITHOUT ROWID"
    )
    db.execute("CREATE UNIQUE INDEX idx_draft_quality_draft ON draft_quality (draft_id)")
    db.execute("CREATE INDEX idx_draft_quality_agent ON draft_quality (agent, sent_at)")
    # covers the dashboard's query: grouped by day and agent it streams in index order, no sort
    db.execute("CREATE INDEX idx_draft_quality_day ON draft_quality (day, agent, language, topic, sent_at, "
               "sent_as_is, distance, seconds_to_send, escalated)")
    # the sent drafts, newest first for the review list, and cheap to count against the cache
    db.execute("CREATE INDEX idx_drafts_sent ON drafts (updated_at) WHERE state = 'sent'")


def v7_review_comments(db: sqlite_utils.Database) -> None:
    """Supervisors' review comments, and an index for the approval queue (:mod:`agent_assist.store.review`)."""
    db.execute(
        "CREATE TABLE review_comments ("
        " id INTEGER PRIMARY KEY,"
        " draft_id INTEGER NOT NULL REFERENCES drafts (id),"
        " ticket_id INTEGER NOT NULL REFERENCES tickets (id),"
        " author TEXT NOT NULL,"
        " comment TEXT NOT NULL,"
        " created_at TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX idx_review_comments_draft ON review_comments (draft_id, id)")
    db.execute("CREATE INDEX idx_review_comments_ticket ON review_comments (ticket_id, id)")
    db.execute("CREATE INDEX idx_drafts_awaiting ON drafts (updated_at) WHERE state = 'awaiting_supervisor'")


def _v8_sort_by_flags(db: sqlite_utils.Database) -> None:
    """Sorting the queue by its flag chips (most flagged first) without sorting 100k rows each time."""
    db.execute("CREATE INDEX idx_tickets_flag_count ON tickets (json_array_length(flags), id)")


def _v9_drafts_edited_by(db: sqlite_utils.Database) -> None:
    """Who last changed a draft's text: four eyes needs an approver other than that person."""
    db.execute("ALTER TABLE drafts ADD COLUMN edited_by TEXT")


def _v10_keyed_audit(db: sqlite_utils.Database) -> None:
    """The database's own id (its audit key's name in the keyring) and a per-row chain algorithm.

    Rows so far stay plain SHA-256 (``alg`` defaults to it); the store keys the chain from
    their head when it opens where a keyring can keep the key (``audit.start_keyed_chain``).
    Messages and drafts that exist now predate reply audit details and are not matched.
    """
    db.execute("CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    legacy_messages = db.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0]
    legacy_drafts = db.execute("SELECT COALESCE(MAX(id), 0) FROM drafts").fetchone()[0]
    db.conn.executemany("INSERT INTO store_meta (key, value) VALUES (?, ?)", [
        ("database_id", str(uuid.uuid4())),
        ("legacy_message_max", str(legacy_messages)),
        ("legacy_draft_max", str(legacy_drafts)),
    ])
    db.execute("ALTER TABLE audit ADD COLUMN alg TEXT NOT NULL DEFAULT 'sha256'")


def _v11_message_notes(db: sqlite_utils.Database) -> None:
    """What was done to show a message safely (formatting simplified, characters replaced), as a JSON list."""
    db.execute("ALTER TABLE messages ADD COLUMN notes TEXT")


def _v12_outbox_claims(db: sqlite_utils.Database) -> None:
    """Which sender holds an outgoing e-mail, and since when: a row is claimed in the database with a
    conditional update, so two senders never send it both (whatever path or process opened the file).
    Rows in flight now have no claimant, so the next run takes them over as a dead run's orphans."""
    db.execute("ALTER TABLE email_outbox ADD COLUMN claimed_by TEXT")
    db.execute("ALTER TABLE email_outbox ADD COLUMN claimed_at TEXT")


def _v13_draft_feedback(db: sqlite_utils.Database) -> None:
    """An agent's word on a suggestion: not useful, and why (counted per reason on the quality dashboard).
    The reasons are checked here as on the team server (``agent_assist.store.feedback.REASONS``)."""
    db.execute(
        "CREATE TABLE draft_feedback ("
        " id INTEGER PRIMARY KEY,"
        " draft_id INTEGER NOT NULL REFERENCES drafts (id),"
        " ticket_id INTEGER NOT NULL REFERENCES tickets (id),"
        " reason TEXT NOT NULL CHECK (reason IN ('wrong_facts', 'wrong_tone', 'wrong_language', 'missed_point')),"
        " author TEXT NOT NULL,"
        " created_at TEXT NOT NULL)")
    db.execute("CREATE INDEX idx_draft_feedback_draft ON draft_feedback (draft_id)")
    db.execute("CREATE INDEX idx_draft_feedback_created ON draft_feedback (created_at)")


def _v14_vectors(db: sqlite_utils.Database) -> None:
    """Embedding vectors of articles and solved tickets (``agent_assist.store.vectors``)."""
    vectors.create(db)


def _v15_article_drafts(db: sqlite_utils.Database) -> None:
    """Article drafts proposed from solved tickets, for a supervisor to publish (``store.article_drafts``)."""
    db.execute(
        "CREATE TABLE article_drafts ("
        " id INTEGER PRIMARY KEY,"
        " ticket_id INTEGER REFERENCES tickets (id),"
        " key TEXT NOT NULL,"
        " title TEXT NOT NULL CHECK (length(trim(title)) > 0),"
        " body TEXT NOT NULL CHECK (length(trim(body)) > 0),"
        " locale TEXT NOT NULL,"
        " section TEXT,"
        " proposed_by TEXT NOT NULL,"
        " proposed_at TEXT NOT NULL,"
        " state TEXT NOT NULL DEFAULT 'proposed' CHECK (state IN ('proposed', 'published', 'discarded')),"
        " decided_by TEXT,"
        " decided_at TEXT,"
        " article_id INTEGER)")  # the article it became; no foreign key: articles come and go with imports
    db.execute("CREATE INDEX idx_article_drafts_state ON article_drafts (state, proposed_at)")


Migration = Callable[[sqlite_utils.Database], None]

MIGRATIONS: list[Migration] = [
    _v1_initial,
    _v2_queue_at_scale,
    _v3_people_rules_flags,
    v4_article_html,  # articles.body_html for imported articles
    v5_email_channel,  # the e-mail channel: mailboxes, UID ledger, attachments, outbox
    v6_draft_quality,  # per-draft quality cache for the dashboard
    v7_review_comments,  # supervisors' review comments
    _v8_sort_by_flags,
    _v9_drafts_edited_by,
    _v10_keyed_audit,
    _v11_message_notes,
    _v12_outbox_claims,  # who holds an outgoing e-mail: senders claim rows in the database
    _v13_draft_feedback,  # "not useful" feedback on suggestions, with a reason
    _v14_vectors,  # embedding vectors for semantic search and similar solved tickets
    _v15_article_drafts,  # articles proposed from solved tickets, published by a supervisor
]
