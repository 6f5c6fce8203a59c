#!/bin/sh
# etwcat's command line: help, version, usage errors, missing and non-ETL
# files, and that nothing but the documented exit codes come out.
set -u
fail=0
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
e=$BIN/etwcat
check() { # name expected-exit actual-exit
  if [ "$2" != "$3" ]; then
    echo "FAIL $1: exit $3, want $2"
    fail=1
  else
    echo "ok   $1"
  fi
}
grep_err() { # name pattern file
  if grep -q -e "$2" "$3"; then echo "ok   $1"; else
    echo "FAIL $1: stderr lacks '$2':"; cat "$3"; fail=1; fi
}
$e --help > "$t/out" 2>&1; check help 0 $?
grep_err help-text "--file PATTERN" "$t/out"
$e --version > "$t/out" 2>&1; check version 0 $?
grep_err version-text "^etwcat [0-9]" "$t/out"
$e > /dev/null 2> "$t/err"; check no-input 2 $?
grep_err no-input-msg "no input" "$t/err"
$e --bogus > /dev/null 2> "$t/err"; check bad-option 2 $?
$e --session=tcp > /dev/null 2> "$t/err"; check session-on-linux 2 $?
grep_err session-msg "needs Windows" "$t/err"
$e --session=tcp --file=x.etl > /dev/null 2> "$t/err"
check file-and-session 2 $?
grep_err file-and-session-msg "one input only" "$t/err"
$e --file="$t/missing.etl" > /dev/null 2> "$t/err"; check missing-file 1 $?
grep_err missing-msg "missing.etl: No such file" "$t/err"
$e --file="$t/nomatch*.etl" > /dev/null 2> "$t/err"; check no-match 1 $?
grep_err nomatch-msg "no file matches" "$t/err"
printf 'this is not a trace\n' > "$t/text.etl"
$e --file="$t/text.etl" > "$t/out" 2> "$t/err"; check not-etl 1 $?
grep_err not-etl-msg "not an ETL file" "$t/err"
[ -s "$t/out" ] && { echo "FAIL not-etl wrote output"; fail=1; }
head -c 200000 /dev/urandom > "$t/random.etl"
$e --file="$t/random.etl" > /dev/null 2> "$t/err"; check random 1 $?
# Ctrl-C: stop at an event boundary, write what was decoded, exit 0.
if [ -x "$TOOLS/etlwriter" ]; then
  "$TOOLS/etlwriter" --events 400000 --seed 3 "$t/big.etl" 2>/dev/null
  $e --file="$t/big.etl" > "$t/sig.ndjson" 2> "$t/err" &
  pid=$!
  sleep 0.3
  kill -INT $pid 2>/dev/null
  wait $pid; check sigint-exit 0 $?
  if tail -n 1 "$t/sig.ndjson" | python3 -c 'import json,sys; json.loads(sys.stdin.read())' 2>/dev/null; then
    echo "ok   sigint-whole-lines"
  else
    echo "FAIL sigint-whole-lines: the last line is cut"; fail=1
  fi
fi
exit $fail
