#!/bin/sh
# kqlfilter.sh - time kqlfilter against jq (and DuckDB, when installed)
# on the three workloads of ../shared/design/performance.md, over N
# Kernel-Network-shaped events (default 2,000,000, about 1.1 GB):
#   filter   where EventId in (10, 11)
#   project  two computed columns (PID, "daddr:dport")
#   agg      count() and sum(size) by PID
# Prints wall time, events/s and kqlfilter's speed-up over each tool.
# usage: tests/bench/kqlfilter.sh [N]   (env: BIN, KEEP=1 keeps the data)
#
# SPDX-License-Identifier: MIT
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BIN:-$top/bin}/kqlfilter
n=${1:-2000000}
data=${DATA:-${TMPDIR:-/tmp}/kqlfilter-bench-$n.ndjson}
[ -x "$bin" ] || { echo "kqlfilter not built: $bin"; exit 1; }
if [ ! -s "$data" ]; then
  echo "generating $n events into $data"
  python3 "$top/tests/bench/kqlfilter_gen.py" "$n" >"$data" || exit 1
fi
bytes=$(wc -c <"$data" | tr -d ' ')
echo "data: $n events, $bytes bytes"

now() { date +%s.%N; }
# run NAME CMD...: time CMD with stdin from the data, output discarded
run() {
  name=$1
  shift
  cat "$data" >/dev/null # page cache
  t0=$(now)
  "$@" <"$data" >/dev/null 2>"${TMPDIR:-/tmp}/kqlfilter-bench.err" ||
    { echo "$name: failed: $(head -c 300 "${TMPDIR:-/tmp}/kqlfilter-bench.err")"; }
  t1=$(now)
  secs=$(echo "$t1 - $t0" | bc -l)
  rate=$(echo "$n / $secs" | bc -l)
  printf '%-22s %8.2f s %12.0f events/s\n' "$name" "$secs" "$rate"
  eval "t_$(echo "$name" | tr -c 'a-zA-Z0-9\n' '_')=$secs"
}

q_filter='T | where EventId in (10, 11)'
q_project='T | project PID = EventData.PID, Dest = strcat(EventData.daddr, ":", EventData.dport)'
q_agg='T | summarize count(), sum(tolong(EventData.size)) by PID = tolong(EventData.PID)'
j_filter='select(.EventId == 10 or .EventId == 11)'
j_project='{PID: .EventData.PID, Dest: "\(.EventData.daddr):\(.EventData.dport)"}'
j_agg='reduce inputs as $e ({}; .[$e.EventData.PID|tostring] |= {count: ((.count // 0) + 1), size: ((.size // 0) + $e.EventData.size)}) | to_entries[] | {PID: .key, count_: .value.count, sum_size: .value.size}'

run cat cat
for w in filter project agg; do
  eval "q=\$q_$w"
  eval "j=\$j_$w"
  run "kqlfilter-$w" "$bin" "$q"
  if command -v jq >/dev/null 2>&1; then
    if [ "$w" = agg ]; then
      run "jq-$w" jq -c -n "$j"
    else
      run "jq-$w" jq -c "$j"
    fi
  fi
  if command -v duckdb >/dev/null 2>&1; then
    case $w in
    filter) sql="select * from read_ndjson_auto('/dev/stdin') where EventId in (10, 11)" ;;
    project) sql="select EventData.PID, EventData.daddr || ':' || EventData.dport from read_ndjson_auto('/dev/stdin')" ;;
    agg) sql="select EventData.PID, count(*), sum(EventData.size) from read_ndjson_auto('/dev/stdin') group by 1" ;;
    esac
    run "duckdb-$w" duckdb -json -c "$sql"
  fi
done
echo
echo "speed-up of kqlfilter (time of the other tool / time of kqlfilter):"
for w in filter project agg; do
  eval "k=\${t_kqlfilter_$w:-}"
  for tool in jq duckdb; do
    eval "o=\${t_${tool}_$w:-}"
    [ -n "$o" ] && [ -n "$k" ] &&
      printf '  %-8s vs %-7s %6.1fx\n' "$w" "$tool" "$(echo "$o / $k" | bc -l)"
  done
done
[ "${KEEP:-}" = 1 ] || rm -f "$data"
