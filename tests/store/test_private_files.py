"""Customer data stays private on the desk: 0700 folders and 0600 files, on creation and at start."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from agent_assist import config, logs
from agent_assist.store import Store, private_files

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def _no_earlier_fixes():
    private_files._fixes.clear()  # what earlier tests fixed is not this test's start
    yield
    private_files._fixes.clear()


@pytest.fixture
def loose_umask():
    """The usual desktop umask (022), which makes new files 0644 and folders 0755 by default."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_database_its_wal_and_shm_and_its_folder_are_private(loose_umask):
    path = config.default_db_path()
    assert not path.parent.exists()
    with Store(path) as store:
        store.db.conn.execute("CREATE TABLE IF NOT EXISTS scratch (x)")  # a write: -wal and -shm exist now
        wal, shm = path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")
        assert wal.exists() and shm.exists()
        assert mode(path) == 0o600 and mode(wal) == 0o600 and mode(shm) == 0o600
        assert mode(path.parent) == 0o700


def test_an_existing_open_data_folder_and_database_are_fixed_at_start(loose_umask):
    path = config.default_db_path()
    Store(path).close()
    os.chmod(path.parent, 0o755)
    os.chmod(path, 0o644)
    with Store(path) as store:
        store.db.conn.execute("CREATE TABLE IF NOT EXISTS scratch (x)")
        assert mode(path.parent) == 0o700 and mode(path) == 0o600
        assert mode(path.with_name(path.name + "-wal")) == 0o600
        text = logs.diagnostics(store=store)
    line = next(li for li in text.splitlines() if li.startswith("Privacy:"))
    assert "private (folders 700, files 600)" in line
    assert "fixed at start" in line and "was 755, now 700" in line and "was 644, now 600" in line


def test_a_folder_the_person_chose_is_left_alone_but_the_file_is_private(tmp_path: Path, loose_umask):
    chosen = tmp_path / "projects"
    chosen.mkdir(mode=0o755)
    os.chmod(chosen, 0o755)
    with Store(chosen / "desk.db"):
        pass
    assert mode(chosen) == 0o755 and mode(chosen / "desk.db") == 0o600
    made = tmp_path / "new" / "deeper"
    with Store(made / "desk.db"):
        pass
    assert mode(made) == 0o700 and mode(made.parent) == 0o700  # folders we made are ours


def test_diagnostics_says_when_files_are_readable_by_others(tmp_path: Path, loose_umask):
    path = tmp_path / "desk.db"
    Store(path).close()
    os.chmod(path, 0o644)  # e.g. copied with cp after start
    line = next(li for li in logs.diagnostics(path).splitlines() if li.startswith("Privacy:"))
    assert "readable by others: desk.db 644" in line


def test_the_log_folder_and_every_log_file_are_private(tmp_path: Path, loose_umask):
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    log_dir = tmp_path / "logs"
    log_dir.mkdir(mode=0o755)
    os.chmod(log_dir, 0o755)
    old = log_dir / (logs.LOG_FILE + ".1")
    old.write_text("an old log\n")
    os.chmod(old, 0o644)
    try:
        path = logs.setup_logging(log_dir=log_dir, console=False, max_bytes=300, backup_count=2)
        for i in range(20):  # enough to rotate: each new file must be private too
            logging.getLogger("agent_assist.test").warning("line %d of the log, long enough to rotate soon", i)
        for handler in root.handlers:
            handler.flush()
        files = sorted(log_dir.iterdir())
        assert path in files and len(files) == 3
        assert mode(log_dir) == 0o700
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)


def test_a_file_owned_elsewhere_or_a_symlink_is_reported_not_an_error(tmp_path: Path):
    target = tmp_path / "elsewhere.txt"
    target.write_text("x")
    os.chmod(target, 0o644)
    link = tmp_path / "link.db"
    link.symlink_to(target)
    private_files.private_file(link)  # never follows a link to change someone else's file
    assert mode(target) == 0o644


def test_at_start_the_own_folders_and_their_files_are_made_private_again(loose_umask):
    data = config.data_dir()
    data.mkdir(parents=True)
    os.chmod(data, 0o755)
    demo = data / "demo.db"
    demo.write_bytes(b"")
    os.chmod(demo, 0o644)
    elsewhere = data.parent / "not-ours.txt"
    elsewhere.write_text("x")
    os.chmod(elsewhere, 0o644)
    private_files.secure_own_folders()
    assert mode(data) == 0o700 and mode(demo) == 0o600
    assert mode(elsewhere) == 0o644  # outside our folders: left alone
    assert any("demo.db was 644, now 600" in fix for fix in private_files.fixes_made())
