#!/bin/sh
# Windows-only check, run by tests/windows/run.sh: every program is one
# self-contained .exe that imports system DLLs only (windows.md 1), so
# copying it to a machine is the whole installation. A DLL of the tool
# chain or a library (libwinpthread-1.dll, libcurl.dll, ...) would make
# it fail to start there with "The code execution cannot proceed".
# SPDX-License-Identifier: MIT
set -u
OBJDUMP=${OBJDUMP:-x86_64-w64-mingw32-objdump}
command -v "$OBJDUMP" >/dev/null 2>&1 || { echo "skip: no $OBJDUMP"; exit 77; }
# The DLLs every Windows since 7 has in System32.
system="kernel32.dll msvcrt.dll shell32.dll advapi32.dll bcrypt.dll
crypt32.dll ws2_32.dll rpcrt4.dll tdh.dll"
fail=0 n=0
for exe in "${BIN:?}"/*.exe; do
  [ -f "$exe" ] || continue
  n=$((n + 1))
  dlls=$("$OBJDUMP" -p "$exe" | sed -n 's/.*DLL Name: //p' |
    tr 'A-Z' 'a-z')
  if [ -z "$dlls" ]; then
    echo "FAIL $(basename "$exe"): no import table found"
    fail=1
    continue
  fi
  for d in $dlls; do
    case " $(echo $system) " in
    *" $d "*) ;;
    *)
      echo "FAIL $(basename "$exe") imports $d, not a system DLL"
      fail=1
      ;;
    esac
  done
  [ $fail = 0 ] && echo "ok   $(basename "$exe"): $(echo $dlls)"
done
[ $n -ge 6 ] || { echo "FAIL only $n programs in $BIN"; fail=1; }
exit $fail
