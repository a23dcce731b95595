"""What a new user ran into: each command in trouble answers with one sentence and the right exit code,
and names from files never reach the terminal as control characters."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from pathlib import Path

import pytest

from agent_assist.sanitize import shown_name
from agent_assist.store import Store
from tests.test_cli_errors import one_sentence, run_cli


# -- kb search without a query --------------------------------------------------------------------------
@pytest.mark.parametrize("query", ["", "   ", "\t\n"], ids=["empty", "spaces", "whitespace"])
def test_kb_search_without_a_query_asks_for_one(small_store: Store, db_path: Path, query: str) -> None:
    proc = run_cli("kb", "search", query, "--db", str(db_path))
    assert proc.returncode == 2
    line = one_sentence(proc.stderr)
    assert "needs a query" in line
    assert "No articles match" not in proc.stdout + proc.stderr


# -- audit export-head --out keeps what is there --------------------------------------------------------
def test_export_head_keeps_an_existing_file_unless_forced(small_store: Store, db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "head.json"
    out.write_text("my notes\n", encoding="utf-8")
    proc = run_cli("audit", "export-head", "--db", str(db_path), "--out", str(out))
    assert proc.returncode == 2
    line = one_sentence(proc.stderr)
    assert str(out) in line and "already exists" in line and "--force" in line
    assert out.read_text(encoding="utf-8") == "my notes\n"

    proc = run_cli("audit", "export-head", "--db", str(db_path), "--out", str(out), "--force")
    assert proc.returncode == 0, proc.stderr
    assert "last_id" in json.loads(out.read_text(encoding="utf-8"))
    assert run_cli("audit", "verify", "--db", str(db_path), "--head", str(out)).returncode == 0


def test_export_head_help_names_force() -> None:
    proc = run_cli("audit", "export-head", "--help")
    assert proc.returncode == 0 and "--force" in proc.stdout and "already exists" in proc.stdout


# -- audit verify --head with a file that is no head ----------------------------------------------------
@pytest.mark.parametrize("content", [bytes(range(256)) * 4, b"\x89PNG\r\n\x1a\n\xff\xfe", b"not json at all",
                                     b"[1, 2, 3]"], ids=["binary", "png", "text", "json-list"])
def test_verify_against_a_file_that_is_no_head_is_one_sentence(small_store: Store, db_path: Path, tmp_path: Path,
                                                               content: bytes) -> None:
    head = tmp_path / "head.bin"
    head.write_bytes(content)
    proc = run_cli("audit", "verify", "--db", str(db_path), "--head", str(head))
    assert proc.returncode == 2
    line = one_sentence(proc.stderr)
    assert "is not a head file written by 'audit export-head'" in line
    assert "codec" not in line and "Expecting" not in line


# -- --db that is not a regular file --------------------------------------------------------------------
def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.db"
    os.mkfifo(path)
    return path


def _socket(tmp_path: Path) -> Path:
    path = tmp_path / "s.db"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()  # the socket file stays
    return path


@pytest.mark.parametrize("make", [lambda tmp: Path(os.devnull), _fifo, _socket], ids=["dev-null", "fifo", "socket"])
@pytest.mark.parametrize("command", [["kb", "search", "refund"], ["audit", "verify"], ["kb", "import", "."]],
                         ids=["kb-search", "audit-verify", "kb-import"])
def test_a_db_that_is_not_a_regular_file_is_refused_up_front(tmp_path: Path, make, command: list[str]) -> None:
    path = make(tmp_path)
    proc = run_cli(*command, "--db", str(path))  # a pipe would block a reader: the timeout would fail this
    assert proc.returncode == 2
    line = one_sentence(proc.stderr)
    assert f"{path} is not a regular file" in line and "--db" in line
    assert "disk I/O" not in line


def test_a_folder_as_db_is_refused(tmp_path: Path) -> None:
    line = one_sentence(run_cli("audit", "verify", "--db", str(tmp_path)).stderr)
    assert "is a folder" in line


def test_a_file_that_is_not_sqlite_says_how_to_choose_another_from_a_menu_or_a_shell(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database\n", encoding="utf-8")
    line = one_sentence(run_cli("audit", "verify", "--db", str(path)).stderr)
    assert "not an SQLite database" in line and "untouched" in line
    assert "choose another file" in line and "--db" in line and "AGENT_ASSIST_DB" in line
    assert path.read_text(encoding="utf-8") == "not a database\n"


# -- names in the import report --------------------------------------------------------------------------
EVIL = "evil\nname\u202e\x1b[31m.md"


def test_control_and_bidi_characters_in_file_names_are_shown_not_acted_on(db_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / EVIL).write_text("# Late fee waiver\n\nWe waive the first late fee.\n", encoding="utf-8")
    (folder / "bad\u202egpj.csv").write_text("title,body\nx,\"never closed\n", encoding="utf-8")
    proc = run_cli("kb", "import", str(folder), "-v", "--db", str(db_path))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "evil␊name<U+202E>␛[31m.md" in out
    assert "bad<U+202E>gpj.csv" in out
    assert "\u202e" not in out and "\x1b" not in out
    assert [line for line in out.splitlines() if line.startswith("+ ")] == [
        "+ added: Late fee waiver [evil␊name<U+202E>␛[31m.md]"]
    # the article keeps its real key: re-importing finds it
    again = run_cli("kb", "import", str(folder), "--db", str(db_path))
    assert "0 added" in again.stdout and "1 unchanged" in again.stdout
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT key FROM articles").fetchall() == [(EVIL,)]


def test_shown_name_keeps_every_script_and_joiners() -> None:
    for name in ("Återbetalning.md", "返金について.md", "استرداد.md", "می\u200cخواهم.md", "👩\u200d💻.md"):
        assert shown_name(name) == name
    assert shown_name("a\tb\rc\x7fd\x85e\u2028f\u2066g") == "a␉b␍c\u2421d<U+0085>e<U+2028>f<U+2066>g"


# -- CSV with a quote that is never closed --------------------------------------------------------------
@pytest.mark.parametrize("text, line", [
    ('title,body\n"Late fee waiver,We waive the first late fee.\nRefunds,Refunds take five days.\n', 2),
    ('title,body\nRefunds,Refunds take five days.\nLate fee waiver,"We waive the first\nlate fee.\n', 3),
], ids=["in-the-title", "in-the-last-body"])
def test_a_csv_quote_that_is_never_closed_is_named_not_called_an_empty_body(db_path: Path, tmp_path: Path,
                                                                            text: str, line: int) -> None:
    export = tmp_path / "export.csv"
    export.write_text(text, encoding="utf-8")
    proc = run_cli("kb", "import", str(export), "--db", str(db_path))
    skipped = [x for x in proc.stdout.splitlines() if x.startswith("! skipped")]
    assert len(skipped) == 1, proc.stdout
    assert f"(row {line})" in skipped[0] and "malformed" in skipped[0]
    assert f"the quote opened on line {line} is not closed" in skipped[0]
    assert "empty body" not in proc.stdout
