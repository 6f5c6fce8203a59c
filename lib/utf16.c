/*
 * utf16.c - UTF-16LE to UTF-8 (see utf16.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/utf16.h"

#include <stdlib.h>

size_t
utf16le_units(const uint8_t *p, size_t nbytes)
{
  size_t i = 0;
  while (i + 1 < nbytes && (p[i] | p[i + 1]))
    i += 2;
  return i / 2;
}

char *
utf16le_to_utf8(const uint8_t *p, size_t nbytes)
{
  size_t units = utf16le_units(p, nbytes);
  char *out = malloc(units * 3 + 1);
  if (!out) return NULL;
  char *o = out;
  for (size_t i = 0; i < units; i++) {
    uint32_t u = (uint32_t)(p[2 * i] | p[2 * i + 1] << 8);
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < units) {
      uint32_t l = (uint32_t)(p[2 * i + 2] | p[2 * i + 3] << 8);
      if (l >= 0xDC00 && l <= 0xDFFF) {
        u = 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00);
        i++;
      } else {
        u = 0xFFFD;
      }
    } else if (u >= 0xD800 && u <= 0xDFFF) {
      u = 0xFFFD;
    }
    /* A surrogate pair (2 units) yields 4 bytes: within 3 per unit. */
    if (u < 0x80) {
      *o++ = (char)u;
    } else if (u < 0x800) {
      *o++ = (char)(0xC0 | u >> 6);
      *o++ = (char)(0x80 | (u & 0x3F));
    } else if (u < 0x10000) {
      *o++ = (char)(0xE0 | u >> 12);
      *o++ = (char)(0x80 | ((u >> 6) & 0x3F));
      *o++ = (char)(0x80 | (u & 0x3F));
    } else {
      *o++ = (char)(0xF0 | u >> 18);
      *o++ = (char)(0x80 | ((u >> 12) & 0x3F));
      *o++ = (char)(0x80 | ((u >> 6) & 0x3F));
      *o++ = (char)(0x80 | (u & 0x3F));
    }
  }
  *o = 0;
  return out;
}
