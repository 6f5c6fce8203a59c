/*
 * etl_writer.c - lay out records, buffers and the logfile header of an
 * .etl file, byte for byte as Windows writes them.
 *
 * This file owns the on-disk layout: WMI_BUFFER_HEADER fields, the SYSTEM
 * record carrying TRACE_LOGFILE_HEADER, the record headers of every kind,
 * extended data items, per-CPU buffering, the 0xFF fill, compression of
 * buffers after the first, and the damage options. It leaves the choice
 * of events (what a trace contains) to its callers, and the compression
 * itself to lzx_compress.c. Offsets and values follow
 * design/etl-format.md; the comments give the section.
 *
 * WMI_BUFFER_HEADER (0x48 bytes, section 1), as written here:
 *
 *   off   size  field            value
 *   0x00  4     BufferSize       buffer size; compressed: 0x48 + stream
 *   0x04  4     SavedOffset      FilledBytes (0 in a Win7 header buffer)
 *   0x08  4     CurrentOffset    FilledBytes
 *   0x0C  4     ReferenceCount   0
 *   0x10  8     TimeStamp        raw clock at flush (0 in the header)
 *   0x18  8     SequenceNumber   order in which buffers were taken
 *   0x20  8     ClockType/Freq   0
 *   0x28  2     ProcessorNumber  Win7: u8 CPU, u8 8; else u16 CPU
 *   0x2A  2     LoggerId         0x14 (Win7) / 0x21
 *   0x2C  4     State            3
 *   0x30  4     FilledBytes      end of the records, 8-aligned
 *   0x34  2     BufferFlag       0x01 flush, 0x20 PROC_INDEX, 0x40 LZ77
 *   0x36  2     BufferType       4 header buffer, else 0
 *   0x38  16    (list pointers)  0
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "tests/tools/etl_writer.h"
#include "tests/tools/lzx_compress.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define TRACE_FLAGS 0xC0 /* TRACE_HEADER_FLAG | TRACE_HEADER_EVENT_TRACE */
#define WPP_FLAGS 0x90   /* TRACE_HEADER_FLAG | TRACE_MESSAGE */
#define EVENT_HDR 80
#define SYSTEM_HDR 32
#define COMPACT_HDR 24
#define PERFINFO_HDR 16
#define FULL_HDR 48
#define INSTANCE_HDR 72
#define LOGFILE_FIXED64 0x118 /* TRACE_LOGFILE_HEADER fixed part */
#define LOGFILE_FIXED32 0x110
#define MAX_NAME 200 /* characters of LoggerName / LogFileName */
#define TICKS_PER_SEC 10000000u

/* One CPU's buffer while it fills. used == 0: no buffer taken. */
struct cpu_buf {
  uint8_t *p;
  uint32_t used;
  uint32_t records;
  uint32_t last_off;
  uint8_t last_kind;
  uint64_t seq, first_ts, last_ts;
};

struct etlw {
  struct etlw_opts o;
  struct etlw_damage dmg;
  struct cpu_buf *cpu;
  uint8_t *hdr; /* the header buffer, kept to rewrite it at the end */
  uint32_t hdr_size, hdr_payload;
  uint8_t *zbuf;
  size_t zcap;
  uint8_t *mem;
  size_t mem_len, mem_cap;
  uint64_t off; /* bytes produced so far, before truncation */
  uint32_t nbuf;
  uint64_t seq;
  uint64_t raw0, end_raw;
  uint64_t records;
  uint64_t kinds[ETLW_NKINDS];
  unsigned damage_done;
  bool failed, finished;
  char err[256];
};

static void
put16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static void
put64(uint8_t *p, uint64_t v)
{
  put32(p, (uint32_t)v);
  put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t
get16(const uint8_t *p)
{
  return (uint16_t)(p[0] | p[1] << 8);
}

static void
put_guid(uint8_t *p, const struct etlw_guid *g)
{
  put32(p, g->d1);
  put16(p + 4, g->d2);
  put16(p + 6, g->d3);
  memcpy(p + 8, g->d4, 8);
}

static size_t
align8(size_t n)
{
  return (n + 7) & ~(size_t)7;
}

#if defined(__GNUC__) || defined(__clang__)
#define ETLW_PRINTF(a, b) PLAT_PRINTF(a, b)
#else
#define ETLW_PRINTF(a, b)
#endif

static int fail(struct etlw *w, const char *fmt, ...) ETLW_PRINTF(2, 3);

static int
fail(struct etlw *w, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(w->err, sizeof w->err, fmt, ap);
  va_end(ap);
  w->failed = true;
  return -1;
}

/* ---- output ---------------------------------------------------------- */

/* Write n bytes at absolute offset at, dropping what lies past the
 * truncation point. Appends (at == w->off) or rewrites the header. */
static int
out_write(struct etlw *w, uint64_t at, const void *p, size_t n)
{
  if (w->dmg.truncate >= 0) {
    uint64_t lim = (uint64_t)w->dmg.truncate;
    if (at >= lim)
      n = 0;
    else if (n > lim - at)
      n = (size_t)(lim - at);
  }
  if (n == 0) return 0;
  if (!w->o.out) {
    if (at + n > w->mem_cap) {
      size_t cap = w->mem_cap ? w->mem_cap : 1 << 16;
      while (cap < at + n)
        cap *= 2;
      uint8_t *m = realloc(w->mem, cap);
      if (!m) return fail(w, "out of memory");
      w->mem = m;
      w->mem_cap = cap;
    }
    memcpy(w->mem + at, p, n);
    if (at + n > w->mem_len) w->mem_len = (size_t)(at + n);
    return 0;
  }
  bool rewrite = at != w->off;
  if (rewrite && (fflush(w->o.out) != 0 || fseek(w->o.out, 0, SEEK_SET) != 0))
    return fail(w, "cannot seek in the output");
  if (fwrite(p, 1, n, w->o.out) != n) return fail(w, "write error");
  if (rewrite && fseek(w->o.out, 0, SEEK_END) != 0)
    return fail(w, "cannot seek in the output");
  return 0;
}

static int
emit(struct etlw *w, const void *p, size_t n)
{
  if (out_write(w, w->off, p, n) != 0) return -1;
  w->off += n;
  return 0;
}

/* ---- clock ------------------------------------------------------------ */

uint64_t
etlw_raw_at(const struct etlw *w, uint64_t ticks)
{
  uint64_t f = w->o.perf_freq, mhz = w->o.cpu_mhz;
  switch (w->o.clock) {
  case ETLW_CLOCK_SYSTEM:
    return w->raw0 + ticks;
  case ETLW_CLOCK_CYCLES:
    return w->raw0 + ticks / 10 * mhz + ticks % 10 * mhz / 10;
  default:
    return w->raw0 + ticks / TICKS_PER_SEC * f +
           ticks % TICKS_PER_SEC * f / TICKS_PER_SEC;
  }
}

/* The inverse, as a reader computes it (section 6). */
static uint64_t
ticks_of(const struct etlw *w, uint64_t raw)
{
  uint64_t d = raw > w->raw0 ? raw - w->raw0 : 0;
  uint64_t f = w->o.perf_freq, mhz = w->o.cpu_mhz;
  switch (w->o.clock) {
  case ETLW_CLOCK_SYSTEM:
    return d;
  case ETLW_CLOCK_CYCLES:
    return d / mhz * 10 + d % mhz * 10 / mhz;
  default:
    return d / f * TICKS_PER_SEC + d % f * TICKS_PER_SEC / f;
  }
}

/* ---- damage ------------------------------------------------------------ */

static bool
kind_is_system_like(int kind)
{
  return kind == ETLW_SYSTEM32 || kind == ETLW_SYSTEM64 ||
         kind == ETLW_COMPACT32 || kind == ETLW_COMPACT64 ||
         kind == ETLW_PERFINFO32 || kind == ETLW_PERFINFO64;
}

/* A record's size as a reader finds it (etl-format.md section 3). */
static size_t
record_size(const uint8_t *rec)
{
  size_t sz = rec[3] != WPP_FLAGS && kind_is_system_like(rec[2])
                  ? get16(rec + 4)
                  : get16(rec);
  return sz ? sz : 8; /* never loop on a zero size */
}

/* Damage the last record of a buffer before it is written out: buf holds
 * the buffer, used its FilledBytes, size its BufferSize. */
static void
damage_records(struct etlw *w, uint32_t index, uint8_t *buf, uint32_t used,
               uint32_t size, uint32_t last_off, uint8_t last_kind,
               struct etlw_buf_damage *d, size_t *nd)
{
  uint8_t *rec = buf + last_off;
  int id = last_kind == ETLW_EVENT32 || last_kind == ETLW_EVENT64
               ? get16(rec + 40)
               : -1;
  if (w->dmg.bad_record_buf == (int64_t)index) {
    /* A size that runs past the buffer's end (and so past FilledBytes). */
    unsigned at = kind_is_system_like(last_kind) ? 4 : 0;
    uint32_t want = size - last_off + 8;
    uint16_t nv = want > 0xFFFF ? 0xFFFF : (uint16_t)want;
    d[*nd] = (struct etlw_buf_damage){"record", last_off,        last_kind,
                                      id,       get16(rec + at), nv};
    put16(rec + at, nv);
    (*nd)++;
    w->damage_done |= 2;
  }
  if (w->dmg.unknown_buf == (int64_t)index) {
    /* Keep the geometry: the low u16 is the record's aligned length, as
     * a reader that sizes unknown kinds by it would expect. */
    uint32_t len = used - last_off;
    uint16_t nv = len > 0xFFF8 ? 0xFFF8 : (uint16_t)len;
    d[*nd] = (struct etlw_buf_damage){
        "unknown-kind", last_off, last_kind, id, rec[2], ETLW_KIND_UNKNOWN};
    put16(rec, nv);
    rec[2] = ETLW_KIND_UNKNOWN;
    rec[3] = TRACE_FLAGS;
    w->kinds[last_kind]--;
    w->kinds[ETLW_KIND_UNKNOWN]++;
    (*nd)++;
    w->damage_done |= 4;
  }
}

static void
damage_size(struct etlw *w, uint32_t index, uint8_t *hdr,
            struct etlw_buf_damage *d, size_t *nd)
{
  static const uint32_t lies[] = {0x7FFFFFF0u, 0, 0x40};
  if (w->dmg.bad_size_buf != (int64_t)index) return;
  uint32_t old = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 |
                 (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
  d[*nd] =
      (struct etlw_buf_damage){"buffer-size", 0, -1, -1, old, lies[w->dmg.lie]};
  put32(hdr, lies[w->dmg.lie]);
  (*nd)++;
  w->damage_done |= 1;
}

/* ---- buffers ------------------------------------------------------------ */

/* How many records of a buffer written at file offset `off` lie wholly
 * inside the file once it is truncated: what a reader can still decode. */
static uint32_t
kept_records(const struct etlw *w, const uint8_t *buf, uint32_t used,
             uint32_t records, uint64_t off, uint32_t size, bool compressed)
{
  uint64_t cut = (uint64_t)w->dmg.truncate;
  uint32_t n = 0;
  if (w->dmg.truncate < 0 || off + size <= cut) return records;
  if (off >= cut || compressed || cut - off < ETLW_BUF_HDR) return 0;
  uint64_t limit = cut - off;
  for (uint32_t p = ETLW_BUF_HDR; p < used; n++) {
    size_t sz = record_size(buf + p);
    if (p + sz > limit) break;
    p += (uint32_t)align8(sz);
  }
  return n;
}

static void
put_buffer_header(struct etlw *w, uint8_t *h, uint32_t size, uint32_t used,
                  uint64_t stamp, uint64_t seq, unsigned cpu, uint16_t flags,
                  uint16_t type)
{
  memset(h, 0, ETLW_BUF_HDR);
  put32(h + 0x00, size);
  put32(h + 0x04, w->o.win7 && type == 4 ? 0 : used);
  put32(h + 0x08, used);
  put64(h + 0x10, stamp);
  put64(h + 0x18, seq);
  if (w->o.win7) {
    h[0x28] = (uint8_t)cpu;
    h[0x29] = 8;
  } else {
    put16(h + 0x28, (uint16_t)cpu);
  }
  put16(h + 0x2A, w->o.win7 ? 0x14 : 0x21);
  put32(h + 0x2C, 3);
  put32(h + 0x30, used);
  put16(h + 0x34, flags);
  put16(h + 0x36, type);
}

static int
flush_cpu(struct etlw *w, unsigned cpu, uint64_t stamp, bool last)
{
  struct cpu_buf *b = &w->cpu[cpu];
  if (!b->used) return 0;
  uint32_t index = w->nbuf, bs = w->o.buffer_size, used = b->used;
  uint16_t flags = (uint16_t)((w->o.win7 ? 0 : ETLW_BF_PROC_INDEX) |
                              (last ? ETLW_BF_FLUSH_MARKER : 0));
  struct etlw_buf_damage d[4];
  size_t nd = 0;

  if (stamp < b->last_ts) stamp = b->last_ts;
  damage_records(w, index, b->p, used, bs, b->last_off, b->last_kind, d, &nd);
  uint32_t size = bs;
  size_t zlen = 0;
  if (w->o.compress) {
    flags |= ETLW_BF_COMPRESSED;
    zlen = lzx_compress(b->p + ETLW_BUF_HDR, used - ETLW_BUF_HDR, w->zbuf,
                        w->zcap);
    if (zlen == 0 || zlen > w->zcap || zlen > UINT32_MAX - ETLW_BUF_HDR)
      return fail(w, "compression of buffer %u failed", (unsigned)index);
    size = (uint32_t)(ETLW_BUF_HDR + zlen);
    if (w->dmg.bad_lzx_buf == (int64_t)index && zlen >= 6) {
      /* All flag bits set, then a match reaching 8191 bytes back while
       * nothing has been produced: no decoder may accept it. */
      static const uint8_t bad[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xF0, 0xFF};
      d[nd++] = (struct etlw_buf_damage){"lzx", ETLW_BUF_HDR, -1, -1, 0, 0};
      memcpy(w->zbuf, bad, sizeof bad);
      w->damage_done |= 8;
    }
  } else {
    memset(b->p + used, 0xFF, bs - used);
  }
  put_buffer_header(w, b->p, size, used, stamp, b->seq, cpu, flags, 0);
  damage_size(w, index, b->p, d, &nd);

  struct etlw_buf_info bi = {.index = index,
                             .offset = w->off,
                             .size = size,
                             .filled = used,
                             .cpu = cpu,
                             .sequence = b->seq,
                             .flags = flags,
                             .records = b->records,
                             .kept = kept_records(w, b->p, used, b->records,
                                                  w->off, size, w->o.compress),
                             .first_ts = b->first_ts,
                             .last_ts = b->last_ts,
                             .damage = nd ? d : NULL,
                             .ndamage = nd};
  int rc = w->o.compress ? emit(w, b->p, ETLW_BUF_HDR) || emit(w, w->zbuf, zlen)
                         : emit(w, b->p, bs);
  if (rc != 0) return -1;
  w->nbuf++;
  b->used = 0;
  if (w->o.on_buffer) w->o.on_buffer(w->o.ctx, &bi);
  return 0;
}

/* Room for a record of `size` bytes in CPU cpu's buffer, flushing it when
 * full. The record's padding is zeroed; the caller fills the rest. */
static uint8_t *
reserve(struct etlw *w, unsigned cpu, size_t size, uint64_t ts, uint8_t kind)
{
  if (w->failed || w->finished) {
    if (!w->failed) fail(w, "writer already finished");
    return NULL;
  }
  if (cpu >= w->o.ncpus) {
    fail(w, "CPU %u out of range (0..%u)", cpu, w->o.ncpus - 1);
    return NULL;
  }
  size_t asize = align8(size);
  if (size > 0xFFFF || asize > w->o.buffer_size - ETLW_BUF_HDR) {
    fail(w, "record of %zu bytes does not fit", size);
    return NULL;
  }
  struct cpu_buf *b = &w->cpu[cpu];
  if (b->used && b->used + asize > w->o.buffer_size &&
      flush_cpu(w, cpu, ts, false) != 0)
    return NULL;
  if (!b->used) {
    b->used = ETLW_BUF_HDR;
    b->records = 0;
    b->seq = ++w->seq;
    b->first_ts = ts;
  }
  uint8_t *rec = b->p + b->used;
  memset(rec + asize - 8, 0, 8);
  b->last_off = b->used;
  b->last_kind = kind;
  b->last_ts = ts;
  b->used += (uint32_t)asize;
  b->records++;
  w->records++;
  w->kinds[kind]++;
  if (ts > w->end_raw) w->end_raw = ts;
  return rec;
}

/* ---- records ------------------------------------------------------------ */

int
etlw_add_event(struct etlw *w, unsigned cpu, const struct etlw_event *ev)
{
  size_t size = EVENT_HDR + ev->len;
  for (size_t i = 0; i < ev->next; i++)
    size += 8 + align8(ev->ext[i].len);
  uint8_t kind = ev->header32 ? ETLW_EVENT32 : ETLW_EVENT64;
  uint8_t *r = reserve(w, cpu, size, ev->timestamp, kind);
  if (!r) return -1;
  put16(r, (uint16_t)size);
  r[2] = kind;
  r[3] = TRACE_FLAGS;
  put16(r + 4, ev->next ? 0x0001 : 0); /* EXTENDED_INFO */
  put16(r + 6, 0);
  put32(r + 8, ev->tid);
  put32(r + 12, ev->pid);
  put64(r + 16, ev->timestamp);
  put_guid(r + 24, &ev->provider);
  put16(r + 40, ev->id);
  r[42] = ev->version;
  r[43] = ev->channel;
  r[44] = ev->level;
  r[45] = ev->opcode;
  put16(r + 46, ev->task);
  put64(r + 48, ev->keyword);
  put32(r + 56, ev->kernel_time);
  put32(r + 60, ev->user_time);
  put_guid(r + 64, &ev->activity);
  uint8_t *q = r + EVENT_HDR;
  for (size_t i = 0; i < ev->next; i++) {
    const struct etlw_ext *x = &ev->ext[i];
    size_t isz = 8 + align8(x->len);
    put16(q, (uint16_t)isz);
    put16(q + 2, x->type);
    put16(q + 4, i + 1 < ev->next ? 1 : 0); /* Linkage: more follow */
    put16(q + 6, x->len);
    if (x->len) memcpy(q + 8, x->data, x->len);
    memset(q + 8 + x->len, 0, isz - 8 - x->len);
    q += isz;
  }
  if (ev->len) memcpy(q, ev->data, ev->len);
  return 0;
}

int
etlw_add_classic(struct etlw *w, unsigned cpu, const struct etlw_classic *c)
{
  size_t hs;
  switch (c->kind) {
  case ETLW_SYSTEM32:
  case ETLW_SYSTEM64:
    hs = SYSTEM_HDR;
    break;
  case ETLW_COMPACT32:
  case ETLW_COMPACT64:
    hs = COMPACT_HDR;
    break;
  case ETLW_PERFINFO32:
  case ETLW_PERFINFO64:
    hs = PERFINFO_HDR;
    break;
  case ETLW_FULL32:
  case ETLW_FULL64:
    hs = FULL_HDR;
    break;
  case ETLW_INSTANCE32:
  case ETLW_INSTANCE64:
    hs = INSTANCE_HDR;
    break;
  default:
    return fail(w, "etlw_add_classic: kind 0x%02x is not classic",
                (unsigned)c->kind);
  }
  size_t size = hs + c->len;
  uint8_t *r = reserve(w, cpu, size, c->timestamp, (uint8_t)c->kind);
  if (!r) return -1;
  r[2] = (uint8_t)c->kind;
  r[3] = TRACE_FLAGS;
  if (hs <= SYSTEM_HDR) {
    /* SYSTEM, COMPACT, PERFINFO: version in the marker, size at 4. */
    put16(r, c->version);
    put16(r + 4, (uint16_t)size);
    put16(r + 6, c->hook_id);
    if (hs == PERFINFO_HDR) {
      put64(r + 8, c->timestamp);
    } else {
      put32(r + 8, c->tid);
      put32(r + 12, c->pid);
      put64(r + 16, c->timestamp);
      if (hs == SYSTEM_HDR) {
        put32(r + 24, c->kernel_time);
        put32(r + 28, c->user_time);
      }
    }
  } else {
    /* EVENT_TRACE_HEADER, optionally followed by the instance part. */
    put16(r, (uint16_t)size);
    r[4] = c->type;
    r[5] = c->level;
    put16(r + 6, c->version);
    put32(r + 8, c->tid);
    put32(r + 12, c->pid);
    put64(r + 16, c->timestamp);
    put_guid(r + 24, &c->guid);
    put32(r + 40, c->kernel_time);
    put32(r + 44, c->user_time);
    if (hs == INSTANCE_HDR) {
      put32(r + 48, c->instance_id);
      put32(r + 52, c->parent_instance_id);
      put_guid(r + 56, &c->parent_guid);
    }
  }
  if (c->len) memcpy(r + hs, c->data, c->len);
  return 0;
}

int
etlw_add_wpp(struct etlw *w, unsigned cpu, const struct etlw_wpp *m)
{
  unsigned fl = m->option_flags;
  if (fl & ~(unsigned)(ETLW_WPP_SEQUENCE | ETLW_WPP_GUID | ETLW_WPP_TIMESTAMP |
                       ETLW_WPP_SYSTEMINFO))
    return fail(w, "etlw_add_wpp: unsupported option flags 0x%x", fl);
  size_t size = 8 + (fl & ETLW_WPP_SEQUENCE ? 4 : 0) +
                (fl & ETLW_WPP_GUID ? 16 : 0) +
                (fl & ETLW_WPP_TIMESTAMP ? 8 : 0) +
                (fl & ETLW_WPP_SYSTEMINFO ? 8 : 0) + m->len;
  uint8_t *r = reserve(w, cpu, size, m->timestamp, ETLW_KIND_WPP);
  if (!r) return -1;
  put16(r, (uint16_t)size);
  r[2] = 0;
  r[3] = WPP_FLAGS;
  put16(r + 4, m->message_number);
  put16(r + 6, (uint16_t)fl);
  uint8_t *q = r + 8;
  if (fl & ETLW_WPP_SEQUENCE) {
    put32(q, m->sequence);
    q += 4;
  }
  if (fl & ETLW_WPP_GUID) {
    put_guid(q, &m->guid);
    q += 16;
  }
  if (fl & ETLW_WPP_TIMESTAMP) {
    put64(q, m->timestamp);
    q += 8;
  }
  if (fl & ETLW_WPP_SYSTEMINFO) {
    put32(q, m->tid);
    put32(q + 4, m->pid);
    q += 8;
  }
  if (m->len) memcpy(q, m->data, m->len);
  return 0;
}

/* ---- the logfile header (section 5) ------------------------------------ */

static size_t
put_utf16(uint8_t *p, const char *s)
{
  size_t n = 0;
  for (; s[n]; n++)
    put16(p + 2 * n, (uint8_t)s[n]);
  put16(p + 2 * n, 0);
  return 2 * (n + 1);
}

/* TIME_ZONE_INFORMATION: UTC, both names "UTC". */
static void
put_tzi(uint8_t *p)
{
  memset(p, 0, 172);
  put_utf16(p + 4, "UTC");
  put_utf16(p + 4 + 64 + 16 + 4, "UTC");
}

static int
build_header(struct etlw *w)
{
  const struct etlw_opts *o = &w->o;
  bool p64 = o->ptr_size == 8;
  size_t fixed = p64 ? LOGFILE_FIXED64 : LOGFILE_FIXED32;
  size_t names = 2 * (strlen(o->logger_name) + strlen(o->logfile_name) + 2);
  size_t recsz = SYSTEM_HDR + fixed + names;
  uint32_t used = (uint32_t)(ETLW_BUF_HDR + align8(recsz));
  if (used > o->buffer_size)
    return fail(w,
                "the logfile header (%u bytes) does not fit in a "
                "%u-byte buffer",
                (unsigned)used, (unsigned)o->buffer_size);
  /* Relogged and compressed files keep a small first buffer. */
  uint32_t size = o->compress ? (used + 511) & ~511u : o->buffer_size;
  uint8_t *h = calloc(1, size);
  if (!h) return fail(w, "out of memory");
  w->hdr = h;
  w->hdr_size = size;
  memset(h + used, 0xFF, size - used);

  uint8_t *r = h + ETLW_BUF_HDR;
  put16(r, 2); /* version */
  r[2] = p64 ? ETLW_SYSTEM64 : ETLW_SYSTEM32;
  r[3] = TRACE_FLAGS;
  put16(r + 4, (uint16_t)recsz);
  put16(r + 6, 0x0000); /* HookId: EventTrace group, Header type */
  put32(r + 8, o->header_tid);
  put32(r + 12, o->header_pid);
  put64(r + 16, w->raw0);

  uint8_t *t = r + SYSTEM_HDR;
  w->hdr_payload = ETLW_BUF_HDR + SYSTEM_HDR;
  static const uint8_t v7[4] = {6, 1, 1, 5}, v10[4] = {10, 0, 1, 5};
  put32(t + 0, o->buffer_size);
  memcpy(t + 4, o->win7 ? v7 : v10, 4);
  put32(t + 8, o->win7 ? 7601 : 19045); /* ProviderVersion: OS build */
  put32(t + 12, o->ncpus);
  /* EndTime @16 and BuffersWritten @36 are set by etlw_finish. */
  put32(t + 24, o->win7 ? 156001 : 156250); /* TimerResolution */
  put32(t + 28, 0);                         /* MaximumFileSize */
  put32(t + 32, (o->win7 ? 0 : ETLW_MODE_SEQUENTIAL) |
                    (o->compress ? ETLW_MODE_COMPRESSED : 0));
  put32(t + 40, 1); /* StartBuffers */
  put32(t + 44, o->ptr_size);
  put32(t + 48, 0); /* EventsLost */
  put32(t + 52, o->cpu_mhz);
  /* LoggerName and LogFileName "pointers" @56: left 0. */
  size_t tz = p64 ? 72 : 64, tail = p64 ? 248 : 240;
  put_tzi(t + tz);
  put64(t + tail, (uint64_t)o->start_time - 36000000000u); /* BootTime */
  put64(t + tail + 8, o->perf_freq);
  put64(t + tail + 16, (uint64_t)o->start_time);
  put32(t + tail + 24, o->clock); /* ReservedFlags */
  put32(t + tail + 28, 0);        /* BuffersLost */
  size_t n = put_utf16(t + fixed, o->logger_name);
  put_utf16(t + fixed + n, o->logfile_name);

  struct etlw_buf_damage d[4];
  size_t nd = 0;
  w->records++;
  w->kinds[r[2]]++;
  damage_records(w, 0, h, used, size, ETLW_BUF_HDR, r[2], d, &nd);
  uint16_t flags =
      (uint16_t)(ETLW_BF_FLUSH_MARKER | (o->win7 ? 0 : ETLW_BF_PROC_INDEX));
  put_buffer_header(w, h, size, used, 0, 0, 0, flags, 4);
  damage_size(w, 0, h, d, &nd);
  if (emit(w, h, size) != 0) return -1;
  w->nbuf = 1;
  if (o->on_buffer) {
    struct etlw_buf_info bi = {.size = size,
                               .filled = used,
                               .flags = flags,
                               .records = 1,
                               .kept =
                                   kept_records(w, h, used, 1, 0, size, false),
                               .first_ts = w->raw0,
                               .last_ts = w->raw0,
                               .damage = nd ? d : NULL,
                               .ndamage = nd};
    o->on_buffer(o->ctx, &bi);
  }
  return 0;
}

/* ---- life cycle ------------------------------------------------------- */

void
etlw_opts_default(struct etlw_opts *o)
{
  memset(o, 0, sizeof *o);
  o->buffer_size = 65536;
  o->ptr_size = 8;
  o->clock = ETLW_CLOCK_QPC;
  o->perf_freq = TICKS_PER_SEC;
  o->cpu_mhz = 3000;
  o->start_time = 133497864000000000;          /* 2024-01-15T10:00:00Z */
  o->start_raw = 3ull * 86400 * TICKS_PER_SEC; /* three days up */
  o->ncpus = 4;
  o->header_pid = 0x0E54;
  o->header_tid = 0x1B3C;
}

static const char *
check_opts(const struct etlw_opts *o)
{
  if (o->buffer_size < ETLW_MIN_BUFFER || o->buffer_size > ETLW_MAX_BUFFER ||
      o->buffer_size % 8)
    return "buffer size must be a multiple of 8 from 1024 to 16 MiB";
  if (o->ptr_size != 4 && o->ptr_size != 8)
    return "pointer size must be 4 or 8";
  if (o->clock < ETLW_CLOCK_QPC || o->clock > ETLW_CLOCK_CYCLES)
    return "clock type must be 1, 2 or 3";
  if (o->clock == ETLW_CLOCK_QPC &&
      (o->perf_freq == 0 || o->perf_freq > 100000000000ull))
    return "PerfFreq must be from 1 to 10^11";
  if (o->clock == ETLW_CLOCK_CYCLES && o->cpu_mhz == 0)
    return "CpuSpeedInMHz must not be 0 with the cycle clock";
  if (o->ncpus < 1 || o->ncpus > ETLW_MAX_CPUS)
    return "number of CPUs must be from 1 to 256";
  if (o->start_time <= 36000000000) return "start time out of range";
  return NULL;
}

static bool
name_ok(const char *s)
{
  size_t n = 0;
  for (; s[n]; n++)
    if ((unsigned char)s[n] >= 0x80) return false;
  return n <= MAX_NAME;
}

struct etlw *
etlw_new(const struct etlw_opts *o, char *err, size_t errsz)
{
  const char *why = check_opts(o);
  struct etlw *w = NULL;
  if (!why) {
    w = calloc(1, sizeof *w);
    if (!w) why = "out of memory";
  }
  if (w) {
    w->o = *o;
    if (!w->o.logger_name) w->o.logger_name = "etlwriter";
    if (!w->o.logfile_name) w->o.logfile_name = "C:\\PerfLogs\\etlwriter.etl";
    if (!name_ok(w->o.logger_name) || !name_ok(w->o.logfile_name))
      why = "logger and log file names must be ASCII, 200 characters at "
            "most";
    w->dmg = (struct etlw_damage){-1, -1, ETLW_LIE_BIG, -1, -1, -1};
    if (o->damage) w->dmg = *o->damage;
    if ((unsigned)w->dmg.lie > ETLW_LIE_SMALL) why = "unknown buffer-size lie";
    w->raw0 =
        o->clock == ETLW_CLOCK_SYSTEM ? (uint64_t)o->start_time : o->start_raw;
    w->end_raw = w->raw0;
    w->cpu = calloc(o->ncpus, sizeof *w->cpu);
    w->zcap = lzx_compress_bound(o->buffer_size);
    w->zbuf = o->compress ? malloc(w->zcap) : NULL;
    if (!why && (!w->cpu || (o->compress && !w->zbuf))) why = "out of memory";
    for (unsigned i = 0; !why && i < o->ncpus; i++) {
      w->cpu[i].p = malloc(o->buffer_size);
      if (!w->cpu[i].p) why = "out of memory";
    }
    if (!why && build_header(w) != 0) why = w->err;
  }
  if (why) {
    snprintf(err, errsz, "%s", why);
    etlw_free(w);
    return NULL;
  }
  return w;
}

int
etlw_finish(struct etlw *w, struct etlw_stats *st)
{
  if (w->failed) return -1;
  if (w->finished) return fail(w, "etlw_finish called twice");
  int lastcpu = -1;
  for (unsigned i = 0; i < w->o.ncpus; i++)
    if (w->cpu[i].used) lastcpu = (int)i;
  for (unsigned i = 0; i < w->o.ncpus; i++)
    if (flush_cpu(w, i, w->end_raw, (int)i == lastcpu) != 0) return -1;
  w->finished = true;

  /* Now EndTime and BuffersWritten are known: rewrite the header. */
  int64_t end_time = w->o.start_time + (int64_t)ticks_of(w, w->end_raw);
  uint8_t *t = w->hdr + w->hdr_payload;
  put64(t + 16, (uint64_t)end_time);
  put32(t + 36, w->nbuf);
  if (out_write(w, 0, w->hdr, w->hdr_size) != 0) return -1;
  if (w->o.out && fflush(w->o.out) != 0) return fail(w, "write error");
  if (st) {
    memset(st, 0, sizeof *st);
    st->buffers = w->nbuf;
    st->records = w->records;
    memcpy(st->kinds, w->kinds, sizeof st->kinds);
    st->bytes = w->off;
    st->bytes_written =
        w->dmg.truncate >= 0 && (uint64_t)w->dmg.truncate < w->off
            ? (uint64_t)w->dmg.truncate
            : w->off;
    st->end_raw = w->end_raw;
    st->end_time = end_time;
    st->damage_done = w->damage_done;
  }
  return 0;
}

const uint8_t *
etlw_mem(const struct etlw *w, size_t *len)
{
  *len = w->mem_len;
  return w->mem;
}

const char *
etlw_error(const struct etlw *w)
{
  return w->err;
}

void
etlw_free(struct etlw *w)
{
  if (!w) return;
  if (w->cpu)
    for (unsigned i = 0; i < w->o.ncpus; i++)
      free(w->cpu[i].p);
  free(w->cpu);
  free(w->hdr);
  free(w->zbuf);
  free(w->mem);
  free(w);
}

const char *
etlw_kind_name(int kind)
{
  switch (kind) {
  case ETLW_SYSTEM32:
    return "SYSTEM32";
  case ETLW_SYSTEM64:
    return "SYSTEM64";
  case ETLW_COMPACT32:
    return "COMPACT32";
  case ETLW_COMPACT64:
    return "COMPACT64";
  case ETLW_FULL32:
    return "FULL_HEADER32";
  case ETLW_INSTANCE32:
    return "INSTANCE32";
  case ETLW_PERFINFO32:
    return "PERFINFO32";
  case ETLW_PERFINFO64:
    return "PERFINFO64";
  case ETLW_EVENT32:
    return "EVENT_HEADER32";
  case ETLW_EVENT64:
    return "EVENT_HEADER64";
  case ETLW_FULL64:
    return "FULL_HEADER64";
  case ETLW_INSTANCE64:
    return "INSTANCE64";
  case ETLW_KIND_UNKNOWN:
    return "UNKNOWN";
  case ETLW_KIND_WPP:
    return "WPP";
  default:
    return NULL;
  }
}
