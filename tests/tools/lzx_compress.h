/*
 * lzx_compress.h - a small MS-XCA "Plain LZ77" compressor for tests.
 *
 * The test ETL writer uses it to make compressed buffers, and the lzx
 * unit test and fuzzer use it for round trips. It is a greedy hash-chain
 * matcher, deterministic (the same input always gives the same bytes),
 * and it uses every length escape of the format (nibble, byte, u16, u32)
 * and the shared-nibble rule, so the decoder's paths all get exercised.
 * It is not tuned for ratio or speed. Nothing allocates; about 96 KiB of
 * stack is used. Format: design/etl-format.md, section 2; the decoder is
 * etwcat/etl_lzx.c.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_LZX_COMPRESS_H
#define RTK_LZX_COMPRESS_H

#include "lib/platform.h"

/*
 * lzx_compress_bound - the most bytes lzx_compress can need for n input
 * bytes (all literals: n bytes plus one u32 flag word per 32 tokens and
 * the final one). Returns SIZE_MAX if that does not fit in a size_t.
 */
size_t lzx_compress_bound(size_t n);

/*
 * lzx_compress - compress in[0..n) into out[0..cap).
 *
 * Returns the compressed size (at least 4: empty input gives one flag
 * word), or 0 if cap is too small or n is 4 GiB or more. On 0 the
 * contents of out are unspecified.
 */
size_t lzx_compress(const uint8_t *in, size_t n, uint8_t *out, size_t cap);

#endif
