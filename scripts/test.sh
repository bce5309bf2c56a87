#!/usr/bin/env bash
# README command 2: set up what is missing, then run every test:
#   1. unit and HTTP integration tests (cargo test, server features);
#   2. the Playwright suite in Chromium against the built app
#      (cargo leptos end-to-end), on a fresh database under target/e2e/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$REPO_ROOT/scripts/setup.sh"
cd "$REPO_ROOT"

echo "== unit and integration tests"
# One test at a time: each integration test runs its own server on its own
# tokio runtime, and many runtimes starting and stopping side by side in one
# process made a long-running server stall (never seen with one runtime).
RUST_TEST_THREADS=1 cargo test --features ssr

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
# Every Playwright story signs up from 127.0.0.1; the per-address sign-up
# limit is proven by the Rust tests, not meant to stop the suite.
export THROTTLE_SIGN_UPS_PER_ADDRESS="${THROTTLE_SIGN_UPS_PER_ADDRESS:-1000}"
cargo leptos end-to-end
