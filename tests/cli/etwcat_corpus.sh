#!/bin/sh
# etwcat on the shared corpus of real .etl files: record counts, header
# fields against dissect.etl, times against TraceEvent baselines, and
# the golden Kernel-Network decoding. Skips when ../shared is absent.
set -eu
corpus=../shared/corpus/etl
if [ ! -d "$corpus" ]; then
  echo "skip: $corpus not found"
  exit 77
fi
python3 tests/etl/corpus_check.py "$BIN/etwcat" "$corpus"
python3 tests/etl/tl_check.py "$BIN/etwcat" "$corpus"
python3 tests/etl/metadata_check.py "$BIN/etwcat" "$corpus"
python3 tests/etl/kernel_check.py "$BIN/etwcat" "$corpus"
python3 tests/etl/dotnet_check.py "$BIN/etwcat" "$corpus"
