#!/bin/sh
# Windows-only checks of etwcat, run by tests/windows/run.sh under Wine:
# UTF-8 arguments and file names, Windows globbing (case-insensitive, no
# 8.3 false matches), long paths, binary stdout, a closed pipe, and the
# real-time error paths (Wine's ETW stubs: StartTraceW "succeeds",
# OpenTraceW fails with access denied; RTK_WINE_ETW=1 runs the real code
# anyway). BIN holds the wrapper scripts; Z:\ paths reach the .exe itself.
# SPDX-License-Identifier: MIT
set -u
fail=0
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
e=$BIN/etwcat
kn=../shared/corpus/etl/Tx__KernelNetwork.etl
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
    echo "FAIL $1: no '$2' in:"; cat "$3"; fail=1; fi
}

# Real time: plain refusal under Wine, then the code paths themselves.
$e --session=tcp > /dev/null 2> "$t/err"; check wine-session 2 $?
grep_err wine-session-msg "needs Windows" "$t/err"
RTK_WINE_ETW=1 $e --session=tcp > /dev/null 2> "$t/err"
check attach-denied 1 $?
grep_err attach-denied-msg "cannot open the real-time session tcp" "$t/err"
grep_err attach-denied-hint "Performance Log Users" "$t/err"
RTK_WINE_ETW=1 $e -v --provider=7dd42a49-5329-4832-8dfd-43d979153a88:0x10:4 \
  > /dev/null 2> "$t/err"
check private-session 1 $?
grep_err private-session-start "started the ETW session etwcat-" "$t/err"
grep_err private-session-open "cannot open the real-time session etwcat-" \
  "$t/err"
RTK_WINE_ETW=1 $e --provider=Microsoft-Windows-Kernel-Network \
  > /dev/null 2> "$t/err"
check name-needs-tdh 2 $?
grep_err name-needs-tdh-msg "give the provider's GUID" "$t/err"
$e --provider=x:zz > /dev/null 2> "$t/err"; check bad-spec 2 $?
grep_err bad-spec-msg "keywords must be a number" "$t/err"
$e --session=a --provider=b > /dev/null 2> "$t/err"; check both 2 $?

[ -f "$kn" ] || { echo "skip: $kn not found"; exit $fail; }
want=$($e --file="$kn" | cksum)
# UTF-8 names through argv, CreateFileW and FindFirstFileW.
mkdir -p "$t/dé"
cp "$kn" "$t/dé/日本.etl"
cp "$kn" "$t/dé/B.ETL"
cp "$kn" "$t/dé/c.etl_old"
[ "$($e --file="$t/dé/日本.etl" | cksum)" = "$want" ]; check utf8-name 0 $?
$e -v --file="$t/dé/*.etl" > /dev/null 2> "$t/err"; check glob 0 $?
grep_err glob-count "17848 events" "$t/err" # 日本.etl and B.ETL, no c.etl_old
# Past MAX_PATH: \\?\ paths.
long=$t/$(printf 'x%.0s' $(seq 1 120))/$(printf 'y%.0s' $(seq 1 120))
mkdir -p "$long"
cp "$kn" "$long/z.etl"
[ "$($e --file="$long/z.etl" | cksum)" = "$want" ]; check long-path 0 $?
[ "$($e --file="$long/*.etl" | cksum)" = "$want" ]; check long-glob 0 $?
# Binary stdout: no CR anywhere.
n=$($e --file="$kn" | tr -cd '\r' | wc -c)
check no-crlf 0 "$n"
# A reader that leaves early: quiet, status 0 (EPIPE, as on POSIX).
$e --file="$kn" 2> "$t/err" | head -c 10 > /dev/null
[ ! -s "$t/err" ]; check closed-pipe-quiet 0 $?
exit $fail
