#!/bin/sh
# tests/bench/blobsink.sh - blobsink rows/s and MB/s into Azurite (in
# memory, loopback) with default batching, from a file of Kernel-Network
# shaped rows made by etwcat. Prints figures; never fails on speed.
set -u
. "$(dirname "$0")/../peers/azurite.sh"
if [ ! -x "$AZ_BIN" ]; then
  echo "skip: Azurite is not installed (scripts/setup.sh --tests)"
  exit 0
fi
n=${BENCH_BLOB_ROWS:-200000}
d=$BENCH_DIR
rows=$d/blob-rows.ndjson
if [ ! -f "$rows" ]; then
  "$TOOLS/etlwriter" --events "$n" --seed 9 "$d/blob.etl" 2>/dev/null
  "$BIN/etwcat" --file="$d/blob.etl" | head -n "$n" > "$rows"
fi
AZ_LOG=$d/azurite.log
az_start || exit 1
trap az_stop EXIT
export RTK_SPOOL_DIR=$d/spool
cs="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZ_KEY;BlobEndpoint=$AZ_BLOB_ENDPOINT"
set -- $(python3 tests/bench/measure.py 3 \
  "RTK_BLOB_CONNECTION_STRING='$cs' $BIN/blobsink --container=bench < $rows")
python3 -c '
import sys
rows, size, t, rss = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
print("blobsink into Azurite: %d rows, %.0f MB in %.2f s: %.0f rows/s, %.1f MB/s, peak RSS %s MiB"
      % (rows, size / 1e6, t, rows / t, size / t / 1e6, rss))' \
  "$(wc -l < "$rows")" "$(wc -c < "$rows")" "${1#seconds=}" "${2#rss_mib=}"
