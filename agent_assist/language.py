"""Offline language detection for short support texts (ISO 639-1 codes).

Backed by py3langid (a maintained fork of langid.py: a naive Bayes model over
byte n-grams that ships inside the package, ~4.5 MB, needs numpy; no network).
The model is loaded once, lazily, on the first call (~0.7 s, ~90 MB resident)
and is safe to share between threads: detection only reads it.

By default the choice is among the languages a European support desk meets
(:data:`DEFAULT_LANGUAGES`); pass ``candidates`` to narrow it further, e.g. to
the languages the team answers in. Restricting helps short texts most: "Tack
för hjälpen" is Swedish, not one of the 90 other languages the model knows.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

# the languages a desk in Europe meets, and the big ones customers also write in
DEFAULT_LANGUAGES: tuple[str, ...] = (
    "en", "sv", "de", "es", "fr", "nl", "da", "no", "fi", "it", "pt", "pl", "is", "et", "lv", "lt", "cs", "sk",
    "hu", "ro", "hr", "sl", "bg", "el", "ru", "uk", "tr", "ar", "he", "fa", "hi", "zh", "ja", "ko", "vi", "th",
    "id", "ca",
)

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English", "sv": "Swedish", "de": "German", "es": "Spanish", "fr": "French", "nl": "Dutch",
    "da": "Danish", "no": "Norwegian", "fi": "Finnish", "it": "Italian", "pt": "Portuguese", "pl": "Polish",
    "is": "Icelandic", "et": "Estonian", "lv": "Latvian", "lt": "Lithuanian", "cs": "Czech", "sk": "Slovak",
    "hu": "Hungarian", "ro": "Romanian", "hr": "Croatian", "sl": "Slovenian", "bg": "Bulgarian", "el": "Greek",
    "ru": "Russian", "uk": "Ukrainian", "tr": "Turkish", "ar": "Arabic", "he": "Hebrew", "fa": "Persian",
    "hi": "Hindi", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "vi": "Vietnamese", "th": "Thai",
    "id": "Indonesian", "ca": "Catalan",
}

MAX_CHARS = 2000  # the start of a long text says enough about its language

_ALIASES = {"nb": "no", "nn": "no"}  # Bokmål and Nynorsk count as Norwegian
_NOISE = re.compile(
    r"https?://\S+|www\.\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\[[A-Z]+_\d+\]|\[KB-\d+\]|\d+")
_QUOTED = re.compile(r"(?m)^\s*>.*$")

_identifier: Any = None
_lock = threading.Lock()


def language_name(code: str | None) -> str:
    """An English name for a code (``"sv"`` or ``"sv-SE"`` -> ``"Swedish"``); the code itself when unknown."""
    if not code:
        return "the customer's language"
    base = normalise_code(code)
    return LANGUAGE_NAMES.get(base, code)


def normalise_code(code: str) -> str:
    """``"SV_se"`` -> ``"sv"``, ``"nb"`` -> ``"no"``."""
    base = code.strip().lower().replace("_", "-").split("-")[0]
    return _ALIASES.get(base, base)


def _model() -> Any:
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def supported_languages() -> list[str]:
    """Every code the model can answer (loads the model)."""
    return sorted({_ALIASES.get(c, c) for c in _model().labels})


def _clean(text: str) -> str:
    """Letters that say something about the language: no URLs, e-mail addresses, placeholders or numbers."""
    unquoted = _QUOTED.sub(" ", text)
    if unquoted.strip():  # an e-mail's quoted history may be in another language
        text = unquoted
    return " ".join(_NOISE.sub(" ", text[:MAX_CHARS]).split())


def rank(text: str, *, candidates: Iterable[str] | None = None) -> list[tuple[str, float]]:
    """The candidate languages with their probabilities (summing to 1 over the candidates), best first;
    empty when the text has no letters."""
    cleaned = _clean(text)
    if not any(ch.isalpha() for ch in cleaned):
        return []
    wanted = {normalise_code(c) for c in (candidates if candidates is not None else DEFAULT_LANGUAGES)}
    if not wanted:
        raise ValueError("candidates is empty")
    model = _model()
    known = {_ALIASES.get(c, c) for c in model.labels}
    unknown = wanted - known
    if unknown:
        raise ValueError(f"the language model does not know: {', '.join(sorted(unknown))}")
    scores: dict[str, float] = {}
    for label, p in model.rank(cleaned):
        code = _ALIASES.get(label, label)
        if code in wanted:
            scores[code] = scores.get(code, 0.0) + p
    total = sum(scores.values()) or 1.0
    return sorted(((c, p / total) for c, p in scores.items()), key=lambda cp: cp[1], reverse=True)


def detect(text: str, *, candidates: Iterable[str] | None = None) -> str | None:
    """The language of a text as an ISO 639-1 code, or None when it has no letters to judge by."""
    ranked = rank(text, candidates=candidates)
    return ranked[0][0] if ranked else None
