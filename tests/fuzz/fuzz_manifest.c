/*
 * fuzz_manifest.c - libFuzzer target for the manifest compiler and the
 * XML tokenizer under it.
 *
 * Each input is compiled twice into fresh registries: once whole with
 * evt_manifest_load(), once as an EventSource manifest cut into up to
 * three 65534-event chunks (evt_manifest_chunk()); both must agree on
 * success. When it compiles, the schemas of the provider GUIDs named in
 * the text (first few, ids 0-255, versions 0-3) must keep the invariants
 * the decoder relies on (evt_manifest.h); anything else aborts. The
 * compiler is etwcat/evt_manifest.c; seeds: tests/fuzz/corpus/manifest/.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "etwcat/evt_manifest.h"
#include "etwcat/evt_registry.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_schema(const struct evt_schema *s)
{
  if (s->ntop > s->nfields || (s->nfields && !s->fields)) abort();
  if (s->nfields > EVT_MANIFEST_MAX_FIELDS) abort();
  for (uint32_t i = 0; i < s->nfields; i++) {
    const struct evt_field *f = &s->fields[i];
    if (!f->name) abort();
    if (f->flags & EVT_F_STRUCT) {
      if (i >= s->ntop || !f->nmembers || f->first < s->ntop ||
          (uint32_t)f->first + f->nmembers > s->nfields)
        abort();
    }
    if ((f->flags & EVT_F_COUNT_FIELD) &&
        (f->count >= i || (s->fields[f->count].flags & EVT_F_STRUCT)))
      abort();
    if ((f->flags & EVT_F_LEN_FIELD) &&
        (f->len >= i || (s->fields[f->len].flags & EVT_F_STRUCT)))
      abort();
    if ((f->flags & EVT_F_COUNT_FIXED) && !f->count) abort();
    if (f->map && (!f->map_name || strcmp(f->map->name, f->map_name))) abort();
    if (f->map && f->map->n && !f->map->e) abort();
  }
}

static int
hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* guid_at - 36 characters of 8-4-4-4-12 hex at p, in Windows layout. */
static bool
guid_at(const char *p, size_t n, uint8_t g[16])
{
  static const uint8_t order[16] = {3, 2, 1,  0,  5,  4,  7,  6,
                                    8, 9, 10, 11, 12, 13, 14, 15};
  uint8_t raw[16];
  size_t k = 0;
  if (n < 36) return false;
  for (size_t i = 0; i < 36 && k < 16;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (p[i] != '-') return false;
      i++;
      continue;
    }
    int hi = hexval(p[i]), lo = hexval(p[i + 1]);
    if (hi < 0 || lo < 0) return false;
    raw[k++] = (uint8_t)(hi << 4 | lo);
    i += 2;
  }
  for (int i = 0; i < 16; i++)
    g[i] = raw[order[i]];
  return true;
}

static void
check_registry(struct evt_registry *r, const char *text, size_t n)
{
  int guids = 0;
  for (size_t i = 0; i + 6 < n && guids < 4; i++) {
    if (memcmp(text + i, "guid=", 5) != 0) continue;
    size_t j = i + 6;
    if (j < n && text[j] == '{') j++;
    uint8_t g[16];
    if (!guid_at(text + j, n - j, g)) continue;
    guids++;
    for (uint16_t id = 0; id < 256; id++) {
      for (uint8_t v = 0; v < 4; v++) {
        const struct evt_schema *s = evt_registry_find(r, g, false, id, v);
        if (!s) continue;
        if (s->id != id || s->version != v || !s->source) abort();
        check_schema(s);
      }
    }
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const uint8_t prov[16] = {1, 2,  3,  4,  5,  6,  7,  8,
                                   9, 10, 11, 12, 13, 14, 15, 16};
  char err[256];
  struct evt_registry *r = evt_registry_new();
  if (!r) return 0;
  const char *text = (const char *)data;
  int rc =
      evt_manifest_load(r, text, size, "fuzz", EVT_PRIO_TRACE, err, sizeof err);
  if (rc < 0 && !memchr(err, 0, sizeof err)) abort();
  if (rc > 0) check_registry(r, text, size);
  evt_registry_free(r);

  /* The same bytes as an EventSource manifest in up to three chunks:
   * the first ones are stored (0), the last completes it (1 or -1). */
  r = evt_registry_new();
  if (!r) return 0;
  size_t parts = size < 3 ? 1 : 3, at = 0;
  uint8_t *buf = malloc(size / parts + size % parts + 8);
  bool chunked = buf;
  int crc = 0;
  for (size_t k = 0; buf && k < parts; k++) {
    size_t n = size / parts + (k == parts - 1 ? size % parts : 0);
    buf[0] = 1, buf[1] = 1, buf[2] = 0, buf[3] = 0x5B;
    buf[4] = (uint8_t)parts, buf[5] = 0;
    buf[6] = (uint8_t)k, buf[7] = 0;
    if (n) memcpy(buf + 8, data + at, n);
    at += n;
    crc = evt_manifest_chunk(r, prov, buf, n + 8, err, sizeof err);
    if (k < parts - 1 && crc != 0) abort();
  }
  free(buf);
  /* A trailing NUL is dropped from chunks only. */
  if (chunked && (!size || data[size - 1] != 0) && (crc == 1) != (rc >= 0))
    abort();
  evt_manifest_chunks_drop(r);
  evt_registry_free(r);
  return 0;
}
