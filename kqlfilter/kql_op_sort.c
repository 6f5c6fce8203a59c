/*
 * kql_op_sort.c - sort/order by and top N by: buffer rows, emit them in
 * order at end of input.
 *
 * Rows are stored as deep copies (raw line and slots) with their sort
 * keys evaluated once. Order: desc by default; nulls first when
 * ascending and last when descending, unless "nulls first|last" says
 * otherwise; ties keep arrival order. top keeps memory bounded by
 * pruning to the best N whenever the buffer reaches 2N + 1024 rows.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <stdlib.h>
#include <string.h>

struct srow {
  struct kql_row *row;
  struct kql_val *keys;
  uint64_t seq;
};

struct sort_st {
  struct kql_sortkey *keys;
  uint32_t nkeys;
  int64_t limit;
  struct srow *rows;
  size_t n, cap;
  uint64_t seq;
  struct kql_arena mem;
};

struct kql_row *
kql_row_store(struct kql_query *q, struct kql_arena *a, const struct kql_row *r)
{
  struct kql_row *c = kql_alloc(a, sizeof *c);
  c->raw = r->raw ? kql_memdup(a, r->raw, r->rawn) : NULL;
  c->rawn = r->rawn;
  c->v = kql_alloc(a, (q->nslots + 1) * sizeof *c->v);
  for (uint32_t i = 0; i < q->nslots; i++) {
    const struct kql_val *v = &r->v[i];
    /* Strings pointing into the raw line move with it. */
    if (!v->null && r->raw && c->raw &&
        (v->t == KQL_T_STRING || v->t == KQL_T_GUID || v->lazy) &&
        v->u.s >= r->raw && v->u.s + v->n <= r->raw + r->rawn) {
      c->v[i] = *v;
      c->v[i].u.s = c->raw + (v->u.s - r->raw);
      continue;
    }
    c->v[i] = kql_val_copy(a, v);
  }
  return c;
}

static int
cmp_rows(const struct sort_st *s, const struct srow *x, const struct srow *y)
{
  for (uint32_t i = 0; i < s->nkeys; i++) {
    const struct kql_val *a = &x->keys[i], *b = &y->keys[i];
    if (a->null || b->null) {
      if (a->null && b->null) continue;
      bool anull_first = s->keys[i].nulls_first;
      return a->null ? (anull_first ? -1 : 1) : (anull_first ? 1 : -1);
    }
    int c = kql_val_sortcmp(a, b);
    if (c) return s->keys[i].desc ? -c : c;
  }
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const struct sort_st *cmp_ctx;

static int
qcmp(const void *a, const void *b)
{
  return cmp_rows(cmp_ctx, a, b);
}

static void
sort_rows(struct sort_st *s)
{
  cmp_ctx = s;
  if (s->n > 1) qsort(s->rows, s->n, sizeof *s->rows, qcmp);
}

/* Keep the best limit rows, in a fresh arena. */
static void
prune(struct kql_query *q, struct sort_st *s)
{
  sort_rows(s);
  if ((int64_t)s->n <= s->limit) return;
  struct kql_arena fresh;
  kql_arena_init(&fresh);
  for (int64_t i = 0; i < s->limit; i++) {
    struct srow *r = &s->rows[i];
    r->row = kql_row_store(q, &fresh, r->row);
    struct kql_val *k = kql_alloc(&fresh, (s->nkeys + 1) * sizeof *k);
    for (uint32_t j = 0; j < s->nkeys; j++)
      k[j] = kql_val_copy(&fresh, &r->keys[j]);
    r->keys = k;
  }
  s->n = (size_t)s->limit;
  kql_arena_free(&s->mem);
  s->mem = fresh;
}

static void
sort_row(struct kql_op *op, struct kql_row *r)
{
  struct sort_st *s = op->st;
  struct kql_query *q = op->q;
  if (s->limit == 0) return;
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 256;
    s->rows = kql_xrealloc(s->rows, s->cap * sizeof *s->rows);
  }
  struct kql_ctx c = {q, &q->rowmem, r};
  struct srow *sr = &s->rows[s->n++];
  sr->seq = s->seq++;
  sr->keys = kql_alloc(&s->mem, (s->nkeys + 1) * sizeof *sr->keys);
  for (uint32_t i = 0; i < s->nkeys; i++) {
    struct kql_val v;
    kql_eval(&c, s->keys[i].e, &v);
    sr->keys[i] = kql_val_copy(&s->mem, &v);
  }
  sr->row = kql_row_store(q, &s->mem, r);
  if (s->limit > 0 && s->n >= (size_t)s->limit * 2 + 1024) prune(q, s);
}

static void
sort_end(struct kql_op *op)
{
  struct sort_st *s = op->st;
  sort_rows(s);
  size_t n = s->limit >= 0 && (size_t)s->limit < s->n ? (size_t)s->limit : s->n;
  for (size_t i = 0; i < n; i++) {
    kql_push(op, s->rows[i].row);
    kql_arena_reset(&op->q->rowmem);
  }
  kql_end(op);
}

static void
sort_free(struct kql_op *op)
{
  struct sort_st *s = op->st;
  free(s->rows);
  kql_arena_free(&s->mem);
  free(s);
}

static const struct kql_opvt sort_vt = {sort_row, sort_end, sort_free};

struct kql_op *
kql_op_sort(struct kql_query *q, struct kql_sortkey *keys, uint32_t nkeys,
            int64_t limit)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct sort_st *s = kql_xcalloc(1, sizeof *s);
  s->keys = keys;
  s->nkeys = nkeys;
  s->limit = limit;
  kql_arena_init(&s->mem);
  op->vt = &sort_vt;
  op->q = q;
  op->st = s;
  return op;
}
