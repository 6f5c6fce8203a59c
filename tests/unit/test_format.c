/*
 * test_format.c - unit tests of the value formatters (etwcat/evt_format.c).
 *
 * Regular cases compare the exact text of IPv4, IPv6 (the RFC 5952
 * corner cases), socket addresses, SIDs, SYSTEMTIME, FILETIME, hex and
 * decimal; error cases check that malformed input gives 0 and an empty
 * string. The decoder that picks the formatters is tested in
 * test_decode.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "etwcat/evt_format.h"
#include "tests/unit/check.h"

#include <string.h>

/* Hex digits (spaces ignored) into out; returns the byte count. */
static size_t
unhex(const char *h, uint8_t *out, size_t cap)
{
  size_t n = 0;
  int hi = -1;
  for (; *h; h++) {
    int v;
    if (*h >= '0' && *h <= '9')
      v = *h - '0';
    else if (*h >= 'a' && *h <= 'f')
      v = *h - 'a' + 10;
    else if (*h >= 'A' && *h <= 'F')
      v = *h - 'A' + 10;
    else
      continue;
    if (hi < 0) {
      hi = v;
    } else if (n < cap) {
      out[n++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  return n;
}

static const char *
v6(const char *hex)
{
  static char out[EVT_FMT_IPV6_MAX];
  uint8_t a[16];
  CHECK(unhex(hex, a, sizeof a) == 16);
  size_t n = evt_fmt_ipv6(a, out);
  CHECK(n == strlen(out));
  return out;
}

static const char *
sa(const char *hex, bool tx)
{
  static char out[EVT_FMT_SOCKADDR_MAX];
  uint8_t a[64];
  size_t n = unhex(hex, a, sizeof a);
  size_t k = evt_fmt_sockaddr(a, n, tx, out);
  CHECK(k == strlen(out));
  return out;
}

static const char *
sid(const char *hex)
{
  static char out[EVT_FMT_SID_MAX];
  uint8_t a[128];
  size_t n = unhex(hex, a, sizeof a);
  size_t k = evt_fmt_sid(a, n, out);
  CHECK(k == strlen(out));
  return out;
}

static void
test_numbers(void)
{
  char b[EVT_FMT_U64_MAX];
  CHECK(evt_fmt_u64(0, b) == 1);
  CHECK_STR(b, "0");
  evt_fmt_u64(UINT64_MAX, b);
  CHECK_STR(b, "18446744073709551615");
  static const struct {
    uint64_t v;
    const char *t;
  } dec[] = {{9, "9"},
             {10, "10"},
             {99, "99"},
             {100, "100"},
             {999, "999"},
             {1000, "1000"},
             {9999, "9999"},
             {10000, "10000"},
             {100001, "100001"},
             {4294967295u, "4294967295"},
             {9999999999999999999u, "9999999999999999999"},
             {10000000000000000000u, "10000000000000000000"}};
  for (size_t i = 0; i < sizeof dec / sizeof dec[0]; i++) {
    CHECK(evt_fmt_u64(dec[i].v, b) == strlen(dec[i].t));
    CHECK_STR(b, dec[i].t);
  }
  char h[EVT_FMT_HEX_MAX];
  CHECK(evt_fmt_hex(0, h) == 3);
  CHECK_STR(h, "0x0");
  evt_fmt_hex(0xDEADBEEF, h);
  CHECK_STR(h, "0xDEADBEEF");
  CHECK(evt_fmt_hex(UINT64_MAX, h) == EVT_FMT_HEX_MAX - 1);
  CHECK_STR(h, "0xFFFFFFFFFFFFFFFF");
  evt_fmt_hex(0x1a2b, h);
  CHECK_STR(h, "0x1A2B");
}

static void
test_ipv4(void)
{
  char b[EVT_FMT_IPV4_MAX];
  static const uint8_t a[4] = {157, 56, 244, 38};
  static const uint8_t z[4] = {0, 0, 0, 0};
  static const uint8_t m[4] = {255, 255, 255, 255};
  static const uint8_t t[4] = {10, 0, 99, 100};
  CHECK(evt_fmt_ipv4(a, b) == 13);
  CHECK_STR(b, "157.56.244.38");
  evt_fmt_ipv4(z, b);
  CHECK_STR(b, "0.0.0.0");
  CHECK(evt_fmt_ipv4(m, b) == EVT_FMT_IPV4_MAX - 1);
  CHECK_STR(b, "255.255.255.255");
  evt_fmt_ipv4(t, b);
  CHECK_STR(b, "10.0.99.100");
}

static void
test_ipv6(void)
{
  /* RFC 5952 section 4 and the usual corner cases. */
  CHECK_STR(v6("00000000000000000000000000000000"), "::");
  CHECK_STR(v6("00000000000000000000000000000001"), "::1");
  CHECK_STR(v6("00010000000000000000000000000000"), "1::");
  CHECK_STR(v6("20010db8000000000000000000000001"), "2001:db8::1");
  /* Leading zeros dropped, lowercase. */
  CHECK_STR(v6("20010DB800AB0C0D000E00F000000ABC"),
            "2001:db8:ab:c0d:e:f0:0:abc");
  /* A single zero group is not compressed. */
  CHECK_STR(v6("20010db8000000010001000100010001"), "2001:db8:0:1:1:1:1:1");
  /* Equal runs: the first is compressed. */
  CHECK_STR(v6("20010db8000000000001000000000001"), "2001:db8::1:0:0:1");
  /* The longest run wins even when it comes later. */
  CHECK_STR(v6("20010000000000010000000000000001"), "2001:0:0:1::1");
  CHECK_STR(v6("00000000000100000000000000000000"), "0:0:1::");
  /* A run at the end. */
  CHECK_STR(v6("fe800000000000000000000000000000"), "fe80::");
  CHECK_STR(v6("fe800000000000000000000000000001"), "fe80::1");
  /* No zero group at all: the longest text. */
  CHECK_STR(v6("ffffffffffffffffffffffffffffffff"),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  CHECK(strlen(v6("ffffffffffffffffffffffffffffffff")) < EVT_FMT_IPV6_MAX);
  /* IPv4-mapped. */
  CHECK_STR(v6("00000000000000000000ffffc0000201"), "::ffff:192.0.2.1");
  CHECK_STR(v6("00000000000000000000ffff00000000"), "::ffff:0.0.0.0");
  CHECK_STR(v6("00000000000000000000ffffffffffff"), "::ffff:255.255.255.255");
  /* Not mapped: other prefixes stay hex. */
  CHECK_STR(v6("00000000000000000001ffffc0000201"), "::1:ffff:c000:201");
  CHECK_STR(v6("000000000000000000000000c0000201"), "::c000:201");
  CHECK_STR(v6("0064ff9b0000000000000000c0000201"), "64:ff9b::c000:201");
}

static void
test_sockaddr(void)
{
  /* AF_INET, port 80 in network order, padding after. */
  CHECK_STR(sa("0200 0050 c0a80001 0000000000000000", false), "192.168.0.1:80");
  CHECK_STR(sa("0200 01bb 9d38f426", true), "157.56.244.38:443");
  /* AF_INET6 with a scope id. */
  CHECK_STR(sa("1700 01bb 00000000 fe800000000000000000000000000001 "
               "05000000",
               false),
            "[fe80::1%5]:443");
  CHECK_STR(sa("1700 01bb 00000000 fe800000000000000000000000000001 "
               "05000000",
               true),
            "fe80::1%5:443");
  CHECK_STR(sa("1700 0035 00000000 20010db8000000000000000000000001 "
               "00000000",
               false),
            "[2001:db8::1]:53");
  /* SOCKADDR_IN6_OLD: no scope field. */
  CHECK_STR(sa("1700 ffff 00000000 00000000000000000000000000000001", false),
            "[::1]:65535");
  /* Longest text fits. */
  {
    char out[EVT_FMT_SOCKADDR_MAX];
    uint8_t a[28];
    unhex("1700 ffff 00000000 ffffffffffffffffffffffffffffffff ffffffff", a,
          sizeof a);
    size_t n = evt_fmt_sockaddr(a, sizeof a, false, out);
    CHECK(n < EVT_FMT_SOCKADDR_MAX);
    CHECK_STR(out, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]"
                   ":65535");
  }
}

static void
test_sockaddr_errors(void)
{
  char out[EVT_FMT_SOCKADDR_MAX];
  uint8_t a[32];
  /* Unknown family, short AF_INET, short AF_INET6, too short for the
   * family: 0 and an empty string. */
  size_t n = unhex("0100 0102", a, sizeof a);
  CHECK(evt_fmt_sockaddr(a, n, false, out) == 0 && !out[0]);
  n = unhex("0200 0050 c0a800", a, sizeof a);
  CHECK(evt_fmt_sockaddr(a, n, false, out) == 0 && !out[0]);
  n = unhex("1700 0050 00000000 00000000000000000000000000", a, sizeof a);
  CHECK(evt_fmt_sockaddr(a, n, false, out) == 0 && !out[0]);
  CHECK(evt_fmt_sockaddr(a, 1, false, out) == 0 && !out[0]);
  CHECK(evt_fmt_sockaddr(a, 0, false, out) == 0 && !out[0]);
}

static void
test_sid(void)
{
  CHECK_STR(sid("0105 000000000005 15000000 a1b2c3d4 11223344 55667788 "
                "e9030000"),
            "S-1-5-21-3569595041-1144201745-2289526357-1001");
  CHECK_STR(sid("0101 000000000005 12000000"), "S-1-5-18");
  CHECK_STR(sid("0100 000000000001"), "S-1-1");
  /* Authority of 2^32 or more: hex, 12 digits. */
  CHECK_STR(sid("0101 0a0000000001 07000000"), "S-1-0x0A0000000001-7");
  /* Trailing bytes after the SID are ignored. */
  CHECK_STR(sid("0101 000000000005 12000000 ffff"), "S-1-5-18");
  /* Longest: 15 sub-authorities of 4294967295, huge authority. */
  {
    uint8_t a[68];
    char out[EVT_FMT_SID_MAX];
    memset(a, 0xff, sizeof a);
    a[1] = 15;
    size_t n = evt_fmt_sid(a, sizeof a, out);
    CHECK(n == strlen(out) && n < EVT_FMT_SID_MAX);
    CHECK(evt_sid_size(a, sizeof a) == 68);
  }
  uint8_t a[16];
  size_t n = unhex("0102 000000000005 15000000 16000000", a, sizeof a);
  CHECK(evt_sid_size(a, n) == 16);
}

static void
test_sid_errors(void)
{
  uint8_t a[80];
  char out[EVT_FMT_SID_MAX];
  /* 16 sub-authorities; short header; count beyond the bytes. */
  memset(a, 0, sizeof a);
  a[0] = 1;
  a[1] = 16;
  CHECK(evt_sid_size(a, sizeof a) == 0);
  CHECK(evt_fmt_sid(a, sizeof a, out) == 0 && !out[0]);
  a[1] = 1;
  CHECK(evt_sid_size(a, 7) == 0);
  CHECK(evt_sid_size(a, 11) == 0);
  CHECK(evt_sid_size(a, 12) == 12);
  CHECK(evt_fmt_sid(a, 11, out) == 0 && !out[0]);
}

static void
test_times(void)
{
  char b[EVT_FMT_TIME_MAX];
  uint8_t st[16];
  unhex("e807 0200 0500 1d00 0d00 0500 0900 0700", st, sizeof st);
  CHECK(evt_fmt_systemtime(st, false, b) == 23);
  CHECK_STR(b, "2024-02-29T13:05:09.007");
  evt_fmt_systemtime(st, true, b);
  CHECK_STR(b, "2024-02-29T13:05:09.007Z");
  memset(st, 0, sizeof st);
  evt_fmt_systemtime(st, false, b);
  CHECK_STR(b, "0000-00-00T00:00:00.000");
  memset(st, 0xff, sizeof st);
  CHECK(evt_fmt_systemtime(st, true, b) < EVT_FMT_TIME_MAX);
  CHECK_STR(b, "65535-65535-65535T65535:65535:65535.65535Z");

  CHECK(evt_fmt_filetime(129205931611234567ULL, false, b) == 27);
  CHECK_STR(b, "2010-06-09T21:39:21.1234567");
  evt_fmt_filetime(129205931611234567ULL, true, b);
  CHECK_STR(b, "2010-06-09T21:39:21.1234567Z");
  evt_fmt_filetime(0, false, b);
  CHECK_STR(b, "1601-01-01T00:00:00.0000000");
  evt_fmt_filetime(2650467743999999999ULL, false, b);
  CHECK_STR(b, "9999-12-31T23:59:59.9999999");
  CHECK(evt_fmt_filetime(2650467744000000000ULL, false, b) == 0 && !b[0]);
  CHECK(evt_fmt_filetime(UINT64_MAX, false, b) == 0);
}

int
main(void)
{
  /* Regular cases. */
  test_numbers();
  test_ipv4();
  test_ipv6();
  test_sockaddr();
  test_sid();
  test_times();
  /* Error cases. */
  test_sockaddr_errors();
  test_sid_errors();
  return check_result();
}
