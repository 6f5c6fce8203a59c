/*
 * base64.h - standard base64 (RFC 4648 section 4, with padding).
 *
 * Used for Azure Storage keys and signatures. The decoder is strict: it
 * accepts only the standard alphabet with correct padding, no spaces.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_BASE64_H
#define RTK_BASE64_H

#include "lib/platform.h"

/* BASE64_ENCODED_LEN - characters (without NUL) that n bytes become. */
#define BASE64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)

/* base64_encode - encode n bytes into out (room for
 * BASE64_ENCODED_LEN(n) + 1); NUL-terminates; returns the length. */
size_t base64_encode(const void *in, size_t n, char *out);

/* base64_decode - decode s[0, n) into out (room for n / 4 * 3 bytes);
 * returns the decoded length, or -1 on malformed input. */
long base64_decode(const char *s, size_t n, uint8_t *out);

#endif
