"""Knowledge import from the window: progress, Cancel, report, and the knowledge base after."""

from __future__ import annotations

from pathlib import Path

from agent_assist.knowledge.articles import count
from agent_assist.store import Store
from tests.ui.conftest import wait_loaded


def _folder(tmp_path: Path, n: int) -> Path:
    src = tmp_path / "kb"
    src.mkdir()
    for i in range(n):
        (src / f"a{i:03d}.md").write_text(f"# Delivery question {i}\n\nParcels arrive in {i % 7 + 1} days.\n",
                                          encoding="utf-8")
    (src / "broken.md").write_bytes(b"\x00\x01\x02 not text")
    return src


def test_import_shows_progress_and_a_report(small_store: Store, make_window, qtbot, tmp_path):
    w = make_window(small_store)
    wait_loaded(qtbot, w)  # the first ticket's status line comes first, not over the import's
    before = count(small_store.db)
    seen: list[tuple[int, int, str]] = []
    job = w.import_knowledge([str(_folder(tmp_path, 30))])
    job.progressed.connect(lambda d, t, what: seen.append((d, t, what)))
    with qtbot.waitSignal(job.finished, timeout=10_000) as done:
        pass
    report = done.args[0]
    assert len(report.added) == 30 and len(report.skipped) == 1
    assert count(small_store.db) == before + 30
    assert "30 added" in job.report_box.text() and "binary" in job.report_box.detailedText()
    job.report_box.close()
    qtbot.waitUntil(lambda: "30 added" in w.statusBar().currentMessage(), timeout=2000)


def test_cancel_leaves_the_knowledge_base_as_it_was(small_store: Store, make_window, qtbot, tmp_path):
    w = make_window(small_store)
    wait_loaded(qtbot, w)  # the first ticket's status line comes first, not over the import's
    before = count(small_store.db)
    src = _folder(tmp_path, 400)
    job = w.import_knowledge([str(src)])
    job.cancel()  # as the Cancel button does
    with qtbot.waitSignal(job.cancelled, timeout=10_000):
        pass
    assert count(small_store.db) == before
    qtbot.waitUntil(lambda: "cancelled" in w.statusBar().currentMessage(), timeout=2000)
