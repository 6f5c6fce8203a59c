/*
 * evt_decode.c - walk a schema over an event payload, write EventData.
 *
 * The schema (evt_schema.h) is a flat field array: fields[0..ntop) are
 * the top-level fields, a struct names a slice [first, first + nmembers)
 * of the same array, and lengths and counts are fixed or taken from an
 * earlier field by its index in the array. The walker keeps the integer
 * value of every field it decoded (indexes below EVT_DEC_MAX_REFS) for
 * those references; the values of array elements and struct members are
 * the last ones decoded. Value formatting is in evt_format.c; the sizes
 * and rules are etw-schemas.md sections 2, 3, 5 and 7.
 *
 * Speed: a run of scalar integer members with plain names (the whole of
 * a Kernel-Network event) is formatted as `,"name":value` text into a
 * stack buffer and handed to the writer in one jw_raw_members call; any
 * other member goes through jw_keyn and the typed jw_* calls.
 *
 * Choices made here (the design notes leave them open):
 * - Bitmaps print the names of the matched masks joined by " | ", then
 *   any bits no mask matched as one hex number ("Read | Write | 0x100").
 *   A value no mask matches at all prints as a number, like an
 *   unmatched value map entry.
 * - A NUL-terminated string needs at least one unit (1 byte, UTF-16: 2)
 *   in the payload; the last one may lack its NUL and then ends with the
 *   payload. Counted strings (22, 23, 300-303) count bytes.
 * - win:Binary without a length is 16 bytes for out-type IPv6 and a
 *   schema error otherwise (TraceLogging's u16-counted binary must be
 *   compiled to EVT_IN_COUNTEDBINARY).
 * - A WbemSid whose first u32 is 0 prints as null; out-type NOPRINT
 *   fields are decoded (their values count for lengths) but not printed.
 * - FILETIMEs after 9999-12-31 print as the tick number.
 * - Duplicate names within one object get "_2", "_3"... in order.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "etwcat/evt_decode.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etwcat/evt_format.h"
#include "lib/bytes.h"

#define DEC_PRINTF(a, b) PLAT_PRINTF(a, b)

/* Objects with more members than this find duplicate names through a
 * hash table instead of comparing with the earlier members. */
#define SMALL_OBJ 64
/* Most members one object may have (the hash table has twice as many
 * slots). */
#define OBJ_MAX 1024
/* Longest name part of a key that gets a "_N" suffix. */
#define KEY_MAX 240
/* Longest name written through the member batch. */
#define KEY_FAST 96
/* Longest JSON text of an integer-typed value: a quoted FILETIME. */
#define VAL_MAX (EVT_FMT_TIME_MAX + 2)
/* Member batch: `,"name_N":value` texts, flushed before it can
 * overflow. */
#define BATCH 768
#define MEMBER_MAX (4 + KEY_FAST + EVT_FMT_U64_MAX + VAL_MAX)

struct dup_slot {
  uint32_t hash;
  uint16_t member; /* index within the object */
  uint16_t seen;   /* 0: empty slot; else how many members had the name */
};

struct dec {
  struct evt_registry *r;
  const struct evt_schema *s;
  const struct evt_field *f;
  unsigned nf;
  unsigned ptr; /* pointer size, 4 or 8 */
  bool tx;
  struct jsonw *w;
  struct br c;
  size_t budget; /* values this event may still produce */
  char *err;
  size_t errlen;
  unsigned nsuf; /* entries of suf held by open large objects */
  bool have[EVT_DEC_MAX_REFS];
  uint64_t val[EVT_DEC_MAX_REFS];
  uint16_t suf[EVT_DEC_MAX_MEMBERS];
  struct dup_slot tab[2 * OBJ_MAX];
};

static const uint8_t empty_payload[1];

static int dec_members(struct dec *d, unsigned first, unsigned n,
                       unsigned depth, struct evt_span *spans, size_t nspans);

const char *
evt_in_name(unsigned in)
{
  static const char *const names[] = {
      "Null",     "UnicodeString", "AnsiString",    "Int8",
      "UInt8",    "Int16",         "UInt16",        "Int32",
      "UInt32",   "Int64",         "UInt64",        "Float",
      "Double",   "Boolean",       "Binary",        "GUID",
      "Pointer",  "FILETIME",      "SYSTEMTIME",    "SID",
      "HexInt32", "HexInt64",      "CountedString", "CountedAnsiString",
      "Struct",   "CountedBinary"};
  static const char *const wbem[] = {"WbemCountedString",
                                     "WbemCountedAnsiString",
                                     "WbemReversedCountedString",
                                     "WbemReversedCountedAnsiString",
                                     "WbemNonNullTerminatedString",
                                     "WbemNonNullTerminatedAnsiString",
                                     "WbemUnicodeChar",
                                     "WbemAnsiChar",
                                     "WbemSizeT",
                                     "WbemHexDump",
                                     "WbemSid"};
  if (in < sizeof names / sizeof names[0]) return names[in];
  if (in >= 300 && in - 300 < sizeof wbem / sizeof wbem[0])
    return wbem[in - 300];
  return "in-type ?";
}

static int fail(struct dec *d, const char *fmt, ...) DEC_PRINTF(2, 3);

static int
fail(struct dec *d, const char *fmt, ...)
{
  if (d->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, d->errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static const char *
fname(const struct evt_field *f)
{
  return f->name ? f->name : "";
}

static bool
is_struct(const struct evt_field *f)
{
  return (f->flags & EVT_F_STRUCT) || f->in == EVT_IN_STRUCT;
}

static const char *
tname(const struct evt_field *f)
{
  return is_struct(f) ? "struct" : evt_in_name(f->in);
}

static size_t
left(const struct dec *d)
{
  return d->c.len - d->c.off;
}

static const uint8_t *
cur(const struct dec *d)
{
  return d->c.p + d->c.off;
}

/* The field starting at payload offset `at` needs `need` bytes from
 * there, and the payload ends before that. */
static int
fail_short(struct dec *d, const struct evt_field *f, size_t at,
           unsigned long long need)
{
  return fail(d,
              "field '%s' (%s) at payload offset %zu needs %llu bytes, "
              "%zu left",
              fname(f), tname(f), at, need, d->c.len - at);
}

/* Take n bytes at the cursor; the field started at `at`, so a short
 * payload reports the whole need from there. */
static const uint8_t *
take(struct dec *d, const struct evt_field *f, size_t at, size_t n)
{
  if (left(d) < n) {
    fail_short(d, f, at, (unsigned long long)(d->c.off - at) + n);
    return NULL;
  }
  const uint8_t *p = cur(d);
  d->c.off += n;
  return p;
}

/* One more value for this event, or an error when the budget is spent:
 * zero-size elements cannot repeat without bound. */
static int
spend(struct dec *d, const struct evt_field *f, size_t at)
{
  if (!d->budget)
    return fail(d,
                "field '%s' at payload offset %zu: the event produces more "
                "values than its %zu payload bytes allow",
                fname(f), at, d->c.len);
  d->budget--;
  return 0;
}

/* Integer in-types 0..21: the byte width (IN_PTR: the record's pointer
 * size) and IN_SIGNED. A table, because this is asked for every field. */
#define IN_PTR 0x0F
#define IN_SIGNED 0x10
static const uint8_t in_int[22] = {
    [EVT_IN_INT8] = 1 | IN_SIGNED,  [EVT_IN_UINT8] = 1,
    [EVT_IN_INT16] = 2 | IN_SIGNED, [EVT_IN_UINT16] = 2,
    [EVT_IN_INT32] = 4 | IN_SIGNED, [EVT_IN_UINT32] = 4,
    [EVT_IN_INT64] = 8 | IN_SIGNED, [EVT_IN_UINT64] = 8,
    [EVT_IN_HEXINT32] = 4,          [EVT_IN_HEXINT64] = 8,
    [EVT_IN_POINTER] = IN_PTR};

/* Bytes of an integer in-type, or 0 for other in-types. */
static unsigned
int_width(unsigned in, unsigned ptr)
{
  unsigned x;
  if (in < sizeof in_int)
    x = in_int[in] & 0x0F;
  else
    x = in == EVT_IN_WBEM_SIZET ? IN_PTR : 0;
  return x == IN_PTR ? ptr : x;
}

static bool
is_signed(unsigned in)
{
  return in < sizeof in_int && (in_int[in] & IN_SIGNED);
}

static void
record(struct dec *d, unsigned idx, uint64_t v)
{
  if (idx < EVT_DEC_MAX_REFS) {
    d->have[idx] = true;
    d->val[idx] = v;
  }
}

/* Read integer field idx (width bytes) into *v and keep its value for
 * lengths and counts, sign-extended so that a negative one is refused.
 * Returns the bytes, or NULL (err set) when the payload is short. */
static const uint8_t *
read_int(struct dec *d, const struct evt_field *f, unsigned idx, size_t at,
         unsigned width, bool sgn, uint64_t *v)
{
  const uint8_t *p = take(d, f, at, width);
  if (!p) return NULL;
  uint64_t x;
  switch (width) {
  case 1:
    x = p[0];
    break;
  case 2:
    x = le16(p);
    break;
  case 4:
    x = le32(p);
    break;
  default:
    x = le64(p);
    break;
  }
  *v = x;
  if (sgn && width < 8 && (x >> (8 * width - 1)) & 1)
    x |= ~(uint64_t)0 << (8 * width);
  record(d, idx, x);
  return p;
}

/* The integer value of field i, which f uses as its `what`. */
static int
ref(struct dec *d, const struct evt_field *f, unsigned i, const char *what,
    uint64_t *v)
{
  if (i >= d->nf)
    return fail(d,
                "field '%s' takes its %s from field %u, but the schema "
                "has %u fields",
                fname(f), what, i, d->nf);
  if (i >= EVT_DEC_MAX_REFS || !d->have[i])
    return fail(d,
                "field '%s' takes its %s from field %u ('%s'), which is "
                "not an integer decoded before it",
                fname(f), what, i, fname(&d->f[i]));
  *v = d->val[i];
  return 0;
}

/* Length from the schema: 1 and *len set, 0 when the field has none,
 * -1 on error. */
static int
get_len(struct dec *d, const struct evt_field *f, uint64_t *len)
{
  if (f->flags & EVT_F_LEN_FIXED) {
    *len = f->len;
    return 1;
  }
  if (f->flags & EVT_F_LEN_FIELD)
    return ref(d, f, f->len, "length", len) < 0 ? -1 : 1;
  return 0;
}

static int
fail_len(struct dec *d, const struct evt_field *f, uint64_t len,
         const char *unit)
{
  return fail(d,
              "field '%s' (%s) at payload offset %zu has length %llu (%s), "
              "more than the %zu bytes left",
              fname(f), tname(f), d->c.off, (unsigned long long)len, unit,
              left(d));
}

/* A lower bound of the bytes one element of f takes (0: may be none). */
static size_t
min_size(const struct dec *d, const struct evt_field *f)
{
  if (is_struct(f)) return 0;
  if (f->flags & EVT_F_CUSTOM) return 2;
  unsigned iw = int_width(f->in, d->ptr);
  if (iw) return iw;
  switch (f->in) {
  case EVT_IN_WBEM_ANSICHAR:
    return 1;
  case EVT_IN_WBEM_UNICODECHAR:
    return 2;
  case EVT_IN_FLOAT:
  case EVT_IN_BOOLEAN:
  case EVT_IN_WBEM_SID:
  case EVT_IN_WBEM_HEXDUMP:
    return 4;
  case EVT_IN_DOUBLE:
  case EVT_IN_FILETIME:
  case EVT_IN_SID:
    return 8;
  case EVT_IN_GUID:
  case EVT_IN_SYSTEMTIME:
    return 16;
  case EVT_IN_UNICODESTRING:
  case EVT_IN_ANSISTRING:
    if (f->flags & EVT_F_LEN_FIXED)
      return (size_t)f->len * (f->in == EVT_IN_UNICODESTRING ? 2 : 1);
    if (f->flags & EVT_F_LEN_FIELD) return 0;
    return f->in == EVT_IN_UNICODESTRING ? 2 : 1;
  case EVT_IN_BINARY:
    if (f->flags & EVT_F_LEN_FIXED) return f->len;
    if (f->flags & EVT_F_LEN_FIELD) return 0;
    return f->out == EVT_OUT_IPV6 ? 16 : 0;
  case EVT_IN_COUNTEDSTRING:
  case EVT_IN_COUNTEDANSISTRING:
  case EVT_IN_COUNTEDBINARY:
  case EVT_IN_WBEM_COUNTEDSTRING:
  case EVT_IN_WBEM_COUNTEDANSISTRING:
  case EVT_IN_WBEM_REVCOUNTEDSTRING:
  case EVT_IN_WBEM_REVCOUNTEDANSISTRING:
    return 2;
  default:
    return 0;
  }
}

/* Text formatted at o + 1 (n bytes): put quotes around it; o must have
 * room for n + 2 bytes. The formatters never produce bytes that need
 * escaping. */
static size_t
quoted(char *o, size_t n)
{
  o[0] = '"';
  o[n + 1] = '"';
  return n + 2;
}

/* v as a JSON number; sign-extended from `width` bytes when sgn. */
static size_t
num_text(uint64_t v, unsigned width, bool sgn, char *o)
{
  if (sgn && width < 8 && (v >> (8 * width - 1)) & 1)
    v |= ~(uint64_t)0 << (8 * width);
  if (sgn && (v >> 63)) {
    o[0] = '-';
    return 1 + evt_fmt_u64((uint64_t)0 - v, o + 1);
  }
  return evt_fmt_u64(v, o);
}

static size_t
filetime_text(const struct evt_field *f, uint64_t ticks, char *o)
{
  bool z = f->out == EVT_OUT_DATETIME_UTC || (f->flags & EVT_F_UTC);
  size_t n = evt_fmt_filetime(ticks, z, o + 1);
  return n ? quoted(o, n) : evt_fmt_u64(ticks, o);
}

static void
put_num(struct jsonw *w, uint64_t v, unsigned width, bool sgn)
{
  char b[VAL_MAX];
  jw_raw(w, b, num_text(v, width, sgn, b));
}

/*
 * The JSON text (at most VAL_MAX bytes, at o) of the integer field f of
 * `width` bytes at p, value v (zero-extended), by its out-type; maps are
 * the caller's. Returns 0 for a character out-type (8-bit or UTF-16
 * text, which needs the writer's escaping).
 */
static size_t
int_text(const struct dec *d, const struct evt_field *f, const uint8_t *p,
         uint64_t v, unsigned width, bool sgn, char *o)
{
  switch (f->out) {
  case EVT_OUT_NULL:
    if (f->in == EVT_IN_HEXINT32 || f->in == EVT_IN_HEXINT64 ||
        f->in == EVT_IN_POINTER || f->in == EVT_IN_WBEM_SIZET)
      return quoted(o, evt_fmt_hex(v, o + 1));
    break;
  case EVT_OUT_HEXINT8:
  case EVT_OUT_HEXINT16:
  case EVT_OUT_HEXINT32:
  case EVT_OUT_HEXINT64:
  case EVT_OUT_ERRORCODE:
  case EVT_OUT_CODE_POINTER:
    return quoted(o, evt_fmt_hex(v, o + 1));
  case EVT_OUT_BOOLEAN:
    memcpy(o, v ? "true" : "false", v ? 4 : 5);
    return v ? 4 : 5;
  case EVT_OUT_PORT:
    /* win:Port is network order; Tx printed the raw LE read. */
    if (width == 2)
      return evt_fmt_u64(d->tx ? v : (uint64_t)(p[0] << 8 | p[1]), o);
    break;
  case EVT_OUT_IPV4:
    if (width == 4) return quoted(o, evt_fmt_ipv4(p, o + 1));
    break;
  case EVT_OUT_STRING:
    if (width <= 2) return 0;
    break;
  case EVT_OUT_DATETIME:
  case EVT_OUT_DATETIME_UTC:
  case EVT_OUT_CULTURE_INSENSITIVE_DATETIME:
    if (width == 8) return filetime_text(f, v, o);
    break;
  default:
    break;
  }
  return num_text(v, width, sgn, o);
}

/* Bitmap text: names of matched masks, " | ", leftover bits in hex. */
static int
put_bitmap(struct dec *d, const struct evt_map *m, uint64_t v, unsigned width,
           bool sgn)
{
  uint64_t rest = v;
  size_t need = EVT_FMT_HEX_MAX + 3;
  unsigned nmatch = 0;
  for (uint32_t i = 0; i < m->n; i++) {
    uint32_t mask = m->e[i].value;
    if (mask && (v & mask) == mask && m->e[i].name) {
      need += strlen(m->e[i].name) + 3;
      rest &= ~(uint64_t)mask;
      nmatch++;
    }
  }
  if (!nmatch) {
    /* A zero value takes the name of a zero entry ("None"), if any. */
    for (uint32_t i = 0; i < m->n && v == 0; i++)
      if (m->e[i].value == 0 && m->e[i].name) {
        jw_str(d->w, m->e[i].name);
        return 0;
      }
    put_num(d->w, v, width, sgn);
    return 0;
  }
  char small[512];
  char *b = need <= sizeof small ? small : malloc(need);
  if (!b) return fail(d, "out of memory for a %zu-byte bitmap text", need);
  size_t n = 0;
  for (uint32_t i = 0; i < m->n; i++) {
    uint32_t mask = m->e[i].value;
    if (mask && (v & mask) == mask && m->e[i].name) {
      size_t k = strlen(m->e[i].name);
      if (n) {
        memcpy(b + n, " | ", 3);
        n += 3;
      }
      memcpy(b + n, m->e[i].name, k);
      n += k;
    }
  }
  if (rest) {
    memcpy(b + n, " | ", 3);
    n += 3;
    n += evt_fmt_hex(rest, b + n);
  }
  jw_strn(d->w, b, n);
  if (b != small) free(b);
  return 0;
}

static int
put_map(struct dec *d, const struct evt_map *m, uint64_t v, unsigned width,
        bool sgn)
{
  if (m->bitmap) return put_bitmap(d, m, v, width, sgn);
  /* Value maps are sorted by value. */
  if (v <= UINT32_MAX) {
    uint32_t lo = 0, hi = m->n;
    while (lo < hi) {
      uint32_t mid = lo + (hi - lo) / 2;
      uint32_t x = m->e[mid].value;
      if (x == v) {
        if (m->e[mid].name) {
          jw_str(d->w, m->e[mid].name);
          return 0;
        }
        break;
      }
      if (x < v)
        lo = mid + 1;
      else
        hi = mid;
    }
  }
  put_num(d->w, v, width, sgn);
  return 0;
}

static void
put_float(struct jsonw *w, float v)
{
  char b[32];
  if (isnan(v) || isinf(v)) {
    jw_double(w, v);
    return;
  }
  /* The shortest %g text that reads back to the same float. */
  int n = 0;
  for (int prec = 6; prec <= 9; prec++) {
    n = snprintf(b, sizeof b, "%.*g", prec, (double)v);
    if (strtof(b, NULL) == v) break;
  }
  jw_raw(w, b, (size_t)n);
}

static void
put_binary(struct dec *d, const struct evt_field *f, const uint8_t *p, size_t n)
{
  char b[EVT_FMT_SOCKADDR_MAX + 2];
  if (f->out == EVT_OUT_IPV6 && n == 16) {
    jw_raw(d->w, b, quoted(b, evt_fmt_ipv6(p, b + 1)));
    return;
  }
  if (f->out == EVT_OUT_SOCKETADDRESS) {
    size_t k = evt_fmt_sockaddr(p, n, d->tx, b + 1);
    if (k) {
      jw_raw(d->w, b, quoted(b, k));
      return;
    }
  }
  jw_bytes_hex(d->w, p, n);
}

/* 8-bit text: UTF-8 out-types are read as UTF-8 (bad bytes become
 * U+FFFD), others as UTF-8 falling back to Latin-1. Stops at a NUL. */
static void
put_8bit(struct dec *d, const struct evt_field *f, const uint8_t *p, size_t n)
{
  if (f->out == EVT_OUT_UTF8 || f->out == EVT_OUT_XML ||
      f->out == EVT_OUT_JSON) {
    const uint8_t *z = memchr(p, 0, n);
    jw_strn(d->w, (const char *)p, z ? (size_t)(z - p) : n);
  } else {
    jw_str_8bit(d->w, p, n);
  }
}

static int
dec_string(struct dec *d, const struct evt_field *f, size_t at)
{
  bool wide = f->in == EVT_IN_UNICODESTRING;
  uint64_t len;
  int hl = get_len(d, f, &len);
  if (hl < 0) return -1;
  size_t lft = left(d), nbytes, used;
  const uint8_t *p = cur(d);
  if (hl) {
    if (wide ? len > lft / 2 : len > lft)
      return fail_len(d, f, len, wide ? "WCHARs" : "bytes");
    nbytes = used = (size_t)len * (wide ? 2 : 1);
  } else if (wide) {
    if (lft < 2) return fail_short(d, f, at, 2);
    size_t i = 0;
    while (i + 1 < lft && (p[i] | p[i + 1]))
      i += 2;
    nbytes = i;
    used = i + 1 < lft ? i + 2 : lft;
  } else {
    if (lft < 1) return fail_short(d, f, at, 1);
    const uint8_t *z = memchr(p, 0, lft);
    nbytes = z ? (size_t)(z - p) : lft;
    used = z ? nbytes + 1 : lft;
  }
  d->c.off += used;
  if (wide)
    jw_str_utf16le(d->w, p, nbytes);
  else
    put_8bit(d, f, p, nbytes);
  return 0;
}

/* u16 byte count (big-endian when rev), then that many bytes. */
static const uint8_t *
take_counted(struct dec *d, const struct evt_field *f, size_t at, bool rev,
             size_t *n)
{
  const uint8_t *q = take(d, f, at, 2);
  if (!q) return NULL;
  *n = rev ? (size_t)(q[0] << 8 | q[1]) : le16(q);
  return take(d, f, at, *n);
}

/* A SID after `skip` bytes (a WbemSid's TOKEN_USER). */
static int
dec_sid(struct dec *d, const struct evt_field *f, size_t at, size_t skip)
{
  /* SID header: revision, sub-authority count, 6-byte authority. */
  if (left(d) < skip + 8)
    return fail_short(d, f, at, (d->c.off - at) + skip + 8);
  const uint8_t *h = cur(d) + skip;
  if (h[1] > 15)
    return fail(d,
                "field '%s' (%s) at payload offset %zu: bad SID, %u "
                "sub-authorities (at most 15)",
                fname(f), tname(f), at, h[1]);
  size_t size = skip + 8 + 4 * (size_t)h[1];
  const uint8_t *p = take(d, f, at, size);
  if (!p) return -1;
  char b[EVT_FMT_SID_MAX + 2];
  jw_raw(d->w, b, quoted(b, evt_fmt_sid(p + skip, size - skip, b + 1)));
  return 0;
}

/* An integer field (one element): map, character or text. */
static int
dec_int(struct dec *d, unsigned idx, size_t at)
{
  const struct evt_field *f = &d->f[idx];
  unsigned width = int_width(f->in, d->ptr);
  bool sgn = is_signed(f->in);
  uint64_t v;
  const uint8_t *p = read_int(d, f, idx, at, width, sgn, &v);
  if (!p) return -1;
  const struct evt_map *m = f->map;
  if (!m && f->map_name && d->r)
    m = evt_registry_find_map(d->r, d->s->provider, f->map_name);
  if (m && m->n && m->e) return put_map(d, m, v, width, sgn);
  char b[VAL_MAX];
  size_t k = int_text(d, f, p, v, width, sgn, b);
  if (k)
    jw_raw(d->w, b, k);
  else if (width == 1)
    jw_str_8bit(d->w, p, 1);
  else
    jw_str_utf16le(d->w, p, 2);
  return 0;
}

/* One element (not the array around it) of field idx. */
static int
dec_elem(struct dec *d, unsigned idx, unsigned depth)
{
  const struct evt_field *f = &d->f[idx];
  struct jsonw *w = d->w;
  size_t at = d->c.off;
  const uint8_t *p;
  size_t n;
  char b[VAL_MAX];

  if (spend(d, f, at) < 0) return -1;
  if (is_struct(f)) {
    if (depth >= EVT_DEC_MAX_DEPTH)
      return fail(d, "field '%s': structs nested deeper than %d", fname(f),
                  EVT_DEC_MAX_DEPTH);
    jw_obj_begin(w);
    if (dec_members(d, f->first, f->nmembers, depth + 1, NULL, 0) < 0)
      return -1;
    jw_obj_end(w);
    return 0;
  }
  if (f->flags & EVT_F_CUSTOM) {
    if (!(p = take_counted(d, f, at, false, &n))) return -1;
    jw_bytes_hex(w, p, n);
    return 0;
  }
  if (int_width(f->in, d->ptr)) return dec_int(d, idx, at);

  switch (f->in) {
  case EVT_IN_BOOLEAN:
    if (!(p = take(d, f, at, 4))) return -1;
    record(d, idx, le32(p));
    jw_bool(w, le32(p) != 0);
    return 0;
  case EVT_IN_FLOAT: {
    if (!(p = take(d, f, at, 4))) return -1;
    uint32_t u = le32(p);
    float v;
    memcpy(&v, &u, sizeof v);
    put_float(w, v);
    return 0;
  }
  case EVT_IN_DOUBLE: {
    if (!(p = take(d, f, at, 8))) return -1;
    uint64_t u = le64(p);
    double v;
    memcpy(&v, &u, sizeof v);
    jw_double(w, v);
    return 0;
  }
  case EVT_IN_GUID:
    if (!(p = take(d, f, at, 16))) return -1;
    jw_guid(w, p);
    return 0;
  case EVT_IN_FILETIME:
    if (!(p = take(d, f, at, 8))) return -1;
    jw_raw(w, b, filetime_text(f, le64(p), b));
    return 0;
  case EVT_IN_SYSTEMTIME: {
    if (!(p = take(d, f, at, 16))) return -1;
    bool z = f->out == EVT_OUT_DATETIME_UTC || (f->flags & EVT_F_UTC);
    jw_raw(w, b, quoted(b, evt_fmt_systemtime(p, z, b + 1)));
    return 0;
  }
  case EVT_IN_SID:
    return dec_sid(d, f, at, 0);
  case EVT_IN_WBEM_SID:
    /* 0 (no SID), or TOKEN_USER (two pointers) then the SID. */
    if (!(p = take(d, f, at, 4))) return -1;
    if (!le32(p)) {
      jw_null(w);
      return 0;
    }
    d->c.off = at;
    return dec_sid(d, f, at, 2 * (size_t)d->ptr);
  case EVT_IN_UNICODESTRING:
  case EVT_IN_ANSISTRING:
    return dec_string(d, f, at);
  case EVT_IN_COUNTEDSTRING:
  case EVT_IN_WBEM_COUNTEDSTRING:
  case EVT_IN_WBEM_REVCOUNTEDSTRING:
    if (!(p = take_counted(d, f, at, f->in == EVT_IN_WBEM_REVCOUNTEDSTRING,
                           &n)))
      return -1;
    jw_str_utf16le(w, p, n);
    return 0;
  case EVT_IN_COUNTEDANSISTRING:
  case EVT_IN_WBEM_COUNTEDANSISTRING:
  case EVT_IN_WBEM_REVCOUNTEDANSISTRING:
    if (!(p = take_counted(d, f, at, f->in == EVT_IN_WBEM_REVCOUNTEDANSISTRING,
                           &n)))
      return -1;
    put_8bit(d, f, p, n);
    return 0;
  case EVT_IN_WBEM_NONNULLSTRING:
    n = left(d);
    p = take(d, f, at, n);
    jw_str_utf16le(w, p, n);
    return 0;
  case EVT_IN_WBEM_NONNULLANSISTRING:
    n = left(d);
    p = take(d, f, at, n);
    put_8bit(d, f, p, n);
    return 0;
  case EVT_IN_WBEM_UNICODECHAR:
    if (!(p = take(d, f, at, 2))) return -1;
    jw_str_utf16le(w, p, 2);
    return 0;
  case EVT_IN_WBEM_ANSICHAR:
    if (!(p = take(d, f, at, 1))) return -1;
    jw_str_8bit(w, p, 1);
    return 0;
  case EVT_IN_WBEM_HEXDUMP:
    if (!(p = take(d, f, at, 4))) return -1;
    if (le32(p) > left(d))
      return fail_short(d, f, at, 4 + (unsigned long long)le32(p));
    n = le32(p);
    p = take(d, f, at, n);
    jw_bytes_hex(w, p, n);
    return 0;
  case EVT_IN_BINARY: {
    uint64_t len;
    int hl = get_len(d, f, &len);
    if (hl < 0) return -1;
    if (!hl) {
      if (f->out != EVT_OUT_IPV6)
        return fail(d, "field '%s' (Binary) has no length in the schema",
                    fname(f));
      len = 16;
    }
    if (len > left(d)) return fail_len(d, f, len, "bytes");
    n = (size_t)len;
    p = take(d, f, at, n);
    put_binary(d, f, p, n);
    return 0;
  }
  case EVT_IN_COUNTEDBINARY:
    if (!(p = take_counted(d, f, at, false, &n))) return -1;
    put_binary(d, f, p, n);
    return 0;
  case EVT_IN_NULL:
    jw_null(w);
    return 0;
  default:
    return fail(d, "field '%s' has unknown in-type %u", fname(f),
                (unsigned)f->in);
  }
}

/* Field idx: one element, or an array of them. */
static int
dec_field(struct dec *d, unsigned idx, unsigned depth)
{
  const struct evt_field *f = &d->f[idx];
  uint16_t fl = f->flags;
  /* EVT_F_COUNT_REST fields (top level only) go through dec_rest. */
  if (!(fl & (EVT_F_COUNT_INLINE | EVT_F_COUNT_FIXED | EVT_F_COUNT_FIELD)))
    return dec_elem(d, idx, depth);

  size_t at = d->c.off;
  uint64_t count;
  if (fl & EVT_F_COUNT_INLINE) {
    const uint8_t *p = take(d, f, at, 2);
    if (!p) return -1;
    count = le16(p);
  } else if (fl & EVT_F_COUNT_FIXED) {
    count = f->count;
  } else if (ref(d, f, f->count, "count", &count) < 0) {
    return -1;
  }
  size_t esz = min_size(d, f);
  if (esz && count > left(d) / esz)
    return fail(d,
                "field '%s' (%s) at payload offset %zu has count %llu of "
                "at least %zu bytes each, %zu bytes left",
                fname(f), tname(f), at, (unsigned long long)count, esz,
                left(d));
  if (count > d->budget)
    return fail(d,
                "field '%s' at payload offset %zu has count %llu, more "
                "values than its %zu payload bytes allow",
                fname(f), at, (unsigned long long)count, d->c.len);
  if (f->out == EVT_OUT_STRING && !is_struct(f)) switch (f->in) {
    /* An array of characters is a string (TraceLoggingCharArray and
     * WCharArray; TDH formats them so). */
    case EVT_IN_INT8:
    case EVT_IN_UINT8: {
      const uint8_t *p = take(d, f, at, (size_t)count);
      if (!p) return -1;
      jw_str_8bit(d->w, p, (size_t)count);
      return 0;
    }
    case EVT_IN_INT16:
    case EVT_IN_UINT16: {
      const uint8_t *p = take(d, f, at, (size_t)count * 2);
      if (!p) return -1;
      jw_str_utf16le(d->w, p, (size_t)count * 2);
      return 0;
    }
    default:
      break;
    }
  jw_arr_begin(d->w);
  for (uint64_t i = 0; i < count; i++)
    if (dec_elem(d, idx, depth) < 0) return -1;
  jw_arr_end(d->w);
  return 0;
}

/* A 64-bit mask with one bit picked by a name's length and its first
 * and last bytes: a cheap filter before comparing names for
 * duplicates. */
static uint64_t
name_bit(const char *s, size_t n)
{
  uint32_t h = (uint32_t)n;
  if (n) h = (h * 31 + (uint8_t)s[0]) * 31 + (uint8_t)s[n - 1];
  return (uint64_t)1 << ((h * 2654435761u) >> 26);
}

static uint32_t
name_hash(const char *s)
{
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

/* suf[i] = how many of members 0..i of the object at `first` have the
 * name of member i (1: the first one). */
static void
dup_table(struct dec *d, unsigned first, unsigned n, uint16_t *suf)
{
  size_t size = 2;
  while (size < 2 * (size_t)n)
    size *= 2;
  memset(d->tab, 0, size * sizeof d->tab[0]);
  for (unsigned i = 0; i < n; i++) {
    const char *name = fname(&d->f[first + i]);
    uint32_t h = name_hash(name);
    size_t k = h & (size - 1);
    for (;;) {
      struct dup_slot *t = &d->tab[k];
      if (!t->seen) {
        t->hash = h;
        t->member = (uint16_t)i;
        t->seen = 1;
        suf[i] = 1;
        break;
      }
      if (t->hash == h && !strcmp(fname(&d->f[first + t->member]), name)) {
        suf[i] = ++t->seen;
        break;
      }
      k = (k + 1) & (size - 1);
    }
  }
}

/* dec_rest - a rest-of-payload array (EVT_F_COUNT_REST) as the members
 * name1, name2, ...: TDH lists a MOF class's numbered tail properties
 * (StackWalk's Stack1..Stack192) one by one, as many as the data holds. */
static int
dec_rest(struct dec *d, unsigned idx, const char *name, unsigned depth)
{
  const struct evt_field *f = &d->f[idx];
  size_t at = d->c.off, esz = min_size(d, f);
  if (!esz || left(d) % esz)
    return fail(d,
                "field '%s' (%s) at payload offset %zu: %zu bytes left, "
                "not a whole number of %zu-byte values",
                fname(f), tname(f), at, left(d), esz);
  uint64_t count = left(d) / esz;
  if (count > d->budget)
    return fail(d,
                "field '%s' at payload offset %zu has %llu values, more "
                "than the payload allows",
                fname(f), at, (unsigned long long)count);
  char b[KEY_MAX + EVT_FMT_U64_MAX + 1];
  size_t n = strlen(name);
  if (n > KEY_MAX) n = KEY_MAX;
  memcpy(b, name, n);
  for (uint64_t i = 0; i < count; i++) {
    jw_keyn(d->w, b, n + evt_fmt_u64(i + 1, b + n));
    if (dec_elem(d, idx, depth) < 0) return -1;
  }
  return 0;
}

static void
put_key(struct jsonw *w, const char *name, unsigned k)
{
  if (k <= 1) {
    jw_key(w, name);
    return;
  }
  char b[KEY_MAX + EVT_FMT_U64_MAX + 1];
  size_t n = strlen(name);
  if (n > KEY_MAX) n = KEY_MAX;
  memcpy(b, name, n);
  b[n++] = '_';
  n += evt_fmt_u64(k, b + n);
  jw_keyn(w, b, n);
}

/* Name bytes that need no escaping in a JSON key: jsonw's table. */
#define plain jw_plain

/* Copy `,"name` to o: the name's length, or -1 when it needs escaping or
 * is longer than KEY_FAST. */
static long
key_start(const char *name, char *o)
{
  o[0] = ',';
  o[1] = '"';
  o += 2;
  size_t i = 0;
  for (; i < KEY_FAST; i++) {
    unsigned char c = (unsigned char)name[i];
    if (!plain[c]) break;
    o[i] = (char)c;
  }
  return name[i] ? -1 : (long)i;
}

/* Finish a key begun by key_start at o (n bytes so far): "_k" when
 * k > 1, then `":`. Returns the key's length. */
static size_t
key_end(char *o, size_t n, unsigned k)
{
  if (k > 1) {
    o[n++] = '_';
    n += evt_fmt_u64(k, o + n);
  }
  o[n++] = '"';
  o[n++] = ':';
  return n;
}

/* Whether member f can go through the batch: a scalar integer without a
 * map, printed, and not as a character. */
static bool
batchable(const struct evt_field *f)
{
  return !(f->flags & ~EVT_F_UTC) && !f->map && !f->map_name &&
         f->out != EVT_OUT_NOPRINT && f->out != EVT_OUT_STRING &&
         int_width(f->in, 8);
}

/* Hand the batch (members [bfirst, end)) to the writer; their spans
 * were relative to the batch. */
static void
flush(struct jsonw *w, const char *batch, size_t *bn, unsigned bfirst,
      unsigned end, struct evt_span *spans, size_t nspans)
{
  if (!*bn) return;
  size_t base = w->len;
  jw_raw_members(w, batch, *bn);
  for (unsigned j = bfirst; j < end && j < nspans; j++) {
    spans[j].start += base;
    spans[j].end += base;
  }
  *bn = 0;
}

/* Members [first, first + n) as keys and values of the open object. */
static int
dec_members(struct dec *d, unsigned first, unsigned n, unsigned depth,
            struct evt_span *spans, size_t nspans)
{
  struct jsonw *w = d->w;
  if ((size_t)first + n > d->nf)
    return fail(d, "schema: fields %u..%u of a %u-field list", first,
                first + n - 1, d->nf);
  uint16_t *suf = NULL;
  if (n > SMALL_OBJ) {
    if (n > OBJ_MAX || d->nsuf + n > EVT_DEC_MAX_MEMBERS)
      return fail(d, "schema: an object of %u members (at most %d)", n,
                  n > OBJ_MAX ? OBJ_MAX : EVT_DEC_MAX_MEMBERS - d->nsuf);
    suf = d->suf + d->nsuf;
    d->nsuf += n;
    dup_table(d, first, n, suf);
  }

  /* Once the object has a member, runs of batchable members collect in
   * batch (members [bfirst, i)) and reach the writer in one call. */
  char batch[BATCH];
  batch[0] = 0; /* (GCC cannot see that flush reads only bn bytes) */
  size_t bn = 0;
  unsigned bfirst = 0;
  bool any = false;
  uint64_t seen = 0;
  for (unsigned i = 0; i < n; i++) {
    unsigned idx = first + i;
    const struct evt_field *f = &d->f[idx];
    const char *name = fname(f);
    bool fast = any && batchable(f);
    long nl = fast ? key_start(name, batch + bn) : -1;
    size_t len = nl >= 0 ? (size_t)nl : strlen(name);
    unsigned k = 1;
    if (suf) {
      k = suf[i];
    } else {
      uint64_t bit = name_bit(name, len);
      if (seen & bit)
        for (unsigned j = 0; j < i; j++)
          k += !strcmp(fname(&d->f[first + j]), name);
      seen |= bit;
    }

    if (nl >= 0) {
      size_t kl = key_end(batch + bn, 2 + len, k);
      size_t at = d->c.off;
      unsigned width = int_width(f->in, d->ptr);
      bool sgn = is_signed(f->in);
      uint64_t v;
      const uint8_t *p;
      if (spend(d, f, at) < 0 || !(p = read_int(d, f, idx, at, width, sgn, &v)))
        return -1;
      size_t vl = int_text(d, f, p, v, width, sgn, batch + bn + kl);
      if (i < nspans) {
        spans[i].start = bn + kl;
        spans[i].end = bn + kl + vl;
      }
      if (!bn) bfirst = i;
      bn += kl + vl;
      if (bn > BATCH - MEMBER_MAX)
        flush(w, batch, &bn, bfirst, i + 1, spans, nspans);
      continue;
    }
    flush(w, batch, &bn, bfirst, i, spans, nspans);

    if (f->flags & EVT_F_COUNT_REST) {
      size_t rstart = w->len;
      if (dec_rest(d, idx, name, depth) < 0) return -1;
      any = any || w->len > rstart;
      if (i < nspans) {
        spans[i].start = rstart;
        spans[i].end = w->len;
      }
      continue;
    }
    bool noprint = f->out == EVT_OUT_NOPRINT && !is_struct(f);
    struct jw_mark km = {0, 0, false, false};
    if (noprint) km = jw_mark(w);
    put_key(w, name, k);
    size_t start = w->len;
    if (dec_field(d, idx, depth) < 0) return -1;
    if (noprint) {
      jw_rollback(w, km);
      start = w->len;
    } else {
      any = true;
    }
    if (i < nspans) {
      spans[i].start = start;
      spans[i].end = w->len;
    }
  }
  flush(w, batch, &bn, bfirst, n, spans, nspans);
  if (suf) d->nsuf -= n;
  return 0;
}

int
evt_decode_payload_spans(struct evt_registry *r, const struct evt_schema *s,
                         const struct etl_event *ev, const struct evt_opts *o,
                         struct jsonw *w, struct evt_span *spans, size_t nspans,
                         char *err, size_t errlen)
{
  struct dec d;
  d.r = r;
  d.s = s;
  d.f = s->fields;
  d.nf = s->nfields;
  d.ptr = ev->ptr_size == 4 ? 4 : 8;
  d.tx = o && o->tx_compat;
  d.w = w;
  d.c =
      br_make(ev->data ? ev->data : empty_payload, ev->data ? ev->data_len : 0);
  d.budget = (size_t)d.c.len + EVT_DEC_ZERO_BUDGET;
  d.err = err;
  d.errlen = errlen;
  d.nsuf = 0;
  if (errlen) err[0] = 0;
  if (s->ntop > s->nfields || (s->nfields && !s->fields))
    return fail(&d, "schema: %u top-level fields of %u", s->ntop, s->nfields);
  memset(d.have, 0,
         d.nf < EVT_DEC_MAX_REFS ? d.nf : (unsigned)EVT_DEC_MAX_REFS);

  struct jw_mark m = jw_mark(w);
  jw_obj_begin(w);
  if (dec_members(&d, 0, s->ntop, 0, spans, nspans) < 0) {
    jw_rollback(w, m);
    return -1;
  }
  jw_obj_end(w);
  return 0;
}

int
evt_decode_payload(struct evt_registry *r, const struct evt_schema *s,
                   const struct etl_event *ev, const struct evt_opts *o,
                   struct jsonw *w, char *err, size_t errlen)
{
  return evt_decode_payload_spans(r, s, ev, o, w, NULL, 0, err, errlen);
}

void
evt_decode_string_only(const struct etl_event *ev, struct jsonw *w)
{
  if (!ev->data) {
    jw_str(w, "");
    return;
  }
  jw_str_utf16le(w, ev->data, ev->data_len & ~(uint32_t)1);
}
