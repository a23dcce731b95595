"""Search quality: do the queries agents really type find the right article in the top 3?

``queries.json`` holds queries as agents type them into the search box (short, with typos,
synonyms and paraphrases, in en, sv, de, es, fr and nl), each labelled with the keys of the
demo articles (``resources/demo/articles.json``) that answer it. A query passes when one of its
articles is among the first three results of :func:`search` with ``limit=3``, as the knowledge
panel shows them. The bar is 90 % of the queries; on a team server, of the queries without typos.

Run it directly to see the figure and the misses:
``QT_QPA_PLATFORM=offscreen .venv/bin/python tests/knowledge/test_quality.py``
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent_assist.knowledge.articles import add_articles
from agent_assist.knowledge.search import search
from agent_assist.store import Store

ROOT = Path(__file__).resolve().parents[2]
DEMO_ARTICLES = ROOT / "resources" / "demo" / "articles.json"
QUERIES = Path(__file__).with_name("queries.json")
TOP = 3
BAR = 0.90
LANGUAGES = {"en", "sv", "de", "es", "fr", "nl"}

# The search in agent_assist/knowledge/search.py as first written finds 87 % (typos such as "refnd" or
# "återbetalnig" and half-matching queries find nothing or the wrong article). The typo-tolerant
# search (fuzzy matching of unknown words against the index's vocabulary, and articles with some of
# the words after those with all of them) finds 97 %. Until it is in, this test is an expected
# failure; strict, so it turns red the day it passes without that change and this marker must go.


@dataclass(frozen=True)
class Outcome:
    query: str
    lang: str
    kind: str
    wanted: tuple[str, ...]
    got: tuple[str, ...]  # "key (locale)" of the top hits

    @property
    def hit(self) -> bool:
        return any(g.split(" ")[0] in self.wanted for g in self.got)


def load_queries() -> list[dict]:
    return json.loads(QUERIES.read_text(encoding="utf-8"))["queries"]


def evaluate(store: Store) -> list[Outcome]:
    keys = {r[0]: f"{r[1]} ({r[2]})" for r in store.db.conn.execute("SELECT id, key, locale FROM articles")}
    outcomes = []
    for q in load_queries():
        hits = search(store.db, q["query"], limit=TOP)
        outcomes.append(Outcome(q["query"], q["lang"], q["kind"], tuple(q["keys"]),
                                tuple(keys[h.article_id] for h in hits)))
    return outcomes


def report(outcomes: list[Outcome]) -> str:
    passed = sum(o.hit for o in outcomes)
    by_lang = Counter(o.lang for o in outcomes)
    hits_by_lang = Counter(o.lang for o in outcomes if o.hit)
    lines = [f"search quality: {passed}/{len(outcomes)} = {passed / len(outcomes):.1%} with a right article "
             f"in the top {TOP}",
             "  " + ", ".join(f"{lang} {hits_by_lang[lang]}/{n}" for lang, n in sorted(by_lang.items()))]
    misses = [o for o in outcomes if not o.hit]
    if misses:
        lines.append(f"misses ({len(misses)}):")
        lines.extend(f"  [{o.lang}/{o.kind}] {o.query!r}: wanted {', '.join(o.wanted)}; got "
                     f"{', '.join(o.got) or 'nothing'}" for o in misses)
    return "\n".join(lines)


def demo_store(path: Path) -> Store:
    store = Store(path)
    add_articles(store, json.loads(DEMO_ARTICLES.read_text(encoding="utf-8")))
    return store


def test_the_query_set_is_well_formed() -> None:
    queries = load_queries()
    assert len(queries) >= 60
    assert {q["lang"] for q in queries} == LANGUAGES
    assert min(Counter(q["lang"] for q in queries).values()) >= 10
    assert {"typo", "synonym", "paraphrase", "plain"} <= {q["kind"] for q in queries}
    assert len({q["query"] for q in queries}) == len(queries)
    demo_keys = {a["key"] for a in json.loads(DEMO_ARTICLES.read_text(encoding="utf-8"))}
    for q in queries:
        assert q["query"].strip() and q["keys"], q
        assert set(q["keys"]) <= demo_keys, f"{q['query']!r} names articles the demo data does not have"


@pytest.mark.both_backends
def test_agents_find_the_right_article_in_the_top_3(store, backend: str) -> None:
    add_articles(store, json.loads(DEMO_ARTICLES.read_text(encoding="utf-8")))
    outcomes = evaluate(store)
    text = report(outcomes)
    print(text)
    if backend == "postgres":
        # a team server has no FTS5 vocabulary to read typos against (knowledge/team_search.py): the same
        # bar holds for the queries spelled right (131 of 143 in the top 3, against 136 on a desk)
        outcomes = [o for o in outcomes if o.kind != "typo"]
    share = sum(o.hit for o in outcomes) / len(outcomes)
    assert share >= BAR, text


if __name__ == "__main__":  # pragma: no cover - a figure for people
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        s = demo_store(Path(tmp) / "demo.db")
        print(report(evaluate(s)))
        s.close()
    sys.exit(0)
