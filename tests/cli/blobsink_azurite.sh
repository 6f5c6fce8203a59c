#!/bin/sh
# blobsink_azurite.sh - blobsink against a real Azurite on loopback:
# every connection-string form, container creation and reuse, byte-exact
# read-back through an independent client (tests/peers/blobctl.py),
# batching by rows/bytes/age, NDJSON and gzip bodies, bad lines, a wrong
# key (spooled, exit 3) and the spool replayed by the next run, usage
# errors. Skips (77) when Azurite is not installed.
#
# SPDX-License-Identifier: MIT
set -u
. "$(dirname "$0")/../peers/azurite.sh"
az_need
B=${BIN:?BIN must name the programs directory}/blobsink
[ -x "$B" ] || { echo "skip: $B not built"; exit 77; }
T=$(mktemp -d)
export RTK_SPOOL_DIR=$T/spool-default
unset RTK_BLOB_CONNECTION_STRING
cleanup() { az_stop; rm -rf "$T"; }
trap cleanup EXIT
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

# Azurite on 10000 when it is free, so UseDevelopmentStorage=true works.
if python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 10000))' 2>/dev/null; then
  AZ_PORT=10000
fi
AZ_LOG=$T/azurite.log
az_start || exit 1

gen() { # gen N TAG: rows with non-ASCII text, spaces kept byte-exact
  awk -v n="$1" -v t="$2" 'BEGIN { for (i = 1; i <= n; i++)
    printf "{\"n\":%d,\"tag\":\"%s\",\"s\":\"caf\303\251 \\u00e9 \\\"q\\\"\",\"a\":[1, 2.5e3,null,true]}\n", i, t }'
}

# same_rows CONTAINER FILE: the container holds exactly FILE's rows.
same_rows() {
  blobctl rows "$1" | sort >"$T/got" || return 1
  sort "$2" >"$T/want"
  cmp -s "$T/got" "$T/want"
}

run() { # run NAME EXPECTED_RC INPUT [ARGS...]
  name=$1 want=$2 in=$3
  shift 3
  "$B" "$@" <"$in" >"$T/out" 2>"$T/err"
  rc=$?
  if [ "$rc" -ne "$want" ]; then
    bad "$name: exit $rc, want $want"
    sed 's/^/    /' "$T/err"
    return 1
  fi
  if grep -q "Eby8vdM02x" "$T/err" "$T/out" || grep -q "sig=" "$T/err"; then
    bad "$name: a secret appeared in the output"
  fi
  return 0
}

# 1. AccountName/AccountKey/BlobEndpoint; container created.
gen 5 key >"$T/r1"
if run "shared key" 0 "$T/r1" --connection-string="$AZ_CS" --container=c-key \
  --spool-dir="$T/s1"; then
  blobctl list c-key >"$T/list"
  if [ "$(wc -l <"$T/list")" -eq 1 ] &&
    grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}_1_[0-9a-f]{32}\.json application/json $' "$T/list"; then
    ok "shared key: one blob named <guid>_1_<guid>.json, application/json"
  else
    bad "shared key: listing"
    cat "$T/list"
  fi
  blobctl get c-key "$(cut -d' ' -f1 "$T/list")" >"$T/body"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d,list) and len(d)==5' "$T/body" &&
    ok "shared key: the blob is one JSON array" || bad "shared key: not a JSON array"
  same_rows c-key "$T/r1" && ok "shared key: rows read back byte for byte" ||
    bad "shared key: rows differ"
fi

# 2. The same container again: 409 ContainerAlreadyExists is fine.
gen 3 again >"$T/r2"
if run "existing container" 0 "$T/r2" --connection-string="$AZ_CS" \
  --container=c-key --spool-dir="$T/s1"; then
  cat "$T/r1" "$T/r2" >"$T/r12"
  same_rows c-key "$T/r12" && ok "existing container reused" ||
    bad "existing container: rows differ"
fi

# 3. Container SAS made from the documented string-to-sign (no create).
[ "$(blobctl create c-sas)" = 201 ] || bad "blobctl create"

SAS=$(blobctl sas c-sas rcw)
gen 4 sas >"$T/r3"
if run "sas" 0 "$T/r3" \
  --connection-string="BlobEndpoint=$AZ_BLOB_ENDPOINT;SharedAccessSignature=$SAS" \
  --container=c-sas --spool-dir="$T/s3"; then
  same_rows c-sas "$T/r3" && ok "container SAS upload" || bad "sas: rows differ"
fi
# A SAS without write permission is refused: spooled, exit 3.
SASR=$(blobctl sas c-sas rl)
run "sas read-only" 3 "$T/r3" \
  --connection-string="BlobEndpoint=$AZ_BLOB_ENDPOINT;SharedAccessSignature=?$SASR" \
  --container=c-sas --spool-dir="$T/s3b" && grep -q "403" "$T/err" &&
  ok "read-only SAS: 403 reported, rows spooled (exit 3)"

# 4. Host-style endpoint (devstoreaccount1.blob.localhost).
gen 2 host >"$T/r4"
if run "host-style" 0 "$T/r4" \
  --connection-string="AccountName=devstoreaccount1;AccountKey=$AZ_KEY;BlobEndpoint=http://devstoreaccount1.blob.localhost:$AZ_PORT" \
  --container=c-host --spool-dir="$T/s4"; then
  same_rows c-host "$T/r4" && ok "host-style endpoint" || bad "host-style: rows differ"
fi

# 5. UseDevelopmentStorage=true, from the environment variable.
if [ "$AZ_PORT" = 10000 ]; then
  gen 2 dev >"$T/r5"
  if RTK_BLOB_CONNECTION_STRING='UseDevelopmentStorage=true' \
    run "dev storage" 0 "$T/r5" --container=c-dev --spool-dir="$T/s5"; then
    same_rows c-dev "$T/r5" && ok "UseDevelopmentStorage=true via RTK_BLOB_CONNECTION_STRING" ||
      bad "dev storage: rows differ"
  fi
else
  echo "skip UseDevelopmentStorage=true: port 10000 is in use"
fi

# 6. Connection string from @FILE.
printf '%s\n' "$AZ_CS" >"$T/cs.txt"
gen 2 file >"$T/r6"
run "@file" 0 "$T/r6" --connection-string="@$T/cs.txt" --container=c-file \
  --spool-dir="$T/s6" && same_rows c-file "$T/r6" &&
  ok "connection string from @FILE"

# 7. Batching by rows, bytes and age.
gen 35 rows >"$T/r7"
if run "batch rows" 0 "$T/r7" --connection-string="$AZ_CS" --container=c-rows \
  --batch-rows=10 --spool-dir="$T/s7"; then
  n=$(blobctl list c-rows | wc -l)
  [ "$n" -eq 4 ] && ok "--batch-rows=10: 35 rows in 4 blobs" || bad "batch rows: $n blobs"
  same_rows c-rows "$T/r7" || bad "batch rows: rows differ"
fi
if run "batch bytes" 0 "$T/r7" --connection-string="$AZ_CS" --container=c-bytes \
  --batch-bytes=1k --spool-dir="$T/s7"; then
  n=$(blobctl list c-bytes | wc -l)
  big=0
  for name in $(blobctl list c-bytes | cut -d' ' -f1); do
    s=$(blobctl get c-bytes "$name" | wc -c)
    [ "$s" -gt 1025 ] && big=1
  done
  [ "$n" -ge 3 ] && [ $big -eq 0 ] && ok "--batch-bytes=1k: $n blobs, none above 1k" ||
    bad "batch bytes: $n blobs, big=$big"
  same_rows c-bytes "$T/r7" || bad "batch bytes: rows differ"
fi
mkfifo "$T/fifo"
"$B" --connection-string="$AZ_CS" --container=c-age --flush-interval=0.3 \
  --spool-dir="$T/s7" <"$T/fifo" 2>"$T/err" &
pid=$!
exec 3>"$T/fifo"
head -n 3 "$T/r7" >&3
sleep 1.2
n1=$(blobctl list c-age | wc -l)
sed -n '4,6p' "$T/r7" >&3
exec 3>&-
wait $pid
rc=$?
n2=$(blobctl list c-age | wc -l)
[ $rc -eq 0 ] && [ "$n1" -eq 1 ] && [ "$n2" -eq 2 ] &&
  ok "--flush-interval=0.3: a batch goes out while the input is open" ||
  bad "flush interval: rc=$rc blobs=$n1 then $n2"

# 8. NDJSON and gzip bodies.
gen 6 gz >"$T/r8"
if run "ndjson gzip" 0 "$T/r8" --connection-string="$AZ_CS" --container=c-gz \
  --ndjson --gzip --spool-dir="$T/s8"; then
  blobctl list c-gz | grep -Eq '_1_[0-9a-f]{32}\.ndjson\.gz application/x-ndjson gzip$' &&
    ok "--ndjson --gzip: name, content type and encoding" || bad "gzip listing"
  same_rows c-gz "$T/r8" && ok "--ndjson --gzip: rows read back" || bad "gzip rows"
fi

# 9. Bad lines: reported with line numbers, kept in the reject file.
{ gen 2 good; echo 'not json'; echo '{"n":3}'; echo '{"n":4,'; echo '[1,2]'; } >"$T/r9"
if run "bad lines" 0 "$T/r9" --connection-string="$AZ_CS" --container=c-bad \
  --spool-dir="$T/s9"; then
  grep -q '<stdin>:3: not a JSON object' "$T/err" &&
    grep -q '<stdin>:5: unexpected end of line' "$T/err" &&
    grep -q '<stdin>:6: not a JSON object' "$T/err" &&
    grep -q '3 bad input lines rejected' "$T/err" &&
    ok "bad lines reported with line numbers and counted" || { bad "bad lines: messages"; cat "$T/err"; }
  printf 'not json\n{"n":4,\n[1,2]\n' | cmp -s - "$T/s9/rejected.ndjson" &&
    ok "bad lines in the reject file next to the spool" || bad "reject file"
  { gen 2 good; echo '{"n":3}'; } >"$T/r9good"
  same_rows c-bad "$T/r9good" && ok "good rows around bad lines delivered" ||
    bad "bad lines: good rows"
fi

# 10. Wrong key: a clear error, rows spooled, exit 3; the next run with
# the right key delivers the spool first.
WRONG="AccountName=devstoreaccount1;AccountKey=$(printf 'wrongwrongwrongwrongwrongwrong12' | base64 -w0);BlobEndpoint=$AZ_BLOB_ENDPOINT"
gen 7 spool >"$T/r10"
if run "wrong key" 3 "$T/r10" --connection-string="$WRONG" --container=c-spool \
  --spool-dir="$T/s10"; then
  grep -q 'HTTP 403' "$T/err" && grep -q 'check AccountName and AccountKey' "$T/err" &&
    ok "wrong key: 403 and a hint, exit 3" || { bad "wrong key message"; cat "$T/err"; }
  n=$(ls "$T/s10" | grep -c '^batch-.*\.ndjson$')
  [ "$n" -eq 1 ] && cmp -s "$T/s10"/batch-*.ndjson "$T/r10" &&
    ok "wrong key: the batch is in the spool" || bad "wrong key: spool has $n files"
  gen 2 after >"$T/r10b"
  if run "replay" 0 "$T/r10b" --connection-string="$AZ_CS" --container=c-spool \
    --spool-dir="$T/s10"; then
    cat "$T/r10" "$T/r10b" >"$T/r10all"
    same_rows c-spool "$T/r10all" && ok "spool replayed by the next run, nothing lost" ||
      bad "replay rows"
    [ -z "$(ls "$T/s10" | grep '^batch-')" ] && ok "spool empty after replay" ||
      bad "spool not emptied"
  fi
fi

# 11. Usage errors: exit 2, secrets not echoed.
echo '{"a":1}' >"$T/one"
run "no container" 2 "$T/one" --connection-string="$AZ_CS" &&
  grep -q -- '--container is required' "$T/err" && ok "missing --container: exit 2"
run "bad container" 2 "$T/one" --connection-string="$AZ_CS" --container=Bad_Name &&
  ok "invalid container name: exit 2"
run "no connstr" 2 "$T/one" --container=abc && ok "no connection string: exit 2"
run "bad connstr" 2 "$T/one" --connection-string="AccountName=x;AccountKey=$AZ_KEY!" \
  --container=abc && grep -q 'AccountKey is not valid base64' "$T/err" &&
  ok "bad connection string: exit 2, key not echoed"
run "unknown option" 2 "$T/one" --bogus && ok "unknown option: exit 2"

echo "$fails failed"
[ $fails -eq 0 ]
