"""A team desk's local replica of the knowledge base (store/knowledge_replica.py, team migration 011).

Everything here runs against a real team database on the session's PostgreSQL; a desk's own SQLite
file has no server to copy from, so no test here is ``both_backends``. The server-stopping test starts
a private cluster (stopping the shared one would break the other tests).
"""

from __future__ import annotations

import os
import stat

import psycopg
import pytest

from agent_assist.knowledge import search as kb_search
from agent_assist.knowledge.articles import add_articles, get_article
from agent_assist.knowledge.replica import knowledge_db
from agent_assist.store import Store, articles
from agent_assist.store.knowledge_replica import KnowledgeReplica, replica_path, sync
from agent_assist.store.postgres import team
from agent_assist.store.postgres.adapter import ServerUnavailableError
from agent_assist.store.postgres.store import PostgresStore
from tests.backends import PASSWORD, TeamDatabase

ARTICLES = [
    {"key": "refund", "title": "Refund a duplicate charge", "body": "Refunds reach the card within 3 days.",
     "locale": "en", "section": "Billing"},
    {"key": "password", "title": "Reset your password", "body": "Use the link on the sign-in page.",
     "locale": "en", "section": "Account"},
    {"key": "aterbetalning", "title": "Återbetalning av dubbeldebitering",
     "body": "Återbetalningen syns på kortet inom tre dagar.", "locale": "sv", "section": "Billing"},
    {"key": "kuendigung", "title": "Kündigung des Vertrags", "body": "Die Rückerstattung erfolgt automatisch.",
     "locale": "de", "section": "Billing"},
]


def bulk(n: int, start: int = 0) -> list[dict]:
    return [{"key": f"bulk-{i}", "title": f"Shipping question {i}", "body": f"Parcel number {i} travels by road.",
             "locale": "en", "section": "Shipping"} for i in range(start, start + n)]


@pytest.fixture
def replica(tmp_path):
    with KnowledgeReplica(tmp_path / "replica.db") as made:
        yield made


def titles(db, query: str) -> list[str]:
    return [h.title for h in kb_search.search(db, query)]


def server_rows(store) -> list[tuple]:
    return [tuple(r) for r in store.db.conn.execute(
        "SELECT id, key, title, body, section, locale, source, url, content_hash, updated_at, body_html "
        "FROM articles ORDER BY id")]


def local_rows(replica: KnowledgeReplica) -> list[tuple]:
    return [tuple(r) for r in replica.db.conn.execute(
        "SELECT id, key, title, body, section, locale, source, url, content_hash, updated_at, body_html "
        "FROM articles ORDER BY id")]


def test_first_sync_copies_everything_with_progress(team_database: TeamDatabase, replica) -> None:
    alex = team_database.desk("alex")
    add_articles(alex, ARTICLES + bulk(2500), actor="alex")
    assert replica.synced_at() is None and replica.last_seq() == 0
    seen: list[tuple[int, int]] = []
    result = sync(alex, replica, batch=1000, progress=lambda done, total: seen.append((done, total)))
    assert (result.added, result.changed, result.removed, result.full) == (2504, 0, 0, True)
    assert result.transferred == 2504
    assert local_rows(replica) == server_rows(alex)
    assert seen[0] == (0, 2504) and seen[-1] == (2504, 2504) and len(seen) == 4  # three batches
    assert replica.synced_at() == result.at and replica.last_seq() == result.last_seq > 0
    # the index is a desk's own: every word indexed, the vocabulary and typos work
    replica.db.conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
    assert titles(replica.db, "refnd") == ["Refund a duplicate charge"]  # a typo, only a desk's FTS5 reads it
    assert titles(replica.db, "rückerstattung") == ["Kündigung des Vertrags"]  # the end of a compound
    # nothing new: a second sync reads nothing
    again = sync(alex, replica)
    assert (again.transferred, again.last_seq, again.full) == (0, result.last_seq, False)


def test_changes_at_another_desk_arrive_and_only_they_are_read(team_database: TeamDatabase, replica) -> None:
    alex, priya = team_database.desk("alex"), team_database.desk("priya")
    add_articles(alex, ARTICLES + bulk(300), actor="alex")
    sync(alex, replica)
    ids = {k: i for i, k in alex.db.conn.execute("SELECT id, key FROM articles")}

    # at priya's desk: one changed, one added, one removed
    with priya.transaction() as db:
        articles.update(db, ids["password"], {"title": "Reset a forgotten password", "body": "Use the e-mail link."})
        articles.insert(db, [{"key": "new", "title": "Cancel an order", "body": "Orders cancel until they ship.",
                              "locale": "en", "section": "Orders"}])
        articles.delete(db, ids["refund"])
    result = sync(alex, replica)
    assert (result.added, result.changed, result.removed, result.transferred) == (1, 1, 1, 3)
    assert local_rows(replica) == server_rows(alex)
    assert titles(replica.db, "forgotten password") == ["Reset a forgotten password"]
    assert titles(replica.db, "cancel order") == ["Cancel an order"]
    assert titles(replica.db, "duplicate charge") == []

    # many changes: only those, in batches
    with priya.transaction() as db:
        for i in range(250):
            articles.update(db, ids[f"bulk-{i}"], {"body": f"Parcel {i} now travels by rail."})
    result = sync(alex, replica, batch=100)
    assert (result.added, result.changed, result.removed, result.transferred) == (0, 250, 0, 250)
    assert local_rows(replica) == server_rows(alex)
    assert len(kb_search.search(replica.db, "rail", limit=300)) == 250


def test_a_removed_article_that_comes_back_is_there(team_database: TeamDatabase, replica) -> None:
    alex = team_database.desk("alex")
    add_articles(alex, ARTICLES, actor="alex")
    sync(alex, replica)
    row = alex.db.conn.execute("SELECT id, key, title, body FROM articles WHERE key = 'refund'").fetchone()
    with alex.transaction() as db:
        articles.delete(db, row[0])
    with alex.transaction() as db:  # an import brings it back under the same id
        db.conn.execute("INSERT INTO articles (id, key, title, body) VALUES (?, ?, ?, ?)", tuple(row))
    sync(alex, replica)
    assert local_rows(replica) == server_rows(alex)
    assert replica.count() == 4


def test_an_interrupted_first_sync_goes_on_where_it_stopped(team_database: TeamDatabase, replica) -> None:
    alex = team_database.desk("alex")
    add_articles(alex, bulk(1000), actor="alex")
    calls = 0

    def stop_after_two_batches() -> bool:
        nonlocal calls
        calls += 1
        return calls > 2

    from agent_assist.store.knowledge_replica import SyncCancelled

    with pytest.raises(SyncCancelled):
        sync(alex, replica, batch=300, cancel=stop_after_two_batches)
    assert replica.count() == 600 and replica.synced_at() is None  # half a copy is never searched
    rest = sync(alex, replica, batch=300)
    assert rest.added == 400 and replica.count() == 1000 and replica.synced_at() is not None
    replica.db.conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
    assert len(kb_search.search(replica.db, "parcel road", limit=2000)) == 1000  # every article indexed
    assert titles(replica.db, "shipping question 999")[0] == "Shipping question 999"  # then those with some words


def test_search_reads_the_replica_once_it_has_synced(team_database: TeamDatabase, replica) -> None:
    alex = team_database.desk("alex")
    add_articles(alex, ARTICLES, actor="alex")
    assert knowledge_db(alex, replica) is alex.db  # never synced: the server answers
    assert titles(knowledge_db(alex, replica), "refnd") == []  # the server reads no typos
    sync(alex, replica)
    assert knowledge_db(alex, replica) is replica.db
    assert titles(knowledge_db(alex, replica), "refnd") == ["Refund a duplicate charge"]
    assert knowledge_db(alex, None) is alex.db


def test_the_replica_is_private_and_named_without_the_password(team_database: TeamDatabase, tmp_path) -> None:
    alex = team_database.desk("alex")
    path = replica_path(alex.path, tmp_path)
    assert PASSWORD.split()[0] not in str(path) and "alex" not in path.name
    assert path == replica_path(team_database.desk("sue").path, tmp_path)  # the team's articles, one copy
    with KnowledgeReplica(path) as made:
        sync(alex, made)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


def test_same_articles_schema_as_a_desk_file(tmp_path, replica) -> None:
    with Store(tmp_path / "desk.db") as desk:
        def schema(db, name):
            return db.conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
        def columns(db):
            return db.conn.execute("PRAGMA table_info(articles)").fetchall()
        assert columns(replica.db) == columns(desk.db)
        for name in ("articles_fts", "articles_fts_vocab", "articles_ai", "articles_ad", "articles_au",
                     "idx_articles_source_key_locale"):
            assert " ".join(schema(replica.db, name).split()) == " ".join(schema(desk.db, name).split()), name


@pytest.mark.parametrize("damage", ["garbage", "broken pages"])
def test_a_damaged_replica_is_made_again_with_a_sentence(team_database: TeamDatabase, tmp_path, damage) -> None:
    alex = team_database.desk("alex")
    add_articles(alex, ARTICLES + bulk(2000), actor="alex")
    path = tmp_path / "replica.db"
    with KnowledgeReplica(path) as made:
        sync(alex, made)
    if damage == "garbage":
        path.write_bytes(b"this is not a database at all" * 100)
    else:
        size = path.stat().st_size
        with path.open("r+b") as fh:
            for offset in range(8192, size, 8192):
                fh.seek(offset)
                fh.write(b"\xff" * 4096)
    with KnowledgeReplica(path) as again:
        result = sync(alex, again)
        assert "could not be read" in again.notice and "made again from the team server" in again.notice
        assert result.full and result.added == 2004
        assert local_rows(again) == server_rows(alex)
    assert list(tmp_path.glob("replica.damaged-*.db"))  # kept for a look, never deleted


def test_an_agent_cannot_write_the_change_tables_by_hand(team_database: TeamDatabase, replica) -> None:
    alex = team_database.desk("alex")
    add_articles(alex, ARTICLES, actor="alex")
    sync(alex, replica)
    with psycopg.connect(team_database.url_for("alex"), autocommit=True,
                         options="-c search_path=agent_assist") as conn:
        for statement in ("INSERT INTO article_removals (article_id, change_seq) VALUES (1, 999999)",
                          "DELETE FROM article_removals", "UPDATE article_removals SET change_seq = 0",
                          "SELECT nextval('article_change_seq')", "SELECT setval('article_change_seq', 1)",
                          "SELECT article_change_number()"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        # a number sent with an update is overwritten: the change is still seen by the next sync
        conn.execute("UPDATE articles SET title = 'Refund twice', change_seq = 1 WHERE key = 'refund'")
        assert conn.execute("SELECT change_seq FROM articles WHERE key = 'refund'").fetchone()[0] > replica.last_seq()
        conn.execute("INSERT INTO articles (title, body, change_seq) VALUES ('Sneaky', 'text', -5)")
    result = sync(alex, replica)
    assert (result.added, result.changed) == (1, 1)
    assert titles(replica.db, "refund twice") == ["Refund twice"]



def test_search_and_articles_work_with_the_server_stopped(private_team: TeamDatabase, replica) -> None:
    alex = private_team.desk("alex")
    add_articles(alex, ARTICLES, actor="alex")
    sync(alex, replica)
    refund = alex.db.conn.execute("SELECT id FROM articles WHERE key = 'refund'").fetchone()[0]
    private_team.server.stop()
    with pytest.raises(ServerUnavailableError):
        sync(alex, replica)
    db = knowledge_db(alex, replica)
    assert titles(db, "refnd") == ["Refund a duplicate charge"]
    assert get_article(db, refund).answer() == "Refunds reach the card within 3 days."
    assert [h.title for h in kb_search.suggest_for_text(db, "I was charged twice, I want a refund", language="en")][0] \
        == "Refund a duplicate charge"
    private_team.server.resume()


def test_articles_emptied_by_the_owner_are_removed_from_the_replica(team_database: TeamDatabase, replica) -> None:
    alex = team_database.desk("alex")
    add_articles(alex, ARTICLES, actor="alex")
    sync(alex, replica)
    with psycopg.connect(team_database.admin_url, autocommit=True, options="-c search_path=agent_assist") as conn:
        with conn.transaction():
            conn.execute("SET LOCAL ROLE agent_assist_owner")
            conn.execute("TRUNCATE articles")
    result = sync(alex, replica)
    assert (result.removed, replica.count()) == (4, 0)


def test_articles_from_before_migration_7_get_numbers_and_reach_the_replica(postgres_server, monkeypatch,
                                                                           replica) -> None:
    from agent_assist.store.postgres import connect, migrations

    every = migrations.load()
    monkeypatch.setattr(migrations, "load", lambda: [m for m in every if m.version <= 6])  # a server not yet upgraded
    name = postgres_server.create_database("upgrade")
    try:
        team.init(postgres_server.url(name), "sue", PASSWORD)
        with connect(postgres_server.url(name), autocommit=True) as conn:
            assert migrations.current_version(conn) == 6
            with conn.transaction():
                conn.execute("SET LOCAL ROLE agent_assist_owner")
                conn.execute("INSERT INTO articles (title, body) "
                             "SELECT 'Old article ' || i, 'Written before the upgrade.' FROM generate_series(1, 5) i")
            trail = conn.execute("SELECT count(*) FROM audit").fetchone()[0]
            assert migrations.migrate(conn, every) == list(range(7, len(every) + 1))
            seqs = [r[0] for r in conn.execute("SELECT change_seq FROM articles ORDER BY id")]
            assert len(set(seqs)) == 5 and None not in seqs
            assert conn.execute("SELECT count(*) FROM audit").fetchone()[0] == trail  # numbering them changed nothing
        monkeypatch.undo()
        team.add_person(postgres_server.url(name), "alex", "agent", PASSWORD)
        with PostgresStore(postgres_server.url(name, user="alex", password=PASSWORD), listen=False) as alex:
            result = sync(alex, replica)
        assert (result.added, replica.count()) == (5, 5)
        assert titles(replica.db, "old article") == [f"Old article {i}" for i in range(1, 6)]
    finally:
        postgres_server.drop_database(name)


def test_a_replica_ahead_of_its_server_is_copied_again(team_database: TeamDatabase, tmp_path) -> None:
    alex = team_database.desk("alex")
    add_articles(alex, ARTICLES, actor="alex")
    with KnowledgeReplica(tmp_path / "replica.db") as made:
        sync(alex, made)
        with made.transaction() as db:  # as if copied from an earlier database of the same name
            db.conn.execute("UPDATE replica_state SET value = '999999' WHERE key = 'last_seq'")
            db.conn.execute("INSERT INTO articles (id, title, body) VALUES (424242, 'Gone long ago', 'x')")
        result = sync(alex, made)
        assert result.full and result.added == 4 and made.count() == 4
        assert "belongs to an earlier team database of the same name" in made.notice
        assert made.last_seq() < 999999 and titles(made.db, "gone long ago") == []


def test_a_team_desk_searches_its_replica_by_meaning_offline(team_database: TeamDatabase, replica) -> None:
    """The replica keeps its own vectors (made on the desk, never synced): a Polish question finds the
    English article, and a changed article on the server is embedded again after the next sync."""
    from agent_assist.knowledge import semantic
    from tests.knowledge.test_semantic import offline_layer

    layer = offline_layer()
    alex = team_database.desk("alex")
    add_articles(alex, ARTICLES, actor="alex")
    sync(alex, replica)
    assert layer.index_articles(replica).embedded == len(ARTICLES)
    polish = "Jak zresetować zapomniane hasło?"  # no Polish article
    assert "Reset your password" not in [h.title for h in kb_search.search(replica.db, polish, semantic=None)]
    assert [h.title for h in kb_search.search(replica.db, polish, limit=1, semantic=layer)] == ["Reset your password"]
    password = alex.db.conn.execute("SELECT id FROM articles WHERE key = 'password'").fetchone()[0]
    with alex.transaction() as db:
        articles.update(db, password, {"body": "Use the e-mail link to choose a new password."})
    sync(alex, replica)
    assert layer.index_articles(replica).embedded == 1  # the changed one only
    semantic.use(None)
