"""Application settings: one typed schema, each entry with its default and description.

Stored as JSON in the platform's config folder. Secrets never live here (API keys
go to the OS keyring, see ``assist.secrets``); saving refuses anything that looks
like one, a key or password inside a URL included, and a key found in a saved base
URL is moved to the keyring on load. Window geometry is the UI's business and stays
in QSettings.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from agent_assist import config

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"
_SECRET_WORDS = ("api_key", "apikey", "password", "secret", "token")


@dataclass(frozen=True)
class Setting:
    key: str
    type: type
    default: Any
    description: str
    choices: tuple[Any, ...] = ()


def _default_provider() -> dict[str, Any]:
    from agent_assist.assist.provider import ProviderConfig

    return ProviderConfig().to_dict()


SCHEMA: tuple[Setting, ...] = (
    Setting("ai.enabled", bool, False,
            "Draft replies with an AI model. Off: the offline drafter writes the suggestions."),
    Setting("ai.provider", dict, None,
            "The OpenAI-compatible server, model, temperature and timeout (the key is in the keyring)."),
    Setting("ai.auto_draft", bool, False, "Start an AI draft as soon as a ticket opens."),
    Setting("ai.policy", str, "",
            "Tone and policy instructions given to the model with every draft (empty: the built-in policy)."),
    Setting("agent.language", str, "en", "Your own language, for translations of drafts and threads.",
            ("en", "sv", "de", "es", "fr", "nl", "da", "no", "fi", "it", "pt", "pl")),
    Setting("email.enabled", bool, False, "Run the queue from a shared support mailbox (IMAP in, SMTP out)."),
    Setting("email.mailbox", dict, {},
            "The mailbox: IMAP and SMTP servers, user, folder, sent folder (passwords are in the keyring)."),
    Setting("notifications.enabled", bool, True,
            "Desktop notifications for new high-priority tickets and SLAs about to breach."),
    Setting("send.undo_seconds", int, 10,
            "Seconds an approved reply waits before it goes out, with Undo (0: at once).",
            choices=(0, 5, 10, 20, 30, 60)),
    Setting("knowledge.semantic", str, "offline",
            "Search knowledge and solved tickets by meaning, in any language: with the embedder that ships "
            "with the app (offline), with the AI server's embedding model (server), or by words only (off).",
            choices=("offline", "server", "off")),
    Setting("knowledge.embedding_model", str, "",
            "The AI server's embedding model for meaning search (e.g. bge-m3, nomic-embed-text)."),
)
_BY_KEY = {s.key: s for s in SCHEMA}
_DYNAMIC_DEFAULTS: dict[str, Callable[[], Any]] = {"ai.provider": _default_provider}


class SettingsError(ValueError):
    pass


# query parameters whose value is a credential (Azure's ?api-key=, Google's ?key=, SAS ?sig=, ...)
_SECRET_PARAMS = frozenset({"api-key", "api_key", "apikey", "key", "token", "access_token", "auth", "sig",
                            "signature", "password", "passwd", "secret", "client_secret", "code"})


def url_secrets(url: str) -> tuple[str, list[str]]:
    """``url`` without the keys and passwords written into it, and those secrets (none: ``[]``).

    ``https://user:sk-...@host/v1`` and ``https://host/v1?api-key=...`` carry a key that would be
    saved, logged and shown with the URL; the key belongs in the keyring, the URL keeps the rest.
    """
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return url, []
    if not parts.scheme or not parts.netloc:
        return url, []
    found: list[str] = []
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, netloc = netloc.rpartition("@")
        user, _, password = userinfo.partition(":")
        found.append(unquote(password or user))
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in query if k.lower() not in _SECRET_PARAMS or not v]
    found += [v for k, v in query if k.lower() in _SECRET_PARAMS and v]
    if not found:
        return url, []
    clean = urlunsplit((parts.scheme, netloc, parts.path, urlencode(kept) if kept else "", parts.fragment))
    return clean, [f for f in found if f]


def _contains_secret(value: Any, *, nested: bool = False) -> bool:
    if isinstance(value, Mapping):
        return any(any(w in str(k).lower() for w in _SECRET_WORDS) or _contains_secret(v, nested=True)
                   for k, v in value.items())
    if nested and isinstance(value, str) and "://" in value:  # a URL field; free text (the policy) may cite links
        return bool(url_secrets(value)[1])
    return False


class Settings:
    """Typed access to the settings file. ``get`` always returns a valid value."""

    def __init__(self, path: Path | None = None):
        self.path = path or (config.config_dir() / SETTINGS_FILE)
        self._values: dict[str, Any] = {}
        self.load_error: str | None = None
        self.load()

    def load(self) -> None:
        self._values = {}
        self.load_error = None
        if not self.path.exists():
            return
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise ValueError("the file does not hold a JSON object")
        except (OSError, ValueError) as exc:
            # keep the broken file for the person to look at; run on defaults
            self.load_error = f"{self.path} could not be read ({exc}); using defaults."
            log.warning(self.load_error)
            return
        for key, value in raw.items():
            setting = _BY_KEY.get(key)
            if setting is None or not isinstance(value, setting.type):
                continue  # unknown or mistyped entries fall back to the default
            if setting.choices and value not in setting.choices:
                continue
            self._values[key] = value
        self._move_url_key()

    def _move_url_key(self) -> None:
        """A provider base URL saved with a key in it (by an older version or by hand): the key moves
        to the keyring and the file is rewritten without it. When the keyring cannot take it, both
        stay as they are (nothing is lost) and ``load_error`` says what to do."""
        provider = self._values.get("ai.provider")
        if not isinstance(provider, dict) or not isinstance(provider.get("base_url"), str):
            return
        clean, found = url_secrets(provider["base_url"])
        if not found:
            return
        from agent_assist.assist import secrets
        from agent_assist.assist.provider import ProviderConfig

        cleaned = {**provider, "base_url": clean}
        try:
            if len(found) != 1:
                raise secrets.SecretStoreUnavailable("The base URL holds more than one secret.")
            secrets.set_api_key(ProviderConfig.from_dict(cleaned), found[0])
            self._values["ai.provider"] = cleaned
            self.save()
        except (secrets.SecretStoreUnavailable, OSError) as exc:
            self.load_error = (f"The AI provider's base URL in {self.path} holds a key or password, and it could "
                               f"not be moved to the keyring ({exc}). Open Preferences, take it out of the base "
                               "URL and enter it as the API key.")
            log.warning(self.load_error)
            return
        log.info("The key written in the AI provider's base URL was moved to the keyring.")

    def get(self, key: str) -> Any:
        setting = _BY_KEY[key]
        if key in self._values:
            return self._values[key]
        if key in _DYNAMIC_DEFAULTS:
            return _DYNAMIC_DEFAULTS[key]()
        return setting.default

    def set(self, key: str, value: Any) -> None:
        setting = _BY_KEY.get(key)
        if setting is None:
            raise SettingsError(f"There is no setting called {key!r}.")
        if not isinstance(value, setting.type) or (setting.type is not bool and isinstance(value, bool) and setting.type is int):
            raise SettingsError(f"{key} must be a {setting.type.__name__}, not {type(value).__name__}.")
        if setting.choices and value not in setting.choices:
            raise SettingsError(f"{key} must be one of {', '.join(map(str, setting.choices))}.")
        if _contains_secret(value):
            raise SettingsError(f"{key} looks like it holds a secret (a key or password, perhaps inside a URL); "
                                "secrets belong in the keyring.")
        self._values[key] = value

    def save(self) -> None:
        """Write atomically (temp file + rename), so a crash never leaves half a file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(self._values, indent=2, sort_keys=True, ensure_ascii=False)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(data + "\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def as_dict(self) -> dict[str, Any]:
        return {s.key: self.get(s.key) for s in SCHEMA}
