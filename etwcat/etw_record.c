/*
 * etw_record.c - EVENT_RECORD (as struct etw_rec) to struct etl_event
 * (see etw_record.h for what ProcessTrace does to a record).
 *
 * The copy buffer holds the extended items first, in the .etl layout,
 * then the user data; nothing else of the record is referenced after the
 * call. Items whose data would not fit a 16-bit item size (impossible in a
 * record, whose total size is 16-bit) and items with a size but no data
 * are left out rather than truncated.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "etwcat/etw_record.h"

#include "etwcat/etl_reader.h"

#include <string.h>

/* Largest DataSize whose item (8-byte header, data padded to 8) still
 * has a 16-bit ItemSize. */
#define EXT_MAX_DATA 0xFFF0u

static size_t
item_size(uint16_t data_size)
{
  return 8 + (((size_t)data_size + 7) & ~(size_t)7);
}

static size_t
ext_kept(const struct etw_rec *r)
{
  return r->ext_count < ETW_REC_MAX_EXT ? r->ext_count : ETW_REC_MAX_EXT;
}

/* Items left out: too large for a 16-bit ItemSize (impossible in a
 * record), or a size without data. */
static bool
kept(const struct etw_rec_ext *x)
{
  return x->size <= EXT_MAX_DATA && (x->size == 0 || x->data);
}

size_t
etw_record_size(const struct etw_rec *r)
{
  size_t n = r->user_len;
  for (size_t i = 0; i < ext_kept(r); i++)
    if (kept(&r->ext[i])) n += item_size(r->ext[i].size);
  return n;
}

static void
put16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

/* Copy the extended items into buf in the .etl layout and point ev at
 * the ones the decoder reads. Returns the bytes written. */
static size_t
copy_ext(const struct etw_rec *r, struct etl_event *ev, uint8_t *buf)
{
  size_t pos = 0, last = 0;
  bool any = false;
  for (size_t i = 0; i < ext_kept(r); i++) {
    const struct etw_rec_ext *x = &r->ext[i];
    if (!kept(x)) continue;
    size_t isz = item_size(x->size);
    uint8_t *it = buf + pos;
    put16(it, (uint16_t)isz);
    put16(it + 2, x->type);
    put16(it + 4, 1); /* linkage: cleared on the last item below */
    put16(it + 6, x->size);
    if (x->size) memcpy(it + 8, x->data, x->size);
    memset(it + 8 + x->size, 0, isz - 8 - x->size);
    const uint8_t *d = it + 8;
    switch (x->type) {
    case ETL_EXT_RELATED_ACTIVITYID:
      if (x->size >= 16) {
        memcpy(ev->related, d, 16);
        ev->has_related = true;
      }
      break;
    case ETL_EXT_EVENT_SCHEMA_TL:
      ev->tl_meta = d;
      ev->tl_meta_len = x->size;
      break;
    case ETL_EXT_PROV_TRAITS:
      ev->tl_traits = d;
      ev->tl_traits_len = x->size;
      break;
    default:
      break;
    }
    last = pos;
    any = true;
    pos += isz;
  }
  if (any) {
    put16(buf + last + 4, 0);
    ev->ext = buf;
    ev->ext_len = (uint32_t)pos;
  }
  return pos;
}

bool
etw_record_copy(const struct etw_rec *r, struct etl_event *ev, uint8_t *buf,
                size_t cap, const char *src_name)
{
  size_t need = etw_record_size(r);
  if (cap < need || (need && !buf) || (r->user_len && !r->user)) return false;
  memset(ev, 0, sizeof *ev);
  bool p32 = (r->flags & ETL_EF_32_BIT_HEADER) != 0;
  ev->time = r->timestamp;
  ev->ptr_size = p32 ? 4 : 8;
  ev->flags = r->flags;
  memcpy(ev->provider, r->provider, 16);
  ev->id = r->id;
  ev->version = r->version;
  ev->channel = r->channel;
  ev->level = r->level;
  ev->opcode = r->opcode;
  ev->task = r->task;
  ev->keywords = r->keyword;
  ev->pid = r->pid;
  ev->tid = r->tid;
  ev->has_pid = !(r->pid == 0xFFFFFFFFu && r->tid == 0xFFFFFFFFu);
  ev->cpu = (r->flags & ETW_EF_PROCESSOR_INDEX)
                ? r->processor
                : (uint16_t)(r->processor & 0xFF);
  if (r->flags & ETL_EF_TRACE_MESSAGE) {
    ev->hdr = ETL_HDR_WPP;
    ev->origin = ETL_ORIGIN_WPP;
  } else if (r->flags & ETL_EF_CLASSIC_HEADER) {
    int group = etl_kernel_group(r->provider);
    if (group >= 0) {
      ev->origin = ETL_ORIGIN_KERNEL;
      ev->hook_id = (uint16_t)(group << 8 | r->opcode);
      if (!ev->has_pid)
        ev->hdr = p32 ? ETL_HDR_PERFINFO32 : ETL_HDR_PERFINFO64;
      else
        ev->hdr = p32 ? ETL_HDR_SYSTEM32 : ETL_HDR_SYSTEM64;
    } else {
      ev->origin = ETL_ORIGIN_CLASSIC;
      ev->hdr = p32 ? ETL_HDR_FULL32 : ETL_HDR_FULL64;
    }
  } else {
    ev->origin = ETL_ORIGIN_MANIFEST;
    ev->hdr = p32 ? ETL_HDR_EVENT32 : ETL_HDR_EVENT64;
    memcpy(ev->activity, r->activity, 16);
    ev->has_activity = true;
  }
  static const uint8_t none[1];
  size_t pos = need ? copy_ext(r, ev, buf) : 0;
  if (r->user_len) memcpy(buf + pos, r->user, r->user_len);
  ev->data = need ? buf + pos : none;
  ev->data_len = r->user_len;
  ev->src_name = src_name;
  return true;
}
