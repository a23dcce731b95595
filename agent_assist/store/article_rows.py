"""The ``articles`` table's row shape, shared by bulk loads (here) and the knowledge layer above."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any


def content_hash(title: str, body: str) -> str:
    return hashlib.sha256(f"{title}\x00{body}".encode()).hexdigest()


def article_row(a: Mapping[str, Any], now: str) -> dict[str, Any]:
    """The ``articles`` row for a plain article mapping (key, title, body, section, locale, ...)."""
    title, body = a["title"].strip(), a["body"].strip()
    return {
        "key": a.get("key"),
        "title": title,
        "body": body,
        "section": a.get("section"),
        "locale": a.get("locale"),
        "source": a.get("source"),
        "url": a.get("url"),
        "content_hash": content_hash(title, body),
        "updated_at": a.get("updated_at") or now,
    }
