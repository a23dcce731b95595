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


def test_a_ticket_shows_how_we_answered_a_similar_one_before(small_store, make_window, qtbot):
    from agent_assist.store import drafts, tickets

    done = tickets.create_ticket(small_store, actor="mail", customer_name="Maria Lopez",
                                 customer_email="maria@example.com", subject="Parcel never arrived",
                                 body_text="My parcel never came although tracking says delivered.")
    draft_id = drafts.suggest(small_store, done, "Hi Maria, I opened a claim with the courier. Sam",
                              actor="sam", source="human")
    drafts.approve_and_send(small_store, draft_id, "Hi Maria, I opened a claim with the courier. Sam",
                            actor="sam", status_after="solved")
    open_id = tickets.create_ticket(small_store, actor="mail", customer_name="Jonas Weber",
                                    customer_email="jw@example.de", subject="Paket nicht angekommen",
                                    body_text="Mein Paket ist nie angekommen, die Sendungsverfolgung sagt zugestellt.",
                                    language="de")
    w = make_window(small_store)
    with qtbot.waitSignal(w.meaning.indexed, timeout=120_000):
        pass
    w.open_ticket(open_id)
    qtbot.waitUntil(lambda: w.workspace is not None and w.workspace.ticket.id == open_id, timeout=10_000)
    panel = w.knowledge
    assert panel.solved.isVisible() and panel.solved_heading.text() == "<b>How we answered this before</b>"
    (example,) = [e for e in panel.solved_model.examples() if e.ticket_id == done]
    assert "claim with the courier" in example.reply and "Maria" not in example.reply
    panel._show_solved(panel.solved_model.index(0, 0))
    assert "We answered" in panel.viewer.toPlainText()
    with qtbot.waitSignal(panel.insertRequested) as inserted:
        panel.request_insert()
    assert "claim with the courier" in inserted.args[0] and "[KB-" not in inserted.args[0]


def test_an_agent_proposes_a_solved_answer_as_an_article_and_a_supervisor_publishes_it(small_store, make_window,
                                                                                        qtbot, monkeypatch):
    from agent_assist.assist.similar_tickets import SolvedExample
    from agent_assist.knowledge.search import search
    from agent_assist.store import article_drafts, people
    from agent_assist.ui.article_drafts_dialog import ArticleDraftsDialog, ProposeArticleDialog

    w = make_window(small_store)
    qtbot.waitUntil(lambda: w.workspace is not None, timeout=5000)  # the first ticket is open
    example = SolvedExample(1, "Parcel never arrived", "en", "My parcel never came.",
                            "Hi [customer],\n\nWe opened a claim with the courier and paused your payments.\n\n"
                            "Best regards,\nSam", "2026-11-01T10:00:00Z", 0.8)
    w.knowledge.set_solved([example])
    w.knowledge._show_solved(w.knowledge.solved_model.index(0, 0))
    assert w.knowledge.propose_button.isVisible()
    seen = {}

    def fill_and_accept(dialog):
        seen["title"] = dialog.title_edit.text()
        seen["body"] = dialog.body_edit.toPlainText()
        return ProposeArticleDialog.DialogCode.Accepted

    monkeypatch.setattr(ProposeArticleDialog, "exec", fill_and_accept)  # the person presses Propose
    w.knowledge.propose_button.click()
    qtbot.waitUntil(lambda: "a supervisor publishes it" in w.statusBar().currentMessage(), timeout=5000)
    assert seen == {"title": "Parcel never arrived",
                    "body": "We opened a claim with the courier and paused your payments."}
    assert [d.title for d in article_drafts.waiting(small_store.db)] == ["Parcel never arrived"]

    agent_view = ArticleDraftsDialog(small_store, user="alex", supervisor=False, parent=w)
    assert not agent_view.publish.isEnabled() and "A supervisor publishes" in agent_view.message.text()
    boss = next((p.name for p in people.profiles(small_store.db) if p.is_supervisor), None)
    if boss is None:  # the first supervisor of a desk file makes themself one
        people.save_profile(small_store, "sue", "supervisor", actor="sue")
        boss = "sue"
    sup_view = ArticleDraftsDialog(small_store, user=boss, supervisor=True, parent=w)
    assert sup_view.publish.isEnabled()
    sup_view.publish.click()
    assert sup_view.message.text().startswith("Published as KB-")
    assert [h.title for h in search(small_store.db, "courier claim paused", limit=1, semantic=None)] == [
        "Parcel never arrived"]
