"""The knowledge base's schema change (``articles.body_html``); the store owns its SQL
(``store.migrations.v4_article_html``, schema 4). The sync works without the column too."""

from __future__ import annotations

from agent_assist.store.migrations import v4_article_html as migrate

__all__ = ["migrate"]
