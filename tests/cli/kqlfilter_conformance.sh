#!/bin/sh
# kqlfilter_conformance.sh - the official KQL reference examples
# (../shared/corpus/kql, run with ../shared/tools/compare.py) against
# $BIN/kqlfilter. Most failures are functions outside the first release
# (geo_*, series_*, ...). The test fails when the pass count drops below
# FLOOR, so a regression shows while new functions can only raise it.
# Exit 0 pass, 77 skip (no ../shared or python3), 1 fail.
#
# SPDX-License-Identifier: MIT
FLOOR=397
top=$(cd "$(dirname "$0")/../.." && pwd)
shared=${SHARED:-$top/../shared}
bin=${BIN:-$top/bin}/kqlfilter${EXE:-}
if [ ! -d "$shared/corpus/kql" ] || [ ! -f "$shared/tools/compare.py" ]; then
  echo "skip: $shared/corpus/kql not found"
  exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "skip: python3 not found"
  exit 77
fi
if [ ! -x "$bin" ]; then
  echo "skip: $bin not built"
  exit 77
fi
run=${EXEC_PREFIX:-}
if [ -n "${EXE:-}" ]; then
  # Wine now and then fails to start a program before it runs
  # ("ShellExecuteEx failed"); such a start is tried once more with the
  # same input.
  retry=$(mktemp)
  trap 'rm -f "$retry"' EXIT
  cat >"$retry" <<'W'
#!/bin/sh
d=$(mktemp -d)
cat >"$d/in"
for try in 1 2; do
  "$@" <"$d/in" >"$d/out" 2>"$d/err"
  rc=$?
  cat "$d/out" "$d/err" | grep -q 'ShellExecuteEx failed' || break
done
cat "$d/out"
cat "$d/err" >&2
rm -rf "$d"
exit $rc
W
  run="sh $retry ${EXEC_PREFIX:-}"
fi
out=$(python3 "$shared/tools/compare.py" --run \
  "$run $bin --schema {schema_kql} -q {stream}" \
  "$shared/corpus/kql" 2>&1)
printf '%s\n' "$out" | grep -i 'sanitizer' && {
  echo "sanitizer reports above"
  exit 1
}
summary=$(printf '%s\n' "$out" | tail -n 1)
echo "$summary"
passed=$(printf '%s\n' "$summary" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
if [ -z "$passed" ]; then
  printf '%s\n' "$out" | tail -n 20
  exit 1
fi
if [ "$passed" -lt "$FLOOR" ]; then
  printf '%s\n' "$out" | grep '^FAIL' | head -n 40
  echo "pass count $passed is below the floor $FLOOR"
  exit 1
fi
echo "pass count $passed (floor $FLOOR)"
exit 0
