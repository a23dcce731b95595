"""Full-text search over the knowledge base (FTS5, bm25, highlighted snippets).

Two entry points share one ranking query:

* :func:`search` takes what a person types: words (prefix-matched, for
  search-as-you-type), ``"exact phrases"`` and ``-excluded`` words. User input
  never reaches MATCH unquoted, so FTS5 syntax in it is just text. When no
  article has all the words, articles with some of them are shown, and a word
  the index does not know is read as the nearest words it does know (typos:
  "refnd", "återbetalnig") or as the end of a compound ("rückerstattung" ->
  "erstattung").
* :func:`suggest_for_text` takes a ticket's text, picks its key terms (rare in
  the knowledge base, frequent in the ticket) and ranks articles by them, in the
  ticket's language first.

This module decides what to look for; the statements that look (FTS5 MATCH, bm25, snippet, the
index's vocabulary; on a team server the tsvector query of :mod:`.team_search`) are the store's, in
:mod:`agent_assist.store.article_search`.
"""

from __future__ import annotations

import html
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agent_assist.knowledge import semantic as knowledge_semantic
from agent_assist.knowledge import team_search
from agent_assist.knowledge.terms import STOP_WORDS, content_words, fold, words
from agent_assist.store import article_search, articles
from agent_assist.store import vectors as article_search_vectors
from agent_assist.store.article_search import BODY_WEIGHT, TITLE_WEIGHT  # noqa: F401 - part of this API
from agent_assist.store.backend import is_postgres

_HL_START, _HL_END = article_search.HL_START, article_search.HL_END


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
    fallback: str | None  # the same words joined by OR (search() builds its own, see relaxed_match)
    terms: tuple[str, ...] = field(default=(), compare=False)  # the words searched for, folded
    phrases: tuple[str, ...] = field(default=(), compare=False)  # quoted phrases, already quoted
    not_part: str = field(default="", compare=False)  # ' NOT "x"' for each excluded word or phrase
    # the same, as words, for a team server's tsquery (knowledge.team_search)
    phrase_words: tuple[tuple[str, ...], ...] = field(default=(), compare=False)  # one entry per phrase
    excluded: tuple[tuple[str, ...], ...] = field(default=(), compare=False)  # each excluded word or phrase


_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)(\S+)')
MAX_QUERY_CHARS = 1_000  # a search reads this much of what was typed or pasted...
MAX_QUERY_WORDS = 32  # ...and at most this many words of it (each one is a term the index must join)


def _capped_tokens(text: str) -> tuple[list[tuple[re.Match[str], list[str]]], bool]:
    """The query's tokens with their words, within the caps; and whether anything was left out."""
    cut = len(text) > MAX_QUERY_CHARS
    if cut:
        text = text[:MAX_QUERY_CHARS]
        text = text[:text.rfind(" ")] if " " in text else text  # never half a word
    out: list[tuple[re.Match[str], list[str]]] = []
    count = 0
    for m in _TOKEN.finditer(text):
        found = words(m.group(2) if m.group(2) is not None else m.group(4))
        if count + len(found) > MAX_QUERY_WORDS:
            if count < MAX_QUERY_WORDS:  # a long phrase or a word with parts: keep what fits
                out.append((m, found[:MAX_QUERY_WORDS - count]))
            return out, True
        count += len(found)
        out.append((m, found))
    return out, cut


def query_note(text: str) -> str | None:
    """A sentence for the person when the search did not use all of a long query (None when it did)."""
    tokens, cut = _capped_tokens(text)
    if not cut:
        return None
    used = sum(len(found) for _, found in tokens)
    return f"The search used the first {used} word{'s' if used != 1 else ''} of the query."


def parse_query(text: str) -> ParsedQuery:
    """Turn typed text into a safe MATCH expression.

    ``late fee -waiver "credit limit"`` -> ``"late"* AND "fee"* AND "credit limit" NOT "waiver"``

    A very long query (pasted text) is cut to :data:`MAX_QUERY_WORDS` words; :func:`query_note` says so.
    """
    include: list[tuple[str, str | None]] = []  # (MATCH part, the word when it is one word)
    exclude: list[str] = []
    phrase_words_of: list[tuple[str, ...]] = []
    excluded: list[tuple[str, ...]] = []
    tokens, cut = _capped_tokens(text)
    for m, found in tokens:
        if m.group(2) is not None:  # a quoted phrase
            phrase_words = found
            if phrase_words:
                quoted = _quote(" ".join(phrase_words))
                if m.group(1):
                    exclude.append(quoted)
                    excluded.append(tuple(phrase_words))
                else:
                    include.append((quoted, None))
                    phrase_words_of.append(tuple(phrase_words))
            continue
        negate = m.group(3)
        for w in found:
            if negate:
                exclude.append(_quote(w))
                excluded.append((w,))
            else:
                include.append((_quote(w) + "*", w))
    include = _without_stop_words(include, typing=bool(text) and not text[-1].isspace() and not cut)
    if not include:
        return ParsedQuery(None, None)
    parts = [part for part, _ in include]
    strict = " AND ".join(parts)
    loose = " OR ".join(parts) if len(parts) > 1 else None
    not_part = ""
    if exclude:
        not_part = " NOT " + " NOT ".join(exclude)
        strict = f"({strict}){not_part}"
        loose = f"({loose}){not_part}" if loose else None
    return ParsedQuery(strict, loose, terms=tuple(w for _, w in include if w is not None),
                       phrases=tuple(part for part, w in include if w is None), not_part=not_part,
                       phrase_words=tuple(phrase_words_of), excluded=tuple(excluded))


_FOLDED_STOP = frozenset(fold(w) for w in STOP_WORDS)


def _without_stop_words(include: list[tuple[str, str | None]], *, typing: bool) -> list[tuple[str, str | None]]:
    """Stop words ("how", "to", "my") say little and, prefix-matched, match a great deal: they are
    left out when other words are there, except the last word while it is still being typed (it may
    be the start of a longer word)."""
    last = len(include) - 1
    kept = [(part, w) for i, (part, w) in enumerate(include)
            if w is None or w not in _FOLDED_STOP or (typing and i == last)]
    return kept if any(w is None or w not in _FOLDED_STOP for _, w in kept) else include


MAX_FUZZY_TERMS = 4  # unknown words looked up per query (each costs a scan of part of the index's words)
MAX_RELAXED_TERMS = 16  # words a relaxed query is made of, at most (people type a few; pasted text has its own path)


def _known(db: Any, term: str) -> bool:
    """Does any indexed word start with ``term``?"""
    return article_search.vocab_has_prefix(db, term)


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours counts once); ``limit + 1`` when over."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], before[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        before, prev = prev, cur
    return prev[-1]


def near_terms(db: Any, term: str, *, max_terms: int = 3) -> list[str]:
    """Indexed words within one typo of ``term`` (two for words of 8+ letters), most common first.

    Only words with the same first letters are read (typos there are rare, and the index lists
    words by their start): those sharing three letters first, then, when none is near, two.
    """
    if len(term) < 4 or term.isdigit():
        return []
    limit = 1 if len(term) <= 7 else 2
    found: list[tuple[int, int, str]] = []
    for head in (term[:3], term[:2]):
        for candidate, docs in article_search.vocab_starting(db, head):
            if abs(len(candidate) - len(term)) <= limit:
                distance = _edit_distance(term, candidate, limit)
                if distance <= limit:
                    found.append((distance, -docs, candidate))
        if found:
            break
    return [c for _, _, c in sorted(found)[:max_terms]]


def compound_head(db: Any, term: str) -> str | None:
    """The longest indexed word (5+ letters) that ends ``term``: "rückerstattung" -> "erstattung"."""
    if len(term) < 9:
        return None
    for start in range(2, len(term) - 4):
        tail = term[start:]
        if article_search.vocab_has(db, tail):
            return tail
    return None


def relaxed_match(db: Any, parsed: ParsedQuery) -> str | None:
    """Any of the words, a word the index does not know as its nearest known spellings (or the end
    of a compound); None when that would be the strict query again."""
    groups = list(parsed.phrases)
    fuzzy_left = MAX_FUZZY_TERMS
    respelled = False
    for term in parsed.terms[:MAX_RELAXED_TERMS]:
        if _known(db, term):
            # a short prefix ("nor" while typing) matches too much to help here: the word itself only
            groups.append(_quote(term) + ("*" if len(term) > 3 else ""))
            continue
        respelled = True  # an unknown word is left out, or replaced by what follows
        variants = []
        if fuzzy_left:
            fuzzy_left -= 1
            variants = [_quote(t) for t in near_terms(db, term)]
            head = compound_head(db, term)
            if head:
                variants.append(_quote(head))
        if variants:
            groups.append(variants[0] if len(variants) == 1 else "(" + " OR ".join(variants) + ")")
    if not groups or (len(groups) == 1 and not respelled):
        return None
    match = " OR ".join(groups)
    return f"({match}){parsed.not_part}" if parsed.not_part else match


def _run(db: Any, match: str, *, locale: str | None, section: str | None,
         prefer_locale: str | None, limit: int) -> list[SearchHit]:
    return [SearchHit(*row) for row in article_search.fts_hits(
        db, match, locale=locale, section=section, prefer_locale=prefer_locale, limit=limit)]


_DEFAULT: Any = object()  # "the semantic layer the app uses" (knowledge.semantic.active())
POOL = 30  # candidates each ranking contributes to a fusion
RRF_K = 60  # reciprocal rank fusion's constant: rank 1 scores 1/61, rank 10 1/70 (Cormack et al., 2009)
STRICT_WEIGHT = 1.0  # articles with every word
RELAXED_WEIGHT = 0.6  # articles with some of the words (typos respelled)
SEMANTIC_WEIGHT = 1.0  # articles by meaning, in any language
LOCALE_BONUS = 0.5  # a preferred-locale article counts as if ranked a little higher (never hides a better one)
SNIPPET_CHARS = 240
MIN_LEXICAL_SHARE = 0.4  # see _hybrid's ``known`` (chosen on tests/knowledge/crosslingual_dev.json)


def _semantic(semantic: Any) -> Any:
    return knowledge_semantic.active() if semantic is _DEFAULT else semantic


def _fuse(rankings: list[tuple[float, list[int]]], *, bonus: dict[int, float] | None = None) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: each ranking gives an item ``weight / (RRF_K + rank)``; best first."""
    fused: dict[int, float] = {}
    for weight, ids in rankings:
        for rank, item in enumerate(ids, 1):
            fused[item] = fused.get(item, 0.0) + weight / (RRF_K + rank)
    for item, extra in (bonus or {}).items():
        if item in fused:
            fused[item] += extra
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


def _hybrid(db: Any, lexical: list[tuple[float, list[SearchHit]]], semantic: Any, text: str, *,
            locale: str | None, section: str | None, prefer_locale: str | None, limit: int,
            known: float = 1.0) -> list[SearchHit]:
    """Fuse the lexical rankings with the semantic one (when there is a layer with vectors here).

    ``known``: the share of the text's words the knowledge base has. With the semantic ranking there,
    word matches count as much as that share (at least :data:`MIN_LEXICAL_SHARE`): a Polish ticket
    whose only words the index knows are a brand name and a number is matched by meaning, not by them."""
    by_id: dict[int, SearchHit] = {}
    rankings: list[tuple[float, list[int]]] = []
    scale = max(MIN_LEXICAL_SHARE, min(1.0, known)) if semantic is not None else 1.0
    for weight, hits in lexical:
        for h in hits:
            by_id.setdefault(h.article_id, h)
        rankings.append((weight * scale, [h.article_id for h in hits]))
    near = semantic.similar(db, article_search_vectors.ARTICLE, text, limit=POOL) if semantic is not None else []
    if near:
        missing = [i for i, _ in near if i not in by_id]
        for row in article_search.heads(db, missing, chars=SNIPPET_CHARS).values():
            by_id[row[0]] = SearchHit(*row)
        allowed = [i for i, _ in near if i in by_id and (not locale or by_id[i].locale == locale)
                   and (not section or by_id[i].section == section)]
        rankings.append((SEMANTIC_WEIGHT, allowed))
    bonus = None
    if prefer_locale:
        bonus = {i: LOCALE_BONUS / (RRF_K + 1) for i, h in by_id.items() if h.locale == prefer_locale}
    out = []
    for item, score in _fuse(rankings, bonus=bonus)[:limit]:
        h = by_id[item]
        out.append(SearchHit(h.article_id, h.title, h.section, h.locale, h.snippet, -score))
    return out


def fuse_lexical(rankings: list[tuple[float, list[SearchHit]]], *, prefer_locale: str | None,
                 limit: int) -> list[SearchHit]:
    """The fusion without the semantic ranking (a team server's own articles)."""
    return _hybrid(None, rankings, None, "", locale=None, section=None, prefer_locale=prefer_locale, limit=limit)


def search(db: Any, query: str, *, locale: str | None = None, section: str | None = None,
           prefer_locale: str | None = None, limit: int = 20, semantic: Any = _DEFAULT) -> list[SearchHit]:
    """Search as a person types. Returns the best hits first (empty for an empty query).

    Three rankings are fused (reciprocal rank fusion): articles with all the words, articles with
    some of them (a word the index does not know counts as its nearest known spellings: "refnd" ->
    "refund"), and, when the semantic layer is on, articles by meaning in any language. So one
    article that happens to have every word cannot hide better ones with most of them.
    ``semantic``: the layer to ask (None: lexical only); the app's by default.
    """
    parsed = parse_query(query)
    if parsed.match is None:
        return []
    if is_postgres(db):  # a team server's own articles; a team desk searches its replica, by meaning too
        return team_search.search(db, parsed, query, locale=locale, section=section, prefer_locale=prefer_locale,
                                  limit=limit)
    # a page of each lexical ranking: each hit costs a snippet, and ranks past the page add little to a fusion
    pool = limit
    hits = _run(db, parsed.match, locale=locale, section=section, prefer_locale=None, limit=pool)
    rankings = [(STRICT_WEIGHT, hits)] if hits else []
    # some of the words, after all of them: when every-word articles do not fill the page, the others
    # must not be hidden by them (a full page of every-word hits needs no second query)
    relaxed = relaxed_match(db, parsed) if len(hits) < limit else None
    if relaxed:
        rankings.append((RELAXED_WEIGHT if hits else STRICT_WEIGHT,
                         _run(db, relaxed, locale=locale, section=section, prefer_locale=None, limit=pool)))
    layer = _semantic(semantic)
    if layer is not None and _still_typing(query, parsed):
        layer = None
    known = _known_share(db, parsed.terms) if layer is not None else 1.0
    return _hybrid(db, rankings, layer, query, locale=locale, section=section, prefer_locale=prefer_locale,
                   limit=limit, known=known)


def _known_share(db: Any, terms: Sequence[str]) -> float:
    """The share of these words the knowledge base's index has (a prefix counts: "refun" is known)."""
    terms = [t for t in terms if len(t) > 2 and not t.isdigit()][:MAX_RELAXED_TERMS]
    if not terms:
        return 1.0
    return sum(_known(db, t) for t in terms) / len(terms)


def _still_typing(query: str, parsed: ParsedQuery) -> bool:
    """A lone, short half-typed word ("ref") means nothing yet to an embedder."""
    return len(parsed.terms) == 1 and not parsed.phrases and len(parsed.terms[0]) < 4 and not query[-1:].isspace()


def key_terms(db: Any, text: str, *, subject: str = "", max_terms: int = 8) -> list[str]:
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
    total = articles.count(db)
    if not total:
        return []
    df = article_search.vocab_docs(db, tf)
    scored = []
    for term, freq in tf.items():
        docs = df.get(term, 0)
        if not docs or docs / total > 0.5:
            continue
        scored.append((freq * math.log(1 + total / docs), term))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [term for _, term in scored[:max_terms]]


def suggest_for_text(db: Any, text: str, *, subject: str = "", language: str | None = None,
                     limit: int = 8, semantic: Any = _DEFAULT) -> list[SearchHit]:
    """Articles for a ticket: its key terms' bm25 ranking fused with the articles nearest in meaning
    (any language: a Swedish ticket is shown the English article when no Swedish one covers it), the
    ticket's language a little ahead."""
    if is_postgres(db):
        return team_search.suggest_for_text(db, text, subject=subject, language=language, limit=limit)
    terms = key_terms(db, text, subject=subject)
    rankings = []
    if terms:
        match = " OR ".join(_quote(fold(t)) for t in terms)
        rankings.append((STRICT_WEIGHT, _run(db, match, locale=None, section=None, prefer_locale=None,
                                             limit=max(limit, POOL))))
    layer = _semantic(semantic)
    if not rankings and layer is None:
        return []
    known = 1.0
    if layer is not None:
        words_in = [w for w in dict.fromkeys(content_words(f"{subject} {text}")) if len(w) > 2 and not w.isdigit()]
        if words_in:
            known = len(article_search.vocab_docs(db, words_in[:200])) / len(words_in[:200])
    return _hybrid(db, rankings, layer, f"{subject}\n{text}".strip(), locale=None, section=None,
                   prefer_locale=language, limit=limit, known=known)


def sections(db: Any) -> list[str]:
    return articles.sections(db)


def locales(db: Any) -> list[str]:
    return articles.locales(db)
