/*
 * adx_gzip.c - gzip a batch for streaming and queued ingestion.
 *
 * Both paths send gzip, as the SDKs do (azure.md sections 4 and 5). The
 * fastest level is used: NDJSON shrinks about tenfold even so, and the
 * sink must keep up with its input.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "adxsink/adx.h"

#include <string.h>
#include <zlib.h>

int
adx_gzip(const void *in, size_t n, struct adx_str *out)
{
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    return -1;
  size_t bound = (size_t)deflateBound(&z, (uLong)n);
  size_t start = out->len;
  char *dst = bound <= ((size_t)1 << 30) ? adx_str_extend(out, bound) : NULL;
  if (!dst) {
    deflateEnd(&z);
    return -1;
  }
  z.next_in = (Bytef *)(uintptr_t)in;
  z.avail_in = (uInt)n;
  z.next_out = (Bytef *)dst;
  z.avail_out = (uInt)bound;
  int zr = deflate(&z, Z_FINISH);
  size_t produced = bound - z.avail_out;
  deflateEnd(&z);
  if (zr != Z_STREAM_END) return -1;
  out->len = start + produced;
  out->p[out->len] = '\0';
  return 0;
}
