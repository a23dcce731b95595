"""Imports that overlap: the cost of recognising a path inside an imported folder.

Builds a folder of N Markdown files in S subfolders, then prints wall times for: importing the
folder, re-importing it unchanged, importing one file of it (read as part of the folder), and
importing a fresh copy folder-by-folder first and then as a whole (the folder takes over its S
subfolder sources).

    .venv/bin/python benchmarks/kb_overlap.py [--files 2000] [--subfolders 20]
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder holds a queue.py: keep it off the import path so the standard library's queue wins
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from agent_assist.knowledge.sync import import_sources  # noqa: E402
from agent_assist.store import Store  # noqa: E402


def _build(root: Path, files: int, subfolders: int) -> None:
    for i in range(files):
        sub = root / f"s{i % subfolders:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"a{i:05d}.md").write_text(f"# Question {i}\n\nAnswer {i}: parcels arrive in {i % 7 + 1} days.\n",
                                          encoding="utf-8")


def _timed(label: str, store: Store, paths: list[Path]) -> None:
    t = time.perf_counter()
    report = import_sources(store, paths)
    print(f"{label:<48} {time.perf_counter() - t:7.3f} s   {report.summary()}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--subfolders", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "kb"
        _build(root, args.files, args.subfolders)
        with Store(Path(tmp) / "a.db") as store:
            _timed("folder, first import", store, [root])
            _timed("folder, unchanged re-import", store, [root])
            _timed("one file inside it", store, [next(root.glob("s00/*.md"))])
        with Store(Path(tmp) / "b.db") as store:
            for sub in sorted(root.iterdir()):
                import_sources(store, [sub])
            _timed(f"folder taking over {args.subfolders} subfolder sources", store, [root])
            _timed("folder, unchanged re-import after that", store, [root])


if __name__ == "__main__":
    main()
