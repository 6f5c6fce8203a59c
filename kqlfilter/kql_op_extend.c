/*
 * kql_op_extend.c - extend (and the computed columns of project): set
 * slots from expressions, in order, so that a later expression sees an
 * earlier one of the same operator.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <stdlib.h>

struct extend_st {
  struct kql_node **e;
  int *slots;
  uint32_t n;
  struct kql_val *tmp;
};

static void
extend_row(struct kql_op *op, struct kql_row *r)
{
  struct extend_st *st = op->st;
  struct kql_ctx c = {op->q, &op->q->rowmem, r};
  /* In order: a later expression sees an earlier column. Every target
   * is a fresh slot, so project's B = A, A = B still reads the old A. */
  for (uint32_t i = 0; i < st->n; i++)
    kql_eval(&c, st->e[i], &r->v[st->slots[i]]);
  kql_push(op, r);
}

static void
extend_end(struct kql_op *op)
{
  kql_end(op);
}

static void
extend_free(struct kql_op *op)
{
  struct extend_st *st = op->st;
  free(st->tmp);
  free(st);
}

static const struct kql_opvt extend_vt = {extend_row, extend_end, extend_free};

struct kql_op *
kql_op_extend(struct kql_query *q, struct kql_node **e, int *slots, uint32_t n)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct extend_st *st = kql_xcalloc(1, sizeof *st);
  st->e = e;
  st->slots = slots;
  st->n = n;
  st->tmp = kql_xcalloc(n + 1, sizeof *st->tmp);
  op->vt = &extend_vt;
  op->q = q;
  op->st = st;
  return op;
}
