#!/bin/sh
# Windows-only checks of the sinks, run by tests/windows/run.sh under Wine:
# binary stdout (no CR), file names in UTF-8 and in Windows form
# (backslashes, a dot in a directory name, --file rotation, a reject file
# in a missing directory), the spool under RTK_SPOOL_DIR with a non-ASCII
# name and by default under %LOCALAPPDATA%\RealTimeKql\spool, an @FILE
# secret with a non-ASCII name. The suites in tests/cli cover the rest
# (signals, pipes, Azurite, the ADX peer) with the same BIN.
# SPDX-License-Identifier: MIT
set -u
fail=0
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
J=$BIN/jsonsink
B=$BIN/blobsink
for p in "$J" "$B"; do
  [ -x "$p" ] || { echo "skip: $p not built"; exit 77; }
done
command -v winepath >/dev/null 2>&1 || { echo "skip: no winepath"; exit 77; }
check() { # name expected actual
  if [ "$2" != "$3" ]; then
    echo "FAIL $1: got '$3', want '$2'"
    fail=1
  else
    echo "ok   $1"
  fi
}
is_array() { # file rows
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
print(len(d) if isinstance(d, list) else -1)' "$1" 2>/dev/null
}
win() { winepath -w "$1" 2>/dev/null; }

awk 'BEGIN { for (i = 0; i < 3000; i++)
  printf "{\"i\":%d,\"pad\":\"%050d\"}\n", i, i }' >"$t/rows"

# Binary stdout: rows and --pretty output carry no CR.
check no-crlf 0 "$("$J" <"$t/rows" | tr -cd '\r' | wc -c | tr -d ' ')"
check no-crlf-pretty 0 \
  "$(head -n 5 "$t/rows" | "$J" --pretty | tr -cd '\r' | wc -c | tr -d ' ')"

# UTF-8 names, through argv and the wide file API.
mkdir -p "$t/dé"
"$J" --file="$t/dé/日本.json" <"$t/rows"
check utf8-file 3000 "$(is_array "$t/dé/日本.json")"

# Windows form: backslashes, a dot in a directory name; rotation names
# the next files after the base name, not the directory.
mkdir -p "$t/d.v2"
"$J" --file="$(win "$t/d.v2")\\out.json" --rotate-bytes=64k <"$t/rows"
total=0
for f in "$t"/d.v2/out*.json; do
  total=$((total + $(is_array "$f")))
done
check rotate-backslash-rows 3000 "$total"
check rotate-backslash-name yes "$([ -f "$t/d.v2/out.1.json" ] && echo yes)"

# A reject file in a directory that does not exist yet, Windows form.
printf '{"ok":1}\nnot json\n' |
  "$J" --reject-file="$(win "$t")\\rej dir\\bad.ndjson" >/dev/null 2>&1
check reject-backslash-dir "not json" \
  "$(cat "$t/rej dir/bad.ndjson" 2>/dev/null)"

# The spool: nothing listens on port 1, so the rows are spooled (exit 3).
# The connection string comes from an @FILE with a non-ASCII name.
printf '%s;%s\n' BlobEndpoint=http://127.0.0.1:1/devstoreaccount1 \
  'SharedAccessSignature=sv=1&sig=x' >"$t/cs ü.txt"
head -n 20 "$t/rows" >"$t/few"
spool() { # extra blobsink options...
  "$B" --connection-string=@"$t/cs ü.txt" --container=cont --retries=0 \
    --connect-timeout=2 "$@" <"$t/few" 2>"$t/err"
}
RTK_SPOOL_DIR="$t/spöol" spool
check spool-env-exit 3 "$?"
rows_in() { cat "$@" 2>/dev/null | wc -l | tr -d ' '; }
check spool-env-rows 20 "$(rows_in "$t"/spöol/blobsink/*/batch-*.ndjson)"
# --spool-dir in Windows form.
spool --spool-dir="$(win "$t/spöol")\\x"
check spool-dir-backslash 20 "$(rows_in "$t"/spöol/x/batch-*.ndjson)"

# The default: %LOCALAPPDATA%\RealTimeKql\spool\blobsink\...
appdata=$(wine cmd /c 'echo %LOCALAPPDATA%' 2>/dev/null | tr -d '\r')
base=$(winepath -u "$appdata\\RealTimeKql\\spool\\blobsink" 2>/dev/null)
if [ -n "$appdata" ] && [ -n "$base" ]; then
  before=$(cat "$base"/*/batch-*.ndjson 2>/dev/null | wc -l)
  (unset RTK_SPOOL_DIR; spool)
  check spool-default-exit 3 "$?"
  after=$(cat "$base"/*/batch-*.ndjson 2>/dev/null | wc -l)
  check spool-default-localappdata 20 "$((after - before))"
  check spool-default-msg yes \
    "$(grep -q 'RealTimeKql.spool.blobsink' "$t/err" && echo yes)"
  rm -rf "$base"
else
  echo "skip spool-default: cannot find %LOCALAPPDATA%"
fi
exit $fail
