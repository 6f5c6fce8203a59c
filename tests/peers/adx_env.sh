# adx_env.sh - start and stop the loopback ADX peer and Azurite for tests.
#
# Sourced by tests/cli/adxsink*.sh (from the repository root). Every
# process is started in the background, remembered by PID and stopped by
# that PID when the test exits; ports are chosen free on 127.0.0.1. A test
# that needs Azurite calls adx_need_azurite, which exits 77 (skip) when
# Azurite is not installed (tests/peers/node_modules, `npm ci` there).
#
#   adx_start_azurite            sets AZ_BLOB, AZ_QUEUE
#   adx_start_peer [ARGS...]     sets ENGINE, DM, AAD (URLs); with Azurite
#                                running, the peer's DM uses it
#   adx_hook PATH [JSON]         GET, or POST JSON, to a /_peer/ test hook
#
# SPDX-License-Identifier: MIT

ADX_TOP=$(pwd)
ADX_TMP=$(mktemp -d "${TMPDIR:-/tmp}/adxsink-test.XXXXXX")
ADX_PIDS=""
AZ_BLOB=""
AZ_QUEUE=""
AZ_PORTS=""

adx_cleanup() {
  rc=$?
  for p in $ADX_PIDS; do
    kill "$p" 2>/dev/null
  done
  for p in $ADX_PIDS; do
    wait "$p" 2>/dev/null
  done
  # A bug in the peer must not pass for a client failure it provoked.
  if grep -q Traceback "$ADX_TMP"/peer*.log 2>/dev/null; then
    echo "FAIL the ADX peer raised an exception:"
    cat "$ADX_TMP"/peer*.log
    rc=1
  fi
  rm -rf "$ADX_TMP"
  exit $rc
}
trap adx_cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

adx_free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

adx_wait_port() { # port [tries]
  python3 - "$1" "${2:-100}" <<'EOF'
import socket, sys, time
port, tries = int(sys.argv[1]), int(sys.argv[2])
for _ in range(tries):
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

AZURITE_JS=$ADX_TOP/tests/peers/node_modules/azurite/dist/src/azurite.js

adx_need_azurite() {
  if ! command -v node >/dev/null 2>&1 || [ ! -f "$AZURITE_JS" ]; then
    echo "skip: Azurite is not installed (npm ci in tests/peers)"
    exit 77
  fi
}

adx_start_azurite() { # [blob-port queue-port]: restart on the same ports
  adx_need_azurite
  for attempt in 1 2 3; do
    b=${1:-$(adx_free_port)}
    q=${2:-$(adx_free_port)}
    t=$(adx_free_port)
    node "$AZURITE_JS" --inMemoryPersistence --blobHost 127.0.0.1 \
      --blobPort "$b" --queueHost 127.0.0.1 --queuePort "$q" \
      --tableHost 127.0.0.1 --tablePort "$t" --loose --skipApiVersionCheck \
      --disableTelemetry --silent >"$ADX_TMP/azurite.log" 2>&1 &
    AZ_PID=$!
    ADX_PIDS="$ADX_PIDS $AZ_PID"
    if adx_wait_port "$b" 200 && adx_wait_port "$q" 100; then
      AZ_BLOB=http://127.0.0.1:$b/devstoreaccount1
      AZ_QUEUE=http://127.0.0.1:$q/devstoreaccount1
      AZ_PORTS="$b $q"
      return 0
    fi
    kill "$AZ_PID" 2>/dev/null
  done
  echo "FAIL: Azurite did not start"
  cat "$ADX_TMP/azurite.log"
  exit 1
}

adx_stop_azurite() {
  kill "$AZ_PID" 2>/dev/null
  wait "$AZ_PID" 2>/dev/null
}

adx_start_peer() {
  ready=$ADX_TMP/peer-ready.json
  rm -f "$ready"
  set -- --ready-file "$ready" "$@"
  if [ -n "$AZ_BLOB" ]; then
    set -- "$@" --azurite-blob "$AZ_BLOB" --azurite-queue "$AZ_QUEUE"
  fi
  PEER_N=$((${PEER_N:-0} + 1))
  python3 "$ADX_TOP/tests/peers/adx_peer.py" "$@" \
    >"$ADX_TMP/peer$PEER_N.log" 2>&1 &
  PEER_PID=$!
  ADX_PIDS="$ADX_PIDS $PEER_PID"
  i=0
  while [ ! -s "$ready" ]; do
    i=$((i + 1))
    if [ $i -gt 200 ] || ! kill -0 "$PEER_PID" 2>/dev/null; then
      echo "FAIL: the ADX peer did not start"
      cat "$ADX_TMP/peer$PEER_N.log"
      exit 1
    fi
    sleep 0.05
  done
  ENGINE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["engine"])' "$ready")
  DM=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dm"])' "$ready")
  AAD=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["aad"])' "$ready")
  PEER_READY=$ready
}

adx_stop_peer() {
  kill "$PEER_PID" 2>/dev/null
  wait "$PEER_PID" 2>/dev/null
}

adx_hook() { # path [json]
  if [ $# -gt 1 ]; then
    curl -s -S --max-time 30 -X POST -H 'Content-Type: application/json' \
      --data-binary "$2" "$ENGINE/_peer/$1"
  else
    curl -s -S --max-time 30 "$ENGINE/_peer/$1"
  fi
}

# adx_state EXPR - a Python expression over s, the peer's state.
adx_state() {
  adx_hook state | python3 -c 'import json, sys
s = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"
}

# adx_rows TABLE [DB] - the rows the peer holds, NDJSON.
adx_rows() {
  adx_hook "rows?db=${2:-TestDb}&table=$1"
}

# adx_requests EXPR - a Python expression over r, the request log.
adx_requests() {
  adx_hook requests | python3 -c 'import json, sys
r = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"
}

# Results: ok/FAIL lines, the script exits with $adx_fail.
adx_fail=0
t_ok() { echo "ok   $1"; }
t_bad() {
  echo "FAIL $1${2:+: $2}"
  adx_fail=1
}
t_eq() { # name want got
  if [ "$2" = "$3" ]; then t_ok "$1"; else t_bad "$1" "want '$2', got '$3'"; fi
}
t_grep() { # name pattern file
  if grep -q -e "$2" "$3"; then t_ok "$1"; else
    t_bad "$1" "no '$2' in $(basename "$3"):"
    sed 's/^/    /' "$3" | head -20
  fi
}
t_nogrep() { # name string file
  if grep -q -F -e "$2" "$3"; then t_bad "$1" "found '$2'"; else t_ok "$1"; fi
}

# adx_run [ARGS...] < input - run adxsink: exit status in $ADX_RC, stdout
# in $ADX_OUT, stderr in $ADX_ERR.
ADX_ERR=$ADX_TMP/adxsink.err
ADX_OUT=$ADX_TMP/adxsink.out
adx_run() {
  ${EXEC_PREFIX:-} "$BIN/adxsink${EXE:-}" "$@" >"$ADX_OUT" 2>"$ADX_ERR"
  ADX_RC=$?
}
