/*
 * spawn_quote.c - build a Windows command line from an argument vector
 * (spawn.h, spawn_win_cmdline).
 *
 * Windows hands a child one string; the child's C runtime (or
 * CommandLineToArgvW) splits it again. Their rules, for arguments after
 * the first: blanks (space, tab) separate arguments outside double
 * quotes; a '"' toggles quoting; 2n backslashes before a '"' give n
 * backslashes and the quote toggles, 2n+1 give n backslashes and a
 * literal '"'; backslashes not before a '"' are literal. The program
 * name (argv[0]) is read up to the next blank, or between a pair of
 * quotes, with no escapes at all. The quoting below is the inverse of
 * those rules, the same as libuv's quote_cmd_arg (src/win/process.c);
 * tests/unit/test_spawn.c holds a table of hostile arguments and a
 * parser written from the rules above to check the round trip.
 *
 * Plain C, no Windows headers: it is built and tested on every system.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/spawn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* CreateProcessW's limit on lpCommandLine, in UTF-16 units with the NUL. */
#define CMDLINE_MAX_UNITS 32767

/* Characters that make an argument need quotes: the blanks the runtime
 * splits on, the quote itself, and line breaks and vertical tabs (not
 * separators for the runtime, but other parsers treat them as blanks). */
static bool
needs_quotes(const char *a)
{
  return !*a || strpbrk(a, " \t\n\v\"");
}

/* Bytes the quoted form of a takes at most: every backslash doubled,
 * every quote escaped, two quotes around. */
static size_t
quoted_max(const char *a)
{
  return 2 * strlen(a) + 2;
}

/* Append a, quoted, at out; returns the end. */
static char *
put_arg(char *out, const char *a)
{
  if (!needs_quotes(a)) {
    size_t n = strlen(a);
    memcpy(out, a, n);
    return out + n;
  }
  *out++ = '"';
  for (const char *p = a;;) {
    size_t bs = 0;
    while (*p == '\\') {
      bs++;
      p++;
    }
    if (!*p) {
      /* Backslashes before the closing quote: double them all. */
      memset(out, '\\', 2 * bs);
      out += 2 * bs;
      break;
    }
    if (*p == '"') {
      /* 2n+1 backslashes: n literal ones, then a literal quote. */
      memset(out, '\\', 2 * bs + 1);
      out += 2 * bs + 1;
      *out++ = '"';
    } else {
      memset(out, '\\', bs);
      out += bs;
      *out++ = *p;
    }
    p++;
  }
  *out++ = '"';
  return out;
}

/* UTF-16 units the UTF-8 string s becomes: one per sequence, two for
 * the 4-byte sequences that need a surrogate pair. */
static size_t
utf16_units(const char *s)
{
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p & 0xC0) != 0x80) n++;
    if (*p >= 0xF0) n++;
  }
  return n;
}

char *
spawn_win_cmdline(const char *const *argv)
{
  if (!argv || !argv[0] || !*argv[0] || strchr(argv[0], '"')) {
    errno = EINVAL;
    return NULL;
  }
  size_t cap = strlen(argv[0]) + 3;
  for (size_t i = 1; argv[i]; i++) {
    size_t q = quoted_max(argv[i]) + 1;
    if (cap > SIZE_MAX / 2 - q) {
      errno = E2BIG;
      return NULL;
    }
    cap += q;
  }
  char *line = malloc(cap);
  if (!line) {
    errno = ENOMEM;
    return NULL;
  }
  char *o = line;
  /* argv[0]: no escapes exist for it, so quotes only when it has blanks;
   * it cannot end up with a trailing backslash (it names a file). */
  bool q0 = strpbrk(argv[0], " \t") != NULL;
  if (q0) *o++ = '"';
  size_t n0 = strlen(argv[0]);
  memcpy(o, argv[0], n0);
  o += n0;
  if (q0) *o++ = '"';
  for (size_t i = 1; argv[i]; i++) {
    *o++ = ' ';
    o = put_arg(o, argv[i]);
  }
  *o = '\0';
  if (utf16_units(line) + 1 > CMDLINE_MAX_UNITS) {
    free(line);
    errno = E2BIG;
    return NULL;
  }
  return line;
}
