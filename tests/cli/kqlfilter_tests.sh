#!/bin/sh
# kqlfilter_tests.sh - run the jq-style query/input/output tests in
# tests/kql/*.test against $BIN/kqlfilter (see tests/kql/runner.py).
# Exit 0 pass, 77 skip (no python3 or no binary), 1 fail.
#
# SPDX-License-Identifier: MIT
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BIN:-$top/bin}/kqlfilter
if ! command -v python3 >/dev/null 2>&1; then
  echo "skip: python3 not found"
  exit 77
fi
if [ ! -x "$bin" ]; then
  echo "skip: $bin not built"
  exit 77
fi
exec python3 "$top/tests/kql/runner.py" "$bin" "$top"/tests/kql/*.test
