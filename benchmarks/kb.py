"""Knowledge base at scale: 50k articles.

Prints the time to index them (bulk insert through the app's own path, with the FTS index kept by
its triggers), then p50/p95 latency of ~200 queries of 1-3 words (a quarter still being typed,
i.e. prefixes) through ``agent_assist.knowledge.search.search``, and of the same FTS5 query run raw
on the same file (MATCH, bm25, snippet, LIMIT 20: the floor), and their ratio.

    .venv/bin/python benchmarks/kb.py [--articles 50000] [--queries 200] [--rounds 3] [--import]

:func:`build_kb` (a store file with n articles) is meant for other benchmarks too, e.g. typing
into the search box of a window open on 50k articles.
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder holds a queue.py: keep it off the import path so the standard library's queue wins
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse
import json
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

from agent_assist.knowledge import search as search_module  # noqa: E402
from agent_assist.knowledge.articles import add_articles  # noqa: E402
from agent_assist.knowledge.search import parse_query, search  # noqa: E402
from agent_assist.knowledge.terms import STOP_WORDS, fold, words  # noqa: E402
from agent_assist.store import Store  # noqa: E402

DEMO_ARTICLES = ROOT / "resources" / "demo" / "articles.json"
LOCALES = ("en", "en", "en", "sv", "de", "es", "fr", "nl")  # English weighs more, as in most help centres
SECTIONS = ("Payments", "Refunds & returns", "Disputes", "Account & security", "Help & support", "Privacy",
            "Shipping", "Merchants", "Cards", "Financing", "App", "Business")
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_SYLLABLES = ("ka tor mi lun sa ve ri bo den fal ga ster pa qui nor el tas ber vin co ra mo lis tur han "
              "dra pel sen ju ko ma ne").split()

# The raw FTS5 query: what the app's query costs at the least (no join, no Python around it).
RAW_SQL = ("SELECT rowid, snippet(articles_fts, 1, '\x02', '\x03', '…', 24), "
           f"bm25(articles_fts, {search_module.TITLE_WEIGHT}, {search_module.BODY_WEIGHT}) AS score "
           "FROM articles_fts WHERE articles_fts MATCH ? ORDER BY score LIMIT 20")


# -- data ----------------------------------------------------------------------------------------------
def _vocabularies(rng: random.Random) -> dict[str, list[str]]:
    """Words per locale, most common first: the demo articles' own words, then made-up rarer ones.

    The made-up words (product names, compounds, codes: "Kalunstor", "veribo") give the index a
    long tail of rare terms, as real help centres have.
    """
    vocab: dict[str, Counter[str]] = {loc: Counter() for loc in set(LOCALES)}
    if DEMO_ARTICLES.exists():
        for a in json.loads(DEMO_ARTICLES.read_text(encoding="utf-8")):
            if a.get("locale") in vocab:
                vocab[a["locale"]].update(w.lower() for w in _WORD.findall(f"{a['title']} {a['body']}"))
    for counter in vocab.values():
        if len(counter) < 50:  # no demo data: a small shared stock
            counter.update("payment refund order card account fee return merchant app invoice delivery".split())
    made_up = sorted({"".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(40_000)})
    rng.shuffle(made_up)
    out = {}
    for i, (loc, counter) in enumerate(sorted(vocab.items())):
        own = [w for w, _ in counter.most_common()]
        out[loc] = own + made_up[i * 5000:(i + 1) * 5000] + made_up[30_000:]  # some words in every locale
    return out


def _zipf_cum_weights(n: int) -> list[float]:
    total, cum = 0.0, []
    for rank in range(1, n + 1):
        total += 1.0 / rank
        cum.append(total)
    return cum


@dataclass
class _Locale:
    words: list[str]
    cum: list[float]
    sentences: list[str]


def _locale_pools(rng: random.Random, n_sentences: int = 4000) -> dict[str, _Locale]:
    pools = {}
    for loc, vocabulary in _vocabularies(rng).items():
        cum = _zipf_cum_weights(len(vocabulary))
        sentences = []
        for _ in range(n_sentences):
            ws = rng.choices(vocabulary, cum_weights=cum, k=rng.randint(6, 22))
            sentences.append(" ".join(ws).capitalize() + rng.choice(".....?!:"))
        pools[loc] = _Locale(vocabulary, cum, sentences)
    return pools


def generate_articles(n: int, *, seed: int = 1) -> Iterator[dict]:
    """``n`` articles of 1-5 KB: paragraphs of sentences from a Zipf-distributed vocabulary, each
    article with a few topic words of its own (repeated, and in the title), several locales and sections."""
    rng = random.Random(seed)
    pools = _locale_pools(rng)
    for i in range(n):
        loc = LOCALES[i % len(LOCALES)]
        pool = pools[loc]
        topic = rng.choices(pool.words[200:], k=rng.randint(2, 4))  # rarer words the article is about
        target = rng.randint(1000, 5000)
        paragraphs, size = [], 0
        while size < target:
            sents = rng.sample(pool.sentences, rng.randint(2, 6))
            sents.append(" ".join(rng.sample(topic, len(topic))).capitalize() + ".")
            para = " ".join(sents)
            paragraphs.append(para)
            size += len(para) + 2
        body = "\n\n".join(paragraphs)[:target].rsplit(" ", 1)[0] + "."  # ends on a whole word
        title_words = topic + rng.choices(pool.words[:400], k=rng.randint(1, 4))
        rng.shuffle(title_words)
        yield {"key": f"bench-{i}", "locale": loc, "section": SECTIONS[rng.randrange(len(SECTIONS))],
               "title": " ".join(title_words).capitalize(), "body": body}


@dataclass(frozen=True)
class KbBuild:
    path: Path
    articles: int
    generate_s: float
    index_s: float  # bulk insert + FTS (the triggers), one transaction
    megabytes: float


def build_kb(path: str | Path, n: int = 50_000, *, seed: int = 1) -> KbBuild:
    """A store file at ``path`` with ``n`` generated articles, indexed as the app indexes them."""
    path = Path(path)
    t0 = time.perf_counter()
    articles = list(generate_articles(n, seed=seed))
    generated = time.perf_counter() - t0
    with Store(path) as store:
        t0 = time.perf_counter()
        add_articles(store, articles, actor="benchmark")
        indexed = time.perf_counter() - t0
    return KbBuild(path, n, generated, indexed, path.stat().st_size / 1e6)


# -- queries -------------------------------------------------------------------------------------------
def make_queries(store: Store, n: int = 200, *, seed: int = 2) -> list[str]:
    """Queries of 1-3 words as an agent looking for one article types them: words of that article
    (from its title more often than not), so they occur together; a quarter end in a word still
    being typed (a prefix of 3+ letters)."""
    rng = random.Random(seed)
    stop = {fold(w) for w in STOP_WORDS}
    conn = store.db.conn
    top = conn.execute("SELECT MAX(id) FROM articles").fetchone()[0]
    queries: list[str] = []
    while len(queries) < n:
        title, body = conn.execute("SELECT title, body FROM articles WHERE id = ?",
                                   (rng.randint(1, top),)).fetchone()
        title_words = [w for w in words(title) if len(w) >= 4 and w not in stop]
        body_words = [w for w in words(body) if len(w) >= 4 and w not in stop]
        picked: list[str] = []
        for _ in range(rng.choice((1, 1, 2, 2, 2, 3))):
            pool = title_words if title_words and rng.random() < 0.6 else body_words
            w = rng.choice(pool)
            if w not in picked:
                picked.append(w)
        if rng.random() < 0.25:  # still typing the last word
            last = picked[-1]
            picked[-1] = last[: rng.randint(3, max(3, len(last) - 1))]
        queries.append(" ".join(picked))
    return queries


def _pct(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def fts_queries_per_search(store: Store, queries: list[str]) -> list[int]:
    """How many full-text (MATCH) statements search() runs for each query: 1, or more when it
    also ran a looser query (the raw floor always runs one)."""
    counts: list[int] = []
    seen: list[str] = []
    store.db.conn.set_trace_callback(lambda sql: seen.append(sql) if "MATCH" in sql else None)
    try:
        for q in queries:
            seen.clear()
            search(store.db, q)
            counts.append(len(seen))
    finally:
        store.db.conn.set_trace_callback(None)
    return counts


def measure(store: Store, queries: list[str], rounds: int = 3) -> dict[str, list[float]]:
    """Milliseconds per query, app search vs raw FTS5, interleaved so both see the same cache."""
    conn = store.db.conn
    app, raw = [], []
    for q in queries:  # warm-up: pages into the cache, statements into the statement cache
        search(store.db, q)
        conn.execute(RAW_SQL, (parse_query(q).match,)).fetchall()
    for _ in range(rounds):
        for q in queries:
            match = parse_query(q).match
            t = time.perf_counter()
            search(store.db, q)
            app.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            conn.execute(RAW_SQL, (match,)).fetchall()
            raw.append((time.perf_counter() - t) * 1000)
    return {"app": app, "raw": raw}


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 1e6


def semantic_figures(store: Store, queries: list[str], rounds: int) -> None:
    """The offline embedder on the same articles: its load time and the memory it adds, embedding
    throughput while indexing every article, then hybrid search (words fused with meaning) against
    search by words alone, interleaved in one run."""
    from agent_assist.knowledge.embeddings import LocalEmbedder
    from agent_assist.knowledge.semantic import Semantic

    before = _rss_mb()
    layer = Semantic(LocalEmbedder())
    t0 = time.perf_counter()
    layer.warm()
    loaded = _rss_mb()
    print(f"offline embedder: loaded in {time.perf_counter() - t0:.1f} s, +{loaded - before:.0f} MB resident")
    t0 = time.perf_counter()
    result = layer.index_articles(store)
    took = time.perf_counter() - t0
    print(f"embedded {result.embedded:,} articles in {took:.1f} s ({result.embedded / took:,.0f} articles/s on "
          f"this machine, vectors written to the file as they go)")
    layer.similar(store.db, "article", "warm the matrix", limit=1)
    print(f"memory with the embedder and the {result.total:,}-vector matrix: +{_rss_mb() - before:.0f} MB resident")
    words, hybrid = [], []
    for q in queries:  # warm-up: the statement cache, the query-vector cache stays cold below
        search(store.db, q, semantic=None)
    for r in range(rounds):
        layer._queries.clear()  # every round embeds its queries again: no cached vectors
        for q in queries:
            t = time.perf_counter()
            search(store.db, q, semantic=None)
            words.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            search(store.db, q, semantic=layer)
            hybrid.append((time.perf_counter() - t) * 1000)
    w50, w95, h50, h95 = _pct(words, 50), _pct(words, 95), _pct(hybrid, 50), _pct(hybrid, 95)
    print(f"hybrid search p50 {h50:.2f} ms, p95 {h95:.2f} ms; words only p50 {w50:.2f} ms, p95 {w95:.2f} ms; "
          f"ratio p95 {h95 / w95:.2f}x (target <= 2x: {'met' if h95 <= 2 * w95 else 'NOT met'})")


def import_figures(tmp: Path, n: int) -> None:
    """The same articles as a help-centre JSON export, imported through ``import_sources`` (read,
    sanitize, diff, write, one transaction), then imported again unchanged."""
    from agent_assist.knowledge.sync import import_sources

    export = tmp / "export.json"
    export.write_text(json.dumps({"articles": [
        {"id": a["key"], "title": a["title"], "body": a["body"], "locale": a["locale"], "section": a["section"]}
        for a in generate_articles(n)]}), encoding="utf-8")
    with Store(tmp / "imported.db") as store:
        t0 = time.perf_counter()
        report = import_sources(store, [export])
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = import_sources(store, [export])
        second = time.perf_counter() - t0
    print(f"import_sources of a {export.stat().st_size / 1e6:.0f} MB JSON export: {first:.1f} s "
          f"({len(report.added):,} added, {len(report.skipped)} skipped); again, unchanged: {second:.1f} s "
          f"({len(again.unchanged):,} unchanged)")
    export.unlink()


def typing_stall(store: Store, queries: list[str], *, keystroke_ms: int = 90) -> None:
    """Type queries into the real window's search box, a key every ``keystroke_ms``, and report the
    longest event-loop stall (a 2 ms heartbeat timer measures the gaps)."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from agent_assist.settings import Settings
    from agent_assist.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    tmp = Path(tempfile.mkdtemp(prefix="aa-kb-ui-"))
    window = MainWindow(store, user="alex", settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat),
                        app_settings=Settings(tmp / "settings.json"))
    window.resize(1400, 850)
    window.show()
    app.processEvents()
    gaps: list[float] = []
    clock = QElapsedTimer()

    def beat() -> None:
        if clock.isValid():
            gaps.append(clock.nsecsElapsed() / 1e6 - 2)
        clock.restart()

    heartbeat = QTimer()
    heartbeat.setInterval(2)
    heartbeat.timeout.connect(beat)
    shown = [0]
    window.searchShown.connect(lambda _q: shown.__setitem__(0, shown[0] + 1))
    box = window.knowledge.search_box
    heartbeat.start()
    for query in queries:
        box.clear()
        for ch in query:
            if ch.isascii():
                QTest.keyClicks(box, ch)
            else:
                box.insert(ch)
            deadline = time.perf_counter() + keystroke_ms / 1000
            while time.perf_counter() < deadline:
                app.processEvents()
                time.sleep(0.0005)
        deadline = time.perf_counter() + 0.4  # let the last search land
        while time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.0005)
    heartbeat.stop()
    window.close()
    shutil.rmtree(tmp, ignore_errors=True)
    chars = sum(len(q) for q in queries)
    print(f"typing {len(queries)} queries ({chars} keystrokes, one per {keystroke_ms} ms) into the search box: "
          f"{shown[0]} result lists shown, longest event-loop stall {max(gaps):.1f} ms, p99 {_pct(gaps, 99):.1f} ms "
          f"(target <= 16 ms)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=50_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the database file and print its path")
    ap.add_argument("--import", dest="import_too", action="store_true",
                    help="also time import_sources on a JSON export of the same articles (about 40 s more)")
    ap.add_argument("--no-ui", action="store_true", help="skip the typing benchmark in the real window")
    ap.add_argument("--typed", type=int, default=12, help="queries typed character by character into the box")
    ap.add_argument("--no-semantic", action="store_true",
                    help="skip the semantic figures (embedding every article takes about a minute on 2 cores)")
    args = ap.parse_args()

    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="aa-kb-bench-"))
    build = build_kb(tmp / "kb.db", args.articles)
    print(f"generated {build.articles:,} articles in {build.generate_s:.1f} s")
    print(f"index time (bulk insert + FTS, one transaction): {build.index_s:.1f} s "
          f"({build.articles / build.index_s:,.0f} articles/s, file {build.megabytes:.0f} MB)")

    if args.import_too:
        import_figures(tmp, args.articles)

    store = Store(build.path)
    try:
        queries = make_queries(store, args.queries)
        hits = [len(search(store.db, q)) for q in queries]
        sizes = Counter(len(q.split()) for q in queries)
        by_size = ", ".join(f"{sizes[k]} of {k} word{'s' if k > 1 else ''}" for k in sorted(sizes))
        print(f"{len(queries)} queries ({by_size}; {sum(h == 20 for h in hits)} fill a page of 20 hits, "
              f"{sum(h == 0 for h in hits)} find nothing)")
        timings = measure(store, queries, args.rounds)
        app50, app95 = _pct(timings["app"], 50), _pct(timings["app"], 95)
        raw50, raw95 = _pct(timings["raw"], 50), _pct(timings["raw"], 95)
        print(f"search() p50 {app50:.2f} ms, p95 {app95:.2f} ms  ({len(timings['app'])} runs)")
        print(f"raw FTS5 p50 {raw50:.2f} ms, p95 {raw95:.2f} ms  (MATCH + bm25 + snippet, LIMIT 20)")
        print(f"ratio app/raw: p50 {app50 / raw50:.2f}x, p95 {app95 / raw95:.2f}x "
              f"(target <= 1.3x; p95 target <= 15 ms: {'met' if app95 <= 15 else 'NOT met'})")
        statements = fts_queries_per_search(store, queries)
        single = [i for i, n in enumerate(statements) if n <= 1]
        if len(single) < len(queries):
            picked = [i + r * len(queries) for r in range(args.rounds) for i in single]
            s_app = [timings["app"][i] for i in picked]
            s_raw = [timings["raw"][i] for i in picked]
            a50, a95, r50, r95 = _pct(s_app, 50), _pct(s_app, 95), _pct(s_raw, 50), _pct(s_raw, 95)
            print(f"  {len(queries) - len(single)} queries made search() run a second, looser query; on the other "
                  f"{len(single)}: search() p50 {a50:.2f} / p95 {a95:.2f} ms, raw p50 {r50:.2f} / p95 {r95:.2f} ms, "
                  f"ratio {a50 / r50:.2f}x / {a95 / r95:.2f}x")
        slowest = sorted(zip(timings["app"], queries * args.rounds, strict=True), reverse=True)[:5]
        print("slowest through search(): " + ", ".join(f"{q!r} {ms:.1f} ms" for ms, q in slowest))
        if not args.no_semantic:
            semantic_figures(store, queries, args.rounds)
        if not args.no_ui:
            typing_stall(store, queries[: args.typed])
    finally:
        store.close()
        if args.keep:
            print(f"kept {build.path}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
