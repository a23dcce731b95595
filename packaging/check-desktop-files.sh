#!/usr/bin/env bash
# Validate the freedesktop desktop entry and the AppStream metainfo.
#   bash packaging/check-desktop-files.sh
# Needs desktop-file-validate (Debian/Ubuntu: desktop-file-utils) and appstreamcli (appstream).
set -euo pipefail
cd "$(dirname "$0")/.."
ID=io.github.agent_assist.AgentAssist
DESKTOP=packaging/linux/$ID.desktop
METAINFO=packaging/linux/$ID.metainfo.xml

missing=()
command -v desktop-file-validate >/dev/null 2>&1 || missing+=("desktop-file-validate (apt: desktop-file-utils)")
command -v appstreamcli >/dev/null 2>&1 || missing+=("appstreamcli (apt: appstream)")
if [ ${#missing[@]} -gt 0 ]; then
  printf 'missing tool: %s\n' "${missing[@]}" >&2
  exit 2
fi

echo "desktop-file-validate $DESKTOP"
out=$(desktop-file-validate "$DESKTOP" 2>&1) || { echo "$out"; exit 1; }
# it exits 0 on hints and warnings; treat any output as a failure so they get fixed
if [ -n "$out" ]; then echo "$out"; exit 1; fi

echo "appstreamcli validate --no-net $METAINFO"
appstreamcli validate --no-net --pedantic --explain "$METAINFO" || exit 1

# the icon the entry names must exist in the theme we ship
for size in 16 24 32 48 64 128 256 512; do
  f="resources/icons/hicolor/${size}x${size}/apps/$ID.png"
  [ -f "$f" ] || { echo "missing icon $f"; exit 1; }
done
[ -f "resources/icons/hicolor/scalable/apps/$ID.svg" ] || { echo "missing scalable icon"; exit 1; }
echo "Desktop files OK."
