"""Schema change the knowledge importer needs: to be appended to ``store.migrations.MIGRATIONS``.

Imported articles keep their sanitized HTML next to the plain text (``body``, which
the FTS index and the prompts use), so the UI can show an article's formatting.
The sync works without this column too (it then keeps the plain text only).
"""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    """Add ``articles.body_html`` (sanitized HTML, NULL for plain-text articles)."""
    db.execute("ALTER TABLE articles ADD COLUMN body_html TEXT")
