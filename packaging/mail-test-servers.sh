#!/usr/bin/env bash
# Install what the e-mail channel's tests (tests/channels/email/) and benchmarks/mail.py need:
#   - Dovecot's IMAP server (Debian/Ubuntu: dovecot-imapd, which pulls dovecot-core),
#   - aiosmtpd in .venv (the receiving SMTP server the tests start in-process).
# The tests start their own Dovecot on 127.0.0.1 with a throwaway config, so a system
# Dovecot service that the package installs is kept from starting (policy-rc.d during the
# install) and is stopped and disabled afterwards. Safe to run again: it only installs
# what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# shellcheck source=packaging/apt-install-quiet.sh
. packaging/apt-install-quiet.sh
if ! install_without_starting dovecot-imapd; then
  if command -v apt-get >/dev/null 2>&1; then echo "Installing dovecot-imapd failed." >&2; exit 1; fi
  command -v dovecot >/dev/null 2>&1 ||
    echo "No apt-get here: install Dovecot (IMAP) yourself; the e-mail tests skip without it." >&2
fi

# a system Dovecot must not run: it would hold ports 143/993 and is not what the tests use
if command -v dovecot >/dev/null 2>&1; then
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $sudo systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true
  else
    if command -v update-rc.d >/dev/null 2>&1; then $sudo update-rc.d dovecot disable >/dev/null 2>&1 || true; fi
    if [ -f /run/dovecot/master.pid ] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null; then
      $sudo dovecot -c /etc/dovecot/dovecot.conf stop >/dev/null 2>&1 || true
    fi
  fi
fi

# the in-process SMTP server of the tests (also in the project's test extra once added there)
if [ -x .venv/bin/python ] && ! .venv/bin/python -c "import aiosmtpd" >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q "aiosmtpd>=1.4"
fi
echo "Mail test servers ready: $(dovecot --version 2>/dev/null || echo 'dovecot missing')"
