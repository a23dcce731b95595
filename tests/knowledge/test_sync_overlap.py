"""One file, one article: a path imported both on its own and as part of a folder is never doubled."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from agent_assist.knowledge.search import search
from agent_assist.knowledge.sync import import_sources
from agent_assist.store import Store
from tests.knowledge.test_sync import FIXTURES, kb_store  # noqa: F401 - the fixture
from tests.test_cli_errors import run_cli

# each test that takes a store imports into a desk's file and into a team server: the overlaps are
# decided by paths (a team server reads its sources inside a folder by prefix, a desk by range)
pytestmark = pytest.mark.both_backends


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    dest = tmp_path / "kb"
    (dest / "sub").mkdir(parents=True)
    (dest / "good1.md").write_text("# Late fee waiver\n\nWe waive the first late fee once a year.\n", encoding="utf-8")
    (dest / "sub" / "refunds.md").write_text("# Refunds\n\nRefunds reach your card in five days.\n",
                                             encoding="utf-8")
    shutil.copy(FIXTURES / "faq.csv", dest / "sub" / "faq.csv")
    return dest


def articles(store: Store) -> list[tuple]:
    return store.db.conn.execute("SELECT id, key, source FROM articles ORDER BY id").fetchall()


def test_a_file_of_an_imported_folder_is_the_same_article(kb_store: Store, folder: Path) -> None:
    import_sources(kb_store, [folder])
    before = articles(kb_store)
    report = import_sources(kb_store, [folder / "good1.md"])
    assert report.added == [] and report.unchanged == [("good1.md", "Late fee waiver")]
    assert any("inside" in note and str(folder) in note for note in report.notes)
    assert articles(kb_store) == before
    assert [h.title for h in search(kb_store.db, "late fee waiver")].count("Late fee waiver") == 1


def test_a_changed_file_of_an_imported_folder_updates_its_article(kb_store: Store, folder: Path) -> None:
    import_sources(kb_store, [folder])
    ids = {key: i for i, key, _ in articles(kb_store)}
    (folder / "sub" / "refunds.md").write_text("# Refunds\n\nRefunds reach your card in three days.\n",
                                               encoding="utf-8")
    report = import_sources(kb_store, [folder / "sub"])  # a subfolder: the same source too
    assert report.added == [] and report.changed == [("sub/refunds.md", "Refunds")]
    assert {key: i for i, key, _ in articles(kb_store)} == ids
    assert "three days" in kb_store.db.conn.execute(
        "SELECT body FROM articles WHERE id = ?", (ids["sub/refunds.md"],)).fetchone()[0]


def test_a_partial_import_removes_nothing_and_the_folder_still_does(kb_store: Store, folder: Path) -> None:
    import_sources(kb_store, [folder])
    (folder / "sub" / "refunds.md").unlink()
    partial = import_sources(kb_store, [folder / "sub"])
    assert partial.removed == [] and partial.added == []
    assert ("sub/refunds.md",) in [(k,) for _, k, _ in articles(kb_store)]
    full = import_sources(kb_store, [folder])
    assert full.removed == [("sub/refunds.md", "Refunds")] and full.added == []
    assert {source for _, _, source in articles(kb_store)} == {str(folder)}


def test_a_new_file_imported_on_its_own_joins_the_folder(kb_store: Store, folder: Path) -> None:
    import_sources(kb_store, [folder])
    (folder / "new.md").write_text("# Gift cards\n\nGift cards never expire.\n", encoding="utf-8")
    assert import_sources(kb_store, [folder / "new.md"]).added == [("new.md", "Gift cards")]
    again = import_sources(kb_store, [folder])
    assert again.added == [] and again.removed == [] and ("new.md", "Gift cards") in again.unchanged


def test_a_folder_takes_over_what_was_imported_inside_it_before(kb_store: Store, folder: Path) -> None:
    import_sources(kb_store, [folder / "good1.md"])
    import_sources(kb_store, [folder / "sub"])
    ids = {(key, source): i for i, key, source in articles(kb_store)}
    report = import_sources(kb_store, [folder])
    assert report.added == [] and report.removed == []
    after = articles(kb_store)
    assert {source for _, _, source in after} == {str(folder)}
    assert len(after) == len(ids)  # the same articles, same ids: citations still point at them
    assert {i for i, _, _ in after} == set(ids.values())
    assert dict((key, i) for i, key, _ in after)["good1.md"] == ids[("good1.md", str(folder / "good1.md"))]
    assert dict((key, i) for i, key, _ in after)["sub/refunds.md"] == ids[("refunds.md", str(folder / "sub"))]
    # and from now on the folder is one source: a re-import changes nothing
    again = import_sources(kb_store, [folder])
    assert again.added == again.changed == again.removed == []


def test_a_copy_an_older_version_left_twice_is_removed(kb_store: Store, folder: Path) -> None:
    import_sources(kb_store, [folder])
    first = dict((key, i) for i, key, _ in articles(kb_store))["good1.md"]
    with kb_store.transaction() as db:  # what the old importer did for `kb import DIR/good1.md`
        db.conn.execute("INSERT INTO articles (key, title, body, section, locale, source, url, content_hash, "
                        "updated_at) SELECT key, title, body, section, locale, ?, url, content_hash, updated_at "
                        "FROM articles WHERE id = ?", (str(folder / "good1.md"), first))
    report = import_sources(kb_store, [folder])
    assert report.removed == [("good1.md", "Late fee waiver")] and report.added == []
    assert [i for i, key, _ in articles(kb_store) if key == "good1.md"] == [first]


def test_paths_inside_each_other_in_one_import_are_read_once(kb_store: Store, folder: Path) -> None:
    report = import_sources(kb_store, [folder / "good1.md", folder, folder / "sub"])
    assert sorted(report.added) == sorted(set(report.added))
    assert not any("duplicate key" in why for _, why in report.skipped)
    assert {source for _, _, source in articles(kb_store)} == {str(folder)}
    assert [key for _, key, _ in articles(kb_store)].count("good1.md") == 1


def test_a_file_outside_any_imported_folder_is_a_source_of_its_own(kb_store: Store, folder: Path,
                                                                   tmp_path: Path) -> None:
    import_sources(kb_store, [folder / "sub"])
    report = import_sources(kb_store, [folder / "good1.md"])  # beside sub/, not inside it
    assert report.added == [("good1.md", "Late fee waiver")] and report.notes == []
    assert (folder / "good1.md").as_posix() in {source for _, _, source in articles(kb_store)}


def test_the_reported_cli_case(tmp_path: Path, folder: Path) -> None:
    db = tmp_path / "cli.db"
    assert run_cli("kb", "import", str(folder), "--db", str(db)).returncode == 0
    proc = run_cli("kb", "import", str(folder / "good1.md"), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert "0 added" in proc.stdout and "1 unchanged" in proc.stdout
    search_out = run_cli("kb", "search", "late fee waiver", "--db", str(db)).stdout
    assert search_out.count("Late fee waiver") == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM articles WHERE key = 'good1.md'").fetchone() == (1,)


def test_articles_gone_from_a_source_inside_go_when_the_folder_is_imported(kb_store: Store, folder: Path) -> None:
    import_sources(kb_store, [folder / "sub"])
    (folder / "sub" / "refunds.md").unlink()
    (folder / "refunds.md").write_text("# Refunds\n\nA different article at the top.\n", encoding="utf-8")
    old_id = dict((key, i) for i, key, _ in articles(kb_store))["refunds.md"]
    report = import_sources(kb_store, [folder])
    assert ("refunds.md", "Refunds") in report.added  # the top file is new: it does not take the old one's id
    assert ("refunds.md", "Refunds") in report.removed  # sub/refunds.md is gone
    assert old_id not in {i for i, _, _ in articles(kb_store)}
    assert {source for _, _, source in articles(kb_store)} == {str(folder)}


def test_a_source_inside_that_the_folder_does_not_read_is_left_alone(kb_store: Store, folder: Path) -> None:
    hidden = folder / ".drafts"
    hidden.mkdir()
    (hidden / "wip.md").write_text("# Work in progress\n\nNot published yet.\n", encoding="utf-8")
    import_sources(kb_store, [hidden])
    kept = [(i, k, s) for i, k, s in articles(kb_store)]
    assert kept  # the hidden folder was imported on purpose
    report = import_sources(kb_store, [folder])
    assert report.removed == []
    assert all(row in articles(kb_store) for row in kept)


def test_a_hidden_folder_inside_an_imported_folder_stays_a_source_of_its_own(kb_store: Store, folder: Path) -> None:
    import_sources(kb_store, [folder])
    hidden = folder / ".drafts"
    hidden.mkdir()
    (hidden / "wip.md").write_text("# Work in progress\n\nNot published yet.\n", encoding="utf-8")
    assert import_sources(kb_store, [hidden]).added == [("wip.md", "Work in progress")]
    again = import_sources(kb_store, [folder])  # the folder's walk skips .drafts: it must not remove it
    assert again.removed == []
    assert ("wip.md", str(hidden)) in {(k, s) for _, k, s in articles(kb_store)}
