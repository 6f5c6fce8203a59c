#!/bin/sh
# tests/bench.sh - run every benchmark in tests/bench/*.sh.
#
# Benchmarks print measurements, never pass/fail on time: speed targets are
# read from their output (the issue notes quote it). BIN and TOOLS point at
# the optimised build (bin/, build/posix/tools).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
export BIN="$top/bin" TOOLS="$top/build/posix/tools"
export BENCH_DIR="${BENCH_DIR:-$top/build/bench}"
mkdir -p "$BENCH_DIR"
status=0
for b in tests/bench/*.sh; do
  [ -f "$b" ] || continue
  echo "== $(basename "$b" .sh)"
  sh "$b" || status=1
done
exit $status
