#!/usr/bin/env bash
# README command 2: set up what is missing, then run every test:
#   1. unit and HTTP integration tests (cargo test, server features), the
#      HTTP ones on SQLite, then on PostgreSQL, then with sessions in Redis;
#   2. the Playwright suite in Chromium against the built app (the server
#      the Rust tests built, the browser half by cargo leptos build),
#      on a fresh database under target/e2e/,
#      with a real SMTP server (scripts/smtp_sink.py) for the mail stories;
#   3. three of its stories again through nginx in front of two instances
#      (PostgreSQL, sessions in Redis: scripts/e2e_behind_nginx.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$REPO_ROOT/scripts/setup.sh"
"$REPO_ROOT/scripts/setup_test_services.sh"
cd "$REPO_ROOT"

# The PostgreSQL server the tests make their throwaway databases on, and the
# Redis they keep sessions in under throwaway key prefixes (this machine's);
# each test deletes its own.
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"

echo "== unit and integration tests"
# cargo-nextest: every test in its own process, as many at once as there are
# cores. Several Leptos servers in one test process stalled now and then (all
# threads parked, the hashing threads idle; never with one server per
# process, which is how the app runs): SECURITY.md and BENCHMARKS.md say what
# was measured.
cargo nextest run --features ssr

# The black-box tests that start the app with the test's settings (all but
# those that run the built binary on backends of their own, and the two that
# need no backend).
on_each_backend=(--test api -E 'not test(/^(instances|outages|readme_api|settings_table|fuzz_http)::/)')

echo "== the HTTP, command-line and audit tests again, on PostgreSQL"
TEST_DATABASE=postgres cargo nextest run --features ssr "${on_each_backend[@]}"

echo "== and once more with the sessions in Redis (the rest in PostgreSQL)"
TEST_DATABASE=postgres TEST_SESSION_STORE=redis \
  cargo nextest run --features ssr "${on_each_backend[@]}"

echo "== end-to-end tests (Playwright, Chromium)"
# The suite serves the app on the site-addr in Cargo.toml (127.0.0.1:3000); a
# server already there (say, a forgotten `cargo leptos watch`) would be tested
# instead of this build.
if (exec 3<>/dev/tcp/127.0.0.1/3000) 2>/dev/null; then
  echo "test: 127.0.0.1:3000 is already in use; stop whatever serves there (e.g. scripts/run.sh) and retry" >&2
  exit 1
fi
rm -rf target/e2e
mkdir -p target/e2e
export DATABASE_URL="sqlite://target/e2e/app.db"
export RUST_LOG="${RUST_LOG:-warn,audit=info}"
# Every Playwright story signs up from 127.0.0.1, many with an address (a
# message with a link, counted on the client's mail limit); the per-address
# sign-up and mail limits are proven by the Rust tests, not meant to stop the
# suite.
export THROTTLE_SIGN_UPS_PER_ADDRESS="${THROTTLE_SIGN_UPS_PER_ADDRESS:-1000}"
export THROTTLE_MAIL_PER_ADDRESS="${THROTTLE_MAIL_PER_ADDRESS:-1000}"
# Not the default 8: form_limits.spec.ts proves the forms show the configured
# minimum, which a hint written by hand would not.
export PASSWORD_MIN_LENGTH="${PASSWORD_MIN_LENGTH:-10}"
# Not the default 600: every story runs across session id rotations (a new id
# every few requests), and rotation.spec.ts proves tabs and no-JS browsing
# stay signed in through them.
export SESSION_ROTATION_INTERVAL_SECS="${SESSION_ROTATION_INTERVAL_SECS:-2}"
# A real SMTP server for the mail stories (scripts/smtp_sink.py); they read
# what it received from SMTP_SINK_DIR.
export SMTP_SINK_DIR="$REPO_ROOT/target/e2e/mailbox"
smtp_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 scripts/smtp_sink.py "$smtp_port" "$SMTP_SINK_DIR" > target/e2e/smtp.log 2>&1 &
smtp_pid=$!
trap 'kill "$smtp_pid" 2>/dev/null || true' EXIT
until grep -q ready target/e2e/smtp.log 2>/dev/null; do
  kill -0 "$smtp_pid" 2>/dev/null || { cat target/e2e/smtp.log >&2; exit 1; }
  sleep 0.1
done
export MAIL_SMTP_URL="smtp://127.0.0.1:$smtp_port"
export MAIL_POLL_INTERVAL_SECS=1
# The server is the binary the Rust tests above built and ran (cli.rs runs
# it): cargo-leptos builds only the browser half and the site's files.
# `cargo leptos end-to-end` would compile the whole server a second time
# (6 minutes cold: it builds with flags of its own), for the same program.
cargo leptos build --frontend-only
LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_SITE_ADDR=127.0.0.1:3000 \
  target/debug/persistent-login > target/e2e/server.log 2>&1 &
server_pid=$!
trap 'kill "$smtp_pid" "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 300); do
  curl -fsS http://127.0.0.1:3000/readyz >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat target/e2e/server.log >&2; exit 1; }
  sleep 0.1
done
# Playwright's account of what failed is printed again at the end, so that a
# log's tail shows it.
if ! (cd end2end && npx playwright test) 2>&1 | tee target/e2e/end-to-end.log; then
  echo "== end-to-end: what failed (the whole run: target/e2e/end-to-end.log; the server's log: target/e2e/server.log)" >&2
  sed 's/\x1b\[[0-9;]*m//g' target/e2e/end-to-end.log | awk '
    /^  [0-9]+\) \[chromium\]/ { shown = 0; failure = 1 }
    /^  [0-9]+ (failed|flaky|passed|skipped|did not run)/ { failure = 0; summary = 1 }
    summary && !/^  / { summary = 0 }
    failure && shown++ < 30 { print }
    summary { print }' >&2
  exit 1
fi
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
kill "$smtp_pid" 2>/dev/null || true
unset MAIL_SMTP_URL

echo "== the sign-in, browser-restart and sign-out stories through nginx, two instances"
./scripts/e2e_behind_nginx.sh
