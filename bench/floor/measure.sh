#!/usr/bin/env bash
# The wasm size floor (BENCHMARKS.md, "Wasm size"): builds the two minimal apps
# of Cargo.toml the way cargo-leptos builds ours (wasm-release profile,
# wasm-bindgen, wasm-opt -Oz) and prints raw and gzip -9 sizes beside ours.
#   ./bench/floor/measure.sh        (about 10 min on 2 cores)
# The JS is wasm-bindgen's, unminified (cargo-leptos minifies ours).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/env.sh"
"$REPO_ROOT/scripts/setup.sh"
here="$REPO_ROOT/bench/floor"
out="$REPO_ROOT/target/floor"
cp "$REPO_ROOT/Cargo.lock" "$here/Cargo.lock"   # the same Leptos versions as ours

size() { printf '%7.1f KB / %6.1f KB' "$(($(wc -c <"$1")))e-3" "$(($(gzip -9 -c "$1" | wc -c)))e-3"; }

printf '%-28s %-26s %-26s\n' "app" "wasm raw / gzip" "js raw / gzip"
for app in hydrated islands; do
  cargo build --quiet --manifest-path "$here/Cargo.toml" --lib --target wasm32-unknown-unknown \
    --profile wasm-release --features "$app" --target-dir "$out"
  wasm-bindgen --target web --out-dir "$out/$app" --out-name app \
    "$out/wasm32-unknown-unknown/wasm-release/leptos_floor.wasm"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$out/$app/app_bg.wasm" -o "$out/$app/app_bg.wasm"
  printf '%-28s %-26s %-26s\n' "minimal $app" "$(size "$out/$app/app_bg.wasm")" "$(size "$out/$app/app.js")"
done
pkg="$REPO_ROOT/target/site/pkg"
if [ -f "$pkg/persistent-login.wasm" ]; then
  printf '%-28s %-26s %-26s\n' "ours (release build)" "$(size "$pkg/persistent-login.wasm")" "$(size "$pkg/persistent-login.js")"
fi
