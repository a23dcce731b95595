"""Replies kept on this desk while the database could not take them (store/unsent.py)."""

from __future__ import annotations

from pathlib import Path

from agent_assist.store.unsent import UnsentReplies


def test_a_kept_reply_is_found_again_by_a_new_reader_and_dropped(tmp_path: Path):
    database = tmp_path / "desk.db"  # a desk's file is named by its path, a team database by its address
    kept = UnsentReplies(tmp_path / "unsent.json")
    kept.keep(database, 7, 3, "Hej Anna, återbetalningen är på väg.")
    kept.keep("alex@db:5432/support", 7, None, "Hi Anna")
    again = UnsentReplies(tmp_path / "unsent.json")
    found = again.get(database, 7)
    assert (found.draft_id, found.text) == (3, "Hej Anna, återbetalningen är på väg.")
    assert again.get("alex@db:5432/support", 7).draft_id is None
    again.keep(database, 7, 3, "Hej Anna, pengarna är tillbaka.")  # one entry per ticket: the latest text
    assert [u.text for u in again.for_database(database)] == ["Hej Anna, pengarna är tillbaka."]
    assert oct((tmp_path / "unsent.json").stat().st_mode & 0o777) == "0o600"
    again.drop(database, 7)
    again.drop("alex@db:5432/support", 7)
    assert not (tmp_path / "unsent.json").exists()


def test_a_damaged_file_is_set_aside_and_reading_goes_on(tmp_path: Path):
    path = tmp_path / "unsent.json"
    path.write_text('{"replies": [{"database": "x"}]}', encoding="utf-8")  # an entry without its fields
    kept = UnsentReplies(path)
    assert kept.for_database("x") == []
    assert (tmp_path / "unsent.json.damaged").exists()
    kept.keep("x", 1, None, "text")
    assert kept.get("x", 1).text == "text"
