/*
 * fuzz_tlg.c - libFuzzer target for the TraceLogging metadata compiler.
 *
 * Input: one byte L, then L bytes of provider traits (item 12), then the
 * event metadata (item 11, at most 65535 bytes). Each input gets a fresh
 * registry, freed at the end, so nothing leaks between runs. The schema
 * is asked for twice: the second call must hit the cache and return the
 * same pointer. A compiled schema must keep the layout the decoder relies
 * on (evt_tlg.h); anything else aborts. The compiler is etwcat/evt_tlg.c;
 * seeds: tests/fuzz/corpus/tlg/.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "etwcat/evt_registry.h"
#include "etwcat/evt_tlg.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_layout(const struct evt_schema *s)
{
  if (s->ntop > s->nfields || !s->event_name) abort();
  for (uint32_t i = 0; i < s->nfields; i++) {
    const struct evt_field *f = &s->fields[i];
    if (!f->name) abort();
    if (!(f->flags & EVT_F_STRUCT) || f->nmembers == 0) continue;
    if (f->first <= i || f->first < s->ntop ||
        (uint32_t)f->first + f->nmembers > s->nfields)
      abort();
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1) return 0;
  size_t tn = data[0];
  if (tn > size - 1) tn = size - 1;
  size_t mn = size - 1 - tn;
  if (mn > UINT16_MAX) return 0;

  /* Copies of exact size, so the sanitizers see any overrun. */
  uint8_t *traits = malloc(tn ? tn : 1);
  uint8_t *meta = malloc(mn ? mn : 1);
  struct evt_registry *r = evt_registry_new();
  if (!traits || !meta || !r) abort();
  memcpy(traits, data + 1, tn);
  memcpy(meta, data + 1 + tn, mn);

  struct etl_event ev;
  char err[128];
  memset(&ev, 0, sizeof ev);
  memset(ev.provider, 0x5A, sizeof ev.provider);
  ev.tl_meta = mn ? meta : NULL;
  ev.tl_meta_len = (uint16_t)mn;
  ev.tl_traits = tn ? traits : NULL;
  ev.tl_traits_len = (uint16_t)tn;
  const struct evt_schema *s = evt_tlg_schema(r, &ev, err, sizeof err);
  if (s) {
    check_layout(s);
    if (evt_tlg_schema(r, &ev, err, sizeof err) != s) abort();
  } else if (!err[0]) {
    abort(); /* a failure always says why */
  }
  evt_registry_free(r);
  free(meta);
  free(traits);
  return 0;
}
