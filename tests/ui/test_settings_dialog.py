"""Preferences: provider presets, Test connection against a real server, keys to the keyring, rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_assist.assist import secrets
from agent_assist.settings import Settings
from agent_assist.store import Store, people, rules
from agent_assist.ui.settings_dialog import SettingsDialog
from agent_assist.ui.tasks import TaskManager
from tests.assist.openai_server import openai_server  # noqa: F401


@pytest.fixture
def keyring_file(tmp_path: Path, monkeypatch):
    """A file keyring chosen explicitly (as a person would on a box without a system keyring)."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "kr"))
    import keyring.core

    keyring.core._keyring_backend = None  # re-read the choice
    yield
    keyring.core._keyring_backend = None


@pytest.fixture
def dialog(tmp_path: Path, qtbot, small_store: Store):
    settings = Settings(tmp_path / "settings.json")
    tasks = TaskManager()
    d = SettingsDialog(settings, tasks, store=small_store, user="priya")
    qtbot.addWidget(d)
    yield d
    tasks.shutdown()


def test_presets_fill_the_form(dialog):
    dialog.preset.setCurrentIndex(dialog.preset.findData("openai"))
    assert dialog.base_url.text() == "https://api.openai.com/v1" and dialog.redact.isChecked()
    dialog.preset.setCurrentIndex(dialog.preset.findData("ollama"))
    assert dialog.base_url.text() == "http://localhost:11434/v1" and not dialog.redact.isChecked()
    assert "ollama pull" in dialog.preset_note.text()


def test_test_connection_reports_success_and_the_exact_problem(dialog, openai_server, qtbot):  # noqa: F811
    dialog.preset.setCurrentIndex(dialog.preset.findData("custom"))
    dialog.base_url.setText(openai_server.base_url)
    dialog.model.setEditText("test-model")
    with qtbot.waitSignal(dialog.connectionTested, timeout=10_000) as ok:
        dialog.test_button.click()
    assert ok.args[0] is True and "test-model" in dialog.test_result.text()
    openai_server.script(status=404)
    with qtbot.waitSignal(dialog.connectionTested, timeout=10_000) as bad:
        dialog.test_button.click()
    assert bad.args[0] is False and "not found" in dialog.test_result.text().lower()


def test_model_list_is_loaded_from_the_server(dialog, openai_server, qtbot):  # noqa: F811
    dialog.preset.setCurrentIndex(dialog.preset.findData("custom"))
    dialog.base_url.setText(openai_server.base_url)
    with qtbot.waitSignal(dialog.modelsLoaded, timeout=10_000) as loaded:
        dialog.refresh_models.click()
    assert loaded.args[0] and dialog.model.count() == len(loaded.args[0])


def test_the_key_goes_to_the_keyring_never_the_settings_file(dialog, keyring_file, tmp_path):
    dialog.preset.setCurrentIndex(dialog.preset.findData("openai"))
    dialog.api_key.setText("sk-test-abcdef123456")
    dialog.api_key.textEdited.emit("sk-test-abcdef123456")
    assert dialog.save()
    assert secrets.get_api_key(dialog.config()) == "sk-test-abcdef123456"
    assert "sk-test" not in (tmp_path / "settings.json").read_text()


def test_without_a_keyring_saving_a_key_explains_the_way_on(dialog, monkeypatch, tmp_path):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    import keyring.core

    keyring.core._keyring_backend = None
    try:
        dialog.api_key.setText("sk-test-abcdef123456")
        dialog.api_key.textEdited.emit("sk-test-abcdef123456")
        assert not dialog.save()
        assert "AGENT_ASSIST_API_KEY" in dialog.error.text()
        assert not (tmp_path / "settings.json").exists()
    finally:
        keyring.core._keyring_backend = None


def test_supervisors_edit_routing_rules(dialog, small_store: Store):
    people.save_profile(small_store, "priya", "supervisor", actor="priya")
    d = SettingsDialog(dialog.settings, dialog.tasks, store=small_store, user="priya")
    d.rule_boxes["repeat_contact"].setCurrentIndex(d.rule_boxes["repeat_contact"].findData("four_eyes"))
    assert d.save()
    assert rules.all_rules(small_store.db)["repeat_contact"] == "four_eyes"
    d.deleteLater()


def test_agents_see_rules_but_cannot_change_them(dialog, small_store: Store):
    people.save_profile(small_store, "sam", "agent", actor="sam")
    d = SettingsDialog(dialog.settings, dialog.tasks, store=small_store, user="sam")
    assert not d.rule_boxes["fraud"].isEnabled()
    d.deleteLater()


def test_a_supervisor_changes_roles_and_an_agent_cannot(dialog, small_store: Store):
    people.save_profile(small_store, "priya", "supervisor", actor="priya")
    people.save_profile(small_store, "sam", "agent", actor="sam")
    d = SettingsDialog(dialog.settings, dialog.tasks, store=small_store, user="sam")
    assert not d.role_boxes["sam"].isEnabled() and not d.role_boxes["priya"].isEnabled()
    d.deleteLater()
    d = SettingsDialog(dialog.settings, dialog.tasks, store=small_store, user="priya")
    # hand the role over in one save: sam is promoted before priya steps down
    d.role_boxes["sam"].setCurrentIndex(d.role_boxes["sam"].findData("supervisor"))
    d.role_boxes["priya"].setCurrentIndex(d.role_boxes["priya"].findData("agent"))
    assert d.save()
    assert (people.role_of(small_store.db, "sam"), people.role_of(small_store.db, "priya")) == ("supervisor", "agent")
    d.deleteLater()
    d = SettingsDialog(dialog.settings, dialog.tasks, store=small_store, user="sam")
    d.role_boxes["sam"].setCurrentIndex(d.role_boxes["sam"].findData("agent"))  # the last one: refused, said
    assert not d.save()
    assert "only supervisor" in d.error.text()
    assert people.role_of(small_store.db, "sam") == "supervisor"
    d.deleteLater()


def test_mailbox_settings_are_checked_and_saved(dialog, keyring_file):
    from agent_assist.channels.email.config import get_password

    dialog.mail_enabled.setChecked(True)
    dialog.mail_fields["imap_host"].setText("mail.example.com")
    assert not dialog.save()
    assert "user name is missing" in dialog.error.text()
    dialog.mail_fields["imap_user"].setText("support@example.com")
    dialog.mail_tls["imap_tls"].setCurrentIndex(dialog.mail_tls["imap_tls"].findData("none"))
    assert not dialog.save() and "only allowed to this computer" in dialog.error.text()
    dialog.mail_tls["imap_tls"].setCurrentIndex(dialog.mail_tls["imap_tls"].findData("tls"))
    dialog.imap_password.setText("hunter2-mail")
    assert dialog.save()
    saved = dialog.settings.get("email.mailbox")
    assert saved["imap_host"] == "mail.example.com" and dialog.settings.get("email.enabled") is True
    assert "hunter2" not in dialog.settings.path.read_text()
    assert get_password(dialog.mailbox(), "imap") == "hunter2-mail"


def test_notifications_can_be_turned_off(dialog):
    assert dialog.notifications.isChecked()
    dialog.notifications.setChecked(False)
    assert dialog.save()
    assert dialog.settings.get("notifications.enabled") is False


def test_check_this_model_runs_in_the_background_and_shows_the_table(dialog, openai_server, qtbot):  # noqa: F811
    from agent_assist import config

    openai_server.script(reply="Hello, thanks for writing. Your card [CARD_1] is noted. [KB-1]")
    dialog.preset.setCurrentIndex(dialog.preset.findData("custom"))
    dialog.base_url.setText(openai_server.base_url)
    dialog.model.setEditText("test-model")
    dialog.redact.setChecked(True)
    steps: list[tuple] = []
    dialog.check_model(limit=3)
    check = dialog.model_check
    check.progressed.connect(lambda *a: steps.append(a))
    with qtbot.waitSignal(check.checkFinished, timeout=60_000) as finished:
        pass
    report = finished.args[0]
    assert report is not None and check.table.rowCount() == len(report.rows) == 3
    assert steps and steps[-1][2] == "Done"
    assert "payment data leaked: 0" in check.summary.text()
    md, csv_path = check.paths
    assert md.exists() and csv_path.exists() and md.parent == config.data_dir() / "model-checks"
    assert str(md) in check.status.text()
    check.close()


def test_closing_the_model_check_stops_it(dialog, openai_server, qtbot):  # noqa: F811
    openai_server.script(reply="word " * 200, token_delay=0.05)
    dialog.preset.setCurrentIndex(dialog.preset.findData("custom"))
    dialog.base_url.setText(openai_server.base_url)
    dialog.model.setEditText("test-model")
    dialog.check_model(limit=2)
    check = dialog.model_check
    qtbot.waitUntil(lambda: bool(openai_server.chat_requests), timeout=10_000)
    with qtbot.assertNotEmitted(check.checkFinished, wait=300):
        check.reject()
    assert openai_server.client_gone.wait(10)  # the running draft's connection was closed
    assert dialog.tasks.wait(10_000)


def test_the_undo_send_time_is_chosen_and_kept(dialog):
    assert dialog.undo_seconds.currentData() == 10  # the default
    dialog.undo_seconds.setCurrentIndex(dialog.undo_seconds.findData(0))
    assert dialog.save()
    from agent_assist.settings import Settings

    assert Settings(dialog.settings.path).get("send.undo_seconds") == 0


def test_meaning_search_is_chosen_and_the_server_mode_needs_a_model(dialog):
    from agent_assist.settings import Settings

    assert dialog.semantic.currentData() == "offline" and not dialog.embedding_model.isEnabled()  # the default
    dialog.semantic.setCurrentIndex(dialog.semantic.findData("server"))
    assert dialog.embedding_model.isEnabled()
    assert not dialog.save()
    assert "embedding model" in dialog.error.text()
    dialog.embedding_model.setText(" bge-m3 ")
    assert dialog.save()
    saved = Settings(dialog.settings.path)
    assert (saved.get("knowledge.semantic"), saved.get("knowledge.embedding_model")) == ("server", "bge-m3")
