"""The semantic layer: articles and solved tickets as vectors, searched by meaning in any language.

:class:`Semantic` pairs an :class:`~agent_assist.knowledge.embeddings.Embedder` with the vectors it
made (stored by :mod:`agent_assist.store.vectors`, in the desk's file or a team desk's knowledge
replica). It

* **indexes** incrementally (:meth:`Semantic.index_articles`, :meth:`Semantic.index_tickets`): only
  what is new or changed since the last run is embedded, in batches, with progress and a way to stop;
  vectors of removed articles go;
* **ranks** by cosine over an in-memory matrix of the vectors (:meth:`Semantic.nearest`), read once and
  read again only when the vectors changed (checked with one cheap query per search).

The app makes one at start (:func:`use`), warms it off the UI thread, and :mod:`.search` fuses its
ranking with bm25's. A search made before the embedder is loaded, or with no vectors yet, is simply
lexical: the semantic layer only ever adds to what a search finds.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent_assist.knowledge.embeddings import Embedder, EmbeddingError, prepare
from agent_assist.store import vectors

BATCH = 64  # texts embedded at a time: progress moves, and a stop is heard, every batch
MIN_ARTICLE_SCORE = 0.25  # below this cosine an article is not about the query (chosen on crosslingual_dev.json)
MIN_TICKET_SCORE = 0.45  # a solved ticket shown as "how we answered this before" must be close

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class IndexResult:
    embedded: int  # vectors made in this run (new and changed items)
    removed: int  # vectors of items that are gone
    total: int  # items with a current vector now
    cancelled: bool = False

    def describe(self, noun: str = "article") -> str:
        if self.cancelled:
            return f"Indexing stopped: {self.total:,} {noun}s indexed so far."
        if not self.embedded and not self.removed:
            return f"All {self.total:,} {noun}s are indexed."
        return f"Indexed {self.embedded:,} {noun}{'s' if self.embedded != 1 else ''}; {self.total:,} in the index."


@dataclass(frozen=True)
class _Matrix:
    version: tuple[int, int]
    ids: np.ndarray  # int64
    vectors: np.ndarray  # (n, dim) float32


def ticket_question(subject: str, first_message: str) -> str:
    return f"{subject}\n{first_message}".strip()


def _digest(text: str) -> str:
    return hashlib.sha1(prepare(text).encode("utf-8", "surrogatepass")).hexdigest()


class Semantic:
    """One embedder and the vectors it made, across the databases it is asked about."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self._matrices: dict[tuple[int, str, str], _Matrix] = {}
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._ready = threading.Event()

    @property
    def model(self) -> str:
        return self.embedder.model

    # -- the embedder ---------------------------------------------------------------------------------------
    def warm(self) -> None:
        """Load the embedder (seconds for the offline one): run it off the UI thread at start."""
        self.embedder.embed(["warm up"])
        self._ready.set()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def embed_query(self, text: str) -> np.ndarray | None:
        """The vector of a query or a ticket's text; None while the embedder is not loaded yet, or
        when it fails (a search then stays lexical: the person is never kept waiting on it)."""
        if not self.ready:
            return None
        key = prepare(text)
        if not key:
            return None
        with self._lock:
            hit = self._queries.get(key)
            if hit is not None:
                self._queries.move_to_end(key)
                return hit
        try:
            vec = self.embedder.embed([key])[0]
        except EmbeddingError:
            return None
        with self._lock:
            self._queries[key] = vec
            while len(self._queries) > 256:
                self._queries.popitem(last=False)
        return vec

    # -- ranking ---------------------------------------------------------------------------------------------
    def _matrix(self, db: Any, kind: str) -> _Matrix | None:
        if not vectors.has_table(db):
            return None
        key = (id(db.conn), vectors.location(db), kind)
        version = vectors.version(db, kind, self.model)
        cached = self._matrices.get(key)
        if cached is not None and cached.version == version:
            return cached
        if version[0] == 0:
            self._matrices.pop(key, None)
            return None
        ids, blobs = [], []
        for item_id, blob in vectors.rows(db, kind, self.model):
            ids.append(item_id)
            blobs.append(blob)
        matrix = _Matrix(version, np.asarray(ids, dtype=np.int64),
                         np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(ids), -1))
        self._matrices[key] = matrix
        return matrix

    def nearest(self, db: Any, kind: str, query: np.ndarray | None, *, limit: int = 20,
                min_score: float | None = None, exclude: frozenset[int] = frozenset()) -> list[tuple[int, float]]:
        """``(item_id, cosine)`` of the items closest to ``query``, best first."""
        if query is None:
            return []
        matrix = self._matrix(db, kind)
        if matrix is None or matrix.vectors.shape[1] != query.shape[0]:
            return []
        floor = (MIN_ARTICLE_SCORE if kind == vectors.ARTICLE else MIN_TICKET_SCORE) if min_score is None else min_score
        scores = matrix.vectors @ query
        take = min(len(scores), limit + len(exclude))
        top = np.argpartition(-scores, take - 1)[:take] if take < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        out = []
        for i in top:
            item_id, score = int(matrix.ids[i]), float(scores[i])
            if score < floor:
                break
            if item_id not in exclude:
                out.append((item_id, score))
            if len(out) == limit:
                break
        return out

    def similar(self, db: Any, kind: str, text: str, **options: Any) -> list[tuple[int, float]]:
        return self.nearest(db, kind, self.embed_query(text), **options)

    # -- indexing --------------------------------------------------------------------------------------------
    def index_articles(self, store: Any, *, progress: Progress | None = None,
                       cancelled: Callable[[], bool] | None = None) -> IndexResult:
        """Embed the articles that are new or changed since the last run; forget removed ones."""
        db = store.db
        stale = vectors.stale_articles(db, self.model)

        def texts(batch: list[tuple[int, str]]) -> list[tuple[int, str, str]]:
            found = vectors.article_texts(db, [i for i, _ in batch])
            return [(i, h, f"{found[i][0]}\n{found[i][1]}") for i, h in batch if i in found]

        return self._index(store, vectors.ARTICLE, stale, texts, progress, cancelled)

    def index_tickets(self, store: Any, *, progress: Progress | None = None,
                      cancelled: Callable[[], bool] | None = None) -> IndexResult:
        """Embed solved tickets' questions (subject and first message) that have no current vector."""
        db = store.db
        wanted = []
        for ticket_id, subject, first, digest in vectors.solved_questions(db, self.model):
            question = ticket_question(subject, first)
            current = _digest(question)
            if digest != current:
                wanted.append((ticket_id, current, question))
        by_id = {t: (d, q) for t, d, q in wanted}
        stale = [(t, d) for t, d, _ in wanted]
        return self._index(store, vectors.TICKET, stale, lambda batch: [(t, d, by_id[t][1]) for t, d in batch],
                           progress, cancelled)

    def _index(self, store: Any, kind: str, stale: list[tuple[int, str]],
               texts: Callable[[list[tuple[int, str]]], list[tuple[int, str, str]]],
               progress: Progress | None, cancelled: Callable[[], bool] | None) -> IndexResult:
        db = store.db
        removed = 0
        gone = vectors.orphans(db, kind, self.model)
        if gone:
            with store.transaction():
                removed = vectors.remove(db, kind, self.model, gone)
        done = 0
        total = len(stale)
        if progress is not None:
            progress(0, total)
        for start in range(0, total, BATCH):
            if cancelled is not None and cancelled():
                return IndexResult(done, removed, vectors.version(db, kind, self.model)[0], cancelled=True)
            batch = texts(stale[start:start + BATCH])
            if batch:
                matrix = self.embedder.embed([text for _, _, text in batch])
                rows = [(item_id, digest, matrix[i].astype("<f4").tobytes())
                        for i, (item_id, digest, _) in enumerate(batch)]
                with store.transaction():
                    vectors.put(db, kind, self.model, rows)
                done += len(rows)
            if progress is not None:
                progress(min(start + BATCH, total), total)
        return IndexResult(done, removed, vectors.version(db, kind, self.model)[0])


# -- the one the app uses ---------------------------------------------------------------------------------------
_active: Semantic | None = None


def use(semantic: Semantic | None) -> None:
    """Make ``semantic`` the layer searches and suggestions consult (None: lexical only)."""
    global _active
    _active = semantic


def active() -> Semantic | None:
    return _active
