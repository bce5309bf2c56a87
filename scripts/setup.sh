#!/usr/bin/env bash
# Installs what building and testing need, from package registries only
# (crates.io, npm, Debian). Idempotent: prints nothing when all is present.
#
#   wasm32 target · cargo-leptos 0.3.10 · cargo-nextest · wasm-bindgen-cli (the Cargo.lock
#   version) · wasm-opt (npm binaryen, for release builds) · end2end npm
#   packages · Chromium for Playwright
#
# cargo-leptos must find wasm-bindgen and wasm-opt on PATH, or it tries to
# download them; scripts/env.sh puts .tools/ on PATH for that.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"

say() { echo "setup: $*" >&2; }

CARGO_LEPTOS_VERSION="0.3.10"   # 0.3.11 does not build on rustc 1.95
BINARYEN_VERSION="132.0.0"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version >/dev/null 2>&1; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 10 minutes)"
  # --debug: its release profile (LTO, one codegen unit) took 31 minutes on
  # 2 cores; the debug build takes about 10 and builds our site byte-identical,
  # a few seconds slower per build.
  cargo install "cargo-leptos@$CARGO_LEPTOS_VERSION" --locked --debug
fi

if ! cargo nextest --version >/dev/null 2>&1; then
  say "installing cargo-nextest (runs the Rust tests, each in its own process)"
  cargo install cargo-nextest --locked
fi

bindgen_wanted="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
bindgen_present="$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)"
if [ "$bindgen_present" != "$bindgen_wanted" ]; then
  say "installing wasm-bindgen-cli $bindgen_wanted (must match Cargo.lock)"
  # --locked fails for this crate on current rustc; the unlocked build works.
  cargo install wasm-bindgen-cli --version "=$bindgen_wanted" --force
fi

if ! command -v wasm-opt >/dev/null 2>&1; then
  say "installing wasm-opt (npm binaryen $BINARYEN_VERSION) into .tools/"
  mkdir -p "$TOOLS_DIR"
  npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION"
fi

if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  say "installing end2end npm packages"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  say "no Chromium at $chromium: installing Debian's"
  # Playwright's own download comes from outside the package registries, so
  # it is no fallback: without apt (or as another user than root), stop here.
  apt_install chromium || {
    say "install Chromium (Debian: apt-get install chromium), or set CHROMIUM_PATH to one, then retry"
    exit 1
  }
fi
