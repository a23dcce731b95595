"""A knowledge file with lone surrogates (JSON escapes) is imported with U+FFFD and a note, never skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_assist.knowledge.articles import get_article
from agent_assist.knowledge.sync import import_sources
from agent_assist.store import Store


@pytest.mark.both_backends  # a team server's text refuses lone surrogates outright: none may reach it
def test_json_with_lone_surrogates_is_imported_with_a_note(store: Store, tmp_path: Path):
    # json.dumps would refuse nothing here: these are the escapes as a broken exporter writes them
    (tmp_path / "kb.json").write_text('[{"id": "s1", "title": "Refund \\ud800 rules", '
                                      '"body": "Refunds take 5 days \\udfff. Emoji \\ud83d\\ude00 stay."}]',
                                      encoding="utf-8")
    report = import_sources(store, [tmp_path / "kb.json"], actor="t")
    assert not report.skipped
    (article_id,) = [r[0] for r in store.db.conn.execute("SELECT id FROM articles")]
    article = get_article(store.db, article_id)
    assert article.title == "Refund \ufffd rules"
    assert article.body == "Refunds take 5 days \ufffd. Emoji \U0001f600 stay."
    assert any("could not be read" in n for n in report.notes)
