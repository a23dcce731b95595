"""Embeddings from the configured model server's OpenAI-compatible ``/v1/embeddings`` endpoint.

For a model the person points to in Preferences → Knowledge (Ollama's ``bge-m3`` or
``nomic-embed-text``, a llama.cpp server started with ``--embeddings``, vLLM, OpenAI's
``text-embedding-3-small``…), on the same server, address and key as the drafts. Texts leave the
machine, so they are redacted first, like every prompt (card numbers, IBANs, e-mail addresses,
phone and identity numbers become placeholders): a vector can be read back into words.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from agent_assist.assist.provider import Provider, ProviderError
from agent_assist.assist.redact import Redactor
from agent_assist.knowledge.embeddings import EmbeddingError, normalised, prepare

BATCH = 32  # texts per request: small enough for a local server's batch, few enough requests


class EndpointEmbedder:
    """An :class:`~agent_assist.knowledge.embeddings.Embedder` over the model server."""

    def __init__(self, provider: Callable[[], Provider | None], model: str):
        self._provider = provider
        self.name = model.strip()
        self.model = f"server:{self.name}"  # its vectors never mix with the offline embedder's
        self._redactor = Redactor()
        self._client: Provider | None = None

    def embed(self, texts: list[str]) -> np.ndarray:
        if self._client is None:  # one client, its connections kept warm
            self._client = self._provider()
        provider = self._client
        if provider is None:
            raise EmbeddingError("No AI server is set up for embeddings (Preferences → AI provider).")
        prepared = [self._redactor.redact(prepare(t)).text or " " for t in texts]
        rows: list[list[float]] = []
        try:
            for start in range(0, len(prepared), BATCH):
                rows += provider.embed(prepared[start:start + BATCH], model=self.name)
        except ProviderError as exc:
            raise EmbeddingError(f"The AI server could not make embeddings with {self.name}: {exc}") from exc
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        if len({len(r) for r in rows}) != 1:
            raise EmbeddingError(f"The AI server's {self.name} vectors changed length between requests.")
        return normalised(np.asarray(rows, dtype=np.float32))
