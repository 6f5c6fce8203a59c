/*
 * jsonw.h - a fast append-only JSON writer into a growable byte buffer.
 *
 * The writer keeps a stack of open containers and inserts commas itself,
 * so callers only say what comes next (key, value, begin, end). Strings
 * are escaped per RFC 8259; invalid UTF-8 bytes are replaced by U+FFFD so
 * the output is always valid UTF-8. The caller owns struct jsonw and
 * drains w->buf (w->len bytes) whenever it likes (jw_reset keeps the
 * allocation). Allocation failure sets w->oom and later calls do nothing.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_JSONW_H
#define RTK_JSONW_H

#include "lib/platform.h"

#define JW_MAX_DEPTH 64

struct jsonw {
  char *buf;
  size_t len;
  size_t cap;
  int depth;
  bool oom;
  bool after_key;           /* a key was written; its value needs no comma */
  bool first[JW_MAX_DEPTH]; /* no element written yet at this depth */
};

void jw_init(struct jsonw *w);
void jw_free(struct jsonw *w);
/* jw_reset - empty the buffer (keep capacity) and forget open containers. */
void jw_reset(struct jsonw *w);
/* jw_reserve - make room for n more bytes; false on OOM. */
bool jw_reserve(struct jsonw *w, size_t n);

void jw_obj_begin(struct jsonw *w);
void jw_obj_end(struct jsonw *w);
void jw_arr_begin(struct jsonw *w);
void jw_arr_end(struct jsonw *w);
/* jw_key - write an object key (NUL-terminated UTF-8). */
void jw_key(struct jsonw *w, const char *k);
void jw_keyn(struct jsonw *w, const char *k, size_t n);

void jw_null(struct jsonw *w);
void jw_bool(struct jsonw *w, bool v);
void jw_i64(struct jsonw *w, int64_t v);
void jw_u64(struct jsonw *w, uint64_t v);
/* jw_double - shortest text that reads back to v; NaN/Inf as strings. */
void jw_double(struct jsonw *w, double v);
void jw_str(struct jsonw *w, const char *s);
void jw_strn(struct jsonw *w, const char *s, size_t n);
/* jw_str_utf16le - n bytes of UTF-16LE (stops at a NUL unit); unpaired
 * surrogates become U+FFFD. */
void jw_str_utf16le(struct jsonw *w, const uint8_t *p, size_t nbytes);
/* jw_str_latin1 - 8-bit text: valid UTF-8 is kept, other bytes are read
 * as Latin-1. Stops at a NUL. */
void jw_str_8bit(struct jsonw *w, const uint8_t *p, size_t n);
/* jw_hex_str - "0x1A2B": uppercase hex of v, no padding. */
void jw_hex_str(struct jsonw *w, uint64_t v);
/* jw_bytes_hex - bytes as a string of uppercase hex pairs, no prefix. */
void jw_bytes_hex(struct jsonw *w, const uint8_t *p, size_t n);
/* jw_raw - append already-valid JSON text as the next value. */
void jw_raw(struct jsonw *w, const char *s, size_t n);
/* jw_raw_members - append text holding complete object members, each
 * preceded by ',' (",\"a\":1,\"b\":2"), to an object that already has at
 * least one member. */
void jw_raw_members(struct jsonw *w, const char *s, size_t n);
/* jw_guid - 16 bytes in Windows layout as a lowercase string. */
void jw_guid(struct jsonw *w, const uint8_t g[16]);
/* jw_newline - end a top-level value with '\n'. */
void jw_newline(struct jsonw *w);

/* A position to roll back to: jw_mark before writing something that may
 * fail half-way (a payload), jw_rollback to drop what was written. */
struct jw_mark {
  size_t len;
  int depth;
  bool first;
  bool after_key;
};
struct jw_mark jw_mark(const struct jsonw *w);
void jw_rollback(struct jsonw *w, struct jw_mark m);

/* jw_plain - 1 for bytes a JSON string holds as they are (printable
 * ASCII but '"' and '\\'); formatters that copy text fast use it. */
extern const bool jw_plain[256];

/* Helpers shared with other formatters. */
/* guid_fmt - 36 chars + NUL into out, lowercase, no braces. */
void guid_fmt(const uint8_t g[16], char out[37]);
/* filetime_fmt - ticks since 1601 as "YYYY-MM-DDTHH:MM:SS.fffffffZ"
 * (digits = 7) or with 3 digits; returns length. out >= 40 bytes. */
size_t filetime_fmt(int64_t ticks, int digits, bool z, char *out);

#endif
