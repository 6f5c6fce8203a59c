/*
 * kql_op_mvapply.c - the mv-apply operator.
 *
 * For each row: expand the listed arrays as mv-expand does (in
 * parallel, the shorter ones padded with null; a bag's members one by
 * one), build a small table of the row's columns plus the items (plus
 * the item index), run the subquery over it (kql_run_sub binds it
 * afresh, since operators such as summarize keep state), and pass on
 * one row per row the subquery gives: the input row with the
 * subquery's columns set. Rows whose subquery gives nothing are
 * dropped, as Kusto does.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <stdlib.h>
#include <string.h>

struct mva_st {
  struct kql_mvapply_spec s;
  struct kql_val *vals;
};

/* The k-th item of an expanded value (mv-expand's rules). */
static struct kql_val
item(struct kql_arena *a, const struct kql_val *v, uint32_t k, bool bag_arr)
{
  if (v->t == KQL_T_ARRAY && !v->null)
    return k < v->n ? v->u.a[k] : kql_v_null(KQL_T_DYNAMIC);
  if (v->t == KQL_T_BAG && !v->null) {
    if (k >= v->n) return kql_v_null(KQL_T_DYNAMIC);
    struct kql_val r;
    memset(&r, 0, sizeof r);
    r.dyn = 1;
    if (bag_arr) {
      struct kql_val *pair = kql_alloc(a, 2 * sizeof *pair);
      pair[0] = kql_v_str(v->u.kv[k].k, v->u.kv[k].kn);
      pair[0].dyn = 1;
      pair[1] = v->u.kv[k].v;
      r.t = KQL_T_ARRAY;
      r.n = 2;
      r.u.a = pair;
    } else {
      r.t = KQL_T_BAG;
      r.n = 1;
      r.u.kv = &v->u.kv[k];
    }
    return r;
  }
  return k == 0 ? *v : kql_v_null(KQL_T_DYNAMIC);
}

static void
mva_row(struct kql_op *op, struct kql_row *r)
{
  struct mva_st *st = op->st;
  const struct kql_mvapply_spec *s = &st->s;
  struct kql_query *q = op->q;
  struct kql_ctx c = {q, &q->rowmem, r};
  uint32_t rows = 0;
  for (uint32_t i = 0; i < s->n; i++) {
    kql_eval(&c, s->e[i], &st->vals[i]);
    kql_dyn_force(c.a, &st->vals[i]);
    const struct kql_val *v = &st->vals[i];
    uint32_t len =
        (v->t == KQL_T_ARRAY || v->t == KQL_T_BAG) && !v->null ? v->n : 1;
    if (len > rows) rows = len;
  }
  if (s->limit >= 0 && rows > s->limit) rows = (uint32_t)s->limit;
  struct kql_table *sub = s->sub;
  uint32_t nc = sub->ncols;
  sub->cells = kql_alloc(c.a, ((size_t)rows * nc + 1) * sizeof *sub->cells);
  sub->nrows = rows;
  for (uint32_t k = 0; k < rows; k++)
    for (uint32_t j = 0; j < nc; j++) {
      struct kql_val *cell = &sub->cells[(size_t)k * nc + j];
      int from = s->sub_from[j];
      if (from >= 0) {
        *cell = r->v[from];
      } else if (-from - 1 < (int)s->n) {
        uint32_t i = (uint32_t)(-from - 1);
        struct kql_val e = item(c.a, &st->vals[i], k, s->bag_as_array);
        *cell = s->types[i] == KQL_T_DYNAMIC
                    ? kql_dyn_wrap(&e)
                    : kql_convert(c.a, &e, s->types[i]);
      } else {
        *cell = kql_v_long(k); /* with_itemindex */
      }
    }
  struct kql_table *res =
      kql_run_sub(q->run, q->run->prog, s->subq, s->nlets, sub);
  sub->nrows = 0;
  if (!res) return;
  for (uint32_t k = 0; k < res->nrows && k < UINT32_MAX; k++) {
    for (uint32_t j = 0; j < res->ncols && j < s->nres; j++)
      r->v[s->res_slots[j]] = res->cells[(size_t)k * res->ncols + j];
    kql_push(op, r);
  }
  kql_table_free(res);
}

static void
mva_end(struct kql_op *op)
{
  kql_end(op);
}

static void
mva_free(struct kql_op *op)
{
  struct mva_st *st = op->st;
  free(st->vals);
  free(st);
}

static const struct kql_opvt mva_vt = {mva_row, mva_end, mva_free};

struct kql_op *
kql_op_mvapply(struct kql_query *q, const struct kql_mvapply_spec *spec)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct mva_st *st = kql_xcalloc(1, sizeof *st);
  st->s = *spec;
  st->vals = kql_xcalloc(spec->n + 1, sizeof *st->vals);
  op->vt = &mva_vt;
  op->q = q;
  op->st = st;
  return op;
}
