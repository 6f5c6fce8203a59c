#!/bin/sh
# adxsink throughput with default batching into the loopback ADX peer:
# queued (blob into Azurite + queue message; time until adxsink exits,
# then until the peer has ingested every row) and --direct (streaming;
# the peer parses every row, so it is the bottleneck). Prints rows/s and
# MB/s of NDJSON input. Skipped without Azurite.
set -u
. tests/peers/adx_env.sh
N=${ADX_BENCH_ROWS:-200000}
adx_start_azurite
adx_start_peer --accept-token bench-tok
printf 'bench-tok\n' >"$ADX_TMP/tok"
python3 - "$N" >"$ADX_TMP/rows.ndjson" <<'PY'
import json, sys
n = int(sys.argv[1])
for i in range(n):
    print(json.dumps({
        "TimeCreated": "2010-06-09T21:39:%02d.%07dZ" % (i % 60, i % 10000000),
        "Provider": "Microsoft-Windows-Kernel-Network",
        "ProviderId": "7dd42a49-5329-4832-8dfd-43d979153a88",
        "EventId": 10, "Version": 0, "Level": "Information",
        "Opcode": "Data sent.", "ProcessId": 4 + i % 997,
        "Keywords": "0x8000000000000010",
        "EventData": {"PID": 4 + i % 997, "size": 1460,
                      "daddr": "10.0.%d.%d" % (i // 256 % 256, i % 256),
                      "saddr": "10.1.0.5", "dport": 443,
                      "sport": 50000 + i % 10000}},
        separators=(",", ":")))
PY
bytes=$(wc -c <"$ADX_TMP/rows.ndjson")
now() { python3 -c 'import time; print(time.time())'; }
rate() { # label seconds
  python3 -c 'import sys
n, b, s = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[4])
print("%-28s %8d rows %7.1f MB  %6.2f s  %9.0f rows/s  %6.1f MB/s" %
      (sys.argv[3], n, b / 1e6, s, n / s, b / 1e6 / s))' "$N" "$bytes" "$1" "$2"
}
A="--cluster=$ENGINE --ingest-endpoint=$DM --database=TestDb
 --token=@$ADX_TMP/tok --spool-dir=$ADX_TMP/spool"
t0=$(now)
"$BIN/adxsink" $A --table=Queued --reset <"$ADX_TMP/rows.ndjson" || exit 1
t1=$(now)
adx_hook "wait?db=TestDb&table=Queued&rows=$N&timeout=600" >/dev/null
t2=$(now)
rate "queued (adxsink done)" "$(python3 -c "print($t1 - $t0)")"
rate "queued (rows in the peer)" "$(python3 -c "print($t2 - $t0)")"
t0=$(now)
"$BIN/adxsink" $A --table=Direct --reset --direct <"$ADX_TMP/rows.ndjson" ||
  exit 1
t1=$(now)
rate "direct (streaming)" "$(python3 -c "print($t1 - $t0)")"
echo "blobs: $(adx_state 'len(s["queued"])'); streaming requests:" \
  "$(adx_requests 'sum(1 for e in r if "/ingest/" in e["path"])')"
