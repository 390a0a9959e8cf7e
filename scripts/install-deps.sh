#!/usr/bin/env bash
# Installs what the browser side needs and a fresh machine lacks:
# Debian's Chromium (plus CJK fonts for the Chinese screenshots) and the npm
# packages pinned in package-lock.json. Safe to run again: it skips what is
# already there. --npm-only skips Chromium (enough to build the extension).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--npm-only" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: Chromium is missing; run as root or: sudo apt-get install chromium fonts-noto-cjk" >&2
    exit 1
  fi
  # apt takes minutes here; say what it does rather than sit silent.
  echo "install-deps: apt-get update (refreshing Debian's package lists)"
  apt-get update -q
  echo "install-deps: apt-get install chromium fonts-noto-cjk (Chromium for the browser tests, CJK fonts for the Chinese screenshots; a few minutes)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-noto-cjk
  echo "install-deps: installed $(chromium --version 2>/dev/null || echo chromium)"
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
