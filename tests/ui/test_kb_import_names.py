"""The import report dialog shows names from files as they are, never acts on what is hidden in them."""

from __future__ import annotations

from pathlib import Path

from agent_assist.store import Store
from tests.ui.conftest import wait_loaded


def test_the_report_dialog_shows_control_and_bidi_characters_visibly(small_store: Store, make_window, qtbot,
                                                                     tmp_path: Path) -> None:
    w = make_window(small_store)
    wait_loaded(qtbot, w)
    src = tmp_path / "kb"
    src.mkdir()
    (src / "evil\nname\u202e.md").write_text("# Late fee \u202ewaiver\n\nWe waive the first late fee.\n",
                                            encoding="utf-8")
    (src / "broken\u2066.md").write_bytes(b"\x00\x01\x02 not text")
    seen: list[str] = []
    job = w.import_knowledge([str(src)])
    job.progressed.connect(lambda d, t, what: seen.append(job.dialog.labelText()))
    with qtbot.waitSignal(job.finished, timeout=10_000):
        pass
    details = job.report_box.detailedText()
    assert "evil␊name<U+202E>.md" in details and "broken<U+2066>.md" in details
    assert "Late fee <U+202E>waiver" in details
    assert not any(ch in details for ch in "\u202e\u2066")
    assert all("\u202e" not in label and "\u2066" not in label for label in seen)
    job.report_box.close()
