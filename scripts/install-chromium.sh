#!/usr/bin/env bash
# Make sure Debian's chromium is installed for the browser tests (Playwright drives it; we
# never download Playwright's own browsers). Does nothing when /usr/bin/chromium exists.
# Installs with apt-get when we are root (or via sudo when that works without a password);
# otherwise says what to run and exits 0, and the browser tests skip saying why.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: no apt-get here; install chromium yourself to run the browser tests" >&2
  exit 0
fi
as_root=()
if [ "$(id -u)" != 0 ]; then
  if sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "install-chromium: run 'sudo apt-get install -y chromium' to run the browser tests" >&2
    exit 0
  fi
fi
echo "install-chromium: installing Debian's chromium with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get install -y -q chromium >/dev/null 2>&1 \
  || { "${as_root[@]}" apt-get update -q >/dev/null && "${as_root[@]}" apt-get install -y -q chromium >/dev/null; }
