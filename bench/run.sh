#!/usr/bin/env bash
# The benchmark command (issue #4; BENCHMARKS.md explains the figures):
#   ./bench/run.sh [--seconds N] [--only-stores | --only-api-me | --only-first-load |
#                  --only-fairness | --only-slots | --only-rotation |
#                  --compare-with BINARY]
# Installs what is missing (the build tools via scripts/setup.sh, wrk from
# Debian, Flask and gunicorn from PyPI into .tools/bench-venv), builds the
# release server and wasm, then runs bench/bench.py: our server and the Flask
# peer measured side by side on loopback, on fresh databases under /tmp.
# Writes bench/results.json and the table in BENCHMARKS.md. Not part of the
# test command or CI. Takes about 25 minutes from a warm build.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
"$REPO_ROOT/scripts/setup.sh"
cd "$REPO_ROOT"

say() { echo "bench: $*" >&2; }

if ! command -v wrk >/dev/null 2>&1; then
  say "installing Debian's wrk"
  if ! apt_install wrk; then
    say "wrk is missing: install it (Debian: sudo apt-get install wrk) and retry"
    exit 1
  fi
fi

venv="$TOOLS_DIR/bench-venv"
if ! "$venv/bin/python" -c 'import flask, gunicorn, flask_session, redis' 2>/dev/null; then
  say "installing the Flask peer's packages into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r bench/peer/requirements.txt
fi

for port in 3100 3200; do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
    say "127.0.0.1:$port is in use; stop what serves there and retry"
    exit 1
  fi
done

say "building the release server and wasm (cargo leptos build --release --precompress)"
cargo leptos build --release --precompress

say "building the plain axum + tower-sessions page (bench/page-floor)"
CARGO_TARGET_DIR="$REPO_ROOT/target/page-floor" \
  cargo build --release --quiet --manifest-path bench/page-floor/Cargo.toml

exec python3 bench/bench.py --python "$venv/bin/python" "$@"
