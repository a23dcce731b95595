"""``team import-sqlite``: a desk's file moves to the server whole, its chain continued, or not at all."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from agent_assist.store import Store, drafts, people, tickets
from agent_assist.store.bulk import import_dataset
from agent_assist.store.postgres import TeamDatabaseError
from agent_assist.store.postgres import audit as team_audit
from agent_assist.store.postgres.import_sqlite import ImportRefusedError, import_file
from tests.conftest import small_dataset
from tests.store.postgres.conftest import make_team
from tests.store.postgres.test_team_cli import run_cli


def make_desk(path: Path, agent: str = "alex") -> dict:
    """A desk file with tickets, articles, a sent reply citing an article, a four-eyes request and flags."""
    with Store(path) as store:
        import_dataset(store, small_dataset(), label=f"test data of {path.name}")
        people.save_profile(store, "sue", "supervisor", actor="sue")  # the desk's first supervisor
        people.save_profile(store, agent, "agent", actor="sue")
        first, second = [r[0] for r in store.db.conn.execute("SELECT id FROM tickets ORDER BY id LIMIT 2")]
        article = store.db.conn.execute("SELECT id FROM articles ORDER BY id DESC LIMIT 1").fetchone()[0]
        sent = drafts.suggest(store, first, f"Hi Tom, see [KB-{article}].", actor="alex", source="offline",
                              citations=[article])
        drafts.approve_and_send(store, sent, f"Hi Tom, see [KB-{article}].", actor="alex")
        tickets.set_triage(store, second, [("fraud", "a purchase they do not recognise")], sentiment="negative")
        waiting = drafts.suggest(store, second, "Hej Anna!", actor="alex", source="offline")
        assert drafts.approve(store, waiting, "Hej Anna!", actor="alex") == "awaiting_supervisor"
        counts = {t: store.db.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("customers", "tickets", "messages", "articles", "drafts", "ticket_flags", "audit")}
        return {"counts": counts, "first": first, "second": second, "article": article, "sent": sent,
                "waiting": waiting}


@pytest.fixture
def team(postgres_server):
    t = make_team(postgres_server)
    yield t
    t.drop()


def test_a_desk_moves_to_the_server_with_its_chain(tmp_path, team):
    desk = make_desk(tmp_path / "desk.db")
    report = import_file(team.admin_url, tmp_path / "desk.db")
    for table in ("tickets", "messages", "articles", "drafts", "ticket_flags", "customers"):
        assert report.counts[table] == desk["counts"][table], table
    assert report.audit_rows == desk["counts"]["audit"]
    admin = team.admin()
    assert team_audit.verify(admin).ok
    # into an empty server, ids stay as they were: the [KB-n] in the sent reply still names its article
    body, direction = admin.execute("SELECT body_text, direction FROM messages WHERE ticket_id = %s ORDER BY id DESC "
                                    "LIMIT 1", [desk["first"]]).fetchone()
    assert (body, direction) == (f"Hi Tom, see [KB-{desk['article']}].", "outbound")
    assert json.loads(admin.execute("SELECT citations FROM drafts WHERE id = %s", [desk["sent"]]).fetchone()[0]) == \
        [desk["article"]]
    # the four-eyes request carries over and the server's rules apply to it now
    sue = team.connect(team.supervisor)
    assert sue.execute("SELECT flags FROM tickets WHERE id = %s", [desk["second"]]).fetchone()[0] == '["fraud"]'
    assert sue.execute("SELECT approve_draft(%s, 'Hej Anna!')", [desk["waiting"]]).fetchone()[0] == "approved"
    imported = json.loads(admin.execute("SELECT details FROM audit WHERE action = 'desk.imported'").fetchone()[0])
    assert imported["source"] == "desk.db" and imported["audit_rows"] == desk["counts"]["audit"]
    # new rows after the import get fresh ids, not ones the desk used
    alex = team.connect(team.add("alex", "agent"))
    fresh = alex.execute("INSERT INTO tickets (subject) VALUES ('after the move') RETURNING id").fetchone()[0]
    assert fresh > max(desk["first"], desk["second"])


def test_a_second_desk_gets_new_ids_and_shares_customers_and_articles(tmp_path, team):
    first = make_desk(tmp_path / "one.db")
    make_desk(tmp_path / "two.db", agent="sam")  # another history: another chain
    import_file(team.admin_url, tmp_path / "one.db")
    report = import_file(team.admin_url, tmp_path / "two.db")
    assert report.matched["customers"] == first["counts"]["customers"]  # the same e-mail addresses
    assert report.matched["articles"] == first["counts"]["articles"]  # the same (source, key, locale)
    assert report.offsets["tickets"] == max(first["first"], first["second"], 4)
    admin = team.admin()
    assert admin.execute("SELECT count(*) FROM tickets").fetchone()[0] == 2 * first["counts"]["tickets"]
    assert admin.execute("SELECT count(*) FROM articles").fetchone()[0] == first["counts"]["articles"]
    assert team_audit.verify(admin).ok


def test_the_same_trail_is_not_imported_twice(tmp_path, team):
    make_desk(tmp_path / "desk.db")
    import_file(team.admin_url, tmp_path / "desk.db")
    admin = team.admin()
    before = admin.execute("SELECT count(*) FROM tickets").fetchone()[0]
    with pytest.raises(ImportRefusedError, match="was imported here already"):
        import_file(team.admin_url, tmp_path / "desk.db")
    assert admin.execute("SELECT count(*) FROM tickets").fetchone()[0] == before


def test_a_tampered_desk_trail_is_refused_and_nothing_is_written(tmp_path, team):
    make_desk(tmp_path / "desk.db")
    raw = sqlite3.connect(tmp_path / "desk.db")
    raw.execute("DROP TRIGGER audit_no_update")
    raw.execute("UPDATE audit SET actor = 'mallory' WHERE id = 3")
    raw.commit()
    raw.close()
    with pytest.raises(ImportRefusedError, match=r"broken at row 3 .*nothing was imported"):
        import_file(team.admin_url, tmp_path / "desk.db")
    assert team.admin().execute("SELECT count(*) FROM tickets").fetchone()[0] == 0


def test_a_failure_half_way_keeps_nothing(tmp_path, team):
    make_desk(tmp_path / "desk.db")
    raw = sqlite3.connect(tmp_path / "desk.db")
    # a message of a ticket that is not there (a raw connection does not check foreign keys): the
    # server refuses it after customers, articles and tickets went in
    raw.execute("INSERT INTO messages (ticket_id, direction, author, body_text, created_at) "
                "VALUES (999, 'inbound', 'x', 'orphan', '2026-01-01T00:00:00Z')")
    raw.commit()
    raw.close()
    with pytest.raises(TeamDatabaseError, match=r"^Importing desk\.db failed and nothing was kept: .*foreign key"):
        import_file(team.admin_url, tmp_path / "desk.db")
    admin = team.admin()
    assert [admin.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("tickets", "customers", "articles")] \
        == [0, 0, 0]
    assert admin.execute("SELECT count(*) FROM audit WHERE action = 'desk.imported'").fetchone()[0] == 0
    assert team_audit.verify(admin).ok
    # and the triggers that the import quiets are back on
    alex = team.connect(team.add("alex", "agent"))
    ticket = alex.execute("INSERT INTO tickets (subject) VALUES ('x') RETURNING id").fetchone()[0]
    assert alex.execute("SELECT action FROM audit WHERE ticket_id = %s", [ticket]).fetchall() == [("ticket.created",)]


def test_import_from_the_command_line(tmp_path, team):
    make_desk(tmp_path / "desk.db")
    done = run_cli("team", "import-sqlite", str(tmp_path / "desk.db"), "--db", team.admin_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Imported desk.db: ") and "the server's audit chain verifies" in done.stdout
    missing = run_cli("team", "import-sqlite", str(tmp_path / "nope.db"), "--db", team.admin_url)
    assert missing.returncode == 2 and missing.stderr.strip() == f"agent-assist: {tmp_path / 'nope.db'} does not exist."


def test_a_draft_with_broken_citations_is_named(tmp_path, team):
    desk = make_desk(tmp_path / "desk.db")
    raw = sqlite3.connect(tmp_path / "desk.db")
    raw.execute("UPDATE drafts SET citations = 'not json' WHERE id = ?", [desk["sent"]])
    raw.commit()
    raw.close()
    with pytest.raises(ImportRefusedError, match=rf"Draft {desk['sent']} in desk\.db has citations that are not"):
        import_file(team.admin_url, tmp_path / "desk.db")
    assert team.admin().execute("SELECT count(*) FROM tickets").fetchone()[0] == 0
