#!/bin/sh
# tests/run.sh - run every test suite against one build configuration.
#
# usage: tests/run.sh BUILD_DIR   (e.g. build/asan)
# Unit tests are BUILD_DIR/tests/bin/test_*; CLI and golden suites are
# tests/cli/*.sh, each run with BIN (programs) and TOOLS (test tools) set.
# Exit code 77 from a test means "skipped". Ends with "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
build=${1:-build/asan}
BIN=${BIN:-$top/$build/bin}
TOOLS=${TOOLS:-$top/$build/tools}
export BIN TOOLS EXEC_PREFIX="${EXEC_PREFIX:-}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
out=$top/tests/out
mkdir -p "$out"
pass=0 fail=0 skip=0
failed=""
run_one() {
  name=$1
  shift
  log=$out/$(echo "$name" | tr '/' '_').log
  "$@" >"$log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    pass=$((pass + 1))
    echo "ok   $name"
  elif [ $rc -eq 77 ]; then
    skip=$((skip + 1))
    echo "skip $name: $(grep -m1 '^skip' "$log" || tail -n1 "$log")"
  else
    fail=$((fail + 1))
    failed="$failed $name"
    echo "FAIL $name (exit $rc; log: $log)"
    tail -n 20 "$log" | sed 's/^/    /'
  fi
}
for t in "$build"/tests/bin/test_*; do
  [ -x "$t" ] || continue
  run_one "unit/$(basename "$t")" "$t"
done
for t in "$build"/replaybin/fuzz_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  corpus=tests/fuzz/corpus/${name#fuzz_}
  [ -d "$corpus" ] || continue
  run_one "fuzz-replay/$name" "$t" "$corpus"
done
for s in tests/cli/*.sh; do
  [ -f "$s" ] || continue
  run_one "cli/$(basename "$s" .sh)" sh "$s"
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed${skip:+, $skip skipped}"
[ "$fail" -eq 0 ]
