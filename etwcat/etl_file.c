/*
 * etl_file.c - one .etl file: log file header, clock, buffer index.
 *
 * WMI_BUFFER_HEADER (0x48 bytes; etl-format.md section 1), the fields
 * used here:
 *   0x00 u32 BufferSize     bytes on disk; the next buffer follows
 *   0x10 i64 TimeStamp      raw clock, fallback for the first record time
 *   0x28 u8/u16 Processor   u16 index when BufferFlag has PROC_INDEX
 *   0x30 u32 FilledBytes    end of valid (decompressed) data
 *   0x34 u16 BufferFlag     0x20 PROC_INDEX, 0x40 COMPRESSED
 * Only FilledBytes and BufferSize are trusted (SavedOffset and
 * CurrentOffset lie in Win7 and relogged files). A buffer whose geometry
 * is impossible is reported and the walk resynchronises on the next
 * plausible buffer header.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "etwcat/etl_reader.h"

#include "etwcat/etl_lzx.h"
#include "lib/bytes.h"
#include "lib/log.h"
#include "lib/rfile.h"
#include "lib/utf16.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BF_PROC_INDEX 0x20
#define BF_COMPRESSED 0x40
#define PEEK 128 /* bytes of a buffer's first record read by the index */

void
etl_problem(struct etl_file *f, uint32_t buf, uint64_t off, const char *fmt,
            ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  f->problems++;
  /* A badly damaged file can have a problem per buffer: show the first
   * ETL_MAX_REPORTS, count the rest. */
  if (f->problems <= ETL_MAX_REPORTS || log_verbosity() > 0)
    log_err("%s: buffer %" PRIu32 ", offset 0x%08" PRIx64 ": %s", f->name, buf,
            off, msg);
  else if (f->problems == ETL_MAX_REPORTS + 1)
    log_err("%s: more problems follow; only their count is reported "
            "(-v shows all)",
            f->name);
}

/* |a| * num / den rounded toward zero, saturated to INT64_MAX, with the
 * sign of a. Exact where 128-bit math is available; elsewhere exact as
 * long as num * (den - 1) fits in 64 bits. Timestamps come from the file:
 * nothing here may overflow, whatever they hold. */
static int64_t
mul_div(int64_t a, int64_t num, int64_t den)
{
  bool neg = a < 0;
  uint64_t u = neg ? (uint64_t)0 - (uint64_t)a : (uint64_t)a;
#ifdef __SIZEOF_INT128__
  unsigned __int128 p = (unsigned __int128)u * (uint64_t)num / (uint64_t)den;
  uint64_t q = p > INT64_MAX ? INT64_MAX : (uint64_t)p;
#else
  uint64_t hi = u / (uint64_t)den, lo = u % (uint64_t)den;
  uint64_t q = hi > INT64_MAX / (uint64_t)num
                   ? INT64_MAX
                   : hi * (uint64_t)num + lo * (uint64_t)num / (uint64_t)den;
  if (q > INT64_MAX)
    q = INT64_MAX;
#endif
  return neg ? -(int64_t)q : (int64_t)q;
}

static int64_t
add_sat(int64_t a, int64_t b)
{
  if (b > 0 && a > INT64_MAX - b)
    return INT64_MAX;
  if (b < 0 && a < INT64_MIN - b)
    return INT64_MIN;
  return a + b;
}

int64_t
etl_file_time(const struct etl_file *f, int64_t raw)
{
  /* The difference wraps like the hardware counter it came from. */
  int64_t d = (int64_t)((uint64_t)raw - (uint64_t)f->raw0);
  switch (f->clock) {
  case 2:
    return add_sat(f->start_time, d);
  case 3:
    if (f->cpu_mhz)
      return add_sat(f->start_time, mul_div(d, 10, f->cpu_mhz));
    return add_sat(f->start_time, d);
  default:
    if (f->perf_freq > 0)
      return add_sat(f->start_time, mul_div(d, 10000000, f->perf_freq));
    return add_sat(f->start_time, d);
  }
}

/* Parse TRACE_LOGFILE_HEADER from the first record of the first buffer.
 * rec points at the record (a SYSTEM header), n bytes available. */
static int
parse_logfile_header(struct etl_file *f, const uint8_t *rec, size_t n)
{
  struct br r = br_make(rec, n);
  uint32_t marker = br_u32le(&r);
  uint8_t type = (uint8_t)(marker >> 16);
  if (r.bad || (marker >> 24 & 0x80) == 0 ||
      (type != ETL_HDR_SYSTEM32 && type != ETL_HDR_SYSTEM64)) {
    return -1;
  }
  bool p64 = type == ETL_HDR_SYSTEM64;
  uint16_t size = br_u16le(&r);
  uint16_t hook = br_u16le(&r);
  br_skip(&r, 8);
  f->raw0 = (int64_t)br_u64le(&r);
  if (r.bad || hook != 0 || size < 32 || size > n) return -1;
  struct br p = br_make(rec + 32, size - 32u);
  f->buffer_size = br_u32le(&p);
  f->version = br_u32le(&p);
  f->provider_version = br_u32le(&p);
  f->ncpus = br_u32le(&p);
  f->end_time = (int64_t)br_u64le(&p);
  f->timer_resolution = br_u32le(&p);
  f->max_file_size = br_u32le(&p);
  f->log_mode = br_u32le(&p);
  f->buffers_written = br_u32le(&p);
  f->start_buffers = br_u32le(&p);
  f->ptr_size = br_u32le(&p);
  f->events_lost = br_u32le(&p);
  f->cpu_mhz = br_u32le(&p);
  br_skip(&p, p64 ? 16 : 8); /* LoggerName, LogFileName "pointers" */
  f->tz_bias = (int32_t)br_u32le(&p);
  br_skip(&p, 172 - 4 + 4); /* rest of TIME_ZONE_INFORMATION, padding */
  f->boot_time = (int64_t)br_u64le(&p);
  f->perf_freq = (int64_t)br_u64le(&p);
  f->start_time = (int64_t)br_u64le(&p);
  f->clock = br_u32le(&p);
  f->buffers_lost = br_u32le(&p);
  if (p.bad) return -1;
  /* LoggerName and LogFileName follow as NUL-terminated UTF-16. */
  size_t left = br_left(&p);
  const uint8_t *s = p.p + p.off;
  size_t u1 = utf16le_units(s, left);
  f->logger_name = utf16le_to_utf8(s, left);
  size_t skip = (u1 + 1) * 2;
  if (skip < left)
    f->logfile_name = utf16le_to_utf8(s + skip, left - skip);
  else
    f->logfile_name = utf16le_to_utf8(s, 0);
  if (!f->logger_name || !f->logfile_name) return -1;
  f->have_header = true;
  return 0;
}

/* Geometry checks on a buffer header; `avail` = bytes from its start to
 * the end of the file. */
static bool
plausible(const uint8_t h[ETL_BUF_HDR], uint64_t avail)
{
  uint32_t bs = le32(h), filled = le32(h + 0x30);
  uint16_t flags = le16(h + 0x34);
  if (bs < ETL_BUF_HDR || bs > ETL_MAX_BUFFER || bs > avail) return false;
  if (filled < ETL_BUF_HDR || (flags & 0xFF00)) return false;
  if (flags & BF_COMPRESSED) return filled <= ETL_MAX_BUFFER;
  return filled <= bs;
}

static bool
plausible_at(struct etl_file *f, uint64_t off)
{
  uint8_t h[ETL_BUF_HDR];
  if (off + ETL_BUF_HDR > f->size) return false;
  if (rfile_pread(f->rf, h, sizeof h, off) != (long long)sizeof h) return false;
  return plausible(h, f->size - off);
}

/* Find the next plausible buffer header after a bad one at `off`. */
static uint64_t
resync(struct etl_file *f, uint64_t off)
{
  if (f->buffer_size >= ETL_BUF_HDR && f->buffer_size <= ETL_MAX_BUFFER &&
      !(f->log_mode & ETL_MODE_COMPRESSED)) {
    /* Uncompressed buffers sit on a grid of the header's buffer size. */
    for (uint64_t o = off + f->buffer_size; o + ETL_BUF_HDR <= f->size;
         o += f->buffer_size)
      if (plausible_at(f, o)) return o;
    return f->size;
  }
  for (uint64_t o = off + 8; o + ETL_BUF_HDR <= f->size; o += 8)
    if (plausible_at(f, o)) return o;
  return f->size;
}

static const struct {
  uint8_t type;
  uint8_t ts_off;
} ts_offsets[] = {
    {ETL_HDR_SYSTEM32, 16},   {ETL_HDR_SYSTEM64, 16},  {ETL_HDR_COMPACT32, 16},
    {ETL_HDR_COMPACT64, 16},  {ETL_HDR_PERFINFO32, 8}, {ETL_HDR_PERFINFO64, 8},
    {ETL_HDR_FULL32, 16},     {ETL_HDR_FULL64, 16},    {ETL_HDR_INSTANCE32, 16},
    {ETL_HDR_INSTANCE64, 16}, {ETL_HDR_EVENT32, 16},   {ETL_HDR_EVENT64, 16},
};

bool
etl_peek_first_raw(const uint8_t *rec, size_t n, int64_t *raw)
{
  if (n < 24) return false;
  uint32_t marker = le32(rec);
  if (marker == 0 || marker == 0xFFFFFFFFu || !(marker >> 24 & 0x80))
    return false;
  uint8_t type = (uint8_t)(marker >> 16), flags = (uint8_t)(marker >> 24);
  if ((flags & 0x10) && !(flags & 0x40)) {
    /* WPP TraceMessage: the timestamp is optional and follows the
     * sequence number and the GUID or component id. */
    uint16_t opt = le16(rec + 6);
    size_t off = 8 + ((opt & 0x01) ? 4 : 0);
    off += (opt & 0x02) ? 16 : (opt & 0x04) ? 4 : 0;
    if (!(opt & 0x08) || n < off + 8) return false;
    *raw = (int64_t)le64(rec + off);
    return true;
  }
  for (size_t i = 0; i < sizeof ts_offsets / sizeof ts_offsets[0]; i++) {
    if (ts_offsets[i].type == type) {
      *raw = (int64_t)le64(rec + ts_offsets[i].ts_off);
      return true;
    }
  }
  return false;
}

static int
add_buf(struct etl_file *f, const struct etl_bufinfo *b, size_t *cap)
{
  if (f->nbufs == *cap) {
    size_t nc = *cap ? *cap * 2 : 64;
    struct etl_bufinfo *nb = realloc(f->bufs, nc * sizeof *nb);
    if (!nb) return -1;
    f->bufs = nb;
    *cap = nc;
  }
  f->bufs[f->nbufs++] = *b;
  return 0;
}

/* First record time of a buffer for the merge schedule. */
static int64_t
first_time(struct etl_file *f, const uint8_t h[ETL_BUF_HDR], uint64_t off,
           uint32_t bs, uint32_t filled)
{
  int64_t raw = (int64_t)le64(h + 0x10);
  uint8_t rec[PEEK];
  size_t n = 0;
  if (le16(h + 0x34) & BF_COMPRESSED) {
    uint8_t *z = malloc(bs);
    if (z && rfile_pread(f->rf, z, bs, off) == (long long)bs) {
      size_t want = filled - ETL_BUF_HDR < PEEK ? filled - ETL_BUF_HDR : PEEK;
      if (etl_lzx_decompress_prefix(z + ETL_BUF_HDR, bs - ETL_BUF_HDR, rec,
                                    want, &n) != 0)
        n = 0;
    }
    free(z);
  } else {
    size_t want = filled - ETL_BUF_HDR < PEEK ? filled - ETL_BUF_HDR : PEEK;
    long long got = rfile_pread(f->rf, rec, want, off + ETL_BUF_HDR);
    n = got > 0 ? (size_t)got : 0;
  }
  int64_t r0;
  if (etl_peek_first_raw(rec, n, &r0)) raw = r0;
  return etl_file_time(f, raw);
}

/* Read the first buffer's header record; sets the clock. */
static int
read_header(struct etl_file *f)
{
  uint8_t h[ETL_BUF_HDR];
  if (rfile_pread(f->rf, h, sizeof h, 0) != (long long)sizeof h) {
    log_err("%s: not an ETL file: %" PRIu64 " bytes, shorter than a buffer "
            "header",
            f->name, f->size);
    return -1;
  }
  uint32_t filled = le32(h + 0x30);
  if (!plausible(h, f->size) || (le16(h + 0x34) & BF_COMPRESSED)) {
    log_err("%s: not an ETL file: the first buffer header at offset 0x0 is "
            "not valid (BufferSize 0x%" PRIx32 ", FilledBytes 0x%" PRIx32
            ", file size 0x%" PRIx64 ")",
            f->name, le32(h), filled, f->size);
    return -1;
  }
  size_t n = filled - ETL_BUF_HDR;
  uint8_t *rec = malloc(n ? n : 1);
  if (!rec) return -1;
  long long got = rfile_pread(f->rf, rec, n, ETL_BUF_HDR);
  int rc = got == (long long)n ? parse_logfile_header(f, rec, n) : -1;
  free(rec);
  if (rc != 0)
    log_err("%s: not an ETL file: no TRACE_LOGFILE_HEADER record at offset "
            "0x48",
            f->name);
  return rc;
}

static int
index_buffers(struct etl_file *f)
{
  size_t cap = 0;
  uint64_t off = 0;
  uint32_t idx = 0;
  bool compressed_file = f->log_mode & ETL_MODE_COMPRESSED;
  while (off < f->size) {
    uint8_t h[ETL_BUF_HDR];
    uint64_t avail = f->size - off;
    if (avail < ETL_BUF_HDR) {
      etl_problem(f, idx, off,
                  "%" PRIu64 " trailing bytes, too short for a buffer header; "
                  "the file is truncated",
                  avail);
      break;
    }
    long long got = rfile_pread(f->rf, h, sizeof h, off);
    if (got != (long long)sizeof h) {
      etl_problem(f, idx, off, "%s",
                  got < 0 ? strerror(errno)
                          : "the file shrank while being "
                            "read");
      break;
    }
    uint32_t bs = le32(h), filled = le32(h + 0x30);
    uint16_t flags = le16(h + 0x34);
    bool comp = flags & BF_COMPRESSED;
    if (bs > avail && bs <= ETL_MAX_BUFFER && filled >= ETL_BUF_HDR && !comp &&
        (flags & 0xFF00) == 0) {
      /* The last buffer was cut short: decode what is there. */
      etl_problem(f, idx, off,
                  "buffer of 0x%" PRIx32 " bytes runs past the end of the "
                  "file (0x%" PRIx64 " bytes left): the file is truncated; "
                  "decoding the records that are complete",
                  bs, avail);
      bs = (uint32_t)avail;
      if (filled > bs) filled = bs;
    } else if (!plausible(h, avail)) {
      uint64_t next = resync(f, off);
      etl_problem(f, idx, off,
                  "impossible buffer header (BufferSize 0x%" PRIx32
                  ", FilledBytes 0x%" PRIx32 ", BufferFlag 0x%" PRIx16
                  "); skipped 0x%" PRIx64 " bytes to the next buffer",
                  le32(h), le32(h + 0x30), flags, next - off);
      off = next;
      idx++;
      continue;
    } else if (!comp && !compressed_file && idx > 0 && bs != f->buffer_size &&
               f->buffer_size >= ETL_BUF_HDR &&
               f->buffer_size <= ETL_MAX_BUFFER &&
               plausible_at(f, off + f->buffer_size)) {
      etl_problem(f, idx, off,
                  "BufferSize 0x%" PRIx32 " disagrees with the trace's "
                  "0x%" PRIx32 " and a buffer starts there; using 0x%" PRIx32,
                  bs, f->buffer_size, f->buffer_size);
      bs = f->buffer_size;
      if (filled > bs) filled = bs;
    }
    struct etl_bufinfo b = {0};
    b.off = off;
    b.size = bs;
    b.filled = filled;
    b.flags = flags;
    b.cpu = (flags & BF_PROC_INDEX) ? le16(h + 0x28) : h[0x28];
    b.index = idx;
    if (filled > ETL_BUF_HDR) {
      b.first = first_time(f, h, off, bs, filled);
      if (add_buf(f, &b, &cap) != 0) return -1;
    }
    off += bs;
    idx++;
  }
  return 0;
}

struct etl_file *
etl_file_open(const char *path, uint32_t findex)
{
  struct rfile *rf = rfile_open(path);
  if (!rf) {
    log_err("%s: %s", path, strerror(errno));
    return NULL;
  }
  return etl_file_open_rfile(path, rf, findex);
}

struct etl_file *
etl_file_open_rfile(const char *name, struct rfile *rf, uint32_t findex)
{
  struct etl_file *f = calloc(1, sizeof *f);
  size_t n = strlen(name);
  char *copy = malloc(n + 1);
  if (!f || !copy) {
    free(f);
    free(copy);
    rfile_close(rf);
    return NULL;
  }
  memcpy(copy, name, n + 1);
  f->name = copy;
  f->findex = findex;
  f->rf = rf;
  f->size = rfile_size(f->rf);
  if (read_header(f) != 0 || index_buffers(f) != 0) {
    etl_file_close(f);
    return NULL;
  }
  if (f->clock < 1 || f->clock > 3) {
    log_warn("%s: unknown clock type %" PRIu32 "; timestamps read as QPC",
             f->name, f->clock);
  }
  if (f->clock <= 1 && f->perf_freq <= 0) {
    etl_problem(f, 0, 0x48,
                "PerfFreq %" PRId64 " is not a frequency; "
                "timestamps are raw offsets",
                f->perf_freq);
  }
  return f;
}

void
etl_file_close(struct etl_file *f)
{
  if (!f) return;
  rfile_close(f->rf);
  free(f->bufs);
  free(f->logger_name);
  free(f->logfile_name);
  free(f->name);
  free(f);
}

int
etl_file_load(struct etl_file *f, const struct etl_bufinfo *b, uint8_t **out)
{
  uint8_t *data = malloc(b->filled);
  if (!data) {
    etl_problem(f, b->index, b->off,
                "out of memory for a 0x%" PRIx32 "-byte buffer", b->filled);
    return -1;
  }
  if (!(b->flags & BF_COMPRESSED)) {
    long long got = rfile_pread(f->rf, data, b->filled, b->off);
    if (got != (long long)b->filled) {
      if (got < 0)
        etl_problem(f, b->index, b->off, "read error: %s", strerror(errno));
      else
        etl_problem(f, b->index, b->off,
                    "the file ended after 0x%llx of "
                    "0x%" PRIx32 " buffer bytes: it shrank while being read",
                    got, b->filled);
      free(data);
      return -1;
    }
    *out = data;
    return 0;
  }
  uint8_t *z = malloc(b->size);
  if (!z || rfile_pread(f->rf, z, b->size, b->off) != (long long)b->size) {
    etl_problem(f, b->index, b->off, "cannot read the compressed buffer");
    free(z);
    free(data);
    return -1;
  }
  memcpy(data, z, ETL_BUF_HDR);
  size_t got = 0;
  int rc =
      etl_lzx_decompress(z + ETL_BUF_HDR, b->size - ETL_BUF_HDR,
                         data + ETL_BUF_HDR, b->filled - ETL_BUF_HDR, &got);
  free(z);
  if (rc != 0 || got != b->filled - ETL_BUF_HDR) {
    etl_problem(f, b->index, b->off,
                "compressed buffer does not decompress to FilledBytes "
                "(0x%zx of 0x%" PRIx32 " bytes%s); buffer skipped",
                got, b->filled - ETL_BUF_HDR, rc ? ", corrupt stream" : "");
    free(data);
    return -1;
  }
  *out = data;
  return 0;
}
