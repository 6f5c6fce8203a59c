/*
 * kql_op_summarize.c - summarize (and count): group rows, aggregate.
 *
 * Groups live in a hash table keyed by the by-values (nulls group
 * together), in first-seen order. Batch mode emits every group at end
 * of input; with no by-columns an empty input still gives one row.
 * Windowed mode - a by-column bin(T, span) - emits a window's groups as
 * soon as a row arrives whose bin is at or after the window's end (plus
 * --lateness), so results appear while a live stream runs; each group
 * then has its own small arena, freed when it is emitted, and memory
 * is bounded by the live groups. --window-end reports the window's end
 * (the original tool's time) instead of Kusto's bin start.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <stdlib.h>
#include <string.h>

struct group {
  uint64_t hash;
  struct group *next;    /* insertion order */
  struct kql_val *keys;  /* nby */
  struct kql_aggst *st;  /* naggs, contiguous */
  struct kql_arena *mem; /* own arena in windowed mode */
  bool dead;
};

struct sum_st {
  struct kql_node **by;
  int *by_slots;
  uint32_t nby;
  struct kql_aggspec *aggs;
  uint32_t naggs;
  int win;
  int64_t win_size;
  int64_t max_bin;
  bool have_bin;
  struct group **tab;
  uint32_t cap, count;
  struct group *first, *last;
  struct kql_arena mem;
  struct kql_val *keys;
  struct kql_val *out;
  bool any;
  int count_slot; /* count operator */
  int64_t counted;
};

static struct kql_aggst *
agg_at(struct sum_st *s, struct group *g, uint32_t i)
{
  (void)s;
  return (struct kql_aggst *)((char *)g->st + i * kql_agg_state_size());
}

static void
rehash(struct sum_st *s)
{
  uint32_t cap = s->cap ? s->cap * 2 : 64;
  struct group **tab = kql_xcalloc(cap, sizeof *tab);
  for (struct group *g = s->first; g; g = g->next) {
    if (g->dead) continue;
    uint32_t k = (uint32_t)g->hash & (cap - 1);
    while (tab[k])
      k = (k + 1) & (cap - 1);
    tab[k] = g;
  }
  free(s->tab);
  s->tab = tab;
  s->cap = cap;
}

static struct group *
lookup(struct kql_op *op, struct sum_st *s, uint64_t h)
{
  if ((s->count + 1) * 2 > s->cap) rehash(s);
  uint32_t k = (uint32_t)h & (s->cap - 1);
  while (s->tab[k]) {
    struct group *g = s->tab[k];
    if (g->hash == h) {
      bool same = true;
      for (uint32_t i = 0; i < s->nby && same; i++)
        same = kql_val_same(&g->keys[i], &s->keys[i]);
      if (same) return g;
    }
    k = (k + 1) & (s->cap - 1);
  }
  struct kql_arena *mem = &s->mem;
  if (s->win >= 0) {
    mem = kql_xmalloc(sizeof *mem);
    kql_arena_init_small(mem, 1024);
  }
  struct group *g = kql_zalloc(mem, sizeof *g);
  g->mem = s->win >= 0 ? mem : NULL;
  g->hash = h;
  g->keys = kql_alloc(mem, (s->nby + 1) * sizeof *g->keys);
  for (uint32_t i = 0; i < s->nby; i++)
    g->keys[i] = kql_val_copy(mem, &s->keys[i]);
  g->st = kql_alloc(mem, (s->naggs + 1) * kql_agg_state_size());
  for (uint32_t i = 0; i < s->naggs; i++)
    kql_agg_init(&s->aggs[i], agg_at(s, g, i));
  s->tab[k] = g;
  s->count++;
  if (s->last)
    s->last->next = g;
  else
    s->first = g;
  s->last = g;
  (void)op;
  return g;
}

static void
emit(struct kql_op *op, struct sum_st *s, struct group *g)
{
  struct kql_query *q = op->q;
  if (!s->out) s->out = kql_xcalloc(q->nslots + 1, sizeof *s->out);
  struct kql_row r = {NULL, 0, s->out};
  for (uint32_t i = 0; i < q->nslots; i++)
    s->out[i] = kql_v_null(KQL_T_DYNAMIC);
  struct kql_ctx c = {q, &q->rowmem, &r};
  for (uint32_t i = 0; i < s->nby; i++) {
    struct kql_val k = g ? g->keys[i] : kql_v_null(KQL_T_DYNAMIC);
    if ((int)i == s->win && q->run->window_end && !k.null &&
        k.t == KQL_T_DATETIME)
      k.u.i += s->win_size;
    s->out[s->by_slots[i]] = k;
  }
  for (uint32_t i = 0; i < s->naggs; i++) {
    if (g) {
      kql_agg_final(&c, &s->aggs[i], agg_at(s, g, i), s->out);
    } else {
      /* summarize without by on empty input: one row of defaults */
      struct kql_aggst *st = kql_alloc(&q->rowmem, kql_agg_state_size());
      kql_agg_init(&s->aggs[i], st);
      kql_agg_final(&c, &s->aggs[i], st, s->out);
    }
  }
  kql_push(op, &r);
}

/* Emit (and forget) the windows that end at or before limit. */
static void
flush_windows(struct kql_op *op, struct sum_st *s, int64_t limit)
{
  bool removed = false;
  for (struct group *g = s->first; g; g = g->next) {
    struct kql_val *k = &g->keys[s->win];
    if (g->dead || k->null || k->t != KQL_T_DATETIME ||
        k->u.i + s->win_size > limit)
      continue;
    emit(op, s, g);
    g->dead = true;
    removed = true;
  }
  if (!removed) return;
  /* Unlink and free the emitted groups, then rebuild the table. */
  struct group **pp = &s->first;
  s->last = NULL;
  s->count = 0;
  while (*pp) {
    struct group *g = *pp;
    if (g->dead) {
      *pp = g->next;
      struct kql_arena *m = g->mem;
      kql_arena_free(m);
      free(m);
    } else {
      s->last = g;
      s->count++;
      pp = &g->next;
    }
  }
  free(s->tab);
  s->tab = NULL;
  s->cap = 0;
  rehash(s);
}

static void
sum_row(struct kql_op *op, struct kql_row *r)
{
  struct sum_st *s = op->st;
  struct kql_ctx c = {op->q, &op->q->rowmem, r};
  s->any = true;
  uint64_t h = 1469598103934665603ULL;
  for (uint32_t i = 0; i < s->nby; i++) {
    kql_eval(&c, s->by[i], &s->keys[i]);
    if (s->keys[i].lazy) kql_dyn_force(c.a, &s->keys[i]);
    h = kql_val_hash(&s->keys[i], h);
  }
  if (s->win >= 0) {
    struct kql_val *k = &s->keys[s->win];
    if (!k->null && k->t == KQL_T_DATETIME &&
        (!s->have_bin || k->u.i > s->max_bin)) {
      bool first = !s->have_bin;
      s->max_bin = k->u.i;
      s->have_bin = true;
      if (!first) flush_windows(op, s, s->max_bin - op->q->run->lateness);
    }
  }
  struct group *g = lookup(op, s, h);
  struct kql_arena *keep = g->mem ? g->mem : &s->mem;
  for (uint32_t i = 0; i < s->naggs; i++)
    kql_agg_step(&c, &s->aggs[i], agg_at(s, g, i), keep);
}

static void
sum_end(struct kql_op *op)
{
  struct sum_st *s = op->st;
  for (struct group *g = s->first; g; g = g->next) {
    if (g->dead) continue;
    emit(op, s, g);
    kql_arena_reset(&op->q->rowmem);
  }
  if (!s->nby && !s->first) emit(op, s, NULL);
  kql_end(op);
}

static void
sum_free(struct kql_op *op)
{
  struct sum_st *s = op->st;
  struct group *g = s->first;
  while (g) {
    struct group *n = g->next;
    if (g->mem) {
      struct kql_arena *m = g->mem;
      kql_arena_free(m);
      free(m);
    }
    g = n;
  }
  free(s->tab);
  free(s->keys);
  free(s->out);
  kql_arena_free(&s->mem);
  free(s);
}

static const struct kql_opvt sum_vt = {sum_row, sum_end, sum_free};

struct kql_op *
kql_op_summarize(struct kql_query *q, struct kql_node **by, int *by_slots,
                 uint32_t nby, struct kql_aggspec *aggs, uint32_t naggs,
                 int win_key, int64_t win_size)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct sum_st *s = kql_xcalloc(1, sizeof *s);
  s->by = by;
  s->by_slots = by_slots;
  s->nby = nby;
  s->aggs = aggs;
  s->naggs = naggs;
  s->win = win_key;
  s->win_size = win_size;
  kql_arena_init(&s->mem);
  s->keys = kql_xcalloc(nby + 1, sizeof *s->keys);
  s->out = NULL;
  op->vt = &sum_vt;
  op->q = q;
  op->st = s;
  return op;
}

/* ---------------------------------------------------------------- count */

static void
count_row(struct kql_op *op, struct kql_row *r)
{
  (void)r;
  struct sum_st *s = op->st;
  s->counted++;
}

static void
count_end(struct kql_op *op)
{
  struct sum_st *s = op->st;
  struct kql_query *q = op->q;
  struct kql_val *out = kql_xcalloc(q->nslots + 1, sizeof *out);
  for (uint32_t i = 0; i < q->nslots; i++)
    out[i] = kql_v_null(KQL_T_DYNAMIC);
  out[s->count_slot] = kql_v_long(s->counted);
  struct kql_row r = {NULL, 0, out};
  kql_push(op, &r);
  free(out);
  kql_end(op);
}

static void
count_free(struct kql_op *op)
{
  free(op->st);
}

static const struct kql_opvt count_vt = {count_row, count_end, count_free};

struct kql_op *
kql_op_count(struct kql_query *q, int slot)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct sum_st *s = kql_xcalloc(1, sizeof *s);
  s->count_slot = slot;
  op->vt = &count_vt;
  op->q = q;
  op->st = s;
  return op;
}
