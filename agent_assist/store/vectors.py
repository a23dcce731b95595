"""Embedding vectors of articles and solved tickets, kept beside them in a desk's SQLite file.

One row per item and model: ``(kind, item_id, model, digest, vec)``. ``kind`` is ``article`` or
``ticket``; ``model`` names the embedder that made the vector (vectors of two models never mix);
``digest`` is what the text looked like when it was embedded (an article's content hash, change time
and lengths; a hash of a ticket's question), so an indexing run embeds only what is new or changed. ``vec`` is
little-endian float32, L2-normalised: a dot product is the cosine.

The knowledge layer turns the rows into a matrix and ranks (:mod:`agent_assist.knowledge.semantic`);
this module only reads and writes them. A team desk keeps its vectors in its knowledge replica
(itself a SQLite file, :mod:`agent_assist.store.knowledge_replica`): searching needs no server.

Plain SQLite, not the sqlite-vec extension: many Python builds cannot load extensions
(``enable_load_extension`` is missing from pyenv's and several distributions' builds), and an exact
scan of 50,000 vectors in memory takes milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

ARTICLE = "article"
TICKET = "ticket"
KINDS = (ARTICLE, TICKET)
_CHUNK = 400

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS vectors ("
    " id INTEGER PRIMARY KEY,"
    " kind TEXT NOT NULL CHECK (kind IN ('article', 'ticket')),"
    " item_id INTEGER NOT NULL,"
    " model TEXT NOT NULL,"
    " digest TEXT NOT NULL,"
    " vec BLOB NOT NULL,"
    " UNIQUE (kind, model, item_id))"
)


def create(db: Any) -> None:
    """The table (a desk's migration 14 and the knowledge replica's second migration)."""
    db.execute(SCHEMA)


def has_table(db: Any) -> bool:
    return db["vectors"].exists()


def location(db: Any) -> str:
    """The file the connection has open ("" in memory): vectors read from one file never serve another."""
    row = db.conn.execute("PRAGMA database_list").fetchone()
    return (row[2] or "") if row else ""


def digests(db: Any, kind: str, model: str) -> dict[int, str]:
    """``item_id -> digest`` of every vector of ``kind`` the model made."""
    return dict(db.conn.execute("SELECT item_id, digest FROM vectors WHERE kind = ? AND model = ?", (kind, model)))


def put(db: Any, kind: str, model: str, rows: Iterable[tuple[int, str, bytes]]) -> int:
    """Write ``(item_id, digest, vec)`` rows, replacing the model's older vector of each item."""
    rows = [(kind, item_id, model, digest, vec) for item_id, digest, vec in rows]
    db.conn.executemany(
        "INSERT INTO vectors (kind, item_id, model, digest, vec) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (kind, model, item_id) DO UPDATE SET digest = excluded.digest, vec = excluded.vec,"
        " id = (SELECT coalesce(max(id), 0) + 1 FROM vectors)", rows)
    return len(rows)


def remove(db: Any, kind: str, model: str, item_ids: Iterable[int]) -> int:
    """Forget the vectors of items that are gone."""
    ids = list(item_ids)
    gone = 0
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i:i + _CHUNK]
        gone += db.conn.execute(
            f"DELETE FROM vectors WHERE kind = ? AND model = ? AND item_id IN ({', '.join('?' for _ in chunk)})",
            (kind, model, *chunk)).rowcount
    return gone


def version(db: Any, kind: str, model: str) -> tuple[int, int]:
    """``(rows, highest row id)``: changes whenever a vector of ``kind`` is added, replaced or removed
    (a replaced row takes a new, higher id), so a matrix read earlier can be checked cheaply."""
    row = db.conn.execute("SELECT count(*), coalesce(max(id), 0) FROM vectors WHERE kind = ? AND model = ?",
                          (kind, model)).fetchone()
    return int(row[0]), int(row[1])


def rows(db: Any, kind: str, model: str) -> Iterator[tuple[int, bytes]]:
    """``(item_id, vec)`` of every vector of ``kind`` the model made, in item order."""
    return iter(db.conn.execute("SELECT item_id, vec FROM vectors WHERE kind = ? AND model = ? ORDER BY item_id",
                                (kind, model)))


def models(db: Any, kind: str) -> dict[str, int]:
    """How many vectors of ``kind`` each model has made."""
    return dict(db.conn.execute("SELECT model, count(*) FROM vectors WHERE kind = ? GROUP BY model", (kind,)))


def forget_model(db: Any, model: str) -> int:
    """Remove every vector a model made (the person switched embedders)."""
    return db.conn.execute("DELETE FROM vectors WHERE model = ?", (model,)).rowcount


# -- what needs embedding ------------------------------------------------------------------------------------
# what an article looked like: its content hash (set by imports), when it changed, and its lengths (an edit
# made by hand, in SQL, changes those even where it leaves the hash alone)
_ARTICLE_DIGEST = ("coalesce(a.content_hash, '') || '|' || coalesce(a.updated_at, '') || '|' || length(a.title)"
                   " || '|' || length(a.body)")


def stale_articles(db: Any, model: str) -> list[tuple[int, str]]:
    """``(article_id, digest)`` of articles without a vector of ``model`` for their current text."""
    return [tuple(r) for r in db.conn.execute(
        f"SELECT a.id, {_ARTICLE_DIGEST} FROM articles a"
        " LEFT JOIN vectors v ON v.kind = 'article' AND v.model = ? AND v.item_id = a.id"
        f" WHERE v.digest IS NOT ({_ARTICLE_DIGEST}) ORDER BY a.id", (model,))]


def article_texts(db: Any, ids: list[int]) -> dict[int, tuple[str, str]]:
    """``article_id -> (title, body)``."""
    out: dict[int, tuple[str, str]] = {}
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i:i + _CHUNK]
        out.update((r[0], (r[1], r[2])) for r in db.conn.execute(
            f"SELECT id, title, body FROM articles WHERE id IN ({', '.join('?' for _ in chunk)})", chunk))
    return out


def orphans(db: Any, kind: str, model: str) -> list[int]:
    """Items with a vector whose article or ticket is gone (or, for tickets, no longer solved)."""
    if kind == ARTICLE:
        sql = ("SELECT item_id FROM vectors v WHERE kind = 'article' AND model = ?"
               " AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = v.item_id)")
    else:
        sql = ("SELECT item_id FROM vectors v WHERE kind = 'ticket' AND model = ? AND NOT EXISTS"
               f" (SELECT 1 FROM tickets t WHERE t.id = v.item_id AND {_SOLVED})")
    return [r[0] for r in db.conn.execute(sql, (model,))]


# a solved ticket worth learning from: solved or closed, with a reply that went out to the customer
_SOLVED = ("t.status IN ('solved', 'closed') AND EXISTS"
           " (SELECT 1 FROM messages o WHERE o.ticket_id = t.id AND o.direction = 'outbound')")


def solved_questions(db: Any, model: str, *, stale_only: bool = True) -> list[tuple[int, str, str]]:
    """``(ticket_id, subject, first customer message)`` of solved tickets (without a vector of
    ``model`` when ``stale_only``; whether the vector is current is the caller's digest to check)."""
    if not (has_table(db) and db["tickets"].exists()):  # a knowledge replica has no tickets
        return []
    sql = ("SELECT t.id, t.subject, (SELECT m.body_text FROM messages m WHERE m.ticket_id = t.id"
           "  AND m.direction = 'inbound' ORDER BY m.created_at, m.id LIMIT 1), v.digest"
           " FROM tickets t LEFT JOIN vectors v ON v.kind = 'ticket' AND v.model = ? AND v.item_id = t.id"
           f" WHERE {_SOLVED} ORDER BY t.id")
    return [(r[0], r[1] or "", r[2] or "", r[3]) for r in db.conn.execute(sql, (model,))]


def solved_answers(db: Any, ticket_ids: list[int]) -> dict[int, tuple[str, str, str, str, str, str]]:
    """``ticket_id -> (subject, language, customer's name, first customer message, last reply sent,
    when it was sent)``."""
    out: dict[int, tuple[str, str, str, str, str, str]] = {}
    for i in range(0, len(ticket_ids), _CHUNK):
        chunk = ticket_ids[i:i + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        for r in db.conn.execute(
                "SELECT t.id, t.subject, t.language, coalesce(c.name, ''),"
                " (SELECT m.body_text FROM messages m WHERE m.ticket_id = t.id AND m.direction = 'inbound'"
                "  ORDER BY m.created_at, m.id LIMIT 1),"
                " o.body_text, o.created_at"
                " FROM tickets t LEFT JOIN customers c ON c.id = t.customer_id"
                " JOIN messages o ON o.id = (SELECT o2.id FROM messages o2 WHERE o2.ticket_id = t.id"
                "  AND o2.direction = 'outbound' ORDER BY o2.created_at DESC, o2.id DESC LIMIT 1)"
                f" WHERE t.id IN ({marks})", chunk):
            out[r[0]] = (r[1] or "", r[2] or "", r[3] or "", r[4] or "", r[5] or "", r[6] or "")
    return out
