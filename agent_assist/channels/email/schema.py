"""The e-mail channel's tables; the store owns their SQL (``store.migrations.v5_email_channel``,
schema 5), which documents each table."""

from __future__ import annotations

from agent_assist.store.migrations import v5_email_channel as migrate

__all__ = ["migrate"]
