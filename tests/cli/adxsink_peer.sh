#!/bin/sh
# The ADX peer against the official SDKs' recorded requests: every
# recorded Kusto, AAD, blob and queue request is replayed and must be
# accepted as recorded; mutated copies must be rejected the way Kusto
# rejects them (tests/peers/adx_replay.py). Needs Azurite and
# ../shared/design/azure-recorded.
set -u
. tests/peers/adx_env.sh
rec=../shared/design/azure-recorded
if [ ! -d "$rec" ]; then
  echo "skip: $rec not found"
  exit 77
fi
adx_start_azurite
ADX_PEER_CLIENT_SECRET='s3cr3t+/=&'
export ADX_PEER_CLIENT_SECRET
adx_start_peer --accept-token fake-bearer-token-abc \
  --identity-token fake-authorization-context-token \
  --tenant 22222222-0000-0000-0000-000000000002
python3 tests/peers/adx_replay.py "$PEER_READY" "$rec"
