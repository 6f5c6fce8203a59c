#!/bin/sh
# realtimekql.sh - RealTimeKql end to end with the real programs, local
# outputs only: the README's main job on the bundled sample (console and
# table, every row naming its process), rows unchanged without a query,
# the JSON file, console and file at once, the seed's spellings
# (RealtimeKql, Etw, --filter, a quoted glob over several traces, a
# shell-expanded -f list), a bad query file and other failing stages,
# --session off Windows, a console reader that goes away, and on a large
# writer-made trace: Ctrl-C mid-stream (valid JSON file, no stage left)
# and a sink killed mid-stream.
# Blob and ADX outputs: realtimekql_blob.sh, realtimekql_adx.sh.
# Under Wine (EXE set) the same checks run against the Windows build;
# Ctrl-C there reaches the launcher as CTRL_C_EVENT and etwcat through
# its stop event. Killing a sink from outside is checked natively only
# (Wine gives a killed Windows process no status to compare).
#
# SPDX-License-Identifier: MIT
set -u
WIN=${EXE:+1}
B=${BIN:?BIN must name the programs directory}
R=$B/RealTimeKql
for p in RealTimeKql etwcat jsonsink; do
  [ -x "$B/$p" ] || { echo "skip: $B/$p not built"; exit 77; }
done
HAVE_KQL=0
[ -x "$B/kqlfilter" ] && HAVE_KQL=1
S=share/samples/kernel-network.etl
Q=share/queries/SimplifyEtwTcp.kql
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   $*"; }
bad() {
  echo "FAIL $*"
  fails=$((fails + 1))
}
# run NAME WANT_RC ARGS...: stdout in $T/out, stderr in $T/err
run() {
  name=$1 want=$2
  shift 2
  "$R" "$@" >"$T/out" 2>"$T/err"
  rc=$?
  if [ "$rc" -ne "$want" ]; then
    bad "$name: exit $rc, want $want"
    sed 's/^/    /' "$T/err" | head -20
    return 1
  fi
  return 0
}
# json_rows FILE: the array's rows as compact NDJSON (fails if not JSON)
json_rows() {
  python3 -c 'import json, sys
for r in json.load(open(sys.argv[1])):
    print(json.dumps(r, separators=(",", ":"), ensure_ascii=False))' "$1"
}
# ndjson_norm FILE: each line re-serialised the same way
ndjson_norm() {
  python3 -c 'import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    print(json.dumps(json.loads(l), separators=(",", ":"), ensure_ascii=False))' "$1"
}
children() { # PID: the stages of a running launcher
  ps -o pid=,args= --ppid "$1" 2>/dev/null
}
# stages PID: remember the stages of a running launcher (their pids).
# Under Wine the stages are not the launcher's Unix children: they are
# found by the test's folder in their arguments.
stages() {
  if [ -n "$WIN" ]; then
    kids=$(ps -eo pid=,args= | grep -F "$T/" | grep -v -e RealTimeKql \
      -e grep | awk '{ print $1 }')
  else
    kids=$(children "$1" | awk '{ print $1 }')
  fi
}
# no_strays NAME: none of the remembered stages is left (running or
# unreaped) after the launcher exited. Only this run's pids are looked
# at: other tests may be running the same programs meanwhile.
no_strays() {
  left=
  for k in $kids; do
    # Wine's processes are reparented to init, which may never reap
    # them here: a zombie has ended.
    [ -n "$WIN" ] && ps -o stat= -p "$k" 2>/dev/null | grep -q '^Z' &&
      continue
    kill -0 "$k" 2>/dev/null && left="$left $k"
  done
  if [ -z "$kids" ]; then
    bad "$1: no stages seen while it ran"
  elif [ -n "$left" ]; then
    bad "$1: stages left:$left"
    ps -o pid,stat,args -p "$(echo $left | tr ' ' ',')"
  else
    ok "$1: no stage left running ($(echo $kids | wc -w) seen)"
  fi
}

"$B/etwcat" --file="$S" >"$T/events.ndjson"
nev=$(wc -l <"$T/events.ndjson" | tr -d ' ')

# 1. The README's main job, and the table view.
if [ $HAVE_KQL = 1 ]; then
  "$B/kqlfilter" -q "$Q" <"$T/events.ndjson" >"$T/want"
  run "main job" 0 etw --file="$S" --query="$Q" --outputconsole &&
    cmp -s "$T/out" "$T/want" && [ ! -s "$T/err" ] && [ -s "$T/want" ] &&
    ok "main job: the same rows as etwcat | kqlfilter, nothing on stderr" ||
    bad "main job: output differs"
  # The sample's process rundown names every pid (share/samples/README.md).
  ! grep -q '"ProcessName":""' "$T/want" &&
    ok "main job: every row has a ProcessName" ||
    bad "main job: rows without a ProcessName"
  run "table" 0 etw --file="$S" --query="$Q" --outputtable &&
    head -n 1 "$T/out" | grep -q '^SourceIpAddress  *DestinationIpAddress  *Opcode' &&
    ok "table view: a header row" || bad "table view"
else
  echo "skip main job: kqlfilter not built"
fi

# 2. No query: rows unchanged; no output option means the console.
run "pass-through" 0 etw --file="$S" && cmp -s "$T/out" "$T/events.ndjson" &&
  ok "no query, no output option: every event to the console unchanged" ||
  bad "pass-through differs"

# 3. The JSON file (the original's array), alone and with the console.
run "json file" 0 etw -f "$S" -oj "$T/o.json" &&
  json_rows "$T/o.json" >"$T/got" && ndjson_norm "$T/events.ndjson" >"$T/norm" &&
  cmp -s "$T/got" "$T/norm" && [ ! -s "$T/out" ] &&
  ok "--outputjson: one JSON array with every row, nothing on the console" ||
  bad "json file"
run "console and json" 0 etw -f "$S" -oc --outputjson="$T/o2.json" &&
  cmp -s "$T/out" "$T/events.ndjson" && json_rows "$T/o2.json" >"$T/got" &&
  cmp -s "$T/got" "$T/norm" &&
  ok "console + JSON file: each gets every row" || bad "console + json"
if [ $HAVE_KQL = 1 ]; then
  run "query, console and json" 0 etw -f "$S" -q "$Q" -oc -oj="$T/o3.json" &&
    cmp -s "$T/out" "$T/want" && json_rows "$T/o3.json" >"$T/got" &&
    ndjson_norm "$T/want" >"$T/wnorm" && cmp -s "$T/got" "$T/wnorm" &&
    ok "query + console + JSON file: the same rows in both" ||
    bad "query + two outputs"
fi

# 4. The seed's spellings: RealtimeKql, Etw, --filter, a quoted glob.
mkdir "$T/g"
cp "$S" "$T/g/a.etl"
cp "$S" "$T/g/b.etl"
"$B/RealtimeKql" Etw --filter="$T/g/*.etl" --outputjson="$T/g.json" \
  >"$T/out" 2>"$T/err"
rc=$?
n=$(json_rows "$T/g.json" | wc -l | tr -d ' ')
[ $rc = 0 ] && [ "$n" = $((2 * nev)) ] &&
  ok "RealtimeKql Etw --filter='*.etl': both traces ($n rows)" ||
  bad "seed spelling: rc=$rc rows=$n"
run "-f list" 0 etw -f "$T"/g/*.etl -oj="$T/g2.json" &&
  [ "$(json_rows "$T/g2.json" | wc -l | tr -d ' ')" = $((2 * nev)) ] &&
  ok "-f with a shell-expanded list of traces"

# 5. Failing stages: the first failure's status and one line naming it.
if [ $HAVE_KQL = 1 ]; then
  printf 'EtwTcp\n| wher EventId == 10\n' >"$T/bad.kql"
  run "bad query" 3 etw --file="$S" --query="$T/bad.kql" --outputjson="$T/b.json" &&
    grep -q "kqlfilter: .*bad.kql:2:3: error: unknown operator 'wher'" "$T/err" &&
    grep -q '^  ^^^^$' "$T/err" &&
    grep -q '^RealTimeKql: kqlfilter failed: exit status 3 (query error); exit status 3$' "$T/err" &&
    ok "bad query file: kqlfilter's caret message, exit 3 naming it" ||
    { bad "bad query: messages"; cat "$T/err"; }
  [ "$(json_rows "$T/b.json" 2>/dev/null | wc -l | tr -d ' ')" = 0 ] &&
    ok "bad query: the JSON file is an empty array" || bad "bad query: json file"
  run "missing query" 2 etw --file="$S" --query="$T/none.kql" &&
    grep -q 'RealTimeKql: kqlfilter failed: exit status 2' "$T/err" &&
    ok "missing query file: exit 2 naming kqlfilter"
fi
run "missing trace" 1 etw --file="$T/none.etl" -oc &&
  grep -q 'RealTimeKql: etwcat failed: exit status 1' "$T/err" &&
  ok "missing trace: exit 1 naming etwcat"
run "session off Windows" 2 etw --session=tcp -oc &&
  grep -q 'etwcat: .*Windows' "$T/err" &&
  grep -q 'RealTimeKql: etwcat failed: exit status 2' "$T/err" &&
  ok "--session on Linux: etwcat's message, exit 2"

# 6. A console whose reader goes away: quiet, exit 0.
{
  "$R" etw --file="$S" -oc 2>"$T/err"
  echo $? >"$T/rc"
} | head -n 1 >/dev/null
[ "$(cat "$T/rc")" = 0 ] && [ ! -s "$T/err" ] &&
  ok "console reader gone (| head): exit 0, quiet" ||
  { bad "console | head: exit $(cat "$T/rc")"; cat "$T/err"; }

# 7. A large trace: Ctrl-C mid-stream, and a sink killed mid-stream.
W=${TOOLS:+$TOOLS/etlwriter}
if [ -z "$W" ] || [ ! -x "$W" ]; then
  echo "skip large trace: no etlwriter in TOOLS"
else
  "$W" --events 1000000 "$T/big.etl" >/dev/null || bad "etlwriter"
  # wait_file FILE BYTES: until FILE holds BYTES (10 s at most)
  wait_file() {
    i=0
    while [ "$(cat "$1" 2>/dev/null | wc -c)" -lt "$2" ] && [ $i -lt 200 ]; do
      sleep 0.05
      i=$((i + 1))
    done
  }
  for q in none query; do
    [ $q = query ] && [ $HAVE_KQL = 0 ] && continue
    set -- etw --file="$T/big.etl" -oc -oj="$T/c.json"
    [ $q = query ] && set -- "$@" -q "$Q"
    rm -f "$T/c.json"
    "$R" "$@" >/dev/null 2>"$T/err" &
    pid=$!
    wait_file "$T/c.json" 200000
    stages $pid
    kill -INT $pid
    wait $pid
    rc=$?
    rows=$(json_rows "$T/c.json" | wc -l | tr -d ' ')
    if [ $rc = 0 ]; then
      ok "Ctrl-C mid-stream ($q): exit 0"
    else
      bad "Ctrl-C mid-stream ($q): exit $rc"
      cat "$T/err"
    fi
    [ "$rows" -gt 0 ] && ok "Ctrl-C mid-stream ($q): valid JSON file, $rows rows" ||
      bad "Ctrl-C mid-stream ($q): JSON file"
    # The query keeps a fraction of the events; without it every event
    # is a row, so fewer rows than events means etwcat was stopped.
    [ $q = none ] && { [ "$rows" -lt 1000001 ] &&
      ok "Ctrl-C mid-stream: etwcat stopped early" ||
      bad "Ctrl-C mid-stream: etwcat was not stopped ($rows rows)"; }
    grep -Eq '(SIGINT|Ctrl-C): stopping the input' "$T/err" ||
      bad "Ctrl-C mid-stream ($q): no message"
    no_strays "Ctrl-C mid-stream ($q)"
  done

  if [ -n "$WIN" ]; then
    echo "$fails failed"
    [ $fails -eq 0 ]
    exit
  fi
  # A sink killed mid-stream: the pipeline stops, the other sink's file
  # is valid, the killed one is named.
  rm -f "$T/k.json"
  "$R" etw --file="$T/big.etl" -oc -oj="$T/k.json" >/dev/null 2>"$T/err" &
  pid=$!
  wait_file "$T/k.json" 200000
  stages $pid
  victim=$(children $pid | awk '$2 ~ /jsonsink$/ && NF == 2 { print $1 }')
  t0=$(date +%s)
  [ -n "$victim" ] && kill -KILL "$victim"
  wait $pid
  rc=$?
  t1=$(date +%s)
  [ -n "$victim" ] && [ $rc = 137 ] &&
    grep -q '^RealTimeKql: jsonsink (console) failed: killed by SIGKILL (exit status 137); exit status 137$' "$T/err" &&
    ok "sink killed mid-stream: exit 137, the sink named" ||
    { bad "sink killed: rc=$rc victim=$victim"; cat "$T/err"; }
  [ $((t1 - t0)) -lt 20 ] && ok "sink killed: no hang" || bad "sink killed: $((t1 - t0)) s"
  rows=$(json_rows "$T/k.json" | wc -l | tr -d ' ')
  [ "$rows" -gt 0 ] && ok "sink killed: the other sink's JSON file is valid ($rows rows)" ||
    bad "sink killed: other file"
  no_strays "sink killed"

  # The only sink killed: its input pipe breaks, nothing hangs.
  "$R" etw --file="$T/big.etl" -oj="$T/k2.json" >/dev/null 2>"$T/err" &
  pid=$!
  wait_file "$T/k2.json" 200000
  stages $pid
  victim=$(children $pid | awk '$2 ~ /jsonsink$/ { print $1 }')
  [ -n "$victim" ] && kill -KILL "$victim"
  wait $pid
  rc=$?
  [ $rc = 137 ] && grep -q 'jsonsink (--outputjson=.*) failed: killed by SIGKILL' "$T/err" &&
    ok "only sink killed: exit 137, named" || { bad "only sink killed: rc=$rc"; cat "$T/err"; }
  no_strays "only sink killed"
fi

echo "$fails failed"
[ $fails -eq 0 ]
