/*
 * kql_op_take.c - take/limit: pass the first N rows, then tell the
 * query it is done so that the reader stops reading input.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <stdlib.h>

struct take_st {
  int64_t n, seen;
};

static void
take_row(struct kql_op *op, struct kql_row *r)
{
  struct take_st *st = op->st;
  if (st->seen >= st->n) return;
  st->seen++;
  kql_push(op, r);
  if (st->seen >= st->n) op->q->done = true;
}

static void
take_end(struct kql_op *op)
{
  kql_end(op);
}

static void
take_free(struct kql_op *op)
{
  free(op->st);
}

static const struct kql_opvt take_vt = {take_row, take_end, take_free};

struct kql_op *
kql_op_take(struct kql_query *q, int64_t n)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct take_st *st = kql_xcalloc(1, sizeof *st);
  st->n = n;
  op->vt = &take_vt;
  op->q = q;
  op->st = st;
  if (n == 0) q->done = true;
  return op;
}
