"""A key written into a base URL never stays in the settings file: refused on set, moved on load."""

from __future__ import annotations

import json
from pathlib import Path

import keyring.core
import pytest

from agent_assist.assist import secrets
from agent_assist.assist.provider import ProviderConfig
from agent_assist.settings import Settings, SettingsError, url_secrets

KEY = "sk-proj-Zq3XbT9uKc2LmN8pQr4sVw6yA1bC"


@pytest.fixture
def keyring_file(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "kr"))
    keyring.core._keyring_backend = None
    yield
    keyring.core._keyring_backend = None


@pytest.mark.parametrize(("url", "clean", "found"), [
    (f"https://u:{KEY}@api.example.com/v1", "https://api.example.com/v1", [KEY]),
    (f"https://{KEY}@api.example.com/v1", "https://api.example.com/v1", [KEY]),
    ("https://x.openai.azure.com/openai?api-version=2024-06-01&api-key=abc123",
     "https://x.openai.azure.com/openai?api-version=2024-06-01", ["abc123"]),
    ("https://llm.example.com/v1?key=AIzaSyD-abc", "https://llm.example.com/v1", ["AIzaSyD-abc"]),
    ("https://agent:p%40ss@proxy.example.com:8080/v1", "https://proxy.example.com:8080/v1", ["p@ss"]),
    ("http://localhost:11434/v1", "http://localhost:11434/v1", []),
    ("https://api.example.com/v1?api-version=2024-06-01", "https://api.example.com/v1?api-version=2024-06-01", []),
    ("not a url", "not a url", []),
])
def test_url_secrets(url: str, clean: str, found: list[str]) -> None:
    assert url_secrets(url) == (clean, found)


def test_a_key_inside_the_base_url_is_refused(tmp_path: Path) -> None:
    s = Settings(tmp_path / "settings.json")
    for url in (f"https://u:{KEY}@api.example.com/v1", "https://x.openai.azure.com/openai?api-key=abc123"):
        with pytest.raises(SettingsError, match="keyring"):
            s.set("ai.provider", ProviderConfig(preset="custom", base_url=url).to_dict())
    s.set("ai.policy", "Point customers to https://help.example.com/reset?code=RESET-FORM when they ask.")
    s.save()
    saved = (tmp_path / "settings.json").read_text()
    assert KEY not in saved and "abc123" not in saved


def test_a_saved_key_in_the_base_url_moves_to_the_keyring_on_load(tmp_path: Path, keyring_file) -> None:
    path = tmp_path / "settings.json"
    provider = ProviderConfig(preset="custom", base_url=f"https://u:{KEY}@api.example.com/v1").to_dict()
    path.write_text(json.dumps({"ai.provider": provider, "ai.enabled": True}), encoding="utf-8")
    s = Settings(path)
    assert s.load_error is None
    assert s.get("ai.provider")["base_url"] == "https://api.example.com/v1"
    assert KEY not in path.read_text() and json.loads(path.read_text())["ai.enabled"] is True
    assert secrets.get_api_key(ProviderConfig.from_dict(s.get("ai.provider"))) == KEY


def test_without_a_keyring_the_key_stays_and_the_person_is_told(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    keyring.core._keyring_backend = None
    try:
        path = tmp_path / "settings.json"
        provider = ProviderConfig(preset="custom", base_url=f"https://u:{KEY}@api.example.com/v1").to_dict()
        path.write_text(json.dumps({"ai.provider": provider}), encoding="utf-8")
        before = path.read_text()
        s = Settings(path)
        assert "could not be moved to the keyring" in s.load_error and KEY not in s.load_error
        assert path.read_text() == before  # nothing lost
    finally:
        keyring.core._keyring_backend = None
