"""The agent-assist command, run as a real process where it matters."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agent_assist.cli import main
from agent_assist.store import Store, audit, people
from agent_assist.store.tickets import QueueFilter, queue_count


def run_cli(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agent_assist", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})})


def test_demo_creates_a_fresh_database_and_refuses_to_overwrite(tmp_path: Path, capsys):
    db = tmp_path / "demo.db"
    assert main(["demo", "--db", str(db)]) == 0
    assert "360 tickets" in capsys.readouterr().out
    with Store(db) as store:
        assert queue_count(store.db, QueueFilter(statuses=())) == 360
        langs = {r[0] for r in store.db.conn.execute("SELECT DISTINCT language FROM tickets")}
        assert len(langs) >= 6
        assert store.db.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] >= 40
        outbound = store.db.conn.execute("SELECT COUNT(*) FROM messages WHERE direction = 'outbound'").fetchone()[0]
        sent, as_is = store.db.conn.execute(
            "SELECT COUNT(*), SUM(original_body = body) FROM drafts WHERE state = 'sent'").fetchone()
        assert sent == outbound and 0.3 < as_is / sent < 0.7  # a history for review and the dashboard
        assert store.db.conn.execute("SELECT COUNT(*) FROM draft_quality").fetchone()[0] == sent
        assert {p.role for p in people.profiles(store.db)} == {"agent", "supervisor"}
        assert audit.verify(store.db).ok
    before = db.read_bytes()
    assert main(["demo", "--db", str(db)]) == 2
    assert "--force" in capsys.readouterr().err
    assert db.read_bytes() == before
    assert main(["demo", "--db", str(db), "--force", "--tickets", "310", "--seed", "3"]) == 0
    with Store(db) as store:
        assert queue_count(store.db, QueueFilter(statuses=())) == 310


def test_demo_force_never_deletes_a_file_that_is_not_ours(tmp_path: Path, capsys):
    precious = tmp_path / "thesis.db"
    precious.write_text("my thesis, not a database")
    assert main(["demo", "--db", str(precious), "--force"]) == 2
    assert "not an SQLite database" in capsys.readouterr().err
    assert precious.read_text() == "my thesis, not a database"


def test_arrivals_trickle_into_an_existing_database(small_store: Store, db_path: Path, capsys):
    before = queue_count(small_store.db, QueueFilter(statuses=()))
    assert main(["demo", "--db", str(db_path), "--arrivals", "3", "--interval", "0", "--seed", "1"]) == 0
    assert queue_count(small_store.db, QueueFilter(statuses=())) == before + 3
    assert capsys.readouterr().out.count("#") == 3


def test_kb_search_prints_hits(small_store: Store, db_path: Path, capsys):
    assert main(["kb", "search", "refund", "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert "[KB-2] When will I get my refund?" in out
    assert main(["kb", "search", "zzzz-nothing", "--db", str(db_path)]) == 1


def test_audit_verify_reports_a_broken_chain(small_store: Store, db_path: Path, capsys):
    assert main(["audit", "verify", "--db", str(db_path)]) == 0
    assert "intact" in capsys.readouterr().out
    small_store.close()
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET actor = 'mallory' WHERE id = 1")
    conn.commit()
    conn.close()
    assert main(["audit", "verify", "--db", str(db_path)]) == 3
    assert "broken at row 1" in capsys.readouterr().out


@pytest.mark.parametrize("content", [b"hello, I am a text file\n", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64])
def test_app_refuses_a_file_that_is_not_a_database(tmp_path: Path, content: bytes):
    bad = tmp_path / "bad.db"
    bad.write_bytes(content)
    proc = run_cli("--db", str(bad))
    assert proc.returncode == 2
    assert "not an SQLite database" in proc.stderr
    assert bad.read_bytes() == content


def test_app_refuses_a_newer_schema(tmp_path: Path):
    path = tmp_path / "future.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = path.read_bytes()
    proc = run_cli("--db", str(path))
    assert proc.returncode == 2
    assert "newer Agent Assist" in proc.stderr
    assert path.read_bytes() == before


def test_app_starts_and_quits_offscreen(small_store: Store, db_path: Path, tmp_path: Path):
    """The real entry point opens the window and exits cleanly (Qt quits on its own here)."""
    script = (
        "import sys\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "import agent_assist.app as app\n"
        "orig = app.make_application\n"
        "def make(argv=None):\n"
        "    a = orig(argv)\n"
        "    QTimer.singleShot(800, lambda: [w.close() for w in QApplication.topLevelWidgets()])\n"
        "    return a\n"
        "app.make_application = make\n"
        "from agent_assist.cli import main\n"
        f"sys.exit(main(['--db', {str(db_path)!r}, '--user', 'sam']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    assert "Fatal" not in proc.stderr
