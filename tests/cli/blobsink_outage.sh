#!/bin/sh
# blobsink_outage.sh - Azurite stops in the middle of a stream and comes
# back: rows sent while it is down are spooled (exit 3), the next run
# delivers the spool first, and in the end every row is stored exactly
# once (a replayed batch keeps its blob name, so a batch whose upload
# succeeded just before the outage is overwritten, not duplicated).
# Then SIGTERM and SIGINT flush the open batch of a stream that is still
# open.
#
# SPDX-License-Identifier: MIT
set -u
. "$(dirname "$0")/../peers/azurite.sh"
az_need
B=${BIN:?BIN must name the programs directory}/blobsink
[ -x "$B" ] || { echo "skip: $B not built"; exit 77; }
T=$(mktemp -d)
WPID=
cleanup() {
  [ -n "$WPID" ] && kill "$WPID" 2>/dev/null
  az_stop
  rm -rf "$T"
}
trap cleanup EXIT
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
az_start "$T/store" || exit 1
opts="--container=outage --batch-rows=10 --flush-interval=0.2 --retries=1 --retry-delay=0.1 --spool-dir=$T/spool"

row() { printf '{"n":%d,"payload":"row %d of the outage test"}\n' "$1" "$1"; }

mkfifo "$T/fifo"
"$B" --connection-string="$AZ_CS" $opts <"$T/fifo" 2>"$T/err1" &
pid=$!
exec 3>"$T/fifo"
i=1
while [ $i -le 100 ]; do
  row $i >&3
  if [ $i -eq 50 ]; then
    sleep 0.6 # let the first half land
    az_stop
  fi
  [ $((i % 10)) -eq 0 ] && sleep 0.1
  i=$((i + 1))
done
exec 3>&-
wait $pid
rc=$?
stored=$(blobctl rows outage 2>/dev/null | wc -l)
[ $rc -eq 3 ] && ok "Azurite stopped mid-stream: exit 3 (rows spooled)" ||
  { bad "outage run: rc=$rc"; cat "$T/err1"; }
spooled=$(cat "$T"/spool/batch-*.ndjson 2>/dev/null | wc -l)
[ "$spooled" -ge 50 ] && ok "$spooled rows in the spool" || bad "only $spooled rows spooled"

AZ_LOG=$T/az2.log
az_start "$T/store" || exit 1
first=$(blobctl rows outage | wc -l)
[ "$first" -ge 50 ] && ok "$first rows survived the restart" || bad "only $first rows stored"
row 101 >"$T/more"
"$B" --connection-string="$AZ_CS" $opts <"$T/more" 2>"$T/err2"
rc=$?
[ $rc -eq 0 ] && ok "next run: spool delivered first, exit 0" || { bad "replay run rc=$rc"; cat "$T/err2"; }
blobctl rows outage | python3 -c '
import json, sys
ns = [json.loads(l)["n"] for l in sys.stdin]
missing = sorted(set(range(1, 102)) - set(ns))
dups = len(ns) - len(set(ns))
print("rows", len(ns), "missing", missing[:5], "duplicates", dups)
sys.exit(0 if not missing and not dups else 1)' >"$T/check"
rcc=$?
[ $rcc -eq 0 ] && ok "all 101 rows stored exactly once ($(cat "$T/check"))" ||
  bad "after replay: $(cat "$T/check")"
[ -z "$(ls "$T/spool" | grep '^batch-')" ] && ok "spool empty" || bad "spool not empty"

# SIGTERM and SIGINT flush the open batch while the input stays open.
# Windows has no SIGTERM (Wine ends the process at once); SIGINT arrives
# there as Ctrl-C.
sigs="TERM INT"
[ -n "${EXE:-}" ] && sigs=INT
for sig in $sigs; do
  rm -f "$T/fifo2"
  mkfifo "$T/fifo2"
  c=sig-$(echo $sig | tr 'A-Z' 'a-z')
  "$B" --connection-string="$AZ_CS" --container=$c --flush-interval=60 \
    --spool-dir="$T/spool" <"$T/fifo2" 2>"$T/err3" &
  pid=$!
  exec 3>"$T/fifo2"
  row 1 >&3
  row 2 >&3
  row 3 >&3
  sleep 0.5
  kill -$sig $pid
  t0=$(date +%s)
  wait $pid
  rc=$?
  took=$(($(date +%s) - t0))
  exec 3>&-
  n=$(blobctl rows $c | wc -l)
  [ $rc -eq 0 ] && [ "$n" -eq 3 ] && [ $took -le 3 ] &&
    ok "SIG$sig with the input still open: open batch flushed (3 rows), exit 0" ||
    { bad "SIG$sig: rc=$rc rows=$n took=$took"; cat "$T/err3"; }
done

echo "$fails failed"
[ $fails -eq 0 ]
