/*
 * kql_func_text.c - more string functions: several replacements at
 * once, term lookups, command lines, punycode, compressed base64 and
 * GUIDs as base64, bag_zip.
 *
 * zlib and gzip data go through zlib (-lz). Kusto stores small inputs
 * uncompressed (its documented examples show stored deflate blocks), so
 * below 64 bytes this does the same; larger inputs use the fastest
 * level, which keeps the same zlib header. The gzip header is written
 * here, as Kusto's (no name, no time, OS unknown). Punycode follows RFC
 * 3492; a domain's labels may be separated by '.', U+3002, U+FF0E or
 * U+FF61, as IDNA allows.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_func.h"

#include <string.h>
#include <zlib.h>

/* Largest decompressed result (the row arena holds it). */
#define MAX_INFLATE (16u << 20)

static struct kql_val
mk_array(struct kql_val *el, uint32_t n)
{
  struct kql_val v;
  memset(&v, 0, sizeof v);
  v.t = KQL_T_ARRAY;
  v.dyn = 1;
  v.n = n;
  v.u.a = el;
  return v;
}

static struct kql_val
dyn_str(const char *s, size_t n)
{
  struct kql_val v = kql_v_str(s, n);
  v.dyn = 1;
  return v;
}

/* The argument as a parsed array; false if it is not one. */
static bool
arr(struct kql_ctx *c, const struct kql_val *v, struct kql_val *out)
{
  if (v->null || v->t != KQL_T_ARRAY) return false;
  *out = *v;
  kql_dyn_force(c->a, out);
  return true;
}

/* ------------------------------------------------------------ replace */

/* replace_strings(text, lookups, rewrites): lookups are tried in array
 * order, each replacing its matches that overlap no earlier match; a
 * rewrite that is not a string keeps the matched text. */
static void
f_replace_strings(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                  uint32_t na, struct kql_val *out)
{
  (void)n;
  (void)na;
  struct kql_val s = kql_fn_str(c, &a[0]), look, rew;
  if (!arr(c, &a[1], &look) || !arr(c, &a[2], &rew)) {
    *out = s;
    return;
  }
  /* owner[i]: 0 free, else 1 + the lookup index owning byte i; start[i]
   * marks where a match begins. */
  uint32_t *owner = kql_zalloc(c->a, (s.n + 1) * sizeof *owner);
  bool *start = kql_zalloc(c->a, s.n + 1);
  for (uint32_t k = 0; k < look.n; k++) {
    const struct kql_val *l = &look.u.a[k];
    if (l->null || l->t != KQL_T_STRING || !l->n) continue;
    for (size_t i = 0; i + l->n <= s.n;) {
      bool fits = !memcmp(s.u.s + i, l->u.s, l->n);
      for (size_t j = 0; fits && j < l->n; j++)
        if (owner[i + j]) fits = false;
      if (!fits) {
        i++;
        continue;
      }
      for (size_t j = 0; j < l->n; j++)
        owner[i + j] = k + 1;
      start[i] = true;
      i += l->n;
    }
  }
  size_t total = s.n;
  for (size_t i = 0; i < s.n; i++)
    if (start[i]) {
      uint32_t k = owner[i] - 1;
      if (k < rew.n && !rew.u.a[k].null && rew.u.a[k].t == KQL_T_STRING)
        total += rew.u.a[k].n;
    }
  char *o = kql_alloc(c->a, total + 1);
  size_t w = 0;
  for (size_t i = 0; i < s.n;) {
    if (!start[i]) {
      o[w++] = s.u.s[i++];
      continue;
    }
    uint32_t k = owner[i] - 1;
    size_t len = look.u.a[k].n;
    if (k < rew.n && !rew.u.a[k].null && rew.u.a[k].t == KQL_T_STRING) {
      memcpy(o + w, rew.u.a[k].u.s, rew.u.a[k].n);
      w += rew.u.a[k].n;
    } else {
      memcpy(o + w, s.u.s + i, len);
      w += len;
    }
    i += len;
  }
  o[w] = 0;
  *out = kql_v_str(o, w);
}

/* has_any_index(text, lookups): index of the first lookup that text has
 * as a term, or -1. */
static void
f_has_any_index(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                uint32_t na, struct kql_val *out)
{
  (void)n;
  (void)na;
  struct kql_val look;
  if (!arr(c, &a[1], &look)) {
    *out = kql_v_null(KQL_T_LONG);
    return;
  }
  struct kql_val s = kql_fn_str(c, &a[0]);
  for (uint32_t k = 0; k < look.n; k++) {
    struct kql_val t = kql_fn_str(c, &look.u.a[k]);
    bool isnull;
    if (t.n && kql_strop(c->a, KQL_OP_HAS, &s, &t, &isnull)) {
      *out = kql_v_long(k);
      return;
    }
  }
  *out = kql_v_long(-1);
}

/* ------------------------------------------------------------ commands */

/* parse_command_line(cmd, "windows"): the arguments as the Windows C
 * runtime splits them: white space separates outside quotes; 2n
 * backslashes before a quote give n and the quote toggles quoting; 2n+1
 * give n and a literal quote; other backslashes are literal; "" inside
 * quotes is a literal quote. */
static void
f_parse_command_line(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                     uint32_t na, struct kql_val *out)
{
  (void)n;
  (void)na;
  struct kql_val s = kql_fn_str(c, &a[0]);
  struct kql_val kind = kql_fn_str(c, &a[1]);
  if (a[0].null || kind.n != 7 || strncasecmp(kind.u.s, "windows", 7)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  struct kql_val *el = kql_alloc(c->a, (s.n / 2 + 2) * sizeof *el);
  uint32_t cnt = 0;
  char *buf = kql_alloc(c->a, s.n + 1);
  size_t i = 0;
  while (i < s.n) {
    while (i < s.n && (s.u.s[i] == ' ' || s.u.s[i] == '\t'))
      i++;
    if (i >= s.n) break;
    size_t w = 0;
    bool quoted = false;
    while (i < s.n) {
      char ch = s.u.s[i];
      if (!quoted && (ch == ' ' || ch == '\t')) break;
      if (ch == '\\') {
        size_t bs = 0;
        while (i < s.n && s.u.s[i] == '\\') {
          bs++;
          i++;
        }
        if (i < s.n && s.u.s[i] == '"') {
          for (size_t k = 0; k < bs / 2; k++)
            buf[w++] = '\\';
          if (bs & 1) {
            buf[w++] = '"';
            i++;
          }
        } else {
          for (size_t k = 0; k < bs; k++)
            buf[w++] = '\\';
        }
        continue;
      }
      if (ch == '"') {
        if (quoted && i + 1 < s.n && s.u.s[i + 1] == '"') {
          buf[w++] = '"';
          i += 2;
          continue;
        }
        quoted = !quoted;
        i++;
        continue;
      }
      buf[w++] = ch;
      i++;
    }
    el[cnt++] = dyn_str(kql_memdup(c->a, buf, w), w);
  }
  *out = mk_array(el, cnt);
}

/* ------------------------------------------------------------ GUIDs */

static int
hexval(char ch)
{
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* A GUID's 16 bytes in the Windows layout: the first three fields little
 * endian, the last eight bytes as written. */
static const int guid_order[16] = {3, 2, 1,  0,  5,  4,  7,  6,
                                   8, 9, 10, 11, 12, 13, 14, 15};

static void
f_base64_encode_fromguid(struct kql_ctx *c, struct kql_node *n,
                         struct kql_val *a, uint32_t na, struct kql_val *out)
{
  char g[37];
  struct kql_val s = kql_fn_str(c, &a[0]);
  if (a[0].null || !kql_parse_guid(s.u.s, s.n, g)) {
    *out = kql_v_null(KQL_T_STRING);
    return;
  }
  unsigned char raw[16], bytes[16];
  for (int i = 0, k = 0; i < 16; i++, k += 2) {
    if (g[k] == '-') k++;
    raw[i] = (unsigned char)(hexval(g[k]) << 4 | hexval(g[k + 1]));
  }
  for (int i = 0; i < 16; i++)
    bytes[i] = raw[guid_order[i]];
  struct kql_val b = kql_v_str(kql_memdup(c->a, bytes, 16), 16);
  kql_f_b64_encode(c, n, &b, na, out);
}

static void
f_base64_decode_toguid(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                       uint32_t na, struct kql_val *out)
{
  struct kql_val raw;
  kql_f_b64_decode(c, n, a, na, &raw);
  if (a[0].null || raw.n != 16) {
    *out = kql_v_null(KQL_T_GUID);
    return;
  }
  static const char hx[] = "0123456789abcdef";
  char *o = kql_alloc(c->a, 37);
  size_t k = 0;
  for (int i = 0; i < 16; i++) {
    unsigned char b = (unsigned char)raw.u.s[guid_order[i]];
    if (i == 4 || i == 6 || i == 8 || i == 10) o[k++] = '-';
    o[k++] = hx[b >> 4];
    o[k++] = hx[b & 15];
  }
  o[k] = 0;
  *out = kql_v_str(o, k);
  out->t = KQL_T_GUID;
}

/* ------------------------------------------------------------ zlib */

/* Raw deflate of s (windowBits -15), or zlib format (15). */
static bool
deflate_into(struct kql_ctx *c, const char *s, size_t n, int wbits,
             unsigned char **outp, size_t *outn, size_t room)
{
  z_stream z;
  memset(&z, 0, sizeof z);
  int level = n < 64 ? Z_NO_COMPRESSION : Z_BEST_SPEED;
  if (deflateInit2(&z, level, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return false;
  size_t cap = deflateBound(&z, (uLong)n) + room;
  unsigned char *o = kql_alloc(c->a, cap);
  z.next_in = (Bytef *)(uintptr_t)s;
  z.avail_in = (uInt)n;
  z.next_out = o + room;
  z.avail_out = (uInt)(cap - room);
  int r = deflate(&z, Z_FINISH);
  *outn = z.total_out;
  deflateEnd(&z);
  *outp = o;
  return r == Z_STREAM_END;
}

static void
put_le32(unsigned char *p, uint32_t v)
{
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
}

static void
compress_b64(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
             uint32_t na, struct kql_val *out, bool gzip)
{
  struct kql_val s = kql_fn_str(c, &a[0]);
  *out = kql_v_null(KQL_T_STRING);
  if (a[0].null || s.n > MAX_INFLATE) return;
  unsigned char *o;
  size_t on;
  if (!gzip) {
    if (!deflate_into(c, s.u.s, s.n, 15, &o, &on, 0)) return;
  } else {
    /* 10-byte header, raw deflate, CRC-32 and size (both LE). */
    if (!deflate_into(c, s.u.s, s.n, -15, &o, &on, 10)) return;
    static const unsigned char hdr[10] = {0x1f, 0x8b, 8, 0, 0,
                                          0,    0,    0, 0, 0xff};
    memcpy(o, hdr, 10);
    unsigned char *tail = kql_alloc(c->a, 10 + on + 8);
    memcpy(tail, o, 10 + on);
    uLong crc = crc32(0L, (const Bytef *)s.u.s, (uInt)s.n);
    put_le32(tail + 10 + on, (uint32_t)crc);
    put_le32(tail + 14 + on, (uint32_t)s.n);
    o = tail;
    on += 18;
  }
  struct kql_val b = kql_v_str((const char *)o, on);
  kql_f_b64_encode(c, n, &b, na, out);
}

static void
decompress_b64(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
               uint32_t na, struct kql_val *out, bool gzip)
{
  struct kql_val raw;
  *out = kql_v_str("", 0);
  if (a[0].null) {
    *out = kql_v_null(KQL_T_STRING);
    return;
  }
  kql_f_b64_decode(c, n, a, na, &raw);
  if (!raw.n) return;
  z_stream z;
  memset(&z, 0, sizeof z);
  /* 15 + 16: gzip only; 15: zlib only. */
  if (inflateInit2(&z, gzip ? 31 : 15) != Z_OK) return;
  size_t cap = raw.n * 4 + 64;
  char *o = kql_alloc(c->a, cap + 1);
  z.next_in = (Bytef *)(uintptr_t)raw.u.s;
  z.avail_in = (uInt)raw.n;
  size_t have = 0;
  int r = Z_OK;
  while (r == Z_OK) {
    if (have == cap) {
      if (cap >= MAX_INFLATE) break;
      size_t ncap = cap * 2 > MAX_INFLATE ? MAX_INFLATE : cap * 2;
      char *no = kql_alloc(c->a, ncap + 1);
      memcpy(no, o, have);
      o = no;
      cap = ncap;
    }
    z.next_out = (Bytef *)o + have;
    z.avail_out = (uInt)(cap - have);
    r = inflate(&z, Z_NO_FLUSH);
    have = cap - z.avail_out;
    if (r == Z_BUF_ERROR && z.avail_out) break;
  }
  inflateEnd(&z);
  if (r != Z_STREAM_END) return;
  o[have] = 0;
  *out = kql_v_str(o, have);
}

static void
f_zlib_compress(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                uint32_t na, struct kql_val *out)
{
  compress_b64(c, n, a, na, out, false);
}

static void
f_gzip_compress(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                uint32_t na, struct kql_val *out)
{
  compress_b64(c, n, a, na, out, true);
}

static void
f_zlib_decompress(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                  uint32_t na, struct kql_val *out)
{
  decompress_b64(c, n, a, na, out, false);
}

static void
f_gzip_decompress(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                  uint32_t na, struct kql_val *out)
{
  decompress_b64(c, n, a, na, out, true);
}

/* ------------------------------------------------------------ punycode */

enum {
  PC_BASE = 36,
  PC_TMIN = 1,
  PC_TMAX = 26,
  PC_SKEW = 38,
  PC_DAMP = 700,
  PC_BIAS = 72,
  PC_N = 128,
  MAX_CP = 1024
};

/* Code points of UTF-8 text; invalid bytes stand for themselves. */
static size_t
utf8_decode(const char *s, size_t n, uint32_t *cp, size_t cap)
{
  size_t k = 0;
  for (size_t i = 0; i < n && k < cap;) {
    unsigned char b = (unsigned char)s[i];
    uint32_t v = b;
    size_t len = 1;
    if (b >= 0xF0 && i + 3 < n) {
      v = (uint32_t)(b & 7) << 18 | (uint32_t)(s[i + 1] & 0x3F) << 12 |
          (uint32_t)(s[i + 2] & 0x3F) << 6 | (uint32_t)(s[i + 3] & 0x3F);
      len = 4;
    } else if (b >= 0xE0 && i + 2 < n) {
      v = (uint32_t)(b & 15) << 12 | (uint32_t)(s[i + 1] & 0x3F) << 6 |
          (uint32_t)(s[i + 2] & 0x3F);
      len = 3;
    } else if (b >= 0xC0 && i + 1 < n) {
      v = (uint32_t)(b & 31) << 6 | (uint32_t)(s[i + 1] & 0x3F);
      len = 2;
    }
    cp[k++] = v;
    i += len;
  }
  return k;
}

static size_t
utf8_put(char *o, uint32_t v)
{
  if (v < 0x80) {
    o[0] = (char)v;
    return 1;
  }
  if (v < 0x800) {
    o[0] = (char)(0xC0 | v >> 6);
    o[1] = (char)(0x80 | (v & 0x3F));
    return 2;
  }
  if (v < 0x10000) {
    o[0] = (char)(0xE0 | v >> 12);
    o[1] = (char)(0x80 | (v >> 6 & 0x3F));
    o[2] = (char)(0x80 | (v & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (v >> 18 & 7));
  o[1] = (char)(0x80 | (v >> 12 & 0x3F));
  o[2] = (char)(0x80 | (v >> 6 & 0x3F));
  o[3] = (char)(0x80 | (v & 0x3F));
  return 4;
}

static uint32_t
pc_adapt(uint32_t delta, uint32_t points, bool first)
{
  delta = first ? delta / PC_DAMP : delta / 2;
  delta += delta / points;
  uint32_t k = 0;
  while (delta > ((PC_BASE - PC_TMIN) * PC_TMAX) / 2) {
    delta /= PC_BASE - PC_TMIN;
    k += PC_BASE;
  }
  return k + (PC_BASE - PC_TMIN + 1) * delta / (delta + PC_SKEW);
}

static char
pc_digit(uint32_t d)
{
  return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

static int
pc_value(char ch)
{
  if (ch >= 'a' && ch <= 'z') return ch - 'a';
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= '0' && ch <= '9') return ch - '0' + 26;
  return -1;
}

static uint32_t
pc_threshold(uint32_t k, uint32_t bias)
{
  return k <= bias ? PC_TMIN : k >= bias + PC_TMAX ? PC_TMAX : k - bias;
}

/* Encode n code points; false on overflow or lack of room. */
static bool
pc_encode(const uint32_t *cp, size_t n, char *o, size_t cap, size_t *outn)
{
  size_t w = 0, basic = 0;
  for (size_t i = 0; i < n; i++)
    if (cp[i] < 0x80) {
      if (w >= cap) return false;
      o[w++] = (char)cp[i];
      basic++;
    }
  if (basic) {
    if (w >= cap) return false;
    o[w++] = '-';
  }
  uint32_t code = PC_N, delta = 0, bias = PC_BIAS;
  size_t h = basic;
  while (h < n) {
    uint32_t m = UINT32_MAX;
    for (size_t i = 0; i < n; i++)
      if (cp[i] >= code && cp[i] < m) m = cp[i];
    if ((uint64_t)(m - code) * (h + 1) > UINT32_MAX - delta) return false;
    delta += (m - code) * (uint32_t)(h + 1);
    code = m;
    for (size_t i = 0; i < n; i++) {
      if (cp[i] < code && ++delta == 0) return false;
      if (cp[i] != code) continue;
      uint32_t q = delta;
      for (uint32_t k = PC_BASE;; k += PC_BASE) {
        uint32_t t = pc_threshold(k, bias);
        if (q < t) break;
        if (w >= cap) return false;
        o[w++] = pc_digit(t + (q - t) % (PC_BASE - t));
        q = (q - t) / (PC_BASE - t);
      }
      if (w >= cap) return false;
      o[w++] = pc_digit(q);
      bias = pc_adapt(delta, (uint32_t)h + 1, h == basic);
      delta = 0;
      h++;
    }
    delta++;
    code++;
  }
  *outn = w;
  return true;
}

/* Decode into code points; false if malformed. */
static bool
pc_decode(const char *s, size_t n, uint32_t *cp, size_t cap, size_t *outn)
{
  size_t basic = 0; /* code points before the last '-' are basic */
  bool delim = false;
  for (size_t i = 0; i < n; i++)
    if (s[i] == '-') {
      basic = i;
      delim = true;
    }
  size_t k = 0;
  for (size_t i = 0; i < basic; i++) {
    if ((unsigned char)s[i] >= 0x80 || k >= cap) return false;
    cp[k++] = (unsigned char)s[i];
  }
  uint32_t code = PC_N, bias = PC_BIAS, i = 0;
  for (size_t in = delim ? basic + 1 : 0; in < n;) {
    uint32_t old = i, w = 1;
    for (uint32_t kk = PC_BASE;; kk += PC_BASE) {
      if (in >= n) return false;
      int d = pc_value(s[in++]);
      if (d < 0) return false;
      if ((uint32_t)d > (UINT32_MAX - i) / w) return false;
      i += (uint32_t)d * w;
      uint32_t t = pc_threshold(kk, bias);
      if ((uint32_t)d < t) break;
      if (w > UINT32_MAX / (PC_BASE - t)) return false;
      w *= PC_BASE - t;
    }
    bias = pc_adapt(i - old, (uint32_t)k + 1, old == 0);
    code += i / ((uint32_t)k + 1);
    i %= (uint32_t)k + 1;
    if (k >= cap || code > 0x10FFFF) return false;
    memmove(cp + i + 1, cp + i, (k - i) * sizeof *cp);
    cp[i++] = code;
    k++;
  }
  *outn = k;
  return true;
}

static bool
is_label_sep(uint32_t v)
{
  return v == '.' || v == 0x3002 || v == 0xFF0E || v == 0xFF61;
}

/* punycode_to_string / punycode_domain_to_string. */
static void
to_puny(struct kql_ctx *c, struct kql_val *a, struct kql_val *out, bool domain)
{
  struct kql_val s = kql_fn_str(c, &a[0]);
  *out = kql_v_null(KQL_T_STRING);
  if (a[0].null || s.n > MAX_CP) return;
  uint32_t *cp = kql_alloc(c->a, (s.n + 1) * sizeof *cp);
  size_t ncp = utf8_decode(s.u.s, s.n, cp, s.n + 1);
  size_t cap = s.n * 8 + 16;
  char *o = kql_alloc(c->a, cap + 1);
  size_t w = 0;
  for (size_t i = 0; i <= ncp;) {
    size_t j = i;
    while (j < ncp && !(domain && is_label_sep(cp[j])))
      j++;
    bool ascii = true;
    for (size_t k = i; k < j; k++)
      if (cp[k] >= 0x80) ascii = false;
    if (ascii) {
      for (size_t k = i; k < j; k++)
        o[w++] = (char)cp[k];
    } else {
      size_t en;
      if (domain) {
        memcpy(o + w, "xn--", 4);
        w += 4;
      }
      if (!pc_encode(cp + i, j - i, o + w, cap - w, &en)) return;
      w += en;
    }
    if (j < ncp) o[w++] = '.';
    i = j + 1;
  }
  o[w] = 0;
  *out = kql_v_str(o, w);
}

/* punycode_from_string / punycode_domain_from_string. */
static void
from_puny(struct kql_ctx *c, struct kql_val *a, struct kql_val *out,
          bool domain)
{
  struct kql_val s = kql_fn_str(c, &a[0]);
  *out = kql_v_null(KQL_T_STRING);
  if (a[0].null || s.n > MAX_CP) return;
  uint32_t *cp = kql_alloc(c->a, (s.n + 1) * sizeof *cp);
  char *o = kql_alloc(c->a, s.n * 4 + 1);
  size_t w = 0;
  for (size_t i = 0; i <= s.n;) {
    size_t j = i;
    while (j < s.n && !(domain && s.u.s[j] == '.'))
      j++;
    const char *l = s.u.s + i;
    size_t ln = j - i;
    if (domain && !(ln >= 4 && !strncasecmp(l, "xn--", 4))) {
      memcpy(o + w, l, ln);
      w += ln;
    } else {
      if (domain) {
        l += 4;
        ln -= 4;
      }
      size_t ncp;
      if (!pc_decode(l, ln, cp, s.n + 1, &ncp)) return;
      for (size_t k = 0; k < ncp; k++)
        w += utf8_put(o + w, cp[k]);
    }
    if (j < s.n) o[w++] = '.';
    i = j + 1;
  }
  o[w] = 0;
  *out = kql_v_str(o, w);
}

static void
f_punycode_to_string(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                     uint32_t na, struct kql_val *out)
{
  (void)n;
  (void)na;
  to_puny(c, a, out, false);
}

static void
f_punycode_domain_to_string(struct kql_ctx *c, struct kql_node *n,
                            struct kql_val *a, uint32_t na, struct kql_val *out)
{
  (void)n;
  (void)na;
  to_puny(c, a, out, true);
}

static void
f_punycode_from_string(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                       uint32_t na, struct kql_val *out)
{
  (void)n;
  (void)na;
  from_puny(c, a, out, false);
}

static void
f_punycode_domain_from_string(struct kql_ctx *c, struct kql_node *n,
                              struct kql_val *a, uint32_t na,
                              struct kql_val *out)
{
  (void)n;
  (void)na;
  from_puny(c, a, out, true);
}

/* ------------------------------------------------------------ bags */

/* bag_zip(keys, values): key i gets value i (null when values is shorter
 * or not an array); keys that are not strings are left out. */
static void
f_bag_zip(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
          struct kql_val *out)
{
  (void)n;
  (void)na;
  struct kql_val keys, vals;
  if (!arr(c, &a[0], &keys)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  bool have_vals = arr(c, &a[1], &vals);
  struct kql_kv *kv = kql_alloc(c->a, (keys.n + 1) * sizeof *kv);
  uint32_t k = 0;
  for (uint32_t i = 0; i < keys.n; i++) {
    const struct kql_val *key = &keys.u.a[i];
    if (key->null || key->t != KQL_T_STRING) continue;
    uint32_t slot = k;
    for (uint32_t j = 0; j < k; j++)
      if (kv[j].kn == key->n && !memcmp(kv[j].k, key->u.s, key->n)) slot = j;
    if (slot == k) k++;
    kv[slot].k = key->u.s;
    kv[slot].kn = key->n;
    kv[slot].v = have_vals && i < vals.n ? kql_dyn_wrap(&vals.u.a[i])
                                         : kql_v_null(KQL_T_DYNAMIC);
  }
  struct kql_val r;
  memset(&r, 0, sizeof r);
  r.t = KQL_T_BAG;
  r.dyn = 1;
  r.n = k;
  r.u.kv = kv;
  *out = r;
}

/* pack_all(): kql_bind.c passes the flag ignore_null_empty, then each
 * column's name and value. */
static void
f_pack_all_columns(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                   uint32_t na, struct kql_val *out)
{
  (void)n;
  bool skip = !a[0].null && a[0].t == KQL_T_BOOL && a[0].u.b;
  struct kql_kv *kv = kql_alloc(c->a, (na / 2 + 1) * sizeof *kv);
  uint32_t k = 0;
  for (uint32_t i = 1; i + 1 < na; i += 2) {
    if (skip && kql_val_isempty(&a[i + 1])) continue;
    kv[k].k = a[i].u.s;
    kv[k].kn = a[i].n;
    kv[k].v = kql_dyn_wrap(&a[i + 1]);
    if (a[i + 1].null && a[i + 1].t == KQL_T_STRING) kv[k].v = dyn_str("", 0);
    k++;
  }
  struct kql_val r;
  memset(&r, 0, sizeof r);
  r.t = KQL_T_BAG;
  r.dyn = 1;
  r.n = k;
  r.u.kv = kv;
  *out = r;
}

/* Keep sorted by name. */
const struct kql_fn kql_text_fns[] = {
    {"bag_zip", 2, 2, KQL_T_DYNAMIC, 0, f_bag_zip},
    {"base64_decode_toguid", 1, 1, KQL_T_GUID, 0, f_base64_decode_toguid},
    {"base64_encode_fromguid", 1, 1, KQL_T_STRING, 0, f_base64_encode_fromguid},
    {"gzip_compress_to_base64_string", 1, 1, KQL_T_STRING, 0, f_gzip_compress},
    {"gzip_decompress_from_base64_string", 1, 1, KQL_T_STRING, 0,
     f_gzip_decompress},
    {"has_any_index", 2, 2, KQL_T_LONG, 0, f_has_any_index},
    {"pack_all_columns", 1, 255, KQL_T_DYNAMIC, 0, f_pack_all_columns},
    {"parse_command_line", 2, 2, KQL_T_DYNAMIC, 0, f_parse_command_line},
    {"punycode_domain_from_string", 1, 1, KQL_T_STRING, 0,
     f_punycode_domain_from_string},
    {"punycode_domain_to_string", 1, 1, KQL_T_STRING, 0,
     f_punycode_domain_to_string},
    {"punycode_from_string", 1, 1, KQL_T_STRING, 0, f_punycode_from_string},
    {"punycode_to_string", 1, 1, KQL_T_STRING, 0, f_punycode_to_string},
    {"replace_strings", 3, 3, KQL_T_STRING, 0, f_replace_strings},
    {"zlib_compress_to_base64_string", 1, 1, KQL_T_STRING, 0, f_zlib_compress},
    {"zlib_decompress_from_base64_string", 1, 1, KQL_T_STRING, 0,
     f_zlib_decompress},
};
const size_t kql_text_nfns = sizeof kql_text_fns / sizeof kql_text_fns[0];
