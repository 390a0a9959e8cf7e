#!/usr/bin/env bash
# Installs what the browser side needs and a fresh machine lacks:
# Debian's Chromium (plus CJK fonts for the Chinese screenshots), the openssl
# command (the TLS tests compare hostsim's facts with s_client's) and the npm
# packages pinned in package-lock.json. Safe to run again: it skips what is
# already there. --npm-only skips Chromium and openssl (enough to build the
# extension).
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

if [ "${1:-}" != "--npm-only" ] && ! command -v openssl >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: openssl is missing, so the TLS comparison test will be skipped; run as root or: sudo apt-get install openssl" >&2
  else
    echo "install-deps: installing Debian's openssl"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl >/dev/null
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
