/*
 * etl_lzx.c - MS-XCA "Plain LZ77" decompression for compressed buffers.
 *
 * Owns the decoder loop only; finding compressed buffers and checking the
 * decoded length against FilledBytes is etl_buffer.c's job. The format,
 * from [MS-XCA] 2.4 (see design/etl-format.md, section 2):
 *
 *   - a little-endian u32 of flags, consumed from bit 31 down; after 32
 *     flags the next u32 follows in the stream;
 *   - flag 0: one literal byte;
 *   - flag 1: a u16 token, offset = (token >> 3) + 1 (1..8192),
 *     L = token & 7. Length is L + 3 when L < 7. Otherwise a nibble N
 *     follows: the first such long match reads a fresh byte and uses its
 *     low nibble, the next one uses the high nibble of that same byte.
 *     N < 15: length 7 + N + 3. Else a byte B: B < 255: length
 *     7 + 15 + B + 3. Else a u16 W (when W is 0, a u32 instead), which
 *     must be at least 22: length W + 3;
 *   - the stream ends at a match flag with no input left.
 *
 * Speed: the decoder sits on the hot path of every compressed trace, so
 * runs of literal flags are copied with one memcpy, matches that do not
 * overlap their own output are one memcpy, and overlapping ones copy in
 * chunks that double in size (the output is periodic with the match
 * offset, so each chunk reads only bytes already written).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "etwcat/etl_lzx.h"

#include "lib/bytes.h"

#include <string.h>

/* Long lengths (u16 or u32 escape) store length - 3 and are at least
 * 7 + 15 + 255 in a well-formed stream; the spec rejects anything below
 * 7 + 15, which would make the length underflow. */
#define LZX_MIN_WIDE 22u

/* Number of leading zero bits of a non-zero word. */
static inline unsigned
lead_zeros(uint32_t x)
{
#if defined(__GNUC__) || defined(__clang__)
  return (unsigned)__builtin_clz(x);
#else
  unsigned n = 0;
  while (!(x & 0x80000000u)) {
    x <<= 1;
    n++;
  }
  return n;
#endif
}

/* Copy a match of len bytes from off bytes back; the caller has checked
 * that off <= bytes written and len <= room left. */
static inline uint8_t *
copy_match(uint8_t *op, size_t off, size_t len)
{
  const uint8_t *src = op - off;

  if (off >= len) {
    memcpy(op, src, len);
    return op + len;
  }
  if (off == 1) {
    memset(op, *src, len);
    return op + len;
  }
  /* From src on, the output repeats with period off; the distance from
   * src to op doubles with each chunk and no chunk overlaps itself. */
  while (len) {
    size_t c = (size_t)(op - src);
    if (c > len) c = len;
    memcpy(op, src, c);
    op += c;
    len -= c;
  }
  return op;
}

/*
 * The one decoder loop. In prefix mode cap is the number of bytes wanted:
 * reaching it ends decoding with success and a match crossing it is cut.
 * Otherwise exceeding cap is corruption. Both wrappers pass a constant,
 * so the compiler builds two specialised copies.
 */
static inline int
decode(const uint8_t *in, size_t in_len, uint8_t *out, size_t cap, bool prefix,
       size_t *out_len)
{
  /* NULL + 0 is undefined behaviour: give empty areas a real address. */
  static const uint8_t no_in[1];
  static uint8_t no_out[1];
  if (!in) {
    in = no_in;
    in_len = 0;
  }
  if (!out) {
    out = no_out;
    cap = 0;
  }

  const uint8_t *ip = in;
  const uint8_t *const iend = in + in_len;
  uint8_t *op = out;
  uint8_t *const oend = out + cap;
  const uint8_t *half = NULL; /* nibble byte with an unused high half */
  uint32_t flags = 0;
  unsigned nflags = 0;
  int rc = -1;

  for (;;) {
    if (prefix && op == oend) {
      rc = 0;
      break;
    }
    if (nflags == 0) {
      if (iend - ip < 4) break; /* truncated flag word */
      flags = le32(ip);
      ip += 4;
      nflags = 32;
    }

    if (!(flags & 0x80000000u)) {
      /* A run of literal flags: one bounds check and one copy. */
      unsigned run = flags ? lead_zeros(flags) : 32;
      if (run > nflags) run = nflags;
      size_t n = run;
      if ((size_t)(iend - ip) < n) break; /* a literal with no byte left */
      if ((size_t)(oend - op) < n) {
        if (!prefix) break; /* output does not fit */
        n = (size_t)(oend - op);
        memcpy(op, ip, n);
        op += n;
        rc = 0;
        break;
      }
      memcpy(op, ip, n);
      op += n;
      ip += n;
      nflags -= run;
      flags = run < 32 ? flags << run : 0;
      continue;
    }

    flags <<= 1;
    nflags--;
    if (ip == iend) {
      rc = 0; /* match flag with no input left: the end */
      break;
    }
    if (iend - ip < 2) break; /* truncated token */
    uint32_t tok = le16(ip);
    ip += 2;
    size_t off = (size_t)(tok >> 3) + 1;
    uint64_t len = tok & 7;
    if (len == 7) {
      if (!half) {
        if (ip == iend) break;
        len = *ip & 15u;
        half = ip++;
      } else {
        len = *half >> 4;
        half = NULL;
      }
      if (len == 15) {
        if (ip == iend) break;
        len = *ip++;
        if (len == 255) {
          if (iend - ip < 2) break;
          len = le16(ip);
          ip += 2;
          if (len == 0) {
            if (iend - ip < 4) break;
            len = le32(ip);
            ip += 4;
          }
          if (len < LZX_MIN_WIDE) break; /* would underflow */
          len -= LZX_MIN_WIDE;
        }
        len += 15;
      }
      len += 7;
    }
    len += 3;

    if ((size_t)(op - out) < off) break; /* reaches back before the output */
    size_t room = (size_t)(oend - op);
    if (len > room) {
      if (!prefix) break; /* output does not fit */
      op = copy_match(op, off, room);
      rc = 0;
      break;
    }
    op = copy_match(op, off, (size_t)len);
  }

  *out_len = (size_t)(op - out);
  return rc;
}

int
etl_lzx_decompress(const uint8_t *in, size_t in_len, uint8_t *out,
                   size_t out_cap, size_t *out_len)
{
  return decode(in, in_len, out, out_cap, false, out_len);
}

int
etl_lzx_decompress_prefix(const uint8_t *in, size_t in_len, uint8_t *out,
                          size_t want, size_t *out_len)
{
  return decode(in, in_len, out, want, true, out_len);
}
