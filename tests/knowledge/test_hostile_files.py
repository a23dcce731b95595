"""Imports trust nothing they read: special files, links out of the folder, deep nesting, cut exports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent_assist.knowledge import importers
from agent_assist.knowledge.importers import ArticleRecord, Skipped, read_path
from agent_assist.knowledge.sync import import_sources
from agent_assist.store import Store
from tests.knowledge.test_sync import kb_store  # noqa: F401 - the fixture

pytestmark = pytest.mark.skipif(os.name != "posix", reason="named pipes and /dev need a POSIX system")

ARTICLE = "# Paying early\n\nYou can pay any instalment early in the app.\n"


def reasons(path: Path) -> dict[str, str]:
    """{file name: why it was skipped}, and every article's key under "+key"."""
    out: dict[str, str] = {}
    for item in read_path(path):
        if isinstance(item, Skipped):
            out[Path(item.path).name + (f" ({item.item})" if item.item else "")] = item.reason
        else:
            out["+" + item.key] = item.title
    return out


def helpcenter(n: int) -> str:
    return json.dumps({"articles": [
        {"id": 100 + i, "title": f"Article {i}", "locale": "en", "body": f"<p>Answer number {i}.</p>"}
        for i in range(n)]}, indent=2)


def test_a_named_pipe_is_refused_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.md")  # nobody ever writes to it: a plain open() would block forever
    (tmp_path / "real.md").write_text(ARTICLE, encoding="utf-8")
    assert reasons(tmp_path) == {"pipe.md": "not a regular file (a named pipe); not read", "+real.md": "Paying early"}
    assert reasons(tmp_path / "pipe.md") == {"pipe.md": "not a regular file (a named pipe); not read"}


def test_kb_import_of_a_folder_with_a_pipe_finishes_and_reports_it(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    os.mkfifo(folder / "export.json")
    (folder / "real.md").write_text(ARTICLE, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "agent_assist", "kb", "import", str(folder), "--db",
                           str(tmp_path / "kb.db")], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    out = proc.stdout + proc.stderr
    assert "1 added" in out, out
    assert f"! skipped: {folder / 'export.json'}: not a regular file (a named pipe); not read" in out
    assert "Traceback" not in out


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_links_to_endless_devices_are_refused(tmp_path: Path, device: str) -> None:
    if not Path(device).exists():
        pytest.skip(f"{device} is not here")
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "zero.md").symlink_to(device)
    (folder / "export.json").symlink_to(device)
    assert reasons(folder) == {"export.json": "a link to a file outside the imported folder; not followed",
                               "zero.md": "a link to a file outside the imported folder; not followed"}



def test_devices_and_sockets_inside_the_folder_are_not_read(tmp_path: Path) -> None:
    import socket
    import stat

    try:  # the same device as /dev/zero, under an article's name
        os.mknod(tmp_path / "zero.md", stat.S_IFCHR | 0o600, os.makedev(1, 5))
    except PermissionError:
        pytest.skip("creating a device needs root")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock.txt"))
        assert reasons(tmp_path) == {"sock.txt": "not a regular file (a socket); not read",
                                     "zero.md": "not a regular file (a character device); not read"}


def test_a_link_out_of_the_folder_is_not_imported_one_inside_is(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("root:x:0:0:root:/root:/bin/bash\n\nA private file of this computer.\n", encoding="utf-8")
    folder = tmp_path / "kb"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "early.md").write_text(ARTICLE, encoding="utf-8")
    (folder / "passwd.txt").symlink_to(outside)
    (folder / "system.txt").symlink_to("/etc/passwd")
    (folder / "same.md").symlink_to(folder / "sub" / "early.md")  # inside the folder: fine
    (folder / "dangling.md").symlink_to(folder / "gone.md")
    (folder / "elsewhere").symlink_to(tmp_path, target_is_directory=True)  # folder links are not walked
    got = reasons(folder)
    assert got == {
        "dangling.md": "a link to nothing (its target does not exist)",
        "elsewhere": "a link to a folder; not followed",
        "passwd.txt": "a link to a file outside the imported folder; not followed",
        "+same.md": "Paying early",
        "+sub/early.md": "Paying early",
        "system.txt": "a link to a file outside the imported folder; not followed",
    }


def test_reads_are_bounded_whatever_the_size_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importers, "MAX_FILE_BYTES", 1000)
    (tmp_path / "big.md").write_text("# Big\n\n" + "x" * 2000, encoding="utf-8")
    (tmp_path / "fits.md").write_text(ARTICLE, encoding="utf-8")
    assert reasons(tmp_path) == {"big.md": "too large (0.0 MB; limit 0.000953674 MB)", "+fits.md": "Paying early"}


def test_json_nested_ten_thousand_deep_is_one_skipped_line(tmp_path: Path) -> None:
    deep = "[" * 10_000 + "]" * 10_000
    (tmp_path / "deep.json").write_text(deep, encoding="utf-8")
    (tmp_path / "deep.jsonl").write_text(
        json.dumps({"title": "Fine", "body": "A body."}) + "\n" + '{"title": "x", "body": ' + deep + "}\n",
        encoding="utf-8")
    (tmp_path / "field.json").write_text(  # an article with a field nested deep (but parseable)
        json.dumps([{"title": "Ok", "body": "Body."}])[:-1] + ', {"title": "Deep", "body": "b", "tags": '
        + "[" * 900 + "]" * 900 + "}]", encoding="utf-8")
    (tmp_path / "cut-deep.json").write_text("[" + json.dumps({"title": "Kept", "body": "Body."}) + ", "
                                            + "[" * 10_000, encoding="utf-8")
    (tmp_path / "real.md").write_text(ARTICLE, encoding="utf-8")
    got = reasons(tmp_path)
    assert got["deep.json"] == "nested too deeply to be an article export"
    assert got["deep.jsonl (line 2)"] == "nested too deeply to be an article export"
    assert got["+Fine"] == "Fine" and got["+Ok"] == "Ok" and got["+real.md"] == "Paying early"
    assert got["+Kept"] == "Kept"
    assert got["cut-deep.json (record 2)"].startswith("Imported 1 record; ")


@pytest.mark.both_backends  # the rest of this file is about reading files: which store they go to is no matter
def test_a_cut_off_export_imports_its_complete_records(kb_store: Store, tmp_path: Path) -> None:  # noqa: F811
    full = helpcenter(10)
    cut = full[: full.index('"Article 7"') + 5]  # mid-way through record 8
    export = tmp_path / "helpcenter.json"
    export.write_text(cut, encoding="utf-8")
    report = import_sources(kb_store, [export], actor="alex")
    assert [title for _, title in report.added] == [f"Article {i}" for i in range(7)]
    assert f"! skipped: {export} (record 8): Imported 7 records; the file ends mid-record after record 7." \
        in report.lines()
    # the whole file later: the rest arrives, nothing imported before is lost or doubled
    export.write_text(full, encoding="utf-8")
    report = import_sources(kb_store, [export], actor="alex")
    assert [title for _, title in report.added] == ["Article 7", "Article 8", "Article 9"]
    assert len(report.unchanged) == 7 and report.skipped == []
    # cut again: the records past the cut are kept (their absence is the cut, not a deletion)
    export.write_text(cut, encoding="utf-8")
    report = import_sources(kb_store, [export], actor="alex")
    assert report.removed == [] and len(report.unchanged) == 7


def test_a_plain_list_cut_off_and_a_broken_record_in_the_middle(tmp_path: Path) -> None:
    records = [{"id": i, "title": f"T{i}", "body": f"Body {i}."} for i in range(4)]
    text = json.dumps(records)
    (tmp_path / "cut.json").write_text(text[:-20], encoding="utf-8")
    (tmp_path / "broken.json").write_text(text.replace('"T2", ', '"T2" '), encoding="utf-8")
    got = reasons(tmp_path)
    assert got["cut.json (record 4)"] == "Imported 3 records; the file ends mid-record after record 3."
    assert got["broken.json (record 3)"].startswith("Imported 2 records; not valid JSON at line 1, column ")
    assert got["broken.json (record 3)"].endswith(") after record 2.")
    assert {k for k in got if k.startswith("+")} == {"+0", "+1", "+2"}  # keys of both files


def test_a_parser_failure_is_a_skipped_line_not_an_abort(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_parser(text: str):
        raise ValueError("a parser bug on hostile input")

    monkeypatch.setattr(importers, "_parse_markdown", broken_parser)
    (tmp_path / "a.md").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "b.txt").write_text("Title\n\nBody text.\n", encoding="utf-8")
    items = list(read_path(tmp_path))
    assert [(type(i).__name__, getattr(i, "reason", None)) for i in items] == [
        ("Skipped", "could not be read (ValueError)"), ("ArticleRecord", None)]
    assert isinstance(items[1], ArticleRecord)
