#!/bin/sh
# adxsink queued ingestion (the default) through Azurite and the strict
# ADX peer's data-management side: .get ingestion resources, .get kusto
# identity token, gzip blob upload with the container SAS, the ingestion
# message on a ready queue exactly as the SDK sends it, rotation over the
# queues and containers, --wait on the status queues (success, permanent
# and transient failures), resources refreshed when storage refuses them,
# and Azurite stopped mid-stream then restarted (spool replayed).
set -u
. tests/peers/adx_env.sh
adx_start_azurite
adx_start_peer --accept-token tok-q
printf 'tok-q\n' >"$ADX_TMP/tok"
SP=$ADX_TMP/spool
IN=$ADX_TMP/in
A="--cluster=$ENGINE --ingest-endpoint=$DM --database=TestDb
 --token=@$ADX_TMP/tok --spool-dir=$SP --retry-delay=0.1
 --retry-max-delay=0.5"
wait_rows() { # table n
  adx_hook "wait?db=TestDb&table=$1&rows=$2&timeout=20" >/dev/null
  adx_rows "$1" | wc -l | tr -d ' '
}
wait_k() { # key n: rows with "k": key, once there are n (or 20 s passed)
  i=0
  while [ $i -lt 200 ]; do
    c=$(adx_rows Events | grep -c "\"k\": \"$1\"")
    [ "$c" -ge "$2" ] && break
    i=$((i + 1))
    sleep 0.1
  done
  echo "$c"
}
rows() { python3 -c 'import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"k": sys.argv[2], "i": i, "t": "2026-11-25T10:00:00Z"}))' "$@"; }

cat >"$IN" <<'ROWS'
{"ts":"2026-11-25T10:00:00Z","level":"info","msg":"one","n":1}
{"ts":"2026-11-25T10:00:01Z","level":"warn","msg":"two","n":2}
{"ts":"2026-11-25T10:00:02Z","level":"error","msg":"three","n":3}
ROWS
adx_run $A --table=Events --reset <"$IN"
t_eq queued-exit 0 "$ADX_RC"
t_eq queued-rows 3 "$(wait_rows Events 3)"
t_eq queued-values '{"ts": "2026-11-25T10:00:00.0000000Z", "level": "info", "msg": "one", "n": 1}' \
  "$(adx_rows Events | head -n 1)"
# The message, field by field, in the order the official SDK sends them.
t_eq message-keys "IngestionStatusInTable ApplicationForTracing ClientVersionForTracing BlobPath RawDataSize DatabaseName TableName RetainBlobOnSuccess FlushImmediately IgnoreSizeLimit ReportLevel ReportMethod SourceMessageCreationTime Id AdditionalProperties" \
  "$(adx_state '" ".join(s["queued"][-1]["message"])')"
t_eq message-values "adxsink 192 TestDb Events True 0 0 authorizationContext,ingestionMappingReference,format multijson Events_mapping" \
  "$(adx_state '" ".join(str(x) for m in [s["queued"][-1]["message"]] for x in [m["ApplicationForTracing"], m["RawDataSize"], m["DatabaseName"], m["TableName"], m["RetainBlobOnSuccess"], m["ReportLevel"], m["ReportMethod"], ",".join(m["AdditionalProperties"]), m["AdditionalProperties"]["format"], m["AdditionalProperties"]["ingestionMappingReference"]])')"
t_eq blob-name True \
  "$(adx_state 'all(q["message"]["BlobPath"].split("?")[0].endswith("/TestDb__Events__" + q["message"]["Id"] + "__batch.json.gz") and "sig=" in q["message"]["BlobPath"] for q in s["queued"][-1:])')"
t_eq blob-gzip-smaller True \
  "$(adx_state 's["queued"][-1]["blob_bytes"] < 192')"
t_eq dm-commands ".get ingestion resources NetDefaultDB|.get kusto identity token NetDefaultDB" \
  "$(adx_requests '"|".join(e["json"]["csl"] + " " + e["json"]["db"] for e in r if e["role"] == "dm")')"
t_eq no-strict-warnings "[]" "$(adx_state 's["warnings"]')"

# Several batches: round robin over two containers and two queues.
rows 10 rot >"$IN"
adx_run $A --table=Events --batch-rows=2 <"$IN"
t_eq rotation-exit 0 "$ADX_RC"
t_eq rotation-rows 13 "$(wait_rows Events 13)"
t_eq rotation-containers 2 \
  "$(adx_state 'len({q["message"]["BlobPath"].split("/")[4] for q in s["queued"][-5:]})')"
t_eq rotation-queues 2 "$(adx_state 'len({q["queue"] for q in s["queued"][-5:]})')"
t_eq resources-cached 1 \
  "$(adx_requests 'sum(1 for e in r if e["role"] == "dm" and "resources" in e["json"]["csl"]) - 1')"

# --wait: the outcome is read from the status queues.
rows 4 waitok >"$IN"
adx_run $A --table=Events --wait -v <"$IN"
t_eq wait-ok-exit 0 "$ADX_RC"
t_grep wait-ok-msg "succeeded" "$ADX_ERR"
t_eq wait-ok-reportlevel 2 "$(adx_state 's["queued"][-1]["message"]["ReportLevel"]')"
adx_hook fault '{"target":"queued","code":"BadRequest_Injected","message":"rejected by the test","permanent":true,"count":1}' >/dev/null
rows 4 waitbad >"$IN"
adx_run $A --table=Events --wait <"$IN"
t_eq wait-permanent-exit 3 "$ADX_RC"
t_grep wait-permanent-msg "table Events: queued ingestion .* failed: BadRequest_Injected: rejected by the test" "$ADX_ERR"
adx_run $A --table=Events --wait </dev/null
t_eq wait-replay-exit 0 "$ADX_RC"
t_eq wait-replay-rows 4 "$(wait_k waitbad 4)"
adx_hook fault '{"target":"queued","code":"General_Transient","permanent":false,"count":1}' >/dev/null
rows 4 waittr >"$IN"
adx_run $A --table=Events --wait <"$IN"
t_eq wait-transient-exit 0 "$ADX_RC"
t_grep wait-transient-retried "retrying" "$ADX_ERR"
t_eq wait-transient-rows 4 "$(wait_k waittr 4)"

# Data-management faults are retried.
adx_hook fault '{"target":"dm","status":503,"retry_after":"0","count":2}' >/dev/null
rows 3 dm503 >"$IN"
adx_run $A --table=Events <"$IN"
t_eq dm-503-exit 0 "$ADX_RC"
t_eq dm-503-rows 3 "$(wait_k dm503 3)"

# Storage refuses the cached SAS (containers deleted): fetched again.
mkfifo "$ADX_TMP/fifo"
"$BIN/adxsink" $A --table=Events --flush-interval=0.2 <"$ADX_TMP/fifo" \
  2>"$ADX_TMP/rot.err" &
sink=$!
exec 7>"$ADX_TMP/fifo"
adx_hook clear-log '{}' >/dev/null
rows 2 before >&7
n=$(wait_k before 2)
adx_hook rotate-resources '{"delete_old":true}' >/dev/null
rows 2 after >&7
exec 7>&-
wait $sink
t_eq refresh-exit 0 "$?"
t_eq refresh-rows "2 2" "$(wait_k before 2) $(wait_k after 2)"
t_eq refresh-fetched-again 2 \
  "$(adx_requests 'sum(1 for e in r if e["role"] == "dm" and "resources" in e["json"]["csl"])')"

# Azurite stopped mid-stream: retried, spooled; restarted (empty, new
# containers): the spool is replayed.
adx_stop_azurite
rows 5 azdown >"$IN"
adx_run $A --table=Events --retries=1 <"$IN"
t_eq azurite-down-exit 3 "$ADX_RC"
t_eq azurite-down-spooled 1 "$(ls "$SP" | grep -c '^batch-')"
adx_start_azurite $AZ_PORTS
adx_hook rotate-resources '{}' >/dev/null
adx_run $A --table=Events </dev/null
t_eq azurite-back-exit 0 "$ADX_RC"
t_eq azurite-back-rows 5 "$(wait_k azdown 5)"
t_eq azurite-back-spool-empty 0 "$(ls "$SP" | grep -c '^batch-')"
exit $adx_fail
