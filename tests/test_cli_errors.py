"""The command line in trouble: one sentence on stderr, a non-zero exit, nothing lost, nothing made by accident.

And which database it uses: one rule with the app (--db, $AGENT_ASSIST_DB, the one last opened, the
default), stated in --help and diagnostics.
"""

from __future__ import annotations

import argparse
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import agent_assist.store.database as database
from agent_assist import config
from agent_assist.cli import build_parser, main
from agent_assist.store import Store
from tests.store.lock_holder import LockHolder
from tests.store.test_file_errors import _run_without_root_powers

CLI = [sys.executable, "-m", "agent_assist"]


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})})


def one_sentence(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("agent-assist: ") and lines[0].endswith("."), lines[0]
    assert "Traceback" not in err
    return lines[0]


# -- which database ------------------------------------------------------------------------------------
def test_after_demo_the_commands_use_the_demo_database_and_say_so(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # help text on one line per paragraph
    assert main(["demo", "--tickets", "20"]) == 0
    demo_db = config.data_dir() / "demo.db"
    capsys.readouterr()
    assert main(["kb", "search", "refund"]) == 0
    assert "[KB-" in capsys.readouterr().out
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "intact" in out and ": 0 rows" not in out
    assert main(["diagnostics"]) == 0
    diag = capsys.readouterr().out
    assert "Database:" in diag and str(demo_db) in diag and "the database last opened" in diag
    assert not config.default_db_path().exists()  # no empty default database was made on the way
    assert f"Database: {demo_db}, chosen by the database last opened" in build_parser().format_help()


def test_db_and_the_environment_come_before_the_last_opened(tmp_path: Path, small_store: Store, db_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    config.remember_db(db_path)
    assert config.choose_db().reason == "the database last opened"
    other = tmp_path / "other.db"
    Store(other).close()
    monkeypatch.setenv(config.DB_ENV, str(other))
    assert config.choose_db() == config.DbChoice(other, f"${config.DB_ENV}", True)
    assert config.choose_db(str(db_path)).reason == "--db"
    assert main(["diagnostics"]) == 0
    assert f"chosen by: ${config.DB_ENV}".lower() in " ".join(capsys.readouterr().out.lower().split())


def test_the_app_remembers_the_database_it_opened(small_store: Store, db_path: Path) -> None:
    proc = run_cli("--db", str(db_path), "--user", "sam", "--quit-after", "300")
    assert proc.returncode == 0, proc.stderr
    assert config.choose_db() == config.DbChoice(db_path.resolve(), "the database last opened", False)


@pytest.mark.parametrize("command", [["kb", "search", "refund"], ["audit", "verify"], ["diagnostics"]],
                         ids=["kb-search", "audit-verify", "diagnostics"])
def test_read_only_commands_never_create_a_database(command: list[str], capsys) -> None:
    assert main(command) == 2
    err = capsys.readouterr().err
    line = one_sentence(err)
    assert str(config.default_db_path()) in line and "created" in line
    assert not config.default_db_path().exists()


def test_a_read_only_database_still_answers_the_read_only_commands(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "demo.db"
    assert main(["demo", "--db", str(path), "--tickets", "20"]) == 0
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        code = ("import sys\nfrom agent_assist.cli import main\n"
                f"sys.exit(main(['kb', 'search', 'refund', '--db', {str(path)!r}]) * 10 "
                f"+ main(['audit', 'verify', '--db', {str(path)!r}]))")
        proc = _run_without_root_powers(code)
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[KB-" in proc.stdout and "Audit trail intact" in proc.stdout


# -- a --db in a folder that does not exist ------------------------------------------------------------
@pytest.mark.parametrize("command", [["kb", "search", "refund"], ["audit", "verify"], ["demo", "--tickets", "5"],
                                     ["kb", "import", "."], ["diagnostics"]],
                         ids=["kb-search", "audit-verify", "demo", "kb-import", "diagnostics"])
def test_a_db_in_a_missing_folder_is_refused_not_created(tmp_path: Path, command: list[str], capsys) -> None:
    path = tmp_path / "no" / "such" / "folder" / "assist.db"
    assert main([*command, "--db", str(path)]) == 2
    line = one_sentence(capsys.readouterr().err)
    assert str(path.parent) in line and "does not exist" in line
    assert not (tmp_path / "no").exists()


def test_the_app_with_a_db_in_a_missing_folder_creates_nothing_without_asking(tmp_path: Path) -> None:
    path = tmp_path / "typo" / "assist.db"
    proc = run_cli("--db", str(path), "--quit-after", "0")
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr
    assert not path.parent.exists()


# -- no display ------------------------------------------------------------------------------------------
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the X11/Wayland check is for Linux")
@pytest.mark.parametrize("extra", [[], ["--demo"]], ids=["db", "demo"])
def test_no_display_is_one_sentence_that_says_what_to_do(tmp_path: Path, extra: list[str]) -> None:
    keep = ("PATH", "HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "LANG")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    db = tmp_path / "assist.db"
    proc = subprocess.run([*CLI, *(extra or ["--db", str(db)])], capture_output=True, text=True, timeout=60,
                          env=env)
    assert proc.returncode == 2
    line = one_sentence(proc.stderr)
    assert "display" in line and "xvfb-run -a agent-assist" in line and "xcb" not in line
    assert not db.exists() and not (config.data_dir() / "demo.db").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the X11/Wayland check is for Linux")
@pytest.mark.parametrize("display", [{"DISPLAY": ":987"}, {"DISPLAY": "127.0.0.1:1"},
                                     {"QT_QPA_PLATFORM": "wayland"}], ids=["x-local", "x-tcp", "wayland"])
def test_a_display_nobody_answers_on_is_one_sentence_too(tmp_path: Path, display: dict) -> None:
    keep = ("PATH", "HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "LANG")
    env = {k: os.environ[k] for k in keep if k in os.environ} | display
    db = tmp_path / "assist.db"
    proc = subprocess.run([*CLI, "--db", str(db)], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2  # not Qt's abort (134)
    line = one_sentence(proc.stderr)
    assert "xvfb-run -a agent-assist" in line and "xcb" not in line
    assert not db.exists()


def test_an_x_server_that_listens_counts_as_a_display(tmp_path: Path) -> None:
    import socket

    from agent_assist.app import missing_display, x_server_reachable

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(tmp_path / "X42"))
        server.listen()
        assert x_server_reachable(":42", socket_dir=str(tmp_path))
        assert missing_display({"DISPLAY": ":42.0"}, platform="linux", x11_socket_dir=str(tmp_path)) is None
    assert not x_server_reachable(":42", socket_dir=str(tmp_path))
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        if port > 6000:
            assert x_server_reachable(f"127.0.0.1:{port - 6000}")
    assert missing_display({"QT_QPA_PLATFORM": "offscreen"}, platform="linux") is None


# -- demo --force ---------------------------------------------------------------------------------------
def test_demo_force_refuses_while_another_process_has_the_file_open(tmp_path: Path, capsys) -> None:
    path = tmp_path / "demo.db"
    assert main(["demo", "--db", str(path), "--tickets", "20"]) == 0
    capsys.readouterr()
    script = ("import sys\nfrom agent_assist.store import Store\n"
              f"s = Store({str(path)!r})\nprint('open', flush=True)\nsys.stdin.readline()\ns.close()\n")
    holder = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        assert main(["demo", "--db", str(path), "--force", "--tickets", "10"]) == 2
        line = one_sentence(capsys.readouterr().err)
        assert "open in another program" in line and "Nothing was replaced" in line
        with Store(path) as store:
            assert store.db.conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 20
    finally:
        holder.communicate("\n", timeout=30)
    assert main(["demo", "--db", str(path), "--force", "--tickets", "10"]) == 0  # closed there: now it may
    with Store(path) as store:
        assert store.db.conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 10


# -- kb import --------------------------------------------------------------------------------------------
def kb_imports(path: Path) -> int:
    with Store(path) as store:
        return store.db.conn.execute("SELECT COUNT(*) FROM audit WHERE action = 'kb.imported'").fetchone()[0]


def test_kb_import_of_a_missing_path_imports_nothing(small_store: Store, db_path: Path, tmp_path: Path,
                                                     capsys) -> None:
    good = tmp_path / "kb"
    good.mkdir()
    (good / "a.md").write_text("# A\n\nText.")
    missing = tmp_path / "not-there"
    assert main(["kb", "import", str(good), str(missing), "--db", str(db_path)]) == 2
    line = one_sentence(capsys.readouterr().err)
    assert str(missing) in line and "Nothing was imported" in line
    assert kb_imports(db_path) == 0


def test_kb_import_where_every_file_is_skipped_exits_non_zero(small_store: Store, db_path: Path, tmp_path: Path,
                                                              capsys) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "broken.json").write_text('{"articles": [')
    (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    assert main(["kb", "import", str(folder), "--db", str(db_path)]) == 1
    captured = capsys.readouterr()
    assert "The file ends in the middle of the first record; nothing in it was imported." in captured.out
    reason = next(line for line in captured.out.splitlines() if "broken.json" in line).split(": ", 2)[-1]
    assert reason[0].isupper() and reason.endswith(".")  # the reason is a whole sentence
    assert "every file was skipped" in one_sentence(captured.err)


def test_kb_import_on_a_busy_database_says_so_and_changes_nothing(small_store: Store, db_path: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(database, "BUSY_TIMEOUT_S", 0.1)
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "new.md").write_text("# Brand new\n\nText.")
    small_store.close()
    holder = LockHolder(db_path)
    try:
        assert main(["kb", "import", str(folder), "--db", str(db_path)]) == 2
    finally:
        holder.release()
    line = one_sentence(capsys.readouterr().err)
    assert "busy" in line and "Nothing was imported" in line
    assert kb_imports(db_path) == 0
    assert main(["kb", "import", str(folder), "--db", str(db_path)]) == 0  # free again: it goes in
    assert kb_imports(db_path) == 1


# -- a damaged file ----------------------------------------------------------------------------------------
def test_a_damaged_database_is_one_sentence(small_store: Store, db_path: Path) -> None:
    conn = small_store.db.conn
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'audit'").fetchone()[0]
    small_store.close()
    with db_path.open("r+b") as fh:
        fh.seek((root - 1) * page_size + 8)
        fh.write(b"\xff\x13" * (page_size // 4))
    proc = run_cli("audit", "verify", "--db", str(db_path))
    assert proc.returncode == 2
    line = one_sentence(proc.stderr)
    assert "damaged" in line and "backup" in line


# -- help --------------------------------------------------------------------------------------------------
def _parsers(parser: argparse.ArgumentParser, name: str = "agent-assist"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for sub_name, sub in action.choices.items():
                assert helps.get(sub_name), f"{name} {sub_name} has no help"
                yield from _parsers(sub, f"{name} {sub_name}")


def test_every_command_and_option_has_help() -> None:
    hidden = {"--quit-after"}  # for tests and the bundle smoke test
    for name, parser in _parsers(build_parser()):
        assert parser.description or name == "agent-assist", f"{name} has no description"
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            label = "/".join(action.option_strings) or action.dest
            if set(action.option_strings) & hidden:
                continue
            assert action.help and action.help != argparse.SUPPRESS, f"{name} {label} has no help"


def test_help_names_the_database_and_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "percent%s.db"
    monkeypatch.setenv(config.DB_ENV, str(path))
    monkeypatch.setenv("COLUMNS", "1000")
    assert f"Database: {path}, chosen by ${config.DB_ENV}" in build_parser().format_help()
    kb = run_cli("kb", "search", "--help", env={config.DB_ENV: str(path), "COLUMNS": "1000"})
    assert kb.returncode == 0 and f"now {path}, chosen by ${config.DB_ENV}" in kb.stdout



def test_read_only_commands_leave_a_files_mode_alone(tmp_path: Path, capsys) -> None:
    path = tmp_path / "desk.db"
    assert main(["demo", "--db", str(path), "--tickets", "20"]) == 0
    path.chmod(0o444)
    capsys.readouterr()
    assert main(["kb", "search", "refund", "--db", str(path)]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o444


def test_output_cut_short_ends_quietly_and_a_full_disk_in_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    assert run_cli("demo", "--db", str(path), "--tickets", "20").returncode == 0
    proc = subprocess.Popen([*CLI, "kb", "search", "a", "--db", str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    proc.stdout.read(1)
    proc.stdout.close()  # like `| head -c 1`
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err.decode() and proc.returncode in (0, 141)
    if Path("/dev/full").exists():
        with open("/dev/full", "w") as full:
            done = subprocess.run([*CLI, "kb", "search", "a", "--db", str(path)], stdout=full,
                                  stderr=subprocess.PIPE, text=True, timeout=60,
                                  env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        assert done.returncode == 1 and one_sentence(done.stderr).startswith("agent-assist: the output could not")
