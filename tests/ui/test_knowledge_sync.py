"""A team desk's window keeps its knowledge replica in step and says how fresh it is (ui/knowledge_sync.py).

The window is driven as a person would: words typed in the knowledge search, the panel's sync line
read as shown. The offline test stops a real PostgreSQL, so it runs on a private cluster of its own.
"""

from __future__ import annotations

from agent_assist.knowledge.articles import add_articles
from agent_assist.store import Store, articles
from agent_assist.store.knowledge_replica import replica_path
from agent_assist.timefmt import parse_iso
from agent_assist.ui.knowledge_sync import synced_words
from tests.backends import TeamDatabase
from tests.knowledge.test_replica import ARTICLES, bulk


def search(qtbot, window, text: str) -> list[str]:
    window.knowledge.search_box.clear()
    qtbot.keyClicks(window.knowledge.search_box, text)
    with qtbot.waitSignal(window.searchShown, timeout=5000, check_params_cb=lambda q: q == text):
        pass
    return [h.title for h in window.knowledge.model.hits()]


def shown(window) -> str:
    label = window.knowledge.sync_status
    return label.text() if label.isVisible() else ""


def test_the_words_for_synced_and_offline() -> None:
    at = "2026-12-02T14:02:00Z"
    t = parse_iso(at).timestamp()
    assert synced_words(at, offline=False, now=t + 20) == "Knowledge synced just now"
    assert synced_words(at, offline=False, now=t + 150) == "Knowledge synced 2 min ago"
    assert synced_words(at, offline=False, now=t + 3 * 3600) == "Knowledge synced 3 h ago"
    local = parse_iso(at).astimezone().strftime("%H:%M")
    assert synced_words(at, offline=True, now=t + 60) == f"Offline: knowledge last synced {local} (search still works)"
    assert synced_words(at, offline=True, now=t + 3 * 86400).startswith(
        f"Offline: knowledge last synced {parse_iso(at).astimezone():%Y-%m-%d} ")
    assert synced_words(None, offline=True).startswith("Offline: knowledge is not on this desk yet")


def test_a_team_desk_syncs_at_start_and_when_another_desk_changes_articles(team_database: TeamDatabase,
                                                                           make_window, qtbot) -> None:
    alex, sue = team_database.desk("alex"), team_database.desk("sue")
    add_articles(sue, ARTICLES + bulk(1500), actor="sue")
    window = make_window(alex, "alex")
    seen: list[str] = []
    window.kb_sync.statusChanged.connect(seen.append)
    qtbot.waitUntil(lambda: shown(window) == "Knowledge synced just now", timeout=20000)
    assert window.kb_sync.last_result.added == 1504
    assert "Syncing knowledge… 1,000 of 1,504" in seen  # the first copy shows how far it is
    assert replica_path(alex.path).exists()
    assert search(qtbot, window, "refnd") == ["Refund a duplicate charge"]  # a typo: the replica's FTS5 answers

    # another desk adds and removes an article: the server announces it and the replica follows
    refund = alex.db.conn.execute("SELECT id FROM articles WHERE key = 'refund'").fetchone()[0]
    with sue.transaction() as db:
        articles.insert(db, [{"key": "gift", "title": "Gift card balance", "body": "Check the balance online.",
                              "locale": "en", "section": "Payments"}])
        articles.delete(db, refund)
    with qtbot.waitSignal(window.kb_sync.synced, timeout=10000) as blocker:
        pass
    result = blocker.args[0]
    assert (result.added, result.changed, result.removed, result.transferred) == (1, 0, 1, 2)
    assert search(qtbot, window, "duplicate charge") == []
    assert search(qtbot, window, "gift card") == ["Gift card balance"]

    # the first hit's article opens (from the replica)
    qtbot.waitUntil(lambda: window.knowledge.article is not None
                    and window.knowledge.article.title == "Gift card balance", timeout=5000)


def test_a_desk_file_has_nothing_to_sync(db_path, make_window, qtbot) -> None:
    store = Store(db_path)
    add_articles(store, ARTICLES)
    window = make_window(store, "alex")
    assert window.kb_sync.db() is not None and not window.kb_sync.team
    assert search(qtbot, window, "refnd") == ["Refund a duplicate charge"]
    assert shown(window) == ""
    window.close()
    store.close()



def test_offline_the_panel_says_so_and_search_still_works(private_team: TeamDatabase, make_window, qtbot) -> None:
    alex = private_team.desk("alex")
    add_articles(alex, ARTICLES, actor="alex")
    window = make_window(alex, "alex")
    qtbot.waitUntil(lambda: shown(window) == "Knowledge synced just now", timeout=20000)
    synced_at = window.kb_sync.replica.synced_at()

    private_team.server.stop()
    qtbot.waitUntil(lambda: shown(window).startswith("Offline:"), timeout=15000)
    at = parse_iso(synced_at).astimezone().strftime("%H:%M")
    assert shown(window) == f"Offline: knowledge last synced {at} (search still works)"
    assert search(qtbot, window, "återbetalnig") == ["Återbetalning av dubbeldebitering"]  # typo, offline
    # the article opens from the replica while the server is away, and its snippet can be inserted
    qtbot.waitUntil(lambda: window.knowledge.article is not None
                    and window.knowledge.article.title == "Återbetalning av dubbeldebitering", timeout=5000)
    with qtbot.waitSignal(window.knowledge.insertRequested, timeout=2000) as blocker:
        window.knowledge.request_insert()
    assert blocker.args[0] == f"Återbetalningen syns på kortet inom tre dagar. {window.knowledge.article.citation}"

    private_team.server.resume()  # back: the listener's catch-up brings a sync, and the words follow
    qtbot.waitUntil(lambda: shown(window) == "Knowledge synced just now", timeout=30000)


def test_a_damaged_replica_is_copied_again_and_said_in_words(team_database: TeamDatabase, make_window, qtbot) -> None:
    alex = team_database.desk("alex")
    add_articles(alex, ARTICLES, actor="alex")
    path = replica_path(alex.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a knowledge copy " * 200)
    window = make_window(alex, "alex")
    qtbot.waitUntil(lambda: shown(window) == "Knowledge synced just now", timeout=20000)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage()
                    == "Knowledge copied to this desk again: 4 articles.", timeout=5000)
    assert search(qtbot, window, "refnd") == ["Refund a duplicate charge"]
    assert len(list(path.parent.glob("*.damaged-*.db"))) == 1
