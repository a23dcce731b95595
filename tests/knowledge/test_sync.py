"""Importing sources into the store: the re-import diff, atomicity on cancel and crash, progress, audit.

Tests marked ``both_backends`` import into a desk's SQLite file and into a team server (as the agent
``alex``: a team's agents may change its articles, see the grants in the team schema). What only a
desk has stays on SQLite, and says why: its own audit rows, older desk schemas, its file lock, its
page cache.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agent_assist.knowledge import schema
from agent_assist.knowledge.articles import add_articles
from agent_assist.knowledge.search import search
from agent_assist.knowledge.sync import ImportCancelled, ImportReport, import_sources
from agent_assist.store import Store, audit
from agent_assist.store.backend import is_postgres
from agent_assist.store.errors import DatabaseLockedError
from agent_assist.store.migrations import MIGRATIONS
from agent_assist.store.postgres.adapter import PermissionRefusedError, tsquery_lexeme
from tests.store.lock_holder import LockHolder

FIXTURES = Path(__file__).parent / "fixtures"


# the importer's schema change (articles.body_html), whether or not MIGRATIONS has taken it in yet
WITH_BODY_HTML = MIGRATIONS if schema.migrate in MIGRATIONS else [*MIGRATIONS, schema.migrate]
# the schema as it was just before the column came (later migrations need it in order)
WITHOUT_BODY_HTML = WITH_BODY_HTML[:WITH_BODY_HTML.index(schema.migrate)]


@pytest.fixture
def kb_store(store) -> Store:
    """The test's store (a SQLite file by default, each backend in a ``both_backends`` test)."""
    assert WITH_BODY_HTML == MIGRATIONS  # the importer's schema change is one of the store's own
    return store


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    dest = tmp_path / "kb"
    shutil.copytree(FIXTURES / "kb_folder", dest)
    return dest


def rows(store: Store) -> list[tuple]:
    return store.db.conn.execute(
        "SELECT id, key, locale, title, body, body_html, section, source, url, content_hash, updated_at "
        "FROM articles ORDER BY id").fetchall()


def ids_by_key(store: Store) -> dict[str, int]:
    return {k: i for i, k in store.db.conn.execute("SELECT id, key FROM articles")}


def snapshot(store: Store) -> tuple:
    """Everything an import may touch: the articles, the full-text index's own terms, the audit trail."""
    conn = store.db.conn
    if is_postgres(store):
        index = conn.execute("SELECT id, search_vector::text FROM articles ORDER BY id").fetchall()
    else:
        conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")  # index matches rows
        index = conn.execute("SELECT term, doc, cnt FROM articles_fts_vocab ORDER BY term").fetchall()
    n_audit = conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    return rows(store), index, n_audit


def titles(store: Store, query: str, **kw) -> list[str]:
    return [h.title for h in search(store.db, query, **kw)]


def indexed(store: Store, word: str) -> int:
    """How many articles the full-text index has under this exact word (whatever search() makes of a query)."""
    if is_postgres(store):
        return store.db.conn.execute("SELECT COUNT(*) FROM articles WHERE search_vector @@ to_tsquery('simple', ?)",
                                     (tsquery_lexeme(word, prefix=False),)).fetchone()[0]
    return store.db.conn.execute("SELECT COUNT(*) FROM articles_fts WHERE articles_fts MATCH ?",
                                 (f'"{word}"',)).fetchone()[0]


def kb_imports(store: Store) -> list[tuple[str, str, dict]]:
    """(actor, action, details) of each import's audit row."""
    return [(r[0], r[1], json.loads(r[2])) for r in store.db.conn.execute(
        "SELECT actor, action, details FROM audit WHERE action = 'kb.imported' ORDER BY id")]


@pytest.mark.both_backends
def test_first_import_of_a_folder(kb_store: Store, folder: Path) -> None:
    report = import_sources(kb_store, [folder], actor="alex")
    assert sorted(report.added) == [
        ("Payments/late-fees.md", "How late fees work"),
        ("Payments/pay-early.md", "Paying early"),
        ("Refunds/closed-card.txt", "Refund to a closed card"),
        ("Refunds/refund-status.html", "When will I get my refund?"),
        ("sv/Refunds/aterbetalning.md", "När får jag min återbetalning?"),
    ]
    assert report.changed == report.removed == report.unchanged == report.kept == []
    assert report.skipped == [(str(folder / "README.rst"), "not a supported type (.rst)")]
    assert report.sources == [str(folder)]
    assert report.summary() == "Imported 1 source: 5 added, 0 changed, 0 removed, 0 unchanged, 1 skipped."
    lines = report.lines()
    assert lines[0] == report.summary()
    assert "+ added: Paying early [Payments/pay-early.md]" in lines
    assert f"! skipped: {folder / 'README.rst'}: not a supported type (.rst)" in lines
    row = kb_store.db.conn.execute(
        "SELECT title, section, locale, source, url, body_html FROM articles WHERE key = 'Refunds/refund-status.html'"
    ).fetchone()
    assert row[:5] == ("When will I get my refund?", "Refunds", "en", str(folder),
                       "https://help.example.com/refund-status")
    assert "<b>refund status</b>" in row[5]


# SQLite only: a desk writes its own kb.imported row for each import (a team server counts each statement,
# below)
def test_each_import_writes_one_audit_row(kb_store: Store, folder: Path) -> None:
    import_sources(kb_store, [folder], actor="alex")
    (entry,) = kb_imports(kb_store)
    assert entry[:2] == ("alex", "kb.imported")
    assert entry[2] == {"sources": [str(folder)], "added": 5, "changed": 0, "removed": 0, "unchanged": 0,
                             "kept": 0, "skipped": 1}
    (folder / "Refunds" / "chargeback.md").write_text("# Chargebacks\n\nA chargeback goes through your bank.\n")
    import_sources(kb_store, [folder], actor="alex")
    assert [e[2]["added"] for e in kb_imports(kb_store)] == [5, 1]
    assert audit.verify(kb_store.db).ok


@pytest.mark.both_backends
@pytest.mark.team_only
def test_a_team_servers_audit_trail_has_every_change_to_articles(kb_store: Store, folder: Path, desk) -> None:
    """The server's own triggers (team migration 009): one row per statement with its count, as the person."""
    import_sources(kb_store, [folder], actor="alex")
    (folder / "Refunds" / "chargeback.md").write_text("# Chargebacks\n\nA chargeback goes through your bank.\n")
    (folder / "Payments" / "pay-early.md").write_text("# Paying early\n\nPay any instalment early, free.\n")
    (folder / "Refunds" / "closed-card.txt").unlink()
    import_sources(desk("priya"), [folder], actor="priya")
    kb_rows = [(r[0], r[1], json.loads(r[2])["count"]) for r in kb_store.db.conn.execute(
        "SELECT actor, action, details FROM audit WHERE action LIKE 'kb.%' ORDER BY id")]
    assert ("alex", "kb.articles_added", 5) in kb_rows
    assert {("priya", "kb.articles_added", 1), ("priya", "kb.articles_changed", 1),
            ("priya", "kb.articles_removed", 1)} <= set(kb_rows)
    assert audit.verify(kb_store.db).ok


@pytest.mark.both_backends
def test_search_finds_imported_articles(kb_store: Store, folder: Path) -> None:
    import_sources(kb_store, [folder, FIXTURES / "helpcenter.json", FIXTURES / "faq.csv",
                              FIXTURES / "articles.jsonl"])
    ids = ids_by_key(kb_store)
    hits = search(kb_store.db, "refund")
    assert {h.article_id for h in hits[:2]} == {ids["Refunds/refund-status.html"], ids["Refunds/closed-card.txt"]}
    assert search(kb_store.db, "återbetalning")[0].article_id == ids["sv/Refunds/aterbetalning.md"]
    assert titles(kb_store, "disputing purchase")[0] == "Disputing a purchase"
    assert titles(kb_store, "Problem melden", locale="de")[0] == "Reklamation eines Kaufs"
    assert titles(kb_store, "betala", locale="sv")[0] == "Kan jag betala tidigare?"
    assert titles(kb_store, "expires")[0] == "Gift cards"
    assert titles(kb_store, "lost card")[0] == "Lost card"
    assert titles(kb_store, "e-mail address")[0] == "How do I change my e-mail address?"
    assert indexed(kb_store, "published") == 0  # the draft stayed out
    assert indexed(kb_store, "alert") == indexed(kb_store, "trackvisit") == 0  # scripts never reach the text


@pytest.mark.both_backends
def test_reimport_diff(kb_store: Store, folder: Path) -> None:
    import_sources(kb_store, [folder])
    before = ids_by_key(kb_store)
    kept_rows = {r[1]: r for r in rows(kb_store)}

    (folder / "Payments" / "pay-early.md").write_text(
        "# Paying early\n\nYou can pay any instalment early, and settle the whole purchase at once.\n")
    (folder / "Refunds" / "closed-card.txt").unlink()
    (folder / "Refunds" / "chargeback.md").write_text("# Chargebacks\n\nA chargeback goes through your bank.\n")
    report = import_sources(kb_store, [folder])

    assert report.added == [("Refunds/chargeback.md", "Chargebacks")]
    assert report.changed == [("Payments/pay-early.md", "Paying early")]
    assert report.removed == [("Refunds/closed-card.txt", "Refund to a closed card")]
    assert sorted(report.unchanged) == [
        ("Payments/late-fees.md", "How late fees work"),
        ("Refunds/refund-status.html", "When will I get my refund?"),
        ("sv/Refunds/aterbetalning.md", "När får jag min återbetalning?"),
    ]
    assert report.summary() == "Imported 1 source: 1 added, 1 changed, 1 removed, 3 unchanged, 1 skipped."
    after = ids_by_key(kb_store)
    for key in ("Payments/late-fees.md", "Refunds/refund-status.html", "sv/Refunds/aterbetalning.md",
                "Payments/pay-early.md"):
        assert after[key] == before[key], key  # ids stay: citations [KB-n] in old drafts still point right
    assert "Refunds/closed-card.txt" not in after
    assert after["Refunds/chargeback.md"] > max(before.values())
    now_rows = {r[1]: r for r in rows(kb_store)}
    for key in ("Payments/late-fees.md", "Refunds/refund-status.html", "sv/Refunds/aterbetalning.md"):
        assert now_rows[key] == kept_rows[key]  # not rewritten
    assert "settle the whole purchase" in now_rows["Payments/pay-early.md"][4]
    assert titles(kb_store, "chargeback")[0] == "Chargebacks"
    assert "Refund to a closed card" not in titles(kb_store, "closed card")
    assert indexed(kb_store, "closed") == 0
    assert titles(kb_store, "settle")[0] == "Paying early"


def written(store: Store) -> int | list:
    """What shows writes: SQLite's count of changed rows; on a team server each row's version (xmin)."""
    if is_postgres(store):
        return store.db.conn.execute("SELECT id, xmin::text FROM articles ORDER BY id").fetchall()
    return store.db.conn.total_changes


@pytest.mark.both_backends
def test_unchanged_reimport_writes_nothing_but_the_audit_row(kb_store: Store, folder: Path) -> None:
    import_sources(kb_store, [folder])
    before = rows(kb_store)
    changes = written(kb_store)
    (folder / "Payments" / "late-fees.md").touch()  # a newer file time alone is no change
    report = import_sources(kb_store, [folder])
    assert len(report.unchanged) == 5 and not (report.added or report.changed or report.removed)
    if is_postgres(kb_store):
        assert written(kb_store) == changes  # no article row was rewritten
    else:
        assert written(kb_store) - changes == 1  # the audit row
    assert rows(kb_store) == before


@pytest.mark.both_backends
def test_metadata_and_html_changes_count_as_changes(kb_store: Store, tmp_path: Path) -> None:
    data = [{"id": 1, "title": "T", "body": "<p>Same <b>text</b></p>", "section": "A"},
            {"id": 2, "title": "U", "body": "Plain", "section": "A"}]
    path = tmp_path / "kb.json"
    path.write_text(json.dumps(data))
    import_sources(kb_store, [path])
    data[0]["body"] = "<p>Same <i>text</i></p>"  # same words, other markup
    data[1]["section"] = "B"
    path.write_text(json.dumps(data))
    report = import_sources(kb_store, [path])
    assert report.changed == [("1", "T"), ("2", "U")]
    (html, _), (_, section) = kb_store.db.conn.execute("SELECT body_html, section FROM articles ORDER BY id")
    assert "<i>text</i>" in html and section == "B"


@pytest.mark.both_backends
def test_same_key_in_two_locales_and_duplicates(kb_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "kb.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"id": "refund", "locale": "en", "title": "Refunds", "body": "In 5 days."},
        {"id": "refund", "locale": "sv", "title": "Återbetalning", "body": "Inom 5 dagar."},
        {"id": "refund", "locale": "en", "title": "Refunds again", "body": "Twice."},
    ]))
    report = import_sources(kb_store, [path, str(path)])  # the same source twice counts once
    assert report.sources == [str(path)]
    assert report.added == [("refund", "Refunds"), ("refund", "Återbetalning")]
    assert report.skipped == [(str(path), f"duplicate key 'refund' (en), first in {path}")]


@pytest.mark.both_backends
def test_unreadable_files_never_delete_articles(kb_store: Store, folder: Path, tmp_path: Path) -> None:
    import_sources(kb_store, [folder, FIXTURES / "faq.csv"])
    # a file that became unreadable keeps its article
    (folder / "Payments" / "pay-early.md").write_bytes(b"\x00\x01binary now")
    report = import_sources(kb_store, [folder])
    assert report.kept == [("Payments/pay-early.md", "Paying early")]
    assert report.removed == []
    assert (str(folder / "Payments" / "pay-early.md"), "binary file") in report.skipped
    assert "Payments/pay-early.md" in ids_by_key(kb_store)
    assert "= kept: Paying early [Payments/pay-early.md]" in report.lines()

    # a help-centre export cut short: its articles stay, nothing is removed
    export = tmp_path / "export.json"
    shutil.copy(FIXTURES / "helpcenter.json", export)
    import_sources(kb_store, [export])
    n = len(rows(kb_store))
    export.write_text(export.read_text()[:300])
    report = import_sources(kb_store, [export])
    assert report.removed == [] and len(report.kept) == 3
    assert report.skipped[0][1] == "The file ends in the middle of the first record; nothing in it was imported."
    assert any("no article removed" in note for note in report.notes)
    assert len(rows(kb_store)) == n

    # a source that is not there (an unplugged drive): nothing removed either
    shutil.rmtree(folder)
    report = import_sources(kb_store, [folder])
    assert report.removed == [] and len(report.kept) == 5
    assert report.skipped == [(str(folder), "not found")]
    assert len(rows(kb_store)) == n


@pytest.mark.both_backends
def test_a_folder_that_cannot_be_listed_removes_nothing(kb_store: Store, folder: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from agent_assist.knowledge import importers

    import_sources(kb_store, [folder])
    real_walk = os.walk

    def walk(top, onerror=None, **kw):  # as os.walk does when a sub-folder is unreadable (e.g. its permissions)
        for folder_, dirs, files in real_walk(top, onerror=onerror, **kw):
            if folder_ == str(folder / "Refunds"):
                onerror(PermissionError(13, "Permission denied", folder_))
                dirs[:] = []
                continue
            yield folder_, dirs, files

    monkeypatch.setattr(importers.os, "walk", walk)
    report = import_sources(kb_store, [folder])
    assert report.removed == []
    assert sorted(report.kept) == [("Refunds/closed-card.txt", "Refund to a closed card"),
                                   ("Refunds/refund-status.html", "When will I get my refund?")]
    assert (str(folder / "Refunds"), "folder cannot be read (Permission denied)") in report.skipped
    assert len(rows(kb_store)) == 5


@pytest.mark.both_backends
def test_a_csv_row_that_lost_its_answer_keeps_its_article(kb_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text("id,question,answer\n1,Q1,A1\n2,Q2,A2\n3,Q3,A3\n")
    import_sources(kb_store, [path])
    path.write_text("id,question,answer\n1,Q1,A1\n2,Q2,\n")
    report = import_sources(kb_store, [path])
    assert report.removed == [("3", "Q3")]
    assert report.kept == [("2", "Q2")]
    assert report.skipped == [(f"{path} (row 3)", "empty body")]


@pytest.mark.both_backends
def test_sources_do_not_touch_each_other(kb_store: Store, folder: Path, tmp_path: Path) -> None:
    add_articles(kb_store, [{"key": "manual", "title": "Written by hand", "body": "Not from any file."}])
    import_sources(kb_store, [folder, FIXTURES / "faq.csv"])
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.md").write_text("# X\n\nx")
    report = import_sources(kb_store, [other])
    assert report.added == [("x.md", "X")] and report.removed == []
    assert len(rows(kb_store)) == 1 + 5 + 2 + 1


# SQLite only: a desk file of an older schema (a team server is migrated by its administrator)
def test_the_schema_change_upgrades_a_store_with_articles(tmp_path: Path, folder: Path) -> None:
    path = tmp_path / "old.db"
    with Store(path, migrations=WITHOUT_BODY_HTML) as old:
        import_sources(old, [folder])
        before = old.db.conn.execute(
            "SELECT id, key, title, body FROM articles ORDER BY id").fetchall()
    with Store(path, migrations=WITH_BODY_HTML) as new:
        assert new.schema_version() == len(WITH_BODY_HTML)
        assert new.db.conn.execute("SELECT id, key, title, body FROM articles ORDER BY id").fetchall() == before
        assert {r[5] for r in rows(new)} == {None}  # no HTML yet ...
        report = import_sources(new, [folder])
        assert report.changed == [("Refunds/refund-status.html", "When will I get my refund?")]  # ... until now
        assert len(report.unchanged) == len(before) - 1
        snapshot(new)


# SQLite only: as above
def test_works_without_the_body_html_column(tmp_path: Path, folder: Path) -> None:
    with Store(tmp_path / "plain.db", migrations=WITHOUT_BODY_HTML) as store:
        assert "body_html" not in store.db["articles"].columns_dict
        report = import_sources(store, [folder])
        assert len(report.added) == 5
        assert len(import_sources(store, [folder]).unchanged) == 5


@pytest.mark.both_backends
def test_a_large_import_tidies_the_index(kb_store: Store, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_assist.knowledge import sync

    monkeypatch.setattr(sync, "LARGE_IMPORT", 2)
    monkeypatch.setattr(sync, "OPTIMIZE_AFTER", 2)
    if is_postgres(kb_store):  # the server sizes its own caches; its index needs no merging
        report = import_sources(kb_store, [folder])
    else:
        conn = kb_store.db.conn
        cache_before = conn.execute("PRAGMA cache_size").fetchone()[0]
        seen_cache = []
        report = import_sources(kb_store, [folder], progress=lambda *a: seen_cache.append(
            conn.execute("PRAGMA cache_size").fetchone()[0]))
        assert -5 * 8 in seen_cache  # larger while saving ...
        assert conn.execute("PRAGMA cache_size").fetchone()[0] == cache_before  # ... and as it was afterwards
    assert len(report.added) == 5
    snapshot(kb_store)  # the merged index still matches the rows
    assert titles(kb_store, "instalment")[0] == "Paying early"


@pytest.mark.both_backends
def test_encoding_repairs_are_noted(kb_store: Store, tmp_path: Path) -> None:
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "sv.txt").write_bytes("Återbetalning\nPengarna kommer inom fem bankdagar.".encode("cp1252"))
    report = import_sources(kb_store, [tmp_path / "kb"])
    assert report.added == [("sv.txt", "Återbetalning")]
    assert report.notes == ["sv.txt: decoded as windows-1252 (not UTF-8)"]
    assert "note: sv.txt: decoded as windows-1252 (not UTF-8)" in report.lines()


@pytest.mark.both_backends
def test_progress_is_reported_per_file_and_per_article(kb_store: Store, folder: Path) -> None:
    calls: list[tuple[int, int, str]] = []
    import_sources(kb_store, [folder, FIXTURES / "helpcenter.json"], progress=lambda *a: calls.append(a))
    reading = [c for c in calls if c[2].startswith("Read")]
    saving = [c for c in calls if c[2].startswith("Sav")]
    assert [c[:2] for c in reading] == [(i, 7) for i in range(8)]  # 6 files in the folder + the export
    assert "Reading late-fees.md" in [c[2] for c in reading]
    assert [c[:2] for c in saving] == [(i, 8) for i in range(9)]
    assert "Saving Lost card" in [c[2] for c in saving]
    assert calls[-1] == (8, 8, "Saved")


# -- atomicity ---------------------------------------------------------------------------------------------
@pytest.mark.both_backends
def test_cancel_while_reading_changes_nothing(kb_store: Store, folder: Path) -> None:
    import_sources(kb_store, [folder])
    before = snapshot(kb_store)
    (folder / "new.md").write_text("# New\n\nnew")
    asked = []
    with pytest.raises(ImportCancelled):
        import_sources(kb_store, [folder], cancel=lambda: asked.append(1) or len(asked) > 2)
    assert snapshot(kb_store) == before


@pytest.mark.both_backends
@pytest.mark.parametrize("stop_at", [1, 3, 5])
def test_cancel_while_saving_rolls_back(kb_store: Store, folder: Path, stop_at: int) -> None:
    import_sources(kb_store, [folder])
    (folder / "Payments" / "late-fees.md").unlink()
    (folder / "Payments" / "pay-early.md").write_text("# Paying early\n\nChanged.")
    for i in range(4):
        (folder / f"new{i}.md").write_text(f"# New {i}\n\nnew article {i}")
    before = snapshot(kb_store)
    saving = 0

    def progress(done: int, total: int, what: str) -> None:
        nonlocal saving
        if what.startswith("Saving"):
            saving += 1

    with pytest.raises(ImportCancelled):
        import_sources(kb_store, [folder], progress=progress, cancel=lambda: saving >= stop_at)
    assert snapshot(kb_store) == before
    assert indexed(kb_store, "new") == 0
    # the store is usable afterwards, and the same import then goes through
    report = import_sources(kb_store, [folder])
    assert (len(report.added), len(report.changed), len(report.removed)) == (4, 1, 1)


@pytest.mark.both_backends
def test_a_crash_in_the_middle_rolls_back(kb_store: Store, folder: Path) -> None:
    import_sources(kb_store, [folder, FIXTURES / "faq.csv"])
    for i in range(20):
        (folder / f"bulk{i}.md").write_text(f"# Bulk {i}\n\nbulk article {i}")
    (folder / "Refunds" / "closed-card.txt").unlink()
    before = snapshot(kb_store)
    asked = 0

    def explode() -> bool:
        nonlocal asked
        asked += 1
        if asked == 30:  # well into saving: some rows already inserted in the open transaction
            raise RuntimeError("disk on fire")
        return False

    with pytest.raises(RuntimeError, match="disk on fire"):
        import_sources(kb_store, [folder], cancel=explode)
    assert snapshot(kb_store) == before
    assert not kb_store.db.conn.in_transaction
    assert indexed(kb_store, "bulk") == 0
    assert titles(kb_store, "closed card")[0] == "Refund to a closed card"


# SQLite only: an SQLite trigger refuses one row; on a team server the refusal is a grant (see
# test_a_refused_import_says_so_and_changes_nothing below)
def test_a_failing_write_rolls_back(kb_store: Store, folder: Path) -> None:
    import_sources(kb_store, [folder])
    (folder / "Payments" / "pay-early.md").write_text("# Paying early\n\nChanged.")
    (folder / "zz.md").write_text("# Last\n\nlast")
    before = snapshot(kb_store)
    kb_store.db.conn.execute("CREATE TRIGGER no_last BEFORE INSERT ON articles WHEN new.title = 'Last' "
                             "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    with pytest.raises(Exception, match="refused"):
        import_sources(kb_store, [folder])
    assert snapshot(kb_store) == before


def test_report_on_nothing() -> None:
    assert ImportReport().summary() == "Imported 0 sources: 0 added, 0 changed, 0 removed, 0 unchanged, 0 skipped."


# SQLite only: another program holding the file's write lock
def test_a_busy_database_keeps_the_knowledge_base_as_it_was_and_says_so(tmp_path: Path, folder: Path) -> None:
    path = tmp_path / "busy.db"
    Store(path, migrations=WITH_BODY_HTML).close()
    store = Store(path, migrations=WITH_BODY_HTML, busy_timeout=0.1)
    try:
        import_sources(store, [folder])
        (folder / "zz.md").write_text("# Last\n\nlast")
        before = snapshot(store)
        calls: list[str] = []
        holder = LockHolder(path)
        try:
            with pytest.raises(DatabaseLockedError) as info:
                import_sources(store, [folder], progress=lambda done, total, what: calls.append(what))
        finally:
            holder.release()
        message = str(info.value)
        assert str(path) in message and "busy" in message and "Nothing was imported" in message
        assert snapshot(store) == before
        reading = [c for c in calls if c.startswith("Reading ")]
        assert len(reading) == len(set(reading))  # the files were read once, whatever the tries
        assert [title for _, title in import_sources(store, [folder]).added] == ["Last"]  # free again: it goes in
    finally:
        store.close()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_refused_import_says_so_and_changes_nothing(kb_store: Store, desk, team_database, folder: Path) -> None:
    """A team whose administrator keeps the knowledge base to supervisors: an agent's import is
    refused by the server, in a sentence, with nothing changed; a supervisor's goes in."""
    import psycopg

    import_sources(kb_store, [folder])
    (folder / "zz.md").write_text("# Last\n\nlast")
    before = snapshot(kb_store)
    with psycopg.connect(team_database.admin_url, autocommit=True) as admin:
        admin.execute("REVOKE INSERT, UPDATE, DELETE ON agent_assist.articles FROM agent_assist_agent")
    with pytest.raises(PermissionRefusedError) as info:
        import_sources(kb_store, [folder])
    message = str(info.value)
    assert message.startswith("The team server refused to change its knowledge base for you (")
    assert "permission denied" in message.lower() and "Nothing was imported" in message
    assert "\n" not in message
    assert snapshot(kb_store) == before
    report = import_sources(desk("sue", "supervisor"), [folder])
    assert report.added == [("zz.md", "Last")]
    assert titles(kb_store, "last") == ["Last"]  # and the agent finds it
