"""A person's team-server password: in the OS keyring, never in a settings file, log or the database.

The keyring entry is named after the login and server (``alex@db.example.com:5432/support``), so one
desk can sign in to more than one team. ``$AGENT_ASSIST_TEAM_PASSWORD`` is read when no keyring is
usable (a headless desk); a password written into the URL itself is used as it is, never kept.
"""

from __future__ import annotations

import logging
import os

import keyring
from psycopg import conninfo

from agent_assist import keyring_access
from agent_assist.store.postgres.connect import describe

SERVICE = "agent-assist-team"
PASSWORD_ENV = "AGENT_ASSIST_TEAM_PASSWORD"
log = logging.getLogger(__name__)


def account(url: str) -> str:
    return describe(url)


def url_password(url: str) -> str | None:
    try:
        return conninfo.conninfo_to_dict(url).get("password") or None
    except Exception:  # noqa: BLE001 - a malformed URL is connect()'s to explain
        return None


def stored_password(url: str) -> str | None:
    """The URL's own password, else the keyring's, else the environment's."""
    found = url_password(url)
    if found:
        return found
    backend, reason = keyring_access.usable_backend()
    if backend is not None:
        try:
            found = backend.get_password(SERVICE, account(url))
        except keyring.errors.KeyringError as err:
            log.warning("Could not read the team password from the keyring (%s)", type(err).__name__)
    else:
        log.debug("Keyring not used: %s", reason)
    return found or os.environ.get(PASSWORD_ENV) or None


def remember_password(url: str, password: str) -> str | None:
    """Keep the password in the keyring; returns why not (a sentence), or None when it was kept."""
    backend, reason = keyring_access.usable_backend()
    if backend is None:
        return f"The password was not kept: {reason}"
    try:
        backend.set_password(SERVICE, account(url), password)
    except keyring.errors.KeyringError as err:
        return f"The password was not kept: the keyring refused ({type(err).__name__})."
    return None


def is_bad_password(message: str) -> bool:
    text = message.lower()
    return "password" in text and ("authentication failed" in text or "no password" in text
                                   or "supplied" in text)
