/*
 * sink_json.c - one-pass JSON object validator (see sink_json.h).
 *
 * The hot loop is string content, which is most of a row's bytes: it
 * looks at 8 bytes at a time and stops only at a quote, a backslash, a
 * control byte or a non-ASCII byte (the usual "has a zero byte" trick),
 * then handles that byte alone. Containers are tracked in a bit stack.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/sink_json.h"

#include "lib/bytes.h"

#include <string.h>

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Nonzero when some byte of v is zero. */
#define HASZERO(v) (((v)-ONES) & ~(v)&HIGHS)

/* Index of the lowest byte of m with its high bit set (m != 0). */
static unsigned
first_flag(uint64_t m)
{
#if defined(__GNUC__) || defined(__clang__)
  return (unsigned)__builtin_ctzll(m) / 8;
#else
  unsigned i = 0;
  while (!(m & 0x80))
    m >>= 8, i++;
  return i;
#endif
}

static bool
is_ws(unsigned char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool
is_hex(unsigned char c)
{
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* Length of the valid UTF-8 sequence at s[0, n) starting with a byte >=
 * 0x80, or 0 if invalid (overlong, surrogate, > U+10FFFF, truncated). */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
  unsigned char c = s[0];
  if (c >= 0xC2 && c <= 0xDF) return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && s[1] < 0xA0) return 0;  /* overlong */
    if (c == 0xED && s[1] >= 0xA0) return 0; /* UTF-16 surrogate */
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
        (s[3] & 0xC0) != 0x80)
      return 0;
    if (c == 0xF0 && s[1] < 0x90) return 0;  /* overlong */
    if (c == 0xF4 && s[1] >= 0x90) return 0; /* above U+10FFFF */
    return 4;
  }
  return 0;
}

/* Scan a string whose opening quote is at s[*i - 1]; on success *i is
 * just past the closing quote. */
static int
scan_string(const unsigned char *s, size_t n, size_t *i, const char **why)
{
  size_t k = *i;
  for (;;) {
    while (n - k >= 8) {
      uint64_t v = le64(s + k); /* byte i is bits 8i..8i+7 anywhere */
      uint64_t q = v ^ (ONES * '"');
      uint64_t b = v ^ (ONES * '\\');
      uint64_t m = HASZERO(q) | HASZERO(b) | ((v - ONES * 0x20) & ~v & HIGHS) |
                   (v & HIGHS);
      if (m) {
        /* The lowest flagged byte is exact (false flags only appear above
         * a true one), so jump straight to it. */
        k += first_flag(m);
        break;
      }
      k += 8;
    }
    if (k >= n) {
      *i = k;
      *why = "unterminated string";
      return -1;
    }
    unsigned char c = s[k];
    if (c == '"') {
      *i = k + 1;
      return 0;
    }
    if (c == '\\') {
      if (k + 1 >= n) {
        *i = k;
        *why = "unterminated string";
        return -1;
      }
      unsigned char e = s[k + 1];
      if (e == 'u') {
        if (n - k < 6 || !is_hex(s[k + 2]) || !is_hex(s[k + 3]) ||
            !is_hex(s[k + 4]) || !is_hex(s[k + 5])) {
          *i = k;
          *why = "bad \\u escape";
          return -1;
        }
        k += 6;
        continue;
      }
      if (!strchr("\"\\/bfnrt", e) || e == 0) {
        *i = k;
        *why = "bad escape in string";
        return -1;
      }
      k += 2;
      continue;
    }
    if (c < 0x20) {
      *i = k;
      *why = "control character in string";
      return -1;
    }
    if (c >= 0x80) {
      size_t len = utf8_seq(s + k, n - k);
      if (!len) {
        *i = k;
        *why = "invalid UTF-8";
        return -1;
      }
      k += len;
      continue;
    }
    k++; /* an ASCII byte in the last 8 */
  }
}

static int
scan_number(const unsigned char *s, size_t n, size_t *i, const char **why)
{
  size_t k = *i;
  if (k < n && s[k] == '-') k++;
  if (k < n && s[k] == '0') {
    k++;
  } else if (k < n && s[k] >= '1' && s[k] <= '9') {
    while (k < n && s[k] >= '0' && s[k] <= '9')
      k++;
  } else {
    *i = k;
    *why = "bad number";
    return -1;
  }
  if (k < n && s[k] == '.') {
    k++;
    if (k >= n || s[k] < '0' || s[k] > '9') {
      *i = k;
      *why = "bad number";
      return -1;
    }
    while (k < n && s[k] >= '0' && s[k] <= '9')
      k++;
  }
  if (k < n && (s[k] == 'e' || s[k] == 'E')) {
    k++;
    if (k < n && (s[k] == '+' || s[k] == '-')) k++;
    if (k >= n || s[k] < '0' || s[k] > '9') {
      *i = k;
      *why = "bad number";
      return -1;
    }
    while (k < n && s[k] >= '0' && s[k] <= '9')
      k++;
  }
  *i = k;
  return 0;
}

static int
scan_literal(const unsigned char *s, size_t n, size_t *i, const char **why)
{
  static const char *const words[] = {"true", "false", "null"};
  for (size_t w = 0; w < 3; w++) {
    size_t len = strlen(words[w]);
    if (n - *i >= len && memcmp(s + *i, words[w], len) == 0) {
      *i += len;
      return 0;
    }
  }
  *why = "unexpected character";
  return -1;
}

int
sink_json_object(const char *p, size_t n, size_t *start, size_t *end,
                 const char **why)
{
  const unsigned char *s = (const unsigned char *)p;
  uint8_t stack[SINK_JSON_MAX_DEPTH / 8]; /* bit set: array, clear: object */
  int depth = 0;
  size_t i = 0;

  while (i < n && is_ws(s[i]))
    i++;
  if (i >= n) {
    *why = "empty line";
    goto fail;
  }
  if (s[i] != '{') {
    *why = "not a JSON object";
    goto fail;
  }
  *start = i;
  i++;
  stack[0] = 0;
  depth = 1;
  bool in_array;
  /* At the top of an object: a key or '}'. */
object_first:
  while (i < n && is_ws(s[i]))
    i++;
  if (i < n && s[i] == '}') {
    i++;
    goto closed;
  }
object_key:
  while (i < n && is_ws(s[i]))
    i++;
  if (i >= n || s[i] != '"') {
    *why = i >= n ? "unexpected end of line" : "expected a string key";
    goto fail;
  }
  i++;
  if (scan_string(s, n, &i, why) != 0) goto fail;
  while (i < n && is_ws(s[i]))
    i++;
  if (i >= n || s[i] != ':') {
    *why = i >= n ? "unexpected end of line" : "expected ':'";
    goto fail;
  }
  i++;
value:
  while (i < n && is_ws(s[i]))
    i++;
  if (i >= n) {
    *why = "unexpected end of line";
    goto fail;
  }
  switch (s[i]) {
  case '"':
    i++;
    if (scan_string(s, n, &i, why) != 0) goto fail;
    break;
  case '{':
  case '[':
    if (depth >= SINK_JSON_MAX_DEPTH) {
      *why = "nesting too deep";
      goto fail;
    }
    if (s[i] == '[')
      stack[depth / 8] |= (uint8_t)(1u << (depth % 8));
    else
      stack[depth / 8] &= (uint8_t) ~(1u << (depth % 8));
    depth++;
    if (s[i++] == '{') goto object_first;
    while (i < n && is_ws(s[i]))
      i++;
    if (i < n && s[i] == ']') {
      i++;
      goto closed;
    }
    goto value;
  case 't':
  case 'f':
  case 'n':
    if (scan_literal(s, n, &i, why) != 0) goto fail;
    break;
  default:
    if (s[i] == '-' || (s[i] >= '0' && s[i] <= '9')) {
      if (scan_number(s, n, &i, why) != 0) goto fail;
      break;
    }
    *why = "unexpected character";
    goto fail;
  }
after_value:
  while (i < n && is_ws(s[i]))
    i++;
  if (i >= n) {
    *why = "unexpected end of line";
    goto fail;
  }
  in_array = (stack[(depth - 1) / 8] >> ((depth - 1) % 8)) & 1;
  if (s[i] == ',') {
    i++;
    if (in_array) goto value;
    goto object_key;
  }
  if (s[i] == (in_array ? ']' : '}')) {
    i++;
    goto closed;
  }
  *why = in_array ? "expected ',' or ']'" : "expected ',' or '}'";
  goto fail;
closed:
  depth--;
  if (depth > 0) goto after_value;
  *end = i;
  while (i < n && is_ws(s[i]))
    i++;
  if (i < n) {
    *why = "text after the object";
    goto fail;
  }
  return 0;
fail:
  *start = i;
  return -1;
}
