/*
 * uuid.h - random bytes from the OS, and random (version 4) UUIDs.
 *
 * Bytes come from getentropy() or /dev/urandom on POSIX and rand_s() on
 * Windows. Formatting is in RFC 4122 byte order (unlike jw_guid, which
 * reads the Windows in-memory layout).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_UUID_H
#define RTK_UUID_H

#include "lib/platform.h"

/* uuid_rand_bytes - fill buf with n random bytes; 0, or -1 on failure. */
int uuid_rand_bytes(void *buf, size_t n);

/* uuid_v4 - a random UUID: version 4, RFC 4122 variant. 0 or -1. */
int uuid_v4(uint8_t u[16]);

/* uuid_fmt - "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (lowercase) + NUL. */
void uuid_fmt(const uint8_t u[16], char out[37]);

/* uuid_fmt_n - 32 lowercase hex digits without hyphens + NUL. */
void uuid_fmt_n(const uint8_t u[16], char out[33]);

/* uuid_parse_n - 32 hex digits (either case) into u; 0 or -1. */
int uuid_parse_n(const char *s, uint8_t u[16]);

#endif
