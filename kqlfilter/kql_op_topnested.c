/*
 * kql_op_topnested.c - top-nested: hierarchical top-N.
 *
 * Every row lands in one group per level: level l groups by the keys of
 * levels 0..l, and each group aggregates (kql_agg.c) its own rows. At
 * the end of input each level keeps, under each kept parent, the top N
 * groups by their aggregate (all of them when N is not given), and one
 * row per kept path is written: every level's key and aggregate. Rows
 * come out ordered by the aggregates, level by level, ascending, ties in
 * the order of the hierarchy, which is the order the reference shows.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <stdlib.h>
#include <string.h>

struct tn_group {
  struct kql_val *keys; /* levels 0..l */
  uint64_t hash;
  int64_t parent; /* group at level l - 1, or -1 */
  struct kql_aggst *st;
  struct kql_val val; /* the final aggregate */
};

struct tn_level {
  struct tn_group *g;
  uint32_t n, cap;
  uint32_t *tab; /* open addressing: group index + 1 */
  uint32_t tabcap;
};

struct tn_st {
  struct kql_node **keys;
  int *key_slots;
  struct kql_aggspec *aggs;
  int64_t *top;
  bool *desc;
  uint32_t nl;
  struct tn_level *lv;
  struct kql_val *cur;
  struct kql_arena mem;
};

static bool
same_keys(const struct kql_val *a, const struct kql_val *b, uint32_t n)
{
  for (uint32_t i = 0; i < n; i++)
    if (!kql_val_same(&a[i], &b[i])) return false;
  return true;
}

static void
rehash(struct tn_level *lv)
{
  free(lv->tab);
  lv->tabcap = lv->tabcap ? lv->tabcap * 2 : 64;
  lv->tab = kql_xcalloc(lv->tabcap, sizeof *lv->tab);
  for (uint32_t i = 0; i < lv->n; i++) {
    uint32_t j = (uint32_t)lv->g[i].hash & (lv->tabcap - 1);
    while (lv->tab[j])
      j = (j + 1) & (lv->tabcap - 1);
    lv->tab[j] = i + 1;
  }
}

/* The group of level l for keys 0..l, made when new. */
static uint32_t
group_of(struct tn_st *st, uint32_t l, int64_t parent)
{
  struct tn_level *lv = &st->lv[l];
  uint64_t h = 1469598103934665603ULL;
  for (uint32_t i = 0; i <= l; i++)
    h = kql_val_hash(&st->cur[i], h);
  if (lv->tabcap) {
    for (uint32_t j = (uint32_t)h & (lv->tabcap - 1); lv->tab[j];
         j = (j + 1) & (lv->tabcap - 1)) {
      struct tn_group *g = &lv->g[lv->tab[j] - 1];
      if (g->hash == h && same_keys(g->keys, st->cur, l + 1))
        return lv->tab[j] - 1;
    }
  }
  if (lv->n == lv->cap) {
    lv->cap = lv->cap ? lv->cap * 2 : 16;
    lv->g = kql_xrealloc(lv->g, lv->cap * sizeof *lv->g);
  }
  struct tn_group *g = &lv->g[lv->n];
  memset(g, 0, sizeof *g);
  g->hash = h;
  g->parent = parent;
  g->keys = kql_alloc(&st->mem, (l + 1) * sizeof *g->keys);
  for (uint32_t i = 0; i <= l; i++)
    g->keys[i] = kql_val_copy(&st->mem, &st->cur[i]);
  g->st = kql_alloc(&st->mem, kql_agg_state_size());
  kql_agg_init(&st->aggs[l], g->st);
  lv->n++;
  if (lv->n * 2 > lv->tabcap)
    rehash(lv);
  else {
    uint32_t j = (uint32_t)h & (lv->tabcap - 1);
    while (lv->tab[j])
      j = (j + 1) & (lv->tabcap - 1);
    lv->tab[j] = lv->n;
  }
  return lv->n - 1;
}

static void
tn_row(struct kql_op *op, struct kql_row *r)
{
  struct tn_st *st = op->st;
  struct kql_ctx c = {op->q, &op->q->rowmem, r};
  for (uint32_t l = 0; l < st->nl; l++)
    kql_eval(&c, st->keys[l], &st->cur[l]);
  int64_t parent = -1;
  for (uint32_t l = 0; l < st->nl; l++) {
    uint32_t gi = group_of(st, l, parent);
    kql_agg_step(&c, &st->aggs[l], st->lv[l].g[gi].st, &st->mem);
    parent = gi;
  }
}

/* qsort context: the level being ordered. */
static const struct tn_st *sort_st;
static uint32_t sort_level;

static int
cmp_sibling(const void *x, const void *y)
{
  const struct tn_group *g = sort_st->lv[sort_level].g;
  uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
  if (g[a].parent != g[b].parent) return g[a].parent < g[b].parent ? -1 : 1;
  const struct kql_val *va = &g[a].val, *vb = &g[b].val;
  if (va->null != vb->null) return va->null ? 1 : -1; /* nulls last */
  int c = va->null ? 0 : kql_val_sortcmp(va, vb);
  if (c) return sort_st->desc[sort_level] ? -c : c;
  return a < b ? -1 : a > b;
}

/* A leaf path: its group index per level, and its order of making. */
struct tn_leaf {
  uint32_t *path;
  uint32_t seq;
};

static int
cmp_leaf(const void *x, const void *y)
{
  const struct tn_leaf *a = x, *b = y;
  for (uint32_t l = 0; l < sort_st->nl; l++) {
    const struct kql_val *va = &sort_st->lv[l].g[a->path[l]].val;
    const struct kql_val *vb = &sort_st->lv[l].g[b->path[l]].val;
    if (va->null != vb->null) return va->null ? 1 : -1;
    int c = va->null ? 0 : kql_val_sortcmp(va, vb);
    if (c) return c;
  }
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void
tn_end(struct kql_op *op)
{
  struct tn_st *st = op->st;
  struct kql_query *q = op->q;
  struct kql_ctx c = {q, &q->rowmem, NULL};
  struct kql_val *tmp = kql_xcalloc(q->nslots + 1, sizeof *tmp);
  for (uint32_t l = 0; l < st->nl; l++)
    for (uint32_t i = 0; i < st->lv[l].n; i++) {
      struct tn_group *g = &st->lv[l].g[i];
      kql_agg_final(&c, &st->aggs[l], g->st, tmp);
      g->val = kql_val_copy(&st->mem, &tmp[st->aggs[l].slot]);
    }
  free(tmp);
  /* keep[l][i]: group i of level l survives */
  bool **keep = kql_xcalloc(st->nl + 1, sizeof *keep);
  sort_st = st;
  for (uint32_t l = 0; l < st->nl; l++) {
    struct tn_level *lv = &st->lv[l];
    keep[l] = kql_xcalloc(lv->n + 1, 1);
    uint32_t *ix = kql_xcalloc(lv->n + 1, sizeof *ix);
    for (uint32_t i = 0; i < lv->n; i++)
      ix[i] = i;
    sort_level = l;
    qsort(ix, lv->n, sizeof *ix, cmp_sibling);
    int64_t taken = 0, par = -2;
    for (uint32_t i = 0; i < lv->n; i++) {
      struct tn_group *g = &lv->g[ix[i]];
      if (g->parent != par) {
        par = g->parent;
        taken = 0;
      }
      if (l && !keep[l - 1][g->parent]) continue;
      if (st->top[l] >= 0 && taken >= st->top[l]) continue;
      taken++;
      keep[l][ix[i]] = true;
    }
    free(ix);
  }
  /* the kept leaves, in the order of the hierarchy */
  struct tn_level *last = &st->lv[st->nl - 1];
  struct tn_leaf *leaves = kql_xcalloc(last->n + 1, sizeof *leaves);
  uint32_t nleaves = 0;
  for (uint32_t i = 0; i < last->n; i++) {
    if (!keep[st->nl - 1][i]) continue;
    struct tn_leaf *lf = &leaves[nleaves];
    lf->path = kql_alloc(&st->mem, st->nl * sizeof *lf->path);
    lf->seq = nleaves++;
    uint32_t gi = i;
    for (uint32_t l = st->nl; l-- > 0;) {
      lf->path[l] = gi;
      gi = (uint32_t)st->lv[l].g[gi].parent;
    }
  }
  qsort(leaves, nleaves, sizeof *leaves, cmp_leaf);
  struct kql_row row = {NULL, 0, q->slots};
  for (uint32_t i = 0; i < nleaves; i++) {
    for (uint32_t l = 0; l < st->nl; l++) {
      struct tn_group *g = &st->lv[l].g[leaves[i].path[l]];
      q->slots[st->key_slots[l]] = g->keys[l];
      q->slots[st->aggs[l].slot] = g->val;
    }
    kql_push(op, &row);
    kql_arena_reset(&q->rowmem);
  }
  free(leaves);
  for (uint32_t l = 0; l < st->nl; l++)
    free(keep[l]);
  free(keep);
  kql_end(op);
}

static void
tn_free(struct kql_op *op)
{
  struct tn_st *st = op->st;
  for (uint32_t l = 0; l < st->nl; l++) {
    free(st->lv[l].g);
    free(st->lv[l].tab);
  }
  free(st->lv);
  free(st->cur);
  kql_arena_free(&st->mem);
  free(st);
}

static const struct kql_opvt tn_vt = {tn_row, tn_end, tn_free};

struct kql_op *
kql_op_topnested(struct kql_query *q, struct kql_node **keys, int *key_slots,
                 struct kql_aggspec *aggs, int64_t *top, bool *desc,
                 uint32_t nlevels)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct tn_st *st = kql_xcalloc(1, sizeof *st);
  st->keys = keys;
  st->key_slots = key_slots;
  st->aggs = aggs;
  st->top = top;
  st->desc = desc;
  st->nl = nlevels;
  st->lv = kql_xcalloc(nlevels + 1, sizeof *st->lv);
  st->cur = kql_xcalloc(nlevels + 1, sizeof *st->cur);
  kql_arena_init(&st->mem);
  op->vt = &tn_vt;
  op->q = q;
  op->st = st;
  return op;
}
