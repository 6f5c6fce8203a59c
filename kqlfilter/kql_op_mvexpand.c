/*
 * kql_op_mvexpand.c - mv-expand: one row per element of an array (or
 * member of a bag), several columns expanded side by side.
 *
 * Bag members become one-member bags, or [key, value] pairs with
 * kind=array. The longest array sets the number of rows; shorter ones
 * give null. An empty array gives no row; a scalar gives one row with
 * itself. "to typeof(T)" casts each element (a mismatch gives null).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <stdlib.h>
#include <string.h>

struct mv_st {
  struct kql_node **e;
  int *slots;
  uint8_t *types;
  uint32_t n;
  int ix;
  int64_t limit;
  bool bag_as_array;
  struct kql_val *vals;
};

/* The i-th element of an expanded value. */
static struct kql_val
element(struct kql_op *op, const struct kql_val *v, uint32_t i)
{
  struct mv_st *st = op->st;
  struct kql_arena *a = &op->q->rowmem;
  if (v->t == KQL_T_ARRAY && !v->null)
    return i < v->n ? v->u.a[i] : kql_v_null(KQL_T_DYNAMIC);
  if (v->t == KQL_T_BAG && !v->null) {
    if (i >= v->n) return kql_v_null(KQL_T_DYNAMIC);
    struct kql_val r;
    memset(&r, 0, sizeof r);
    r.dyn = 1;
    if (st->bag_as_array) {
      struct kql_val *pair = kql_alloc(a, 2 * sizeof *pair);
      pair[0] = kql_v_str(v->u.kv[i].k, v->u.kv[i].kn);
      pair[0].dyn = 1;
      pair[1] = v->u.kv[i].v;
      r.t = KQL_T_ARRAY;
      r.n = 2;
      r.u.a = pair;
    } else {
      r.t = KQL_T_BAG;
      r.n = 1;
      r.u.kv = &v->u.kv[i];
    }
    return r;
  }
  return i == 0 ? *v : kql_v_null(KQL_T_DYNAMIC);
}

static void
mv_row(struct kql_op *op, struct kql_row *r)
{
  struct mv_st *st = op->st;
  struct kql_ctx c = {op->q, &op->q->rowmem, r};
  uint32_t rows = 0;
  for (uint32_t i = 0; i < st->n; i++) {
    kql_eval(&c, st->e[i], &st->vals[i]);
    struct kql_val *v = &st->vals[i];
    kql_dyn_force(c.a, v);
    uint32_t len =
        (v->t == KQL_T_ARRAY || v->t == KQL_T_BAG) && !v->null ? v->n : 1;
    if (len > rows) rows = len;
  }
  if (st->limit >= 0 && rows > st->limit) rows = (uint32_t)st->limit;
  for (uint32_t k = 0; k < rows && !op->q->done; k++) {
    for (uint32_t i = 0; i < st->n; i++) {
      struct kql_val e = element(op, &st->vals[i], k);
      if (st->types[i] != KQL_T_DYNAMIC) {
        struct kql_val cv = kql_convert(c.a, &e, st->types[i]);
        e = cv;
      } else {
        e = kql_dyn_wrap(&e);
      }
      r->v[st->slots[i]] = e;
    }
    if (st->ix >= 0) r->v[st->ix] = kql_v_long(k);
    kql_push(op, r);
  }
}

static void
mv_end(struct kql_op *op)
{
  kql_end(op);
}

static void
mv_free(struct kql_op *op)
{
  struct mv_st *st = op->st;
  free(st->vals);
  free(st);
}

static const struct kql_opvt mv_vt = {mv_row, mv_end, mv_free};

struct kql_op *
kql_op_mvexpand(struct kql_query *q, struct kql_node **e, int *slots,
                uint8_t *types, uint32_t n, int index_slot, int64_t limit,
                bool bag_as_array)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct mv_st *st = kql_xcalloc(1, sizeof *st);
  st->e = e;
  st->slots = slots;
  st->types = types;
  st->n = n;
  st->ix = index_slot;
  st->limit = limit;
  st->bag_as_array = bag_as_array;
  st->vals = kql_xcalloc(n + 1, sizeof *st->vals);
  op->vt = &mv_vt;
  op->q = q;
  op->st = st;
  return op;
}
