/*
 * kql_op_distinct.c - distinct: pass the first row of each distinct
 * combination of columns at once (the set of rows is Kusto's; emitting
 * early keeps a live stream moving). distinct * on the input's own
 * columns compares the raw line.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <stdlib.h>
#include <string.h>

struct seen {
  uint64_t h;
  struct kql_val *keys;
  const char *raw;
  uint32_t rawn;
};

struct dist_st {
  int *slots;
  uint32_t n;
  bool raw;
  struct seen *tab;
  uint32_t cap, count;
  struct kql_arena mem;
};

static bool
same(struct dist_st *s, const struct seen *e, const struct kql_row *r)
{
  for (uint32_t i = 0; i < s->n; i++)
    if (!kql_val_same(&e->keys[i], &r->v[s->slots[i]])) return false;
  if (s->raw)
    return e->rawn == r->rawn && (!r->rawn || !memcmp(e->raw, r->raw, r->rawn));
  return true;
}

static void
grow(struct dist_st *s)
{
  uint32_t cap = s->cap ? s->cap * 2 : 64;
  struct seen *tab = kql_xcalloc(cap, sizeof *tab);
  for (uint32_t i = 0; i < s->cap; i++) {
    if (!s->tab[i].keys) continue;
    uint32_t k = (uint32_t)s->tab[i].h & (cap - 1);
    while (tab[k].keys)
      k = (k + 1) & (cap - 1);
    tab[k] = s->tab[i];
  }
  free(s->tab);
  s->tab = tab;
  s->cap = cap;
}

static void
dist_row(struct kql_op *op, struct kql_row *r)
{
  struct dist_st *s = op->st;
  uint64_t h = 1469598103934665603ULL;
  for (uint32_t i = 0; i < s->n; i++)
    h = kql_val_hash(&r->v[s->slots[i]], h);
  if (s->raw) {
    struct kql_val rv = kql_v_str(r->raw ? r->raw : "", r->rawn);
    h = kql_val_hash(&rv, h);
  }
  if ((s->count + 1) * 2 > s->cap) grow(s);
  uint32_t k = (uint32_t)h & (s->cap - 1);
  while (s->tab[k].keys) {
    if (s->tab[k].h == h && same(s, &s->tab[k], r)) return;
    k = (k + 1) & (s->cap - 1);
  }
  struct seen *e = &s->tab[k];
  e->h = h;
  e->keys = kql_alloc(&s->mem, (s->n + 1) * sizeof *e->keys);
  for (uint32_t i = 0; i < s->n; i++)
    e->keys[i] = kql_val_copy(&s->mem, &r->v[s->slots[i]]);
  if (s->raw && r->raw) {
    e->raw = kql_memdup(&s->mem, r->raw, r->rawn);
    e->rawn = r->rawn;
  }
  s->count++;
  kql_push(op, r);
}

static void
dist_end(struct kql_op *op)
{
  kql_end(op);
}

static void
dist_free(struct kql_op *op)
{
  struct dist_st *s = op->st;
  free(s->tab);
  kql_arena_free(&s->mem);
  free(s);
}

static const struct kql_opvt dist_vt = {dist_row, dist_end, dist_free};

struct kql_op *
kql_op_distinct(struct kql_query *q, int *slots, uint32_t n, bool all)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct dist_st *s = kql_xcalloc(1, sizeof *s);
  s->slots = slots;
  s->n = n;
  s->raw = all;
  kql_arena_init(&s->mem);
  op->vt = &dist_vt;
  op->q = q;
  op->st = s;
  return op;
}
