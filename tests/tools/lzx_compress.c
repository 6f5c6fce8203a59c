/*
 * lzx_compress.c - greedy hash-chain compressor for MS-XCA Plain LZ77.
 *
 * Test tool only: the product never compresses. The output layout follows
 * [MS-XCA] 2.3 (design/etl-format.md, section 2): a u32 flag word is
 * reserved, up to 32 tokens follow, then the flag word is filled in and
 * the next one reserved. Flags are shifted in from the bottom so the
 * first token ends up in bit 31. After the last token the unused flag
 * bits are set to 1, which the decoder reads as "match with no input
 * left", the end of the stream. A long match whose length needs a nibble
 * takes a fresh byte for it, and the next long match puts its nibble in
 * the high half of that same byte.
 *
 * Matching: a 3-byte hash indexes the most recent position; a ring of
 * WINDOW links chains older positions with the same hash. The longest
 * match among the first CHAIN_DEPTH candidates wins (earliest found on a
 * tie, so the nearest offset), which keeps the output deterministic.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "tests/tools/lzx_compress.h"

#include <string.h>

#define HASH_BITS 14
#define WINDOW 8192u /* the largest offset a token can hold */
#define CHAIN_DEPTH 32
#define MIN_MATCH 3u
/* Long lengths are stored as length - 3 in a u32. */
#define MAX_MATCH ((size_t)UINT32_MAX)

/* Output cursor; the bad flag sticks once a write does not fit. */
struct wr {
  uint8_t *p;
  size_t cap;
  size_t pos;
  size_t flag_pos; /* where the pending flag word goes */
  uint32_t flags;
  unsigned nflags;
  size_t half; /* position of a nibble byte with a free high half */
  bool has_half;
  bool bad;
};

static bool
room(struct wr *w, size_t k)
{
  if (w->bad || w->cap - w->pos < k) {
    w->bad = true;
    return false;
  }
  return true;
}

static void
put8(struct wr *w, unsigned v)
{
  if (room(w, 1)) w->p[w->pos++] = (uint8_t)v;
}

static void
put16(struct wr *w, unsigned v)
{
  if (!room(w, 2)) return;
  w->p[w->pos] = (uint8_t)v;
  w->p[w->pos + 1] = (uint8_t)(v >> 8);
  w->pos += 2;
}

static void
store32(uint8_t *q, uint32_t v)
{
  q[0] = (uint8_t)v;
  q[1] = (uint8_t)(v >> 8);
  q[2] = (uint8_t)(v >> 16);
  q[3] = (uint8_t)(v >> 24);
}

static void
put32(struct wr *w, uint32_t v)
{
  if (!room(w, 4)) return;
  store32(w->p + w->pos, v);
  w->pos += 4;
}

/* Reserve space for the next flag word. */
static void
open_flags(struct wr *w)
{
  w->flag_pos = w->pos;
  w->flags = 0;
  w->nflags = 0;
  if (room(w, 4)) w->pos += 4;
}

/* Record one token's flag, after the token's bytes are written. */
static void
put_flag(struct wr *w, unsigned bit)
{
  w->flags = w->flags << 1 | bit;
  if (++w->nflags < 32) return;
  if (!w->bad) store32(w->p + w->flag_pos, w->flags);
  open_flags(w);
}

static void
put_nibble(struct wr *w, unsigned nib)
{
  if (w->has_half) {
    if (!w->bad) w->p[w->half] |= (uint8_t)(nib << 4);
    w->has_half = false;
    return;
  }
  w->half = w->pos;
  w->has_half = true;
  put8(w, nib);
}

static void
put_match(struct wr *w, size_t off, size_t len)
{
  unsigned tok = (unsigned)(off - 1) << 3;
  size_t m = len - MIN_MATCH;

  if (m < 7) {
    put16(w, tok | (unsigned)m);
    put_flag(w, 1);
    return;
  }
  put16(w, tok | 7);
  m -= 7;
  put_nibble(w, m < 15 ? (unsigned)m : 15);
  if (m >= 15) {
    m -= 15;
    if (m < 255) {
      put8(w, (unsigned)m);
    } else {
      size_t wide = len - MIN_MATCH;
      put8(w, 255);
      if (wide <= 0xFFFF) {
        put16(w, (unsigned)wide);
      } else {
        put16(w, 0);
        put32(w, (uint32_t)wide);
      }
    }
  }
  put_flag(w, 1);
}

static uint32_t
hash3(const uint8_t *p)
{
  uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
  return (v * 2654435761u) >> (32 - HASH_BITS);
}

size_t
lzx_compress_bound(size_t n)
{
  size_t words = n / 32 + 1;
  if (words > (SIZE_MAX - n) / 4) return SIZE_MAX;
  return n + 4 * words;
}

size_t
lzx_compress(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
  /* head[h] and prev[] hold position + 1; 0 means none. */
  uint32_t head[1u << HASH_BITS];
  uint32_t prev[WINDOW];
  struct wr w = {out, cap, 0, 0, 0, 0, 0, false, false};

  if (n >= UINT32_MAX || (!out && cap)) return 0;
  memset(head, 0, sizeof head);
  memset(prev, 0, sizeof prev);
  open_flags(&w);

  size_t i = 0;
  while (i < n && !w.bad) {
    size_t best_len = 0;
    size_t best_off = 0;
    size_t left = n - i;
    size_t max = left < MAX_MATCH ? left : MAX_MATCH;

    if (left >= MIN_MATCH) {
      uint32_t cand = head[hash3(in + i)];
      for (int depth = 0; cand && depth < CHAIN_DEPTH; depth++) {
        size_t j = cand - 1;
        if (i - j > WINDOW) break;
        size_t k = 0;
        while (k < max && in[j + k] == in[i + k])
          k++;
        if (k > best_len) {
          best_len = k;
          best_off = i - j;
          if (k == max) break;
        }
        cand = prev[j % WINDOW];
      }
    }

    size_t step = 1;
    if (best_len >= MIN_MATCH) {
      put_match(&w, best_off, best_len);
      step = best_len;
    } else {
      put8(&w, in[i]);
      put_flag(&w, 0);
    }
    /* Index every position passed over, so later matches can find it. */
    for (size_t e = i + step; i < e; i++) {
      if (n - i >= MIN_MATCH) {
        uint32_t h = hash3(in + i);
        prev[i % WINDOW] = head[h];
        head[h] = (uint32_t)(i + 1);
      }
    }
  }

  /* Unused flag bits are 1s: the decoder stops at a match flag with no
   * input left. */
  if (!w.bad) {
    unsigned unused = 32 - w.nflags;
    uint32_t last =
        unused == 32 ? UINT32_MAX : w.flags << unused | ((1u << unused) - 1);
    store32(w.p + w.flag_pos, last);
  }
  return w.bad ? 0 : w.pos;
}
