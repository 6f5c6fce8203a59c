#!/bin/sh
# realtimekql_adx.sh - RealTimeKql's ADX output into the project's strict
# ADX peer (tests/peers/adx_peer.py, with Azurite behind its data
# management side): the seed's two example commands with the cluster
# pointed at the peer, the application key reaching adxsink only through
# its environment (client credentials against the peer's Entra ID), ADX
# together with Blob, a JSON file and the console, and Ctrl-C mid-stream
# (every row the JSON file got is in the table, once).
#
# The seed's queued example needs the data-management endpoint, which
# adxsink derives from the cluster's name ("ingest-" in front) but the
# peer serves on another port. So the cluster is named
# http://adx.localhost:1 and a small forward proxy (HTTP_PROXY, for the
# two *.localhost names only; no_proxy keeps 127.0.0.1 direct) sends
# adx.localhost to the peer's engine and ingest-adx.localhost to its data
# management port, as DNS would for a real cluster.
#
# SPDX-License-Identifier: MIT
set -u
B=${BIN:?BIN must name the programs directory}
for p in RealTimeKql etwcat jsonsink adxsink; do
  [ -x "$B/$p" ] || { echo "skip: $B/$p not built"; exit 77; }
done
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 missing"; exit 77; }
. tests/peers/adx_env.sh
adx_need_azurite
R=$B/RealTimeKql
S=$ADX_TOP/share/samples/kernel-network.etl
Q=$ADX_TOP/share/queries/SimplifyEtwTcp.kql
HAVE_KQL=0
[ -x "$B/kqlfilter" ] && HAVE_KQL=1
TENANT=rtk-tenant.example
APP=11111111-aaaa-bbbb-cccc-000000000001
SECRET='Adx+S3cret/=&'
ADX_PEER_CLIENT_SECRET=$SECRET
export ADX_PEER_CLIENT_SECRET
export RTK_SPOOL_DIR=$ADX_TMP/spool
unset RTK_ADX_KEY RTK_ADX_TOKEN RTK_BLOB_CONNECTION_STRING

adx_start_azurite
adx_start_peer --accept-token tok-rtk --database GeorgiTest --database TestDb \
  --tenant microsoft.com --tenant "$TENANT" --client-id "$APP"
export AZURE_AUTHORITY_HOST=$AAD

# The forward proxy for the two cluster names.
cat >"$ADX_TMP/proxy.py" <<'EOF'
import socket, sys, threading, urllib.parse
routes = {"adx.localhost": int(sys.argv[1]), "ingest-adx.localhost": int(sys.argv[2])}
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(64)
with open(sys.argv[3] + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
import os
os.rename(sys.argv[3] + ".tmp", sys.argv[3])
SKIP = (b"expect", b"proxy-connection", b"connection", b"keep-alive")

def one(c):
    f = c.makefile("rb")
    line = f.readline()
    if not line:
        return False
    method, url, _ = line.decode("latin-1").split()
    u = urllib.parse.urlsplit(url)
    hdrs, length, expect = [], 0, False
    while True:
        h = f.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k = h.split(b":", 1)[0].strip().lower()
        if k == b"content-length":
            length = int(h.split(b":", 1)[1])
        if k == b"expect":
            expect = True
        if k not in SKIP:
            hdrs.append(h)
    port = routes.get(u.hostname)
    if port is None:
        c.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        return False
    if expect:
        c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = f.read(length) if length else b""
    path = u.path + ("?" + u.query if u.query else "")
    up = socket.create_connection(("127.0.0.1", port))
    up.sendall(("%s %s HTTP/1.1\r\n" % (method, path)).encode() + b"".join(hdrs)
               + b"Connection: close\r\n\r\n" + body)
    resp = b""
    while True:
        d = up.recv(65536)
        if not d:
            break
        resp += d
    up.close()
    head, _, rest = resp.partition(b"\r\n\r\n")
    lines = [l for l in head.split(b"\r\n")
             if l.split(b":", 1)[0].strip().lower() not in SKIP]
    c.sendall(b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n" + rest)
    return False

def serve(c):
    try:
        one(c)
    except Exception as e:
        sys.stderr.write("proxy: %r\n" % e)
    finally:
        c.close()

while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
EPORT=${ENGINE##*:}
DPORT=${DM##*:}
python3 "$ADX_TMP/proxy.py" "$EPORT" "$DPORT" "$ADX_TMP/proxy.port" \
  2>"$ADX_TMP/proxy.log" &
ADX_PIDS="$ADX_PIDS $!"
i=0
while [ ! -s "$ADX_TMP/proxy.port" ] && [ $i -lt 100 ]; do
  sleep 0.05
  i=$((i + 1))
done
PROXY=http://127.0.0.1:$(cat "$ADX_TMP/proxy.port")
CLUSTER=http://adx.localhost:1

# rk NAME WANT ARGS...: the launcher; status in RC, stderr in $ADX_TMP/err
rk() {
  name=$1 want=$2
  shift 2
  "$R" "$@" >"$ADX_TMP/out" 2>"$ADX_TMP/err"
  RC=$?
  t_eq "$name-exit" "$want" "$RC"
  [ "$RC" = "$want" ] || sed 's/^/    /' "$ADX_TMP/err" | head -20
  t_nogrep "$name-no-secret" 'S3cret' "$ADX_TMP/err"
}
norm() { # NDJSON on stdin -> sorted compact JSON
  python3 -c 'import json, sys
for l in sys.stdin:
    if l.strip():
        print(json.dumps(json.loads(l), separators=(",", ":"), sort_keys=True))' | sort
}
json_rows() {
  python3 -c 'import json, sys
for r in json.load(open(sys.argv[1])):
    print(json.dumps(r))' "$1"
}
rows_of() { adx_rows "$1" "${2:-GeorgiTest}"; }
wait_rows() { # table n [db]
  adx_hook "wait?db=${3:-GeorgiTest}&table=$1&rows=$2&timeout=60" >/dev/null
  rows_of "$1" "${3:-GeorgiTest}" | wc -l | tr -d ' '
}

"$B/etwcat" --file="$S" >"$ADX_TMP/events"
nev=$(wc -l <"$ADX_TMP/events" | tr -d ' ')
if [ $HAVE_KQL = 1 ]; then
  "$B/kqlfilter" -q "$Q" <"$ADX_TMP/events" >"$ADX_TMP/rows"
fi

# 1. The seed's first example, verbatim but for the cluster. On Linux
# there are no real-time ETW sessions: etwcat says so, the pipeline
# ends with its status, adxsink gets no rows.
RTK_ADX_TOKEN=tok-rtk rk seed1-linux 2 etw --session=tcp \
  --adxcluster="$ENGINE" --adxdatabase=GeorgiTest --adxtable=EtwTcp \
  --adxdirect --adxreset
t_grep seed1-linux-etwcat 'etwcat: real-time ETW (--session, --provider) needs Windows' "$ADX_TMP/err"
t_grep seed1-linux-summary '^RealTimeKql: etwcat failed: exit status 2' "$ADX_TMP/err"

# The same options with the bundled trace: direct ingestion, reset.
RTK_ADX_TOKEN=tok-rtk rk seed1-file 0 etw --file="$S" \
  --adxcluster="$ENGINE" --adxdatabase=GeorgiTest --adxtable=EtwTcp \
  --adxdirect --adxreset
t_eq seed1-rows "$nev" "$(rows_of EtwTcp | wc -l | tr -d ' ')"
t_eq seed1-streaming True \
  "$(adx_requests 'any(e["path"].startswith("/v1/rest/ingest/GeorgiTest/EtwTcp") for e in r)')"
t_eq seed1-dropped True \
  "$(adx_requests 'any(".drop table EtwTcp ifexists" in e.get("json", {}).get("csl", "") for e in r if e.get("json"))')"
# Again: --adxreset drops the rows of the first run.
RTK_ADX_TOKEN=tok-rtk rk seed1-again 0 etw --file="$S" \
  --adxcluster="$ENGINE" --adxdatabase=GeorgiTest --adxtable=EtwTcp \
  --adxdirect --adxreset
t_eq seed1-reset-rows "$nev" "$(rows_of EtwTcp | wc -l | tr -d ' ')"

# 2. The seed's second example, verbatim but for the cluster: queued
# ingestion through the data-management side, from a directory of .etl
# files, the pattern given unexpanded.
mkdir "$ADX_TMP/traces"
cp "$S" "$ADX_TMP/traces/a.etl"
cp "$S" "$ADX_TMP/traces/b.etl"
(
  cd "$ADX_TMP/traces" &&
    RTK_ADX_TOKEN=tok-rtk HTTP_PROXY=$PROXY http_proxy=$PROXY \
      no_proxy=127.0.0.1 NO_PROXY=127.0.0.1 \
      "$R" etw --file=*.etl --adxcluster=$CLUSTER \
      --adxdatabase=GeorgiTest --adxtable=EtwTcp2 >"$ADX_TMP/out" 2>"$ADX_TMP/err"
)
t_eq seed2-exit 0 "$?"
t_eq seed2-rows $((2 * nev)) "$(wait_rows EtwTcp2 $((2 * nev)))"
t_eq seed2-queued True \
  "$(adx_state 'any(q["message"]["TableName"] == "EtwTcp2" for q in s["queued"])')"
[ -s "$ADX_TMP/proxy.log" ] && t_bad seed2-proxy "$(cat "$ADX_TMP/proxy.log")"

# 3. Client credentials: the key as an option reaches adxsink through
# RTK_ADX_KEY; the peer's Entra ID checks it.
if [ $HAVE_KQL = 1 ]; then
  rk appkey 0 Etw -f "$S" -q "$Q" -ac "$ENGINE" -ad GeorgiTest -at Tcp \
    --adxdirect -ar -aclid "$APP" -akey "$SECRET" --adxauthority="$TENANT"
  t_eq appkey-rows "$(norm <"$ADX_TMP/rows")" "$(rows_of Tcp | norm)"
  t_eq appkey-grant "client_credentials $APP" \
    "$(adx_requests '" ".join(d["grant_type"] + " " + d["client_id"] for e in r if e["path"] == "/'"$TENANT"'/oauth2/v2.0/token" for d in [dict(e["form"])])')"
  # A wrong key: adxsink cannot sign in, spools, and is named.
  rk wrongkey 3 etw -f "$S" -q "$Q" -ac "$ENGINE" -ad GeorgiTest -at Tcp \
    --adxdirect -aclid "$APP" -akey 'Adx-S3cret-wrong' --adxauthority="$TENANT"
  t_grep wrongkey-named '^RealTimeKql: adxsink (.*) failed: exit status 3' "$ADX_TMP/err"
fi

# 4. Everything at once: console, JSON file, Blob (the peer's Azurite)
# and ADX, every row in each.
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
CS="AccountName=devstoreaccount1;AccountKey=$AZ_KEY;BlobEndpoint=$AZ_BLOB"
RTK_ADX_TOKEN=tok-rtk rk all-four 0 etw --file="$S" --outputconsole \
  --outputjson="$ADX_TMP/all.json" --blobstorageconnectionstring="$CS" \
  --blobstoragecontainer=all-four --adxcluster="$ENGINE" \
  --adxdatabase=GeorgiTest --adxtable=All --adxdirect --adxreset
t_eq all-four-console "$nev" "$(wc -l <"$ADX_TMP/out" | tr -d ' ')"
t_eq all-four-json "$nev" "$(json_rows "$ADX_TMP/all.json" | wc -l | tr -d ' ')"
t_eq all-four-adx "$nev" "$(rows_of All | wc -l | tr -d ' ')"
t_eq all-four-blob "$nev" \
  "$(AZ_BLOB_ENDPOINT=$AZ_BLOB python3 tests/peers/blobctl.py rows all-four | wc -l | tr -d ' ')"
t_nogrep all-four-no-key 'Eby8vdM02x' "$ADX_TMP/err"

# 5. Ctrl-C mid-stream: the table holds exactly the rows the JSON file
# holds, each once.
W=${TOOLS:+$TOOLS/etlwriter}
if [ $HAVE_KQL = 1 ] && [ -n "$W" ] && [ -x "$W" ]; then
  "$W" --events 1000000 "$ADX_TMP/big.etl" >/dev/null
  RTK_ADX_TOKEN=tok-rtk "$R" etw --file="$ADX_TMP/big.etl" -q "$Q" \
    -oj="$ADX_TMP/c.json" -ac "$ENGINE" -ad GeorgiTest -at CtrlC --adxdirect \
    -ar >/dev/null 2>"$ADX_TMP/err" &
  pid=$!
  i=0
  while [ "$(cat "$ADX_TMP/c.json" 2>/dev/null | wc -c)" -lt 300000 ] && [ $i -lt 400 ]; do
    sleep 0.05
    i=$((i + 1))
  done
  kill -INT $pid
  wait $pid
  rc=$?
  if [ $rc = 2 ] && grep -q 'kqlfilter: <stdin>:[0-9]*: ' "$ADX_TMP/err"; then
    echo "note ctrlc: etwcat cut its last line (exit 2)"
  else
    t_eq ctrlc-exit 0 $rc
  fi
  json_rows "$ADX_TMP/c.json" | norm >"$ADX_TMP/cj"
  rows_of CtrlC | norm >"$ADX_TMP/ca"
  t_eq ctrlc-rows-once "$(wc -l <"$ADX_TMP/cj" | tr -d ' ') rows, equal" \
    "$(wc -l <"$ADX_TMP/ca" | tr -d ' ') rows, $(cmp -s "$ADX_TMP/cj" "$ADX_TMP/ca" && echo equal || echo different)"
else
  echo "skip ctrlc: kqlfilter or etlwriter missing"
fi

exit $adx_fail
