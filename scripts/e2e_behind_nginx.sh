#!/usr/bin/env bash
# The Playwright sign-in, browser-restart and sign-out stories through nginx
# (deploy/nginx.conf, its ports replaced) in front of two instances of the
# built binary, on a throwaway PostgreSQL database with the sessions in Redis
# under a throwaway key prefix (this machine's PostgreSQL and Redis, as for the
# Rust tests). Run by scripts/test.sh after the Rust tests have built
# target/debug/persistent-login and `cargo leptos build` target/site.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"

nginx_bin="$(command -v nginx || echo "$TOOLS_DIR/nginx/usr/sbin/nginx")"
postgres_server="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
redis_url="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"

port_a="$(free_port)"; port_b="$(free_port)"; port_nginx="$(free_port)"
run="$(mktemp -d)"
suffix="$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
database="pl_nginx_$suffix"
prefix="pl_nginx:$suffix:session:"
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$postgres_server" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -u "$redis_url" --scan --pattern "$prefix*" | xargs -r redis-cli -u "$redis_url" del >/dev/null || true
  rm -rf "$run"
}
trap cleanup EXIT

psql "$postgres_server" -qc "CREATE DATABASE $database" >/dev/null

for port in "$port_a" "$port_b"; do
  DATABASE_URL="${postgres_server%/*}/$database" \
  SESSION_STORE=redis REDIS_URL="$redis_url" SESSION_KEY_PREFIX="$prefix" \
  TRUSTED_PROXIES=127.0.0.1 \
  THROTTLE_SIGN_UPS_PER_ADDRESS=1000 THROTTLE_MAIL_PER_ADDRESS=1000 \
  LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site LEPTOS_OUTPUT_NAME=persistent-login \
  RUST_LOG="warn,audit=info" \
    target/debug/persistent-login >"$run/instance-$port.log" 2>&1 &
  pids+=("$!")
done

# The deployment example with this run's ports, inside a main block that
# keeps nginx's files in the run folder.
sed -e "s/127.0.0.1:3001/127.0.0.1:$port_a/" -e "s/127.0.0.1:3002/127.0.0.1:$port_b/" \
    -e "s/listen 8080;/listen 127.0.0.1:$port_nginx;/" deploy/nginx.conf >"$run/site.conf"
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;"
cat >"$run/nginx.conf" <<CONF
$user_line
daemon off;
pid $run/nginx.pid;
error_log stderr error;
events {}
http {
    access_log off;
    client_body_temp_path $run/body;
    proxy_temp_path $run/proxy;
    fastcgi_temp_path $run/fastcgi;
    uwsgi_temp_path $run/uwsgi;
    scgi_temp_path $run/scgi;
    include $run/site.conf;
}
CONF
"$nginx_bin" -e stderr -p "$run" -c "$run/nginx.conf" &
pids+=("$!")

for port in "$port_a" "$port_b"; do
  for _ in $(seq 200); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
done
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port_nginx/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "e2e behind nginx: 127.0.0.1:$port_nginx -> instances on $port_a and $port_b"
(cd end2end && BASE_URL="http://127.0.0.1:$port_nginx" \
  npx playwright test sign_in.spec.ts browser_restart.spec.ts sign_out.spec.ts)

# Round-robin: both instances served the stories (each logged sign-ups,
# sign-ins or sign-outs).
for port in "$port_a" "$port_b"; do
  if ! grep -qE '"(register|sign_in|sign_out)"' "$run/instance-$port.log"; then
    echo "e2e behind nginx: the instance on $port served no story" >&2
    exit 1
  fi
done
echo "e2e behind nginx: both instances served"
