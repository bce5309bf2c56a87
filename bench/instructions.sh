#!/usr/bin/env bash
# Instructions per signed-in /dashboard page, counted by valgrind's callgrind
# (BENCHMARKS.md, "Session id rotation"): ours, the plain axum +
# tower-sessions page (bench/page-floor) and, with --compare-with, another
# build of ours. A count is the same on a busy or an idle machine and on any
# machine of the same kind, where req/s are not: use it to tell a regression
# from a slower machine.
#   ./bench/instructions.sh [--pages N] [--compare-with BINARY]
# Each server runs twice under callgrind, with no page and with N pages over
# one keep-alive connection after one sign-in; the difference over N is what
# one page costs. Takes about 5 minutes from a warm build.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
cd "$REPO_ROOT"

pages=300
compare=""
while [ $# -gt 0 ]; do
  case "$1" in
    --pages) pages=$2; shift 2 ;;
    --compare-with) compare=$2; shift 2 ;;
    *) echo "usage: $0 [--pages N] [--compare-with BINARY]" >&2; exit 2 ;;
  esac
done

say() { echo "instructions: $*" >&2; }
if ! command -v valgrind >/dev/null 2>&1; then
  say "installing Debian's valgrind"
  apt_install valgrind
fi

say "building the release server (ssr only: no site is needed to render a page)"
cargo build --release --quiet --features ssr --bin persistent-login
say "building the plain axum + tower-sessions page"
CARGO_TARGET_DIR="$REPO_ROOT/target/page-floor" \
  cargo build --release --quiet --manifest-path bench/page-floor/Cargo.toml

work=$(mktemp -d /tmp/instructions-XXXX)
trap 'rm -rf "$work"' EXIT
port=3391

# total_instructions NAME N SERVER...: callgrind's total for a run of N pages.
total_instructions() {
  local name=$1 n=$2; shift 2
  local run="$work/$name-$n" jar
  mkdir -p "$run/site"
  jar="$run/jar"
  env DATABASE_URL="sqlite://$run/app.db" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    LEPTOS_SITE_ROOT="$run/site" RUST_LOG=warn FLOOR_PORT=$port \
    FLOOR_DATABASE="$run/floor.db" \
    valgrind --tool=callgrind --callgrind-out-file="$run/cg.out" "$@" \
    >"$run/server.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 600); do
    curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
    sleep 0.2
  done
  if [ "$name" = floor ]; then
    curl -s -o /dev/null -c "$jar" -b "$jar" -d "username=bench1" "http://127.0.0.1:$port/login"
  else
    local form="username=bench1&password=correct horse battery staple"
    curl -s -o /dev/null -c "$jar" -b "$jar" -d "$form" "http://127.0.0.1:$port/api/register"
    curl -s -o /dev/null -c "$jar" -b "$jar" -d "$form&remember=on" "http://127.0.0.1:$port/api/login"
  fi
  if [ "$n" -gt 0 ]; then
    local urls=()
    for _ in $(seq 1 "$n"); do urls+=(-o /dev/null "http://127.0.0.1:$port/dashboard"); done
    local answers
    answers=$(curl -s -b "$jar" -w '%{http_code}\n' "${urls[@]}" | sort | uniq -c | tr -s ' ')
    if [ "$answers" != " $n 200" ]; then
      say "$name: not every page answered 200 ($answers)"
      exit 1
    fi
  fi
  kill -TERM "$pid"
  wait "$pid" || true
  grep -m1 '^summary:' "$run/cg.out" | awk '{print $2}'
}

per_page() {
  local name=$1; shift
  local none some
  none=$(total_instructions "$name" 0 "$@")
  some=$(total_instructions "$name" "$pages" "$@")
  echo $(((some - none) / pages))
}

ours=$(per_page ours target/release/persistent-login)
floor=$(per_page floor target/page-floor/release/page-floor)
echo "| Signed-in /dashboard, instructions per page (callgrind, $pages pages) | instructions | vs the plain page |"
echo "|---|---:|---:|"
echo "| ours ($(git rev-parse --short HEAD)) | $ours | $(python3 -c "print(f'{$ours/$floor:.1f}x')") |"
if [ -n "$compare" ]; then
  other=$(per_page compare "$compare")
  echo "| ours, $compare | $other | $(python3 -c "print(f'{$other/$floor:.1f}x')") |"
fi
echo "| plain axum + tower-sessions, read only | $floor | 1.0x |"
