/*
 * test_etl_writer.c - byte-level checks of the test ETL writer.
 *
 * Checks what tests/tools/etl_writer.c produces against the layout in
 * design/etl-format.md: buffer headers, the logfile header record and
 * its 64/32-bit offsets, record kinds and alignment, extended items,
 * per-CPU flushing, FilledBytes and the 0xFF fill, compressed buffers
 * (decoded here by a small MS-XCA decoder of the test's own), the damage
 * options, and determinism. It uses nothing of the project's reader, so
 * the writer can be trusted when the reader is tested with its files.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "tests/tools/etl_writer.h"
#include "tests/unit/check.h"

#include <stdlib.h>
#include <string.h>

static const struct etlw_guid kn_guid = {
    0x7dd42a49,
    0x5329,
    0x4832,
    {0x8d, 0xfd, 0x43, 0xd9, 0x79, 0x15, 0x3a, 0x88}};

static uint16_t
g16(const uint8_t *p)
{
  return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
g32(const uint8_t *p)
{
  return (uint32_t)g16(p) | (uint32_t)g16(p + 2) << 16;
}

static uint64_t
g64(const uint8_t *p)
{
  return (uint64_t)g32(p) | (uint64_t)g32(p + 4) << 32;
}

static bool
all_ff(const uint8_t *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (p[i] != 0xFF) return false;
  return true;
}

/* UTF-16LE, NUL-terminated, equal to ASCII s? */
static bool
wstr_is(const uint8_t *p, const char *s)
{
  size_t i = 0;
  for (; s[i]; i++)
    if (g16(p + 2 * i) != (uint8_t)s[i]) return false;
  return g16(p + 2 * i) == 0;
}

/* MS-XCA Plain LZ77, as etl-format.md section 2 describes it; returns
 * the decoded length or -1 when the stream is corrupt. */
static long
lz77_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
  size_t i = 0, o = 0, half = 0;
  uint32_t flags = 0;
  int nflags = 0;
  for (;;) {
    if (nflags == 0) {
      if (n - i < 4) return -1;
      flags = g32(in + i);
      i += 4;
      nflags = 32;
    }
    nflags--;
    if (!(flags >> nflags & 1)) {
      if (i >= n || o >= cap) return -1;
      out[o++] = in[i++];
      continue;
    }
    if (i == n) return (long)o;
    if (n - i < 2) return -1;
    unsigned tok = g16(in + i);
    i += 2;
    size_t off = (tok >> 3) + 1, len = tok & 7;
    if (len == 7) {
      if (half == 0) {
        if (i >= n) return -1;
        half = i;
        len = in[i++] & 15;
      } else {
        len = in[half] >> 4;
        half = 0;
      }
      if (len == 15) {
        if (i >= n) return -1;
        len = in[i++];
        if (len == 255) {
          if (n - i < 2) return -1;
          len = g16(in + i);
          i += 2;
          if (len == 0) {
            if (n - i < 4) return -1;
            len = g32(in + i);
            i += 4;
          }
          if (len < 22) return -1;
          len -= 22;
        }
        len += 15;
      }
      len += 7;
    }
    len += 3;
    if (off > o || len > cap - o) return -1;
    for (size_t k = 0; k < len; k++, o++)
      out[o] = out[o - off];
  }
}

/* A small fixed scenario: n events spread over the CPUs, CPU 0 busiest,
 * with timestamps rising by 1000 ticks. */
static void
add_events(struct etlw *w, unsigned ncpus, unsigned n)
{
  uint8_t pl[64];
  for (unsigned i = 0; i < n; i++) {
    unsigned cpu = i % 3 ? 0 : i / 3 % ncpus;
    for (unsigned k = 0; k < sizeof pl; k++)
      pl[k] = (uint8_t)(i + k);
    struct etlw_event ev = {0};
    ev.provider = kn_guid;
    ev.id = (uint16_t)(10 + i % 9);
    ev.channel = 16;
    ev.level = 4;
    ev.opcode = (uint8_t)(10 + i % 9);
    ev.task = 10;
    ev.keyword = 0x8000000000000010ull;
    ev.pid = 1000 + cpu; /* lets the walk check the CPU */
    ev.tid = 2000 + i;
    ev.timestamp = etlw_raw_at(w, 1000ull * (i + 1));
    ev.data = pl;
    ev.len = 20 + i % 40;
    CHECK(etlw_add_event(w, cpu, &ev) == 0);
  }
}

/* What on_buffer reported. */
static struct etlw_buf_info seen[64];
static unsigned nseen;

static void
remember(void *ctx, const struct etlw_buf_info *bi)
{
  (void)ctx;
  if (nseen < 64) seen[nseen] = *bi;
  nseen++;
}

/* Run the scenario; returns malloc'd file bytes. */
static uint8_t *
make(const struct etlw_opts *o, unsigned n, size_t *len, struct etlw_stats *st)
{
  char err[256];
  struct etlw *w = etlw_new(o, err, sizeof err);
  CHECK(w != NULL);
  if (!w) {
    fprintf(stderr, "etlw_new: %s\n", err);
    *len = 0;
    return NULL;
  }
  add_events(w, o->ncpus, n);
  CHECK(etlw_finish(w, st) == 0);
  const uint8_t *m = etlw_mem(w, len);
  uint8_t *copy = malloc(*len ? *len : 1);
  if (copy && *len) memcpy(copy, m, *len);
  etlw_free(w);
  return copy;
}

/* ---- regular cases ---------------------------------------------------- */

static void
test_header_64(void)
{
  struct etlw_opts o;
  etlw_opts_default(&o);
  o.ncpus = 2;
  struct etlw_stats st;
  size_t len;
  uint8_t *f = make(&o, 10, &len, &st);
  if (!f) return;
  size_t names = 2 * (strlen("etlwriter") + 1) +
                 2 * (strlen("C:\\PerfLogs\\etlwriter.etl") + 1);
  uint32_t recsz = (uint32_t)(32 + 0x118 + names);
  uint32_t filled = (uint32_t)(0x48 + ((recsz + 7) & ~7u));

  /* WMI_BUFFER_HEADER of the header buffer (Win8+ style) */
  CHECK(g32(f + 0x00) == 65536);
  CHECK(g32(f + 0x04) == filled);
  CHECK(g32(f + 0x08) == filled);
  CHECK(g64(f + 0x10) == 0);
  CHECK(g64(f + 0x18) == 0);
  CHECK(g16(f + 0x28) == 0);
  CHECK(g32(f + 0x30) == filled);
  CHECK(g16(f + 0x34) == 0x21);
  CHECK(g16(f + 0x36) == 4);
  CHECK(all_ff(f + filled, 65536 - filled));
  for (uint32_t i = 0x48 + recsz; i < filled; i++)
    CHECK(f[i] == 0);

  /* the SYSTEM64 header record */
  const uint8_t *r = f + 0x48;
  CHECK(g32(r) == 0xC0020002u);
  CHECK(g16(r + 4) == recsz);
  CHECK(g16(r + 6) == 0);
  CHECK(g32(r + 8) == o.header_tid);
  CHECK(g32(r + 12) == o.header_pid);
  CHECK(g64(r + 16) == o.start_raw);

  /* TRACE_LOGFILE_HEADER, 64-bit offsets */
  const uint8_t *t = r + 32;
  CHECK(g32(t + 0) == 65536);
  CHECK(t[4] == 10 && t[5] == 0 && t[6] == 1 && t[7] == 5);
  CHECK(g32(t + 8) == 19045);
  CHECK(g32(t + 12) == 2);
  CHECK((int64_t)g64(t + 16) == o.start_time + 10 * 1000);
  CHECK((int64_t)g64(t + 16) == st.end_time);
  CHECK(g32(t + 32) == ETLW_MODE_SEQUENTIAL);
  CHECK(g32(t + 36) == st.buffers);
  CHECK(g32(t + 40) == 1);
  CHECK(g32(t + 44) == 8);
  CHECK(g32(t + 52) == o.cpu_mhz);
  CHECK(wstr_is(t + 72 + 4, "UTC"));
  CHECK(g64(t + 256) == o.perf_freq);
  CHECK((int64_t)g64(t + 264) == o.start_time);
  CHECK(g64(t + 248) < g64(t + 264)); /* BootTime before StartTime */
  CHECK(g32(t + 272) == ETLW_CLOCK_QPC);
  CHECK(g32(t + 276) == 0);
  CHECK(wstr_is(t + 0x118, "etlwriter"));
  CHECK(wstr_is(t + 0x118 + 20, "C:\\PerfLogs\\etlwriter.etl"));

  CHECK(st.records == 11);
  CHECK(st.kinds[ETLW_SYSTEM64] == 1);
  CHECK(st.kinds[ETLW_EVENT64] == 10);
  CHECK(st.bytes == len && st.bytes_written == len);
  CHECK(len == (size_t)st.buffers * 65536);
  free(f);
}

static void
test_header_32_win7(void)
{
  struct etlw_opts o;
  etlw_opts_default(&o);
  o.ptr_size = 4;
  o.win7 = true;
  o.clock = ETLW_CLOCK_CYCLES;
  o.cpu_mhz = 3066;
  o.buffer_size = 8192;
  o.logger_name = "DataCollector01";
  o.logfile_name = "x.etl";
  struct etlw_stats st;
  size_t len;
  uint8_t *f = make(&o, 5, &len, &st);
  if (!f) return;
  uint32_t recsz = 32 + 0x110 + 32 + 12;
  CHECK(g32(f + 0x00) == 8192);
  CHECK(g32(f + 0x04) == 0); /* SavedOffset 0 in a Win7 header buffer */
  CHECK(f[0x28] == 0 && f[0x29] == 8);
  CHECK(g16(f + 0x2A) == 0x14);
  CHECK(g16(f + 0x34) == 0x01);
  CHECK(g16(f + 0x36) == 4);
  const uint8_t *r = f + 0x48;
  CHECK(g32(r) == 0xC0010002u); /* SYSTEM32 */
  CHECK(g16(r + 4) == recsz);
  const uint8_t *t = r + 32;
  CHECK(t[4] == 6 && t[5] == 1 && t[6] == 1 && t[7] == 5);
  CHECK(g32(t + 8) == 7601);
  CHECK(g32(t + 32) == 0); /* Win7 logman: LogFileMode 0 */
  CHECK(g32(t + 44) == 4);
  CHECK(g32(t + 52) == 3066);
  CHECK(wstr_is(t + 64 + 4, "UTC"));
  CHECK((int64_t)g64(t + 256) == o.start_time);
  CHECK(g32(t + 264) == ETLW_CLOCK_CYCLES);
  CHECK(wstr_is(t + 0x110, "DataCollector01"));
  CHECK(wstr_is(t + 0x110 + 32, "x.etl"));
  /* cycles: 5000 ticks = 500 us = 1,533,000 cycles at 3066 MHz */
  CHECK((int64_t)g64(t + 16) == o.start_time + 5000);
  /* data buffers: u8 CPU, u8 alignment 8, no PROC_INDEX */
  for (size_t off = 8192; off < len; off += 8192) {
    CHECK(f[off + 0x29] == 8);
    CHECK(f[off + 0x28] < o.ncpus);
    CHECK((g16(f + off + 0x34) & ~ETLW_BF_FLUSH_MARKER) == 0);
    CHECK(g32(f + off + 0x04) == g32(f + off + 0x30));
  }
  free(f);
}

/* Walk every buffer of an uncompressed file and check its geometry. */
static void
test_walk(void)
{
  struct etlw_opts o;
  etlw_opts_default(&o);
  o.buffer_size = 1024;
  o.ncpus = 3;
  struct etlw_stats st;
  size_t len;
  o.on_buffer = remember;
  nseen = 0;
  uint8_t *f = make(&o, 300, &len, &st);
  if (!f) return;
  CHECK(len % 1024 == 0);
  CHECK(nseen == st.buffers && nseen <= 64);
  uint64_t sum = 0;
  for (unsigned i = 0; i < nseen && i < 64; i++) {
    CHECK(seen[i].index == i && seen[i].offset == 1024ull * i);
    CHECK(seen[i].size == 1024 && seen[i].kept == seen[i].records);
    CHECK(seen[i].filled == g32(f + 1024 * i + 0x30));
    CHECK(seen[i].sequence == g64(f + 1024 * i + 0x18));
    CHECK(seen[i].damage == NULL);
    sum += seen[i].records;
  }
  CHECK(sum == st.records);
  uint64_t records = 0, prev_last = 0, seq_max = 0;
  int inversions = 0, flush_markers = 0;
  for (size_t off = 0; off + 0x48 <= len; off += 1024) {
    const uint8_t *b = f + off;
    uint32_t filled = g32(b + 0x30);
    CHECK(g32(b) == 1024);
    CHECK(filled % 8 == 0 && filled >= 0x48 && filled <= 1024);
    CHECK(g32(b + 0x08) == filled);
    CHECK(all_ff(b + filled, 1024 - filled));
    CHECK(g16(b + 0x36) == (off ? 0 : 4));
    CHECK(g16(b + 0x34) & ETLW_BF_PROC_INDEX);
    flush_markers += g16(b + 0x34) & ETLW_BF_FLUSH_MARKER;
    if (g64(b + 0x18) > seq_max) seq_max = g64(b + 0x18);
    unsigned cpu = g16(b + 0x28);
    uint64_t first = 0, last = 0;
    size_t p = 0x48;
    while (p < filled) {
      const uint8_t *r = b + p;
      CHECK(p % 8 == 0);
      CHECK(r[3] == 0xC0);
      size_t sz = off ? g16(r) : g16(r + 4);
      CHECK(sz >= 32 && p + sz <= filled);
      if (off) {
        CHECK(r[2] == ETLW_EVENT64);
        CHECK(g32(r + 12) == 1000 + cpu);
        uint64_t ts = g64(r + 16);
        CHECK(ts >= last);
        if (!first) first = ts;
        last = ts;
      }
      p += (sz + 7) & ~(size_t)7;
      records++;
    }
    CHECK(p == filled);
    if (off) {
      CHECK(g64(b + 0x10) >= last); /* stamped at flush */
      if (prev_last && first < prev_last) inversions++;
      prev_last = last;
    }
  }
  CHECK(records == st.records && records == 301);
  CHECK(inversions > 0);     /* buffers leave the CPUs out of time order */
  CHECK(flush_markers == 2); /* the header buffer and the last one */
  CHECK(seq_max == st.buffers - 1);
  free(f);
}

static void
test_event_fields(void)
{
  struct etlw_opts o;
  etlw_opts_default(&o);
  o.ncpus = 1;
  char err[256];
  struct etlw *w = etlw_new(&o, err, sizeof err);
  CHECK(w != NULL);
  if (!w) return;
  static const uint8_t pl[5] = {1, 2, 3, 4, 5};
  uint8_t a[16], b[15], c[5];
  memset(a, 0xA1, sizeof a);
  memset(b, 0xB2, sizeof b);
  memset(c, 0xC3, sizeof c);
  struct etlw_ext ext[3] = {{ETLW_EXT_RELATED_ACTIVITYID, 16, a},
                            {ETLW_EXT_PROV_TRAITS, 15, b},
                            {ETLW_EXT_EVENT_SCHEMA_TL, 5, c}};
  struct etlw_event ev = {0};
  ev.header32 = true;
  ev.provider = kn_guid;
  ev.id = 27;
  ev.channel = 16;
  ev.level = 4;
  ev.opcode = 11;
  ev.task = 10;
  ev.keyword = 0x8000000000000020ull;
  ev.pid = 2716;
  ev.tid = 77;
  ev.kernel_time = 9;
  ev.user_time = 8;
  ev.timestamp = etlw_raw_at(w, 5);
  ev.activity.d1 = 0x11223344;
  ev.ext = ext;
  ev.next = 3;
  ev.data = pl;
  ev.len = sizeof pl;
  CHECK(etlw_add_event(w, 0, &ev) == 0);
  ev.next = 0;
  ev.header32 = false;
  CHECK(etlw_add_event(w, 0, &ev) == 0);
  CHECK(etlw_finish(w, NULL) == 0);
  size_t len;
  const uint8_t *f = etlw_mem(w, &len);
  CHECK(len == 2 * 65536);
  const uint8_t *r = f + 65536 + 0x48;
  static const uint8_t guid_bytes[16] = {0x49, 0x2a, 0xd4, 0x7d, 0x29, 0x53,
                                         0x32, 0x48, 0x8d, 0xfd, 0x43, 0xd9,
                                         0x79, 0x15, 0x3a, 0x88};
  CHECK(g16(r) == 80 + 24 + 24 + 16 + 5);
  CHECK(r[2] == ETLW_EVENT32 && r[3] == 0xC0);
  CHECK(g16(r + 4) == 0x0001);
  CHECK(g16(r + 6) == 0);
  CHECK(g32(r + 8) == 77 && g32(r + 12) == 2716);
  CHECK(g64(r + 16) == o.start_raw + 5);
  CHECK(!memcmp(r + 24, guid_bytes, 16));
  CHECK(g16(r + 40) == 27 && r[42] == 0 && r[43] == 16 && r[44] == 4);
  CHECK(r[45] == 11 && g16(r + 46) == 10);
  CHECK(g64(r + 48) == 0x8000000000000020ull);
  CHECK(g32(r + 56) == 9 && g32(r + 60) == 8);
  CHECK(g32(r + 64) == 0x11223344 && g64(r + 72) == 0);
  const uint8_t *x = r + 80;
  CHECK(g16(x) == 24 && g16(x + 2) == 1 && g16(x + 4) == 1);
  CHECK(g16(x + 6) == 16 && x[8] == 0xA1);
  x += 24;
  CHECK(g16(x) == 24 && g16(x + 2) == 12 && g16(x + 4) == 1);
  CHECK(g16(x + 6) == 15 && x[22] == 0xB2 && x[23] == 0);
  x += 24;
  CHECK(g16(x) == 16 && g16(x + 2) == 11 && g16(x + 4) == 0);
  CHECK(g16(x + 6) == 5 && x[12] == 0xC3 && x[13] == 0);
  x += 16;
  CHECK(!memcmp(x, pl, 5));
  CHECK(x[5] == 0 && x[6] == 0 && x[7] == 0); /* record padding */
  /* the second one, without items, starts 8-aligned after it */
  r += 152;
  CHECK(g16(r) == 85 && r[2] == ETLW_EVENT64 && g16(r + 4) == 0);
  CHECK(!memcmp(r + 80, pl, 5));
  CHECK(g32(f + 65536 + 0x30) == 0x48 + 152 + 88);
  etlw_free(w);
}

static void
test_classic_kinds(void)
{
  struct etlw_opts o;
  etlw_opts_default(&o);
  o.ncpus = 1;
  char err[256];
  struct etlw *w = etlw_new(&o, err, sizeof err);
  CHECK(w != NULL);
  if (!w) return;
  static const uint8_t pl[3] = {0xAA, 0xBB, 0xCC};
  static const int kinds[] = {ETLW_SYSTEM64,  ETLW_SYSTEM32,   ETLW_COMPACT64,
                              ETLW_COMPACT32, ETLW_PERFINFO64, ETLW_PERFINFO32,
                              ETLW_FULL64,    ETLW_FULL32,     ETLW_INSTANCE64,
                              ETLW_INSTANCE32};
  static const size_t hsz[] = {32, 32, 24, 24, 16, 16, 48, 48, 72, 72};
  size_t nk = sizeof kinds / sizeof kinds[0];
  for (size_t i = 0; i < nk; i++) {
    struct etlw_classic c = {0};
    c.kind = (enum etlw_kind)kinds[i];
    c.version = 3;
    c.hook_id = 0x0503;
    c.type = 1;
    c.level = 4;
    c.guid = kn_guid;
    c.parent_guid = kn_guid;
    c.instance_id = 42;
    c.parent_instance_id = 41;
    c.pid = 100;
    c.tid = 200;
    c.kernel_time = 5;
    c.user_time = 6;
    c.timestamp = o.start_raw + 10 + i;
    c.data = pl;
    c.len = sizeof pl;
    CHECK(etlw_add_classic(w, 0, &c) == 0);
  }
  struct etlw_wpp m = {0};
  m.message_number = 10;
  m.option_flags = ETLW_WPP_SEQUENCE | ETLW_WPP_GUID | ETLW_WPP_TIMESTAMP |
                   ETLW_WPP_SYSTEMINFO;
  m.sequence = 7;
  m.guid = kn_guid;
  m.pid = 100;
  m.tid = 200;
  m.timestamp = o.start_raw + 99;
  m.data = pl;
  m.len = sizeof pl;
  CHECK(etlw_add_wpp(w, 0, &m) == 0);
  struct etlw_stats st;
  CHECK(etlw_finish(w, &st) == 0);
  CHECK(st.kinds[ETLW_KIND_WPP] == 1 && st.kinds[ETLW_SYSTEM64] == 2);
  size_t len;
  const uint8_t *f = etlw_mem(w, &len);
  const uint8_t *r = f + 65536 + 0x48;
  for (size_t i = 0; i < nk; i++) {
    size_t sz = hsz[i] + 3;
    CHECK(r[2] == kinds[i] && r[3] == 0xC0);
    if (hsz[i] <= 32) {
      CHECK(g16(r) == 3 && g16(r + 4) == sz && g16(r + 6) == 0x0503);
      if (hsz[i] == 16) {
        CHECK(g64(r + 8) == o.start_raw + 10 + i);
      } else {
        CHECK(g32(r + 8) == 200 && g32(r + 12) == 100);
        CHECK(g64(r + 16) == o.start_raw + 10 + i);
      }
      if (hsz[i] == 32) CHECK(g32(r + 24) == 5 && g32(r + 28) == 6);
    } else {
      CHECK(g16(r) == sz && r[4] == 1 && r[5] == 4 && g16(r + 6) == 3);
      CHECK(g32(r + 8) == 200 && g32(r + 12) == 100);
      CHECK(g64(r + 16) == o.start_raw + 10 + i);
      CHECK(g32(r + 24) == kn_guid.d1);
      CHECK(g32(r + 40) == 5 && g32(r + 44) == 6);
      if (hsz[i] == 72)
        CHECK(g32(r + 48) == 42 && g32(r + 52) == 41 &&
              g32(r + 56) == kn_guid.d1);
    }
    CHECK(r[hsz[i]] == 0xAA && r[hsz[i] + 2] == 0xCC);
    r += (sz + 7) & ~(size_t)7;
  }
  /* WPP: {u16 Size, 0, 0x90, MessageNumber, OptionFlags}, sequence,
   * GUID, timestamp, TID, PID, arguments */
  CHECK(g16(r) == 8 + 4 + 16 + 8 + 8 + 3 && r[2] == 0 && r[3] == 0x90);
  CHECK(g16(r + 4) == 10 && g16(r + 6) == 0x2B);
  CHECK(g32(r + 8) == 7 && g32(r + 12) == kn_guid.d1);
  CHECK(g64(r + 28) == o.start_raw + 99);
  CHECK(g32(r + 36) == 200 && g32(r + 40) == 100 && r[44] == 0xAA);
  etlw_free(w);
}

static void
test_determinism(void)
{
  struct etlw_opts o;
  etlw_opts_default(&o);
  o.buffer_size = 2048;
  struct etlw_stats st;
  size_t l1, l2;
  uint8_t *a = make(&o, 500, &l1, &st);
  uint8_t *b = make(&o, 500, &l2, &st);
  CHECK(a && b && l1 == l2 && !memcmp(a, b, l1));

  /* The same through a FILE: the header is rewritten in place. */
  FILE *tf = tmpfile();
  if (tf && a) {
    o.out = tf;
    char err[256];
    struct etlw *w = etlw_new(&o, err, sizeof err);
    CHECK(w != NULL);
    if (w) {
      add_events(w, o.ncpus, 500);
      CHECK(etlw_finish(w, NULL) == 0);
      etlw_free(w);
    }
    rewind(tf);
    uint8_t *c = malloc(l1 + 1);
    size_t got = c ? fread(c, 1, l1 + 1, tf) : 0;
    CHECK(got == l1 && !memcmp(a, c, l1));
    free(c);
    fclose(tf);
  }
  free(a);
  free(b);
}

static void
test_compression(void)
{
  struct etlw_opts o;
  etlw_opts_default(&o);
  o.buffer_size = 4096;
  struct etlw_stats su, sc;
  size_t lu, lc;
  uint8_t *u = make(&o, 400, &lu, &su);
  o.compress = true;
  uint8_t *c = make(&o, 400, &lc, &sc);
  if (!u || !c) {
    free(u);
    free(c);
    return;
  }
  CHECK(sc.buffers == su.buffers && sc.records == su.records);
  CHECK(lc < lu);
  /* the header buffer: not compressed, rounded to 512 */
  uint32_t hf = g32(c + 0x30), hs = g32(c);
  CHECK(hs == ((hf + 511) & ~511u) && hs < 4096);
  CHECK(!(g16(c + 0x34) & ETLW_BF_COMPRESSED));
  CHECK(g32(c + 0x48 + 32 + 32) ==
        (ETLW_MODE_SEQUENTIAL | ETLW_MODE_COMPRESSED));
  CHECK(all_ff(c + hf, hs - hf));
  size_t off = hs, uoff = 4096;
  unsigned n = 1;
  uint8_t out[4096];
  while (off + 0x48 <= lc) {
    uint32_t size = g32(c + off), filled = g32(c + off + 0x30);
    CHECK(g16(c + off + 0x34) & ETLW_BF_COMPRESSED);
    CHECK(size > 0x48 && off + size <= lc);
    long got = lz77_decode(c + off + 0x48, size - 0x48u, out, sizeof out);
    CHECK(got == (long)filled - 0x48);
    /* the same records as the uncompressed file's buffer n */
    CHECK(g32(u + uoff + 0x30) == filled);
    CHECK(got > 0 && !memcmp(out, u + uoff + 0x48, (size_t)got));
    CHECK(!memcmp(c + off + 0x08, u + uoff + 0x08, 0x28)); /* same header */
    off += size;
    uoff += 4096;
    n++;
  }
  CHECK(off == lc && n == sc.buffers);
  free(u);
  free(c);
}

static void
test_clock(void)
{
  struct etlw_opts o;
  etlw_opts_default(&o);
  o.perf_freq = 2994853;
  char err[256];
  struct etlw *w = etlw_new(&o, err, sizeof err);
  CHECK(w && etlw_raw_at(w, 10000000) == o.start_raw + 2994853);
  CHECK(w && etlw_raw_at(w, 15000000) == o.start_raw + 4492279);
  etlw_free(w);
  o.clock = ETLW_CLOCK_SYSTEM;
  w = etlw_new(&o, err, sizeof err);
  CHECK(w && etlw_raw_at(w, 7) == (uint64_t)o.start_time + 7);
  if (w) { /* raw0 is the start time itself */
    size_t len;
    CHECK(etlw_finish(w, NULL) == 0);
    CHECK(g64(etlw_mem(w, &len) + 0x48 + 16) == (uint64_t)o.start_time);
  }
  etlw_free(w);
  o.clock = ETLW_CLOCK_CYCLES;
  o.cpu_mhz = 3000;
  w = etlw_new(&o, err, sizeof err);
  CHECK(w && etlw_raw_at(w, 10) == o.start_raw + 3000);
  etlw_free(w);
}

/* ---- error cases ------------------------------------------------------ */

static uint8_t *
make_damaged(const struct etlw_damage *d, bool compress, size_t *len,
             struct etlw_stats *st)
{
  struct etlw_opts o;
  etlw_opts_default(&o);
  o.buffer_size = 2048;
  o.compress = compress;
  o.damage = d;
  return make(&o, 200, len, st);
}

static void
test_damage(void)
{
  struct etlw_damage none = {-1, -1, ETLW_LIE_BIG, -1, -1, -1};
  struct etlw_stats s0, st;
  size_t l0, len;
  uint8_t *ok = make_damaged(&none, false, &l0, &s0);
  if (!ok) return;

  /* corrupt record: the last record of buffer 2 runs past the buffer */
  struct etlw_damage d = none;
  d.bad_record_buf = 2;
  uint8_t *f = make_damaged(&d, false, &len, &st);
  CHECK(f && len == l0 && st.damage_done == 2);
  if (f) {
    const uint8_t *b = f + 2 * 2048;
    size_t p = 0x48, last = 0, filled = g32(b + 0x30);
    while (p < filled) {
      last = p;
      if (p + g16(b + p) > filled) break;
      p += (g16(b + p) + 7u) & ~7u;
    }
    CHECK(p < filled); /* the walk met the bad record */
    CHECK(g16(b + last) == 2048 - last + 8);
    CHECK(memcmp(f, ok, 2 * 2048 + last) == 0);
    CHECK(memcmp(f + 3 * 2048, ok + 3 * 2048, len - 3 * 2048) == 0);
  }
  free(f);

  /* unknown kind: the type byte becomes 0x1F, the length stays usable */
  d = none;
  d.unknown_buf = 1;
  f = make_damaged(&d, false, &len, &st);
  CHECK(f && st.damage_done == 4 && st.kinds[ETLW_KIND_UNKNOWN] == 1);
  if (f) {
    const uint8_t *b = f + 2048;
    size_t p = 0x48, filled = g32(b + 0x30);
    int unknown = 0;
    while (p < filled) {
      if (b[p + 2] == ETLW_KIND_UNKNOWN) {
        unknown++;
        CHECK(p + g16(b + p) == filled);
      }
      p += (g16(b + p) + 7u) & ~7u;
    }
    CHECK(p == filled && unknown == 1);
  }
  free(f);

  /* BufferSize lies; the file layout itself stays right */
  static const uint32_t lie[] = {0x7FFFFFF0u, 0, 0x40};
  for (int k = 0; k < 3; k++) {
    d = none;
    d.bad_size_buf = 3;
    d.lie = (enum etlw_size_lie)k;
    f = make_damaged(&d, false, &len, &st);
    CHECK(f && len == l0 && st.damage_done == 1);
    if (f) {
      CHECK(g32(f + 3 * 2048) == lie[k]);
      CHECK(!memcmp(f + 3 * 2048 + 4, ok + 3 * 2048 + 4, 2044));
    }
    free(f);
  }

  /* truncation */
  d = none;
  d.truncate = 5000;
  f = make_damaged(&d, false, &len, &st);
  CHECK(f && len == 5000 && st.bytes == l0 && st.bytes_written == 5000);
  CHECK(f && !memcmp(f, ok, 5000)); /* the header rewrite is cut too */
  free(f);
  /* what the callback says survives in the cut buffer (2 at 4096) */
  nseen = 0;
  struct etlw_opts o;
  etlw_opts_default(&o);
  o.buffer_size = 2048;
  o.damage = &d;
  o.on_buffer = remember;
  f = make(&o, 200, &len, &st);
  CHECK(nseen == st.buffers && nseen <= 64);
  if (f && nseen > 3) {
    const uint8_t *b = ok + 4096;
    uint32_t p = 0x48, kept = 0;
    while (p < g32(b + 0x30) && p + g16(b + p) <= 5000 - 4096) {
      p += (g16(b + p) + 7u) & ~7u;
      kept++;
    }
    CHECK(seen[2].offset == 4096 && seen[2].kept == kept);
    CHECK(kept > 0 && kept < seen[2].records);
    CHECK(seen[1].kept == seen[1].records && seen[3].kept == 0);
  }
  free(f);
  d.truncate = 100;
  f = make_damaged(&d, false, &len, &st);
  CHECK(f && len == 100 && !memcmp(f, ok, 100));
  free(f);

  /* a damaged compressed stream no longer decodes */
  d = none;
  d.bad_lzx_buf = 2;
  f = make_damaged(&d, true, &len, &st);
  CHECK(f && st.damage_done == 8);
  if (f) {
    size_t off = g32(f);
    off += g32(f + off); /* buffer 2 */
    uint8_t out[2048];
    CHECK(lz77_decode(f + off + 0x48, g32(f + off) - 0x48u, out, sizeof out) <
          0);
    size_t off1 = g32(f);
    CHECK(lz77_decode(f + off1 + 0x48, g32(f + off1) - 0x48u, out,
                      sizeof out) == (long)g32(f + off1 + 0x30) - 0x48);
  }
  free(f);

  /* damage aimed past the end is reported as not done */
  d = none;
  d.bad_record_buf = 1000;
  f = make_damaged(&d, false, &len, &st);
  CHECK(f && st.damage_done == 0 && !memcmp(f, ok, l0));
  free(f);
  free(ok);
}

static void
test_bad_arguments(void)
{
  struct etlw_opts o;
  char err[256];
  etlw_opts_default(&o);
  o.buffer_size = 1000;
  CHECK(etlw_new(&o, err, sizeof err) == NULL && err[0]);
  etlw_opts_default(&o);
  o.ptr_size = 6;
  CHECK(etlw_new(&o, err, sizeof err) == NULL);
  etlw_opts_default(&o);
  o.clock = 4;
  CHECK(etlw_new(&o, err, sizeof err) == NULL);
  etlw_opts_default(&o);
  o.ncpus = 0;
  CHECK(etlw_new(&o, err, sizeof err) == NULL);
  etlw_opts_default(&o);
  o.logger_name = "caf\xc3\xa9";
  CHECK(etlw_new(&o, err, sizeof err) == NULL);

  etlw_opts_default(&o);
  o.ncpus = 2;
  struct etlw *w = etlw_new(&o, err, sizeof err);
  CHECK(w != NULL);
  if (!w) return;
  static uint8_t big[70000];
  struct etlw_event ev = {0};
  ev.data = big;
  ev.len = sizeof big;
  CHECK(etlw_add_event(w, 0, &ev) == -1 && etlw_error(w)[0]);
  etlw_free(w);
  w = etlw_new(&o, err, sizeof err);
  ev.len = 8;
  CHECK(w && etlw_add_event(w, 2, &ev) == -1); /* no CPU 2 */
  etlw_free(w);
  w = etlw_new(&o, err, sizeof err);
  struct etlw_classic c = {0};
  c.kind = ETLW_EVENT64;
  CHECK(w && etlw_add_classic(w, 0, &c) == -1);
  etlw_free(w);
  w = etlw_new(&o, err, sizeof err);
  CHECK(w && etlw_finish(w, NULL) == 0);
  CHECK(w && etlw_finish(w, NULL) == -1);
  CHECK(w && etlw_add_event(w, 0, &ev) == -1);
  etlw_free(w);
}

int
main(void)
{
  test_header_64();
  test_header_32_win7();
  test_walk();
  test_event_fields();
  test_classic_kinds();
  test_determinism();
  test_compression();
  test_clock();
  test_damage();
  test_bad_arguments();
  return check_result();
}
