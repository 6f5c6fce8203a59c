/*
 * evt_format.h - text forms of ETW payload values (addresses, SIDs, times).
 *
 * Small pure functions that turn the bytes of one value into the text
 * etwcat prints for it (etw-schemas.md section 7): IPv4, IPv6 (RFC 5952),
 * socket addresses, SIDs, SYSTEMTIME, FILETIME, hex and decimal numbers.
 * They read only the bytes they are given and write into a caller buffer
 * of at least the EVT_FMT_*_MAX size; the text is NUL-terminated and the
 * return value is its length without the NUL. No allocation, no printf:
 * evt_decode.c calls them on the hot path. Deciding which formatter a
 * field gets, and writing it as JSON, is evt_decode.c's job.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ETWCAT_EVT_FORMAT_H
#define ETWCAT_EVT_FORMAT_H

#include "lib/platform.h"

/* Output buffer sizes, NUL included. */
#define EVT_FMT_U64_MAX 21      /* 18446744073709551615 */
#define EVT_FMT_HEX_MAX 19      /* 0xFFFFFFFFFFFFFFFF */
#define EVT_FMT_IPV4_MAX 16     /* 255.255.255.255 */
#define EVT_FMT_IPV6_MAX 46     /* ffff:...:ffff or ::ffff:255.255.255.255 */
#define EVT_FMT_SOCKADDR_MAX 72 /* [v6%4294967295]:65535 */
#define EVT_FMT_SID_MAX 192     /* S-255-0x...-(15 sub-authorities) */
#define EVT_FMT_TIME_MAX 48     /* ISO-8601; 5-digit u16 members */

/* Windows address families inside a SOCKADDR (ws2def.h). */
#define EVT_AF_INET 2
#define EVT_AF_INET6 23

/* evt_fmt_u64 - v in decimal. */
size_t evt_fmt_u64(uint64_t v, char *out);

/* evt_fmt_hex - "0x" and v in uppercase hex without zero padding. */
size_t evt_fmt_hex(uint64_t v, char *out);

/* evt_fmt_ipv4 - "a.b.c.d" from the four bytes in memory (network)
 * order. */
size_t evt_fmt_ipv4(const uint8_t a[4], char *out);

/* evt_fmt_ipv6 - RFC 5952 text of 16 bytes in network order: lowercase,
 * no leading zeros, the longest run of two or more zero groups (the
 * first of equal runs) written as "::", a single zero group kept as "0";
 * IPv4-mapped addresses (::ffff:0:0/96) as "::ffff:a.b.c.d". */
size_t evt_fmt_ipv6(const uint8_t a[16], char *out);

/* evt_fmt_sockaddr - a Windows SOCKADDR of n bytes. AF_INET (8 bytes or
 * more): "a.b.c.d:port". AF_INET6 (24 bytes or more): "[v6]:port", with
 * "%scope" after the address when the scope id (bytes 24..27) is nonzero;
 * with tx_compat the brackets are left out, as Tx.Windows did. Ports are
 * network order and printed in host order in both modes. Returns 0 (and
 * an empty out) for another family or a short buffer: the caller prints
 * the bytes as hex then. */
size_t evt_fmt_sockaddr(const uint8_t *p, size_t n, bool tx_compat, char *out);

/* evt_sid_size - the size of the SID at p (8 + 4 * sub-authority count),
 * or 0 when fewer than 8 bytes are given, the count exceeds 15, or the
 * SID is longer than n. */
size_t evt_sid_size(const uint8_t *p, size_t n);

/* evt_fmt_sid - "S-1-5-21-..." for a SID that evt_sid_size accepts
 * (returns 0 otherwise). Revision and sub-authorities in decimal; the
 * 48-bit big-endian authority in decimal below 2^32, else as "0x" and 12
 * uppercase hex digits, as ConvertSidToStringSid does. */
size_t evt_fmt_sid(const uint8_t *p, size_t n, char *out);

/* evt_fmt_systemtime - a SYSTEMTIME (8 little-endian u16: year, month,
 * day of week, day, hour, minute, second, milliseconds) as
 * "YYYY-MM-DDTHH:MM:SS.mmm", plus "Z" when z. Members are printed as
 * they are, without a range check (zero-padded to 4 and 2 digits). */
size_t evt_fmt_systemtime(const uint8_t p[16], bool z, char *out);

/* evt_fmt_filetime - 100 ns ticks since 1601 as
 * "YYYY-MM-DDTHH:MM:SS.fffffff", plus "Z" when z. Returns 0 when the
 * time is after 9999-12-31 (the caller prints the number instead). */
size_t evt_fmt_filetime(uint64_t ticks, bool z, char *out);

#endif
