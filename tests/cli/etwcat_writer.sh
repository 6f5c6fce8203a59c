#!/bin/sh
# etwcat on writer-made traces: every layout, merge, and damaged input.
set -eu
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
python3 tests/etl/writer_check.py "$BIN/etwcat" "$TOOLS/etlwriter" "$w"
python3 tests/etl/schema_cli_check.py "$BIN/etwcat" "$TOOLS/etlwriter" "$w/schemas"
