#!/usr/bin/env bash
# Set up a development copy: the system libraries Qt needs (Debian/Ubuntu, when
# missing), a virtual environment in .venv, and Agent Assist with its test tools.
set -euo pipefail
cd "$(dirname "$0")/.."

# Qt's xcb/offscreen platforms need these on a bare Debian/Ubuntu box; xvfb lets
# the app run (and be screenshotted) without a real screen.
SYSTEM_PACKAGES=(
  libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libfreetype6 libglib2.0-0
  libdbus-1-3 fonts-dejavu-core xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-image0
  libxcb-render-util0 libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libxcb-cursor0 libxcb-xkb1
  desktop-file-utils appstream
)
if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for pkg in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "Installing system packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
echo "Ready: .venv/bin/agent-assist --demo starts the app on demo data."
