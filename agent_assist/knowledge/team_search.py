"""Knowledge search on a team server: PostgreSQL's full-text search over ``articles.search_vector``.

The same answers in the same shape as :mod:`agent_assist.knowledge.search` (FTS5 on a desk), from the
same parsed query: every typed word as a prefix, stop words left out, ``"phrases"`` in order,
``-words`` excluded; articles with all the words first, else with any of them; titles weigh more
(the vector's A weight); the snippet marks the matched words. What only a desk's FTS5 vocabulary
gives (typos read as the nearest known word, the end of a compound) is not done here.

The server's ``simple`` configuration keeps diacritics ("återbetalning" is indexed as typed), while
the parsed words are folded ("aterbetalning"): each word is looked up both as typed and folded, so a
word typed with its accents finds the articles written with and without them. A team desk searches
its own replica of the articles (:mod:`agent_assist.knowledge.replica`) once it has synced; this is
what it searches until then.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import TYPE_CHECKING, Any

from agent_assist.knowledge.terms import content_words, fold
from agent_assist.store import article_search
from agent_assist.store.postgres.adapter import tsquery_lexeme

if TYPE_CHECKING:
    from agent_assist.knowledge.search import ParsedQuery, SearchHit

MAX_SUGGEST_TERMS = 8
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _as_typed(*texts: str) -> dict[str, set[str]]:
    """Folded word -> the lower-case spellings typed for it (only those that differ from it)."""
    out: dict[str, set[str]] = {}
    for text in texts:
        for w in _WORD.findall(unicodedata.normalize("NFC", text.lower())):
            folded = fold(w)
            if folded != w:
                out.setdefault(folded, set()).add(w)
    return out


def _word(term: str, typed: dict[str, set[str]], *, prefix: bool) -> str:
    variants = [term, *sorted(typed.get(term, ()))]
    lexemes = [tsquery_lexeme(v, prefix=prefix) for v in variants]
    return lexemes[0] if len(lexemes) == 1 else "(" + " | ".join(lexemes) + ")"


def _phrase(words: tuple[str, ...], typed: dict[str, set[str]]) -> str:
    return "(" + " <-> ".join(_word(w, typed, prefix=False) for w in words) + ")"


def _hits(db: Any, tsquery: str, **options: Any) -> list[SearchHit]:
    from agent_assist.knowledge.search import SearchHit

    return [SearchHit(*row) for row in article_search.ts_hits(db, tsquery, **options)]


def search(db: Any, parsed: ParsedQuery, typed_text: str, *, locale=None, section=None, prefer_locale=None,
           limit: int = 20) -> list[SearchHit]:
    """:func:`agent_assist.knowledge.search.search` on a team server (``parsed`` has something to find)."""
    typed = _as_typed(typed_text)
    parts = [_word(t, typed, prefix=True) for t in parsed.terms]
    parts += [_phrase(p, typed) for p in parsed.phrase_words]
    if not parts:
        return []
    excluded = "".join(f" & !{_phrase(words, typed)}" for words in parsed.excluded)
    from agent_assist.knowledge.search import RELAXED_WEIGHT, STRICT_WEIGHT, fuse_lexical

    options = {"locale": locale, "section": section, "limit": limit}
    hits = _hits(db, f"({' & '.join(parts)}){excluded}", **options)
    rankings = [(STRICT_WEIGHT, hits)] if hits else []
    if len(parts) > 1 and len(hits) < limit:  # some of the words: after all of them, never hidden by them
        rankings.append((RELAXED_WEIGHT if hits else STRICT_WEIGHT,
                         _hits(db, f"({' | '.join(parts)}){excluded}", **options)))
    return fuse_lexical(rankings, prefer_locale=prefer_locale, limit=limit)


def suggest_for_text(db: Any, text: str, *, subject: str = "", language=None, limit: int = 8) -> list[SearchHit]:
    """Articles for a ticket: its most repeated content words (subject twice), any of them, ranked."""
    tf: Counter[str] = Counter(content_words(text))
    for w in content_words(subject):
        tf[w] += 2
    terms = [t for t, _n in tf.most_common(MAX_SUGGEST_TERMS) if t]
    if not terms:
        return []
    typed = _as_typed(text, subject)
    return _hits(db, " | ".join(_word(t, typed, prefix=True) for t in terms), prefer_locale=language, limit=limit)
