/*
 * fuzz_tei.c - libFuzzer target for the EventMetadata compiler
 * (TRACE_EVENT_INFO and EVENT_MAP_INFO blobs).
 *
 * Input: a sequence of records {u8 kind, u16 length (little-endian),
 * length bytes}; an odd kind is an opcode-33 map blob, an even one an
 * opcode-32 event blob; a length past the end takes what is left. Records
 * are loaded in order into one registry per input (freed at the end), so
 * maps arriving before and after their events are both exercised. After
 * each event blob that loads, the schema it registered is looked up and
 * must keep the invariants the decoder relies on (evt_tei.h); anything
 * else aborts. The compiler is etwcat/evt_tei.c; seeds:
 * tests/fuzz/corpus/tei/.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "etwcat/evt_registry.h"
#include "etwcat/evt_tei.h"
#include "lib/bytes.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_schema(struct evt_registry *r, const struct evt_schema *s)
{
  if (s->ntop > s->nfields) abort();
  for (uint32_t i = 0; i < s->nfields; i++) {
    const struct evt_field *f = &s->fields[i];
    if (!f->name) abort();
    if ((f->flags & EVT_F_STRUCT) && f->nmembers &&
        (f->first < s->ntop || (uint32_t)f->first + f->nmembers > s->nfields))
      abort();
    if ((f->flags & EVT_F_COUNT_FIELD) &&
        (f->count >= i || (s->fields[f->count].flags & EVT_F_STRUCT)))
      abort();
    if ((f->flags & EVT_F_LEN_FIELD) &&
        (f->len >= i || (s->fields[f->len].flags & EVT_F_STRUCT)))
      abort();
    if (f->map_name) (void)evt_registry_find_map(r, s->provider, f->map_name);
  }
}

static void
load_one(struct evt_registry *r, bool map, const uint8_t *p, size_t n)
{
  char err[128] = "";
  uint8_t *c = malloc(n ? n : 1); /* exact size for the sanitizers */
  if (!c) abort();
  memcpy(c, p, n);
  int rc = map ? evt_tei_load_map_info(r, c, n, err, sizeof err)
               : evt_tei_load_event_info(r, c, n, err, sizeof err);
  if (rc != 0 && (rc != -1 || !err[0])) abort();
  if (rc == 0 && !map && n >= 112) {
    uint32_t ds = le32(c + 48);
    const struct evt_schema *s = NULL;
    if (ds == 0)
      s = evt_registry_find(r, c, false, le16(c + 32), c[34]);
    else if (ds == 1)
      s = evt_registry_find(r, c + 16, true, c[37], c[34]);
    if (ds <= 1 && !s) abort();
    if (s) check_schema(r, s);
  }
  free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct evt_registry *r = evt_registry_new();
  if (!r) abort();
  struct br in = br_make(data, size);
  while (br_left(&in) >= 3) {
    uint8_t kind = br_u8(&in);
    size_t len = br_u16le(&in);
    if (len > br_left(&in)) len = br_left(&in);
    const uint8_t *p = br_bytes(&in, len);
    load_one(r, kind & 1, p ? p : data, p ? len : 0);
  }
  evt_registry_free(r);
  return 0;
}
