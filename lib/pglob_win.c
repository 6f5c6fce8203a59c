/*
 * pglob_win.c - pglob over FindFirstFileExW (pglob.h).
 *
 * Wildcards are '*' and '?' in the last path component, as cmd.exe
 * accepts them; '[' is an ordinary file name character on Windows. The
 * directory part is kept exactly as written ("logs\*.etl" gives
 * "logs\a.etl"), and the matches of one pattern are sorted by byte value
 * like glob(3) in the C locale. FindFirstFileW also matches 8.3 short
 * names ("*.etl" would find "x.etl_old" through "X~1.ETL"), so every name
 * it returns is checked again against the pattern here, ignoring ASCII
 * case as NTFS does.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/pglob.h"

#include "lib/winapi.h"

#include <stdlib.h>
#include <string.h>
#include <windows.h>

bool
pglob_has_wildcard(const char *p)
{
  return strpbrk(p, "*?");
}

static int
add(struct pglob *g, const char *dir, size_t dlen, const char *name)
{
  char **np = realloc(g->paths, (g->n + 1) * sizeof *np);
  if (!np) return -1;
  g->paths = np;
  size_t nlen = strlen(name);
  char *c = malloc(dlen + nlen + 1);
  if (!c) return -1;
  memcpy(c, dir, dlen);
  memcpy(c + dlen, name, nlen + 1);
  g->paths[g->n++] = c;
  return 0;
}

static unsigned char
lower(unsigned char c)
{
  return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Length of the UTF-8 sequence starting at s (1 for a stray byte). */
static size_t
u8len(const char *s)
{
  unsigned char c = (unsigned char)*s;
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  for (size_t i = 1; i < n; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) return 1;
  return n;
}

/* match - '*' is any run of characters, '?' one character. On a mismatch
 * after a '*', that '*' takes one more character and matching resumes
 * (the usual single-backtrack glob loop: linear in practice). */
static bool
match(const char *pat, const char *name)
{
  const char *star = NULL, *resume = NULL;
  while (*name) {
    if (*pat == '*') {
      star = ++pat;
      resume = name;
    } else if (*pat == '?') {
      pat++;
      name += u8len(name);
    } else if (*pat &&
               lower((unsigned char)*pat) == lower((unsigned char)*name)) {
      pat++;
      name++;
    } else if (star) {
      pat = star;
      resume += u8len(resume);
      name = resume;
    } else {
      return false;
    }
  }
  while (*pat == '*')
    pat++;
  return *pat == 0;
}

static int
cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Free the names collected so far; returns rc. */
static int
drop(char **names, size_t n, int rc)
{
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return rc;
}

int
pglob_expand(struct pglob *g, const char *pattern)
{
  if (!pglob_has_wildcard(pattern))
    return add(g, pattern, strlen(pattern), "") == 0 ? 1 : -1;
  /* The directory part ends after the last separator or drive colon. */
  size_t dlen = 0;
  for (size_t i = 0; pattern[i]; i++)
    if (pattern[i] == '/' || pattern[i] == '\\' ||
        (i == 1 && pattern[i] == ':'))
      dlen = i + 1;
  const char *base = pattern + dlen;
  for (size_t i = 0; i < dlen; i++)
    if (pattern[i] == '*' || pattern[i] == '?')
      return 0; /* wildcards only in the last component */
  wchar_t *w = win_path(pattern);
  if (!w) return -1;
  WIN32_FIND_DATAW fd;
  HANDLE h = FindFirstFileExW(w, FindExInfoBasic, &fd, FindExSearchNameMatch,
                              NULL, FIND_FIRST_EX_LARGE_FETCH);
  free(w);
  if (h == INVALID_HANDLE_VALUE)
    return 0; /* no match, or no such directory: nothing to read */
  char **names = NULL;
  size_t n = 0, cap = 0;
  do {
    const wchar_t *fn = fd.cFileName;
    if (wcscmp(fn, L".") == 0 || wcscmp(fn, L"..") == 0) continue;
    char *name = win_utf8(fn, -1);
    if (!name) {
      FindClose(h);
      return drop(names, n, -1);
    }
    if (!match(base, name)) {
      free(name);
      continue;
    }
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      char **nn = realloc(names, ncap * sizeof *nn);
      if (!nn) {
        free(name);
        FindClose(h);
        return drop(names, n, -1);
      }
      names = nn;
      cap = ncap;
    }
    names[n++] = name;
  } while (FindNextFileW(h, &fd));
  FindClose(h);
  if (n > 1) qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++)
    if (add(g, pattern, dlen, names[i]) != 0) return drop(names, n, -1);
  return drop(names, n, (int)n);
}

void
pglob_free(struct pglob *g)
{
  for (size_t i = 0; i < g->n; i++)
    free(g->paths[i]);
  free(g->paths);
  g->paths = NULL;
  g->n = 0;
}
