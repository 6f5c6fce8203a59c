#!/bin/sh
# adxsink --direct (streaming ingestion) against the strict ADX peer with a
# fixed token: --reset and schema inference, an existing table (columns
# merged, mapping by name), a table without the streaming policy (the
# .ingest inline fallback), --mapping, the exact request shape, batch
# splitting, and faults: 429/503 with Retry-After, dropped connections,
# slow answers, permanent errors (rows spooled, exit 3, then replayed),
# a refused token and a peer that is down. No Azurite needed.
set -u
. tests/peers/adx_env.sh
adx_start_peer --accept-token tok-fixed-123
printf 'tok-fixed-123\n' >"$ADX_TMP/tok"
SP=$ADX_TMP/spool
A="--cluster=$ENGINE --database=TestDb --token=@$ADX_TMP/tok --direct
 --spool-dir=$SP --retry-delay=0.1 --retry-max-delay=0.5"
IN=$ADX_TMP/in

# --- --reset and inference from the rows (every member of each row) ---
cat >"$ADX_TMP/ev.ndjson" <<'ROWS'
{"TimeCreated":"2010-06-09T21:39:21.1234567Z","Provider":"Microsoft-Windows-Kernel-Network","ProviderId":"7dd42a49-5329-4832-8dfd-43d979153a88","EventId":10,"Ratio":0.25,"Ok":true,"Big":18446744073709551615,"Nothing":null,"EventData":{"saddr":"10.0.0.5","sport":443},"List":[1,2],"weird name":"w","naïve":"é"}
{"TimeCreated":"2010-06-09T21:39:22.0000001Z","Provider":"P2","ProviderId":"7dd42a49-5329-4832-8dfd-43d979153a89","EventId":11,"Ratio":1,"Ok":false,"Big":1,"Nothing":"later","EventData":{"saddr":"10.0.0.6","sport":80},"List":[],"weird name":"v","naïve":"ü"}
{"TimeCreated":"bad time","Provider":"P3","EventId":"12","Ratio":"x","Ok":"true","Extra":1}
ROWS
adx_run $A --table=Events --reset -v <"$ADX_TMP/ev.ndjson"
t_eq reset-exit 0 "$ADX_RC"
t_eq reset-columns "[['TimeCreated', 'datetime'], ['Provider', 'string'], ['ProviderId', 'guid'], ['EventId', 'long'], ['Ratio', 'real'], ['Ok', 'bool'], ['Big', 'decimal'], ['Nothing', 'dynamic'], ['EventData', 'dynamic'], ['List', 'dynamic'], ['weird name', 'string'], ['naïve', 'string'], ['Extra', 'long']]" \
  "$(adx_state 's["databases"]["TestDb"]["tables"]["Events"]["columns"]')"
t_eq reset-rows 3 "$(adx_rows Events | wc -l | tr -d ' ')"
t_eq reset-policies "True True" \
  "$(adx_state '" ".join(str(s["databases"]["TestDb"]["tables"]["Events"][k]) for k in ("streaming", "ingestiontime"))')"
t_eq reset-mapping "['Events_mapping']" \
  "$(adx_state 'list(s["databases"]["TestDb"]["tables"]["Events"]["mappings"])')"
adx_rows Events >"$ADX_TMP/rows"
t_eq values-row1 \
  '{"TimeCreated": "2010-06-09T21:39:21.1234567Z", "Provider": "Microsoft-Windows-Kernel-Network", "ProviderId": "7dd42a49-5329-4832-8dfd-43d979153a88", "EventId": 10, "Ratio": 0.25, "Ok": true, "Big": 1.8446744073709552e+19, "Nothing": null, "EventData": {"saddr": "10.0.0.5", "sport": 443}, "List": [1, 2], "weird name": "w", "na\u00efve": "\u00e9", "Extra": null}' \
  "$(sed -n 1p "$ADX_TMP/rows")"
t_eq values-row3 \
  '{"TimeCreated": null, "Provider": "P3", "ProviderId": null, "EventId": 12, "Ratio": null, "Ok": true, "Big": null, "Nothing": null, "EventData": null, "List": null, "weird name": null, "na\u00efve": null, "Extra": 1}' \
  "$(sed -n 3p "$ADX_TMP/rows")"
t_grep reset-dropped "dropped table Events" "$ADX_ERR"

# The request shape, as the official SDK sends it.
t_eq stream-request "POST gzip application/octet-stream application/json adxsink.streaming /v1/rest/ingest/TestDb/Events?streamFormat=multijson&mappingName=Events_mapping" \
  "$(adx_requests '[" ".join([e["method"], h.get("Content-Encoding"), h.get("Content-Type"), h.get("Accept"), h.get("x-ms-client-request-id").split(";")[0], e["path"]]) for e in r for h in [dict(e["headers"])] if "/ingest/" in e["path"]][0]')"
t_eq mgmt-request "application/json; charset=utf-8 application/json adxsink.mgmt adxsink adxsink:{" \
  "$(adx_requests '[" ".join([h.get("Content-Type"), h.get("Accept"), h.get("x-ms-client-request-id").split(";")[0], h.get("x-ms-app"), h.get("x-ms-client-version")[:9]]) for e in r for h in [dict(e["headers"])] if e["path"] == "/v1/rest/mgmt"][0]')"
t_eq mgmt-commands ".drop table Events ifexists|.create-merge table Events (TimeCreated:datetime, Provider:string, ProviderId:guid, EventId:long, Ratio:real, Ok:bool, Big:decimal, Nothing:dynamic, EventData:dynamic, List:dynamic, ['weird name']:string, ['naïve']:string, Extra:long)|.alter table Events policy ingestiontime true|.alter table Events policy streamingingestion enable" \
  "$(adx_requests '"|".join(e["json"]["csl"] for e in r if e["path"] == "/v1/rest/mgmt" and "mapping" not in e["json"]["csl"])')"
t_eq no-strict-warnings "[]" "$(adx_state 's["warnings"]')"
t_nogrep token-not-logged tok-fixed-123 "$ADX_ERR"

# --reset again with another first row: a new table.
printf '{"x":1}\n' >"$IN"
adx_run $A --table=Events --reset <"$IN"
t_eq reset-again 0 "$ADX_RC"
t_eq reset-again-schema "[['x', 'long']] 1" \
  "$(adx_state 'str(s["databases"]["TestDb"]["tables"]["Events"]["columns"]) + " " + str(s["databases"]["TestDb"]["tables"]["Events"]["rows"])')"

# --- an existing table: used by column name, new columns merged --------
adx_hook exec '{"csl":".create table Pre (n:long, a:string)"}' >/dev/null
adx_hook exec '{"csl":".alter table Pre policy streamingingestion enable"}' \
  >/dev/null
printf '{"a":"x","n":"5","more":2.5}\n{"n":6}\n' >"$IN"
adx_run $A --table=Pre <"$IN"
t_eq existing-exit 0 "$ADX_RC"
t_eq existing-columns "[['n', 'long'], ['a', 'string'], ['more', 'real']]" \
  "$(adx_state 's["databases"]["TestDb"]["tables"]["Pre"]["columns"]')"
t_eq existing-rows '{"n": 5, "a": "x", "more": 2.5}|{"n": 6, "a": null, "more": null}' \
  "$(adx_rows Pre | paste -sd '|' -)"
t_eq existing-policy-untouched False \
  "$(adx_state 's["databases"]["TestDb"]["tables"]["Pre"]["ingestiontime"]')"

# --- new members in later rows: columns added before those rows go in --
printf '{"a":1}\n{"a":2,"b":"x"}\n{"a":3}\n{"a":4,"c":1.5,"b":"y"}\n{"a":5}\n' >"$IN"
adx_run $A --table=Evolve --reset --batch-rows=2 <"$IN"
t_eq evolve-exit 0 "$ADX_RC"
t_eq evolve-columns "[['a', 'long'], ['b', 'string'], ['c', 'real']]" \
  "$(adx_state 's["databases"]["TestDb"]["tables"]["Evolve"]["columns"]')"
t_eq evolve-rows '{"a": 1, "b": null, "c": null}|{"a": 2, "b": "x", "c": null}|{"a": 3, "b": null, "c": null}|{"a": 4, "b": "y", "c": 1.5}|{"a": 5, "b": null, "c": null}' \
  "$(adx_rows Evolve | paste -sd '|' -)"
# One drop for the run; the new column merged once, then the mapping.
t_eq evolve-commands ".drop table Evolve ifexists|.create-merge table Evolve (a:long, b:string)|.create-or-alter table Evolve ingestion json mapping|.alter table Evolve policy ingestiontime true|.alter table Evolve policy streamingingestion enable|.show table Evolve cslschema|.create-merge table Evolve (c:real)|.create-or-alter table Evolve ingestion json mapping" \
  "$(adx_requests '"|".join(e["json"]["csl"].split(" \x27")[0] for e in r if e["path"] == "/v1/rest/mgmt" and " Evolve" in e["json"]["csl"])')"

# --- streaming not enabled: the policy command is named, rows go inline -
adx_hook exec '{"csl":".create table NoStream (a:string)"}' >/dev/null
printf '{"a":"1"}\n{"a":"2"}\n' >"$IN"
adx_run $A --table=NoStream <"$IN"
t_eq nostream-exit 0 "$ADX_RC"
t_grep nostream-msg ".alter table NoStream policy streamingingestion enable" \
  "$ADX_ERR"
t_grep nostream-code "BadRequest_StreamingIngestionPolicyNotEnabled" "$ADX_ERR"
t_eq nostream-rows 2 "$(adx_rows NoStream | wc -l | tr -d ' ')"
t_eq nostream-inline 1 \
  "$(adx_requests 'sum(1 for e in r if e.get("json", {}).get("csl", "").startswith(".ingest inline into table NoStream"))')"

# --- --mapping: the user's mapping, untouched -------------------------
adx_hook exec '{"csl":".create table Mapped (val:string)"}' >/dev/null
adx_hook exec '{"csl":".alter table Mapped policy streamingingestion enable"}' >/dev/null
adx_hook exec "{\"csl\":\".create table Mapped ingestion json mapping 'mine' '[{\\\"column\\\":\\\"val\\\",\\\"Properties\\\":{\\\"Path\\\":\\\"$.deep.v\\\"}}]'\"}" >/dev/null
printf '{"deep":{"v":"found"},"val":"not this"}\n' >"$IN"
adx_run $A --table=Mapped --mapping=mine <"$IN"
t_eq mapping-exit 0 "$ADX_RC"
t_eq mapping-value '{"val": "found"}' "$(adx_rows Mapped)"
t_eq mapping-untouched "['mine']" \
  "$(adx_state 'list(s["databases"]["TestDb"]["tables"]["Mapped"]["mappings"])')"

# --- big input: several 4 MiB requests ---------------------------------
python3 -c 'import json
for i in range(40000):
    print(json.dumps({"i": i, "pad": "x" * 150}))' >"$ADX_TMP/big.ndjson"
adx_run $A --table=Big --reset --batch-rows=0 <"$ADX_TMP/big.ndjson"
t_eq big-exit 0 "$ADX_RC"
t_eq big-rows 40000 "$(adx_state 's["databases"]["TestDb"]["tables"]["Big"]["rows"]')"
t_eq big-requests-under-4MiB True \
  "$(adx_requests 'all(e["body_len"] <= 4 << 20 for e in r if "/ingest/TestDb/Big" in e["path"]) and sum(1 for e in r if "/ingest/TestDb/Big" in e["path"]) >= 2')"

# --- faults -------------------------------------------------------------
rows() { python3 -c 'import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"k": sys.argv[2], "i": i}))' "$@"; }
count_k() { adx_rows Faults | grep -c "\"k\": \"$1\""; }
rows 5 init >"$IN"
adx_run $A --table=Faults --reset <"$IN"

adx_hook fault '{"target":"ingest","status":429,"retry_after":1,"count":2}' >/dev/null
start=$(date +%s)
rows 10 r429 >"$IN"
adx_run $A --table=Faults <"$IN"
end=$(date +%s)
t_eq 429-exit 0 "$ADX_RC"
t_eq 429-rows 10 "$(count_k r429)"
t_grep 429-retried "retrying in 1.0 s" "$ADX_ERR"
t_eq 429-waited-retry-after True "$([ $((end - start)) -ge 2 ] && echo True || echo False)"

adx_hook fault '{"target":"ingest","status":503,"count":1}' >/dev/null
rows 10 r503 >"$IN"
adx_run $A --table=Faults <"$IN"
t_eq 503-exit 0 "$ADX_RC"
t_eq 503-rows 10 "$(count_k r503)"

adx_hook fault '{"target":"ingest","drop":true,"count":2}' >/dev/null
rows 10 drop >"$IN"
adx_run $A --table=Faults <"$IN"
t_eq dropped-connection-exit 0 "$ADX_RC"
t_eq dropped-connection-rows 10 "$(count_k drop)"

adx_hook fault '{"target":"mgmt","drop":true,"count":1}' >/dev/null
rows 3 mdrop >"$IN"
adx_run $A --table=Faults <"$IN"
t_eq mgmt-dropped-exit 0 "$ADX_RC"
t_eq mgmt-dropped-rows 3 "$(count_k mdrop)"

adx_hook fault '{"target":"ingest","status":200,"delay":1.5,"count":1}' >/dev/null
rows 10 slow >"$IN"
adx_run $A --table=Faults <"$IN"
t_eq slow-exit 0 "$ADX_RC"
t_eq slow-rows 10 "$(count_k slow)"

adx_hook fault '{"target":"ingest","status":413,"code":"Stream_InputStreamTooLarge","permanent":true,"count":1}' >/dev/null
rows 10 split >"$IN"
adx_run $A --table=Faults <"$IN"
t_eq 413-split-exit 0 "$ADX_RC"
t_eq 413-split-rows 10 "$(count_k split)"

adx_hook fault '{"target":"ingest","status":400,"code":"BadRequest_Injected","permanent":true,"count":1}' >/dev/null
rows 10 perm >"$IN"
adx_run $A --table=Faults <"$IN"
t_eq permanent-exit 3 "$ADX_RC"
t_grep permanent-names-all "cluster 127.0.0.1, database TestDb, table Faults: streaming ingestion: .* BadRequest_Injected" "$ADX_ERR"
t_eq permanent-not-retried 1 \
  "$(adx_state '[f["hits"] for f in s["faults"] if f["target"] == "ingest"][-1]')"
t_eq permanent-spooled 1 "$(ls "$SP" | grep -c '^batch-')"
t_eq permanent-rows-absent 0 "$(count_k perm)"
adx_run $A --table=Faults </dev/null
t_eq replay-exit 0 "$ADX_RC"
t_eq replay-rows 10 "$(count_k perm)"
t_eq replay-spool-empty 0 "$(ls "$SP" | grep -c '^batch-')"

adx_hook fault '{"target":"ingest","status":500,"permanent":true,"count":1}' >/dev/null
rows 3 p500 >"$IN"
adx_run $A --table=Faults <"$IN"
t_eq 500-permanent-exit 3 "$ADX_RC"
adx_hook fault '{"target":"ingest","status":503,"count":50}' >/dev/null
rows 3 down >"$IN"
adx_run $A --table=Faults --retries=2 <"$IN"
t_eq 503-exhausted-exit 3 "$ADX_RC"
t_grep 503-exhausted-msg "giving up after 2" "$ADX_ERR"
adx_hook clear-faults '{}' >/dev/null
adx_run $A --table=Faults </dev/null
t_eq replay-both-exit 0 "$ADX_RC"
t_eq replay-both-rows "3 3" "$(count_k p500) $(count_k down)"

# A token the service refuses: nothing retried in vain, rows spooled.
printf 'tok-not-accepted\n' >"$ADX_TMP/badtok"
rows 4 badtok >"$IN"
adx_run --cluster=$ENGINE --database=TestDb --table=Faults \
  --token=@"$ADX_TMP/badtok" --direct --spool-dir="$ADX_TMP/spool2" <"$IN"
t_eq bad-token-exit 3 "$ADX_RC"
t_grep bad-token-msg "refused the fixed token" "$ADX_ERR"
t_nogrep bad-token-not-logged tok-not-accepted "$ADX_ERR"
adx_run $A --table=Faults --spool-dir="$ADX_TMP/spool2" </dev/null
t_eq bad-token-replayed "0 4" "$ADX_RC $(count_k badtok)"

# The peer down: retried, spooled; back up (empty): replayed into a new
# table made from the spooled rows.
adx_stop_peer
rows 6 peerdown >"$IN"
adx_run $A --table=Faults --retries=1 <"$IN"
t_eq peer-down-exit 3 "$ADX_RC"
adx_start_peer --accept-token tok-fixed-123
A="--cluster=$ENGINE --database=TestDb --token=@$ADX_TMP/tok --direct
 --spool-dir=$SP --retry-delay=0.1 --retry-max-delay=0.5"
adx_run $A --table=Faults </dev/null
t_eq peer-back-exit 0 "$ADX_RC"
t_eq peer-back-rows 6 "$(count_k peerdown)"

# Ctrl-C while a request is in flight: the batch is finished or spooled,
# never dropped; the next run delivers what was spooled.
mkfifo "$ADX_TMP/fifo"
adx_hook fault '{"target":"ingest","status":200,"delay":2,"count":1}' >/dev/null
"$BIN/adxsink" $A --table=Faults --flush-interval=0.1 --shutdown-timeout=0.5 \
  <"$ADX_TMP/fifo" 2>"$ADX_TMP/int.err" &
sink=$!
exec 7>"$ADX_TMP/fifo"
rows 5 sigint >&7
sleep 0.8
kill -INT $sink
wait $sink
rc=$?
exec 7>&-
t_eq sigint-exit-0-or-3 True "$([ $rc = 0 ] || [ $rc = 3 ] && echo True || echo False)"
adx_run $A --table=Faults </dev/null
t_eq sigint-replay-exit 0 "$ADX_RC"
sleep 2
t_eq sigint-nothing-lost True "$([ "$(count_k sigint)" -ge 5 ] && echo True || echo False)"

# Bad input lines are reported, kept in the reject file, and skipped.
printf '{"a":1}\nnot json\n{"a":2}\n' >"$IN"
adx_run $A --table=Rej --reset --reject-file="$ADX_TMP/rej" <"$IN"
t_eq reject-rows 2 "$(adx_rows Rej | wc -l | tr -d ' ')"
t_grep reject-file "not json" "$ADX_TMP/rej"
exit $adx_fail
