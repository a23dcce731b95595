"""Which keyring may hold a secret: the one rule shared by API keys, mail passwords and the audit key.

A file-based store (such as keyrings.alt's ``PlaintextKeyring``) counts only when the
person chose it explicitly, with ``PYTHON_KEYRING_BACKEND`` or a ``keyringrc.cfg`` —
never just because it happened to be installed. Plain ``keyring`` calls, no Qt, so
every layer (the store's audit chain included) can use it.
"""

from __future__ import annotations

import configparser
import os

import keyring
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.util import platform_

BACKEND_ENV = "PYTHON_KEYRING_BACKEND"

_FRIENDLY = {
    "keyring.backends.SecretService": "the Secret Service keyring",
    "keyring.backends.libsecret": "the Secret Service keyring (libsecret)",
    "keyring.backends.kwallet": "KWallet",
    "keyring.backends.macOS": "the macOS Keychain",
    "keyring.backends.Windows": "Windows Credential Manager",
}


def backend_label(backend: object) -> str:
    module = type(backend).__module__
    for prefix, label in _FRIENDLY.items():
        if module.startswith(prefix):
            return label
    return f"{module}.{type(backend).__name__}"


def explicitly_chosen() -> bool:
    """Did the person pick a keyring backend themselves (environment or keyringrc.cfg)?"""
    if os.environ.get(BACKEND_ENV, "").strip():
        return True
    path = platform_.config_root() / "keyringrc.cfg"
    if not path.is_file():
        return False
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
        return bool(parser.get("backend", "default-keyring", fallback="").strip())
    except configparser.Error:
        return False


def writes_to(backend: KeyringBackend) -> KeyringBackend:
    """The backend that actually stores: the first of a chain, else the backend itself."""
    if isinstance(backend, chainer.ChainerBackend):
        chain = backend.backends
        return chain[0] if chain else backend
    return backend


def usable_backend() -> tuple[KeyringBackend | None, str]:
    """The active backend when it can keep secrets safely, else None and the reason."""
    try:
        backend = keyring.get_keyring()
    except Exception as err:  # noqa: BLE001 - a broken keyring config must not crash the app
        return None, f"The keyring could not be loaded ({type(err).__name__})."
    if isinstance(backend, fail.Keyring):
        return None, "No keyring is available on this computer."
    if isinstance(backend, null.Keyring):
        return None, "The keyring is switched off (null backend)."
    store = writes_to(backend)
    if isinstance(store, chainer.ChainerBackend):
        return None, "No keyring is available on this computer."
    try:
        priority = float(store.priority)
    except Exception:  # noqa: BLE001 - a backend that is not viable raises from priority
        return None, f"The keyring {backend_label(store)} cannot be used here."
    if priority < 1 and not explicitly_chosen():
        return None, (f"Only a plain-file key store ({backend_label(store)}) was found, and it is not used "
                      "unless chosen explicitly.")
    return backend, ""
