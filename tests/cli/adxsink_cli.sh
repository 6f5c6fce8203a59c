#!/bin/sh
# adxsink's command line: help, version, usage errors, endpoint checks and
# secrets refused on argv. No peer needed.
set -u
. tests/peers/adx_env.sh
adx_run --help </dev/null
t_eq help 0 "$ADX_RC"
t_grep help-text "--ingest-endpoint=URL" "$ADX_OUT"
adx_run --version </dev/null
t_eq version 0 "$ADX_RC"
t_grep version-text "^adxsink [0-9]" "$ADX_OUT"
adx_run </dev/null
t_eq no-args 2 "$ADX_RC"
t_grep no-args-msg "are required" "$ADX_ERR"
adx_run --bogus </dev/null
t_eq bad-option 2 "$ADX_RC"
base="--cluster=c.kusto.windows.net --database=D --table=T"
adx_run $base --key=hunter2secret --client-id=x </dev/null
t_eq key-on-argv 2 "$ADX_RC"
t_grep key-on-argv-msg "RTK_ADX_KEY" "$ADX_ERR"
t_nogrep key-not-echoed hunter2secret "$ADX_ERR"
adx_run $base --token=eyJsecrettoken </dev/null
t_eq token-on-argv 2 "$ADX_RC"
t_nogrep token-not-echoed eyJsecrettoken "$ADX_ERR"
adx_run --cluster=http://example.com --database=D --table=T </dev/null
t_eq http-remote 2 "$ADX_RC"
t_grep http-remote-msg "only to loopback" "$ADX_ERR"
adx_run --cluster=ftp://x --database=D --table=T </dev/null
t_eq other-scheme 2 "$ADX_RC"
adx_run --cluster=https://x/db --database=D --table=T </dev/null
t_eq cluster-path 2 "$ADX_RC"
adx_run $base --login-endpoint=http://login.example </dev/null
t_eq login-http 2 "$ADX_RC"
printf 'k\n' >"$ADX_TMP/key"
adx_run $base --key=@"$ADX_TMP/key" </dev/null
t_eq key-without-client 2 "$ADX_RC"
adx_run $base --key=@"$ADX_TMP/missing" --client-id=x </dev/null
t_eq key-file-missing 2 "$ADX_RC"
adx_run $base --direct --wait </dev/null
t_eq direct-wait 2 "$ADX_RC"
RTK_ADX_TOKEN= adx_run $base --token=@"$ADX_TMP/key" --managed-identity \
  </dev/null
t_eq token-and-msi 2 "$ADX_RC"
# Nothing to ingest: no request is made, exit 0.
adx_run $base --token=@"$ADX_TMP/key" --spool-dir="$ADX_TMP/sp" </dev/null
t_eq empty-input 0 "$ADX_RC"
exit $adx_fail
