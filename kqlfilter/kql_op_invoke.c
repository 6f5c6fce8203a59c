/*
 * kql_op_invoke.c - invoke F(args): the input, as a whole table, is F's
 * first (tabular) parameter.
 *
 * F may read its input several times (toscalar(T | ...) and T | ...),
 * so the rows are kept until the end of input, then F is bound and run
 * over them (kql_run_tabfn) and its rows go on.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <stdlib.h>
#include <string.h>

struct inv_st {
  struct kql_invoke_spec s;
  uint32_t cap;
};

static void
inv_row(struct kql_op *op, struct kql_row *r)
{
  struct inv_st *st = op->st;
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
  t->nrows++;
}

static void
inv_end(struct kql_op *op)
{
  struct inv_st *st = op->st;
  struct kql_query *q = op->q;
  struct kql_table *res = kql_run_tabfn(q->run, st->s.fn, st->s.call, st->s.in);
  if (res) {
    struct kql_row row = {NULL, 0, q->slots};
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
inv_free(struct kql_op *op)
{
  struct inv_st *st = op->st;
  kql_arena_free(&st->s.in->mem);
  free(st);
}

static const struct kql_opvt inv_vt = {inv_row, inv_end, inv_free};

struct kql_op *
kql_op_invoke(struct kql_query *q, const struct kql_invoke_spec *spec)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct inv_st *st = kql_xcalloc(1, sizeof *st);
  st->s = *spec;
  st->s.in->nrows = 0;
  st->s.in->cells = NULL;
  kql_arena_init(&st->s.in->mem);
  op->vt = &inv_vt;
  op->q = q;
  op->st = st;
  return op;
}
