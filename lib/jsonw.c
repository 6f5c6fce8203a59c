/*
 * jsonw.c - append-only JSON writer (see jsonw.h).
 *
 * Hot path of every program that writes NDJSON: no printf, no per-value
 * allocation once the buffer has grown. Escaping works on runs of plain
 * bytes so typical ASCII strings cost one memcpy.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
jw_init(struct jsonw *w)
{
  memset(w, 0, sizeof *w);
  w->first[0] = true;
}

void
jw_free(struct jsonw *w)
{
  free(w->buf);
  memset(w, 0, sizeof *w);
}

void
jw_reset(struct jsonw *w)
{
  w->len = 0;
  w->depth = 0;
  w->after_key = false;
  w->first[0] = true;
}

static bool
grow(struct jsonw *w, size_t n)
{
  if (w->oom) return false;
  size_t cap = w->cap ? w->cap : 4096;
  while (cap - w->len < n) {
    if (cap > SIZE_MAX / 2) {
      w->oom = true;
      return false;
    }
    cap *= 2;
  }
  char *p = realloc(w->buf, cap);
  if (!p) {
    w->oom = true;
    return false;
  }
  w->buf = p;
  w->cap = cap;
  return true;
}

struct jw_mark
jw_mark(const struct jsonw *w)
{
  struct jw_mark m = {w->len, w->depth, w->first[w->depth], w->after_key};
  return m;
}

void
jw_rollback(struct jsonw *w, struct jw_mark m)
{
  w->len = m.len;
  w->depth = m.depth;
  w->first[m.depth] = m.first;
  w->after_key = m.after_key;
}

bool
jw_reserve(struct jsonw *w, size_t n)
{
  return (w->cap - w->len >= n && !w->oom) || grow(w, n);
}

static inline bool
room(struct jsonw *w, size_t n)
{
  return (w->cap - w->len >= n && !w->oom) || grow(w, n);
}

static inline void
put(struct jsonw *w, const char *s, size_t n)
{
  if (!room(w, n)) return;
  memcpy(w->buf + w->len, s, n);
  w->len += n;
}

static inline void
putc1(struct jsonw *w, char c)
{
  if (!room(w, 1)) return;
  w->buf[w->len++] = c;
}

/* Separator before a value: none right after a key or for the first
 * element of a container; top-level values are separated by jw_newline. */
static inline void
sep(struct jsonw *w)
{
  if (w->after_key) {
    w->after_key = false;
    return;
  }
  if (w->first[w->depth])
    w->first[w->depth] = false;
  else if (w->depth > 0)
    putc1(w, ',');
}

void
jw_obj_begin(struct jsonw *w)
{
  sep(w);
  putc1(w, '{');
  if (w->depth + 1 < JW_MAX_DEPTH) w->depth++;
  w->first[w->depth] = true;
}

void
jw_obj_end(struct jsonw *w)
{
  putc1(w, '}');
  if (w->depth > 0) w->depth--;
}

void
jw_arr_begin(struct jsonw *w)
{
  sep(w);
  putc1(w, '[');
  if (w->depth + 1 < JW_MAX_DEPTH) w->depth++;
  w->first[w->depth] = true;
}

void
jw_arr_end(struct jsonw *w)
{
  putc1(w, ']');
  if (w->depth > 0) w->depth--;
}

static const char hexd[] = "0123456789ABCDEF";
static const char hexl[] = "0123456789abcdef";

/* Bytes that need no escaping in a JSON string: printable ASCII other than
 * '"' and '\\'. Bytes >= 0x80 are checked as UTF-8 separately. A table,
 * because this test runs once per output byte. */
const bool jw_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static inline bool
plain(unsigned char c)
{
  return jw_plain[c];
}

static void
put_escape(struct jsonw *w, unsigned char c)
{
  char e[6] = {'\\', 0, 0, 0, 0, 0};
  switch (c) {
  case '"':
    e[1] = '"';
    put(w, e, 2);
    return;
  case '\\':
    e[1] = '\\';
    put(w, e, 2);
    return;
  case '\n':
    e[1] = 'n';
    put(w, e, 2);
    return;
  case '\r':
    e[1] = 'r';
    put(w, e, 2);
    return;
  case '\t':
    e[1] = 't';
    put(w, e, 2);
    return;
  case '\b':
    e[1] = 'b';
    put(w, e, 2);
    return;
  case '\f':
    e[1] = 'f';
    put(w, e, 2);
    return;
  default:
    e[1] = 'u';
    e[2] = '0';
    e[3] = '0';
    e[4] = hexl[c >> 4];
    e[5] = hexl[c & 15];
    put(w, e, 6);
  }
}

/* Length of a valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && s[1] < 0xA0) return 0;
    if (c == 0xED && s[1] >= 0xA0) /* UTF-16 surrogates */
      return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
        (s[3] & 0xC0) != 0x80)
      return 0;
    if (c == 0xF0 && s[1] < 0x90) return 0;
    if (c == 0xF4 && s[1] >= 0x90) return 0;
    return 4;
  }
  return 0;
}

static void
put_utf8_cp(struct jsonw *w, uint32_t cp)
{
  char b[4];
  if (cp < 0x80) {
    unsigned char c = (unsigned char)cp;
    if (plain(c))
      putc1(w, (char)c);
    else
      put_escape(w, c);
    return;
  }
  if (cp < 0x800) {
    b[0] = (char)(0xC0 | cp >> 6);
    b[1] = (char)(0x80 | (cp & 0x3F));
    put(w, b, 2);
  } else if (cp < 0x10000) {
    b[0] = (char)(0xE0 | cp >> 12);
    b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    b[2] = (char)(0x80 | (cp & 0x3F));
    put(w, b, 3);
  } else {
    b[0] = (char)(0xF0 | cp >> 18);
    b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (char)(0x80 | (cp & 0x3F));
    put(w, b, 4);
  }
}

/* Escape n bytes of UTF-8 (invalid bytes become U+FFFD, or Latin-1 code
 * points when latin1 is set) without the surrounding quotes. */
static void
put_text(struct jsonw *w, const unsigned char *s, size_t n, bool latin1)
{
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && plain(s[j]))
      j++;
    if (j > i) put(w, (const char *)s + i, j - i);
    if (j >= n) break;
    unsigned char c = s[j];
    if (c < 0x80) {
      put_escape(w, c);
      i = j + 1;
      continue;
    }
    size_t k = utf8_len(s + j, n - j);
    if (k) {
      put(w, (const char *)s + j, k);
      i = j + k;
    } else {
      put_utf8_cp(w, latin1 ? c : 0xFFFD);
      i = j + 1;
    }
  }
}

void
jw_keyn(struct jsonw *w, const char *k, size_t n)
{
  bool comma = !w->first[w->depth];
  w->first[w->depth] = false;
  w->after_key = true;
  size_t i = 0;
  while (i < n && plain((unsigned char)k[i]))
    i++;
  if (i == n && room(w, n + 4)) {
    /* Plain key (the usual case): one copy. */
    char *o = w->buf + w->len;
    if (comma) *o++ = ',';
    *o++ = '"';
    memcpy(o, k, n);
    o += n;
    *o++ = '"';
    *o++ = ':';
    w->len = (size_t)(o - w->buf);
    return;
  }
  if (comma) putc1(w, ',');
  putc1(w, '"');
  put_text(w, (const unsigned char *)k, n, false);
  put(w, "\":", 2);
}

void
jw_key(struct jsonw *w, const char *k)
{
  jw_keyn(w, k, strlen(k));
}

void
jw_null(struct jsonw *w)
{
  sep(w);
  put(w, "null", 4);
}

void
jw_bool(struct jsonw *w, bool v)
{
  sep(w);
  if (v)
    put(w, "true", 4);
  else
    put(w, "false", 5);
}

static size_t
u64_text(uint64_t v, char *end)
{
  char *p = end;
  do {
    *--p = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  return (size_t)(end - p);
}

void
jw_u64(struct jsonw *w, uint64_t v)
{
  char b[24];
  size_t n = u64_text(v, b + sizeof b);
  sep(w);
  put(w, b + sizeof b - n, n);
}

void
jw_i64(struct jsonw *w, int64_t v)
{
  char b[24];
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  size_t n = u64_text(u, b + sizeof b);
  if (v < 0) b[sizeof b - ++n] = '-';
  sep(w);
  put(w, b + sizeof b - n, n);
}

void
jw_double(struct jsonw *w, double v)
{
  char b[40];
  if (isnan(v)) {
    jw_str(w, "NaN");
    return;
  }
  if (isinf(v)) {
    jw_str(w, v > 0 ? "Infinity" : "-Infinity");
    return;
  }
  /* Shortest of %.15g/%.16g/%.17g that reads back exactly. */
  int n = 0;
  for (int prec = 15; prec <= 17; prec++) {
    n = snprintf(b, sizeof b, "%.*g", prec, v);
    if (strtod(b, NULL) == v) break;
  }
  sep(w);
  put(w, b, (size_t)n);
}

void
jw_strn(struct jsonw *w, const char *s, size_t n)
{
  sep(w);
  putc1(w, '"');
  put_text(w, (const unsigned char *)s, n, false);
  putc1(w, '"');
}

void
jw_str(struct jsonw *w, const char *s)
{
  jw_strn(w, s, strlen(s));
}

void
jw_str_8bit(struct jsonw *w, const uint8_t *p, size_t n)
{
  const uint8_t *z = memchr(p, 0, n);
  if (z) n = (size_t)(z - p);
  sep(w);
  putc1(w, '"');
  put_text(w, p, n, true);
  putc1(w, '"');
}

void
jw_str_utf16le(struct jsonw *w, const uint8_t *p, size_t nbytes)
{
  sep(w);
  putc1(w, '"');
  size_t i = 0;
  while (i + 1 < nbytes) {
    uint32_t u = (uint32_t)(p[i] | p[i + 1] << 8);
    if (u == 0) break;
    i += 2;
    if (u < 0x80 && plain((unsigned char)u)) {
      putc1(w, (char)u);
      continue;
    }
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (i + 1 < nbytes) {
        uint32_t l = (uint32_t)(p[i] | p[i + 1] << 8);
        if (l >= 0xDC00 && l <= 0xDFFF) {
          i += 2;
          put_utf8_cp(w, 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00));
          continue;
        }
      }
      u = 0xFFFD;
    } else if (u >= 0xDC00 && u <= 0xDFFF) {
      u = 0xFFFD;
    }
    put_utf8_cp(w, u);
  }
  putc1(w, '"');
}

void
jw_hex_str(struct jsonw *w, uint64_t v)
{
  char b[20];
  char *p = b + sizeof b;
  *--p = '"';
  do {
    *--p = hexd[v & 15];
    v >>= 4;
  } while (v);
  *--p = 'x';
  *--p = '0';
  *--p = '"';
  sep(w);
  put(w, p, (size_t)(b + sizeof b - p));
}

void
jw_bytes_hex(struct jsonw *w, const uint8_t *p, size_t n)
{
  sep(w);
  if (n > (SIZE_MAX - 2) / 2 || !jw_reserve(w, 2 * n + 2)) return;
  char *o = w->buf + w->len;
  *o++ = '"';
  for (size_t i = 0; i < n; i++) {
    *o++ = hexd[p[i] >> 4];
    *o++ = hexd[p[i] & 15];
  }
  *o++ = '"';
  w->len = (size_t)(o - w->buf);
}

void
jw_raw_members(struct jsonw *w, const char *s, size_t n)
{
  w->first[w->depth] = false;
  put(w, s, n);
}

void
jw_raw(struct jsonw *w, const char *s, size_t n)
{
  sep(w);
  put(w, s, n);
}

void
guid_fmt(const uint8_t g[16], char out[37])
{
  static const int order[16] = {3, 2, 1,  0,  5,  4,  7,  6,
                                8, 9, 10, 11, 12, 13, 14, 15};
  char *o = out;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
    uint8_t b = g[order[i]];
    *o++ = hexl[b >> 4];
    *o++ = hexl[b & 15];
  }
  *o = 0;
}

void
jw_guid(struct jsonw *w, const uint8_t g[16])
{
  char b[38];
  b[0] = '"';
  guid_fmt(g, b + 1);
  b[37] = '"';
  sep(w);
  put(w, b, 38);
}

void
jw_newline(struct jsonw *w)
{
  putc1(w, '\n');
  w->first[0] = true;
}

/* Days since 1970-01-01 to civil date (proleptic Gregorian); the classic
 * era-based algorithm, exact for the whole int64 range we accept. */
static void
civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  unsigned doe = (unsigned)(days - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static char *
digits(char *o, uint64_t v, int n)
{
  for (int i = n - 1; i >= 0; i--) {
    o[i] = (char)('0' + v % 10);
    v /= 10;
  }
  return o + n;
}

size_t
filetime_fmt(int64_t ticks, int ndigits, bool z, char *out)
{
  /* FILETIME epoch 1601-01-01 is 134774 days before 1970-01-01. */
  const int64_t tpd = 864000000000LL;
  int64_t days = ticks / tpd, rem = ticks % tpd;
  if (rem < 0) {
    rem += tpd;
    days--;
  }
  days -= 134774;
  int64_t y;
  unsigned mo, d;
  civil(days, &y, &mo, &d);
  uint64_t secs = (uint64_t)rem / 10000000;
  uint64_t frac = (uint64_t)rem % 10000000;
  char *o = out;
  if (y < 0 || y > 9999) {
    int n = snprintf(out, 40, "%04lld", (long long)y);
    o = out + (n > 0 ? n : 0);
  } else {
    o = digits(o, (uint64_t)y, 4);
  }
  *o++ = '-';
  o = digits(o, mo, 2);
  *o++ = '-';
  o = digits(o, d, 2);
  *o++ = 'T';
  o = digits(o, secs / 3600, 2);
  *o++ = ':';
  o = digits(o, secs / 60 % 60, 2);
  *o++ = ':';
  o = digits(o, secs % 60, 2);
  if (ndigits > 0) {
    *o++ = '.';
    if (ndigits > 7) ndigits = 7;
    uint64_t f = frac;
    for (int i = ndigits; i < 7; i++)
      f /= 10;
    o = digits(o, f, ndigits);
  }
  if (z) *o++ = 'Z';
  *o = 0;
  return (size_t)(o - out);
}
