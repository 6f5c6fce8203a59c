#!/bin/sh
# Golden decodings: Tx__KernelNetwork.etl (all 8,923 Kernel-Network events
# decoded, default and --tx-compat formatting) from the shared corpus, plus
# the key values of one event checked by hand against etw-schemas.md 2.
set -u
corpus=../shared/corpus/etl
[ -d "$corpus" ] || { echo "skip: $corpus not found"; exit 77; }
g=tests/etl/golden
fail=0
kn=$corpus/Tx__KernelNetwork.etl
python3 tests/etl/golden.py $g/Tx__KernelNetwork.summary "$BIN/etwcat" \
  --file="$kn" || fail=1
python3 tests/etl/golden.py $g/Tx__KernelNetwork.txcompat.summary \
  "$BIN/etwcat" --tx-compat --file="$kn" || fail=1
# Event 11 with payload 9c0a0000 05100000 9d38f426 0a796a76 01bb f12c ...
"$BIN/etwcat" --file="$kn" | python3 -c '
import json, sys
hits = [e for e in map(json.loads, sys.stdin)
        if e["EventId"] == 11 and e["EventData"].get("size") == 4101
        and e["EventData"].get("PID") == 2716]
want = {"PID": 2716, "size": 4101, "daddr": "157.56.244.38",
        "saddr": "10.121.106.118", "dport": 443, "sport": 61740}
ok = any(all(e["EventData"][k] == v for k, v in want.items()) for e in hits)
print("ok   event-11 values" if ok else "FAIL event-11 values: %r" % hits[:1])
sys.exit(0 if ok else 1)' || fail=1
"$BIN/etwcat" --tx-compat --file="$kn" | python3 -c '
import json, sys
ok = any(e["EventId"] == 11 and e["EventData"].get("size") == 4101 and
         e["EventData"].get("dport") == 47873 for e in map(json.loads, sys.stdin))
print("ok   tx-compat raw port" if ok else "FAIL tx-compat raw port")
sys.exit(0 if ok else 1)' || fail=1
exit $fail
