/*
 * utf16.h - UTF-16LE to UTF-8 conversion for strings read from files.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_UTF16_H
#define RTK_UTF16_H

#include "lib/platform.h"

/* utf16le_units - number of UTF-16 units before a NUL unit (or the end)
 * within nbytes. */
size_t utf16le_units(const uint8_t *p, size_t nbytes);

/* utf16le_to_utf8 - convert up to the first NUL or nbytes; unpaired
 * surrogates become U+FFFD. Returns a malloc'd NUL-terminated string, or
 * NULL on out of memory. */
char *utf16le_to_utf8(const uint8_t *p, size_t nbytes);

#endif
