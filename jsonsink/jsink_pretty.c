/*
 * jsink_pretty.c - re-indent one valid JSON value, two spaces a level.
 *
 * The input has passed sink_json_object(), so this walk trusts the
 * grammar: it copies strings (minding escapes) and scalars, drops
 * insignificant whitespace, and puts each member and element on its own
 * line; empty containers stay "{}" and "[]".
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "jsonsink/jsink.h"

#include <string.h>

static bool
is_ws(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
newline(struct jsink *j, int depth)
{
  j->stage[j->stage_len++] = '\n';
  memset(j->stage + j->stage_len, ' ', (size_t)depth * 2);
  j->stage_len += (size_t)depth * 2;
}

int
jsink_pretty(struct jsink *j, const char *row, size_t n)
{
  int depth = 0;
  size_t i = 0;
  while (i < n) {
    /* Worst case per input byte: a newline and the indentation. */
    if (jsink_stage_reserve(j, 2 * (size_t)depth + 8 + 1) != 0) return -1;
    char c = row[i];
    if (is_ws(c)) {
      i++;
      continue;
    }
    if (c == '"') {
      size_t k = i + 1;
      while (k < n && row[k] != '"')
        k += row[k] == '\\' ? 2 : 1;
      k++; /* closing quote */
      if (jsink_stage_reserve(j, k - i) != 0) return -1;
      memcpy(j->stage + j->stage_len, row + i, k - i);
      j->stage_len += k - i;
      i = k;
      continue;
    }
    if (c == '{' || c == '[') {
      size_t k = i + 1;
      while (k < n && is_ws(row[k]))
        k++;
      char close = c == '{' ? '}' : ']';
      j->stage[j->stage_len++] = c;
      if (k < n && row[k] == close) {
        j->stage[j->stage_len++] = close;
        i = k + 1;
        continue;
      }
      depth++;
      newline(j, depth);
      i++;
      continue;
    }
    if (c == '}' || c == ']') {
      depth--;
      newline(j, depth);
      j->stage[j->stage_len++] = c;
      i++;
      continue;
    }
    if (c == ',') {
      j->stage[j->stage_len++] = ',';
      newline(j, depth);
      i++;
      continue;
    }
    if (c == ':') {
      j->stage[j->stage_len++] = ':';
      j->stage[j->stage_len++] = ' ';
      i++;
      continue;
    }
    size_t k = i; /* number or literal */
    while (k < n && !is_ws(row[k]) && !strchr(",:]}", row[k]))
      k++;
    if (jsink_stage_reserve(j, k - i) != 0) return -1;
    memcpy(j->stage + j->stage_len, row + i, k - i);
    j->stage_len += k - i;
    i = k;
  }
  if (jsink_stage_reserve(j, 1) != 0) return -1;
  j->stage[j->stage_len++] = '\n';
  return 0;
}
