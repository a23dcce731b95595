"""Full-text search over the knowledge base (FTS5, bm25, highlighted snippets).

Two entry points share one ranking query:

* :func:`search` takes what a person types: words (prefix-matched, for
  search-as-you-type), ``"exact phrases"`` and ``-excluded`` words. User input
  never reaches MATCH unquoted, so FTS5 syntax in it is just text.
* :func:`suggest_for_text` takes a ticket's text, picks its key terms (rare in
  the knowledge base, frequent in the ticket) and ranks articles by them, in the
  ticket's language first.
"""

from __future__ import annotations

import html
import math
import re
from collections import Counter
from dataclasses import dataclass

import sqlite_utils

from agent_assist.knowledge.terms import content_words, fold, words

TITLE_WEIGHT = 10.0
BODY_WEIGHT = 1.0
_HL_START, _HL_END = "\x02", "\x03"


@dataclass(frozen=True)
class SearchHit:
    article_id: int
    title: str
    section: str | None
    locale: str | None
    snippet: str  # plain text with \x02 ... \x03 around matches
    score: float  # bm25: lower is better

    @property
    def citation(self) -> str:
        return f"[KB-{self.article_id}]"

    def snippet_html(self) -> str:
        """The snippet, HTML-escaped, with matches in ``<b>``."""
        return html.escape(self.snippet).replace(_HL_START, "<b>").replace(_HL_END, "</b>")

    def snippet_terminal(self, bold: str = "\x1b[1m", reset: str = "\x1b[0m") -> str:
        return self.snippet.replace(_HL_START, bold).replace(_HL_END, reset)


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


@dataclass(frozen=True)
class ParsedQuery:
    match: str | None  # the FTS5 MATCH expression, None when nothing to search for
    fallback: str | None  # a looser OR form tried when the strict form finds nothing


_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)(\S+)')


def parse_query(text: str) -> ParsedQuery:
    """Turn typed text into a safe MATCH expression.

    ``late fee -waiver "credit limit"`` -> ``"late"* AND "fee"* AND "credit limit" NOT "waiver"``
    """
    include: list[str] = []
    exclude: list[str] = []
    for m in _TOKEN.finditer(text):
        if m.group(2) is not None:  # a quoted phrase
            phrase_words = words(m.group(2))
            if phrase_words:
                (exclude if m.group(1) else include).append(_quote(" ".join(phrase_words)))
            continue
        negate, raw = m.group(3), m.group(4)
        for w in words(raw):
            if negate:
                exclude.append(_quote(w))
            else:
                include.append(_quote(w) + "*")
    if not include:
        return ParsedQuery(None, None)
    strict = " AND ".join(include)
    loose = " OR ".join(include) if len(include) > 1 else None
    if exclude:
        not_part = " NOT " + " NOT ".join(exclude)
        strict = f"({strict}){not_part}"
        loose = f"({loose}){not_part}" if loose else None
    return ParsedQuery(strict, loose)


_SEARCH_SQL = f"""
SELECT a.id, a.title, a.section, a.locale,
       snippet(articles_fts, 1, '{_HL_START}', '{_HL_END}', '…', 24) AS snip,
       bm25(articles_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS score
FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid
WHERE articles_fts MATCH :match {{filters}}
ORDER BY {{order}} score
LIMIT :limit
"""


def _run(db: sqlite_utils.Database, match: str, *, locale: str | None, section: str | None,
         prefer_locale: str | None, limit: int) -> list[SearchHit]:
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
    sql = _SEARCH_SQL.format(filters=filters, order=order)
    return [SearchHit(*row) for row in db.conn.execute(sql, params)]


def search(db: sqlite_utils.Database, query: str, *, locale: str | None = None, section: str | None = None,
           prefer_locale: str | None = None, limit: int = 20) -> list[SearchHit]:
    """Search as a person types. Returns the best hits first (empty for an empty query)."""
    parsed = parse_query(query)
    if parsed.match is None:
        return []
    hits = _run(db, parsed.match, locale=locale, section=section, prefer_locale=prefer_locale, limit=limit)
    if not hits and parsed.fallback:
        hits = _run(db, parsed.fallback, locale=locale, section=section, prefer_locale=prefer_locale,
                    limit=limit)
    return hits


def key_terms(db: sqlite_utils.Database, text: str, *, subject: str = "", max_terms: int = 8) -> list[str]:
    """The ticket's most telling words that the knowledge base knows, best first.

    Scored by tf-idf against the index's own vocabulary: a word the ticket
    repeats and few articles contain scores high; a word most articles contain
    (or none does) is dropped. Words of the subject count double.
    """
    tf: Counter[str] = Counter(content_words(text))
    for w in content_words(subject):
        tf[w] += 2
    if not tf:
        return []
    total = db.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    if not total:
        return []
    candidates = list(tf)
    df: dict[str, int] = {}
    for i in range(0, len(candidates), 400):
        chunk = candidates[i:i + 400]
        rows = db.conn.execute(
            f"SELECT term, doc FROM articles_fts_vocab WHERE term IN ({', '.join('?' for _ in chunk)})", chunk
        )
        df.update(rows)
    scored = []
    for term, freq in tf.items():
        docs = df.get(term, 0)
        if not docs or docs / total > 0.5:
            continue
        scored.append((freq * math.log(1 + total / docs), term))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [term for _, term in scored[:max_terms]]


def suggest_for_text(db: sqlite_utils.Database, text: str, *, subject: str = "", language: str | None = None,
                     limit: int = 8) -> list[SearchHit]:
    """Articles for a ticket: ranked by its key terms, the ticket's language first."""
    terms = key_terms(db, text, subject=subject)
    if not terms:
        return []
    match = " OR ".join(_quote(fold(t)) for t in terms)
    return _run(db, match, locale=None, section=None, prefer_locale=language, limit=limit)


def sections(db: sqlite_utils.Database) -> list[str]:
    return [r[0] for r in db.conn.execute(
        "SELECT DISTINCT section FROM articles WHERE section IS NOT NULL ORDER BY section")]


def locales(db: sqlite_utils.Database) -> list[str]:
    return [r[0] for r in db.conn.execute(
        "SELECT DISTINCT locale FROM articles WHERE locale IS NOT NULL ORDER BY locale")]
