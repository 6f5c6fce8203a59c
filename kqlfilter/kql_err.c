/*
 * kql_err.c - query error messages with the line and a caret, like jq's.
 *
 * Positions are byte spans; line and column are worked out only here,
 * when a message is rendered. Also the "did you mean" helper: the known
 * names nearest to an unknown one by edit distance.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void
kql_err_render(const struct kql_src *s, struct kql_loc at, const char *msg,
               char *out, size_t cap)
{
  size_t start = at.start <= s->len ? at.start : s->len;
  size_t end = at.end <= s->len ? at.end : s->len;
  if (end < start) end = start;
  size_t ls = start;
  while (ls > 0 && s->text[ls - 1] != '\n')
    ls--;
  size_t le = start;
  while (le < s->len && s->text[le] != '\n' && s->text[le] != '\r')
    le++;
  unsigned line = 1;
  for (size_t i = 0; i < ls; i++)
    line += s->text[i] == '\n';
  /* Column in characters (UTF-8 continuation bytes do not count). */
  unsigned col = 1;
  for (size_t i = ls; i < start; i++)
    col += ((unsigned char)s->text[i] & 0xC0) != 0x80;
  if (end > le) end = le;
  size_t ncaret = end > start ? end - start : 1;
  int n = snprintf(out, cap, "%s:%u:%u: error: %s\n", s->name, line, col, msg);
  if (n < 0 || (size_t)n >= cap) return;
  size_t k = (size_t)n;
  size_t linelen = le - ls;
  if (linelen > 200) linelen = 200;
  if (k + linelen + 2 >= cap) return;
  /* Control bytes would garble the terminal: show them as '?'. */
  for (size_t i = 0; i < linelen; i++) {
    unsigned char ch = (unsigned char)s->text[ls + i];
    out[k++] = ch < 0x20 && ch != '\t' ? '?' : (char)ch;
  }
  out[k++] = '\n';
  for (size_t i = ls; i < start && k + 2 < cap; i++)
    if (((unsigned char)s->text[i] & 0xC0) != 0x80)
      out[k++] = s->text[i] == '\t' ? '\t' : ' ';
  for (size_t i = 0; i < ncaret && k + 2 < cap; i++)
    out[k++] = '^';
  out[k] = 0;
}

static size_t
edit_distance(const char *a, size_t an, const char *b, size_t bn)
{
  size_t row[64];
  if (an >= 63 || bn >= 63) return 99;
  for (size_t j = 0; j <= bn; j++)
    row[j] = j;
  for (size_t i = 1; i <= an; i++) {
    size_t prev = row[0];
    row[0] = i;
    for (size_t j = 1; j <= bn; j++) {
      size_t cur = row[j];
      size_t cost =
          tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1])
              ? 0
              : 1;
      size_t v = prev + cost;
      if (row[j] + 1 < v) v = row[j] + 1;
      if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
      row[j] = v;
      prev = cur;
    }
  }
  return row[bn];
}

void
kql_suggest(const char *name, size_t n, const char *const *cands, size_t ncands,
            char *out, size_t cap)
{
  size_t best = 99;
  out[0] = 0;
  size_t limit = n <= 3 ? 1 : n <= 6 ? 2 : 3;
  for (size_t i = 0; i < ncands; i++) {
    size_t d = edit_distance(name, n, cands[i], strlen(cands[i]));
    if (d < best) best = d;
  }
  if (best > limit) return;
  size_t k = 0;
  int shown = 0;
  for (size_t i = 0; i < ncands && shown < 3; i++) {
    if (edit_distance(name, n, cands[i], strlen(cands[i])) != best) continue;
    int w = snprintf(out + k, cap - k, "%s'%s'", shown ? ", " : "", cands[i]);
    if (w < 0 || (size_t)w >= cap - k) break;
    k += (size_t)w;
    shown++;
  }
}
