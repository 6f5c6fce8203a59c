/*
 * test_etw_record.c - the real-time record conversion (etw_record.c),
 * fed with records built from corpus .etl files.
 *
 * Regular cases: every event of several corpus traces (manifest,
 * TraceLogging, classic MOF, kernel, WPP, 32- and 64-bit) is turned into
 * the EVENT_RECORD that ProcessTrace would deliver for it (make_record:
 * FILETIME timestamp, classic-header flag and class GUID for MOF and
 * kernel records, 0xFFFFFFFF for a missing process id, extended items as
 * a DataPtr array), converted back with etw_record_copy into a separate
 * buffer, the original trace buffer is scribbled over, and the converted
 * event must carry the same fields and bytes and produce the same NDJSON
 * line as the event the .etl reader produced. Error cases: a buffer too
 * small, oversized and absent extended items, more items than kept, a
 * record with no data at all. The corpus part is skipped with a note when
 * ../shared is absent.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "etwcat/etl_reader.h"
#include "etwcat/etw_record.h"
#include "etwcat/evt_builtin.h"
#include "etwcat/evt_manifest.h"
#include "etwcat/evt_output.h"
#include "lib/bytes.h"
#include "lib/jsonw.h"
#include "tests/unit/check.h"

#include <stdlib.h>
#include <string.h>

#define CORPUS "../shared/corpus/etl/"

struct built {
  struct etw_rec rec;
  struct etw_rec_ext ext[ETW_REC_MAX_EXT];
  uint8_t *copy; /* the record's bytes, as ETW's buffer would hold them */
};

/* make_record - the EVENT_RECORD ProcessTrace delivers for ev. The bytes
 * are copied so the test can destroy them after the conversion, as ETW
 * reuses its buffer after the callback. */
static bool
make_record(const struct etl_event *ev, struct built *b)
{
  struct etw_rec *r = &b->rec;
  memset(r, 0, sizeof *r);
  size_t n = (size_t)ev->ext_len + ev->data_len;
  b->copy = malloc(n ? n : 1);
  if (!b->copy) return false;
  if (ev->ext_len) memcpy(b->copy, ev->ext, ev->ext_len);
  if (ev->data_len) memcpy(b->copy + ev->ext_len, ev->data, ev->data_len);
  uint16_t ptr =
      ev->ptr_size == 4 ? ETL_EF_32_BIT_HEADER : ETL_EF_64_BIT_HEADER;
  switch (ev->origin) {
  case ETL_ORIGIN_MANIFEST:
    /* ProcessTrace states the pointer size of every record. */
    r->flags =
        (uint16_t)(ev->flags & ~(ETL_EF_32_BIT_HEADER | ETL_EF_64_BIT_HEADER)) |
        ptr;
    break;
  case ETL_ORIGIN_WPP:
    r->flags = ETL_EF_TRACE_MESSAGE | ptr;
    break;
  default:
    r->flags = ETL_EF_CLASSIC_HEADER | ptr;
  }
  r->flags |= ETW_EF_PROCESSOR_INDEX;
  r->tid = ev->has_pid ? ev->tid : 0xFFFFFFFFu;
  r->pid = ev->has_pid ? ev->pid : 0xFFFFFFFFu;
  r->timestamp = ev->time;
  memcpy(r->provider, ev->provider, 16);
  r->id = ev->id;
  r->version = ev->version;
  r->channel = ev->channel;
  r->level = ev->level;
  r->opcode = ev->opcode;
  r->task = ev->task;
  r->keyword = ev->keywords;
  if (ev->has_activity) memcpy(r->activity, ev->activity, 16);
  r->processor = ev->cpu;
  /* Extended items: the file's chain becomes the DataPtr array. */
  size_t pos = 0;
  while (ev->ext_len - pos >= 8 && r->ext_count < ETW_REC_MAX_EXT) {
    const uint8_t *it = b->copy + pos;
    uint16_t isz = le16(it), dsz = le16(it + 6);
    if (isz < 8 || isz > ev->ext_len - pos || dsz > isz - 8) return false;
    b->ext[r->ext_count].type = le16(it + 2);
    b->ext[r->ext_count].size = dsz;
    b->ext[r->ext_count].data = it + 8;
    r->ext_count++;
    pos += isz;
  }
  r->ext = b->ext;
  r->user_len = (uint16_t)ev->data_len;
  r->user = b->copy + ev->ext_len;
  return ev->data_len <= 0xFFFF;
}

static bool
same_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
  return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* Fields that must survive the round trip. */
static bool
same_event(const struct etl_event *a, const struct etl_event *b)
{
  bool ok =
      a->time == b->time && memcmp(a->provider, b->provider, 16) == 0 &&
      a->id == b->id && a->version == b->version && a->channel == b->channel &&
      a->level == b->level && a->opcode == b->opcode && a->task == b->task &&
      a->keywords == b->keywords && a->has_pid == b->has_pid &&
      a->cpu == b->cpu && a->ptr_size == b->ptr_size &&
      a->has_activity == b->has_activity && a->has_related == b->has_related &&
      same_bytes(a->data, a->data_len, b->data, b->data_len) &&
      same_bytes(a->tl_meta, a->tl_meta_len, b->tl_meta, b->tl_meta_len) &&
      same_bytes(a->tl_traits, a->tl_traits_len, b->tl_traits,
                 b->tl_traits_len) &&
      same_bytes(a->ext, a->ext_len, b->ext, b->ext_len);
  if (a->has_pid) ok = ok && a->pid == b->pid && a->tid == b->tid;
  if (a->has_activity) ok = ok && memcmp(a->activity, b->activity, 16) == 0;
  if (a->has_related) ok = ok && memcmp(a->related, b->related, 16) == 0;
  /* The origin survives, except that a FULL record with a kernel group
   * GUID is reported as a kernel event, as ProcessTrace cannot tell. */
  if (a->origin == ETL_ORIGIN_KERNEL || b->origin != ETL_ORIGIN_KERNEL)
    ok = ok && a->origin == b->origin;
  if (a->origin == ETL_ORIGIN_KERNEL && a->hook_id != 0x030A)
    ok = ok && a->hook_id == b->hook_id;
  return ok;
}

static struct evt_registry *
new_registry(void)
{
  struct evt_registry *r = evt_registry_new();
  CHECK(r && evt_builtin_load(r) == 0);
  return r;
}

static void
free_registry(struct evt_registry *r)
{
  evt_manifest_chunks_drop(r);
  evt_registry_free(r);
}

/* One trace: returns the number of events compared, -1 if absent. */
static long
corpus_file(const char *name)
{
  char path[256];
  snprintf(path, sizeof path, "%s%s", CORPUS, name);
  FILE *probe = fopen(path, "rb");
  if (!probe) return -1;
  fclose(probe);
  /* Two opens: schema pre-scanning is recorded on the file. */
  struct etl_file *f = etl_file_open(path, 0);
  struct etl_file *f2 = etl_file_open(path, 0);
  CHECK(f && f2);
  if (!f || !f2) {
    etl_file_close(f);
    etl_file_close(f2);
    return 0;
  }
  struct evt_writer ref = {0}, conv = {0};
  ref.reg = new_registry();
  conv.reg = new_registry();
  /* The real-time path has no file to scan for late schemas; give the
   * converted side the trace's schemas up front instead. */
  evt_prescan(&conv, f2);
  struct etl_merge *m = etl_merge_new(&f, 1, true);
  CHECK(m);
  struct jsonw wa, wb;
  jw_init(&wa);
  jw_init(&wb);
  long n = 0, field_diffs = 0, line_diffs = 0;
  struct etl_event ev, out;
  struct etl_file *from;
  while (m && etl_merge_next(m, &ev, &from)) {
    struct built b;
    if (!make_record(&ev, &b)) {
      free(b.copy);
      CHECK(!"record could not be built");
      continue;
    }
    size_t need = etw_record_size(&b.rec);
    uint8_t *buf = malloc(need ? need : 1);
    CHECK(buf);
    if (!buf) {
      free(b.copy);
      break;
    }
    CHECK(etw_record_copy(&b.rec, &out, buf, need, "test"));
    /* ETW reuses its buffer once the callback returns. */
    memset(b.copy, 0xA5, (size_t)ev.ext_len + ev.data_len);
    free(b.copy);
    if (!same_event(&ev, &out)) {
      if (field_diffs++ < 3)
        fprintf(stderr,
                "%s: event %ld (offset 0x%" PRIx64 "): fields differ "
                "after the round trip (origin %d/%d, hook 0x%x/0x%x, "
                "data %u/%u, ext %u/%u)\n",
                name, n, ev.src_offset, ev.origin, out.origin, ev.hook_id,
                out.hook_id, ev.data_len, out.data_len, ev.ext_len,
                out.ext_len);
    }
    jw_reset(&wa);
    jw_reset(&wb);
    evt_write_event(&ref, &ev, f, &wa);
    evt_write_event(&conv, &out, NULL, &wb);
    if (!same_bytes((const uint8_t *)wa.buf, wa.len, (const uint8_t *)wb.buf,
                    wb.len)) {
      if (line_diffs++ < 3)
        fprintf(stderr,
                "%s: event %ld: NDJSON differs:\n  file: %.*s"
                "  real-time: %.*s",
                name, n, (int)wa.len, wa.buf, (int)wb.len, wb.buf);
    }
    free(buf);
    n++;
  }
  CHECK(field_diffs == 0);
  CHECK(line_diffs == 0);
  jw_free(&wa);
  jw_free(&wb);
  etl_merge_free(m);
  evt_writer_free(&ref);
  evt_writer_free(&conv);
  free_registry(ref.reg);
  free_registry(conv.reg);
  etl_file_close(f);
  etl_file_close(f2);
  return n;
}

static int
regular_cases(void)
{
  static const char *const files[] = {
      "Tx__KernelNetwork.etl",         /* manifest events */
      "etl-parser__AMSITrace.etl",     /* TraceLogging, extended items */
      "perfview__primitive-types.etl", /* TraceLogging types */
      "Tx__Process.etl",               /* kernel (SYSTEM headers) */
      "syzygy-sawbuck__process_data_32_v1.etl", /* 32-bit kernel */
      "perfview__net.4.5.2.x64.etl",            /* classic, merged schemas */
      "ebpf-for-windows__ebpforwindows.etl",
      "Tx__HTTP_Server.etl",
  };
  long total = 0;
  int found = 0;
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    long n = corpus_file(files[i]);
    if (n < 0) continue;
    found++;
    total += n;
  }
  if (!found) {
    printf("skip: corpus %s not found; only the error cases ran\n", CORPUS);
    return 0;
  }
  CHECK(total > 10000);
  fprintf(stderr, "%d traces, %ld events converted\n", found, total);
  return found;
}

/* A manifest event with one related-activity item and 4 bytes of data. */
static void
sample(struct etw_rec *r, struct etw_rec_ext *ext, const uint8_t *data,
       const uint8_t *rel)
{
  memset(r, 0, sizeof *r);
  r->flags = ETL_EF_EXTENDED_INFO | ETL_EF_64_BIT_HEADER;
  r->pid = 4;
  r->tid = 8;
  r->timestamp = 130000000000000000;
  r->id = 11;
  r->processor = 0x0203; /* ProcessorNumber 3, Alignment 2 */
  ext[0].type = ETL_EXT_RELATED_ACTIVITYID;
  ext[0].size = 16;
  ext[0].data = rel;
  r->ext = ext;
  r->ext_count = 1;
  r->user = data;
  r->user_len = 4;
}

static void
error_cases(void)
{
  static const uint8_t data[4] = {1, 2, 3, 4};
  static uint8_t big[0xFFFF];
  uint8_t rel[16];
  for (int i = 0; i < 16; i++)
    rel[i] = (uint8_t)(0x10 + i);
  struct etw_rec r;
  struct etw_rec_ext ext[ETW_REC_MAX_EXT + 4];
  struct etl_event ev;
  uint8_t buf[4096];

  /* The sample itself: 24-byte item plus 4 bytes of data. */
  sample(&r, ext, data, rel);
  CHECK(etw_record_size(&r) == 24 + 4);
  CHECK(etw_record_copy(&r, &ev, buf, sizeof buf, "s"));
  CHECK(ev.origin == ETL_ORIGIN_MANIFEST && ev.hdr == ETL_HDR_EVENT64);
  CHECK(ev.has_related && memcmp(ev.related, rel, 16) == 0);
  CHECK(ev.cpu == 3); /* no PROCESSOR_INDEX flag: the low byte */
  CHECK(ev.ext == buf && ev.ext_len == 24 && le16(buf) == 24 &&
        le16(buf + 2) == ETL_EXT_RELATED_ACTIVITYID && le16(buf + 4) == 0 &&
        le16(buf + 6) == 16);
  CHECK(ev.data == buf + 24 && ev.data_len == 4 &&
        memcmp(ev.data, data, 4) == 0);
  CHECK(ev.has_pid && ev.pid == 4 && ev.tid == 8);

  /* One byte short: refused, event untouched. */
  memset(&ev, 0x5A, sizeof ev);
  CHECK(!etw_record_copy(&r, &ev, buf, 27, "s"));
  CHECK(ev.id == 0x5A5A);

  /* User data length without user data. */
  sample(&r, ext, data, rel);
  r.user = NULL;
  CHECK(!etw_record_copy(&r, &ev, buf, sizeof buf, "s"));

  /* An item too large for a 16-bit ItemSize is left out; an item with a
   * size but no data too; the linkage of the last kept item is 0. */
  sample(&r, ext, data, rel);
  ext[1].type = 99;
  ext[1].size = 0xFFFF;
  ext[1].data = big;
  ext[2].type = 98;
  ext[2].size = 8;
  ext[2].data = NULL;
  r.ext_count = 3;
  CHECK(etw_record_size(&r) == 24 + 4);
  CHECK(etw_record_copy(&r, &ev, buf, sizeof buf, "s"));
  CHECK(ev.ext_len == 24 && le16(buf + 4) == 0);

  /* More items than kept: only ETW_REC_MAX_EXT are copied. */
  sample(&r, ext, data, rel);
  for (int i = 0; i < ETW_REC_MAX_EXT + 4; i++) {
    ext[i].type = 3; /* TS_ID: 4 bytes */
    ext[i].size = 4;
    ext[i].data = data;
  }
  r.ext_count = ETW_REC_MAX_EXT + 4;
  CHECK(etw_record_size(&r) == ETW_REC_MAX_EXT * 16 + 4);
  CHECK(etw_record_copy(&r, &ev, buf, sizeof buf, "s"));
  CHECK(ev.ext_len == ETW_REC_MAX_EXT * 16);

  /* Nothing at all: no buffer needed; data is an empty, non-NULL view. */
  memset(&r, 0, sizeof r);
  r.flags = ETL_EF_CLASSIC_HEADER | ETL_EF_32_BIT_HEADER;
  r.pid = r.tid = 0xFFFFFFFFu;
  r.opcode = 46;
  r.processor = 0x0105;
  static const uint8_t perfinfo[16] = {0xb4, 0xbf, 0x1d, 0xce, 0x7e, 0x13,
                                       0xa6, 0x4d, 0x87, 0xb0, 0x3f, 0x59,
                                       0xaa, 0x10, 0x2c, 0xbc};
  memcpy(r.provider, perfinfo, 16);
  r.flags |= ETW_EF_PROCESSOR_INDEX;
  CHECK(etw_record_size(&r) == 0);
  CHECK(etw_record_copy(&r, &ev, NULL, 0, "s"));
  CHECK(ev.data && ev.data_len == 0 && !ev.ext);
  CHECK(ev.origin == ETL_ORIGIN_KERNEL && ev.hook_id == 0x0F2E);
  CHECK(ev.hdr == ETL_HDR_PERFINFO32 && ev.ptr_size == 4 && !ev.has_pid);
  CHECK(ev.cpu == 0x0105);

  /* WPP: message number as id, no activity. */
  memset(&r, 0, sizeof r);
  r.flags = ETL_EF_TRACE_MESSAGE | ETL_EF_64_BIT_HEADER;
  r.id = 7;
  CHECK(etw_record_copy(&r, &ev, NULL, 0, "s"));
  CHECK(ev.origin == ETL_ORIGIN_WPP && ev.hdr == ETL_HDR_WPP && ev.id == 7 &&
        !ev.has_activity);
}

int
main(void)
{
  regular_cases();
  error_cases();
  return check_result();
}
