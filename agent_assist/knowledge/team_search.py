"""Knowledge search on a team server: PostgreSQL's full-text search over ``articles.search_vector``.

The same answers in the same shape as :mod:`agent_assist.knowledge.search` (FTS5 on a desk): every
typed word as a prefix, articles with all of them first, else with any of them; titles weigh more
(the vector's A weight); the snippet marks the matched words. A desk's own offline replica of the
articles is the next step (team work); until then a desk searches the server.
"""

from __future__ import annotations

from collections import Counter

from agent_assist.knowledge.terms import content_words, words
from agent_assist.store import article_search
from agent_assist.store.postgres.adapter import prefix_tsquery

MAX_TERMS = 32


def _run(db, terms: list[str], joiner: str, *, locale=None, section=None, prefer_locale=None, limit=20):
    from agent_assist.knowledge.search import SearchHit

    if not terms:
        return []
    rows = article_search.ts_hits(db, prefix_tsquery(terms, joiner), locale=locale, section=section,
                                  prefer_locale=prefer_locale, limit=limit)
    return [SearchHit(*row) for row in rows]


def search(db, query: str, *, locale=None, section=None, prefer_locale=None, limit=20):
    terms = [w.lower() for w in words(query[:1000])][:MAX_TERMS]
    terms = [t for t in terms if t]
    hits = _run(db, terms, "&", locale=locale, section=section, prefer_locale=prefer_locale, limit=limit)
    if not hits and len(terms) > 1:
        hits = _run(db, terms, "|", locale=locale, section=section, prefer_locale=prefer_locale, limit=limit)
    return hits


def suggest_for_text(db, text: str, *, subject: str = "", language=None, limit: int = 8):
    """Articles for a ticket: its most repeated content words (subject twice), any of them, ranked."""
    tf: Counter[str] = Counter(w.lower() for w in content_words(text))
    for w in content_words(subject):
        tf[w.lower()] += 2
    terms = [t for t, _n in tf.most_common(8) if t]
    return _run(db, terms, "|", prefer_locale=language, limit=limit)
