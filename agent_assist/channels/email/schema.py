"""Schema the e-mail channel needs: to be appended to ``store.migrations.MIGRATIONS``.

Tables (all prefixed ``email_``; the core tables are not changed):

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

from __future__ import annotations

import sqlite_utils

_DDL = (
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


def migrate(db: sqlite_utils.Database) -> None:
    """Create the e-mail channel's tables (runs inside the migration's transaction)."""
    for sql in _DDL:
        db.execute(sql)
