from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_assist.settings import SCHEMA, Settings, SettingsError


def test_defaults_and_descriptions(tmp_path: Path):
    s = Settings(tmp_path / "settings.json")
    for setting in SCHEMA:
        assert setting.description.strip()
        assert s.get(setting.key) is not None or setting.default is None
    assert s.get("ai.enabled") is False
    assert s.get("ai.provider")["preset"] == "ollama"
    assert not (tmp_path / "settings.json").exists()  # nothing written until saved


def test_round_trip_and_typed(tmp_path: Path):
    s = Settings(tmp_path / "settings.json")
    s.set("ai.enabled", True)
    s.set("agent.language", "sv")
    s.save()
    again = Settings(tmp_path / "settings.json")
    assert again.get("ai.enabled") is True and again.get("agent.language") == "sv"
    with pytest.raises(SettingsError):
        s.set("ai.enabled", "yes")
    with pytest.raises(SettingsError):
        s.set("agent.language", "klingon")
    with pytest.raises(SettingsError):
        s.set("no.such.thing", 1)


def test_secrets_are_refused(tmp_path: Path):
    s = Settings(tmp_path / "settings.json")
    with pytest.raises(SettingsError, match="keyring"):
        s.set("ai.provider", {"preset": "openai", "api_key": "sk-test-123"})
    s.save()
    assert "sk-test" not in (tmp_path / "settings.json").read_text()


def test_a_broken_file_is_kept_and_defaults_used(tmp_path: Path):
    path = tmp_path / "settings.json"
    path.write_text("{ not json")
    s = Settings(path)
    assert s.load_error and "could not be read" in s.load_error
    assert s.get("ai.enabled") is False
    assert path.read_text() == "{ not json"


def test_mistyped_entries_fall_back_to_defaults(tmp_path: Path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"ai.enabled": "very", "agent.language": "de", "unknown": 1}))
    s = Settings(path)
    assert s.get("ai.enabled") is False and s.get("agent.language") == "de"
