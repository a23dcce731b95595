#!/usr/bin/env bash
# Build the one-folder desktop bundle dist/agent-assist/ with PyInstaller, then smoke-test it.
#
#   bash packaging/build-bundle.sh                   # throwaway venv in build/bundle-venv (kept for reuse)
#   BUNDLE_VENV=.venv bash packaging/build-bundle.sh # use an existing venv (pyinstaller is added to it)
#   SKIP_SMOKE=1 bash packaging/build-bundle.sh      # build only
#
# The throwaway venv gets Agent Assist's dependencies from `pip install .` (so the bundle holds exactly
# the versions pyproject.toml allows) and pyinstaller never lands in the development venv; the code
# and resources/ are taken from this checkout by the spec.
# Linux builds run on the oldest glibc you support (the bundle needs that glibc or newer).
# Windows and macOS: see packaging/windows/README.md and packaging/macos/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

PYTHON=${PYTHON:-python3}
VENV=${BUNDLE_VENV:-build/bundle-venv}
PYINSTALLER_REQ=${PYINSTALLER_REQ:-"pyinstaller>=6.10,<7"}
DIST=${DIST:-dist}
WORK=${WORK:-build/pyinstaller}

case "$(uname -s)" in
  MINGW*|MSYS*|CYGWIN*) BIN="$VENV/Scripts" ;;
  *) BIN="$VENV/bin" ;;
esac

if [ ! -x "$BIN/python" ] && [ ! -x "$BIN/python.exe" ]; then
  echo "Creating the build venv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$BIN/python"
"$PY" -m pip install -q --upgrade pip
"$PY" -m pip install -q "$PYINSTALLER_REQ"
[ "$VENV" = ".venv" ] || "$PY" -m pip install -q "$ROOT"

echo "Building $DIST/agent-assist/ with $("$PY" -m PyInstaller --version 2>/dev/null | head -1 | sed 's/^/PyInstaller /')"
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$DIST" --workpath "$WORK" packaging/pyinstaller/agent-assist.spec

BUNDLE="$DIST/agent-assist"
EXE="$BUNDLE/agent-assist"
CLI="$EXE"
if [ -f "$BUNDLE/agent-assist.exe" ]; then  # Windows: the GUI exe has no console; the -cli one does
  EXE="$BUNDLE/agent-assist.exe"
  CLI="$BUNDLE/agent-assist-cli.exe"
fi
echo "Bundle: $BUNDLE ($(du -sh "$BUNDLE" | cut -f1))"

if [ -z "${SKIP_SMOKE:-}" ]; then
  # The bundle must start on its own files only: a fresh HOME, a fresh database, no screen.
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home/.config" XDG_DATA_HOME="$tmp/home/.local/share" \
         XDG_STATE_HOME="$tmp/home/.local/state" XDG_CACHE_HOME="$tmp/home/.cache"
  mkdir -p "$HOME"
  "$CLI" --version
  "$CLI" demo --db "$tmp/demo.db" --tickets 40 >/dev/null
  "$CLI" kb search "late fee" --db "$tmp/demo.db" --limit 1 >/dev/null
  QT_QPA_PLATFORM=offscreen "$EXE" --db "$tmp/demo.db" --user smoke --quit-after 500
  echo "Smoke test passed: the bundle writes demo data, searches it and opens the window."
fi
