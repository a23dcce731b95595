"""Application settings: one typed schema, each entry with its default and description.

Stored as JSON in the platform's config folder. Secrets never live here (API keys
go to the OS keyring, see ``assist.secrets``); saving refuses anything that looks
like one. Window geometry is the UI's business and stays in QSettings.
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
)
_BY_KEY = {s.key: s for s in SCHEMA}
_DYNAMIC_DEFAULTS: dict[str, Callable[[], Any]] = {"ai.provider": _default_provider}


class SettingsError(ValueError):
    pass


def _contains_secret(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(any(w in str(k).lower() for w in _SECRET_WORDS) or _contains_secret(v) for k, v in value.items())
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
            raise SettingsError(f"{key} looks like it holds a secret; secrets belong in the keyring.")
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
