"""The window's part in the semantic layer: load the embedder and keep the vectors current, off the UI thread.

At start (when Preferences → Knowledge has meaning search on, the default) it loads the embedder on
its own worker, then indexes the knowledge base the desk searches (its own file, or a team desk's
replica once synced) and the desk's solved tickets. It indexes again after an import, after a
replica sync, and when the articles change. The knowledge panel's status line says "Indexing
knowledge for meaning… 1,200 of 50,000" while it runs; closing the window stops it between two
batches (what was indexed stays, the next start goes on from there). Until the index is ready,
searches are lexical: nobody waits for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from agent_assist.knowledge import semantic
from agent_assist.knowledge.embeddings import EmbeddingError, LocalEmbedder
from agent_assist.knowledge.semantic import IndexResult, Semantic
from agent_assist.store import StoreError
from agent_assist.store.backend import is_postgres
from agent_assist.ui.tasks import CancelToken, TaskManager

log = logging.getLogger(__name__)

AGAIN_EVERY_MS = 2 * 60 * 1000  # tickets solved meanwhile join "how we answered this before"


def make_layer(mode: str, *, provider_factory: Callable[[], object] | None = None, model: str = "") -> Semantic | None:
    """The layer Preferences → Knowledge asks for: ``offline`` (the embedder that ships with the app),
    ``server`` (the AI server's /v1/embeddings with ``model``), ``off``. None when it cannot be had."""
    if mode == "off":
        return None
    if mode == "server" and provider_factory is not None and model:
        from agent_assist.assist.embedding_endpoint import EndpointEmbedder

        return Semantic(EndpointEmbedder(provider_factory, model))
    global _offline
    if not LocalEmbedder.available():
        log.warning("the offline embedder is not installed: knowledge search is by words only")
        return None
    if _offline is None:  # loaded once per process: a second window shares it (and its query cache)
        _offline = Semantic(LocalEmbedder())
    return _offline


_offline: Semantic | None = None


class SemanticIndex(QObject):
    """Loads the layer and keeps its vectors current for the knowledge the window searches."""

    statusChanged = Signal(str)
    """Words for the knowledge panel's status line ("" when there is nothing to say)."""
    indexed = Signal(object)
    """An indexing run ended (an :class:`IndexResult` of the articles)."""
    progressed = Signal(int, int)
    """From the worker: articles embedded so far, articles to embed; delivered queued."""

    def __init__(self, store, kb_sync, layer: Semantic | None, *, message: Callable[[str], None],
                 parent: QObject | None = None):
        super().__init__(parent)
        self.store = store
        self.kb_sync = kb_sync
        self.layer = layer
        self.message = message
        self._jobs = TaskManager(self, max_threads=1)  # one embedder, one run at a time, in order
        self._token = CancelToken()
        self._running = False
        self._again = False
        self._closed = False
        self.last_result: IndexResult | None = None
        self.progressed.connect(self._show_progress)
        self._timer = QTimer(self)
        self._timer.setInterval(AGAIN_EVERY_MS)
        self._timer.timeout.connect(self.reindex)

    def start(self) -> None:
        """Load the embedder and index; the layer serves searches from when it is loaded."""
        if self.layer is None:
            return
        semantic.use(self.layer)
        self._jobs.run(self.layer.warm, lambda _r: self.reindex(), self._failed, owner=self, quiet=True)
        self._timer.start()

    def _target(self):
        """What to index: a team desk's replica (once synced), else the desk's own file; None on a
        server without a replica (its search is by words)."""
        replica = getattr(self.kb_sync, "replica", None)
        if replica is not None and replica.synced_at() is not None:
            return replica
        return None if is_postgres(self.store) else self.store

    def reindex(self) -> None:
        """Index what changed (called after an import, a sync, a change to the articles)."""
        if self.layer is None or self._closed or not self.layer.ready:
            return
        if self._running:
            self._again = True
            return
        target = self._target()
        if target is None:
            return
        self._running = True
        token, layer = self._token, self.layer
        tickets = target is self.store  # a desk's own solved tickets; a team's stay on the server

        def work() -> IndexResult:
            result = layer.index_articles(target, progress=self._report, cancelled=lambda: token.cancelled)
            if tickets and not token.cancelled:
                layer.index_tickets(target, cancelled=lambda: token.cancelled)
            return result

        self._jobs.run(work, self._done, self._failed, owner=self, quiet=True)

    def _report(self, done: int, total: int) -> None:
        if total and not self._closed and not self._token.cancelled and shiboken6.isValid(self):
            self.progressed.emit(done, total)

    def _show_progress(self, done: int, total: int) -> None:
        if not self._closed and done < total:
            self.statusChanged.emit(f"Indexing knowledge for meaning… {done:,} of {total:,}")

    def _done(self, result: IndexResult) -> None:
        self._running = False
        self.last_result = result
        self.statusChanged.emit("")
        self.indexed.emit(result)
        if self._again:
            self._again = False
            self.reindex()

    def _failed(self, exc: BaseException) -> None:
        self._running = False
        self.statusChanged.emit("")
        if not isinstance(exc, (EmbeddingError, StoreError)):  # not foreseen: the log gets the traceback
            log.error("semantic indexing failed", exc_info=exc)
        self.message(f"Meaning search is off for now: {exc}")
        if self._again and self.layer is not None and self.layer.ready:
            self._again = False
            self.reindex()

    def close(self) -> None:
        """The window closes: stop between two batches; searches go back to words only."""
        self._closed = True
        self._timer.stop()
        self._token.cancel()
        self._jobs.shutdown()
        if semantic.active() is self.layer:
            semantic.use(None)
