"""API keys live in the operating system's keyring, never in settings files.

The account name is ``"<preset>:<base URL>"`` under the service ``agent-assist``,
so each provider configuration has its own key. On a headless box without a
keyring, ``AGENT_ASSIST_API_KEY`` is read (never written) as a fallback.

When no proper keyring is available, storing a key fails with
:class:`SecretStoreUnavailable` explaining the way on. There is no silent plain-text
fallback: a file-based store (such as keyrings.alt's ``PlaintextKeyring``) is used
only when the person chose it explicitly, with ``PYTHON_KEYRING_BACKEND`` or a
``keyringrc.cfg`` — never just because it happened to be installed.
"""

from __future__ import annotations

import logging
import os
from typing import Protocol

import keyring.errors

# which keyring may hold a secret is one rule for every secret (the audit key too): it lives below the layers
from agent_assist.keyring_access import backend_label as _backend_label
from agent_assist.keyring_access import usable_backend as _usable_backend
from agent_assist.keyring_access import writes_to as _writes_to

log = logging.getLogger(__name__)

SERVICE = "agent-assist"
ENV_KEY = "AGENT_ASSIST_API_KEY"

_HOW_TO = (
    "Install or unlock a system keyring (Secret Service such as GNOME Keyring or KeePassXC, KWallet, "
    "macOS Keychain or Windows Credential Manager) and try again, or set the environment variable "
    f"{ENV_KEY} before starting Agent Assist."
)

class _ConfigLike(Protocol):
    preset: str
    base_url: str


class SecretStoreUnavailable(RuntimeError):
    """No keyring can keep the key safely; the message says what to do."""


def account_name(config: _ConfigLike) -> str:
    """The keyring user name for a provider configuration, e.g. ``openai:https://api.openai.com/v1``."""
    return f"{config.preset}:{(config.base_url or '').strip().rstrip('/')}"


def keyring_status() -> tuple[bool, str]:
    """For the settings dialog: can keys be stored, and where (or why not, and what to do)."""
    backend, reason = _usable_backend()
    if backend is None:
        env_note = f" Meanwhile the key from {ENV_KEY} is used." if os.environ.get(ENV_KEY, "").strip() else ""
        return False, f"{reason} {_HOW_TO}{env_note}"
    store = _writes_to(backend)
    message = f"API keys are kept in {_backend_label(store)}."
    if float(store.priority) < 1:
        message += " Note: this store was chosen explicitly and may keep keys in a plain file."
    return True, message


def get_api_key(config: _ConfigLike) -> str | None:
    """The key for this provider: from the keyring, else from ``AGENT_ASSIST_API_KEY``, else None."""
    backend, reason = _usable_backend()
    if backend is not None:
        try:
            key = backend.get_password(SERVICE, account_name(config))
        except keyring.errors.KeyringError as err:
            log.warning("Could not read the API key from the keyring (%s)", type(err).__name__)
            key = None
        if key:
            return key
    else:
        log.debug("Keyring not used: %s", reason)
    env = os.environ.get(ENV_KEY, "").strip()
    return env or None


def set_api_key(config: _ConfigLike, key: str) -> None:
    """Store the key in the keyring; raises SecretStoreUnavailable rather than writing it anywhere else."""
    key = (key or "").strip()
    if not key:
        raise ValueError("The API key is empty.")
    backend, reason = _usable_backend()
    if backend is None:
        raise SecretStoreUnavailable(f"The API key could not be saved. {reason} {_HOW_TO}")
    account = account_name(config)
    try:
        backend.set_password(SERVICE, account, key)
        kept = backend.get_password(SERVICE, account) == key
    except keyring.errors.KeyringLocked:
        raise SecretStoreUnavailable(f"The API key could not be saved: the keyring is locked. {_HOW_TO}") from None
    except keyring.errors.KeyringError as err:
        raise SecretStoreUnavailable(
            f"The API key could not be saved: the keyring refused it ({type(err).__name__}). {_HOW_TO}") from None
    if not kept:
        raise SecretStoreUnavailable(f"The API key could not be saved: the keyring did not keep it. {_HOW_TO}")
    log.info("API key for %s stored in %s", account, _backend_label(_writes_to(backend)))


def delete_api_key(config: _ConfigLike) -> None:
    """Forget the stored key (no error when there was none). The environment variable is not touched."""
    backend, reason = _usable_backend()
    if backend is None:
        raise SecretStoreUnavailable(f"The API key could not be removed. {reason} {_HOW_TO}")
    try:
        backend.delete_password(SERVICE, account_name(config))
    except keyring.errors.PasswordDeleteError:
        pass
    except keyring.errors.KeyringError as err:
        raise SecretStoreUnavailable(
            f"The API key could not be removed ({type(err).__name__}). {_HOW_TO}") from None
