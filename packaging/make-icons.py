"""Render the app icon (resources/icons/agent-assist.svg) into the freedesktop hicolor theme layout.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make-icons.py

writes resources/icons/hicolor/<N>x<N>/apps/<APP_ID>.png for every size in SIZES and
copies the SVG to resources/icons/hicolor/scalable/apps/<APP_ID>.svg. The PNGs are
committed, so a build never needs Qt's SVG renderer; run this again after changing the SVG.
It also writes packaging/windows/agent-assist.ico (16-256 px) for the Windows installer.
``--check`` only verifies that the committed files match what would be written.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "resources" / "icons" / "agent-assist.svg"
THEME = ROOT / "resources" / "icons" / "hicolor"
ICO = ROOT / "packaging" / "windows" / "agent-assist.ico"
APP_ID = "io.github.agent_assist.AgentAssist"  # the reverse-DNS id of the .desktop file and metainfo
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(renderer: QSvgRenderer, size: int) -> bytes:
    """The icon at size x size pixels, as PNG bytes (premultiplied ARGB, antialiased)."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.convertToFormat(QImage.Format.Format_ARGB32).save(buf, "PNG")
    buf.close()
    return bytes(data.data())


def ico_from_pngs(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico holding PNG-compressed images (supported since Windows Vista)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for s in sizes:
        blob = pngs[s]
        dim = 0 if s >= 256 else s  # 0 means 256 in the directory entry
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset)
        blobs += blob
        offset += len(blob)
    return header + entries + blobs


def outputs() -> dict[Path, bytes]:
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise SystemExit(f"{SOURCE} is not a valid SVG")
    pngs = {size: render(renderer, size) for size in SIZES}
    files = {THEME / f"{s}x{s}" / "apps" / f"{APP_ID}.png": png for s, png in pngs.items()}
    files[THEME / "scalable" / "apps" / f"{APP_ID}.svg"] = SOURCE.read_bytes()
    files[ICO] = ico_from_pngs({s: pngs[s] for s in ICO_SIZES})
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail when a committed icon is missing or stale")
    args = parser.parse_args(argv)
    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])  # noqa: F841 - QPainter needs one
    stale = []
    for path, data in outputs().items():
        if path.exists() and path.read_bytes() == data:
            continue
        if args.check:
            stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".svg":
            shutil.copyfile(SOURCE, path)
        else:
            path.write_bytes(data)
        print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print("stale or missing (run packaging/make-icons.py):", *(str(p.relative_to(ROOT)) for p in stale), sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
