"""Preferences: a key typed into the base URL is moved to the API key (the keyring), never saved in the URL."""

from __future__ import annotations

from pathlib import Path

from agent_assist.assist import secrets
from tests.ui.test_settings_dialog import dialog, keyring_file  # noqa: F401 - the fixtures

KEY = "sk-proj-Zq3XbT9uKc2LmN8pQr4sVw6yA1bC"


def test_a_key_in_the_base_url_moves_to_the_keyring(dialog, keyring_file, tmp_path: Path):  # noqa: F811
    dialog.preset.setCurrentIndex(dialog.preset.findData("custom"))
    dialog.base_url.setText(f"https://agent:{KEY}@llm.example.com/v1")
    assert dialog.save()
    assert dialog.base_url.text() == "https://llm.example.com/v1"
    assert "moved" in dialog.error.text()
    assert secrets.get_api_key(dialog.config()) == KEY
    saved = (tmp_path / "settings.json").read_text()
    assert KEY not in saved and "https://llm.example.com/v1" in saved


def test_a_second_key_in_the_url_is_refused_with_a_sentence(dialog, keyring_file, tmp_path: Path):  # noqa: F811
    dialog.preset.setCurrentIndex(dialog.preset.findData("azure"))
    dialog.base_url.setText("https://x.openai.azure.com/openai?api-key=from-the-url")
    dialog.api_key.setText("a-different-key")
    dialog.api_key.textEdited.emit("a-different-key")
    assert not dialog.save()
    assert "Take it out of the URL" in dialog.error.text()
    assert dialog.base_url.text().endswith("api-key=from-the-url")  # nothing typed is lost
    assert not (tmp_path / "settings.json").exists()
