"""Packaging: icons, desktop entry, metainfo and the bundle recipe.

The quick checks always run. Building the PyInstaller bundle takes minutes, so that test runs only
with ``AGENT_ASSIST_BUILD_BUNDLE=1``: it builds dist/agent-assist/ into a temp folder and starts the
bundled app on a fresh database, with no screen (and under Xvfb when ``xvfb-run`` exists).
"""

from __future__ import annotations

import ast
import configparser
import os
import re
import shutil
import struct
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from agent_assist import __version__

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "io.github.agent_assist.AgentAssist"
DESKTOP = ROOT / "packaging" / "linux" / f"{APP_ID}.desktop"
METAINFO = ROOT / "packaging" / "linux" / f"{APP_ID}.metainfo.xml"
SPEC = ROOT / "packaging" / "pyinstaller" / "agent-assist.spec"
ICONS = ROOT / "resources" / "icons" / "hicolor"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
BUILD_BUNDLE = os.environ.get("AGENT_ASSIST_BUILD_BUNDLE") == "1"


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


# -- icons, desktop entry, metainfo -----------------------------------------------------------
@pytest.mark.parametrize("size", SIZES)
def test_an_icon_in_every_size(size: int):
    path = ICONS / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
    assert png_size(path) == (size, size)


def test_the_scalable_icon_is_the_source_svg():
    scalable = ICONS / "scalable" / "apps" / f"{APP_ID}.svg"
    assert scalable.read_bytes() == (ROOT / "resources" / "icons" / "agent-assist.svg").read_bytes(), \
        "run packaging/make-icons.py after changing the SVG"


def test_the_windows_icon_holds_the_sizes_up_to_256():
    data = (ROOT / "packaging" / "windows" / "agent-assist.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    dims = {struct.unpack("<B", data[6 + 16 * i:7 + 16 * i])[0] or 256 for i in range(count)}
    assert dims == {16, 24, 32, 48, 64, 128, 256}


def test_the_desktop_entry_names_the_command_and_the_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(DESKTOP, encoding="utf-8")
    main = entry["Desktop Entry"]
    assert main["Type"] == "Application" and main["Name"] == "Agent Assist"
    assert main["Icon"] == APP_ID
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert main["Exec"].split()[0] in scripts and main["TryExec"] in scripts
    assert main["StartupWMClass"] == "agent-assist"  # QCoreApplication.applicationName (APP_ID)
    assert entry["Desktop Action demo"]["Exec"] == "agent-assist --demo"


def test_the_metainfo_matches_the_desktop_entry_and_the_project():
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == DESKTOP.name
    assert root.findtext("provides/binary") == "agent-assist"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    license_ = project["license"]
    assert root.findtext("project_license") == (license_["text"] if isinstance(license_, dict) else license_)
    newest = root.find("releases/release")
    assert newest.get("version") == __version__, "add a <release> for the new version to the metainfo"


@pytest.mark.skipif(not (shutil.which("desktop-file-validate") and shutil.which("appstreamcli")),
                    reason="needs desktop-file-validate (desktop-file-utils) and appstreamcli (appstream)")
def test_the_desktop_files_validate():
    result = subprocess.run(["bash", str(ROOT / "packaging" / "check-desktop-files.sh")],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# -- the bundle recipe ----------------------------------------------------------------------------
def _spec_qt_excludes() -> set[str]:
    text = SPEC.read_text(encoding="utf-8")
    block = text[text.index("QT_EXCLUDES = ["):]
    block = block[:block.index("\n]\n")]
    return set(re.findall(r'"(Qt\w+)"', block))


def test_the_recipes_parse():
    ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))
    ast.parse((ROOT / "packaging" / "make-icons.py").read_text(encoding="utf-8"))
    for script in ("build-bundle.sh", "check-desktop-files.sh"):
        subprocess.run(["bash", "-n", str(ROOT / "packaging" / script)], check=True, timeout=30)


def test_the_bundle_keeps_every_qt_module_the_code_imports():
    """The spec leaves unused Qt modules out; importing one of them later would break only the bundle."""
    used = set()
    for path in (ROOT / "agent_assist").rglob("*.py"):
        used |= set(re.findall(r"\bPySide6\.(Qt\w+)", path.read_text(encoding="utf-8")))
    excluded = _spec_qt_excludes()
    assert {"QtWebEngineCore", "QtQml", "QtQuick", "Qt3DCore", "QtMultimedia"} <= excluded
    assert used and not used & excluded, f"remove {sorted(used & excluded)} from QT_EXCLUDES in {SPEC.name}"


# -- building and starting it (minutes) --------------------------------------------------------
def _isolated_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_ASSIST_", "PYTHON", "QT_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               XDG_STATE_HOME=str(home / "state"), XDG_CACHE_HOME=str(home / "cache"), **extra)
    return env


@pytest.mark.slow
@pytest.mark.skipif(not BUILD_BUNDLE, reason="builds the PyInstaller bundle (minutes): set AGENT_ASSIST_BUILD_BUNDLE=1")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the smoke test drives the Linux bundle")
def test_the_bundle_builds_and_starts_on_a_fresh_database(tmp_path: Path):
    dist = tmp_path / "dist"
    build = subprocess.run(["bash", str(ROOT / "packaging" / "build-bundle.sh")], cwd=ROOT, capture_output=True,
                           text=True, timeout=1500, check=False,
                           env={**os.environ, "DIST": str(dist), "SKIP_SMOKE": "1"})
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    bundle = dist / "agent-assist"
    exe = bundle / "agent-assist"
    assert exe.is_file()

    # what was left out stays out, and the size stays in bounds
    files = [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()]  # links into PySide6/Qt/lib
    names = {p.name for p in files}
    for unwanted in ("libQt6WebEngineCore.so.6", "libQt6Quick.so.6", "libQt6Qml.so.6", "libQt6Pdf.so.6",
                     "libQt6Multimedia.so.6", "libQt63DCore.so.6", "libqgtk3.so"):
        assert unwanted not in names
    assert (bundle / "_internal" / "agent_assist" / "resources" / "demo" / "articles.json").is_file()
    assert (bundle / "_internal" / "agent_assist" / "store" / "postgres" / "migrations" / "001_schema.sql").is_file()
    assert not any("screenshots" in p.parts for p in files)
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    assert size_mb < 260, f"the bundle grew to {size_mb:.0f} MB"

    home = tmp_path / "home"
    home.mkdir()
    env = _isolated_env(home)

    def run(*args: str, timeout: float = 120, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout, check=False,
                              env={**env, **extra})

    assert run("--version").stdout.strip() == f"agent-assist {__version__}"
    demo = tmp_path / "demo.db"
    made = run("demo", "--db", str(demo), "--tickets", "30")  # reads the bundled resources/demo
    assert made.returncode == 0, made.stderr
    found = run("kb", "search", "refund", "--db", str(demo), "--limit", "1")
    assert found.returncode == 0 and "KB-" in found.stdout, found.stdout + found.stderr
    diag = run("diagnostics", "--db", str(demo))
    assert diag.returncode == 0 and "Build:" in diag.stdout and "bundle" in diag.stdout
    assert "Tickets:" in diag.stdout and "FTS5: yes" in diag.stdout

    # the window, on a database that does not exist yet, with no screen; closed after 1.5 s
    fresh = tmp_path / "sub" / "x.db"
    fresh.parent.mkdir()  # a missing folder is asked about (refused offscreen), not created silently
    started = run("--db", str(fresh), "--user", "smoke", "--quit-after", "1500", QT_QPA_PLATFORM="offscreen")
    assert started.returncode == 0, started.stdout + started.stderr
    assert "Traceback" not in started.stderr
    from agent_assist.store import Store

    with Store(fresh) as store:
        assert store.schema_version() == store.latest_version
    log_text = (home / "state" / "agent-assist" / "log" / "agent-assist.log").read_text(encoding="utf-8")
    assert "starting" in log_text and "Traceback" not in log_text

    # a real X11 window, when Xvfb is there: proves the xcb plugin found all its libraries
    if shutil.which("xvfb-run"):
        shown = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", str(exe), "--db", str(demo),
                                "--user", "smoke", "--quit-after", "1500"], capture_output=True, text=True,
                               timeout=120, check=False, env={**env, "QT_QPA_PLATFORM": "xcb"})
        assert shown.returncode == 0, shown.stdout + shown.stderr
        assert "Could not load the Qt platform plugin" not in shown.stderr
