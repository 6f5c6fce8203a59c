/*
 * kql_op_partition.c - partition by Column: the subquery once per
 * distinct value of the column.
 *
 * The rows are kept until the end of input, grouped by the column's
 * value (first-seen order); then each group becomes a table the
 * subquery runs over (kql_run_partition: as its source, or, in the
 * { query } form, as the table named like the column), and the rows it
 * gives go on.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <stdlib.h>
#include <string.h>

struct part_group {
  struct kql_val key;
  uint32_t *rows; /* row indexes into the input table */
  uint32_t n, cap;
};

struct part_st {
  struct kql_partition_spec s;
  uint32_t cap;
  struct part_group *g;
  uint32_t ng, capg;
};

static void
part_row(struct kql_op *op, struct kql_row *r)
{
  struct part_st *st = op->st;
  struct kql_table *t = st->s.in;
  if (t->nrows == st->cap) {
    uint32_t cap = st->cap ? st->cap * 2 : 64;
    struct kql_val *cells =
        kql_alloc(&t->mem, ((size_t)cap * t->ncols + 1) * sizeof *cells);
    if (t->nrows)
      memcpy(cells, t->cells, (size_t)t->nrows * t->ncols * sizeof *cells);
    t->cells = cells;
    st->cap = cap;
  }
  struct kql_val *row = &t->cells[(size_t)t->nrows * t->ncols];
  for (uint32_t c = 0; c < t->ncols; c++)
    row[c] = kql_val_copy(&t->mem, &r->v[st->s.in_slots[c]]);
  const struct kql_val *key = &r->v[st->s.key_slot];
  struct part_group *g = NULL;
  for (uint32_t i = st->ng; i-- > 0 && !g;)
    if (kql_val_same(&st->g[i].key, key)) g = &st->g[i];
  if (!g) {
    if (st->ng == st->capg) {
      st->capg = st->capg ? st->capg * 2 : 16;
      st->g = kql_xrealloc(st->g, st->capg * sizeof *st->g);
    }
    g = &st->g[st->ng++];
    memset(g, 0, sizeof *g);
    g->key = kql_val_copy(&t->mem, key);
  }
  if (g->n == g->cap) {
    g->cap = g->cap ? g->cap * 2 : 16;
    g->rows = kql_xrealloc(g->rows, g->cap * sizeof *g->rows);
  }
  g->rows[g->n++] = t->nrows++;
}

static void
part_end(struct kql_op *op)
{
  struct part_st *st = op->st;
  struct kql_query *q = op->q;
  struct kql_table *in = st->s.in;
  struct kql_table grp = *in;
  struct kql_row row = {NULL, 0, q->slots};
  for (uint32_t i = 0; i < st->ng; i++) {
    struct part_group *g = &st->g[i];
    grp.nrows = g->n;
    grp.cells = kql_xcalloc((size_t)g->n * in->ncols + 1, sizeof *grp.cells);
    for (uint32_t k = 0; k < g->n; k++)
      memcpy(&grp.cells[(size_t)k * in->ncols],
             &in->cells[(size_t)g->rows[k] * in->ncols],
             in->ncols * sizeof *grp.cells);
    memset(&grp.mem, 0, sizeof grp.mem);
    struct kql_table *res = kql_run_partition(q->run, &st->s, &grp);
    free(grp.cells);
    if (!res) continue;
    for (uint32_t k = 0; k < res->nrows; k++) {
      for (uint32_t j = 0; j < res->ncols && j < st->s.nres; j++)
        q->slots[st->s.res_slots[j]] = res->cells[(size_t)k * res->ncols + j];
      kql_push(op, &row);
      kql_arena_reset(&q->rowmem);
    }
    kql_table_free(res);
  }
  kql_end(op);
}

static void
part_free(struct kql_op *op)
{
  struct part_st *st = op->st;
  for (uint32_t i = 0; i < st->ng; i++)
    free(st->g[i].rows);
  free(st->g);
  kql_arena_free(&st->s.in->mem);
  free(st);
}

static const struct kql_opvt part_vt = {part_row, part_end, part_free};

struct kql_op *
kql_op_partition(struct kql_query *q, const struct kql_partition_spec *spec)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct part_st *st = kql_xcalloc(1, sizeof *st);
  st->s = *spec;
  st->s.in->nrows = 0;
  st->s.in->cells = NULL;
  kql_arena_init(&st->s.in->mem);
  op->vt = &part_vt;
  op->q = q;
  op->st = st;
  return op;
}
