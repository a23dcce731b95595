"""A person's team-server password: in the OS keyring, never in a settings file, log or the database.

The keyring entry is named after the login and server (``alex@db.example.com:5432/support``), so one
desk can sign in to more than one team. ``$AGENT_ASSIST_TEAM_PASSWORD`` is read when no keyring is
usable (a headless desk); a password written into the URL itself is used as it is, never kept.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import keyring
from psycopg import conninfo

from agent_assist import keyring_access
from agent_assist.store.postgres.connect import describe, is_postgres_url

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


def forget_password(url: str) -> str | None:
    """Remove the kept password; returns why it could not be removed (a sentence), or None."""
    backend, reason = keyring_access.usable_backend()
    if backend is None:
        return f"No password was removed: {reason}"
    try:
        backend.delete_password(SERVICE, account(url))
    except keyring.errors.PasswordDeleteError:
        return None  # nothing was kept
    except keyring.errors.KeyringError as err:
        return f"The keyring refused to remove the password ({type(err).__name__})."
    return None


@dataclass(frozen=True)
class Address:
    """Where a team database is and who signs in: the parts of ``postgresql://login@host:port/database``."""

    host: str
    port: int
    database: str
    login: str

    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"postgresql://{quote(self.login, safe='')}@{host}:{self.port}/{quote(self.database, safe='')}"

    def problems(self) -> list[str]:
        missing = [label for label, value in (("the server", self.host), ("the database", self.database),
                                              ("your login", self.login)) if not value.strip()]
        found = [f"Fill in {', '.join(missing)}."] if missing else []
        if not 0 < self.port < 65536:
            found.append(f"{self.port} is not a port number (PostgreSQL listens on 5432 unless told otherwise).")
        return found


def parse_address(url: str) -> Address | None:
    """The parts of a ``postgresql://`` URL (its password, if any, is left out); None when it is not one."""
    if not is_postgres_url(url):
        return None
    parts = urlsplit(url.strip())
    try:
        port = parts.port or 5432
    except ValueError:
        return None
    return Address(parts.hostname or "localhost", port, unquote(parts.path.lstrip("/")), unquote(parts.username or ""))


def without_password(url: str) -> str:
    """``url`` with any password taken out (what may be remembered in a state file)."""
    parts = urlsplit(url.strip())
    if parts.password is None:
        return url.strip()
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if parts.username is not None:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit(parts._replace(netloc=netloc))


def probe(url: str, password: str | None) -> str:
    """Sign in once and say who and where, in one sentence; raises StoreError (in words) when it fails."""
    from agent_assist.store.postgres.store import PostgresStore

    store = PostgresStore(url, password=password, listen=False)
    try:
        version = store.db.conn.raw.info.server_version
        return (f"Signed in as {store.user} ({store.role}) on {store.path}: PostgreSQL {version // 10000}, "
                f"team schema {store.schema_version()} of {store.latest_version}.")
    finally:
        store.close()
