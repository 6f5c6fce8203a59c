/*
 * evt_tlg.c - compile TraceLogging metadata (extended items 11 and 12).
 *
 * Two passes. The first walks the metadata blob once, in order, through
 * a bounds-checked cursor and records every field with its parent struct
 * (a stack of open structs counts down each struct's logical fields).
 * The second lays the fields out the way TRACE_EVENT_INFO does: top-level
 * fields first, then each struct's members as one contiguous slice,
 * breadth-first. Layout of the blob:
 *
 *   u16 Size                 whole blob, this field included
 *   u8  Tags[]               until a byte with bit 7 clear
 *   char EventName[]         UTF-8, NUL-terminated
 *   per field, until Size:
 *     char Name[]            UTF-8, NUL-terminated
 *     u8  InMeta             bits 0-4 in-type, 5-6 arity, 7 OutMeta follows
 *     u8  OutMeta            bits 0-6 out-type (STRUCT: logical member
 *                            count), 7 field tags follow
 *     u8  Tags[]             like the event's
 *     u16 ValueCount         arity 0x20 (ccount) only
 *     u16 TypeInfoSize, u8 TypeInfo[]   arity 0x60 (custom) only
 *
 * Provider traits: u16 Size, UTF-8 provider name + NUL, then chunks
 * {u16 size, u8 type, data} that are not needed here.
 * Sources: design/etw-schemas.md section 5, etl-format.md section 10.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "etwcat/evt_tlg.h"
#include "lib/bytes.h"
#include "lib/log.h" /* LOG_PRINTF */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* InMeta bits. */
#define TLG_IN_TYPE_MASK 0x1F
#define TLG_IN_ARITY_MASK 0x60
#define TLG_IN_CCOUNT 0x20
#define TLG_IN_VCOUNT 0x40
#define TLG_IN_CUSTOM 0x60
#define TLG_IN_CHAIN 0x80
/* OutMeta bits. */
#define TLG_OUT_TYPE_MASK 0x7F
#define TLG_OUT_CHAIN 0x80

/* TraceLogging in-types that differ from or extend TDH's numbering. */
#define TLG_IN_BINARY 14
#define TLG_IN_STRUCT 24
#define TLG_IN_MAX 25

/* TlgOut codes below 32 (TraceLoggingProvider.h, TlgOut_t). */
enum tlg_out {
  TLG_OUT_NULL = 0,
  TLG_OUT_NOPRINT = 1,
  TLG_OUT_STRING = 2,
  TLG_OUT_BOOLEAN = 3,
  TLG_OUT_HEX = 4,
  TLG_OUT_PID = 5,
  TLG_OUT_TID = 6,
  TLG_OUT_PORT = 7,
  TLG_OUT_IPV4 = 8,
  TLG_OUT_IPV6 = 9,
  TLG_OUT_SOCKETADDRESS = 10,
  TLG_OUT_XML = 11,
  TLG_OUT_JSON = 12,
  TLG_OUT_WIN32ERROR = 13,
  TLG_OUT_NTSTATUS = 14,
  TLG_OUT_HRESULT = 15,
  TLG_OUT_FILETIME = 16,
  TLG_OUT_SIGNED = 17,
  TLG_OUT_UNSIGNED = 18
};

/* One field as read in metadata order, before layout. */
struct tfield {
  struct evt_field f;
  int32_t parent;      /* index of the enclosing struct, or -1 */
  int32_t first_child; /* struct: first direct member, or -1 */
  int32_t last_child;
  int32_t next;    /* next direct member of the same parent, or -1 */
  uint16_t nchild; /* struct: direct members actually read */
};

/* An open struct while reading: how many logical fields it still owns. */
struct open_struct {
  int32_t idx;
  uint32_t left;
};

/* Errors go to the caller's buffer. */
#define fail log_errbuf

/* Byte width of an integer in-type, 0 for anything else. */
static unsigned
int_width(uint8_t in)
{
  switch (in) {
  case EVT_IN_INT8:
  case EVT_IN_UINT8:
    return 1;
  case EVT_IN_INT16:
  case EVT_IN_UINT16:
    return 2;
  case EVT_IN_INT32:
  case EVT_IN_UINT32:
  case EVT_IN_BOOLEAN:
  case EVT_IN_HEXINT32:
    return 4;
  case EVT_IN_INT64:
  case EVT_IN_UINT64:
  case EVT_IN_HEXINT64:
    return 8;
  default:
    return 0;
  }
}

uint16_t
evt_tlg_out_to_tdh(uint8_t tl_out, uint8_t tl_in)
{
  static const uint16_t hex[9] = {
      0, EVT_OUT_HEXINT8, EVT_OUT_HEXINT16, 0, EVT_OUT_HEXINT32, 0, 0,
      0, EVT_OUT_HEXINT64};
  static const uint16_t sgn[9] = {
      0, EVT_OUT_BYTE, EVT_OUT_SHORT, 0, EVT_OUT_INT, 0, 0, 0, EVT_OUT_LONG};
  static const uint16_t uns[9] = {0,
                                  EVT_OUT_UNSIGNEDBYTE,
                                  EVT_OUT_UNSIGNEDSHORT,
                                  0,
                                  EVT_OUT_UNSIGNEDINT,
                                  0,
                                  0,
                                  0,
                                  EVT_OUT_UNSIGNEDLONG};
  unsigned w = int_width(tl_in);

  switch (tl_out) {
  case TLG_OUT_NULL:
    return EVT_OUT_NULL;
  case TLG_OUT_NOPRINT:
    return EVT_OUT_NOPRINT;
  case TLG_OUT_STRING:
    return EVT_OUT_STRING;
  case TLG_OUT_BOOLEAN:
    return EVT_OUT_BOOLEAN;
  case TLG_OUT_HEX:
    if (tl_in == TLG_IN_BINARY || tl_in == EVT_IN_COUNTEDBINARY)
      return EVT_OUT_HEXBINARY;
    return hex[w];
  case TLG_OUT_PID:
    return EVT_OUT_PID;
  case TLG_OUT_TID:
    return EVT_OUT_TID;
  case TLG_OUT_PORT:
    return EVT_OUT_PORT;
  case TLG_OUT_IPV4:
    return EVT_OUT_IPV4;
  case TLG_OUT_IPV6:
    return EVT_OUT_IPV6;
  case TLG_OUT_SOCKETADDRESS:
    return EVT_OUT_SOCKETADDRESS;
  case TLG_OUT_XML:
    return EVT_OUT_XML;
  case TLG_OUT_JSON:
    return EVT_OUT_JSON;
  case TLG_OUT_WIN32ERROR:
    return EVT_OUT_WIN32ERROR;
  case TLG_OUT_NTSTATUS:
    return EVT_OUT_NTSTATUS;
  case TLG_OUT_HRESULT:
    return EVT_OUT_HRESULT;
  case TLG_OUT_FILETIME:
    return EVT_OUT_DATETIME;
  case TLG_OUT_SIGNED:
    return sgn[w];
  case TLG_OUT_UNSIGNED:
    return uns[w];
  default:
    /* RS1+: from 32 up the codes are TDH's own. */
    if (tl_out >= EVT_OUT_HRESULT && tl_out <= EVT_OUT_DATETIME_UTC)
      return tl_out;
    return EVT_OUT_NULL;
  }
}

/* read_tags - consume tag bytes up to one with bit 7 clear; false if the
 * blob ends first. The tag value is not kept. */
static bool
read_tags(struct br *c)
{
  for (;;) {
    uint8_t b = br_u8(c);
    if (c->bad) return false;
    if (!(b & 0x80)) return true;
  }
}

/* read_cstr - a NUL-terminated string at the cursor; NULL if the blob
 * ends first. *len gets its length without the NUL. */
static const char *
read_cstr(struct br *c, size_t *len)
{
  size_t left = br_left(c);
  const uint8_t *p = c->p + c->off;
  const uint8_t *z = left ? memchr(p, 0, left) : NULL;
  if (!z) {
    c->bad = true;
    return NULL;
  }
  *len = (size_t)(z - p);
  br_skip(c, *len + 1);
  return (const char *)p;
}

/* parse_fields - pass one: fields in metadata order into t[0..*nt).
 * Returns 0, or -1 with err set. */
static int
parse_fields(struct evt_registry *r, struct br *c, struct tfield *t, size_t cap,
             size_t *nt, char *err, size_t errlen)
{
  struct open_struct stack[EVT_TLG_MAX_DEPTH];
  int depth = 0;
  size_t n = 0;

  while (br_left(c) > 0) {
    size_t at = c->off, namelen = 0;
    const char *name = read_cstr(c, &namelen);
    if (!name) {
      fail(err, errlen, "field name at byte 0x%zx not terminated", at);
      return -1;
    }
    int nl = namelen > 64 ? 64 : (int)namelen; /* shown in messages */
    uint8_t in_meta = br_u8(c);
    uint8_t out_meta = 0;
    if (in_meta & TLG_IN_CHAIN) {
      out_meta = br_u8(c);
      if ((out_meta & TLG_OUT_CHAIN) && !read_tags(c)) {
        fail(err, errlen, "field '%.*s': tags run past the end", nl, name);
        return -1;
      }
    }
    uint8_t in = in_meta & TLG_IN_TYPE_MASK;
    uint8_t arity = in_meta & TLG_IN_ARITY_MASK;
    uint16_t count = 0;
    if (arity == TLG_IN_CCOUNT)
      count = br_u16le(c);
    else if (arity == TLG_IN_CUSTOM)
      br_skip(c, br_u16le(c));
    if (c->bad) {
      fail(err, errlen, "field '%.*s' at byte 0x%zx cut short", nl, name, at);
      return -1;
    }
    if (in > TLG_IN_MAX) {
      fail(err, errlen, "field '%.*s': unknown in-type %u", nl, name,
           (unsigned)in);
      return -1;
    }
    if (in == TLG_IN_STRUCT && arity == TLG_IN_CUSTOM) {
      fail(err, errlen, "field '%.*s': custom struct", nl, name);
      return -1;
    }
    if (n >= cap || n >= UINT16_MAX) {
      fail(err, errlen, "too many fields");
      return -1;
    }

    struct tfield *tf = &t[n];
    memset(tf, 0, sizeof *tf);
    tf->parent = depth ? stack[depth - 1].idx : -1;
    tf->first_child = tf->last_child = tf->next = -1;
    tf->f.name = evt_strdup(r, name, namelen);
    if (!tf->f.name) {
      fail(err, errlen, "out of memory");
      return -1;
    }
    if (in == TLG_IN_STRUCT) {
      tf->f.flags = EVT_F_STRUCT;
    } else {
      tf->f.in = in == TLG_IN_BINARY ? EVT_IN_COUNTEDBINARY : in;
      tf->f.out = evt_tlg_out_to_tdh(out_meta & TLG_OUT_TYPE_MASK, in);
      if (tf->f.out == EVT_OUT_DATETIME_UTC) tf->f.flags |= EVT_F_UTC;
    }
    if (arity == TLG_IN_CCOUNT) {
      tf->f.flags |= EVT_F_COUNT_FIXED;
      tf->f.count = count;
    } else if (arity == TLG_IN_VCOUNT) {
      tf->f.flags |= EVT_F_COUNT_INLINE;
    } else if (arity == TLG_IN_CUSTOM) {
      tf->f.flags |= EVT_F_CUSTOM;
    }

    /* Link into the parent's member list; the parent owns one fewer. */
    if (tf->parent >= 0) {
      struct tfield *p = &t[tf->parent];
      if (p->last_child >= 0)
        t[p->last_child].next = (int32_t)n;
      else
        p->first_child = (int32_t)n;
      p->last_child = (int32_t)n;
      p->nchild++;
      stack[depth - 1].left--;
    }
    if (in == TLG_IN_STRUCT && depth == EVT_TLG_MAX_DEPTH) {
      fail(err, errlen, "field '%.*s': structs nested deeper than %d", nl, name,
           EVT_TLG_MAX_DEPTH);
      return -1;
    }
    if (in == TLG_IN_STRUCT && (out_meta & TLG_OUT_TYPE_MASK) > 0) {
      stack[depth].idx = (int32_t)n;
      stack[depth].left = out_meta & TLG_OUT_TYPE_MASK;
      depth++;
    }
    n++;
    while (depth > 0 && stack[depth - 1].left == 0)
      depth--;
  }
  if (depth > 0) {
    const struct tfield *s = &t[stack[depth - 1].idx];
    fail(err, errlen, "struct '%s' is missing %u of its fields", s->f.name,
         (unsigned)stack[depth - 1].left);
    return -1;
  }
  *nt = n;
  return 0;
}

/* layout - pass two: top-level fields first, then each struct's members
 * as a contiguous slice, breadth-first. out has nt slots. */
static uint16_t
layout(struct tfield *t, size_t nt, struct evt_field *out)
{
  int32_t *src = malloc((nt ? nt : 1) * sizeof *src); /* out[i] = t[src[i]] */
  size_t n = 0, ntop = 0;
  if (!src) return UINT16_MAX;
  for (size_t i = 0; i < nt; i++)
    if (t[i].parent < 0) src[n++] = (int32_t)i;
  ntop = n;
  for (size_t i = 0; i < n; i++) {
    struct tfield *tf = &t[src[i]];
    out[i] = tf->f;
    if (!(tf->f.flags & EVT_F_STRUCT)) continue;
    out[i].first = (uint16_t)n;
    out[i].nmembers = tf->nchild;
    for (int32_t k = tf->first_child; k >= 0; k = t[k].next)
      src[n++] = k;
  }
  free(src);
  return (uint16_t)ntop;
}

const struct evt_schema *
evt_tlg_compile(struct evt_registry *r, const uint8_t provider[16],
                const char *provider_name, const uint8_t *meta, size_t n,
                char *err, size_t errlen)
{
  struct br c = br_make(meta, n);
  uint16_t size = br_u16le(&c);
  if (c.bad || size < 4) {
    fail(err, errlen, "TraceLogging metadata too short (%zu bytes)", n);
    return NULL;
  }
  if (size > n) {
    fail(err, errlen, "TraceLogging metadata declares 0x%x bytes, has 0x%zx",
         (unsigned)size, n);
    return NULL;
  }
  c.len = size; /* bytes after Size belong to nobody */
  if (!read_tags(&c)) {
    fail(err, errlen, "TraceLogging event tags run past the end");
    return NULL;
  }
  size_t namelen = 0;
  const char *name = read_cstr(&c, &namelen);
  if (!name) {
    fail(err, errlen, "TraceLogging event name not terminated");
    return NULL;
  }

  struct evt_schema *s = evt_alloc(r, sizeof *s);
  char *ename = evt_strdup(r, name, namelen);
  if (!s || !ename) {
    fail(err, errlen, "out of memory");
    return NULL;
  }
  memcpy(s->provider, provider, 16);
  s->event_name = ename;
  s->source = "tracelogging";
  if (provider_name) {
    s->provider_name = evt_strdup(r, provider_name, strlen(provider_name));
    if (!s->provider_name) {
      fail(err, errlen, "out of memory");
      return NULL;
    }
  }

  /* A field takes at least 2 bytes (empty name + InMeta). */
  size_t cap = br_left(&c) / 2 + 1, nt = 0;
  struct tfield *t = malloc(cap * sizeof *t);
  if (!t) {
    fail(err, errlen, "out of memory");
    return NULL;
  }
  if (parse_fields(r, &c, t, cap, &nt, err, errlen) != 0) {
    free(t);
    return NULL;
  }
  struct evt_field *fields = evt_alloc(r, (nt ? nt : 1) * sizeof *fields);
  uint16_t ntop = fields ? layout(t, nt, fields) : UINT16_MAX;
  free(t);
  if (ntop == UINT16_MAX) {
    fail(err, errlen, "out of memory");
    return NULL;
  }
  s->fields = fields;
  s->nfields = (uint16_t)nt;
  s->ntop = ntop;
  return s;
}

/* traits_name - the provider name in PROV_TRAITS bytes, or NULL when they
 * are absent or malformed. */
static const char *
traits_name(const uint8_t *p, size_t n)
{
  if (!p || n < 3) return NULL;
  size_t size = le16(p);
  if (size < 3 || size > n) return NULL;
  if (!memchr(p + 2, 0, size - 2)) return NULL;
  return (const char *)p + 2;
}

const struct evt_schema *
evt_tlg_schema(struct evt_registry *r, const struct etl_event *ev, char *err,
               size_t errlen)
{
  if (!ev->tl_meta || ev->tl_meta_len == 0) {
    fail(err, errlen, "no TraceLogging metadata");
    return NULL;
  }
  const struct evt_schema *s =
      evt_registry_find_tl(r, ev->provider, ev->tl_meta, ev->tl_meta_len);
  if (s) return s;

  const char *pname = traits_name(ev->tl_traits, ev->tl_traits_len);
  if (pname) {
    if (evt_registry_set_provider_name(r, ev->provider, pname,
                                       EVT_PRIO_TRACE) != 0) {
      fail(err, errlen, "out of memory");
      return NULL;
    }
  }
  s = evt_tlg_compile(r, ev->provider,
                      evt_registry_provider_name(r, ev->provider), ev->tl_meta,
                      ev->tl_meta_len, err, errlen);
  if (!s) return NULL;
  if (evt_registry_add_tl(r, ev->provider, ev->tl_meta, ev->tl_meta_len, s) !=
      0) {
    fail(err, errlen, "out of memory");
    return NULL;
  }
  return s;
}
