"""Logging: a rotating file, customer data and secrets scrubbed, and diagnostics without either."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from agent_assist import __version__, logs
from agent_assist.store import Store

CUSTOMER_EMAIL = "anna.lindqvist@example.se"
CARD = "4111 1111 1111 1111"
API_KEY = "sk-proj-Zq3XbT9uKc2LmN8pQr4sVw6yA1bC"


@pytest.fixture
def log_setup(tmp_path: Path):
    """setup_logging into tmp_path, and the root logger put back as it was afterwards."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    noisy = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "openai", "urllib3")}

    def setup(**kwargs) -> Path:
        return logs.setup_logging(log_dir=tmp_path / "logs", console=False, **kwargs)

    yield setup
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    for name, lvl in noisy.items():
        logging.getLogger(name).setLevel(lvl)


def read_logs(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return "".join(p.read_text(encoding="utf-8") for p in sorted(path.parent.glob(path.name + "*")))


def test_setup_logging_writes_a_formatted_file_in_the_given_folder(log_setup, tmp_path: Path):
    path = log_setup()
    assert path == tmp_path / "logs" / "agent-assist.log"
    logging.getLogger("agent_assist.test").info("queue loaded: %d tickets", 42)
    logging.getLogger("agent_assist.test").debug("not at INFO")
    text = read_logs(path)
    line = text.strip().splitlines()[-1]
    assert "INFO" in line and "agent_assist.test" in line and "queue loaded: 42 tickets" in line
    assert line[:4].isdigit()  # starts with the time
    assert "not at INFO" not in text


def test_setup_logging_twice_replaces_its_own_handlers_only(log_setup):
    before = len(logging.getLogger().handlers)
    log_setup()
    log_setup()
    assert len(logging.getLogger().handlers) == before + 1


def test_the_log_rotates_and_keeps_a_bounded_number_of_files(log_setup):
    path = log_setup(max_bytes=2_000, backup_count=3)
    log = logging.getLogger("agent_assist.rotation")
    for i in range(400):
        log.info("line %04d %s", i, "x" * 40)
    files = sorted(path.parent.iterdir())
    assert path.with_name("agent-assist.log.1") in files
    assert len(files) == 4  # the current file and three old ones
    assert all(f.stat().st_size <= 2_000 + 200 for f in files)
    assert "line 0399" in path.read_text(encoding="utf-8")  # the newest line is in the current file


def test_customer_data_and_secrets_are_scrubbed_at_info(log_setup):
    path = log_setup()
    log = logging.getLogger("agent_assist.assist.provider")
    log.info("reply to %s about card %s", CUSTOMER_EMAIL, CARD)
    log.warning("request failed with key %s", API_KEY)
    log.info("headers: {'Authorization': 'Bearer %s', 'Accept': 'text/event-stream'}", API_KEY)
    log.info("Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345")
    log.error("GET https://llm.example.com/v1/models?api_key=abc123secret&x=1")
    log.info("customer phone +46 70 123 45 67, IBAN SE45 5000 0000 0583 9825 7466, account 12345678901")
    text = read_logs(path)
    for secret in (CUSTOMER_EMAIL, CARD, "4111", API_KEY, "Zq3XbT9", "abcdefghijklmnop", "abc123secret",
                   "70 123 45 67", "5000 0000", "12345678901"):
        assert secret not in text
    for placeholder in ("[EMAIL]", "[CARD]", "[API_KEY]", "Authorization': '[REDACTED]'", "api_key=[REDACTED]",
                        "[PHONE]", "[IBAN]", "[NUMBER]"):
        assert placeholder in text
    assert "text/event-stream" in text  # what is not a secret stays readable


def test_tracebacks_and_other_loggers_are_scrubbed_too(log_setup):
    path = log_setup()
    try:
        raise ValueError(f"could not send to {CUSTOMER_EMAIL} with {API_KEY}")
    except ValueError:
        logging.getLogger("httpx").exception("boom")  # a third-party logger, through the root handlers
        logging.getLogger("agent_assist").exception("send failed")
    text = read_logs(path)
    assert "Traceback" in text and "ValueError" in text
    assert CUSTOMER_EMAIL not in text and API_KEY not in text


def test_ordinary_facts_stay_readable():
    line = ("ticket #12345 opened at 2026-05-01 12:00:03; 100000 tickets in 1.234 s; Qt 6.11.3; "
            "Linux-5.15.0-1057-azure; max_tokens=512; port 8080")
    assert logs.scrub(line) == line


def test_a_bad_format_string_does_not_lose_the_record():
    record = logging.LogRecord("agent_assist", logging.INFO, __file__, 1, "two args %s %s", (CUSTOMER_EMAIL,), None)
    assert logs.ScrubFilter().filter(record) is True
    assert "unformattable" in record.getMessage() and CUSTOMER_EMAIL not in record.getMessage()


def test_a_record_is_scrubbed_once_even_with_several_handlers():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "mail %s", (CUSTOMER_EMAIL,), None)
    scrub_filter = logs.ScrubFilter()
    scrub_filter.filter(record)
    first = record.getMessage()
    scrub_filter.filter(record)
    assert record.getMessage() == first == "mail [EMAIL]"


def test_an_unwritable_log_folder_falls_back_to_stderr(tmp_path: Path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        path = logs.setup_logging(log_dir=blocker / "logs", console=False)
        assert path == blocker / "logs" / "agent-assist.log"
        assert "logging to stderr only" in capsys.readouterr().err
        assert any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
                   for h in root.handlers if h not in handlers)
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)


# -- diagnostics ------------------------------------------------------------------------------
@pytest.mark.both_backends
def test_diagnostics_has_versions_paths_and_counts_but_no_customer_data(small_store: Store, monkeypatch):
    monkeypatch.setenv("AGENT_ASSIST_API_KEY", API_KEY)
    text = logs.diagnostics(store=small_store, extra={"Qt (runtime)": "6.9.9"})
    assert "Agent Assist:" in text and __version__ in text
    assert "Python:" in text and "SQLite:" in text and "FTS5: yes" in text
    assert "Database:" in text and str(small_store.path).rsplit("@", 1)[-1] in text  # a server: without who
    assert "Data folder:" in text and "Config folder:" in text and "Log folder:" in text
    assert f"Schema version: {small_store.schema_version()}".replace(" ", "") in text.replace(" ", "")
    assert "Tickets:" in text and "Articles:" in text and "Qt (runtime):" in text
    counts = {line.split(":")[0]: line.split(":", 1)[1].strip() for line in text.splitlines() if ":" in line}
    assert counts["Tickets"] == "4"
    # nothing the customers wrote, who they are, or any key
    for private in ("tom@example.co.uk", "anna@example.se", "Tom Baker", "Late fee charged twice",
                    "återbetalning", API_KEY, "sk-"):
        assert private not in text


def test_diagnostics_never_creates_or_changes_a_database(tmp_path: Path):
    missing = tmp_path / "nothing-here.db"
    text = logs.diagnostics(missing)
    assert "does not exist yet" in text and not missing.exists()
    foreign = tmp_path / "foreign.db"
    foreign.write_bytes(b"this is not sqlite at all, just some bytes" * 10)
    before = foreign.read_bytes()
    assert "cannot be read" in logs.diagnostics(foreign)
    assert foreign.read_bytes() == before


def test_diagnostics_reads_a_closed_database_read_only(tmp_path: Path, small_store: Store):
    path = small_store.path
    small_store.close()
    mtime = path.stat().st_mtime_ns
    text = logs.diagnostics(path)
    assert "Tickets:" in text and "Schema version:" in text
    assert path.stat().st_mtime_ns == mtime
    with sqlite3.connect(path) as conn:  # and it left no lock behind
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    conn.close()
