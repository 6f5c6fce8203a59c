#!/bin/sh
# adxsink sign-in against the ADX peer's Entra ID and IMDS endpoints:
# application key (RTK_ADX_KEY and --key=@FILE, form-encoded secret, the
# scope from the auth metadata), wrong secret / tenant / client, tokens
# fetched again before they expire and after a 401, managed identity
# (system and user-assigned, IMDS faults), device code (interval honoured,
# approval, refusal). Secrets never reach stderr. Streaming ingestion
# keeps Azurite out of it.
set -u
. tests/peers/adx_env.sh
TENANT=22222222-0000-0000-0000-000000000002
APP=11111111-aaaa-bbbb-cccc-000000000001
MSI=33333333-0000-0000-0000-000000000003
SECRET='s3cr3t+/=&'
ADX_PEER_CLIENT_SECRET=$SECRET
export ADX_PEER_CLIENT_SECRET
adx_start_peer --tenant "$TENANT" --client-id "$APP" --msi-client-id "$MSI" \
  --device-auto-approve 3 --device-interval 1 --token-lifetime 4
IN=$ADX_TMP/in
B="--cluster=$ENGINE --database=TestDb --direct --login-endpoint=$AAD
 --spool-dir=$ADX_TMP/spool --retry-delay=0.1 --retry-max-delay=0.5 -v -v"
n_rows() { adx_rows "$1" | wc -l | tr -d ' '; }
secret_safe() { # name: neither the secret nor any issued token in stderr
  t_nogrep "$1-secret-not-logged" 's3cr3t' "$ADX_ERR"
  t_nogrep "$1-token-not-logged" 'peer.' "$ADX_ERR"
}

# Application key from the environment.
printf '{"a":1}\n{"a":2}\n' >"$IN"
RTK_ADX_KEY=$SECRET adx_run $B --table=App --reset --authority=$TENANT \
  --client-id=$APP <"$IN"
t_eq appkey-env-exit 0 "$ADX_RC"
t_eq appkey-env-rows 2 "$(n_rows App)"
secret_safe appkey-env
t_eq appkey-request "client_id=$APP scope=https://kusto.kusto.windows.net/.default grant_type=client_credentials client_secret=<redacted>" \
  "$(adx_requests '" ".join(k + "=" + v for e in r if e["path"].endswith("/oauth2/v2.0/token") for k, v in e["form"])')"
t_eq appkey-metadata-read 1 \
  "$(adx_requests 'sum(1 for e in r if e["path"] == "/v1/rest/auth/metadata")')"
t_eq appkey-content-type "application/x-www-form-urlencoded;charset=utf-8" \
  "$(adx_requests '[dict(e["headers"])["Content-Type"] for e in r if e["path"].endswith("/token")][0]')"

# Application key from a file.
printf '%s\n' "$SECRET" >"$ADX_TMP/key"
printf '{"a":3}\n' >"$IN"
adx_run $B --table=App --authority=$TENANT --client-id=$APP \
  --key=@"$ADX_TMP/key" <"$IN"
t_eq appkey-file-exit 0 "$ADX_RC"
t_eq appkey-file-rows 3 "$(n_rows App)"

# Refusals: clear messages, rows spooled, nothing secret printed.
printf 'wrong\n' >"$ADX_TMP/bad"
adx_run $B --table=App --authority=$TENANT --client-id=$APP \
  --key=@"$ADX_TMP/bad" --spool-dir="$ADX_TMP/sp-bad" <"$IN"
t_eq wrong-secret-exit 3 "$ADX_RC"
t_grep wrong-secret-msg "HTTP 401 invalid_client: AADSTS7000215" "$ADX_ERR"
t_nogrep wrong-secret-not-logged wrong "$(printf '%s' "$ADX_ERR")"
adx_run $B --table=App --authority=other.example --client-id=$APP \
  --key=@"$ADX_TMP/key" --spool-dir="$ADX_TMP/sp-bad" <"$IN"
t_eq wrong-tenant-exit 3 "$ADX_RC"
t_grep wrong-tenant-msg "invalid_tenant: AADSTS90002" "$ADX_ERR"
adx_run $B --table=App --authority=$TENANT --client-id=nobody \
  --key=@"$ADX_TMP/key" --spool-dir="$ADX_TMP/sp-bad" <"$IN"
t_eq wrong-client-exit 3 "$ADX_RC"
t_grep wrong-client-msg "unauthorized_client" "$ADX_ERR"
adx_hook fault '{"target":"token","status":503,"count":2}' >/dev/null
adx_run $B --table=App --authority=$TENANT --client-id=$APP \
  --key=@"$ADX_TMP/key" <"$IN"
t_eq token-503-retried 0 "$ADX_RC"

# Tokens live 4 s here: fetched again before they expire, no 401.
mkfifo "$ADX_TMP/fifo"
adx_hook clear-log '{}' >/dev/null
"$BIN/adxsink" $B --table=App --authority=$TENANT --client-id=$APP \
  --key=@"$ADX_TMP/key" --flush-interval=0.2 <"$ADX_TMP/fifo" \
  2>"$ADX_TMP/refresh.err" &
sink=$!
exec 7>"$ADX_TMP/fifo"
for i in 1 2 3 4 5 6 7; do
  printf '{"a":%d}\n' "$((100 + i))" >&7
  sleep 1
done
exec 7>&-
wait $sink
t_eq refresh-exit 0 "$?"
t_eq refresh-no-401 0 "$(adx_requests 'sum(1 for e in r if e.get("status") == 401)')"
t_eq refresh-fetched-again True \
  "$(adx_requests 'sum(1 for e in r if e["path"].endswith("/token")) >= 3')"

# A token the service stops accepting: one 401, a new token, no loss.
"$BIN/adxsink" $B --table=App --authority=$TENANT --client-id=$APP \
  --key=@"$ADX_TMP/key" --flush-interval=0.2 <"$ADX_TMP/fifo" \
  2>"$ADX_TMP/401.err" &
sink=$!
exec 7>"$ADX_TMP/fifo"
printf '{"a":201}\n' >&7
sleep 0.8
adx_hook clear-log '{}' >/dev/null
adx_hook expire-tokens '{}' >/dev/null
printf '{"a":202}\n' >&7
exec 7>&-
wait $sink
t_eq after-401-exit 0 "$?"
t_eq after-401-flow "401 200" \
  "$(adx_requests '" ".join(str(e["status"]) for e in r if "/ingest/" in e["path"])')"
t_eq after-401-rows 2 "$(adx_rows App | grep -c '"a": 20[12]')"

# Managed identity (IMDS), system- and user-assigned.
printf '{"m":1}\n' >"$IN"
adx_run $B --table=Msi --reset --managed-identity --imds-endpoint=$AAD <"$IN"
t_eq msi-exit 0 "$ADX_RC"
t_eq msi-request "GET true /metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fkusto.kusto.windows.net" \
  "$(adx_requests '[e["method"] + " " + dict(e["headers"]).get("Metadata", "") + " " + e["path"] for e in r if e["path"].startswith("/metadata/")][-1]')"
secret_safe msi
adx_run $B --table=Msi --managed-identity --client-id=$MSI \
  --imds-endpoint=$AAD <"$IN"
t_eq msi-user-assigned-exit 0 "$ADX_RC"
adx_run $B --table=Msi --managed-identity --client-id=$APP \
  --imds-endpoint=$AAD --spool-dir="$ADX_TMP/sp-bad" <"$IN"
t_eq msi-unknown-identity-exit 3 "$ADX_RC"
t_grep msi-unknown-identity-msg "Identity not found" "$ADX_ERR"
adx_hook fault '{"target":"imds","status":500,"count":1}' >/dev/null
adx_run $B --table=Msi --managed-identity --imds-endpoint=$AAD <"$IN"
t_eq msi-500-retried 0 "$ADX_RC"
t_eq msi-rows 3 "$(n_rows Msi)"

# Device code: the message on stderr, the interval honoured, approval.
printf '{"d":1}\n' >"$IN"
adx_hook clear-log '{}' >/dev/null
adx_run $B --table=Dev --reset --authority=$TENANT <"$IN"
t_eq device-exit 0 "$ADX_RC"
t_grep device-message "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code" "$ADX_ERR"
t_eq device-interval-honoured "3 0" \
  "$(adx_state '" ".join(str(d[k]) for d in s["devices"][-1:] for k in ("polls", "too_fast"))')"
t_eq device-scope "client_id=db662dc1-0cfe-4e1c-a843-19a68e65be58 scope=https://kusto.kusto.windows.net/.default offline_access" \
  "$(adx_requests '" ".join(k + "=" + v for e in r if e["path"].endswith("/devicecode") for k, v in e["form"])')"
t_eq device-rows 1 "$(n_rows Dev)"
secret_safe device
# A long run: the device-code token is renewed with its refresh token,
# without asking the user again.
adx_hook clear-log '{}' >/dev/null
"$BIN/adxsink" $B --table=Dev --authority=$TENANT --flush-interval=0.2 \
  <"$ADX_TMP/fifo" 2>"$ADX_TMP/devlong.err" &
sink=$!
exec 7>"$ADX_TMP/fifo"
for i in 1 2 3 4 5 6 7; do
  printf '{"d":%d}\n' "$((10 + i))" >&7
  sleep 1
done
exec 7>&-
wait $sink
t_eq device-refresh-exit 0 "$?"
t_eq device-refresh-flow "1 True" \
  "$(adx_requests 'str(sum(1 for e in r if e["path"].endswith("/devicecode"))) + " " + str(sum(1 for e in r if dict(e.get("form", [])).get("grant_type") == "refresh_token") >= 1)')"
t_eq device-refresh-rows 8 "$(n_rows Dev)"
# A refused sign-in stops the sink (rows spooled).
"$BIN/adxsink" $B --table=Dev --authority=$TENANT \
  --spool-dir="$ADX_TMP/sp-dev" <"$IN" 2>"$ADX_TMP/dev.err" &
sink=$!
i=0
while [ "$(adx_state 'sum(1 for d in s["devices"] if d["state"] == "pending")')" = 0 ] &&
  [ $i -lt 100 ]; do
  sleep 0.05
  i=$((i + 1))
done
adx_hook approve-device '{"decline":true}' >/dev/null
wait $sink
t_eq device-declined-exit 3 "$?"
t_grep device-declined-msg "authorization_declined" "$ADX_TMP/dev.err"

# Entra ID over TLS with a private CA: verified with --cacert, refused
# without it (and not retried: a certificate does not fix itself).
# The name is in the certificate twice: OpenSSL matches 127.0.0.1 against
# IP entries, curl 7.88's Schannel against DNS entries only. Wine's
# Schannel accepts any certificate unless curl checks the chain itself,
# which it does with a CA file (windows.md 5): under Wine "untrusted" is
# a CA file that did not sign the peer's certificate.
if command -v openssl >/dev/null 2>&1 &&
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1,DNS:127.0.0.1" \
    -keyout "$ADX_TMP/tls.key" -out "$ADX_TMP/tls.crt" >/dev/null 2>&1 &&
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other \
    -keyout "$ADX_TMP/other.key" -out "$ADX_TMP/other.crt" >/dev/null 2>&1
then
  adx_stop_peer
  adx_start_peer --tenant "$TENANT" --client-id "$APP" \
    --aad-cert "$ADX_TMP/tls.crt" --aad-key "$ADX_TMP/tls.key"
  t_eq tls-login-endpoint https "${AAD%%:*}"
  B2="--cluster=$ENGINE --database=TestDb --direct --login-endpoint=$AAD
   --authority=$TENANT --client-id=$APP --key=@$ADX_TMP/key
   --retry-delay=0.1"
  printf '{"tls":1}\n' >"$IN"
  adx_run $B2 --table=Tls --reset --cacert="$ADX_TMP/tls.crt" \
    --spool-dir="$ADX_TMP/sp-tls" <"$IN"
  t_eq tls-cacert-exit 0 "$ADX_RC"
  t_eq tls-rows 1 "$(n_rows Tls)"
  untrusted=
  [ -n "${EXE:-}" ] && untrusted=--cacert="$ADX_TMP/other.crt"
  adx_run $B2 --table=Tls --spool-dir="$ADX_TMP/sp-tls2" $untrusted <"$IN"
  t_eq tls-untrusted-exit 3 "$ADX_RC"
  t_grep tls-untrusted-msg "certificate" "$ADX_ERR"
  t_eq tls-untrusted-not-retried 0 "$(grep -c retrying "$ADX_ERR")"
else
  echo "skip tls: openssl cannot make a certificate"
fi
exit $adx_fail
