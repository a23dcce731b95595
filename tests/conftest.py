"""Shared fixtures: every test gets its own data, config and keyring folders."""

from __future__ import annotations

import faulthandler
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from agent_assist.store import Store  # noqa: E402
from agent_assist.timefmt import to_iso  # noqa: E402
from tests.backends import BACKENDS, desk_factory, make_store, seed  # noqa: E402
from tests.backends import private_team, team_database, team_template  # noqa: E402,F401  (fixtures)
from tests.postgres_server import postgres_server  # noqa: E402,F401  (a real PostgreSQL, session-wide)


def pytest_sessionstart(session) -> None:
    """A crash must print every thread's stack: pytest's faulthandler plugin does that; if it
    was turned off (-p no:faulthandler), enable it here on a copy of the real stderr."""
    if not faulthandler.is_enabled():
        faulthandler.enable(file=os.fdopen(os.dup(2), "w"), all_threads=True)


_CURRENT_TEST_FILE = os.environ.get("AGENT_ASSIST_CURRENT_TEST_FILE")


def pytest_runtest_logstart(nodeid: str, location) -> None:
    """Note the running test where .ci/run can read it: an abort (SIGABRT, SIGSEGV) then names it."""
    if _CURRENT_TEST_FILE:
        with open(_CURRENT_TEST_FILE, "w", encoding="utf-8") as fh:
            fh.write(nodeid + "\n")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"), ("XDG_STATE_HOME", "state"),
                     ("XDG_CACHE_HOME", "cache")):
        (home / sub).mkdir()
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("AGENT_ASSIST_DB", raising=False)
    monkeypatch.delenv("AGENT_ASSIST_USER", raising=False)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "assist.db"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked ``both_backends`` runs once on SQLite and once on PostgreSQL (see tests/backends.py);
    one also marked ``team_only`` runs on PostgreSQL alone (several desks, the server's rules), one
    marked ``single_desk`` on SQLite alone."""
    node = metafunc.definition
    if "backend" not in metafunc.fixturenames or not node.get_closest_marker("both_backends"):
        return
    if node.get_closest_marker("single_desk"):
        return
    if node.get_closest_marker("team_only"):
        metafunc.parametrize("backend", ["postgres"], indirect=True)
    else:
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture
def store(backend: str, request: pytest.FixtureRequest):
    s = make_store(backend, request)
    yield s
    s.close()


@pytest.fixture
def desk(store, backend: str, request: pytest.FixtureRequest):
    """``desk(name, role=None)``: the store as that person works through it (tests/backends.py)."""
    return desk_factory(store, backend, request)


def _iso(hours_ago: float) -> str:
    return to_iso(datetime.now(UTC) - timedelta(hours=hours_ago))


SMALL_ARTICLES = [
    {"key": "late-fees", "locale": "en", "section": "Payments", "title": "How late fees work",
     "body": "If a payment fails we retry after three days; a late fee of up to 5 EUR applies only after the "
             "retry fails.\n\nYou can avoid the fee by paying early in the app."},
    {"key": "refund-status", "locale": "en", "section": "Refunds & returns", "title": "When will I get my refund?",
     "body": "Refunds show within 5 business days after the merchant registers your return.\n\n"
             "Check the purchase in the app to see the refund status."},
    {"key": "refund-status", "locale": "sv", "section": "Refunds & returns", "title": "När får jag min återbetalning?",
     "body": "Återbetalningen syns inom 5 bankdagar efter att butiken har registrerat din retur.\n\n"
             "Du ser status i appen."},
    {"key": "fraud", "locale": "en", "section": "Account & security", "title": "I don't recognise a purchase",
     "body": "Tell us right away; we pause the payments while we investigate an unauthorised purchase.\n\n"
             "We may ask you to confirm your identity."},
    {"key": "pay-early", "locale": "en", "section": "Payments", "title": "Paying early",
     "body": "You can pay any instalment early in the app at no extra cost.\n\nOpen the purchase and choose Pay now."},
]


def small_dataset() -> dict:
    """A handful of tickets and articles, enough for fast core and UI tests."""
    customers = [
        {"ref": 0, "name": "Anna Lindqvist", "email": "anna@example.se", "language": "sv"},
        {"ref": 1, "name": "Tom Baker", "email": "tom@example.co.uk", "language": "en"},
        {"ref": 2, "name": "Maria García", "email": "maria@example.es", "language": "es"},
    ]
    tickets = [
        {"customer_ref": 1, "subject": "Late fee charged twice", "status": "new", "priority": "high",
         "channel": "email", "language": "en", "assignee": None, "sla_due_at": _iso(-3), "tags": ["fees"],
         "topic": "late-fees", "created_at": _iso(5), "updated_at": _iso(5),
         "messages": [{"direction": "inbound", "author": "Tom Baker", "created_at": _iso(5),
                       "body_text": "Hi, I was charged a late fee although my payment failed only because of "
                                    "the bank. Please remove the late fee."}]},
        {"customer_ref": 0, "subject": "Var är min återbetalning?", "status": "open", "priority": "normal",
         "channel": "email", "language": "sv", "assignee": "alex", "sla_due_at": _iso(-0.5), "tags": ["refund"],
         "topic": "refund-status", "created_at": _iso(20), "updated_at": _iso(2),
         "messages": [
             {"direction": "inbound", "author": "Anna Lindqvist", "created_at": _iso(20),
              "body_text": "Hej! Jag returnerade skorna för två veckor sedan men har inte fått min återbetalning."},
             {"direction": "outbound", "author": "sam", "created_at": _iso(10),
              "body_text": "Hej Anna, kan du skicka ordernumret?"},
             {"direction": "inbound", "author": "Anna Lindqvist", "created_at": _iso(2),
              "body_text": "Ordernummer 55123. Återbetalning saknas fortfarande.",
              "body_html": "<p>Ordernummer <b>55123</b>.<script>alert(1)</script>"
                           "<img src='https://tracker.example.com/p.gif'></p>"}]},
        {"customer_ref": 2, "subject": "Compra no reconocida", "status": "pending", "priority": "urgent",
         "channel": "chat", "language": "es", "assignee": "sam", "sla_due_at": _iso(1), "tags": ["fraud"],
         "topic": "fraud", "created_at": _iso(30), "updated_at": _iso(1),
         "messages": [{"direction": "inbound", "author": "Maria García", "created_at": _iso(30),
                       "body_text": "No reconozco una compra de 300 EUR. ¿Es fraude?"},
                      {"direction": "outbound", "author": "sam", "created_at": _iso(1),
                       "body_text": "Hemos pausado los pagos mientras investigamos."}]},
        {"customer_ref": 1, "subject": "Can I pay early?", "status": "solved", "priority": "low",
         "channel": "web", "language": "en", "assignee": "alex", "sla_due_at": _iso(40), "tags": [],
         "topic": "pay-early", "created_at": _iso(60), "updated_at": _iso(50),
         "messages": [{"direction": "inbound", "author": "Tom Baker", "created_at": _iso(60),
                       "body_text": "Can I pay my instalment early?"},
                      {"direction": "outbound", "author": "alex", "created_at": _iso(50),
                       "body_text": "Yes, open the purchase and choose Pay now."}]},
    ]
    return {"articles": SMALL_ARTICLES, "customers": customers, "tickets": tickets}


@pytest.fixture
def small_store(store: Store) -> Store:
    seed(store, small_dataset())
    return store
