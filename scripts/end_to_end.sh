#!/usr/bin/env bash
# The Playwright suite in Chromium, against a server of its own: the built
# binary on a free port, a fresh SQLite database under target/e2e/, the
# stories' settings below, and a real SMTP server (scripts/smtp_sink.py) for
# the mail stories. Arguments go to Playwright (a spec file, `-g "title"`).
#
# `cargo leptos end-to-end` runs it (Cargo.toml's end2end-cmd) once it has
# built both halves; scripts/test.sh runs it after the Rust tests, on the
# server they built. The server cargo-leptos starts beside it on
# 127.0.0.1:3000 is not the one tested: it reads only the environment it was
# started with, and the stories need their own settings.
#
# The binary: $E2E_SERVER_BIN, else the newer of target/debug and
# target/release (the one cargo-leptos built last); the site: target/site.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"

server_bin="${E2E_SERVER_BIN:-$(ls -t target/debug/persistent-login target/release/persistent-login 2>/dev/null | head -n1 || true)}"
if [ -z "$server_bin" ] || [ ! -x "$server_bin" ]; then
  echo "end-to-end: no server binary (build it: cargo leptos build)" >&2
  exit 1
fi
if [ ! -d target/site/pkg ]; then
  echo "end-to-end: no browser half in target/site (build it: cargo leptos build)" >&2
  exit 1
fi

port="$(free_port)"
smtp_port="$(free_port)"
rm -rf target/e2e
mkdir -p target/e2e
pids=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done' EXIT

# A real SMTP server; the mail stories read what it received from
# SMTP_SINK_DIR.
export SMTP_SINK_DIR="$REPO_ROOT/target/e2e/mailbox"
python3 scripts/smtp_sink.py "$smtp_port" "$SMTP_SINK_DIR" > target/e2e/smtp.log 2>&1 &
pids+=("$!")
until grep -q ready target/e2e/smtp.log 2>/dev/null; do
  kill -0 "${pids[0]}" 2>/dev/null || { cat target/e2e/smtp.log >&2; exit 1; }
  sleep 0.1
done

# The stories' settings, for the server and for the stories that check what
# it shows.
export DATABASE_URL="sqlite://target/e2e/app.db"
export RUST_LOG="${RUST_LOG:-warn,audit=info}"
export MAIL_SMTP_URL="smtp://127.0.0.1:$smtp_port"
export MAIL_POLL_INTERVAL_SECS=1
export MAIL_SITE_URL="http://127.0.0.1:$port"
# Every story signs up from 127.0.0.1, many with an address (a message
# with a link, counted on the client's mail limit); the per-address
# sign-up and mail limits are proven by the Rust tests, not meant to stop
# the suite.
export THROTTLE_SIGN_UPS_PER_ADDRESS=1000
export THROTTLE_MAIL_PER_ADDRESS=1000
# Not the default 8: form_limits.spec.ts proves the forms show the
# configured minimum, which a hint written by hand would not.
export PASSWORD_MIN_LENGTH=10
# Not the default 600: every story runs across session id rotations (a
# new id every few requests), and rotation.spec.ts proves tabs and no-JS
# browsing stay signed in through them.
export SESSION_ROTATION_INTERVAL_SECS=2
# Browsers refuse passkeys on an IP address: the passkey stories use
# localhost on this port.
export WEBAUTHN_ORIGINS="http://localhost:$port"
export LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=persistent-login
export LEPTOS_SITE_ADDR="127.0.0.1:$port"
"$server_bin" > target/e2e/server.log 2>&1 &
pids+=("$!")
for _ in $(seq 300); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "${pids[1]}" 2>/dev/null || { cat target/e2e/server.log >&2; exit 1; }
  sleep 0.1
done
echo "end-to-end: $server_bin on 127.0.0.1:$port (its log: target/e2e/server.log)"

# Playwright's account of what failed is printed again at the end, so that a
# log's tail shows it.
if ! (cd end2end && BASE_URL="http://127.0.0.1:$port" npx playwright test "$@") 2>&1 | tee target/e2e/end-to-end.log; then
  echo "== end-to-end: what failed (the whole run: target/e2e/end-to-end.log; the server's log: target/e2e/server.log)" >&2
  sed 's/\x1b\[[0-9;]*m//g' target/e2e/end-to-end.log | awk '
    /^  [0-9]+\) \[chromium\]/ { shown = 0; failure = 1 }
    /^  [0-9]+ (failed|flaky|passed|skipped|did not run)/ { failure = 0; summary = 1 }
    summary && !/^  / { summary = 0 }
    failure && shown++ < 30 { print }
    summary { print }' >&2
  exit 1
fi
