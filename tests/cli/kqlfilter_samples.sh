#!/bin/sh
# kqlfilter_samples.sh - the original tool's sample queries end to end:
# etwcat --tx-compat | kqlfilter -q share/queries/tx-compat/X.kql must
# give the same rows as etwcat | kqlfilter -q share/queries/X.kql, and
# the known answers for ../shared/corpus/etl/Tx__KernelNetwork.etl.
# Exit 0 pass, 77 skip (no ../shared or no etwcat), 1 fail.
#
# SPDX-License-Identifier: MIT
top=$(cd "$(dirname "$0")/../.." && pwd)
shared=${SHARED:-$top/../shared}
bindir=${BIN:-$top/bin}
etl=$shared/corpus/etl/Tx__KernelNetwork.etl
if [ ! -f "$etl" ]; then
  echo "skip: $etl not found"
  exit 77
fi
for p in etwcat kqlfilter; do
  if [ ! -x "$bindir/$p" ]; then
    echo "skip: $bindir/$p not built"
    exit 77
  fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
q=$top/share/queries
fail=0
run() { # run NAME: both forms, compare
  "$bindir/etwcat" --tx-compat --file="$etl" 2>/dev/null |
    ${EXEC_PREFIX:-} "$bindir/kqlfilter${EXE:-}" -q "$q/tx-compat/$1.kql" \
      >"$tmp/$1.compat" || { echo "FAIL $1: tx-compat run"; fail=1; }
  "$bindir/etwcat" --file="$etl" 2>/dev/null |
    ${EXEC_PREFIX:-} "$bindir/kqlfilter${EXE:-}" -q "$q/$1.kql" \
      >"$tmp/$1.default" || { echo "FAIL $1: default run"; fail=1; }
  if ! cmp -s "$tmp/$1.compat" "$tmp/$1.default"; then
    echo "FAIL $1: tx-compat and default forms differ"
    diff "$tmp/$1.compat" "$tmp/$1.default" | head -n 5
    fail=1
  fi
}
run SimplifyEtwTcp
run SummarizeEtwTcp
n=$(wc -l <"$tmp/SimplifyEtwTcp.default" | tr -d ' ')
[ "$n" = 8543 ] || { echo "FAIL SimplifyEtwTcp: $n rows, want 8543"; fail=1; }
first='{"SourceIpAddress":"10.121.106.118:61740","DestinationIpAddress":"157.56.244.38:443","Opcode":"Data received.","ProcessName":""}'
[ "$(head -n 1 "$tmp/SimplifyEtwTcp.default")" = "$first" ] ||
  { echo "FAIL SimplifyEtwTcp: first row differs"; fail=1; }
cat >"$tmp/want" <<'ROWS'
{"TimeCreated":"2012-06-19T20:33:00.0000000Z","ProcessId":2716,"ProcessName":"","DestinationIpAddress":"157.56.244.38","DestinationPort":443,"Packets":1320,"Bytes":2525293}
{"TimeCreated":"2012-06-19T20:34:00.0000000Z","ProcessId":2716,"ProcessName":"","DestinationIpAddress":"157.56.244.38","DestinationPort":443,"Packets":7223,"Bytes":12850314}
ROWS
cmp -s "$tmp/want" "$tmp/SummarizeEtwTcp.default" ||
  { echo "FAIL SummarizeEtwTcp: rows differ"; fail=1; }
# EtwDns on DNS-client-shaped events (no DNS trace in the corpus)
cat >"$tmp/dns" <<'ROWS'
{"TimeCreated":"2021-03-01T10:00:00.0000000Z","Provider":"Microsoft-Windows-DNS-Client","EventId":3008,"EventData":{"QueryName":"example.com","QueryResults":"93.184.216.34;"}}
{"TimeCreated":"2021-03-01T10:00:01.0000000Z","Provider":"Microsoft-Windows-DNS-Client","EventId":3008,"EventData":{"QueryName":"v6only.example","QueryResults":"type:  28 2001:db8::1;"}}
{"TimeCreated":"2021-03-01T10:00:02.0000000Z","Provider":"Microsoft-Windows-DNS-Client","EventId":3006,"EventData":{"QueryName":"none.example"}}
ROWS
want='{"TimeCreated":"2021-03-01T10:00:00.0000000Z","QueryResults":"93.184.216.34","QueryName":"example.com"}'
for f in "$q/EtwDns.kql" "$q/tx-compat/EtwDns.kql"; do
  got=$(${EXEC_PREFIX:-} "$bindir/kqlfilter${EXE:-}" -q "$f" <"$tmp/dns")
  [ "$got" = "$want" ] || { echo "FAIL $f: got $got"; fail=1; }
done
[ $fail = 0 ] && echo "samples ok"
exit $fail
