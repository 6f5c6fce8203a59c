#!/bin/sh
# tests/windows/run.sh - the test suites against the Windows build, under
# Wine (windows.md section 3).
#
# usage: tests/windows/run.sh [WIN_BUILD_DIR]   (default build/win)
#
# Creates the Wine prefix on first use (WINEPREFIX, default build/wine)
# with the crash debugger disabled, so a crashing program exits non-zero
# instead of starting winedbg and "passing"; keeps one wineserver alive for
# the whole run (a cold start costs 0.3-0.45 s per process, a warm one
# 0.03 s); sets LC_ALL=C.UTF-8, without which Wine garbles non-ASCII
# arguments and file names. It then builds a staging tree of small
# wrapper scripts (bin/etwcat runs "wine .../etwcat.exe") and hands it to
# tests/run.sh, so the same test scripts, which call "$BIN/etwcat", run
# unchanged. Next to each wrapper the staging tree links the .exe itself,
# and EXEC_PREFIX=wine and EXE=.exe are exported, for scripts that call
# ${EXEC_PREFIX:-} "$BIN/prog${EXE:-}" (never EXEC_PREFIX with a wrapper:
# Wine would start the shell script as a Unix program and lose its exit
# status). A non-empty EXE tells a script it is testing the Windows
# build. Then the Windows-only checks, tests/windows/*_win.sh, run with
# the same BIN.
# Ends with one "N passed, N failed, N skipped" line for both; status 0
# when nothing failed.
# SPDX-License-Identifier: MIT
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
win=${1:-build/win}
case $win in /*) ;; *) win=$top/$win ;; esac
if ! command -v wine >/dev/null 2>&1; then
  echo "tests/windows/run.sh: wine is not installed" \
    "(apt-get install wine wine64)"
  exit 1
fi
if [ ! -x "$win/bin/etwcat.exe" ]; then
  echo "tests/windows/run.sh: no Windows build in $win (run make windows)"
  exit 1
fi
export WINEPREFIX=${WINEPREFIX:-$top/build/wine}
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
export LC_ALL=C.UTF-8
unset DISPLAY WAYLAND_DISPLAY

# The prefix: created once; the stamp is written only when the crash
# debugger is off, so an interrupted set-up is redone.
stamp=$WINEPREFIX/.rtk-prefix-ready
# A server left by an interrupted run would make "wineserver -w" wait
# for ever; end it (it serves only this prefix).
wineserver -k >/dev/null 2>&1
if [ ! -f "$stamp" ]; then
  echo "creating the Wine prefix $WINEPREFIX"
  mkdir -p "$WINEPREFIX"
  wineboot -i >/dev/null 2>&1
  wineserver -w
  wine reg add 'HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug' \
    /v Debugger /t REG_SZ /d '' /f >/dev/null 2>&1 || {
    echo "tests/windows/run.sh: cannot disable the crash debugger"
    exit 1
  }
  wineserver -w
  touch "$stamp"
fi

wineserver -p
trap 'wineserver -k 2>/dev/null' EXIT
trap 'exit 130' INT TERM

# The staging tree: one wrapper per .exe, under the names tests/run.sh
# and the test scripts use.
stage=$top/build/win-stage
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/tests/bin" "$stage/replaybin" "$stage/tools"
wrap() { # exe-path wrapper-path
  printf '#!/bin/sh\nexec wine "%s" "$@"\n' "$1" > "$2"
  chmod +x "$2"
}
for sub in bin tests/bin replaybin tools; do
  for exe in "$win/$sub"/*.exe; do
    [ -f "$exe" ] || continue
    wrap "$exe" "$stage/$sub/$(basename "$exe" .exe)"
    # Programs only: tests/run.sh runs every file in the other folders.
    [ "$sub" = bin ] && ln -s "$exe" "$stage/bin/$(basename "$exe")"
  done
done
[ -f "$stage/bin/RealTimeKql" ] && ln -sf RealTimeKql "$stage/bin/RealtimeKql"

# Test tools only generate inputs; the native ones are as good and faster.
tools=$stage/tools
[ -d "$top/build/posix/tools" ] && tools=$top/build/posix/tools

export BIN=$stage/bin TOOLS=$tools EXEC_PREFIX=wine EXE=.exe
sh tests/run.sh "$stage" | tee "$stage/run.out" | sed '$d'
last=$(tail -n 1 "$stage/run.out")
pass=$(echo "$last" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
fail=$(echo "$last" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
skip=$(echo "$last" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
if [ -z "$pass" ] || [ -z "$fail" ]; then
  echo "tests/windows/run.sh: tests/run.sh ended without its summary line"
  pass=${pass:-0} fail=$((${fail:-0} + 1))
fi
skip=${skip:-0}
# Windows-only checks (tests/windows/*_win.sh), counted with the rest.
mkdir -p tests/out
for s in tests/windows/*_win.sh; do
  [ -f "$s" ] || continue
  name=windows/$(basename "$s" .sh)
  log=tests/out/$(echo "$name" | tr '/' '_').log
  sh "$s" > "$log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    pass=$((pass + 1))
    echo "ok   $name"
  elif [ $rc -eq 77 ]; then
    skip=$((skip + 1))
    echo "skip $name"
  else
    fail=$((fail + 1))
    echo "FAIL $name (exit $rc; log: $log)"
    tail -n 20 "$log" | sed 's/^/    /'
  fi
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
