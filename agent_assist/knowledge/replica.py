"""Which copy of the knowledge base a desk searches: its own replica once it has one, else the store.

A team desk keeps a local SQLite FTS5 replica of the server's articles
(:mod:`agent_assist.store.knowledge_replica`): searching it is instant, works offline, and has every
desk feature of :mod:`agent_assist.knowledge.search` (typos, compound words) that the server's
``tsvector`` search lacks. Until its first sync has run to the end, the server answers instead; a
desk's own file is its own knowledge base and has no replica.
"""

from __future__ import annotations

from typing import Any

from agent_assist.store.knowledge_replica import KnowledgeReplica, SyncCancelled, SyncResult, replica_path, sync

__all__ = ["KnowledgeReplica", "SyncCancelled", "SyncResult", "knowledge_db", "open_replica", "replica_path",
           "sync"]


def knowledge_db(store: Any, replica: KnowledgeReplica | None) -> Any:
    """The handle knowledge searches and article reads go to (``search``, ``get_article``…)."""
    if replica is not None and replica.synced_at() is not None:
        return replica.db
    return store.db


def open_replica(store: Any) -> KnowledgeReplica:
    """The replica of a team store's articles in this desk's data folder (made when missing)."""
    return KnowledgeReplica(replica_path(store.path), source=store.path)
