/*
 * kql_op_bagunpack.c - evaluate bag_unpack(column [, prefix]).
 *
 * The bag stays in its slot; the writer spreads its members as columns
 * where the column stood (struct kql_col kind SPREAD). Kusto decides the
 * columns from the whole table; a stream cannot wait for that, so each
 * row carries its own members.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <stdlib.h>

static void
bu_row(struct kql_op *op, struct kql_row *r)
{
  int slot = (int)(intptr_t)op->st;
  kql_dyn_force(&op->q->rowmem, &r->v[slot]);
  kql_push(op, r);
}

static void
bu_end(struct kql_op *op)
{
  kql_end(op);
}

static const struct kql_opvt bu_vt = {bu_row, bu_end, NULL};

struct kql_op *
kql_op_bagunpack(struct kql_query *q, int slot)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  op->vt = &bu_vt;
  op->q = q;
  op->st = (void *)(intptr_t)slot;
  return op;
}
