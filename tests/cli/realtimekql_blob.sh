#!/bin/sh
# realtimekql_blob.sh - RealTimeKql's Blob output into a real Azurite on
# loopback (started and stopped like blobsink_azurite.sh): the
# connection string as an option (reaching blobsink only through its
# environment) and from RTK_BLOB_CONNECTION_STRING, every row read back
# through an independent client (tests/peers/blobctl.py), Blob together
# with the console and a JSON file, Ctrl-C mid-stream on a large trace
# (every uploaded row present once: exactly the rows the JSON file got),
# and a wrong key (rows spooled, exit 3 naming blobsink, the other
# outputs complete). Skips (77) when Azurite is not installed.
#
# SPDX-License-Identifier: MIT
set -u
. "$(dirname "$0")/../peers/azurite.sh"
az_need
B=${BIN:?BIN must name the programs directory}
R=$B/RealTimeKql
for p in RealTimeKql etwcat jsonsink blobsink; do
  [ -x "$B/$p" ] || { echo "skip: $B/$p not built"; exit 77; }
done
HAVE_KQL=0
[ -x "$B/kqlfilter" ] && HAVE_KQL=1
S=share/samples/kernel-network.etl
Q=share/queries/SimplifyEtwTcp.kql
T=$(mktemp -d)
export RTK_SPOOL_DIR=$T/spool
unset RTK_BLOB_CONNECTION_STRING
cleanup() {
  az_stop
  rm -rf "$T"
}
trap cleanup EXIT
fails=0
ok() { echo "ok   $*"; }
bad() {
  echo "FAIL $*"
  fails=$((fails + 1))
}
AZ_LOG=$T/azurite.log
az_start || exit 1

run() { # NAME WANT_RC ARGS...
  name=$1 want=$2
  shift 2
  "$R" "$@" >"$T/out" 2>"$T/err"
  rc=$?
  if [ "$rc" -ne "$want" ]; then
    bad "$name: exit $rc, want $want"
    sed 's/^/    /' "$T/err" | head -20
    return 1
  fi
  if grep -q "Eby8vdM02x\|d3Jvbmd3cm9uZ" "$T/err" "$T/out"; then
    bad "$name: a secret appeared in the output"
  fi
  return 0
}
json_rows() {
  python3 -c 'import json, sys
for r in json.load(open(sys.argv[1])):
    print(json.dumps(r, separators=(",", ":"), ensure_ascii=False))' "$1"
}
norm() { # NDJSON on stdin, re-serialised and sorted
  python3 -c 'import json, sys
for l in sys.stdin:
    print(json.dumps(json.loads(l), separators=(",", ":"), ensure_ascii=False))' | sort
}
same_rows() { # CONTAINER FILE(NDJSON): the container holds FILE's rows
  blobctl rows "$1" | norm >"$T/got" || return 1
  norm <"$2" >"$T/want"
  [ -s "$T/want" ] && cmp -s "$T/got" "$T/want"
}

"$B/etwcat" --file="$S" >"$T/events"
if [ $HAVE_KQL = 1 ]; then
  "$B/kqlfilter" -q "$Q" <"$T/events" >"$T/rows"
  QA="--query=$Q"
else
  cp "$T/events" "$T/rows"
  QA=
fi

# 1. The connection string as an option, in the seed's long form.
# shellcheck disable=SC2086
run "blob option" 0 etw --file="$S" $QA \
  --blobstorageconnectionstring="$AZ_CS" --blobstoragecontainer=etwtcp &&
  same_rows etwtcp "$T/rows" &&
  ok "--blobstorageconnectionstring/--blobstoragecontainer: every row in Blob" ||
  bad "blob option: rows differ"
blobctl list etwtcp | grep -Eq '^[0-9a-f-]{36}_1_[0-9a-f]{32}\.json application/json' &&
  ok "blob names as the original (<guid>_1_<guid>.json)" || bad "blob names"

# 2. From the environment, short forms.
# shellcheck disable=SC2086
RTK_BLOB_CONNECTION_STRING=$AZ_CS run "blob env" 0 etw -f "$S" $QA -bsc env-cont &&
  same_rows env-cont "$T/rows" &&
  ok "RTK_BLOB_CONNECTION_STRING + -bsc: every row in Blob"

# 3. Blob, console and JSON file at once.
# shellcheck disable=SC2086
run "three outputs" 0 etw -f "$S" $QA -oc -oj="$T/three.json" \
  -bscs "$AZ_CS" -bsc three && same_rows three "$T/rows" &&
  cmp -s "$T/out" "$T/rows" && json_rows "$T/three.json" >"$T/jr" &&
  [ "$(norm <"$T/jr")" = "$(norm <"$T/rows")" ] &&
  ok "console + JSON file + Blob: the same rows in all three" ||
  bad "three outputs"

# 4. A wrong key: blobsink spools (exit 3) and is named; the other
# outputs are complete. A bad container name: blobsink's usage error
# stops the pipeline and is the status, whatever follows from the stop.
WRONG="AccountName=devstoreaccount1;AccountKey=$(printf 'wrongwrongwrongwrongwrongwrong12' | base64 -w0);BlobEndpoint=$AZ_BLOB_ENDPOINT"
# shellcheck disable=SC2086
run "wrong key" 3 etw -f "$S" $QA -oj="$T/wk.json" -bscs="$WRONG" -bsc=wrongkey &&
  grep -q '^RealTimeKql: blobsink (container wrongkey) failed: exit status 3 (some rows spooled' "$T/err" &&
  json_rows "$T/wk.json" >"$T/jr" && [ "$(norm <"$T/jr")" = "$(norm <"$T/rows")" ] &&
  ok "wrong key: exit 3 naming blobsink, the JSON file complete" ||
  { bad "wrong key"; cat "$T/err"; }

# shellcheck disable=SC2086
run "bad container" 2 etw -f "$S" $QA -oj="$T/bc.json" -bscs="$AZ_CS" -bsc=No &&
  grep -q '^RealTimeKql: blobsink (container No) failed: exit status 2 (usage error)' "$T/err" &&
  json_rows "$T/bc.json" >/dev/null &&
  ok "bad container name: exit 2 naming blobsink, the JSON file valid" ||
  { bad "bad container"; cat "$T/err"; }

# 5. Ctrl-C mid-stream on a large trace: Blob holds exactly the rows the
# JSON file holds, each once.
W=${TOOLS:+$TOOLS/etlwriter}
if [ -z "$W" ] || [ ! -x "$W" ]; then
  echo "skip Ctrl-C: no etlwriter in TOOLS"
else
  "$W" --events 1000000 "$T/big.etl" >/dev/null || bad "etlwriter"
  # shellcheck disable=SC2086
  "$R" etw --file="$T/big.etl" $QA -oj="$T/c.json" -bscs="$AZ_CS" \
    -bsc=ctrlc >/dev/null 2>"$T/err" &
  pid=$!
  i=0
  while [ "$(cat "$T/c.json" 2>/dev/null | wc -c)" -lt 300000 ] && [ $i -lt 400 ]; do
    sleep 0.05
    i=$((i + 1))
  done
  kill -INT $pid
  wait $pid
  rc=$?
  if [ $rc = 0 ]; then
    ok "Ctrl-C with Blob: exit 0"
  elif [ $rc = 2 ] && grep -q 'kqlfilter: <stdin>:[0-9]*: ' "$T/err"; then
    echo "note Ctrl-C with Blob: etwcat cut its last line (exit 2)"
  else
    bad "Ctrl-C with Blob: exit $rc"
    cat "$T/err"
  fi
  json_rows "$T/c.json" >"$T/jr" || bad "Ctrl-C: the JSON file is not valid"
  n=$(wc -l <"$T/jr" | tr -d ' ')
  if same_rows ctrlc "$T/jr"; then
    ok "Ctrl-C with Blob: the $n rows of the JSON file, each once, in Blob"
  else
    bad "Ctrl-C with Blob: Blob holds $(wc -l <"$T/got" | tr -d ' ') rows, the file $n"
  fi
  if [ "$(sort "$T/got" | uniq -d | wc -l)" != 0 ] &&
    [ "$(sort "$T/want" | uniq -d | wc -l)" = 0 ]; then
    bad "Ctrl-C with Blob: duplicates"
  fi
fi

echo "$fails failed"
[ $fails -eq 0 ]
