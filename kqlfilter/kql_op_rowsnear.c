/*
 * kql_op_rowsnear.c - evaluate rows_near(predicate, before [, after]):
 * the rows where the predicate holds and those up to `before` rows
 * before and `after` rows after them, each once, in input order.
 *
 * Streaming: the last `before` rows wait in a ring (each slot with an
 * arena of its own, reset when the slot is reused); a match lets them
 * go, then the next `after` rows pass straight through.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <stdlib.h>

/* Rows kept before a match, at most. */
#define MAX_BEFORE 100000

struct rn_st {
  struct kql_node *pred;
  int64_t after, left;
  struct kql_row **ring;
  struct kql_arena *mem;
  uint32_t cap, head, n;
};

static void
rn_row(struct kql_op *op, struct kql_row *r)
{
  struct rn_st *s = op->st;
  struct kql_ctx c = {op->q, &op->q->rowmem, r};
  if (kql_eval_bool(&c, s->pred)) {
    for (uint32_t i = 0; i < s->n; i++)
      kql_push(op, s->ring[(s->head + i) % s->cap]);
    s->n = 0;
    s->head = 0;
    kql_push(op, r);
    s->left = s->after;
    return;
  }
  if (s->left > 0) {
    s->left--;
    kql_push(op, r);
    return;
  }
  if (!s->cap) return;
  uint32_t at = (s->head + s->n) % s->cap;
  if (s->n == s->cap) {
    at = s->head;
    s->head = (s->head + 1) % s->cap;
  } else {
    s->n++;
  }
  kql_arena_reset(&s->mem[at]);
  s->ring[at] = kql_row_store(op->q, &s->mem[at], r);
}

static void
rn_end(struct kql_op *op)
{
  kql_end(op);
}

static void
rn_free(struct kql_op *op)
{
  struct rn_st *s = op->st;
  for (uint32_t i = 0; i < s->cap; i++)
    kql_arena_free(&s->mem[i]);
  free(s->mem);
  free(s->ring);
  free(s);
}

static const struct kql_opvt rn_vt = {rn_row, rn_end, rn_free};

struct kql_op *
kql_op_rowsnear(struct kql_query *q, struct kql_node *pred, int64_t before,
                int64_t after)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct rn_st *s = kql_xcalloc(1, sizeof *s);
  s->pred = pred;
  s->after = after < 0 ? 0 : after;
  s->cap = before <= 0           ? 0
           : before > MAX_BEFORE ? MAX_BEFORE
                                 : (uint32_t)before;
  s->ring = kql_xcalloc(s->cap + 1, sizeof *s->ring);
  s->mem = kql_xcalloc(s->cap + 1, sizeof *s->mem);
  for (uint32_t i = 0; i < s->cap; i++)
    kql_arena_init_small(&s->mem[i], 4096);
  op->vt = &rn_vt;
  op->q = q;
  op->st = s;
  return op;
}
