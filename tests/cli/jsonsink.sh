#!/bin/sh
# jsonsink.sh - jsonsink end to end: console pass-through, --pretty,
# --table, the JSON array file (valid after EOF, SIGINT and SIGTERM, even
# empty), --ndjson, --rotate-bytes, bad lines (line numbers, reject file,
# counts), odd input (CRLF, BOM, blank lines, no final newline), a reader
# that goes away, a full disk (exit 1) and usage errors (exit 2).
#
# SPDX-License-Identifier: MIT
set -u
J=${BIN:?BIN must name the programs directory}/jsonsink
[ -x "$J" ] || { echo "skip: $J not built"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

# is_array FILE N: FILE is one JSON array of N objects.
is_array() {
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
sys.exit(0 if isinstance(d, list) and len(d) == int(sys.argv[2]) and
         all(isinstance(x, dict) for x in d) else 1)' "$1" "$2"
}

printf '{"a":1,"s":"caf\303\251"}\n{"b":[1,{"c":null}],"d":{}}\n{"e":true}\n' >"$T/in"

# Console: rows pass through byte for byte.
"$J" <"$T/in" >"$T/out" 2>"$T/err" && cmp -s "$T/in" "$T/out" &&
  ok "console: rows unchanged" || bad "console pass-through"

# --pretty.
"$J" --pretty <"$T/in" >"$T/out" 2>"$T/err"
cat >"$T/want" <<'X'
{
  "a": 1,
  "s": "café"
}
{
  "b": [
    1,
    {
      "c": null
    }
  ],
  "d": {}
}
{
  "e": true
}
X
cmp -s "$T/want" "$T/out" && ok "--pretty" || { bad "--pretty"; diff "$T/want" "$T/out"; }

# --table.
printf '{"Pid":4,"Name":"System","Path":"%s"}\n{"Pid":1234,"Name":"svc","Extra":1}\n' \
  "$(printf 'x%.0s' $(seq 1 80))" >"$T/tin"
COLUMNS=50 "$J" --table <"$T/tin" >"$T/out" 2>"$T/err"
head -n 1 "$T/out" | grep -q '^Pid  *Name  *Path' &&
  [ "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$T/out")" -le 50 ] &&
  grep -q '~' "$T/out" && grep -q '^1234  *svc' "$T/out" &&
  ok "--table: header from the rows, fits 50 columns, long values cut" ||
  { bad "--table"; cat "$T/out"; }

# --file: one JSON array like the original tool's file.
"$J" --file="$T/a.json" <"$T/in" 2>"$T/err"
rc=$?
printf '[{"a":1,"s":"caf\303\251"},{"b":[1,{"c":null}],"d":{}},{"e":true}]' >"$T/want"
[ $rc -eq 0 ] && cmp -s "$T/want" "$T/a.json" &&
  ok "--file: [row,row,row] exactly" || { bad "--file"; cat "$T/a.json"; }
"$J" --file="$T/empty.json" </dev/null && [ "$(cat "$T/empty.json")" = "[]" ] &&
  ok "--file with no rows: []" || bad "empty array"
"$J" --file=- <"$T/in" | cmp -s "$T/want" - && ok "--file=-: the array on a pipe" ||
  bad "--file=- on a pipe"

# Many batches: still one valid array.
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "{\"i\":%d,\"pad\":\"%0100d\"}\n", i, i }' >"$T/big"
"$J" --file="$T/big.json" --batch-bytes=4k <"$T/big" 2>"$T/err" && is_array "$T/big.json" 20000 &&
  ok "--file over many small batches: one array of 20000" || bad "big array"

# --ndjson --file.
"$J" --ndjson --file="$T/n.ndjson" <"$T/big" && cmp -s "$T/big" "$T/n.ndjson" &&
  ok "--ndjson --file: rows unchanged" || bad "--ndjson"

# --rotate-bytes: rows never split, every file valid, nothing lost.
"$J" --file="$T/rot.json" --rotate-bytes=100k <"$T/big" 2>"$T/err"
rc=$?
total=0
allok=1
for f in "$T/rot.json" "$T"/rot.*.json; do
  n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$f") || allok=0
  s=$(wc -c <"$f")
  [ "$s" -le 102400 ] || allok=0
  total=$((total + n))
done
files=$(ls "$T"/rot*.json | wc -l)
[ $rc -eq 0 ] && [ $allok -eq 1 ] && [ $total -eq 20000 ] && [ "$files" -ge 20 ] &&
  [ -f "$T/rot.1.json" ] &&
  ok "--rotate-bytes=100k: $files valid arrays (rot.json, rot.1.json...), 20000 rows" ||
  bad "rotate: rc=$rc files=$files total=$total ok=$allok"
"$J" --ndjson --file="$T/rot.nd" --rotate-bytes=64k <"$T/big" &&
  [ "$(cat "$T/rot.nd" "$T"/rot.*.nd | wc -l)" -eq 20000 ] &&
  ok "--rotate-bytes with --ndjson" || bad "rotate ndjson"

# Bad lines: line numbers, counted, reject file, the stream goes on.
printf '{"ok":1}\nnope\n{"ok":2}\n{"broken":\n\n{"ok":3}\n{"x":1} trailing\n' >"$T/badin"
"$J" --reject-file="$T/rej.ndjson" <"$T/badin" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 3 ] &&
  grep -q '^jsonsink: <stdin>:2: not a JSON object at byte 1; line written to the reject file$' "$T/err" &&
  grep -q '<stdin>:4: unexpected end of line' "$T/err" &&
  grep -q '<stdin>:7: text after the object at byte 9' "$T/err" &&
  grep -q '3 bad input lines rejected; see' "$T/err" &&
  printf 'nope\n{"broken":\n{"x":1} trailing\n' | cmp -s - "$T/rej.ndjson" &&
  ok "bad lines: reported by line number, counted, kept in --reject-file" ||
  { bad "bad lines"; cat "$T/err" "$T/out"; }
awk 'BEGIN { for (i = 0; i < 30; i++) print "bad" }' | "$J" 2>"$T/err" >/dev/null
[ "$(grep -c '<stdin>:' "$T/err")" -eq 20 ] && grep -q 'further bad lines are counted' "$T/err" &&
  grep -q '30 bad input lines' "$T/err" && ok "bad line messages capped at 20, all counted" ||
  bad "bad line cap"

# CRLF, a byte-order mark, blank lines, no final newline.
printf '\357\273\277{"a":1}\r\n\r\n  \n{"b":2}' | "$J" >"$T/out" 2>"$T/err"
printf '{"a":1}\n{"b":2}\n' | cmp -s - "$T/out" && [ ! -s "$T/err" ] &&
  ok "CRLF, BOM, blank lines and a missing final newline" || { bad "odd input"; cat "$T/err"; }
printf '{"s":"\377"}\n{"s":"\\ud800"}\n{"n":-0.5e+3}\n{"n":01}\n' | "$J" >"$T/out" 2>"$T/err"
[ "$(wc -l <"$T/out")" -eq 2 ] && grep -q ':1: invalid UTF-8' "$T/err" &&
  grep -q ':4: expected' "$T/err" && ok "strict JSON: bad UTF-8 and leading zeros refused" ||
  { bad "strict JSON"; cat "$T/err"; }

# SIGINT/SIGTERM while the input is still open: the array is closed.
# Windows has no SIGTERM (Wine ends the process at once, which the
# SIGKILL case below covers); SIGINT arrives there as Ctrl-C.
sigs="INT TERM"
[ -n "${EXE:-}" ] && sigs=INT
for sig in $sigs; do
  rm -f "$T/fifo"
  mkfifo "$T/fifo"
  "$J" --file="$T/sig.json" <"$T/fifo" 2>"$T/err" &
  pid=$!
  exec 3>"$T/fifo"
  head -n 500 "$T/big" >&3
  sleep 0.5
  is_array "$T/sig.json" 500 && mid=1 || mid=0
  kill -$sig $pid
  wait $pid
  rc=$?
  exec 3>&-
  [ $rc -eq 0 ] && [ $mid -eq 1 ] && is_array "$T/sig.json" 500 &&
    ok "SIG$sig: array valid while running and after the signal, 500 rows" ||
    bad "SIG$sig: rc=$rc mid=$mid"
done

# Killed outright between batches: the file is still valid JSON.
rm -f "$T/fifo"
mkfifo "$T/fifo"
"$J" --file="$T/kill.json" <"$T/fifo" 2>/dev/null &
pid=$!
exec 3>"$T/fifo"
head -n 100 "$T/big" >&3
sleep 0.5
kill -KILL $pid
wait $pid 2>/dev/null
exec 3>&-
is_array "$T/kill.json" 100 && ok "SIGKILL between batches: still a valid array" ||
  bad "SIGKILL array"

# The reader goes away: stop quietly.
"$J" <"$T/big" 2>"$T/err" | head -n 1 >/dev/null
rc=$?
[ ! -s "$T/err" ] && ok "reader went away (| head -1): no noise" || { bad "EPIPE"; cat "$T/err"; }

# Disk full: rows lost, exit 1.
if [ -w /dev/full ]; then
  "$J" --ndjson --file=/dev/full <"$T/in" 2>"$T/err"
  rc=$?
  [ $rc -eq 1 ] && grep -q 'No space left' "$T/err" && grep -q '3 rows lost' "$T/err" &&
    ok "write error (/dev/full): reported, rows counted lost, exit 1" ||
    { bad "full: rc=$rc"; cat "$T/err"; }
  "$J" --file=/dev/full <"$T/in" 2>"$T/err"
  [ $? -eq 1 ] && ok "array file on a full disk: exit 1" || bad "full array"
fi

# Usage errors: exit 2.
for args in "--ndjson" "--table --file=x" "--pretty --file=x" "--rotate-bytes=1M" \
  "--rotate-bytes=10 --file=x" "--batch-bytes=abc" "--flush-interval=x" "extra" \
  "--nosuch" "--file"; do
  # shellcheck disable=SC2086
  "$J" $args </dev/null >/dev/null 2>"$T/err"
  rc=$?
  [ $rc -eq 2 ] || bad "usage \"$args\": exit $rc"
done
ok "usage errors exit 2"
"$J" --help | grep -q '^usage: jsonsink' && ok "--help" || bad "--help"

echo "$fails failed"
[ $fails -eq 0 ]
