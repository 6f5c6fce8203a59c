/*
 * etl_record.c - decode one record header of any kind (etl-format.md 3).
 *
 * The first u32 of a record is its marker: byte 3 = flags (0x80 is set on
 * every typed header; 0x90 marks a WPP TraceMessage), byte 2 = header
 * type. Records are 8-byte aligned. Layouts (offsets from the record):
 *
 *   SYSTEM   32 B: u16 Version|u8 type|u8 flags, u16 Size @4, u16 HookId @6,
 *                  u32 TID @8, u32 PID @12, i64 TimeStamp @16, times @24
 *   COMPACT  24 B: as SYSTEM without the two CPU times
 *   PERFINFO 16 B: marker, u16 Size @4, u16 HookId @6, i64 TimeStamp @8
 *   FULL     48 B: u16 Size @0, u8 Type @4, u8 Level @5, u16 Version @6,
 *                  TID @8, PID @12, TimeStamp @16, GUID @24, times @40
 *   INSTANCE 72 B: FULL + u32 InstanceId, u32 ParentInstanceId, GUID
 *   EVENT    80 B: u16 Size @0, u16 Flags @4, u16 EventProperty @6,
 *                  TID @8, PID @12, TimeStamp @16, ProviderId @24,
 *                  EVENT_DESCRIPTOR @40, times @56, ActivityId @64,
 *                  then extended items (section 9) and user data
 *   WPP       8 B: u16 Size, u8, u8 0x90, u16 MessageNumber, u16 Options,
 *                  then optional fields chosen by Options (section 14)
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "etwcat/etl_reader.h"

#include "lib/bytes.h"

#include <string.h>

/* Group GUIDs of the NT Kernel Logger (etl-format.md section 8), in
 * Windows byte layout. */
#define G(d1, d2, d3, a, b, c, d, e, f, g, h)                                  \
  {                                                                            \
    (uint8_t)(d1), (uint8_t)((d1) >> 8), (uint8_t)((d1) >> 16),                \
        (uint8_t)((d1) >> 24), (uint8_t)(d2), (uint8_t)((d2) >> 8),            \
        (uint8_t)(d3), (uint8_t)((d3) >> 8), a, b, c, d, e, f, g, h            \
  }

static const uint8_t group_guids[][16] = {
    G(0x68fdd900, 0x4a3e, 0x11d1, 0x84, 0xf4, 0x00, 0x00, 0xf8, 0x04, 0x64,
      0xe3), /* 0x00 EventTrace */
    G(0x3d6fa8d4, 0xfe05, 0x11d0, 0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba,
      0x7c), /* 0x01 DiskIo */
    G(0x3d6fa8d3, 0xfe05, 0x11d0, 0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba,
      0x7c), /* 0x02 PageFault */
    G(0x3d6fa8d0, 0xfe05, 0x11d0, 0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba,
      0x7c), /* 0x03 Process */
    G(0x90cbdc39, 0x4a3e, 0x11d1, 0x84, 0xf4, 0x00, 0x00, 0xf8, 0x04, 0x64,
      0xe3), /* 0x04 FileIo */
    G(0x3d6fa8d1, 0xfe05, 0x11d0, 0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba,
      0x7c), /* 0x05 Thread */
    G(0x9a280ac0, 0xc8e0, 0x11d1, 0x84, 0xe2, 0x00, 0xc0, 0x4f, 0xb9, 0x98,
      0xa2), /* 0x06 TcpIp */
    G(0x3282fc76, 0xfeed, 0x498e, 0x8a, 0xa7, 0xe7, 0x0f, 0x45, 0x9d, 0x43,
      0x0e), /* 0x07 Job */
    G(0xbf3a50c5, 0xa9c9, 0x4988, 0xa0, 0x05, 0x2d, 0xf0, 0xb7, 0xc8, 0x0f,
      0x80), /* 0x08 UdpIp */
    G(0xae53722e, 0xc863, 0x11d2, 0x86, 0x59, 0x00, 0xc0, 0x4f, 0xa3, 0x21,
      0xa1), /* 0x09 Registry */
    G(0x13976d09, 0xa327, 0x438c, 0x95, 0x0b, 0x7f, 0x03, 0x19, 0x28, 0x15,
      0xc7), /* 0x0A DbgPrint */
    G(0x01853a65, 0x418f, 0x4f36, 0xae, 0xfc, 0xdc, 0x0f, 0x1d, 0x2f, 0xd2,
      0x35), /* 0x0B EventTraceConfig */
    G(0x99134383, 0x5248, 0x43fc, 0x83, 0x4b, 0x52, 0x94, 0x54, 0xe7, 0x5d,
      0xf3), /* 0x0C Spare1 */
    G(0x42695762, 0xea50, 0x497a, 0x90, 0x68, 0x5c, 0xbb, 0xb3, 0x5e, 0x0b,
      0x95), /* 0x0D Wnf */
    G(0x0268a8b6, 0x74fd, 0x4302, 0x9d, 0xd0, 0x6e, 0x8f, 0x17, 0x95, 0xc0,
      0xcf), /* 0x0E Pool */
    G(0xce1dbfb4, 0x137e, 0x4da6, 0x87, 0xb0, 0x3f, 0x59, 0xaa, 0x10, 0x2c,
      0xbc), /* 0x0F PerfInfo */
    G(0x222962ab, 0x6180, 0x4b88, 0xa8, 0x25, 0x34, 0x6b, 0x75, 0xf2, 0xa2,
      0x4a), /* 0x10 Heap */
    G(0x89497f50, 0xeffe, 0x4440, 0x8c, 0xf2, 0xce, 0x6b, 0x1c, 0xdc, 0xac,
      0xa7), /* 0x11 Object */
    G(0xe43445e0, 0x0903, 0x48c3, 0xb8, 0x78, 0xff, 0x0f, 0xcc, 0xeb, 0xdd,
      0x04), /* 0x12 Power */
    G(0xa9152f00, 0x3f58, 0x4bee, 0x92, 0xa1, 0x70, 0xc7, 0xd0, 0x79, 0xd5,
      0xdd), /* 0x13 ModBound */
    G(0x2cb15d1d, 0x5fc1, 0x11d2, 0xab, 0xe1, 0x00, 0xa0, 0xc9, 0x11, 0xf5,
      0x18), /* 0x14 Image */
    G(0xb2d14872, 0x7c5b, 0x463d, 0x84, 0x19, 0xee, 0x9b, 0xf7, 0xd2, 0x3e,
      0x04), /* 0x15 Dpc */
    G(0x7687a439, 0xf752, 0x45b8, 0xb7, 0x41, 0x32, 0x1a, 0xec, 0x0f, 0x8d,
      0xf9), /* 0x16 Cc */
    G(0x3ac66736, 0xcc59, 0x4cff, 0x81, 0x15, 0x8d, 0xf0, 0xb7, 0x98, 0x16,
      0xb6), /* 0x17 CritSec */
    G(0xdef2fe46, 0x7bd6, 0x4b80, 0xbd, 0x94, 0xf5, 0x7f, 0xe2, 0x0d, 0x0c,
      0xe3), /* 0x18 StackWalk */
    G(0x9aec974b, 0x5b8e, 0x4118, 0x9b, 0x92, 0x31, 0x86, 0xd8, 0x00, 0x2c,
      0xe5), /* 0x19 Ums */
    G(0x45d8cccd, 0x539f, 0x4b72, 0xa8, 0xb7, 0x5c, 0x68, 0x31, 0x42, 0x60,
      0x9a), /* 0x1A ALPC */
    G(0xd837ca92, 0x12b9, 0x44a5, 0xad, 0x6a, 0x3a, 0x65, 0xb3, 0x57, 0x8a,
      0xa8), /* 0x1B SplitIo */
    G(0xc861d0e2, 0xa2c1, 0x4d36, 0x9f, 0x9c, 0x97, 0x0b, 0xab, 0x94, 0x3a,
      0x12), /* 0x1C ThreadPool */
    G(0x7f2a405c, 0x69b5, 0x4bf9, 0xa1, 0xf5, 0x30, 0xe8, 0xf1, 0xaf, 0xab,
      0x5e), /* 0x1D Hypervisor */
    G(0x2ce9a149, 0xeffe, 0x42f0, 0xa6, 0x35, 0xa1, 0xd3, 0x9e, 0x26, 0xc8,
      0xf2), /* 0x1E HypervisorX */
};

bool
etl_kernel_guid(uint16_t hook_id, uint8_t guid[16])
{
  unsigned group = hook_id >> 8;
  if (hook_id == 0x030A) /* Image Load logged under the Process group */
    group = 0x14;
  if (group >= sizeof group_guids / sizeof group_guids[0]) return false;
  memcpy(guid, group_guids[group], 16);
  return true;
}

int
etl_kernel_group(const uint8_t guid[16])
{
  for (size_t g = 0; g < sizeof group_guids / sizeof group_guids[0]; g++)
    if (memcmp(group_guids[g], guid, 16) == 0) return (int)g;
  return -1;
}

static void
set_time(struct etl_walk *w, struct etl_event *ev, int64_t raw)
{
  w->last_raw = raw;
  w->have_raw = true;
  ev->time = etl_file_time(w->file, raw);
}

/* Kernel headers: SYSTEM, COMPACT, PERFINFO. */
static bool
kernel_header(struct etl_walk *w, const uint8_t *p, uint32_t size, uint8_t type,
              struct etl_event *ev)
{
  uint32_t hsize;
  ev->version = (uint8_t)le16(p);
  ev->hook_id = le16(p + 6);
  ev->opcode = (uint8_t)ev->hook_id;
  ev->origin = ETL_ORIGIN_KERNEL;
  if (type == ETL_HDR_PERFINFO32 || type == ETL_HDR_PERFINFO64) {
    hsize = 16;
    if (size < hsize) return false;
    set_time(w, ev, (int64_t)le64(p + 8));
  } else {
    hsize = (type == ETL_HDR_COMPACT32 || type == ETL_HDR_COMPACT64) ? 24 : 32;
    if (size < hsize) return false;
    ev->tid = le32(p + 8);
    ev->pid = le32(p + 12);
    ev->has_pid = true;
    set_time(w, ev, (int64_t)le64(p + 16));
  }
  if (!etl_kernel_guid(ev->hook_id, ev->provider)) memset(ev->provider, 0, 16);
  ev->data = p + hsize;
  ev->data_len = size - hsize;
  return true;
}

static bool
classic_header(struct etl_walk *w, const uint8_t *p, uint32_t size,
               uint32_t hsize, struct etl_event *ev)
{
  if (size < hsize) return false;
  ev->origin = ETL_ORIGIN_CLASSIC;
  ev->opcode = p[4];
  ev->level = p[5];
  ev->version = (uint8_t)le16(p + 6);
  ev->tid = le32(p + 8);
  ev->pid = le32(p + 12);
  ev->has_pid = true;
  set_time(w, ev, (int64_t)le64(p + 16));
  memcpy(ev->provider, p + 24, 16);
  ev->data = p + hsize;
  ev->data_len = size - hsize;
  return true;
}

/* Extended data items (etl-format.md section 9). */
static bool
ext_items(const uint8_t *p, uint32_t size, uint32_t *pos, struct etl_event *ev)
{
  uint32_t start = *pos;
  for (;;) {
    if (size - *pos < 8) return false;
    const uint8_t *it = p + *pos;
    uint16_t item_size = le16(it), ext_type = le16(it + 2);
    uint16_t linkage = le16(it + 4), data_size = le16(it + 6);
    if (item_size < 8 || item_size > size - *pos || data_size > item_size - 8)
      return false;
    const uint8_t *d = it + 8;
    switch (ext_type) {
    case ETL_EXT_RELATED_ACTIVITYID:
      if (data_size >= 16) {
        memcpy(ev->related, d, 16);
        ev->has_related = true;
      }
      break;
    case ETL_EXT_EVENT_SCHEMA_TL:
      ev->tl_meta = d;
      ev->tl_meta_len = data_size;
      break;
    case ETL_EXT_PROV_TRAITS:
      ev->tl_traits = d;
      ev->tl_traits_len = data_size;
      break;
    default:
      break;
    }
    *pos += item_size;
    if (!(linkage & 1)) break;
  }
  ev->ext = p + start;
  ev->ext_len = *pos - start;
  return true;
}

static bool
event_header(struct etl_walk *w, const uint8_t *p, uint32_t size,
             struct etl_event *ev)
{
  if (size < 80) return false;
  ev->origin = ETL_ORIGIN_MANIFEST;
  ev->flags = le16(p + 4);
  ev->tid = le32(p + 8);
  ev->pid = le32(p + 12);
  ev->has_pid = true;
  set_time(w, ev, (int64_t)le64(p + 16));
  memcpy(ev->provider, p + 24, 16);
  ev->id = le16(p + 40);
  ev->version = p[42];
  ev->channel = p[43];
  ev->level = p[44];
  ev->opcode = p[45];
  ev->task = le16(p + 46);
  ev->keywords = le64(p + 48);
  memcpy(ev->activity, p + 64, 16);
  ev->has_activity = true;
  uint32_t pos = 80;
  if ((ev->flags & ETL_EF_EXTENDED_INFO) && !ext_items(p, size, &pos, ev))
    return false;
  ev->data = p + pos;
  ev->data_len = size - pos;
  return true;
}

/* WPP TraceMessage: optional fields in the order of dissect.etl's
 * reading (sequence, GUID or component id, timestamp, system info). */
static bool
wpp_header(struct etl_walk *w, const uint8_t *p, uint32_t size,
           struct etl_event *ev)
{
  struct br r = br_make(p, size);
  br_skip(&r, 4);
  ev->id = br_u16le(&r);
  uint16_t opt = br_u16le(&r);
  ev->origin = ETL_ORIGIN_WPP;
  if (opt & 0x01) br_skip(&r, 4);
  if (opt & 0x02) {
    const uint8_t *g = br_bytes(&r, 16);
    if (g) memcpy(ev->provider, g, 16);
  } else if (opt & 0x04) {
    uint32_t comp = br_u32le(&r);
    memcpy(ev->provider, &comp, sizeof comp);
  }
  if (opt & 0x08) {
    int64_t raw = (int64_t)br_u64le(&r);
    if (!r.bad) set_time(w, ev, raw);
  } else if (w->have_raw) {
    ev->time = etl_file_time(w->file, w->last_raw);
  } else {
    ev->time = w->buf->first;
  }
  if (opt & 0x20) {
    ev->tid = br_u32le(&r);
    ev->pid = br_u32le(&r);
    ev->has_pid = true;
  }
  if (r.bad) return false;
  ev->flags = ETL_EF_TRACE_MESSAGE;
  ev->data = p + r.off;
  ev->data_len = size - (uint32_t)r.off;
  return true;
}

/* Header kinds whose layout is not known (TIMED, ERROR, WNODE, MESSAGE):
 * keep the record as raw data with the time of the previous record. */
static bool
opaque_header(struct etl_walk *w, const uint8_t *p, uint32_t size,
              struct etl_event *ev)
{
  ev->origin = ETL_ORIGIN_CLASSIC;
  ev->time = w->have_raw ? etl_file_time(w->file, w->last_raw) : w->buf->first;
  ev->data = p;
  ev->data_len = size;
  return true;
}

static bool
ptr32(uint8_t type)
{
  switch (type) {
  case ETL_HDR_SYSTEM32:
  case ETL_HDR_COMPACT32:
  case ETL_HDR_FULL32:
  case ETL_HDR_INSTANCE32:
  case ETL_HDR_PERFINFO32:
  case ETL_HDR_EVENT32:
    return true;
  default:
    return false;
  }
}

enum etl_next
etl_walk_next(struct etl_walk *w, struct etl_event *ev)
{
  if (w->pos >= w->end || w->end - w->pos < 8) return ETL_END;
  const uint8_t *p = w->data + w->pos;
  uint32_t left = w->end - w->pos;
  uint32_t marker = le32(p);
  if (marker == 0 || marker == 0xFFFFFFFFu) return ETL_END;
  uint8_t flags = (uint8_t)(marker >> 24), type = (uint8_t)(marker >> 16);
  uint64_t abs = w->buf->off + w->pos;
  if (!(flags & 0x80)) {
    etl_problem(w->file, w->buf->index, abs,
                "record marker 0x%08" PRIx32 " has no header flag: the walk "
                "is lost; the rest of the buffer (0x%" PRIx32 " bytes) is "
                "skipped",
                marker, left);
    w->pos = w->end;
    return ETL_SKIP;
  }
  bool wpp = (flags & 0xD0) == 0x90 || (flags & 0x10 && !(flags & 0x40));
  uint32_t size;
  switch (type) {
  case ETL_HDR_SYSTEM32:
  case ETL_HDR_SYSTEM64:
  case ETL_HDR_COMPACT32:
  case ETL_HDR_COMPACT64:
  case ETL_HDR_PERFINFO32:
  case ETL_HDR_PERFINFO64:
    size = le16(p + 4);
    break;
  default:
    size = marker & 0xFFFF;
  }
  if (wpp) size = marker & 0xFFFF;
  if (size < 8 || size > left) {
    etl_problem(w->file, w->buf->index, abs,
                "record size 0x%" PRIx32 " %s (0x%" PRIx32 " bytes left in "
                "the buffer); the rest of the buffer is skipped",
                size, size < 8 ? "is too small" : "overruns the buffer", left);
    w->pos = w->end;
    return ETL_SKIP;
  }
  memset(ev, 0, sizeof *ev);
  ev->hdr = wpp ? ETL_HDR_WPP : type;
  ev->ptr_size = ptr32(type) ? 4 : 8;
  if (wpp) ev->ptr_size = w->file->ptr_size == 4 ? 4 : 8;
  ev->cpu = w->buf->cpu;
  ev->src_name = w->file->name;
  ev->src_offset = abs;
  ev->src_buffer = w->buf->index;
  bool ok;
  if (wpp) {
    ok = wpp_header(w, p, size, ev);
  } else {
    switch (type) {
    case ETL_HDR_SYSTEM32:
    case ETL_HDR_SYSTEM64:
    case ETL_HDR_COMPACT32:
    case ETL_HDR_COMPACT64:
    case ETL_HDR_PERFINFO32:
    case ETL_HDR_PERFINFO64:
      ok = kernel_header(w, p, size, type, ev);
      break;
    case ETL_HDR_FULL32:
    case ETL_HDR_FULL64:
      ok = classic_header(w, p, size, 48, ev);
      break;
    case ETL_HDR_INSTANCE32:
    case ETL_HDR_INSTANCE64:
      ok = classic_header(w, p, size, 72, ev);
      break;
    case ETL_HDR_EVENT32:
    case ETL_HDR_EVENT64:
      ok = event_header(w, p, size, ev);
      break;
    case ETL_HDR_TIMED:
    case ETL_HDR_ERROR:
    case ETL_HDR_WNODE:
    case ETL_HDR_MESSAGE:
      ok = opaque_header(w, p, size, ev);
      break;
    default:
      etl_problem(w->file, w->buf->index, abs,
                  "unknown record header type 0x%02x (marker 0x%08" PRIx32
                  "); record of 0x%" PRIx32 " bytes skipped",
                  type, marker, size);
      w->pos += (size + 7) & ~7u;
      return ETL_SKIP;
    }
  }
  uint32_t adv = (size + 7) & ~7u;
  w->pos = adv > left ? w->end : w->pos + adv;
  if (!ok) {
    etl_problem(w->file, w->buf->index, abs,
                "record of 0x%" PRIx32 " bytes is too short for its header "
                "(type 0x%02x) or its extended data items; record skipped",
                size, type);
    return ETL_SKIP;
  }
  return ETL_EVENT;
}
