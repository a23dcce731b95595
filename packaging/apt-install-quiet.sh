# Sourced by the test-server scripts: install_without_starting PKG… installs the Debian/Ubuntu
# packages that are missing, keeping their maintainer scripts from starting a system service
# (policy-rc.d for the time of the install): the tests start their own throwaway servers.
# Returns 1 when there is no apt-get here (the caller says what to install by hand).

install_without_starting() {
  command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1 || return 1
  local sudo="" missing=() pkg added_policy=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "Installing system packages: ${missing[*]}"
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    added_policy=1
  fi
  local status=0
  { $sudo apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; } || status=$?
  if [ -n "$added_policy" ]; then $sudo rm -f /usr/sbin/policy-rc.d; fi
  return $status
}
