"""Connecting to a team server from the app: the dialog, the start dialog's "Team server…", Preferences.

Test connection and signing in go to the session's real PostgreSQL; nothing stands in for it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from agent_assist import config
from agent_assist.app import open_team_store_or_explain
from agent_assist.settings import Settings
from agent_assist.store import Store
from agent_assist.store.people import Profile
from agent_assist.store.postgres import sign_in
from agent_assist.ui.profile_dialog import ProfileDialog
from agent_assist.ui.settings_dialog import SettingsDialog
from agent_assist.ui.tasks import TaskManager
from agent_assist.ui.team_server_dialog import TeamServerDialog
from tests.backends import PASSWORD
from tests.postgres_server import free_port
from tests.ui.test_settings_dialog import keyring_file  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


def _fill(dialog: TeamServerDialog, url: str, password: str) -> None:
    dialog.paste.setText(url)
    dialog.paste.textEdited.emit(url)
    dialog.secret.setText(password)


@pytest.fixture
def server_dialog(qtbot):
    dialog = TeamServerDialog()
    qtbot.addWidget(dialog)
    return dialog


def test_a_pasted_url_fills_the_fields_and_its_password_leaves_the_screen(server_dialog):
    d = server_dialog
    ok = d.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled() and not d.test_button.isEnabled()  # nothing to connect to yet
    d.paste.setText("postgresql://alex:s3cret@db.example.com:5433/support")
    d.paste.textEdited.emit(d.paste.text())
    assert (d.host.text(), d.port.value(), d.database.text(), d.login.text()) == (
        "db.example.com", 5433, "support", "alex")
    assert d.secret.text() == "s3cret" and "s3cret" not in d.paste.text()
    assert ok.isEnabled()
    assert d.url() == "postgresql://alex@db.example.com:5433/support"

    d.paste.setText("mysql://nope")
    d.paste.textEdited.emit(d.paste.text())
    assert "postgresql://" in d.result.text()
    d.login.clear()
    assert not ok.isEnabled()


def test_test_connection_signs_in_once_and_says_who_and_where(server_dialog, team_database, qtbot):
    url = team_database.server.url(team_database.dbname, user="priya")
    _fill(server_dialog, url, PASSWORD)
    with qtbot.waitSignal(server_dialog.tested, timeout=15000) as got:
        server_dialog.test_connection()
    assert got.args[0] is True
    assert "Signed in as priya (agent)" in server_dialog.result.text()
    assert "team schema" in server_dialog.result.text()


@pytest.mark.parametrize("case", ["wrong password", "no such login", "nothing listening"])
def test_test_connection_failures_are_sentences(server_dialog, team_database, qtbot, case):
    server = team_database.server
    url, password = {
        "wrong password": (server.url(team_database.dbname, user="priya"), "not it"),
        "no such login": (server.url(team_database.dbname, user="nobody_here"), PASSWORD),
        "nothing listening": (f"postgresql://priya@127.0.0.1:{free_port()}/support", PASSWORD),
    }[case]
    _fill(server_dialog, url, password)
    with qtbot.waitSignal(server_dialog.tested, timeout=20000) as got:
        server_dialog.test_connection()
    ok, text = got.args
    assert ok is False
    assert text and "Traceback" not in text and text.rstrip().endswith((".", "?", "!"))
    if case == "nothing listening":
        assert "Cannot connect" in text
    else:
        assert "password authentication failed" in text.lower()


def test_the_start_dialog_offers_the_team_server(qtbot, team_database):
    url = team_database.server.url(team_database.dbname, user="priya")
    start = ProfileDialog([Profile("alex", "agent")], "alex")
    qtbot.addWidget(start)

    def fill_and_connect() -> None:
        nested = next(w for w in QApplication.topLevelWidgets()
                      if isinstance(w, TeamServerDialog) and w.isVisible())
        _fill(nested, url, PASSWORD)
        nested.keep.setChecked(False)
        nested.accept()

    QTimer.singleShot(200, fill_and_connect)
    start.team_button.click()
    assert start.result() == ProfileDialog.DialogCode.Accepted
    assert start.team is not None
    assert start.team.url == sign_in.without_password(url) and start.team.password == PASSWORD
    assert start.team.keep_password is False


def test_signing_in_remembers_the_server_not_the_password(qtbot, team_database, keyring_file):  # noqa: F811
    url = team_database.server.url(team_database.dbname, user="priya")
    store = open_team_store_or_explain(sign_in.without_password(url), password=PASSWORD)
    try:
        assert store is not None and store.user == "priya"
    finally:
        store.close()
    remembered = config.last_team()
    assert remembered == sign_in.without_password(url) and PASSWORD not in remembered
    assert sign_in.stored_password(remembered) == PASSWORD  # typed once, kept in the keyring
    state = (config.state_dir() / config.LAST_TEAM_FILE).read_text(encoding="utf-8")
    assert PASSWORD not in state

    config.remember_db(Path(config.data_dir()) / "desk.db")  # opening a desk's own file: that one next
    assert config.last_team() is None


def test_preferences_switch_between_team_server_and_own_database(qtbot, tmp_path, team_database,
                                                                 keyring_file):  # noqa: F811
    url = team_database.server.url(team_database.dbname, user="priya")
    tasks = TaskManager()
    with Store(tmp_path / "desk.db") as desk:
        prefs = SettingsDialog(Settings(tmp_path / "settings.json"), tasks, store=desk, user="alex")
        qtbot.addWidget(prefs)
        assert "this computer's own database" in prefs.team_now.text()
        assert not prefs.team_local.isEnabled()

        def fill_and_connect() -> None:
            nested = next(w for w in QApplication.topLevelWidgets()
                          if isinstance(w, TeamServerDialog) and w.isVisible())
            _fill(nested, url, PASSWORD)
            nested.accept()

        QTimer.singleShot(200, fill_and_connect)
        prefs.choose_team_server()
        assert config.last_team() == sign_in.without_password(url)
        assert "starts on the team server priya@" in prefs.team_next.text()
        assert sign_in.stored_password(config.last_team()) == PASSWORD

        prefs.forget_team_password()
        assert sign_in.stored_password(config.last_team()) is None
        assert "removed from the keyring" in prefs.team_next.text()
        prefs.use_own_database()
        assert config.last_team() is None
        assert "own database next time" in prefs.team_next.text()
    tasks.shutdown()


def test_preferences_on_a_team_server_say_who_is_signed_in(qtbot, tmp_path, team_database):
    tasks = TaskManager()
    prefs = SettingsDialog(Settings(tmp_path / "settings.json"), tasks, store=team_database.desk("sue"),
                           user="sue")
    qtbot.addWidget(prefs)
    assert "signed in as sue (supervisor)" in prefs.team_now.text()
    tasks.shutdown()


def test_the_app_starts_on_the_team_server_it_signed_in_to_last(team_database, tmp_path):
    url = team_database.server.url(team_database.dbname, user="priya")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", AGENT_ASSIST_TEAM_PASSWORD=PASSWORD)
    config.remember_team(sign_in.without_password(url))
    proc = subprocess.run([sys.executable, "-m", "agent_assist", "--quit-after", "300"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # it signed in there: opening a desk's own file instead would have made that the one to start on
    assert config.last_team() == sign_in.without_password(url)
    assert not config.default_db_path().exists()
