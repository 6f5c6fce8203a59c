/*
 * etl_lzx.h - MS-XCA "Plain LZ77" (LZXpress) decompression.
 *
 * Compressed .etl buffers (BufferFlag 0x40) hold one Plain LZ77 stream
 * after their 0x48-byte header; this module turns such a stream back into
 * bytes. It knows nothing about buffers or records: the caller passes the
 * stream and an output area and checks the length it gets back against
 * FilledBytes - 0x48. Input is untrusted: every read and write is bounds
 * checked and corrupt streams give -1, never a crash. Nothing allocates;
 * the caller owns both buffers. Format: design/etl-format.md, section 2,
 * and [MS-XCA] 2.4 "Plain LZ77 Decompression".
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_ETL_LZX_H
#define RTK_ETL_LZX_H

#include "lib/platform.h"

/*
 * etl_lzx_decompress - decode the whole stream in[0..in_len) into
 * out[0..out_cap).
 *
 * The stream ends where the spec says it does: a match flag with no input
 * left. Returns 0 on success. Returns -1 when the stream is corrupt: a
 * flag word, token or length field cut short, a literal with no byte
 * left, a match reaching back before the start of the output, a long
 * length below its minimum, or output that would not fit in out_cap
 * (there is no silent truncation). *out_len always receives the number of
 * bytes written, also on error, so a caller can report how far it got.
 */
int etl_lzx_decompress(const uint8_t *in, size_t in_len, uint8_t *out,
                       size_t out_cap, size_t *out_len);

/*
 * etl_lzx_decompress_prefix - decode only the first `want` bytes.
 *
 * Stops as soon as `want` bytes are in out (which must hold `want`
 * bytes), without looking at the rest of the stream; a match that
 * crosses the limit is cut there. Returns 0 when `want` bytes were
 * produced or when the stream ended sooner (then *out_len < want);
 * returns -1 if the stream is corrupt before that point. *out_len
 * receives the bytes written. Used to peek at the first record of a
 * compressed buffer without decoding all of it.
 */
int etl_lzx_decompress_prefix(const uint8_t *in, size_t in_len, uint8_t *out,
                              size_t want, size_t *out_len);

#endif
