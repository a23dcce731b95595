"""The knowledge base's full-text queries: FTS5 (bm25, snippet, its vocabulary) on a desk,
``tsvector`` (ts_rank_cd, ts_headline) on a team server.

:mod:`agent_assist.knowledge.search` decides *what* to look for (query parsing, relaxing, typos, a
ticket's key terms); the statements that look are here, and return plain rows:
``(id, title, section, locale, snippet, score)``, a lower score being a better hit on both backends.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

TITLE_WEIGHT = 10.0
BODY_WEIGHT = 1.0
HL_START, HL_END = "\x02", "\x03"  # around each matched word in a snippet
_LAST = "\U0010ffff"  # sorts after every other character: [t, t + _LAST) holds the words starting with t
_IN_CHUNK = 400  # terms looked up in one IN (...) list

Hit = tuple[int, str, "str | None", "str | None", str, float]


# -- FTS5 (a desk's SQLite file) -------------------------------------------------------------------------
def vocab_has_prefix(db: Any, term: str) -> bool:
    """Does any indexed word start with ``term``?"""
    return db.conn.execute("SELECT 1 FROM articles_fts_vocab WHERE term >= ? AND term < ? LIMIT 1",
                           (term, term + _LAST)).fetchone() is not None


def vocab_has(db: Any, term: str) -> bool:
    """Is ``term`` itself an indexed word?"""
    return db.conn.execute("SELECT 1 FROM articles_fts_vocab WHERE term = ?", (term,)).fetchone() is not None


def vocab_starting(db: Any, head: str) -> Iterator[tuple[str, int]]:
    """``(word, articles with it)`` for every indexed word that starts with ``head``."""
    return iter(db.conn.execute("SELECT term, doc FROM articles_fts_vocab WHERE term >= ? AND term < ?",
                                (head, head + _LAST)))


def vocab_docs(db: Any, terms: Iterable[str]) -> dict[str, int]:
    """How many articles have each of ``terms`` (words the index does not know are left out)."""
    terms = list(terms)
    found: dict[str, int] = {}
    for i in range(0, len(terms), _IN_CHUNK):
        chunk = terms[i:i + _IN_CHUNK]
        found.update(db.conn.execute(
            f"SELECT term, doc FROM articles_fts_vocab WHERE term IN ({', '.join('?' for _ in chunk)})", chunk))
    return found


_FTS_SQL = f"""
SELECT a.id, a.title, a.section, a.locale,
       snippet(articles_fts, 1, '{HL_START}', '{HL_END}', '…', 24) AS snip,
       bm25(articles_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS score
FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid
WHERE articles_fts MATCH :match {{filters}}
ORDER BY {{order}} score
LIMIT :limit
"""

_RANK_SQL = f"""
SELECT rowid, snippet(articles_fts, 1, '{HL_START}', '{HL_END}', '…', 24) AS snip,
       bm25(articles_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS score
FROM articles_fts WHERE articles_fts MATCH :match
ORDER BY score
LIMIT :limit
"""


def fts_hits(db: Any, match: str, *, locale: str | None = None, section: str | None = None,
             prefer_locale: str | None = None, limit: int = 20) -> list[Hit]:
    """The best articles for an FTS5 MATCH expression (which the caller made safe), by bm25,
    titles weighing :data:`TITLE_WEIGHT`; ``prefer_locale``'s articles first."""
    filters = ""
    params: dict[str, object] = {"match": match, "limit": limit}
    if locale:
        filters += " AND a.locale = :locale"
        params["locale"] = locale
    if section:
        filters += " AND a.section = :section"
        params["section"] = section
    order = ""
    if prefer_locale:
        order = "(a.locale IS NOT :prefer),"
        params["prefer"] = prefer_locale
    if not (filters or order):
        return _fts_hits_unfiltered(db, match, limit)
    sql = _FTS_SQL.format(filters=filters, order=order)
    return [tuple(row) for row in db.conn.execute(sql, params)]


def _fts_hits_unfiltered(db: Any, match: str, limit: int) -> list[Hit]:
    """Rank in the index alone, then read title, section and locale of the page of hits only.

    Joining ``articles`` for every match (as filters need) reads past each article's body to its
    section and locale: with 50k articles that made common words twice as slow as the index itself.
    """
    ranked = db.conn.execute(_RANK_SQL, {"match": match, "limit": limit}).fetchall()
    if not ranked:
        return []
    ids = [row[0] for row in ranked]
    meta = {row[0]: row[1:] for row in db.conn.execute(
        f"SELECT id, title, section, locale FROM articles WHERE id IN ({', '.join('?' for _ in ids)})", ids)}
    return [(rowid, *meta[rowid], snip, score) for rowid, snip, score in ranked if rowid in meta]


# -- tsvector (a team server) ------------------------------------------------------------------------------
_TS_SQL = f"""
SELECT a.id, a.title, a.section, a.locale,
       ts_headline('simple', a.body, q, 'StartSel={HL_START}, StopSel={HL_END}, MaxWords=24, MinWords=8, MaxFragments=1'),
       -ts_rank_cd('{{weights}}', a.search_vector, q, 1) AS score
FROM articles a, to_tsquery('simple', ?) q
WHERE a.search_vector @@ q {{filters}}
ORDER BY {{order}} score, a.id
LIMIT ?
"""


# the weights of the vector's D, C, B (body) and A (title) parts: a title counts as much more than the
# body as it does in FTS5's bm25. Cover density (ts_rank_cd: the words close together) rather than
# ts_rank: with the demo articles and tests/knowledge/queries.json, 134 of 154 queries find their
# article in the top 3 against 131 (ts_rank knows no rarity of words, as bm25 does; nearness helps)
_TS_WEIGHTS = "{" + f"0, 0, {BODY_WEIGHT / TITLE_WEIGHT}, 1" + "}"


def ts_hits(db: Any, tsquery: str, *, locale: str | None = None, section: str | None = None,
            prefer_locale: str | None = None, limit: int = 20) -> list[Hit]:
    """The best articles for a PostgreSQL ``tsquery`` (see ``postgres.adapter.tsquery_lexeme``), by
    ts_rank_cd over ``search_vector`` (titles are its A weight); ``prefer_locale``'s articles first."""
    filters, params = "", [tsquery]
    if locale:
        filters += " AND a.locale = ?"
        params.append(locale)
    if section:
        filters += " AND a.section = ?"
        params.append(section)
    order = ""
    params_order: list[object] = []
    if prefer_locale:
        order = "(a.locale IS DISTINCT FROM ?),"
        params_order.append(prefer_locale)
    sql = _TS_SQL.format(filters=filters, order=order, weights=_TS_WEIGHTS)
    return [tuple(row) for row in db.conn.execute(sql, [*params, *params_order, limit])]


def heads(db: Any, ids: list[int], *, chars: int = 240) -> dict[int, Hit]:
    """``id -> (id, title, section, locale, start of the body, 0.0)``: hits found by meaning rather
    than by words have no matched words to show, so their snippet is the body's start."""
    out: dict[int, Hit] = {}
    for i in range(0, len(ids), _IN_CHUNK):
        chunk = ids[i:i + _IN_CHUNK]
        for row in db.conn.execute(
                f"SELECT id, title, section, locale, substr(body, 1, ?) FROM articles"
                f" WHERE id IN ({', '.join('?' for _ in chunk)})", (chars, *chunk)):
            out[row[0]] = (row[0], row[1], row[2], row[3], row[4], 0.0)
    return out
