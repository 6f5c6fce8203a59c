#!/bin/sh
# tests/lint.sh - the mechanical rules of STYLE.md: banned functions,
# tabs, trailing spaces, long lines, the header comment, platform.h first,
# and OS tests only where they belong. Prints each offence; exit 1 if any.
set -u
cd "$(dirname "$0")/.." || exit 1
files=$(git ls-files '*.c' '*.h' | grep -v '^build')
bad=0
say() { echo "$1"; bad=1; }
for f in $files; do
  grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|gets|atoi|atol|sscanf|alloca|system|popen)[[:space:]]*\(' "$f" |
    grep -vE '^\s*[0-9]+:\s*(/\*|\*)' | sed "s|^|$f:|; s|$|  (banned function)|" |
    while read -r l; do echo "$l"; done | grep . && bad=1
  grep -n "$(printf '\t')" "$f" | sed "s|^|$f:|; s|$|  (tab)|" | grep . && bad=1
  grep -n ' $' "$f" | sed "s|^|$f:|; s|$|  (trailing space)|" | grep . && bad=1
  awk -v f="$f" 'length($0) > 80 { print f ":" NR ": line longer than 80" }' "$f" | grep . && bad=1
  head -n 2 "$f" | grep -q '^/\*' || say "$f: no header comment"
  grep -q 'SPDX-License-Identifier' "$f" || say "$f: no SPDX line"
  case "$f" in
  lib/platform.h|*_win.c|*_posix.c) ;;
  *) grep -nE '(^|[^A-Za-z0-9_])_WIN32([^A-Za-z0-9_]|$)' "$f" | sed "s|^|$f:|; s|$|  (OS test outside platform code)|" | grep . && bad=1 ;;
  esac
  case "$f" in
  *.c)
    first=$(grep -m1 '^#include' "$f")
    [ "$first" = '#include "lib/platform.h"' ] ||
      say "$f: first include is not lib/platform.h ($first)" ;;
  esac
done
exit $bad
