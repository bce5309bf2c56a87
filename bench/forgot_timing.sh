#!/usr/bin/env bash
# "Forgot your password?" answers in the same time whoever is named (#24):
# 300 requests for an account with a verified address (each queues a link,
# after the answer) against 300 for names nobody has, alternating, on a
# fresh SQLite database with mail written to files. Needs a built binary
# (cargo leptos build); prints the median and p90 of each.
set -e
DIR="${TIMING_DIR:-/tmp/forgot-timing}"
rm -rf "$DIR"; mkdir -p "$DIR"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DATABASE_URL=sqlite://$DIR/app.db MAIL_DIR=$DIR/mail LEPTOS_SITE_ROOT=target/site LEPTOS_OUTPUT_NAME=persistent-login LEPTOS_SITE_ADDR=127.0.0.1:3100 RUST_LOG=warn THROTTLE_MAIL_PER_ACCOUNT=100000 THROTTLE_MAIL_PER_ADDRESS=100000 MAIL_POLL_INTERVAL_SECS=1
./target/debug/persistent-login > $DIR/server.log 2>&1 &
PID=$!
for i in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:3100/healthz && break; sleep 0.2; done
curl -s -o /dev/null -X POST http://127.0.0.1:3100/api/register -d 'username=alice&password=correct+horse+battery&email=alice%40example.com'
sleep 2
TOKEN=$(python3 -c "
import email, email.policy, glob, re
for f in glob.glob('$DIR/mail/*.eml'):
    m = email.message_from_file(open(f), policy=email.policy.default)
    print(re.search(r'token=([0-9a-f]{64})', m.get_body().get_content()).group(1))
")
curl -s -o /dev/null -w "verify %{http_code}\n" -X POST http://127.0.0.1:3100/api/email/verify -d "token=$TOKEN"
python3 - <<'PY'
import time, urllib.request, statistics
def t(login):
    data=f"login={login}".encode()
    start=time.perf_counter()
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:3100/api/password/forgot", data=data)).read()
    return (time.perf_counter()-start)*1000
known=[];unknown=[]
for i in range(300):
    known.append(t("alice")); unknown.append(t(f"nobody{i}"))
for name,xs in [("known alice",known),("unknown names",unknown)]:
    xs.sort(); print(f"{name}: median {statistics.median(xs):.2f} ms, p90 {xs[int(len(xs)*0.9)]:.2f} ms")
PY
kill $PID
