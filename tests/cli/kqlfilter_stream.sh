#!/bin/sh
# kqlfilter_stream.sh - real-time behaviour: rows that pass are written
# while the input is still open, and summarize by bin(TimeCreated, W)
# writes a window as soon as a row of a later window arrives, before end
# of input. The input is a FIFO kept open by this script.
# Exit 0 pass, 77 skip (no mkfifo), 1 fail.
#
# SPDX-License-Identifier: MIT
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BIN:-$top/bin}/kqlfilter${EXE:-}
command -v mkfifo >/dev/null 2>&1 || { echo "skip: no mkfifo"; exit 77; }
[ -x "$bin" ] || { echo "skip: $bin not built"; exit 77; }
tmp=$(mktemp -d)
trap 'exec 3>&-; rm -rf "$tmp"' EXIT
fail=0

# wait_for FILE N: up to 10 s for FILE to hold N lines
wait_for() {
  i=0
  while [ "$i" -lt 100 ]; do
    [ "$(wc -l <"$1" | tr -d ' ')" -ge "$2" ] && return 0
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}

check() { # check NAME QUERY ROW1 ROW2 : ROW1 alone must give 0 lines
  name=$1 query=$2
  mkfifo "$tmp/in.$name"
  : >"$tmp/out.$name"
  ${EXEC_PREFIX:-} "$bin" "$query" <"$tmp/in.$name" >"$tmp/out.$name" &
  pid=$!
  exec 3>"$tmp/in.$name"
  printf '%s\n' "$3" >&3
  printf '%s\n' "$4" >&3
  if ! wait_for "$tmp/out.$name" 1; then
    echo "FAIL $name: no row while the input is still open"
    fail=1
  fi
  exec 3>&-
  wait "$pid" || { echo "FAIL $name: exit status $?"; fail=1; }
}

check where 'T | where a > 0' '{"a":1}' '{"a":0}'
check window 'T | summarize n = count() by bin(TimeCreated, 1m)' \
  '{"TimeCreated":"2020-01-01T00:00:10Z"}' \
  '{"TimeCreated":"2020-01-01T00:01:10Z"}'
want='{"TimeCreated":"2020-01-01T00:00:00.0000000Z","n":1}'
[ "$(head -n 1 "$tmp/out.window")" = "$want" ] ||
  { echo "FAIL window: first row $(head -n 1 "$tmp/out.window")"; fail=1; }
[ "$(wc -l <"$tmp/out.window" | tr -d ' ')" = 2 ] ||
  { echo "FAIL window: not 2 rows at the end"; fail=1; }
[ $fail = 0 ] && echo "stream ok"
exit $fail
