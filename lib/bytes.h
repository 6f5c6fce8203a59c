/*
 * bytes.h - bounds-checked little-endian reads from untrusted bytes.
 *
 * A struct br is a cursor over a byte range. Every read checks the bytes
 * left; on a short read the cursor's bad flag is set and sticks, and the
 * read returns 0. Callers read a whole structure, then check r.bad once.
 * Nothing here allocates or reports; ownership of the bytes stays with
 * the caller.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_BYTES_H
#define RTK_BYTES_H

#include "lib/platform.h"

#include <string.h>

struct br {
  const uint8_t *p;
  size_t len;
  size_t off;
  bool bad;
};

static inline struct br
br_make(const void *p, size_t len)
{
  struct br r = {(const uint8_t *)p, len, 0, false};
  return r;
}

static inline size_t
br_left(const struct br *r)
{
  return r->bad ? 0 : r->len - r->off;
}

static inline bool
br_need(struct br *r, size_t n)
{
  if (r->bad || r->len - r->off < n) {
    r->bad = true;
    return false;
  }
  return true;
}

static inline uint16_t
le16(const uint8_t *q)
{
  return (uint16_t)(q[0] | q[1] << 8);
}

static inline uint32_t
le32(const uint8_t *q)
{
  return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
         (uint32_t)q[3] << 24;
}

static inline uint64_t
le64(const uint8_t *q)
{
  return (uint64_t)le32(q) | (uint64_t)le32(q + 4) << 32;
}

static inline uint8_t
br_u8(struct br *r)
{
  if (!br_need(r, 1)) return 0;
  return r->p[r->off++];
}

static inline uint16_t
br_u16le(struct br *r)
{
  if (!br_need(r, 2)) return 0;
  uint16_t v = le16(r->p + r->off);
  r->off += 2;
  return v;
}

static inline uint32_t
br_u32le(struct br *r)
{
  if (!br_need(r, 4)) return 0;
  uint32_t v = le32(r->p + r->off);
  r->off += 4;
  return v;
}

static inline uint64_t
br_u64le(struct br *r)
{
  if (!br_need(r, 8)) return 0;
  uint64_t v = le64(r->p + r->off);
  r->off += 8;
  return v;
}

/* br_bytes - a pointer to the next n bytes, or NULL (and bad) if short. */
static inline const uint8_t *
br_bytes(struct br *r, size_t n)
{
  if (!br_need(r, n)) return NULL;
  const uint8_t *q = r->p + r->off;
  r->off += n;
  return q;
}

static inline void
br_skip(struct br *r, size_t n)
{
  (void)br_bytes(r, n);
}

static inline void
br_align(struct br *r, size_t a)
{
  size_t pad = (a - (r->off % a)) % a;
  if (pad && r->len - r->off >= pad)
    r->off += pad;
  else if (pad)
    r->off = r->len;
}

/* br_sub - a child cursor over the next n bytes; the parent moves past
 * them. A short parent gives a bad child. */
static inline struct br
br_sub(struct br *r, size_t n)
{
  const uint8_t *q = br_bytes(r, n);
  struct br c = {q, q ? n : 0, 0, q == NULL};
  return c;
}

#endif
