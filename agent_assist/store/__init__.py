"""The one source of truth: one SQLite file, its schema, and every state change."""

from agent_assist.store.database import Store
from agent_assist.store.errors import StoreClosedError, StoreError

__all__ = ["Store", "StoreClosedError", "StoreError"]
