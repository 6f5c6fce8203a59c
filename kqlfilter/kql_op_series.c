/*
 * kql_op_series.c - the second half of make-series: from the rows of a
 * summarize by (by..., bin), one row per by-group with arrays.
 *
 * kql_bind.c turns make-series into summarize aggs by (by columns,
 * bin_at(axis, step, from)) followed by this operator. It keeps each
 * group's bins until the end of input, then writes for every group the
 * aggregations as arrays over the bins from..to (default where a bin has
 * no rows) and the axis as an array of bin starts. Without from/to the
 * data's smallest and largest bins decide. kind=nonempty gives one row
 * of defaults when there is no input at all.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Longest series written. */
#define MAX_BINS 100000

struct sgroup {
  struct kql_val *keys; /* nby */
  struct kql_val *bins; /* per point: the bin */
  struct kql_val *vals; /* per point: naggs values */
  uint32_t n, cap;
};

struct series_st {
  struct kql_series_spec s;
  struct sgroup *g;
  uint32_t ng, capg;
  struct kql_arena mem;
};

static bool
is_time(int t)
{
  return t == KQL_T_DATETIME || t == KQL_T_TIMESPAN;
}

/* A bin's position as a number: ticks, or the value. */
static double
pos_of(const struct kql_val *v)
{
  double d = 0;
  if (is_time(v->t)) return (double)v->u.i;
  kql_get_real(v, &d);
  return d;
}

static void
ser_row(struct kql_op *op, struct kql_row *r)
{
  struct series_st *st = op->st;
  const struct kql_series_spec *s = &st->s;
  if (r->v[s->bin_slot].null) return;
  struct sgroup *g = NULL;
  for (uint32_t i = 0; i < st->ng && !g; i++) {
    bool same = true;
    for (uint32_t k = 0; k < s->nby && same; k++)
      same = kql_val_same(&st->g[i].keys[k], &r->v[s->by_slots[k]]);
    if (same) g = &st->g[i];
  }
  if (!g) {
    if (st->ng == st->capg) {
      st->capg = st->capg ? st->capg * 2 : 16;
      st->g = kql_xrealloc(st->g, st->capg * sizeof *st->g);
    }
    g = &st->g[st->ng++];
    memset(g, 0, sizeof *g);
    g->keys = kql_alloc(&st->mem, (s->nby + 1) * sizeof *g->keys);
    for (uint32_t k = 0; k < s->nby; k++)
      g->keys[k] = kql_val_copy(&st->mem, &r->v[s->by_slots[k]]);
  }
  if (g->n == g->cap) {
    uint32_t cap = g->cap ? g->cap * 2 : 16;
    struct kql_val *nb = kql_alloc(&st->mem, cap * sizeof *nb);
    struct kql_val *nv =
        kql_alloc(&st->mem, (size_t)cap * (s->naggs + 1) * sizeof *nv);
    if (g->n) {
      memcpy(nb, g->bins, g->n * sizeof *nb);
      memcpy(nv, g->vals, (size_t)g->n * s->naggs * sizeof *nv);
    }
    g->bins = nb;
    g->vals = nv;
    g->cap = cap;
  }
  g->bins[g->n] = r->v[s->bin_slot];
  for (uint32_t a = 0; a < s->naggs; a++)
    g->vals[(size_t)g->n * s->naggs + a] =
        kql_val_copy(&st->mem, &r->v[s->agg_slots[a]]);
  g->n++;
}

static struct kql_val
mk_array(struct kql_val *el, uint32_t n)
{
  struct kql_val v;
  memset(&v, 0, sizeof v);
  v.t = KQL_T_ARRAY;
  v.dyn = 1;
  v.n = n;
  v.u.a = el;
  return v;
}

static void
ser_end(struct kql_op *op)
{
  struct series_st *st = op->st;
  const struct kql_series_spec *s = &st->s;
  struct kql_query *q = op->q;
  double step = pos_of(&s->step), lo = 0, hi = 0;
  bool have = false;
  int axis_t = !s->from.null ? s->from.t : KQL_T_REAL;
  for (uint32_t i = 0; i < st->ng; i++)
    for (uint32_t k = 0; k < st->g[i].n; k++) {
      double p = pos_of(&st->g[i].bins[k]);
      if (!have || p < lo) lo = p;
      if (!have || p > hi) hi = p;
      if (!have && s->from.null) axis_t = st->g[i].bins[k].t;
      have = true;
    }
  double from = s->from.null ? lo : pos_of(&s->from);
  double to = s->to.null ? hi + step : pos_of(&s->to);
  uint32_t nbins = 0;
  if (step > 0 && to > from) {
    double nb = ceil((to - from) / step - 1e-9);
    nbins = nb > MAX_BINS ? MAX_BINS : (uint32_t)nb;
  }
  if (!st->ng && s->nonempty && !s->from.null && !s->to.null) {
    /* one row of defaults */
    st->g = kql_xcalloc(1, sizeof *st->g);
    st->g[0].keys = kql_alloc(&st->mem, (s->nby + 1) * sizeof *st->g[0].keys);
    for (uint32_t k = 0; k < s->nby; k++)
      st->g[0].keys[k] = kql_v_null(KQL_T_DYNAMIC);
    st->ng = 1;
  }
  struct kql_row row;
  row.raw = NULL;
  row.rawn = 0;
  row.v = kql_xcalloc(q->nslots + 1, sizeof *row.v);
  for (uint32_t i = 0; i < st->ng; i++) {
    struct sgroup *g = &st->g[i];
    struct kql_arena *a = &q->rowmem;
    for (uint32_t k = 0; k < q->nslots; k++)
      row.v[k] = kql_v_null(KQL_T_DYNAMIC);
    for (uint32_t k = 0; k < s->nby; k++)
      row.v[s->by_slots[k]] = g->keys[k];
    struct kql_val *axis = kql_alloc(a, (nbins + 1) * sizeof *axis);
    for (uint32_t b = 0; b < nbins; b++) {
      double p = from + b * step;
      if (is_time(axis_t))
        axis[b] = kql_v_time(axis_t, (int64_t)llround(p));
      else if (axis_t == KQL_T_LONG || axis_t == KQL_T_INT)
        axis[b] = kql_v_long((int64_t)llround(p));
      else
        axis[b] = kql_v_real(p);
      axis[b].dyn = 1;
    }
    row.v[s->axis_slot] = mk_array(axis, nbins);
    for (uint32_t ag = 0; ag < s->naggs; ag++) {
      struct kql_val *el = kql_alloc(a, (nbins + 1) * sizeof *el);
      for (uint32_t b = 0; b < nbins; b++)
        el[b] = kql_dyn_wrap(&s->defaults[ag]);
      for (uint32_t k = 0; k < g->n; k++) {
        double ix = (pos_of(&g->bins[k]) - from) / step;
        if (ix < -1e-9) continue;
        uint32_t b = (uint32_t)llround(floor(ix + 1e-9));
        if (b >= nbins) continue;
        const struct kql_val *v = &g->vals[(size_t)k * s->naggs + ag];
        el[b] = v->null ? kql_dyn_wrap(&s->defaults[ag]) : kql_dyn_wrap(v);
      }
      row.v[s->out_slots[ag]] = mk_array(el, nbins);
    }
    kql_push(op, &row);
    kql_arena_reset(&q->rowmem);
  }
  free(row.v);
  kql_end(op);
}

static void
ser_free(struct kql_op *op)
{
  struct series_st *st = op->st;
  free(st->g);
  kql_arena_free(&st->mem);
  free(st);
}

static const struct kql_opvt ser_vt = {ser_row, ser_end, ser_free};

struct kql_op *
kql_op_series(struct kql_query *q, const struct kql_series_spec *spec)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct series_st *st = kql_xcalloc(1, sizeof *st);
  st->s = *spec;
  kql_arena_init(&st->mem);
  op->vt = &ser_vt;
  op->q = q;
  op->st = st;
  return op;
}
