#!/bin/sh
# realtimekql_cli.sh - the RealTimeKql launcher with stand-in stages: a
# copy of the launcher next to a small script under the five program
# names, which records its arguments and secrets' environment and then
# behaves as told (rows, exit codes, crashes, hangs). Checks the seed's
# command lines verbatim, short forms, that secrets reach only the sink
# that needs them and only through the environment (and vanish from the
# launcher's own command line), the fan-out to four sinks, the exit
# status and summary line of the stage that failed first, a crashing
# sink stopping the pipeline, early-exiting sinks, Ctrl-C once, twice
# and three times, a missing program, usage errors and --help, and that
# no stage is left running after the launcher exits.
#
# SPDX-License-Identifier: MIT
set -u
R=${BIN:?BIN must name the programs directory}/RealTimeKql
[ -x "$R" ] || { echo "skip: $R not built"; exit 77; }
# The stand-ins are shell scripts, which a Windows launcher cannot start
# (under Wine it needs .exe siblings); the Windows build's launcher is
# covered end to end by realtimekql.sh, realtimekql_blob.sh and
# realtimekql_adx.sh, and its command lines by test_rtk and test_spawn.
if [ -n "${EXE:-}" ]; then
  echo "skip: shell-script stand-ins cannot run under a Windows launcher"
  exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   $*"; }
bad() {
  echo "FAIL $*"
  fails=$((fails + 1))
}

# The stand-ins. The launcher finds its stages next to its own
# executable (/proc/self/exe), so it is copied, not linked.
B=$T/bin
mkdir "$B"
cp "$R" "$B/RealTimeKql"
ln -s RealTimeKql "$B/RealtimeKql"
cat >"$B/fake" <<'EOF'
#!/bin/sh
# A stand-in stage. FAKE_DIR receives <tag>.args (one argument a line),
# <tag>.env (the secrets it sees) and, for sinks, <tag>.out (its input).
# FAKE_<tag> says what to do: exit:N (read the input, exit N), early:N
# (exit N at once), crash (SIGSEGV after the first rows), stubborn
# (ignore SIGINT and never finish), slow (etwcat: rows for ever).
prog=$(basename "$0")
case "$prog $*" in
"jsonsink --file="*) tag=jsonfile ;;
jsonsink*) tag=console ;;
*) tag=$prog ;;
esac
d=${FAKE_DIR:?}
printf '%s\n' "$@" >"$d/$tag.args"
{
  echo "ADX=${RTK_ADX_KEY-unset}"
  echo "BLOB=${RTK_BLOB_CONNECTION_STRING-unset}"
} >"$d/$tag.env"
echo $$ >"$d/$tag.pid"
eval "act=\${FAKE_$tag:-}"
case $act in
early:*) exit "${act#early:}" ;;
exit:*)
  cat >/dev/null
  exit "${act#exit:}"
  ;;
crash)
  head -c 100 >/dev/null
  kill -SEGV $$
  ;;
stubborn)
  trap '' INT TERM
  while :; do sleep 1; done
  ;;
esac
case $tag in
etwcat)
  if [ "$act" = slow ]; then
    while :; do
      echo '{"slow":1}'
      sleep 0.02
    done
  fi
  i=0
  while [ $i -lt "${FAKE_ROWS:-3}" ]; do
    echo "{\"i\":$i,\"s\":\"row $i\"}"
    i=$((i + 1))
  done
  ;;
kqlfilter) cat ;;
*) cat >"$d/$tag.out" ;;
esac
EOF
chmod +x "$B/fake"
for p in etwcat kqlfilter jsonsink blobsink adxsink; do
  ln -s fake "$B/$p"
done
export FAKE_DIR=$T/rec
unset RTK_ADX_KEY RTK_BLOB_CONNECTION_STRING FAKE_ROWS

# rk NAME WANT_RC ARGS...: run the launcher; stdout in $T/out, stderr in
# $T/err, records in $FAKE_DIR.
rk() {
  name=$1 want=$2
  shift 2
  rm -rf "$FAKE_DIR"
  mkdir "$FAKE_DIR"
  "$B/RealTimeKql" "$@" >"$T/out" 2>"$T/err"
  rc=$?
  if [ "$rc" -ne "$want" ]; then
    bad "$name: exit $rc, want $want"
    sed 's/^/    /' "$T/err" | head -20
    return 1
  fi
  return 0
}
args() { paste -sd' ' "$FAKE_DIR/$1.args"; }
same() { # NAME WANT GOT
  if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$3', want '$2'"; fi
}
# no stand-in of this test left running
no_strays() {
  if ps -eo args | grep -v grep | grep -q "$B/"; then
    bad "$1: stages still running:"
    ps -eo pid,args | grep -v grep | grep "$B/"
  else
    ok "$1: no stage left running"
  fi
}

# 1. The seed's two examples, verbatim (RealtimeKql spelling).
rk "seed session" 0 etw --session=tcp --adxcluster=CDOC.kusto.windows.net \
  --adxdatabase=GeorgiTest --adxtable=EtwTcp --adxdirect --adxreset &&
  same "seed session: etwcat" "--session=tcp" "$(args etwcat)" &&
  same "seed session: adxsink" "--cluster=CDOC.kusto.windows.net --database=GeorgiTest --table=EtwTcp --direct --reset" "$(args adxsink)" &&
  same "seed session: rows reach adxsink" 3 "$(wc -l <"$FAKE_DIR/adxsink.out" | tr -d ' ')"
[ ! -f "$FAKE_DIR/kqlfilter.args" ] && ok "no --query: no kqlfilter" ||
  bad "kqlfilter started without --query"
rm -rf "$FAKE_DIR" && mkdir "$FAKE_DIR"
"$B/RealtimeKql" etw --file=*.etl --adxcluster=CDOC.kusto.windows.net \
  --adxdatabase=GeorgiTest --adxtable=EtwTcp >"$T/out" 2>"$T/err"
same "seed file (RealtimeKql): exit" 0 "$?"
same "seed file: etwcat gets the pattern unexpanded" "--file=*.etl" "$(args etwcat)"
same "seed file: queued ingestion" "--cluster=CDOC.kusto.windows.net --database=GeorgiTest --table=EtwTcp" "$(args adxsink)"

# 2. Short forms, --query, -ad VALUE, values after a space.
rk "short forms" 0 Etw -f x.etl -q q.kql -oj out.json -ac c -ad D -at T -ar \
  --adxauthority=tenant -aclid app &&
  same "short: kqlfilter" "-q q.kql" "$(args kqlfilter)" &&
  same "short: jsonsink file" "--file=out.json" "$(args jsonfile)" &&
  same "short: adxsink" "--cluster=c --database=D --table=T --reset --authority=tenant --client-id=app" "$(args adxsink)"
[ ! -f "$FAKE_DIR/console.args" ] && ok "short: no console without -oc" ||
  bad "short: console started"

# 3. Secrets: only in the environment of the sink that needs them, never
# in an argv, gone from the launcher's own command line; secrets the
# user exported do not reach the other stages.
export RTK_ADX_KEY=exported-adx-key RTK_BLOB_CONNECTION_STRING=exported-cs
rm -rf "$FAKE_DIR" && mkdir "$FAKE_DIR"
FAKE_etwcat=slow "$B/RealTimeKql" etw -f x --adxkey=Adx-S3cret -aclid=app \
  -ac=c -ad=d -at=t --blobstorageconnectionstring "AccountKey=Blob-S3cret" \
  -bsc=box -oc >"$T/out" 2>"$T/err" &
pid=$!
i=0
while [ ! -s "$FAKE_DIR/etwcat.pid" ] && [ $i -lt 100 ]; do
  sleep 0.05
  i=$((i + 1))
done
if ! tr '\0' ' ' </proc/$pid/cmdline >"$T/cmdline"; then
  bad "secrets: the launcher is not running"
elif grep -q 'S3cret' "$T/cmdline"; then
  bad "secrets: visible in the launcher's command line"
else
  ok "secrets: blanked in the launcher's command line"
fi
kill -INT $pid
wait $pid
same "secrets: Ctrl-C ends the run with 0" 0 "$?"
same "secrets: adxsink environment" "ADX=Adx-S3cret BLOB=unset" "$(paste -sd' ' "$FAKE_DIR/adxsink.env")"
same "secrets: blobsink environment" "ADX=unset BLOB=AccountKey=Blob-S3cret" "$(paste -sd' ' "$FAKE_DIR/blobsink.env")"
same "secrets: etwcat sees none" "ADX=unset BLOB=unset" "$(paste -sd' ' "$FAKE_DIR/etwcat.env")"
same "secrets: console sees none" "ADX=unset BLOB=unset" "$(paste -sd' ' "$FAKE_DIR/console.env")"
if cat "$FAKE_DIR"/*.args | grep -q 'S3cret\|exported'; then
  bad "secrets: in a stage's arguments"
else
  ok "secrets: in no stage's arguments"
fi
# Exported secrets, no options: the sinks inherit them.
rk "exported" 0 etw -f x -ac=c -ad=d -at=t -bsc=box &&
  same "exported: adxsink" "ADX=exported-adx-key BLOB=unset" "$(paste -sd' ' "$FAKE_DIR/adxsink.env")" &&
  same "exported: blobsink" "ADX=unset BLOB=exported-cs" "$(paste -sd' ' "$FAKE_DIR/blobsink.env")"
unset RTK_ADX_KEY RTK_BLOB_CONNECTION_STRING

# 4. Fan-out: four sinks get the same bytes.
FAKE_ROWS=30000
export FAKE_ROWS
RTK_BLOB_CONNECTION_STRING=x rk "fan-out" 0 etw -f x -q q.kql -oc -oj=o.json \
  -bsc=c -ac=c -ad=d -at=t
unset FAKE_ROWS
n=0
for s in console jsonfile blobsink adxsink; do
  [ "$(wc -l <"$FAKE_DIR/$s.out" | tr -d ' ')" = 30000 ] && n=$((n + 1))
done
cmp -s "$FAKE_DIR/console.out" "$FAKE_DIR/adxsink.out" &&
  cmp -s "$FAKE_DIR/jsonfile.out" "$FAKE_DIR/blobsink.out" &&
  cmp -s "$FAKE_DIR/console.out" "$FAKE_DIR/blobsink.out" && [ $n = 4 ] &&
  ok "fan-out: 30000 rows, byte for byte, in each of four sinks" ||
  bad "fan-out: sinks differ ($n complete)"

# -v: the command lines, and every stage's end (also those that end
# together, reaped in one wait).
FAKE_ROWS=2000 rk "verbose" 0 etw -f x -q q.kql -oc -oj=o.json -v &&
  [ "$(grep -c ': .*/fake\|: .*/\(etwcat\|kqlfilter\|jsonsink\)' "$T/err")" -ge 4 ] &&
  [ "$(grep -c ' ended: exit status 0$' "$T/err")" = 4 ] &&
  ok "-v: four command lines, four ends" || { bad "-v"; cat "$T/err"; }

# 5. The first failing stage's status, and one line naming it.
FAKE_kqlfilter=early:3 rk "query error" 3 etw -f x -q bad.kql -oc &&
  grep -q '^RealTimeKql: kqlfilter failed: exit status 3 (query error); exit status 3$' "$T/err" &&
  [ "$(grep -c . "$T/err")" = 1 ] &&
  ok "query error: exit 3, one line naming kqlfilter" ||
  { bad "query error: message"; cat "$T/err"; }
FAKE_blobsink=early:2 RTK_BLOB_CONNECTION_STRING=x \
  rk "sink usage error" 2 etw -f x -oc -bsc=c &&
  grep -q 'blobsink (container c) failed: exit status 2 (usage error)' "$T/err" &&
  ok "sink usage error: exit 2 naming blobsink" || cat "$T/err"
FAKE_adxsink=exit:3 rk "spooled" 3 etw -f x -ac=c -ad=d -at=t -oj=o.json &&
  grep -q 'adxsink (c, table d.t) failed: exit status 3 (some rows spooled' "$T/err" &&
  ok "rows spooled: exit 3 passed on" || cat "$T/err"
FAKE_etwcat=early:2 rk "input error" 2 etw -f x -oc &&
  grep -q 'etwcat failed: exit status 2' "$T/err" && ok "etwcat's status passed on"

# 6. A sink that crashes mid-stream stops the pipeline; the other sink
# keeps what it got; nothing hangs.
t0=$(date +%s)
FAKE_etwcat=slow FAKE_console=crash rk "sink crash" 139 etw -f x -oc -oj=o.json
t1=$(date +%s)
grep -q 'jsonsink (console) failed: killed by SIGSEGV (exit status 139)' "$T/err" &&
  ok "sink crash: exit 139 naming the sink" || { bad "crash message"; cat "$T/err"; }
[ $((t1 - t0)) -lt 10 ] && ok "sink crash: the input was stopped" ||
  bad "sink crash: took $((t1 - t0)) s"
[ -s "$FAKE_DIR/jsonfile.out" ] && ok "sink crash: the other sink got rows" ||
  bad "sink crash: other sink empty"
no_strays "sink crash"

# 7. A sink that leaves with status 0 (a console whose reader went) is one
# output less; when no output is left, the input stops.
FAKE_ROWS=5000 FAKE_console=early:0 rk "one sink leaves" 0 etw -f x -oc -oj=o.json &&
  [ "$(wc -l <"$FAKE_DIR/jsonfile.out" | tr -d ' ')" = 5000 ] &&
  ok "one sink leaves: the other gets every row"
t0=$(date +%s)
FAKE_etwcat=slow FAKE_console=early:0 FAKE_jsonfile=early:0 \
  rk "every sink leaves" 0 etw -f x -oc -oj=o.json
t1=$(date +%s)
[ $((t1 - t0)) -lt 10 ] && ok "every sink leaves: the input stops, exit 0" ||
  bad "every sink leaves: took $((t1 - t0)) s"
t0=$(date +%s)
FAKE_etwcat=slow FAKE_console=early:0 rk "direct sink leaves" 0 etw -f x -oc
t1=$(date +%s)
[ $((t1 - t0)) -lt 10 ] && ok "only sink leaves: the input stops" ||
  bad "only sink leaves: took $((t1 - t0)) s"

# 8. Ctrl-C: once stops the input and lets the rest finish; the second
# and third end the wait for a stage that will not finish.
rm -rf "$FAKE_DIR" && mkdir "$FAKE_DIR"
FAKE_etwcat=slow "$B/RealTimeKql" etw -f x -q q.kql -oc -oj=o.json \
  >"$T/out" 2>"$T/err" &
pid=$!
sleep 0.5
kill -INT $pid
wait $pid
rc=$?
same "Ctrl-C: exit 0" 0 $rc
grep -q 'SIGINT: stopping the input' "$T/err" && ok "Ctrl-C: says it stops the input" ||
  bad "Ctrl-C: message"
[ -s "$FAKE_DIR/jsonfile.out" ] && cmp -s "$FAKE_DIR/jsonfile.out" "$FAKE_DIR/console.out" &&
  ok "Ctrl-C: both sinks drained the same rows" || bad "Ctrl-C: sinks differ"
no_strays "Ctrl-C"

rm -rf "$FAKE_DIR" && mkdir "$FAKE_DIR"
FAKE_etwcat=slow FAKE_jsonfile=stubborn "$B/RealTimeKql" etw -f x -oc \
  -oj=o.json >"$T/out" 2>"$T/err" &
pid=$!
sleep 0.5
kill -INT $pid
sleep 0.7
kill -INT $pid
sleep 0.7
t0=$(date +%s)
kill -INT $pid
wait $pid
rc=$?
t1=$(date +%s)
same "Ctrl-C x3: a stubborn sink is killed" 137 $rc
[ $((t1 - t0)) -lt 3 ] && ok "Ctrl-C x3: at once" || bad "Ctrl-C x3: $((t1 - t0)) s"
grep -q 'again: stopping every stage' "$T/err" && grep -q 'again: killing' "$T/err" &&
  grep -q 'jsonsink (--outputjson=o.json) failed: killed by SIGKILL' "$T/err" &&
  ok "Ctrl-C x3: each step said, the sink named" || { bad "Ctrl-C x3 messages"; cat "$T/err"; }
no_strays "Ctrl-C x3"

# Twice, then wait: killed after the grace period.
rm -rf "$FAKE_DIR" && mkdir "$FAKE_DIR"
FAKE_etwcat=slow FAKE_console=stubborn "$B/RealTimeKql" etw -f x -oc \
  >"$T/out" 2>"$T/err" &
pid=$!
sleep 0.5
kill -INT $pid
sleep 0.7
kill -TERM $pid
t0=$(date +%s)
wait $pid
rc=$?
t1=$(date +%s)
same "Ctrl-C x2: killed after the grace time" 137 $rc
[ $((t1 - t0)) -le 8 ] && ok "Ctrl-C x2: within the grace time" ||
  bad "Ctrl-C x2: $((t1 - t0)) s"
no_strays "Ctrl-C x2"

# 9. A missing program: a clear message, exit 1, nothing left behind.
rm "$B/adxsink"
rk "missing program" 1 etw -f x -oc -ac=c -ad=d -at=t &&
  grep -q "cannot start adxsink (c, table d.t): $B/adxsink: No such file" "$T/err" &&
  ok "missing program: named, exit 1"
ln -s fake "$B/adxsink"
no_strays "missing program"

# 10. Usage errors, help, version.
for a in "" "etw" "etw -f" "etw --bogus" "syslog -f x" "-f x" "etw x.etl" \
  "etw -f x -ad" "etw -f x -ad --adxtable=T" "etw -f x --adxdirect=1" \
  "etw -f x -oj=a -oj=b" "etw -f x -bsc=c" "etw -f x --adxcluster=c" \
  "etw -f x -s tcp" "etw --file="; do
  # shellcheck disable=SC2086
  rk "usage '$a'" 2 $a && grep -q '^Usage: RealTimeKql etw' "$T/err" &&
    ok "usage '$a': exit 2 and the usage" || bad "usage '$a'"
done
rk "unknown option message" 2 etw -f x --adxkeyy=hunter2 &&
  grep -q '^RealTimeKql: --adxkeyy: unknown option$' "$T/err" &&
  ! grep -q hunter2 "$T/err" && ok "unknown option: named, value not echoed"
rk "help" 0 Etw --help && grep -q '^  -ad|--adxdatabase <value> ' "$T/out" &&
  grep -q '^  --adxdirect  ' "$T/out" && grep -q '^  -oc|--outputconsole ' "$T/out" &&
  [ ! -s "$T/err" ] && ok "Etw --help: the overview on stdout, -ad resolved"
rk "help -?" 0 etw '-?' && grep -q 'Usage: RealTimeKql Etw' "$T/out" && ok "etw -?"
rk "top help" 0 --help && grep -q 'etw ' "$T/out" && ok "--help: the commands"
rk "version" 0 --version && grep -q '^RealTimeKql [0-9]' "$T/out" && ok "--version"

echo "$fails failed"
[ $fails -eq 0 ]
