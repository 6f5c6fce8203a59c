#!/bin/sh
# blobsink_faults.sh - retries, back-off and shutdown against a real
# socket: tests/peers/faultproxy.py sits in front of Azurite and answers
# scripted failures (503/429 with and without Retry-After, 500s, a 400,
# a stalled response, a dropped connection). Checks the attempts the
# proxy saw and their spacing, the exit codes and the spool. Also: the
# peer down altogether, and Ctrl-C while an upload hangs.
#
# SPDX-License-Identifier: MIT
set -u
. "$(dirname "$0")/../peers/azurite.sh"
az_need
B=${BIN:?BIN must name the programs directory}/blobsink
[ -x "$B" ] || { echo "skip: $B not built"; exit 77; }
T=$(mktemp -d)
PROXY_PID=
cleanup() {
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
  az_stop
  rm -rf "$T"
}
trap cleanup EXIT
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
az_start || exit 1

# proxy SCRIPT: restart the proxy with a new script for Put Blob requests.
proxy() {
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
  rm -f "$T/port" "$T/log"
  python3 "$AZ_TOP/tests/peers/faultproxy.py" --target "http://127.0.0.1:$AZ_PORT" \
    --port-file "$T/port" --log "$T/log" --match .json --script "$1" &
  PROXY_PID=$!
  i=0
  while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  PCS="AccountName=devstoreaccount1;AccountKey=$AZ_KEY;BlobEndpoint=http://127.0.0.1:$(cat "$T/port")/devstoreaccount1"
}

# attempts: Put Blob requests the proxy saw; gaps: seconds between them.
attempts() { grep -c '"method": "PUT", "path": "[^"]*\.json"' "$T/log"; }
gaps() {
  python3 -c '
import json, sys
ts = [e["t"] for e in map(json.loads, open(sys.argv[1])) if e["path"].endswith(".json")]
print(" ".join("%.2f" % (b - a) for a, b in zip(ts, ts[1:])))' "$T/log"
}
min_gap_ok() { # min_gap_ok SECONDS: every gap is at least SECONDS
  for g in $(gaps); do
    python3 -c "import sys; sys.exit(0 if $g >= $1 else 1)" || return 1
  done
}

printf '{"n":1}\n{"n":2}\n{"n":3}\n' >"$T/rows"
common="--container=faults --retry-delay=0.1 --retry-max-delay=0.5"

# 1. 503 with Retry-After: 1, twice, then success.
proxy "503:1,503:1"
"$B" --connection-string="$PCS" $common --spool-dir="$T/s1" <"$T/rows" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] && [ "$(attempts)" -eq 3 ] && min_gap_ok 0.95 &&
  ok "503 + Retry-After: 1 honoured twice (gaps $(gaps)), then delivered" ||
  { bad "503 Retry-After: rc=$rc attempts=$(attempts) gaps=$(gaps)"; cat "$T/err"; }
grep -q 'HTTP 503 (Injected); retrying in 1.0 s (5 retries left)' "$T/err" &&
  ok "retry warning says the delay and the retries left" || { bad "retry message"; cat "$T/err"; }

# 2. 429 without Retry-After: exponential back-off from --retry-delay.
proxy "429,429,429"
"$B" --connection-string="$PCS" $common --retry-delay=0.2 --retry-max-delay=10 \
  --spool-dir="$T/s2" <"$T/rows" 2>"$T/err"
rc=$?
set -- $(gaps)
if [ $rc -eq 0 ] && [ "$(attempts)" -eq 4 ] &&
  python3 -c "import sys; g=[float(x) for x in sys.argv[1:]]; sys.exit(0 if g[0]>=0.1 and g[1]>=0.2 and g[2]>=0.4 and g[2]<2 else 1)" "$@"; then
  ok "429 without Retry-After: back-off doubles with jitter (gaps $*)"
else
  bad "429 back-off: rc=$rc attempts=$(attempts) gaps=$*"
fi

# 3. 500 more often than --retries allows: spooled after 1 + 2 attempts.
proxy "500,500,500,500,500"
"$B" --connection-string="$PCS" $common --retries=2 --spool-dir="$T/s3" \
  <"$T/rows" 2>"$T/err"
rc=$?
[ $rc -eq 3 ] && [ "$(attempts)" -eq 3 ] && grep -q 'giving up after 2 retries' "$T/err" &&
  [ "$(ls "$T/s3" | grep -c '^batch-')" -eq 1 ] &&
  ok "500s beyond --retries=2: 3 attempts, spooled, exit 3" ||
  { bad "500s: rc=$rc attempts=$(attempts)"; cat "$T/err"; }

# 4. 400 is permanent: one attempt, spooled.
proxy "400"
"$B" --connection-string="$PCS" $common --spool-dir="$T/s4" <"$T/rows" 2>"$T/err"
rc=$?
[ $rc -eq 3 ] && [ "$(attempts)" -eq 1 ] &&
  ok "400: not retried, spooled, exit 3" || bad "400: rc=$rc attempts=$(attempts)"
# ... and the next run delivers it through the healthy proxy.
proxy ""
"$B" --connection-string="$PCS" $common --spool-dir="$T/s4" </dev/null 2>"$T/err"
rc=$?
[ $rc -eq 0 ] && [ "$(attempts)" -eq 1 ] && [ -z "$(ls "$T/s4" | grep '^batch-')" ] &&
  ok "spooled batch replayed on the next start" || bad "replay after 400: rc=$rc"

# 5. A dropped connection and a stalled response are transient.
proxy "close,stall:20"
start=$(date +%s)
"$B" --connection-string="$PCS" $common --timeout=1 --spool-dir="$T/s5" \
  <"$T/rows" 2>"$T/err"
rc=$?
took=$(($(date +%s) - start))
[ $rc -eq 0 ] && [ "$(attempts)" -eq 3 ] && [ $took -lt 10 ] &&
  ok "closed connection and a 1 s stall (--timeout=1) retried, delivered in ${took}s" ||
  { bad "close/stall: rc=$rc attempts=$(attempts) took=$took"; cat "$T/err"; }

# 6. Nobody listening: connection refused, retried, spooled.
DEAD="AccountName=devstoreaccount1;AccountKey=$AZ_KEY;BlobEndpoint=http://127.0.0.1:$(free_port)/devstoreaccount1"
"$B" --connection-string="$DEAD" $common --retries=1 --spool-dir="$T/s6" \
  <"$T/rows" 2>"$T/err"
rc=$?
[ $rc -eq 3 ] && grep -q "Couldn't connect\|Failed to connect\|Connection refused" "$T/err" &&
  ok "peer down: connection refused reported, rows spooled, exit 3" ||
  { bad "peer down: rc=$rc"; cat "$T/err"; }

# 7. Ctrl-C while an upload hangs: bounded by --shutdown-timeout, spooled.
proxy "stall:60"
"$B" --connection-string="$PCS" $common --shutdown-timeout=2 --spool-dir="$T/s7" \
  --flush-interval=0.1 <"$T/rows" 2>"$T/err" &
pid=$!
sleep 1
start=$(date +%s)
kill -INT $pid
wait $pid
rc=$?
took=$(($(date +%s) - start))
[ $rc -eq 3 ] && [ $took -le 5 ] && [ "$(ls "$T/s7" | grep -c '^batch-')" -eq 1 ] &&
  ok "SIGINT during a hung upload: gave up after the shutdown timeout (${took}s), spooled" ||
  { bad "SIGINT hung upload: rc=$rc took=$took"; cat "$T/err"; }

# 8. Two Ctrl-Cs a second apart: stop at once.
proxy "stall:60"
"$B" --connection-string="$PCS" $common --shutdown-timeout=30 --spool-dir="$T/s8" \
  <"$T/rows" 2>"$T/err" &
pid=$!
sleep 1
start=$(date +%s)
kill -INT $pid
sleep 1
kill -INT $pid
wait $pid
rc=$?
took=$(($(date +%s) - start))
[ $rc -eq 3 ] && [ $took -le 4 ] &&
  ok "second SIGINT cancels the upload at once (${took}s), rows spooled" ||
  { bad "double SIGINT: rc=$rc took=$took"; cat "$T/err"; }

echo "$fails failed"
[ $fails -eq 0 ]
