/*
 * kql_func_net.c - IPv6 functions and IPv4 ranges as CIDR lists.
 *
 * An address is 128 bits with a prefix length. IPv4 text
 * ("a.b.c.d[/p]") reads as the IPv4-mapped address ::ffff:a.b.c.d with
 * prefix 96 + p, so the two families compare with each other as Kusto
 * documents. Comparisons use the smallest of the two addresses' own
 * prefixes and the optional prefix argument. The IPv4-only functions
 * (parse_ipv4, ipv4_compare, ...) are in kql_func_dyn.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_func.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

struct ip6 {
  uint8_t b[16];
  int prefix; /* 0..128 */
};

static int
hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Dotted quad at s[0..n) into out[4]; false if malformed. */
static bool
parse_quad(const char *s, size_t n, uint8_t out[4])
{
  size_t i = 0;
  for (int part = 0; part < 4; part++) {
    unsigned v = 0;
    size_t d = 0;
    while (i < n && isdigit((unsigned char)s[i]) && d < 3) {
      v = v * 10 + (unsigned)(s[i++] - '0');
      d++;
    }
    if (!d || v > 255) return false;
    out[part] = (uint8_t)v;
    if (part < 3) {
      if (i >= n || s[i] != '.') return false;
      i++;
    }
  }
  return i == n;
}

/* Hex groups with at most one "::", maybe ending in a dotted quad. */
static bool
parse_v6(const char *s, size_t n, uint8_t out[16])
{
  uint16_t head[8], tail[8];
  int nh = 0, nt = 0;
  bool gap = false;
  size_t i = 0;
  if (n >= 2 && s[0] == ':' && s[1] == ':') {
    gap = true;
    i = 2;
  }
  while (i < n) {
    /* An IPv4 tail takes the last 32 bits. */
    size_t j = i;
    while (j < n && s[j] != ':')
      j++;
    if (memchr(s + i, '.', j - i)) {
      uint8_t q[4];
      if (j != n || !parse_quad(s + i, n - i, q)) return false;
      uint16_t *g = gap ? tail : head;
      int *cnt = gap ? &nt : &nh;
      if (*cnt > 6) return false;
      g[(*cnt)++] = (uint16_t)(q[0] << 8 | q[1]);
      g[(*cnt)++] = (uint16_t)(q[2] << 8 | q[3]);
      i = n;
      break;
    }
    if (j == i || j - i > 4) return false;
    unsigned v = 0;
    for (size_t k = i; k < j; k++) {
      int h = hexval(s[k]);
      if (h < 0) return false;
      v = v << 4 | (unsigned)h;
    }
    if ((gap ? nt : nh) >= 8) return false;
    if (gap)
      tail[nt++] = (uint16_t)v;
    else
      head[nh++] = (uint16_t)v;
    i = j;
    if (i < n) {
      i++; /* ':' */
      if (i < n && s[i] == ':') {
        if (gap) return false;
        gap = true;
        i++;
      } else if (i == n) {
        return false;
      }
    }
  }
  if (gap ? nh + nt > 7 : nh != 8) return false;
  memset(out, 0, 16);
  for (int k = 0; k < nh; k++) {
    out[2 * k] = (uint8_t)(head[k] >> 8);
    out[2 * k + 1] = (uint8_t)head[k];
  }
  for (int k = 0; k < nt; k++) {
    int at = 8 - nt + k;
    out[2 * at] = (uint8_t)(tail[k] >> 8);
    out[2 * at + 1] = (uint8_t)tail[k];
  }
  return true;
}

/* IPv6 or IPv4 text, with an optional /prefix. */
static bool
ip6_parse(const char *s, size_t n, struct ip6 *ip)
{
  while (n && isspace((unsigned char)*s)) {
    s++;
    n--;
  }
  while (n && isspace((unsigned char)s[n - 1]))
    n--;
  const char *slash = memchr(s, '/', n);
  size_t an = slash ? (size_t)(slash - s) : n;
  int pfx = -1;
  if (slash) {
    size_t k = an + 1;
    if (k >= n || n - k > 3) return false;
    pfx = 0;
    for (; k < n; k++) {
      if (!isdigit((unsigned char)s[k])) return false;
      pfx = pfx * 10 + (s[k] - '0');
    }
  }
  uint8_t q[4];
  if (!memchr(s, ':', an)) {
    if (!parse_quad(s, an, q) || pfx > 32) return false;
    memset(ip->b, 0, 16);
    ip->b[10] = ip->b[11] = 0xff;
    memcpy(ip->b + 12, q, 4);
    ip->prefix = pfx < 0 ? 128 : 96 + pfx;
    return true;
  }
  if (!parse_v6(s, an, ip->b) || pfx > 128) return false;
  ip->prefix = pfx < 0 ? 128 : pfx;
  return true;
}

static bool
ip6_arg(struct kql_ctx *c, const struct kql_val *v, struct ip6 *ip)
{
  if (v->null) return false;
  struct kql_val s = kql_fn_str(c, v);
  return ip6_parse(s.u.s, s.n, ip);
}

static void
ip6_mask(uint8_t b[16], int prefix)
{
  for (int i = 0; i < 16; i++) {
    int keep = prefix - 8 * i;
    if (keep >= 8) continue;
    b[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
  }
}

/* -1, 0, 1, or 2 when an argument is not an address. */
static int
ip6_cmp(struct kql_ctx *c, struct kql_val *a, uint32_t na)
{
  struct ip6 x, y;
  if (!ip6_arg(c, &a[0], &x) || !ip6_arg(c, &a[1], &y)) return 2;
  int p = x.prefix < y.prefix ? x.prefix : y.prefix;
  int64_t pm;
  if (na > 2 && kql_fn_long(&a[2], &pm)) {
    if (pm < 0 || pm > 128) return 2;
    if (pm < p) p = (int)pm;
  }
  ip6_mask(x.b, p);
  ip6_mask(y.b, p);
  int r = memcmp(x.b, y.b, 16);
  return r < 0 ? -1 : r > 0;
}

static void
f_ipv6_compare(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
               uint32_t na, struct kql_val *out)
{
  (void)n;
  int r = ip6_cmp(c, a, na);
  *out = r == 2 ? kql_v_null(KQL_T_LONG) : kql_v_long(r);
}

static void
f_ipv6_is_match(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                uint32_t na, struct kql_val *out)
{
  (void)n;
  int r = ip6_cmp(c, a, na);
  *out = r == 2 ? kql_v_null(KQL_T_BOOL) : kql_v_bool(r == 0);
}

/* ipv6_is_in_range(ip, range): the range's prefix decides. */
static void
f_ipv6_is_in_range(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                   uint32_t na, struct kql_val *out)
{
  (void)n;
  (void)na;
  struct ip6 x, r;
  if (!ip6_arg(c, &a[0], &x) || !ip6_arg(c, &a[1], &r)) {
    *out = kql_v_null(KQL_T_BOOL);
    return;
  }
  ip6_mask(x.b, r.prefix);
  ip6_mask(r.b, r.prefix);
  *out = kql_v_bool(!memcmp(x.b, r.b, 16));
}

/* The canonical text: 8 groups of 4 lowercase hex digits. */
static struct kql_val
fmt_ip6(struct kql_ctx *c, const uint8_t b[16])
{
  static const char hx[] = "0123456789abcdef";
  char *o = kql_alloc(c->a, 40);
  size_t k = 0;
  for (int i = 0; i < 16; i++) {
    if (i && !(i & 1)) o[k++] = ':';
    o[k++] = hx[b[i] >> 4];
    o[k++] = hx[b[i] & 15];
  }
  o[k] = 0;
  return kql_v_str(o, k);
}

/* parse_ipv6(s): the canonical form with the prefix applied. */
static void
f_parse_ipv6(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
             uint32_t na, struct kql_val *out)
{
  (void)n;
  (void)na;
  struct ip6 x;
  if (!ip6_arg(c, &a[0], &x)) {
    *out = kql_v_null(KQL_T_STRING);
    return;
  }
  ip6_mask(x.b, x.prefix);
  *out = fmt_ip6(c, x.b);
}

/* parse_ipv6_mask(ip, prefix): an IPv4 address takes an IPv4 prefix. */
static void
f_parse_ipv6_mask(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                  uint32_t na, struct kql_val *out)
{
  (void)n;
  (void)na;
  struct ip6 x;
  int64_t pm;
  if (!ip6_arg(c, &a[0], &x) || !kql_fn_long(&a[1], &pm) || pm < 0 ||
      pm > 128) {
    *out = kql_v_null(KQL_T_STRING);
    return;
  }
  struct kql_val s = kql_fn_str(c, &a[0]);
  if (!memchr(s.u.s, ':', s.n)) pm = 96 + (pm > 32 ? 32 : pm);
  ip6_mask(x.b, x.prefix < pm ? x.prefix : (int)pm);
  *out = fmt_ip6(c, x.b);
}

/* ipv4_range_to_cidr_list(start, end): the fewest CIDR blocks covering
 * the range. */
static void
f_ipv4_range_to_cidr_list(struct kql_ctx *c, struct kql_node *n,
                          struct kql_val *a, uint32_t na, struct kql_val *out)
{
  (void)n;
  (void)na;
  struct ip6 x, y;
  *out = kql_v_null(KQL_T_DYNAMIC);
  if (!ip6_arg(c, &a[0], &x) || !ip6_arg(c, &a[1], &y)) return;
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (memcmp(x.b, mapped, 12) || memcmp(y.b, mapped, 12)) return;
  uint64_t lo = (uint64_t)x.b[12] << 24 | (uint64_t)x.b[13] << 16 |
                (uint64_t)x.b[14] << 8 | x.b[15];
  uint64_t hi = (uint64_t)y.b[12] << 24 | (uint64_t)y.b[13] << 16 |
                (uint64_t)y.b[14] << 8 | y.b[15];
  struct kql_val *el = kql_alloc(c->a, 64 * sizeof *el);
  uint32_t cnt = 0;
  while (lo <= hi && cnt < 64) {
    int bits = 0; /* block size 2^bits: aligned at lo, inside the range */
    while (bits < 32 && !(lo & ((1ull << (bits + 1)) - 1)) &&
           lo + (1ull << (bits + 1)) - 1 <= hi)
      bits++;
    char *o = kql_alloc(c->a, 24);
    int k = snprintf(o, 24, "%u.%u.%u.%u/%d", (unsigned)(lo >> 24 & 255),
                     (unsigned)(lo >> 16 & 255), (unsigned)(lo >> 8 & 255),
                     (unsigned)(lo & 255), 32 - bits);
    el[cnt] = kql_v_str(o, (size_t)k);
    el[cnt++].dyn = 1;
    lo += 1ull << bits;
  }
  struct kql_val r;
  memset(&r, 0, sizeof r);
  r.t = KQL_T_ARRAY;
  r.dyn = 1;
  r.n = cnt;
  r.u.a = el;
  *out = r;
}

/* ---------------------------------------------------------- lookups */

bool
kql_ip6_parse(const char *s, size_t n, uint8_t bytes[16], int *prefix)
{
  struct ip6 x;
  if (!ip6_parse(s, n, &x)) return false;
  memcpy(bytes, x.b, 16);
  *prefix = x.prefix;
  return true;
}

bool
kql_ip6_in(const uint8_t ip[16], const uint8_t net[16], int prefix)
{
  uint8_t x[16], y[16];
  memcpy(x, ip, 16);
  memcpy(y, net, 16);
  ip6_mask(x, prefix);
  ip6_mask(y, prefix);
  return !memcmp(x, y, 16);
}

/* Keep sorted by name. */
const struct kql_fn kql_net_fns[] = {
    {"ipv4_range_to_cidr_list", 2, 2, KQL_T_DYNAMIC, 0,
     f_ipv4_range_to_cidr_list},
    {"ipv6_compare", 2, 3, KQL_T_LONG, 0, f_ipv6_compare},
    {"ipv6_is_in_range", 2, 2, KQL_T_BOOL, 0, f_ipv6_is_in_range},
    {"ipv6_is_match", 2, 3, KQL_T_BOOL, 0, f_ipv6_is_match},
    {"parse_ipv6", 1, 1, KQL_T_STRING, 0, f_parse_ipv6},
    {"parse_ipv6_mask", 2, 2, KQL_T_STRING, 0, f_parse_ipv6_mask},
};
const size_t kql_net_nfns = sizeof kql_net_fns / sizeof kql_net_fns[0];
