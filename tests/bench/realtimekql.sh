#!/bin/sh
# tests/bench/realtimekql.sh - the RealTimeKql launcher's overhead against
# the same stages joined by a shell pipe, and end-to-end events/s, on a
# large Kernel-Network trace made by the project's ETL writer
# (BENCH_EVENTS events, default 2,000,000).
#
#   pass   etwcat | jsonsink --file            vs  RealTimeKql -oj
#   query  etwcat | kqlfilter -q | jsonsink    vs  RealTimeKql -q -oj
#   fan    etwcat | kqlfilter | tee FIFO | jsonsink --file, jsonsink <FIFO
#                                              vs  RealTimeKql -q -oj -oc
#   fan0   the same without a query (every event copied twice)
# BENCH_RUNS alternating runs of each (default 5). Prints median wall
# and CPU times, the launcher's overhead in percent (target: within
# 10 %) and end-to-end events/s; never fails on speed.
set -eu
n=${BENCH_EVENTS:-2000000}
runs=${BENCH_RUNS:-5}
d=${BENCH_DIR:-build/bench}
mkdir -p "$d"
q=share/queries/SimplifyEtwTcp.kql
trace=$d/kn-$n.etl
[ -f "$trace" ] || "$TOOLS/etlwriter" --events "$n" --seed 7 --cpus 4 \
  --buffer-size 65536 "$trace" >/dev/null
for p in RealTimeKql etwcat kqlfilter jsonsink; do
  [ -x "$BIN/$p" ] || { echo "realtimekql bench: $BIN/$p not built"; exit 1; }
done
R=$BIN/RealTimeKql
out=$d/rtk-out.json
fifo=$d/rtk-fifo
rm -f "$fifo"
mkfifo "$fifo"
events=$("$BIN/etwcat" --file="$trace" | wc -l)
rows=$("$BIN/etwcat" --file="$trace" | "$BIN/kqlfilter" -q "$q" | wc -l)

# The pairs run alternately (shell, launcher, shell, ...), so that load
# from other work on the machine falls on both alike; medians of wall
# time and of CPU time (user + system, all processes).
python3 - "$runs" "$events" "$rows" \
  "pass  (etwcat -> JSON file)" \
  "$BIN/etwcat --file=$trace | $BIN/jsonsink --file=$out" \
  "$R etw --file=$trace -oj $out" \
  "query (-> kqlfilter -> JSON file)" \
  "$BIN/etwcat --file=$trace | $BIN/kqlfilter -q $q | $BIN/jsonsink --file=$out" \
  "$R etw --file=$trace -q $q -oj $out" \
  "fan   (query -> JSON file + console)" \
  "$BIN/jsonsink <$fifo >/dev/null & $BIN/etwcat --file=$trace | $BIN/kqlfilter -q $q | tee $fifo | $BIN/jsonsink --file=$out; wait" \
  "$R etw --file=$trace -q $q -oj $out -oc >/dev/null" \
  "fan0  (events -> JSON file + console)" \
  "$BIN/jsonsink <$fifo >/dev/null & $BIN/etwcat --file=$trace | tee $fifo | $BIN/jsonsink --file=$out; wait" \
  "$R etw --file=$trace -oj $out -oc >/dev/null" <<'PY'
import resource, statistics, subprocess, sys, time
runs, ev, rows = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
cases = sys.argv[4:]

def one(cmd):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, shell=True, check=True)
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return wall, cpu

print("RealTimeKql launcher vs the same stages in a shell pipe: %d events "
      "(%d rows after the query); median of %d alternating runs each"
      % (ev, rows, runs))
print("  %-38s %17s %17s %9s %8s %10s" % ("", "shell wall/cpu s",
      "launcher wall/cpu", "wall +%", "cpu +%", "events/s"))
for i in range(0, len(cases), 3):
    name, sh, rtk = cases[i:i + 3]
    a, b = [], []
    for _ in range(runs):
        a.append(one(sh))
        b.append(one(rtk))
    sw, sc = statistics.median(x[0] for x in a), statistics.median(x[1] for x in a)
    rw, rc = statistics.median(x[0] for x in b), statistics.median(x[1] for x in b)
    print("  %-38s %8.3f /%7.3f %8.3f /%7.3f %+8.1f%% %+7.1f%% %9.2fM"
          % (name, sw, sc, rw, rc, (rw / sw - 1) * 100, (rc / sc - 1) * 100,
             ev / rw / 1e6))
PY
rm -f "$fifo" "$out"
