#!/bin/sh
# tests/bench/jsonsink.sh - jsonsink MB/s into a file, next to `cat`.
#
# BENCH_ROWS (default 1,000,000) Kernel-Network-shaped rows (~575 bytes,
# ~575 MB) are written by jsonsink as one JSON array file, as an NDJSON
# file, and to /dev/null, and copied by `cat` into a file for comparison.
# Every run writes a fresh file (the old one is removed first, outside the
# timing). Target (issue 5): >= 500 MB/s into a file. Prints numbers,
# never fails on speed.
set -eu
n=${BENCH_ROWS:-1000000}
d=${BENCH_DIR:-build/bench}
mkdir -p "$d"
m="python3 tests/bench/measure.py"
in=$d/jsonsink-$n.ndjson
if [ ! -f "$in" ]; then
  awk -v n="$n" 'BEGIN {
    for (i = 0; i < n; i++)
      printf "{\"TimeCreated\":\"2010-06-09T21:39:21.%07dZ\",\"Provider\":\"Microsoft-Windows-Kernel-Network\",\"ProviderId\":\"7dd42a49-5329-4832-8dfd-43d979153a88\",\"EventId\":%d,\"Version\":0,\"Level\":\"Information\",\"Task\":\"KERNEL_NETWORK_TASK_TCPIP\",\"Opcode\":\"Data sent.\",\"Channel\":16,\"LevelValue\":4,\"TaskValue\":10,\"OpcodeValue\":10,\"Keywords\":\"0x8000000000000010\",\"ProcessId\":%d,\"ThreadId\":%d,\"ProcessorNumber\":1,\"ActivityId\":\"00000000-0000-0000-0000-000000000000\",\"EventData\":{\"PID\":%d,\"size\":%d,\"daddr\":\"10.0.0.%d\",\"saddr\":\"192.168.1.5\",\"dport\":443,\"sport\":%d,\"seqnum\":0,\"connid\":0}}\n",
        i % 10000000, 10 + i % 3, 4 + i % 60000, 8 + i % 50000, 4 + i % 60000,
        1 + i % 1500, i % 255, 50000 + i % 1000
  }' >"$in"
fi
bytes=$(wc -c <"$in")
rows=$(wc -l <"$in")
out=$d/jsonsink-out
t() { # t CMD: median seconds of 3 runs, each into a fresh output file
  $m 3 "rm -f $out; $1" | sed 's/^seconds=\([^ ]*\).*/\1/'
}
t_arr=$(t "$BIN/jsonsink --file=$out < $in")
t_nd=$(t "$BIN/jsonsink --ndjson --file=$out < $in")
t_null=$(t "$BIN/jsonsink < $in > /dev/null")
t_cat=$(t "cat $in > $out")
rm -f "$out"
python3 - "$rows" "$bytes" "$t_arr" "$t_nd" "$t_null" "$t_cat" <<'PY'
import sys
rows, by = int(sys.argv[1]), int(sys.argv[2])
ta, tn, t0, tc = map(float, sys.argv[3:])
print("jsonsink: %d rows, %.0f MB of NDJSON" % (rows, by / 1e6))
for name, t in (("--file=out.json (array)", ta), ("--ndjson --file", tn),
                ("console > /dev/null", t0), ("cat > file", tc)):
    print("  %-24s %.3f s  %6.0f MB/s  %.2f M rows/s" % (name, t, by / t / 1e6,
                                                      rows / t / 1e6))
print("  array file vs cat: %.2fx the time (target: >= 500 MB/s)" % (ta / tc))
PY
