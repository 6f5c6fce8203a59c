/*
 * kql_op_join.c - join and lookup of the stream against a static table
 * (a datatable or let table), and union with static tables.
 *
 * The right side is hashed by its key columns once. Kinds: inner (every
 * match), innerunique (Kusto's default: the first left row of each key
 * only), leftouter (nulls when nothing matches), leftsemi (left rows
 * that match), leftanti (left rows that do not). lookup is leftouter
 * (or inner) without repeating the key columns. Keys compare like ==,
 * so a null key matches nothing.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <stdlib.h>
#include <string.h>

enum {
  J_INNERUNIQUE,
  J_LEFTOUTER,
  J_INNER,
  J_LEFTANTI,
  J_LEFTSEMI,
  J_RIGHTOUTER,
  J_FULLOUTER,
  J_RIGHTSEMI,
  J_RIGHTANTI
};

struct join_st {
  struct kql_table *t;
  int kind;
  int *lkeys, *rkeys;
  uint32_t nkeys;
  int *rslots;
  bool *matched;    /* right rows that met a left row (right kinds) */
  uint32_t *bucket; /* hash -> first row + 1 */
  uint32_t *chain;  /* next row + 1 with the same bucket */
  uint64_t *hashes;
  uint32_t cap;
  /* innerunique: left keys seen */
  struct kql_val *seen;
  uint64_t *seen_h;
  uint32_t nseen, capseen;
  struct kql_arena mem;
};

static uint64_t
hash_keys(const struct kql_val *const *v, uint32_t n, bool *hasnull)
{
  uint64_t h = 1469598103934665603ULL;
  *hasnull = false;
  for (uint32_t i = 0; i < n; i++) {
    if (v[i]->null) *hasnull = true;
    h = kql_val_hash(v[i], h);
  }
  return h;
}

static bool
keys_match(struct join_st *s, const struct kql_row *r, uint32_t row)
{
  for (uint32_t i = 0; i < s->nkeys; i++) {
    const struct kql_val *a = &r->v[s->lkeys[i]];
    const struct kql_val *b = &s->t->cells[row * s->t->ncols + s->rkeys[i]];
    if (a->null || b->null || !kql_val_same(a, b)) return false;
  }
  return true;
}

static void
fill_right(struct join_st *s, struct kql_row *r, int64_t row)
{
  for (uint32_t c = 0; c < s->t->ncols; c++) {
    if (s->rslots[c] < 0) continue;
    r->v[s->rslots[c]] = row >= 0 ? s->t->cells[row * s->t->ncols + c]
                                  : kql_v_null(s->t->types[c]);
  }
}

static void
join_row(struct kql_op *op, struct kql_row *r)
{
  struct join_st *s = op->st;
  const struct kql_val *kv[64];
  for (uint32_t i = 0; i < s->nkeys && i < 64; i++)
    kv[i] = &r->v[s->lkeys[i]];
  bool hasnull;
  uint64_t h = hash_keys(kv, s->nkeys, &hasnull);
  if (s->kind == J_INNERUNIQUE) {
    for (uint32_t i = 0; i < s->nseen; i++) {
      if (s->seen_h[i] != h) continue;
      bool same = true;
      for (uint32_t k = 0; k < s->nkeys && same; k++)
        same = kql_val_same(&s->seen[i * s->nkeys + k], kv[k]);
      if (same) return;
    }
    if (s->nseen == s->capseen) {
      s->capseen = s->capseen ? s->capseen * 2 : 64;
      s->seen = kql_xrealloc(
          s->seen, (size_t)s->capseen * s->nkeys * sizeof *s->seen + 1);
      s->seen_h = kql_xrealloc(s->seen_h, s->capseen * sizeof *s->seen_h);
    }
    for (uint32_t k = 0; k < s->nkeys; k++)
      s->seen[s->nseen * s->nkeys + k] = kql_val_copy(&s->mem, kv[k]);
    s->seen_h[s->nseen++] = h;
  }
  bool matched = false;
  if (!hasnull && s->cap) {
    for (uint32_t e = s->bucket[h & (s->cap - 1)]; e; e = s->chain[e - 1]) {
      uint32_t row = e - 1;
      if (s->hashes[row] != h || !keys_match(s, r, row)) continue;
      matched = true;
      s->matched[row] = true;
      if (s->kind == J_LEFTSEMI || s->kind == J_LEFTANTI ||
          s->kind == J_RIGHTSEMI || s->kind == J_RIGHTANTI)
        break;
      fill_right(s, r, row);
      kql_push(op, r);
      if (op->q->done) return;
    }
  }
  if (s->kind == J_RIGHTSEMI || s->kind == J_RIGHTANTI) {
    /* every matching right row counts, not just the first */
    if (!hasnull && s->cap)
      for (uint32_t e = s->bucket[h & (s->cap - 1)]; e; e = s->chain[e - 1])
        if (s->hashes[e - 1] == h && keys_match(s, r, e - 1))
          s->matched[e - 1] = true;
    return;
  }
  if (s->kind == J_LEFTSEMI && matched)
    kql_push(op, r);
  else if (s->kind == J_LEFTANTI && !matched)
    kql_push(op, r);
  else if ((s->kind == J_LEFTOUTER || s->kind == J_FULLOUTER) && !matched) {
    fill_right(s, r, -1);
    kql_push(op, r);
  }
}

/* At end of input the right kinds write the right rows they keep, with
 * the left columns null. */
static void
join_end(struct kql_op *op)
{
  struct join_st *s = op->st;
  struct kql_query *q = op->q;
  if (s->kind >= J_RIGHTOUTER) {
    struct kql_val *v = kql_xcalloc(q->nslots + 1, sizeof *v);
    for (uint32_t row = 0; row < s->t->nrows && !q->done; row++) {
      bool want = s->kind == J_RIGHTSEMI ? s->matched[row] : !s->matched[row];
      if (!want) continue;
      for (uint32_t i = 0; i < q->nslots; i++)
        v[i] = kql_v_null(KQL_T_DYNAMIC);
      struct kql_row r = {NULL, 0, v};
      fill_right(s, &r, row);
      kql_push(op, &r);
      kql_arena_reset(&q->rowmem);
    }
    free(v);
  }
  kql_end(op);
}

static void
join_free(struct kql_op *op)
{
  struct join_st *s = op->st;
  free(s->matched);
  free(s->bucket);
  free(s->chain);
  free(s->hashes);
  free(s->seen);
  free(s->seen_h);
  kql_arena_free(&s->mem);
  free(s);
}

static const struct kql_opvt join_vt = {join_row, join_end, join_free};

struct kql_op *
kql_op_join(struct kql_query *q, struct kql_table *right, int jkind, int *lkeys,
            int *rkeys, uint32_t nkeys, int *rslots, bool lookup)
{
  (void)lookup;
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct join_st *s = kql_xcalloc(1, sizeof *s);
  s->t = right;
  s->kind = jkind;
  s->lkeys = lkeys;
  s->rkeys = rkeys;
  s->nkeys = nkeys;
  s->rslots = rslots;
  kql_arena_init(&s->mem);
  uint32_t cap = 16;
  while (cap < right->nrows * 2)
    cap *= 2;
  s->cap = cap;
  s->bucket = kql_xcalloc(cap, sizeof *s->bucket);
  s->matched = kql_xcalloc(right->nrows + 1, sizeof *s->matched);
  s->chain = kql_xcalloc(right->nrows + 1, sizeof *s->chain);
  s->hashes = kql_xcalloc(right->nrows + 1, sizeof *s->hashes);
  /* Insert in reverse so each chain lists rows in table order. */
  for (uint32_t r = right->nrows; r-- > 0;) {
    const struct kql_val *kv[64];
    for (uint32_t i = 0; i < nkeys && i < 64; i++)
      kv[i] = &right->cells[r * right->ncols + rkeys[i]];
    bool hasnull;
    uint64_t h = hash_keys(kv, nkeys, &hasnull);
    s->hashes[r] = h;
    if (hasnull) continue;
    s->chain[r] = s->bucket[h & (cap - 1)];
    s->bucket[h & (cap - 1)] = r + 1;
  }
  op->vt = &join_vt;
  op->q = q;
  op->st = s;
  return op;
}

/* ---------------------------------------------------------------- union */

struct union_st {
  struct kql_table **tabs;
  int **maps;
  uint32_t n;
};

static void
union_row(struct kql_op *op, struct kql_row *r)
{
  kql_push(op, r);
}

static void
union_end(struct kql_op *op)
{
  struct union_st *s = op->st;
  struct kql_query *q = op->q;
  struct kql_val *v = kql_xcalloc(q->nslots + 1, sizeof *v);
  for (uint32_t t = 0; t < s->n && !q->done; t++) {
    struct kql_table *tb = s->tabs[t];
    for (uint32_t r = 0; r < tb->nrows && !q->done; r++) {
      for (uint32_t i = 0; i < q->nslots; i++)
        v[i] = kql_v_null(KQL_T_DYNAMIC);
      for (uint32_t c = 0; c < tb->ncols; c++)
        v[s->maps[t][c]] = tb->cells[r * tb->ncols + c];
      struct kql_row row = {NULL, 0, v};
      kql_push(op, &row);
      kql_arena_reset(&q->rowmem);
    }
  }
  free(v);
  kql_end(op);
}

static void
union_free(struct kql_op *op)
{
  free(op->st);
}

static const struct kql_opvt union_vt = {union_row, union_end, union_free};

struct kql_op *
kql_op_union(struct kql_query *q, struct kql_table **tabs, int **slotmaps,
             uint32_t n)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct union_st *s = kql_xcalloc(1, sizeof *s);
  s->tabs = tabs;
  s->maps = slotmaps;
  s->n = n;
  op->vt = &union_vt;
  op->q = q;
  op->st = s;
  return op;
}
