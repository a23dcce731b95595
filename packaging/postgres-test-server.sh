#!/usr/bin/env bash
# Install what team mode's PostgreSQL tests (tests/store/postgres/) need: Debian's `postgresql`
# package (the server binaries initdb, pg_ctl and postgres, under /usr/lib/postgresql/NN/bin).
# The tests start their own throwaway server (initdb + pg_ctl into a temporary folder, on a free
# port on 127.0.0.1), so the system cluster the package would start is kept from starting
# (policy-rc.d during the install) and is stopped afterwards. Safe to run again: it only installs
# what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# shellcheck source=packaging/apt-install-quiet.sh
. packaging/apt-install-quiet.sh
if ! install_without_starting postgresql; then
  if command -v apt-get >/dev/null 2>&1; then echo "Installing postgresql failed." >&2; exit 1; fi
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 ||
    echo "No apt-get here: install the PostgreSQL server (14 or newer) yourself; its tests skip without it." >&2
fi

# a system cluster must not run: it would hold port 5432 and is not what the tests use
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters -h 2>/dev/null | while read -r version cluster _port status _rest; do
    if [ "$status" = "online" ]; then $sudo pg_ctlcluster "$version" "$cluster" stop >/dev/null 2>&1 || true; fi
  done
fi

# the client library the tests and team mode use (also in the project's dependencies)
if [ -x .venv/bin/python ] && ! .venv/bin/python -c "import psycopg, psycopg_pool" >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q "psycopg[binary]>=3.1" "psycopg-pool>=3.2"
fi
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
echo "PostgreSQL test server ready: $("${bindir:-/usr/bin}/postgres" --version 2>/dev/null || echo 'postgres missing')"
