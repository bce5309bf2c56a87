#!/usr/bin/env bash
# README command 2: set up what is missing, then run every test:
#   1. unit and HTTP integration tests (cargo test, server features), the
#      HTTP ones on SQLite, then on PostgreSQL, then with sessions in Redis;
#   2. the Playwright suite in Chromium against the built app:
#      `cargo leptos end-to-end` (scripts/end_to_end.sh);
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
# `cargo leptos end-to-end`, which builds both halves and runs
# scripts/end_to_end.sh. `--all-targets` makes its server build the one the
# Rust tests above already built (the tests' dev-dependencies turn on
# features of shared crates, and a build without them compiles 92 crates
# again: 2 minutes here), so only the browser half is built now.
E2E_SERVER_BIN=target/debug/persistent-login RUST_BACKTRACE=0 \
  cargo leptos end-to-end --bin-cargo-args=--all-targets

echo "== the sign-in, browser-restart and sign-out stories through nginx, two instances"
./scripts/e2e_behind_nginx.sh
