/*
 * evt_format.c - text forms of ETW payload values (see evt_format.h).
 *
 * Everything here is hand-written digit generation: these run for every
 * address and port of every Kernel-Network event, where snprintf would
 * cost more than the rest of the decoding. Rules: etw-schemas.md
 * section 7, RFC 5952 for IPv6.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "etwcat/evt_format.h"

#include "lib/bytes.h"
#include "lib/jsonw.h"

static const char hex_upper[] = "0123456789ABCDEF";
static const char hex_lower[] = "0123456789abcdef";

/* "00".."99": two digits per lookup halve the divisions. */
static const char dig2[201] = "00010203040506070809"
                              "10111213141516171819"
                              "20212223242526272829"
                              "30313233343536373839"
                              "40414243444546474849"
                              "50515253545556575859"
                              "60616263646566676869"
                              "70717273747576777879"
                              "80818283848586878889"
                              "90919293949596979899";

static unsigned
ndigits(uint64_t v)
{
  unsigned n = 1;
  for (;;) {
    if (v < 10) return n;
    if (v < 100) return n + 1;
    if (v < 1000) return n + 2;
    if (v < 10000) return n + 3;
    v /= 10000;
    n += 4;
  }
}

/* Decimal digits of v at o; returns the end. */
static char *
put_dec(char *o, uint64_t v)
{
  char *e = o + ndigits(v), *q = e;
  while (v >= 100) {
    unsigned r = (unsigned)(v % 100);
    v /= 100;
    q -= 2;
    q[0] = dig2[2 * r];
    q[1] = dig2[2 * r + 1];
  }
  if (v >= 10) {
    q -= 2;
    q[0] = dig2[2 * v];
    q[1] = dig2[2 * v + 1];
  } else {
    *--q = (char)('0' + v);
  }
  return e;
}

/* v with at least w digits (zero-padded). */
static char *
put_dec_w(char *o, uint32_t v, int w)
{
  for (int n = (int)ndigits(v); n < w; n++)
    *o++ = '0';
  return put_dec(o, v);
}

/* One byte in decimal, 1 to 3 digits. */
static char *
put_u8(char *o, unsigned v)
{
  if (v >= 100) {
    *o++ = (char)('0' + v / 100);
    v %= 100;
    *o++ = dig2[2 * v];
    *o++ = dig2[2 * v + 1];
  } else if (v >= 10) {
    *o++ = dig2[2 * v];
    *o++ = dig2[2 * v + 1];
  } else {
    *o++ = (char)('0' + v);
  }
  return o;
}

size_t
evt_fmt_u64(uint64_t v, char *out)
{
  char *o = put_dec(out, v);
  *o = 0;
  return (size_t)(o - out);
}

size_t
evt_fmt_hex(uint64_t v, char *out)
{
  char t[16];
  int n = 0;
  char *o = out;
  do {
    t[n++] = hex_upper[v & 15];
    v >>= 4;
  } while (v);
  *o++ = '0';
  *o++ = 'x';
  while (n)
    *o++ = t[--n];
  *o = 0;
  return (size_t)(o - out);
}

static char *
put_ipv4(char *o, const uint8_t a[4])
{
  o = put_u8(o, a[0]);
  *o++ = '.';
  o = put_u8(o, a[1]);
  *o++ = '.';
  o = put_u8(o, a[2]);
  *o++ = '.';
  return put_u8(o, a[3]);
}

size_t
evt_fmt_ipv4(const uint8_t a[4], char *out)
{
  char *o = put_ipv4(out, a);
  *o = 0;
  return (size_t)(o - out);
}

/* One IPv6 group, lowercase, without leading zeros. */
static char *
put_group(char *o, unsigned g)
{
  int started = 0;
  for (int sh = 12; sh >= 0; sh -= 4) {
    unsigned d = (g >> sh) & 15;
    if (d || started || sh == 0) {
      *o++ = hex_lower[d];
      started = 1;
    }
  }
  return o;
}

static char *
put_ipv6(char *o, const uint8_t a[16])
{
  unsigned g[8];
  for (int i = 0; i < 8; i++)
    g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];

  /* IPv4-mapped: 80 zero bits, 16 one bits, then the IPv4 address. */
  if (!g[0] && !g[1] && !g[2] && !g[3] && !g[4] && g[5] == 0xFFFF) {
    static const char pre[] = "::ffff:";
    for (size_t i = 0; i < sizeof pre - 1; i++)
      *o++ = pre[i];
    return put_ipv4(o, a + 12);
  }

  /* RFC 5952 4.2: the longest run of at least two zero groups; the
   * first one when runs tie. */
  int best = -1, bestlen = 0;
  for (int i = 0; i < 8;) {
    if (g[i]) {
      i++;
      continue;
    }
    int j = i;
    while (j < 8 && !g[j])
      j++;
    if (j - i > bestlen && j - i >= 2) {
      best = i;
      bestlen = j - i;
    }
    i = j;
  }

  for (int i = 0; i < 8;) {
    if (i == best) {
      *o++ = ':';
      *o++ = ':';
      i += bestlen;
      continue;
    }
    if (i > 0 && !(best >= 0 && i == best + bestlen)) *o++ = ':';
    o = put_group(o, g[i]);
    i++;
  }
  return o;
}

size_t
evt_fmt_ipv6(const uint8_t a[16], char *out)
{
  char *o = put_ipv6(out, a);
  *o = 0;
  return (size_t)(o - out);
}

size_t
evt_fmt_sockaddr(const uint8_t *p, size_t n, bool tx_compat, char *out)
{
  char *o = out;
  *o = 0;
  if (n < 2) return 0;
  unsigned fam = le16(p);
  if (fam == EVT_AF_INET && n >= 8) {
    unsigned port = (unsigned)p[2] << 8 | p[3];
    o = put_ipv4(o, p + 4);
    *o++ = ':';
    o = put_dec(o, port);
  } else if (fam == EVT_AF_INET6 && n >= 24) {
    /* SOCKADDR_IN6: family, port, flowinfo, address at 8, scope at 24
     * (absent in the 24-byte SOCKADDR_IN6_OLD). */
    unsigned port = (unsigned)p[2] << 8 | p[3];
    uint32_t scope = n >= 28 ? le32(p + 24) : 0;
    if (!tx_compat) *o++ = '[';
    o = put_ipv6(o, p + 8);
    if (scope) {
      *o++ = '%';
      o = put_dec(o, scope);
    }
    if (!tx_compat) *o++ = ']';
    *o++ = ':';
    o = put_dec(o, port);
  } else {
    return 0;
  }
  *o = 0;
  return (size_t)(o - out);
}

size_t
evt_sid_size(const uint8_t *p, size_t n)
{
  if (n < 8 || p[1] > 15) return 0;
  size_t need = 8 + 4 * (size_t)p[1];
  return need <= n ? need : 0;
}

size_t
evt_fmt_sid(const uint8_t *p, size_t n, char *out)
{
  size_t size = evt_sid_size(p, n);
  *out = 0;
  if (!size) return 0;
  char *o = out;
  *o++ = 'S';
  *o++ = '-';
  o = put_u8(o, p[0]);
  *o++ = '-';
  uint64_t auth = 0;
  for (int i = 2; i < 8; i++)
    auth = auth << 8 | p[i];
  if (auth >> 32) {
    *o++ = '0';
    *o++ = 'x';
    for (int i = 2; i < 8; i++) {
      *o++ = hex_upper[p[i] >> 4];
      *o++ = hex_upper[p[i] & 15];
    }
  } else {
    o = put_dec(o, auth);
  }
  for (unsigned i = 0; i < p[1]; i++) {
    *o++ = '-';
    o = put_dec(o, le32(p + 8 + 4 * i));
  }
  *o = 0;
  return (size_t)(o - out);
}

size_t
evt_fmt_systemtime(const uint8_t p[16], bool z, char *out)
{
  char *o = out;
  o = put_dec_w(o, le16(p), 4);
  *o++ = '-';
  o = put_dec_w(o, le16(p + 2), 2);
  *o++ = '-';
  o = put_dec_w(o, le16(p + 6), 2); /* p + 4 is the day of the week */
  *o++ = 'T';
  o = put_dec_w(o, le16(p + 8), 2);
  *o++ = ':';
  o = put_dec_w(o, le16(p + 10), 2);
  *o++ = ':';
  o = put_dec_w(o, le16(p + 12), 2);
  *o++ = '.';
  o = put_dec_w(o, le16(p + 14), 3);
  if (z) *o++ = 'Z';
  *o = 0;
  return (size_t)(o - out);
}

/* 10000-01-01T00:00:00 in ticks since 1601: the first time that would
 * need a five-digit year. */
#define FILETIME_END 2650467744000000000ULL

size_t
evt_fmt_filetime(uint64_t ticks, bool z, char *out)
{
  *out = 0;
  if (ticks >= FILETIME_END) return 0;
  return filetime_fmt((int64_t)ticks, 7, z, out);
}
