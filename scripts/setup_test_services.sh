#!/usr/bin/env bash
# What the tests need beyond scripts/setup.sh: nginx (Debian's package,
# unpacked into .tools/ so that no service is installed or started), and the
# PostgreSQL and Redis servers the tests make throwaway databases and key
# prefixes on (this machine's, or those TEST_POSTGRES_URL and TEST_REDIS_URL
# name), with the tools the outage tests run (redis-server, initdb, pg_ctl),
# and aiosmtpd for the tests' SMTP server.
# Idempotent: prints nothing when all is present.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"

say() { echo "setup: $*" >&2; }

if ! command -v nginx >/dev/null 2>&1 && [ ! -x "$TOOLS_DIR/nginx/usr/sbin/nginx" ]; then
  say "unpacking Debian's nginx into .tools/nginx (no service is started)"
  mkdir -p "$TOOLS_DIR"
  (cd "$TOOLS_DIR" && apt-get download nginx >/dev/null 2>&1 && dpkg -x nginx_*.deb nginx && rm -f nginx_*.deb)
fi

# The SMTP server the mail tests start and stop (scripts/smtp_sink.py).
if ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
  say "installing Python's aiosmtpd (the tests' SMTP server) from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore aiosmtpd
fi

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v pg_config >/dev/null 2>&1 || missing+=(postgresql)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]} from Debian's packages"
  apt_install "${missing[@]}" || { say "cannot install ${missing[*]}: install them, then retry"; exit 1; }
fi

postgres="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if ! psql "$postgres" -qAtc 'SELECT 1' >/dev/null 2>&1; then
  say "no PostgreSQL answers at $postgres: start one (or set TEST_POSTGRES_URL), then retry"
  exit 1
fi
redis="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
if [ "$(redis-cli -u "$redis" ping 2>/dev/null)" != PONG ]; then
  say "no Redis answers at $redis: start one (or set TEST_REDIS_URL), then retry"
  exit 1
fi
