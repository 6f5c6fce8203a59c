/*
 * evt_tei.c - compile EventMetadata payloads (TRACE_EVENT_INFO and
 * EVENT_MAP_INFO blobs of merged traces) into the registry.
 *
 * Every offset in a blob is relative to the blob's start and every string
 * is UTF-16LE, NUL-terminated; offset 0 means absent. Each offset, count
 * and index is checked against the blob and the property array before
 * use, and strings are converted to UTF-8 arena copies (unpaired
 * surrogates become U+FFFD). See evt_tei.h for the conventions of the
 * result. Layouts (SDK 16299 tdh.h), offsets in bytes:
 *
 * TRACE_EVENT_INFO (opcode 32), 112 bytes + 24 per property:
 *   0 GUID ProviderGuid        52 ProviderNameOffset   80 ProviderMessageOffset
 *  16 GUID EventGuid           56 LevelNameOffset      84 BinaryXMLOffset
 *  32 EVENT_DESCRIPTOR:        60 ChannelNameOffset    88 BinaryXMLSize
 *     u16 Id, u8 Version,      64 KeywordsNameOffset   92 EventNameOffset
 *     u8 Channel, u8 Level,    68 TaskNameOffset       96 EventAttributesOffset
 *     u8 Opcode, u16 Task,     72 OpcodeNameOffset    100 PropertyCount
 *     u64 Keyword              76 EventMessageOffset  104 TopLevelPropertyCount
 *  48 u32 DecodingSource                              108 Flags
 *
 * EVENT_PROPERTY_INFO: u32 Flags @0, u32 NameOffset @4, u16 InType or
 * StructStartIndex @8, u16 OutType or NumOfStructMembers @10,
 * u32 MapNameOffset (or CustomSchemaOffset) @12, u16 count or
 * countPropertyIndex @16, u16 length or lengthPropertyIndex @18,
 * u32 Tags @20.
 *
 * Opcode 33: GUID ProviderId, then EVENT_MAP_INFO (offsets relative to
 * its own start): u32 NameOffset, u32 Flag, u32 EntryCount,
 * u32 MapEntryValueType (or FormatStringOffset), then EntryCount times
 * {u32 OutputOffset, u32 Value (or InputOffset)}.
 *
 * Sources: design/etw-schemas.md section 4, etl-format.md section 12.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "etwcat/evt_tei.h"
#include "lib/bytes.h"
#include "lib/log.h" /* LOG_PRINTF */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {bbccf6c1-6cd1-48c4-80ff-839482e37671} */
const uint8_t evt_tei_provider[16] = {0xc1, 0xf6, 0xcc, 0xbb, 0xd1, 0x6c,
                                      0xc4, 0x48, 0x80, 0xff, 0x83, 0x94,
                                      0x82, 0xe3, 0x76, 0x71};

#define TEI_HDR_SIZE 112
#define TEI_PROP_SIZE 24
#define MAP_HDR_SIZE 16
#define MAP_ENTRY_SIZE 8

/* DECODING_SOURCE */
enum { DS_XMLFILE = 0, DS_WBEM = 1, DS_WPP = 2, DS_TLG = 3 };

/* PROPERTY_FLAGS */
#define PROP_STRUCT 0x01
#define PROP_PARAM_LENGTH 0x02
#define PROP_PARAM_COUNT 0x04
#define PROP_PARAM_FIXED_LENGTH 0x10
#define PROP_PARAM_FIXED_COUNT 0x20
#define PROP_CUSTOM_SCHEMA 0x80

/* MAP_FLAGS */
#define MAP_MANIFEST_BITMAP 0x02
#define MAP_MANIFEST_PATTERNMAP 0x04
#define MAP_WBEM_VALUEMAP 0x08
#define MAP_WBEM_BITMAP 0x10
#define MAP_WBEM_FLAG 0x20
/* MAP_VALUETYPE */
#define MAP_VALUETYPE_STRING 1

/* Errors go to the caller's buffer. */
#define fail log_errbuf

/* utf8_put - encode cp at o (when o is not NULL); returns its length. */
static size_t
utf8_put(char *o, uint32_t cp)
{
  uint8_t b[4];
  size_t n;
  if (cp < 0x80) {
    b[0] = (uint8_t)cp;
    n = 1;
  } else if (cp < 0x800) {
    b[0] = (uint8_t)(0xC0 | cp >> 6);
    b[1] = (uint8_t)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    b[0] = (uint8_t)(0xE0 | cp >> 12);
    b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    b[2] = (uint8_t)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    b[0] = (uint8_t)(0xF0 | cp >> 18);
    b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    b[3] = (uint8_t)(0x80 | (cp & 0x3F));
    n = 4;
  }
  if (o) memcpy(o, b, n);
  return n;
}

/* utf16_to_utf8 - convert nunits UTF-16LE units at q; writes to o when
 * not NULL, returns the UTF-8 length. */
static size_t
utf16_to_utf8(const uint8_t *q, size_t nunits, char *o)
{
  size_t len = 0;
  for (size_t i = 0; i < nunits; i++) {
    uint32_t u = le16(q + 2 * i);
    if (u >= 0xD800 && u < 0xDC00 && i + 1 < nunits) {
      uint32_t lo = le16(q + 2 * (i + 1));
      if (lo >= 0xDC00 && lo < 0xE000) {
        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        i++;
      } else {
        u = 0xFFFD;
      }
    } else if (u >= 0xD800 && u < 0xE000) {
      u = 0xFFFD;
    }
    len += utf8_put(o ? o + len : NULL, u);
  }
  return len;
}

/* A blob being read: its bytes and how much UTF-8 its strings may still
 * produce. Offsets may point into the middle of other strings or at the
 * same long string many times; the budget keeps a hostile blob from
 * turning into an arena many times its size. */
struct blob {
  struct evt_registry *r;
  const uint8_t *p;
  size_t n;
  size_t budget;
};

static struct blob
blob_make(struct evt_registry *r, const uint8_t *p, size_t n)
{
  /* UTF-16 to UTF-8 grows at most 3/2; leave room for shared strings. */
  struct blob b = {r, p, n, 4 * n + 4096};
  return b;
}

/* Result of reading a string out of a blob. */
enum { STR_OK = 0, STR_ABSENT = 1, STR_BAD = -1, STR_OOM = -2, STR_BIG = -3 };

/* str_units - UTF-16 units before the NUL of the string at off; false
 * when off is outside the blob or there is no NUL before its end. */
static bool
str_units(const struct blob *b, uint32_t off, size_t *units)
{
  if (off >= b->n) return false;
  size_t u = 0, maxu = (b->n - off) / 2;
  while (u < maxu && le16(b->p + off + 2 * u) != 0)
    u++;
  *units = u;
  return u < maxu;
}

/*
 * str_at - the NUL-terminated UTF-16LE string at offset off as a UTF-8
 * arena copy in *out. STR_ABSENT (and *out NULL) when off is 0; STR_BAD
 * when off is outside the blob or the string has no NUL before its end,
 * STR_BIG when the blob's text budget is spent, STR_OOM.
 */
static int
str_at(struct blob *b, uint32_t off, char **out)
{
  size_t units;
  *out = NULL;
  if (off == 0) return STR_ABSENT;
  if (!str_units(b, off, &units)) return STR_BAD;
  size_t len = utf16_to_utf8(b->p + off, units, NULL);
  if (len + 1 > b->budget) return STR_BIG;
  b->budget -= len + 1;
  char *s = evt_alloc(b->r, len + 1);
  if (!s) return STR_OOM;
  utf16_to_utf8(b->p + off, units, s);
  s[len] = 0;
  *out = s;
  return STR_OK;
}

static void
trim_blanks(char *s)
{
  if (!s) return;
  size_t n = strlen(s);
  while (n > 0 && s[n - 1] == ' ')
    s[--n] = 0;
}

/* string_fail - turn a str_at() failure into a message; returns -1. */
static int
string_fail(int rc, const char *what, uint32_t off, char *err, size_t errlen)
{
  if (rc == STR_OOM)
    fail(err, errlen, "out of memory");
  else if (rc == STR_BIG)
    fail(err, errlen, "strings overlap: more text than the blob holds");
  else
    fail(err, errlen, "%s string at offset 0x%x outside the blob", what,
         (unsigned)off);
  return -1;
}

/* keyword_names - the KeywordsName list (strings ended by an empty one,
 * or by the blob's end) joined with single spaces; NULL when empty. */
static int
keyword_names(struct blob *b, uint32_t off, const char **out, char *err,
              size_t errlen)
{
  size_t total = 0, pos, units;
  *out = NULL;
  if (off == 0) return 0;
  /* Measure first, then convert once into one allocation. */
  for (pos = off; pos < b->n; pos += 2 * units + 2) {
    if (!str_units(b, (uint32_t)pos, &units))
      return string_fail(STR_BAD, "keyword", (uint32_t)pos, err, errlen);
    if (units == 0) break;
    total += (total ? 1 : 0) + utf16_to_utf8(b->p + pos, units, NULL);
  }
  if (total == 0) return 0;
  if (total + 1 > b->budget) return string_fail(STR_BIG, "", 0, err, errlen);
  b->budget -= total + 1;
  char *j = evt_alloc(b->r, total + 1);
  if (!j) return string_fail(STR_OOM, "", 0, err, errlen);
  size_t w = 0;
  for (pos = off; pos < b->n; pos += 2 * units + 2) {
    (void)str_units(b, (uint32_t)pos, &units);
    if (units == 0) break;
    if (w) j[w++] = ' ';
    w += utf16_to_utf8(b->p + pos, units, j + w);
  }
  j[w] = 0;
  *out = j;
  return 0;
}

/* Names that only repeat winmeta defaults; the writer has better ones. */
static const char *
drop_winmeta(const char *s)
{
  return s && strncmp(s, "win:", 4) == 0 ? NULL : s;
}

static bool
tei_in_type_ok(uint16_t in)
{
  return in <= EVT_IN_COUNTEDBINARY && in != EVT_IN_STRUCT
             ? true
             : in >= EVT_IN_WBEM_COUNTEDSTRING && in <= EVT_IN_WBEM_SID;
}

/* Lengths matter only for these in-types (TDH reports the natural size of
 * fixed-size ones in the same slot). */
static bool
tei_len_applies(uint16_t in)
{
  return in == EVT_IN_UNICODESTRING || in == EVT_IN_ANSISTRING ||
         in == EVT_IN_BINARY;
}

/* check_structs - every property after the top level is a member of
 * exactly one struct reachable from the top (so there are no cycles and
 * no orphans), and structs nest at most EVT_TEI_MAX_DEPTH deep.
 * Breadth-first from the top-level properties. */
static int
check_structs(const struct evt_field *f, uint32_t pc, uint32_t tpc, char *err,
              size_t errlen)
{
  uint8_t *depth = calloc(pc ? pc : 1, 1);
  uint32_t *queue = malloc((pc ? pc : 1) * sizeof *queue);
  uint32_t qn = 0;
  int rc = 0;
  if (!depth || !queue) {
    fail(err, errlen, "out of memory");
    rc = -1;
    goto out;
  }
  for (uint32_t i = 0; i < tpc; i++) {
    depth[i] = 1;
    queue[qn++] = i;
  }
  for (uint32_t q = 0; q < qn; q++) {
    uint32_t i = queue[q];
    if (!(f[i].flags & EVT_F_STRUCT)) continue;
    if (depth[i] > EVT_TEI_MAX_DEPTH) {
      fail(err, errlen, "struct '%s' nested deeper than %d", f[i].name,
           EVT_TEI_MAX_DEPTH);
      rc = -1;
      goto out;
    }
    for (uint32_t m = f[i].first; m < (uint32_t)f[i].first + f[i].nmembers;
         m++) {
      if (m < tpc || depth[m]) {
        fail(err, errlen, "struct '%s': member %u is %s", f[i].name,
             (unsigned)m, m < tpc ? "top level" : "shared or cyclic");
        rc = -1;
        goto out;
      }
      depth[m] = (uint8_t)(depth[i] + 1);
      queue[qn++] = m;
    }
  }
  if (qn < pc) {
    /* Some property is neither top level nor a member: corrupt. */
    uint32_t i = 0;
    while (depth[i])
      i++;
    fail(err, errlen, "property %u belongs to no struct", (unsigned)i);
    rc = -1;
  }
out:
  free(depth);
  free(queue);
  return rc;
}

/* prop_index_ok - a count/length index must name an earlier property
 * that is not a struct. */
static bool
prop_index_ok(const struct evt_field *f, uint32_t i, uint16_t idx)
{
  return idx < i && !(f[idx].flags & EVT_F_STRUCT);
}

int
evt_tei_load_event_info(struct evt_registry *r, const uint8_t *p, size_t n,
                        char *err, size_t errlen)
{
  struct br c = br_make(p, n);
  const uint8_t *prov = br_bytes(&c, 16);
  const uint8_t *eguid = br_bytes(&c, 16);
  uint16_t id = br_u16le(&c);
  uint8_t version = br_u8(&c);
  br_skip(&c, 2); /* Channel, Level */
  uint8_t opcode = br_u8(&c);
  br_skip(&c, 2 + 8); /* Task, Keyword */
  uint32_t ds = br_u32le(&c);
  uint32_t o_prov = br_u32le(&c), o_level = br_u32le(&c);
  uint32_t o_chan = br_u32le(&c), o_kw = br_u32le(&c);
  uint32_t o_task = br_u32le(&c), o_opc = br_u32le(&c);
  uint32_t o_msg = br_u32le(&c);
  br_skip(&c, 12); /* ProviderMessage, BinaryXML offset and size */
  uint32_t o_evname = br_u32le(&c);
  br_skip(&c, 4); /* EventAttributes */
  uint32_t pc = br_u32le(&c), tpc = br_u32le(&c);
  br_skip(&c, 4); /* Flags */
  if (c.bad) {
    fail(err, errlen, "TRACE_EVENT_INFO too short (%zu bytes)", n);
    return -1;
  }
  if (ds == DS_WPP || ds == DS_TLG) return 0;
  if (ds != DS_XMLFILE && ds != DS_WBEM) {
    fail(err, errlen, "TRACE_EVENT_INFO: unknown DecodingSource %u",
         (unsigned)ds);
    return -1;
  }
  if (pc > (n - TEI_HDR_SIZE) / TEI_PROP_SIZE || pc > UINT16_MAX) {
    fail(err, errlen,
         "TRACE_EVENT_INFO: %u properties do not fit in 0x%zx bytes",
         (unsigned)pc, n);
    return -1;
  }
  if (tpc > pc) {
    fail(err, errlen, "TRACE_EVENT_INFO: %u top-level of %u properties",
         (unsigned)tpc, (unsigned)pc);
    return -1;
  }

  struct blob bl = blob_make(r, p, n);
  struct evt_schema *s = evt_alloc(r, sizeof *s);
  struct evt_field *f = evt_alloc(r, (pc ? pc : 1) * sizeof *f);
  if (!s || !f) {
    fail(err, errlen, "out of memory");
    return -1;
  }
  for (uint32_t i = 0; i < pc; i++) {
    uint32_t flags = br_u32le(&c), o_name = br_u32le(&c);
    uint16_t a = br_u16le(&c), b = br_u16le(&c);
    uint32_t o_map = br_u32le(&c);
    uint16_t count = br_u16le(&c), length = br_u16le(&c);
    br_skip(&c, 4); /* Tags */
    char *name;
    int rc = str_at(&bl, o_name, &name);
    if (rc == STR_ABSENT)
      name = "";
    else if (rc != STR_OK)
      return string_fail(rc, "property name", o_name, err, errlen);
    f[i].name = name;

    if (flags & PROP_STRUCT) {
      f[i].flags = EVT_F_STRUCT;
      f[i].first = a;
      f[i].nmembers = b;
      if ((uint32_t)a + b > pc) {
        fail(err, errlen, "struct '%s': members %u+%u past %u properties", name,
             (unsigned)a, (unsigned)b, (unsigned)pc);
        return -1;
      }
    } else {
      if (!tei_in_type_ok(a)) {
        fail(err, errlen, "property '%s': unknown in-type %u", name,
             (unsigned)a);
        return -1;
      }
      f[i].in = a;
      f[i].out = b;
      if (flags & PROP_CUSTOM_SCHEMA) {
        f[i].flags |= EVT_F_CUSTOM;
      } else if (o_map) {
        char *mname;
        rc = str_at(&bl, o_map, &mname);
        if (rc != STR_OK)
          return string_fail(rc, "map name", o_map, err, errlen);
        f[i].map_name = mname;
        f[i].map = evt_registry_find_map(r, prov, mname);
      }
      if (tei_len_applies(a)) {
        if (flags & PROP_PARAM_LENGTH) {
          if (!prop_index_ok(f, i, length)) {
            fail(err, errlen, "property '%s': bad length index %u", name,
                 (unsigned)length);
            return -1;
          }
          f[i].flags |= EVT_F_LEN_FIELD;
          f[i].len = length;
        } else if ((flags & PROP_PARAM_FIXED_LENGTH) || length > 0) {
          f[i].flags |= EVT_F_LEN_FIXED;
          f[i].len = length;
        }
      }
    }
    if (flags & PROP_PARAM_COUNT) {
      if (!prop_index_ok(f, i, count)) {
        fail(err, errlen, "property '%s': bad count index %u", name,
             (unsigned)count);
        return -1;
      }
      f[i].flags |= EVT_F_COUNT_FIELD;
      f[i].count = count;
    } else if ((flags & PROP_PARAM_FIXED_COUNT) || count > 1) {
      f[i].flags |= EVT_F_COUNT_FIXED;
      f[i].count = count;
    }
  }
  if (check_structs(f, pc, tpc, err, errlen) != 0) return -1;

  /* Names. A bad offset anywhere makes the blob suspect: reject it. */
  struct {
    uint32_t off;
    const char *what;
    char *val;
  } nm[] = {{o_prov, "provider name", NULL}, {o_level, "level name", NULL},
            {o_chan, "channel name", NULL},  {o_task, "task name", NULL},
            {o_opc, "opcode name", NULL},    {o_msg, "message", NULL},
            {o_evname, "event name", NULL}};
  for (size_t k = 0; k < sizeof nm / sizeof nm[0]; k++) {
    int rc = str_at(&bl, nm[k].off, &nm[k].val);
    if (rc != STR_OK && rc != STR_ABSENT)
      return string_fail(rc, nm[k].what, nm[k].off, err, errlen);
  }
  if (keyword_names(&bl, o_kw, &s->keywords_name, err, errlen) != 0) return -1;
  trim_blanks(nm[5].val);
  s->provider_name = nm[0].val;
  s->level_name = drop_winmeta(nm[1].val);
  s->channel_name = drop_winmeta(nm[2].val);
  s->task_name = drop_winmeta(nm[3].val);
  s->opcode_name = drop_winmeta(nm[4].val);
  s->message = nm[5].val;
  s->event_name = nm[6].val;

  if (ds == DS_WBEM) {
    /* MOF: keyed by class GUID and event type; named "Class/Type". */
    memcpy(s->provider, eguid, 16);
    s->classic = true;
    if (nm[3].val && nm[4].val) {
      size_t tl = strlen(nm[3].val), ol = strlen(nm[4].val);
      char *en = evt_alloc(r, tl + 1 + ol + 1);
      if (!en) {
        fail(err, errlen, "out of memory");
        return -1;
      }
      memcpy(en, nm[3].val, tl);
      en[tl] = '/';
      memcpy(en + tl + 1, nm[4].val, ol + 1);
      s->event_name = en;
    } else {
      s->event_name = nm[3].val;
    }
  } else {
    memcpy(s->provider, prov, 16);
  }
  s->id = id;
  s->version = version;
  s->opcode = opcode;
  s->nfields = (uint16_t)pc;
  s->ntop = (uint16_t)tpc;
  s->fields = f;
  s->source = "TRACE_EVENT_INFO";

  if (evt_registry_add(r, s, EVT_PRIO_TRACE) != 0 ||
      (ds == DS_XMLFILE && s->provider_name &&
       evt_registry_set_provider_name(r, prov, s->provider_name,
                                      EVT_PRIO_TRACE) != 0)) {
    fail(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
  uint32_t x = ((const struct evt_map_entry *)a)->value;
  uint32_t y = ((const struct evt_map_entry *)b)->value;
  return x < y ? -1 : x > y;
}

int
evt_tei_load_map_info(struct evt_registry *r, const uint8_t *p, size_t n,
                      char *err, size_t errlen)
{
  struct br c = br_make(p, n);
  const uint8_t *prov = br_bytes(&c, 16);
  uint32_t o_name = br_u32le(&c), flag = br_u32le(&c);
  uint32_t count = br_u32le(&c), vtype = br_u32le(&c);
  if (c.bad) {
    fail(err, errlen, "EVENT_MAP_INFO too short (%zu bytes)", n);
    return -1;
  }
  if ((flag & MAP_MANIFEST_PATTERNMAP) || vtype == MAP_VALUETYPE_STRING)
    return 0; /* not representable as value -> name */
  /* Offsets inside EVENT_MAP_INFO count from its start, after the GUID. */
  struct blob bl = blob_make(r, p + 16, n - 16);
  size_t mn = bl.n;
  if (count > (mn - MAP_HDR_SIZE) / MAP_ENTRY_SIZE) {
    fail(err, errlen, "EVENT_MAP_INFO: %u entries do not fit in 0x%zx bytes",
         (unsigned)count, n);
    return -1;
  }
  char *name;
  int rc = str_at(&bl, o_name, &name);
  if (rc == STR_ABSENT || (rc == STR_OK && !*name)) {
    fail(err, errlen, "EVENT_MAP_INFO without a name");
    return -1;
  }
  if (rc != STR_OK) return string_fail(rc, "map name", o_name, err, errlen);

  struct evt_map *map = evt_alloc(r, sizeof *map);
  struct evt_map_entry *e = evt_alloc(r, (count ? count : 1) * sizeof *e);
  if (!map || !e) {
    fail(err, errlen, "out of memory");
    return -1;
  }
  for (uint32_t i = 0; i < count; i++) {
    uint32_t o_out = br_u32le(&c);
    e[i].value = br_u32le(&c);
    char *en;
    rc = str_at(&bl, o_out, &en);
    if (rc == STR_ABSENT)
      en = "";
    else if (rc != STR_OK)
      return string_fail(rc, "map entry", o_out, err, errlen);
    trim_blanks(en);
    e[i].name = en;
  }
  map->name = name;
  map->bitmap = (flag & (MAP_MANIFEST_BITMAP | MAP_WBEM_BITMAP)) ||
                ((flag & MAP_WBEM_VALUEMAP) && (flag & MAP_WBEM_FLAG));
  map->n = count;
  map->e = e;
  if (!map->bitmap && count > 1) qsort(e, count, sizeof *e, entry_cmp);
  if (evt_registry_add_map(r, prov, map) != 0) {
    fail(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

bool
evt_tei_is_metadata(const struct etl_event *ev)
{
  return memcmp(ev->provider, evt_tei_provider, 16) == 0;
}

int
evt_tei_load(struct evt_registry *r, const struct etl_event *ev, char *err,
             size_t errlen)
{
  if (!evt_tei_is_metadata(ev)) {
    fail(err, errlen, "not an EventMetadata event");
    return -1;
  }
  const uint8_t *p = ev->data;
  size_t n = p ? ev->data_len : 0;
  if (ev->opcode == EVT_TEI_OPCODE_EVENT_INFO)
    return evt_tei_load_event_info(r, p, n, err, errlen);
  if (ev->opcode == EVT_TEI_OPCODE_MAP_INFO)
    return evt_tei_load_map_info(r, p, n, err, errlen);
  return 0;
}
