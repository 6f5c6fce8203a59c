/*
 * kql_json.c - the zero-copy JSON scanner of the NDJSON hot path.
 *
 * No tree is built per row: kql_json_skip() validates and steps over a
 * value, kql_json_value() turns one value's text into a struct kql_val
 * (strings point into the line unless they hold escapes; arrays and
 * objects stay as text, "lazy", until something needs their parts).
 * Rows that pass unchanged are written from their original bytes by the
 * caller. performance.md explains why.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 256

const char *
kql_json_ws(const char *p, const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Nonzero when one of the 8 bytes of x equals c (SWAR). */
static inline uint64_t
has_byte(uint64_t x, unsigned char c)
{
  uint64_t y = x ^ (ONES * c);
  return (y - ONES) & ~y & HIGHS;
}

/* Past the closing quote of the string at p, or NULL. Strings in events
 * are short, so this scans 8 bytes at a time for '"' or '\\' instead of
 * paying memchr's call per string. */
static const char *
skip_string(const char *p, const char *end)
{
  p++; /* opening quote */
  while (end - p >= 8) {
    uint64_t x;
    memcpy(&x, p, 8);
    if (!(has_byte(x, '"') | has_byte(x, '\\'))) {
      p += 8;
      continue;
    }
    for (int i = 0; i < 8; i++, p++) {
      if (*p == '"') return p + 1;
      if (*p == '\\') {
        p += 2;
        goto next;
      }
    }
  next:;
  }
  while (p < end) {
    if (*p == '"') return p + 1;
    p += *p == '\\' ? 2 : 1;
  }
  return NULL;
}

static const char *
skip_number(const char *p, const char *end)
{
  const char *s = p;
  if (p < end && *p == '-') p++;
  const char *d = p;
  while (p < end && *p >= '0' && *p <= '9')
    p++;
  if (p == d) return NULL;
  if (p < end && *p == '.') {
    p++;
    d = p;
    while (p < end && *p >= '0' && *p <= '9')
      p++;
    if (p == d) return NULL;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-')) p++;
    d = p;
    while (p < end && *p >= '0' && *p <= '9')
      p++;
    if (p == d) return NULL;
  }
  (void)s;
  return p;
}

const char *
kql_json_skip(const char *p, const char *end, int depth)
{
  p = kql_json_ws(p, end);
  if (p >= end || depth > MAX_DEPTH) return NULL;
  switch (*p) {
  case '"':
    return skip_string(p, end);
  case '{':
    p = kql_json_ws(p + 1, end);
    if (p < end && *p == '}') return p + 1;
    for (;;) {
      if (p >= end || *p != '"') return NULL;
      p = skip_string(p, end);
      if (!p) return NULL;
      p = kql_json_ws(p, end);
      if (p >= end || *p != ':') return NULL;
      p = kql_json_skip(p + 1, end, depth + 1);
      if (!p) return NULL;
      p = kql_json_ws(p, end);
      if (p < end && *p == ',') {
        p = kql_json_ws(p + 1, end);
        continue;
      }
      if (p < end && *p == '}') return p + 1;
      return NULL;
    }
  case '[':
    p = kql_json_ws(p + 1, end);
    if (p < end && *p == ']') return p + 1;
    for (;;) {
      p = kql_json_skip(p, end, depth + 1);
      if (!p) return NULL;
      p = kql_json_ws(p, end);
      if (p < end && *p == ',') {
        p++;
        continue;
      }
      if (p < end && *p == ']') return p + 1;
      return NULL;
    }
  case 't':
    return end - p >= 4 && !memcmp(p, "true", 4) ? p + 4 : NULL;
  case 'f':
    return end - p >= 5 && !memcmp(p, "false", 5) ? p + 5 : NULL;
  case 'n':
    return end - p >= 4 && !memcmp(p, "null", 4) ? p + 4 : NULL;
  default:
    return skip_number(p, end);
  }
}

static int
hexv(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static size_t
put_utf8(char *o, uint32_t cp)
{
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | cp >> 6);
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | cp >> 12);
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | cp >> 18);
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

static uint32_t
hex4(const char *p, const char *end, bool *ok)
{
  uint32_t v = 0;
  if (end - p < 4) {
    *ok = false;
    return 0;
  }
  for (int i = 0; i < 4; i++) {
    int h = hexv(p[i]);
    if (h < 0) {
      *ok = false;
      return 0;
    }
    v = v << 4 | (uint32_t)h;
  }
  return v;
}

struct kql_val
kql_json_string(struct kql_arena *a, const char *p, size_t n)
{
  const char *s = p + 1;
  size_t len = n >= 2 ? n - 2 : 0;
  if (!memchr(s, '\\', len)) return kql_v_str(s, len);
  char *o = kql_alloc(a, len + 1);
  size_t k = 0;
  const char *end = s + len;
  while (s < end) {
    if (*s != '\\') {
      o[k++] = *s++;
      continue;
    }
    s++;
    if (s >= end) break;
    char c = *s++;
    switch (c) {
    case 'n':
      o[k++] = '\n';
      break;
    case 't':
      o[k++] = '\t';
      break;
    case 'r':
      o[k++] = '\r';
      break;
    case 'b':
      o[k++] = '\b';
      break;
    case 'f':
      o[k++] = '\f';
      break;
    case 'u': {
      bool ok = true;
      uint32_t cp = hex4(s, end, &ok);
      if (!ok) {
        o[k++] = '?';
        break;
      }
      s += 4;
      if (cp >= 0xD800 && cp <= 0xDBFF && end - s >= 6 && s[0] == '\\' &&
          s[1] == 'u') {
        uint32_t lo = hex4(s + 2, end, &ok);
        if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          s += 6;
        }
      }
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
      /* \uXXXX takes 6 bytes of input and at most 3 of output; a pair
       * takes 12 and gives 4, so the output never outgrows len. */
      k += put_utf8(o + k, cp);
      break;
    }
    default:
      o[k++] = c;
    }
  }
  o[k] = 0;
  return kql_v_str(o, k);
}

static void
parse_number(const char *p, size_t n, struct kql_val *out)
{
  char b[64];
  bool isint = true;
  for (size_t i = 0; i < n; i++)
    if (p[i] == '.' || p[i] == 'e' || p[i] == 'E') {
      isint = false;
      break;
    }
  if (isint && n <= 18) {
    int64_t v = 0;
    size_t i = p[0] == '-';
    for (; i < n; i++)
      v = v * 10 + (p[i] - '0');
    *out = kql_v_long(p[0] == '-' ? -v : v);
    return;
  }
  if (n >= sizeof b) {
    *out = kql_v_null(KQL_T_REAL);
    return;
  }
  memcpy(b, p, n);
  b[n] = 0;
  if (isint) {
    char *e;
    long long v = strtoll(b, &e, 10);
    if (v != LLONG_MAX && v != LLONG_MIN) {
      *out = kql_v_long(v);
      return;
    }
    /* Above 2^63-1: keep it as a real rather than fail. */
  }
  *out = kql_v_real(strtod(b, NULL));
}

void
kql_json_value(struct kql_arena *a, const char *p, size_t n, bool dyn,
               struct kql_val *out)
{
  const char *end = p + n;
  p = kql_json_ws(p, end);
  while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
                     end[-1] == '\r'))
    end--;
  n = (size_t)(end - p);
  if (!n) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  switch (*p) {
  case '"':
    *out = kql_json_string(a, p, n);
    break;
  case '{':
  case '[':
    out->t = *p == '{' ? KQL_T_BAG : KQL_T_ARRAY;
    out->null = 0;
    out->dyn = 1;
    out->lazy = 1;
    out->u.s = p;
    out->n = (uint32_t)n;
    return;
  case 't':
    *out = kql_v_bool(true);
    break;
  case 'f':
    *out = kql_v_bool(false);
    break;
  case 'n':
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  default:
    parse_number(p, n, out);
  }
  out->dyn = dyn;
}

bool
kql_json_parse_text(struct kql_arena *a, const char *p, size_t n,
                    struct kql_val *out)
{
  const char *end = p + n;
  const char *q = kql_json_skip(p, end, 0);
  if (!q || kql_json_ws(q, end) != end) return false;
  /* The value may point into p: keep a private copy. */
  char *c = kql_memdup(a, p, n);
  kql_json_value(a, c, n, true, out);
  return true;
}
