#!/bin/sh
# tests/bench/etwcat.sh - etwcat events/s and peak memory.
#
# 1. A large Kernel-Network trace made by the project's ETL writer
#    (BENCH_EVENTS events, default 3,000,000), decoded to /dev/null; the
#    same NDJSON through `cat` for the ratio.
# 2. The compressed corpus trace perfview__net.4.5.2.x64.etl (when
#    ../shared is present).
# Prints events/s, MB/s of NDJSON and peak RSS; never fails on speed.
set -eu
n=${BENCH_EVENTS:-3000000}
d=$BENCH_DIR
m="python3 tests/bench/measure.py"
trace=$d/kn-$n.etl
[ -f "$trace" ] || "$TOOLS/etlwriter" --events "$n" --seed 7 --cpus 4 \
  --buffer-size 65536 "$trace"
"$BIN/etwcat" --file="$trace" > "$d/kn.ndjson"
bytes=$(wc -c < "$d/kn.ndjson")
events=$(wc -l < "$d/kn.ndjson")
set -- $($m 3 "$BIN/etwcat --file=$trace > /dev/null")
t_etw=${1#seconds=}; rss=${2#rss_mib=}
set -- $($m 3 "cat $d/kn.ndjson > /dev/null")
t_cat=${1#seconds=}
set -- $($m 3 "$BIN/etwcat --file=$trace | cat > /dev/null")
t_pipe=${1#seconds=}
python3 - "$events" "$bytes" "$t_etw" "$t_cat" "$t_pipe" "$rss" "$(wc -c < "$trace")" <<'PY'
import sys
ev, by, te, tc, tp, rss, tb = sys.argv[1:]
ev, by, te, tc, tp, tb = int(ev), int(by), float(te), float(tc), float(tp), int(tb)
print("etwcat kernel-network: %d events, %.0f MB trace -> %.0f MB NDJSON"
      % (ev, tb / 1e6, by / 1e6))
print("  etwcat > /dev/null : %.3f s  %.2f M events/s  %.0f MB/s  peak RSS %s MiB"
      % (te, ev / te / 1e6, by / te / 1e6, rss))
print("  etwcat | cat       : %.3f s  %.2f M events/s" % (tp, ev / tp / 1e6))
print("  cat NDJSON         : %.3f s  %.0f MB/s  (etwcat/cat time ratio %.1fx)"
      % (tc, by / tc / 1e6, te / tc))
PY
corp=../shared/corpus/etl/perfview__net.4.5.2.x64.etl
if [ -f "$corp" ]; then
  "$BIN/etwcat" --file="$corp" > "$d/net.ndjson" 2>/dev/null || true
  events=$(wc -l < "$d/net.ndjson")
  set -- $($m 5 "$BIN/etwcat --file=$corp > /dev/null 2>&1 || true")
  echo "etwcat compressed corpus trace (perfview__net.4.5.2.x64.etl):"
  python3 -c "import sys; e,t,r=int(sys.argv[1]),float(sys.argv[2]),sys.argv[3]; print('  %d events in %.3f s: %.2f M events/s, peak RSS %s MiB' % (e,t,e/t/1e6,r))" \
    "$events" "${1#seconds=}" "${2#rss_mib=}"
else
  echo "skip: compressed corpus trace not found ($corp)"
fi
