# azurite.sh - start and stop Azurite (Blob) for a test; sourced by
# tests/cli/blobsink*.sh.
#
# az_start [DIR]  start azurite-blob on a free loopback port (in memory, or
#                 persisted in DIR so a restart keeps the blobs); sets
#                 AZ_PORT, AZ_PID, AZ_BLOB_ENDPOINT, AZ_CS (a connection
#                 string with BlobEndpoint). Reuses AZ_PORT when set.
# az_stop         stop exactly that process (by PID) and wait for it.
# az_need         exit 77 (skip) unless Azurite and node are installed.
# free_port       print a free loopback TCP port.
#
# SPDX-License-Identifier: MIT

AZ_TOP=$(cd "$(dirname "$0")/../.." && pwd)
AZ_BIN=$AZ_TOP/tests/peers/node_modules/.bin/azurite-blob
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
AZ_PID=

az_need() {
  if [ ! -x "$AZ_BIN" ] || ! command -v node >/dev/null 2>&1; then
    echo "skip: Azurite is not installed (scripts/setup.sh --tests)"
    exit 77
  fi
  command -v python3 >/dev/null 2>&1 || { echo "skip: python3 missing"; exit 77; }
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

az_start() {
  [ -n "${AZ_PORT:-}" ] || AZ_PORT=$(free_port)
  if [ -n "${1:-}" ]; then
    mkdir -p "$1"
    store="--location $1"
  else
    store=--inMemoryPersistence
  fi
  # shellcheck disable=SC2086
  "$AZ_BIN" $store --blobHost 127.0.0.1 --blobPort "$AZ_PORT" \
    --disableTelemetry --silent >"${AZ_LOG:-/dev/null}" 2>&1 &
  AZ_PID=$!
  AZ_BLOB_ENDPOINT=http://127.0.0.1:$AZ_PORT/devstoreaccount1
  AZ_CS="AccountName=devstoreaccount1;AccountKey=$AZ_KEY;BlobEndpoint=$AZ_BLOB_ENDPOINT"
  export AZ_BLOB_ENDPOINT
  i=0
  while [ $i -lt 200 ]; do
    if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
      "$AZ_PORT" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$AZ_PID" 2>/dev/null; then
      echo "azurite exited at start"
      return 1
    fi
    sleep 0.1
    i=$((i + 1))
  done
  echo "azurite did not start on port $AZ_PORT"
  return 1
}

az_stop() {
  if [ -n "$AZ_PID" ]; then
    kill "$AZ_PID" 2>/dev/null
    wait "$AZ_PID" 2>/dev/null
    AZ_PID=
  fi
}

blobctl() {
  python3 "$AZ_TOP/tests/peers/blobctl.py" "$@"
}
