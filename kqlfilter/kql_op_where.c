/*
 * kql_op_where.c - where/filter: pass rows whose predicate is true.
 *
 * A null predicate drops the row, as in Kusto. The row is passed on
 * untouched, so a row that only went through where is written from its
 * original bytes.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

static void
where_row(struct kql_op *op, struct kql_row *r)
{
  struct kql_ctx c = {op->q, &op->q->rowmem, r};
  if (kql_eval_bool(&c, op->st)) kql_push(op, r);
}

static void
where_end(struct kql_op *op)
{
  kql_end(op);
}

static const struct kql_opvt where_vt = {where_row, where_end, NULL};

struct kql_op *
kql_op_where(struct kql_query *q, struct kql_node *pred)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  op->vt = &where_vt;
  op->q = q;
  op->st = pred;
  return op;
}
