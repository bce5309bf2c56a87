#!/usr/bin/env bash
# README command 1: set up what is missing, then serve the app with live
# reload on http://127.0.0.1:3000, data in data/app.db (SQLite, created on
# first start). Pass other cargo-leptos arguments through, e.g. `--release`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$REPO_ROOT/scripts/setup.sh"
cd "$REPO_ROOT"
exec cargo leptos watch "$@"
