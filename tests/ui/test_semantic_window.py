"""Meaning search in the window: the embedder loads and the articles are indexed off the UI thread, the
panel says so while it runs, and then a question in a language no article is written in finds the
article that answers it (the agent sees its language)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from agent_assist.knowledge import semantic
from agent_assist.knowledge.articles import add_articles
from agent_assist.store import Store, vectors

pytestmark = pytest.mark.semantic
DEMO_ARTICLES = json.loads((Path(__file__).resolve().parents[2] / "resources" / "demo" / "articles.json")
                           .read_text(encoding="utf-8"))


@pytest.fixture
def kb_store(small_store: Store) -> Store:
    add_articles(small_store, DEMO_ARTICLES)
    return small_store


def test_the_window_indexes_in_the_background_and_finds_articles_by_meaning(kb_store, make_window, qtbot):
    w = make_window(kb_store)
    statuses: list[str] = []
    w.meaning.statusChanged.connect(statuses.append)
    with qtbot.waitSignal(w.meaning.indexed, timeout=120_000) as indexed:
        pass
    assert indexed.args[0].total == vectors.version(kb_store.db, vectors.ARTICLE, w.meaning.layer.model)[0] > 100
    assert semantic.active() is w.meaning.layer
    assert any(s.startswith("Indexing knowledge for meaning…") for s in statuses) and statuses[-1] == ""
    w.knowledge.focus_search()
    assert QApplication.focusWidget() is w.knowledge.search_box
    with qtbot.waitSignal(w.searchShown, timeout=10_000):
        # Polish (no Polish article exists), pasted: the key-click helper types ASCII only
        w.knowledge.search_box.setText("Chcę anulować moją subskrypcję i zamknąć konto")
    hits = w.knowledge.model.hits()
    keys = dict(kb_store.db.conn.execute("SELECT id, key FROM articles"))
    assert "close-account" in [keys[h.article_id] for h in hits[:3]]
    assert all(h.locale for h in hits[:3])  # shown with its language ("EN") in the list


def test_meaning_search_off_in_preferences_leaves_search_by_words(kb_store, make_window, qtbot):
    from agent_assist.settings import Settings

    settings = Settings()
    settings.set("knowledge.semantic", "off")
    settings.save()
    w = make_window(kb_store)
    assert w.meaning.layer is None and semantic.active() is None
    with qtbot.waitSignal(w.searchShown, timeout=5000):
        qtbot.keyClicks(w.knowledge.search_box, "late fee")
    assert w.knowledge.model.hits()
