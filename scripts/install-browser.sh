#!/usr/bin/env bash
# Install Debian's Chromium (and its driver) for the browser tests, if missing.
#
# Playwright drives this system Chromium (tests/browser/conftest.py): its own
# browser downloads (`playwright install`) are never used. Needs root (CI runs
# as root); without root and without Chromium, it says so and fails.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-browser: /usr/bin/chromium is missing; run as root: apt-get install chromium chromium-driver" >&2
  exit 1
fi
echo "=== Installing Chromium from Debian's packages ==="
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium chromium-driver fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
