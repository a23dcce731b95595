"""API keys go to the keyring (a pinned, temporary one here) and nowhere else."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import keyring
import keyring.core
import pytest
from keyrings.alt.file import PlaintextKeyring

from agent_assist import config as app_config
from agent_assist.assist import secrets
from agent_assist.assist.provider import ProviderConfig
from agent_assist.assist.secrets import (
    ENV_KEY,
    SERVICE,
    SecretStoreUnavailable,
    account_name,
    delete_api_key,
    get_api_key,
    keyring_status,
    set_api_key,
)

FAKE_KEY = "sk-test-SECRETKEY-1a2b3c4d5e6f"
OPENAI = ProviderConfig.for_preset("openai")
LOCAL = ProviderConfig.for_preset("custom", base_url="http://gpu-box:8000/v1", model="m")


def _use_backend(monkeypatch: pytest.MonkeyPatch, name: str | None) -> keyring.backend.KeyringBackend:
    """Pin a backend by name through the environment (None: none set), and load it afresh."""
    if name is None:
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    else:
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", name)
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)  # restored after the test
    keyring.core.init_backend()
    return keyring.get_keyring()


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch):
    monkeypatch.delenv(ENV_KEY, raising=False)


@pytest.fixture
def plaintext(monkeypatch) -> PlaintextKeyring:
    backend = _use_backend(monkeypatch, "keyrings.alt.file.PlaintextKeyring")
    assert isinstance(backend, PlaintextKeyring)
    assert backend.file_path.startswith(os.environ["XDG_DATA_HOME"])  # the temp dir from conftest
    return backend


def _app_dirs() -> list[Path]:
    return [Path(os.environ[v]) for v in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")]


def _files_holding(secret: str) -> set[Path]:
    needles = (secret.encode(), base64.b64encode(secret.encode()))
    found = set()
    for root in _app_dirs():
        for path in root.rglob("*"):
            if path.is_file() and any(n in path.read_bytes() for n in needles):
                found.add(path)
    return found


def test_round_trip_in_the_keyring(plaintext):
    assert get_api_key(OPENAI) is None
    set_api_key(OPENAI, f"  {FAKE_KEY}\n")  # pasted with stray whitespace
    assert get_api_key(OPENAI) == FAKE_KEY
    assert plaintext.get_password(SERVICE, "openai:https://api.openai.com/v1") == FAKE_KEY
    delete_api_key(OPENAI)
    assert get_api_key(OPENAI) is None
    delete_api_key(OPENAI)  # deleting twice is fine


def test_each_provider_has_its_own_key(plaintext):
    set_api_key(OPENAI, FAKE_KEY)
    set_api_key(LOCAL, "other-key")
    assert get_api_key(OPENAI) == FAKE_KEY
    assert get_api_key(LOCAL) == "other-key"
    assert account_name(LOCAL) == "custom:http://gpu-box:8000/v1"


def test_an_empty_key_is_refused(plaintext):
    with pytest.raises(ValueError):
        set_api_key(OPENAI, "   ")


def test_the_key_is_written_only_to_the_keyring_file(plaintext):
    set_api_key(OPENAI, FAKE_KEY)
    settings = app_config.config_dir() / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps({"provider": OPENAI.to_dict()}))

    assert _files_holding(FAKE_KEY) == {Path(plaintext.file_path)}


def test_a_keyringrc_in_the_config_dir_selects_the_backend(monkeypatch):
    rc = Path(os.environ["XDG_CONFIG_HOME"]) / "python_keyring" / "keyringrc.cfg"
    rc.parent.mkdir(parents=True)
    rc.write_text("[backend]\ndefault-keyring = keyrings.alt.file.PlaintextKeyring\n")
    backend = _use_backend(monkeypatch, None)
    assert isinstance(backend, PlaintextKeyring)

    set_api_key(OPENAI, FAKE_KEY)
    assert get_api_key(OPENAI) == FAKE_KEY
    ok, message = keyring_status()
    assert ok and "plain file" in message


def test_the_environment_is_a_read_only_fallback(plaintext, monkeypatch):
    monkeypatch.setenv(ENV_KEY, "from-env")
    assert get_api_key(OPENAI) == "from-env"
    set_api_key(OPENAI, FAKE_KEY)
    assert get_api_key(OPENAI) == FAKE_KEY  # the keyring wins
    delete_api_key(OPENAI)
    assert os.environ[ENV_KEY] == "from-env"


@pytest.mark.parametrize("backend_name", ["keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"])
def test_no_usable_keyring_refuses_to_store_and_explains(monkeypatch, backend_name):
    _use_backend(monkeypatch, backend_name)

    with pytest.raises(SecretStoreUnavailable) as info:
        set_api_key(OPENAI, FAKE_KEY)

    message = str(info.value)
    for words in ("Secret Service", "KWallet", "macOS Keychain", "Windows Credential Manager", ENV_KEY):
        assert words in message
    assert FAKE_KEY not in message
    assert _files_holding(FAKE_KEY) == set()
    assert get_api_key(OPENAI) is None
    ok, status = keyring_status()
    assert not ok and ENV_KEY in status
    with pytest.raises(SecretStoreUnavailable):
        delete_api_key(OPENAI)


def test_without_a_keyring_the_environment_still_works(monkeypatch):
    _use_backend(monkeypatch, "keyring.backends.fail.Keyring")
    monkeypatch.setenv(ENV_KEY, "from-env")
    assert get_api_key(OPENAI) == "from-env"
    ok, status = keyring_status()
    assert not ok and "Meanwhile the key from AGENT_ASSIST_API_KEY is used." in status


def test_a_plain_file_store_that_was_not_chosen_is_not_used(monkeypatch):
    """keyrings.alt being installed must not make keys land in a plain file by accident."""
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    stray = PlaintextKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", stray)  # as auto-detection picks it on a bare box

    with pytest.raises(SecretStoreUnavailable) as info:
        set_api_key(OPENAI, FAKE_KEY)

    assert "plain-file" in str(info.value)
    assert not Path(stray.file_path).exists()
    assert keyring_status()[0] is False


def test_status_names_a_proper_keyring(monkeypatch):
    class FakeSecretService(keyring.backend.KeyringBackend):
        priority = 5

        def __init__(self):
            self.store = {}

        def get_password(self, service, username):
            return self.store.get((service, username))

        def set_password(self, service, username, password):
            self.store[(service, username)] = password

        def delete_password(self, service, username):
            self.store.pop((service, username), None)

    FakeSecretService.__module__ = "keyring.backends.SecretService"
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setattr(keyring.core, "_keyring_backend", FakeSecretService())
    assert keyring_status() == (True, "API keys are kept in the Secret Service keyring.")
    set_api_key(OPENAI, FAKE_KEY)
    assert get_api_key(OPENAI) == FAKE_KEY
    assert secrets.SERVICE == "agent-assist"
