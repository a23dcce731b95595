"""The audit chain's key and its last known head, kept in the OS keyring, never in the database.

Each database has its own random 256-bit key under the service ``agent-assist-audit``
and the account ``<database id>`` (a UUID the database carries in ``store_meta``, so
moving or renaming the file keeps its key). Beside the key the keyring keeps the id
of the first keyed row, and, under ``<database id>:head``, the last head that was
seen (id and MAC of the newest row): deleting rows from the end, which a chain alone
cannot show, is caught by comparing with it.

Without a usable keyring (see :mod:`agent_assist.keyring_access`: no silent plain
files) nothing is stored and the chain stays unkeyed; ``audit verify`` says so.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
from dataclasses import dataclass

from agent_assist.keyring_access import usable_backend

log = logging.getLogger(__name__)

SERVICE = "agent-assist-audit"
_cache: dict[str, ChainKey | None] = {}


@dataclass(frozen=True)
class ChainKey:
    key: bytes
    keyed_from: int  # the id of the first row signed with this key


class KeyringUnreadable(Exception):
    """The keyring is there but did not answer (locked, or broken): try again later."""


def _read(account: str) -> str | None:
    """The stored value, or None when there is none (or no keyring); raises KeyringUnreadable."""
    backend, _reason = usable_backend()
    if backend is None:
        return None
    try:
        return backend.get_password(SERVICE, account)
    except Exception as err:  # noqa: BLE001 - a locked or broken keyring must not crash the app
        log.warning("Could not read the audit key from the keyring (%s)", type(err).__name__)
        raise KeyringUnreadable(type(err).__name__) from err


def _write(account: str, value: str) -> bool:
    backend, _reason = usable_backend()
    if backend is None:
        return False
    try:
        backend.set_password(SERVICE, account, value)
        return backend.get_password(SERVICE, account) == value
    except Exception as err:  # noqa: BLE001 - a locked or broken keyring must not crash the app
        log.warning("Could not write to the keyring (%s)", type(err).__name__)
        return False


def _delete(account: str) -> None:
    backend, _reason = usable_backend()
    if backend is None:
        return
    try:
        backend.delete_password(SERVICE, account)
    except Exception as err:  # noqa: BLE001 - best effort: nothing was signed with it
        log.warning("Could not remove an unused audit key from the keyring (%s)", type(err).__name__)


def available() -> bool:
    """Can a key be kept here?"""
    return usable_backend()[0] is not None


def load(database_id: str) -> ChainKey | None:
    """This database's key, or None when the keyring has none (or there is no keyring).

    Raises :class:`KeyringUnreadable` when the keyring did not answer (nothing is cached then).
    """
    if database_id in _cache:
        return _cache[database_id]
    raw = _read(database_id)
    found: ChainKey | None = None
    if raw:
        try:
            data = json.loads(raw)
            found = ChainKey(base64.b64decode(data["key"], validate=True), int(data["from"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            log.warning("The audit key in the keyring for database %s is unreadable", database_id)
    _cache[database_id] = found
    return found


def create(database_id: str, keyed_from: int) -> ChainKey | None:
    """A fresh key for this database, kept in the keyring; None when no keyring can keep it."""
    chain_key = ChainKey(secrets.token_bytes(32), keyed_from)
    value = json.dumps({"key": base64.b64encode(chain_key.key).decode("ascii"), "from": keyed_from})
    if not _write(database_id, value):
        return None
    _cache[database_id] = chain_key
    return chain_key


def discard(database_id: str) -> None:
    """Remove a key that signed nothing (the transaction that was to start the chain failed)."""
    _cache.pop(database_id, None)
    _delete(database_id)


def forget(database_id: str | None = None) -> None:
    """Drop what this process remembers (the keyring itself is not touched)."""
    if database_id is None:
        _cache.clear()
    else:
        _cache.pop(database_id, None)


def save_head(database_id: str, head: dict) -> bool:
    return _write(f"{database_id}:head", json.dumps(head, sort_keys=True))


def load_head(database_id: str) -> dict | None:
    try:
        raw = _read(f"{database_id}:head")
    except KeyringUnreadable:
        return None
    if not raw:
        return None
    try:
        head = json.loads(raw)
        return head if isinstance(head, dict) else None
    except ValueError:
        return None
