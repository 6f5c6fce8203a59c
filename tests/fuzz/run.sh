#!/bin/sh
# tests/fuzz/run.sh - build every libFuzzer target and run each for a while.
#
# usage: tests/fuzz/run.sh SECONDS tests/fuzz/fuzz_NAME.c...
# Objects are built by `make SAN=fuzz` (clang, -fsanitize=fuzzer-no-link);
# each target fuzzes a scratch copy of tests/fuzz/corpus/NAME so the seed
# corpus in the repository stays small. A crash leaves its input in
# build/fuzz/crashes/NAME/ and fails the run.
set -eu
secs=$1
shift
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
command -v clang >/dev/null || { echo "fuzz: clang is needed"; exit 1; }
make -s SAN=fuzz CC=clang fuzz-targets
status=0
for src in "$@"; do
  name=$(basename "$src" .c)
  name=${name#fuzz_}
  bin=build/fuzz/fuzzbin/fuzz_$name
  work=build/fuzz/corpus/$name
  crashes=build/fuzz/crashes/$name
  mkdir -p "$work" "$crashes"
  [ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/$name/* "$work"/ 2>/dev/null || true
  echo "fuzz: $name for ${secs}s"
  if ! "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$crashes/" -print_final_stats=1 "$work" \
      >"build/fuzz/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; see build/fuzz/$name.log and $crashes"
    status=1
  fi
  grep -E "stat::number_of_executed_units|Done" "build/fuzz/$name.log" | head -2
done
exit $status
