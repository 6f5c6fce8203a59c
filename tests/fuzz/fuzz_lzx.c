/*
 * fuzz_lzx.c - libFuzzer target for the Plain LZ77 codec.
 *
 * Each input is used twice. First as a compressed stream: it is decoded
 * into a fixed-size area, in full and in prefix mode, and the two must
 * agree on the bytes they both produced; the sanitizers catch any read or
 * write outside the buffers. Then as plain data: it is compressed with
 * the test compressor and must decode back to itself, in full and as a
 * prefix. The codec is etwcat/etl_lzx.c; the compressor is
 * tests/tools/lzx_compress.c. Seeds: tests/fuzz/corpus/lzx/.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "etwcat/etl_lzx.h"
#include "tests/tools/lzx_compress.h"

#include <stdlib.h>
#include <string.h>

#define OUT_CAP (1u << 16)

/* Decoded data never exceeds what fits here. */
static uint8_t out_full[OUT_CAP];
static uint8_t out_prefix[OUT_CAP];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
decode_untrusted(const uint8_t *data, size_t size)
{
  size_t got = 0;
  int rc = etl_lzx_decompress(data, size, out_full, OUT_CAP, &got);
  if (got > OUT_CAP) abort();

  /* A prefix of the same stream: the bytes must match the full decode
   * as far as both got. */
  size_t want = size ? data[0] * 97u % OUT_CAP : 0;
  size_t pgot = 0;
  int prc = etl_lzx_decompress_prefix(data, size, out_prefix, want, &pgot);
  if (pgot > want) abort();
  size_t common = got < pgot ? got : pgot;
  if (memcmp(out_full, out_prefix, common) != 0) abort();
  /* A stream that decodes cleanly in full also does as a prefix. */
  if (rc == 0 && (prc != 0 || pgot != (got < want ? got : want))) abort();
}

static void
round_trip(const uint8_t *data, size_t size)
{
  if (size > OUT_CAP) return;
  size_t bound = lzx_compress_bound(size);
  uint8_t *z = malloc(bound);
  if (!z) return;
  size_t zn = lzx_compress(data, size, z, bound);
  if (zn == 0 || zn > bound) abort();

  size_t got = 0;
  if (etl_lzx_decompress(z, zn, out_full, size, &got) != 0 || got != size ||
      memcmp(out_full, data, size) != 0)
    abort();
  if (size && etl_lzx_decompress(z, zn, out_full, size - 1, &got) != -1)
    abort();

  size_t want = size / 2;
  if (etl_lzx_decompress_prefix(z, zn, out_prefix, want, &got) != 0 ||
      got != want || memcmp(out_prefix, data, want) != 0)
    abort();

  /* Too small an output area for the compressor fails cleanly. */
  if (zn > 4 && lzx_compress(data, size, z, zn - 1) != 0) abort();
  free(z);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  decode_untrusted(data, size);
  round_trip(data, size);
  return 0;
}
