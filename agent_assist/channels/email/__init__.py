"""The e-mail channel: mail in over IMAP, replies out over SMTP, exactly once where SMTP allows.

Qt-free; the UI runs :func:`watch` (or :func:`sync`) and :func:`deliver_pending` in worker threads.

    mailbox = MailboxConfig(imap_host="imap.example.com", imap_user="support@example.com", ...)
    password = get_password(mailbox)                     # keyring, else AGENT_ASSIST_IMAP_PASSWORD
    report = sync(store, mailbox, password, progress=cb, cancel=event)
    watch(store, mailbox, lambda: get_password(mailbox), stop=event, on_event=cb)
    outbox_id = enqueue_reply(store, message_row, mailbox=mailbox, actor=me)  # after drafts.send
    deliver_pending(store, mailbox, password)

Tables: :mod:`agent_assist.channels.email.schema` (``migrate`` is appended to the store's migrations).
The names below are loaded on first use, so that ``store.migrations`` can import ``schema``
without pulling in the channel (which itself imports the store): no import circle.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "attachments": ("AttachmentInfo", "attachment_bytes", "attachments_for_ticket", "inline_image",
                    "list_attachments", "message_notes", "save_attachment"),
    "config": ("MailboxConfig", "SecretStoreUnavailable", "delete_password", "get_password", "set_password"),
    "imap_client": ("AuthError", "ConnectionLost", "FolderMissing", "ImapError"),
    "imap_sync": ("SyncReport", "skipped_messages", "sync"),
    "outbox": ("OutboxItem", "enqueue_reply", "for_message", "for_ticket", "needing_attention", "requeue",
               "resolve_unknown"),
    "smtp_send": ("DeliveryReport", "deliver_pending"),
    "watcher": ("WatchEvent", "watch"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
