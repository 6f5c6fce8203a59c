/*
 * kql_agg.c - aggregation functions of summarize.
 *
 * Each aggregation keeps one struct kql_aggst per group: counters, a
 * running sum, the best value so far, or a list (make_list, make_set,
 * dcount, percentiles). Values kept are copied into the group's arena.
 * Nulls are ignored except by count(); empty groups give 0 for the
 * counts and sums, [] for make_*, NaN for avg and null otherwise
 * (kql.md section 6). dcount is exact.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
  AG_COUNT,
  AG_COUNTIF,
  AG_SUM,
  AG_SUMIF,
  AG_MIN,
  AG_MINIF,
  AG_MAX,
  AG_MAXIF,
  AG_AVG,
  AG_AVGIF,
  AG_DCOUNT,
  AG_DCOUNTIF,
  AG_LIST,
  AG_LISTIF,
  AG_LISTNULLS,
  AG_SET,
  AG_SETIF,
  AG_BAG,
  AG_BAGIF,
  AG_ARGMAX,
  AG_ARGMIN,
  AG_ANY,
  AG_ANYIF,
  AG_VAR,
  AG_VARIF,
  AG_VARP,
  AG_STDEV,
  AG_STDEVIF,
  AG_STDEVP,
  AG_PCT,
  AG_PCTS,
  AG_PCTW,
  AG_PCTSW
};

static const struct kql_aggfn aggs[] = {
    {"any", 1, 255, "any_", AG_ANY},
    {"anyif", 2, 2, "anyif_", AG_ANYIF},
    {"arg_max", 1, 255, "@arg", AG_ARGMAX},
    {"arg_min", 1, 255, "@arg", AG_ARGMIN},
    {"argmax", 1, 255, "@arg", AG_ARGMAX},
    {"argmin", 1, 255, "@arg", AG_ARGMIN},
    {"avg", 1, 1, "avg_", AG_AVG},
    {"avgif", 2, 2, "avgif_", AG_AVGIF},
    {"cnt", 0, 0, "count_", AG_COUNT},
    {"count", 0, 1, "count_", AG_COUNT},
    {"count_distinct", 1, 1, "count_distinct_", AG_DCOUNT},
    {"countif", 1, 1, "countif_", AG_COUNTIF},
    {"dcount", 1, 2, "dcount_", AG_DCOUNT},
    {"dcountif", 2, 3, "dcountif_", AG_DCOUNTIF},
    {"make_bag", 1, 2, "bag_", AG_BAG},
    {"make_bag_if", 2, 3, "bag_", AG_BAGIF},
    {"make_list", 1, 2, "list_", AG_LIST},
    {"make_list_if", 2, 3, "list_", AG_LISTIF},
    {"make_list_with_nulls", 1, 2, "list_", AG_LISTNULLS},
    {"make_set", 1, 2, "set_", AG_SET},
    {"make_set_if", 2, 3, "set_", AG_SETIF},
    {"makelist", 1, 2, "list_", AG_LIST},
    {"makeset", 1, 2, "set_", AG_SET},
    {"max", 1, 1, "max_", AG_MAX},
    {"maxif", 2, 2, "maxif_", AG_MAXIF},
    {"min", 1, 1, "min_", AG_MIN},
    {"minif", 2, 2, "minif_", AG_MINIF},
    {"percentile", 2, 2, "percentile_", AG_PCT},
    {"percentiles", 2, 255, "percentile_", AG_PCTS},
    {"percentilesw", 3, 255, "percentile_", AG_PCTSW},
    {"percentilew", 3, 3, "percentile_", AG_PCTW},
    {"stdev", 1, 1, "stdev_", AG_STDEV},
    {"stdevif", 2, 2, "stdevif_", AG_STDEVIF},
    {"stdevp", 1, 1, "stdevp_", AG_STDEVP},
    {"sum", 1, 1, "sum_", AG_SUM},
    {"sumif", 2, 2, "sumif_", AG_SUMIF},
    {"take_any", 1, 255, "any_", AG_ANY},
    {"take_anyif", 2, 2, "any_", AG_ANYIF},
    {"variance", 1, 1, "variance_", AG_VAR},
    {"varianceif", 2, 2, "varianceif_", AG_VARIF},
    {"variancep", 1, 1, "variancep_", AG_VARP},
};

const struct kql_aggfn *
kql_agg_find(const char *name, size_t n)
{
  for (size_t i = 0; i < sizeof aggs / sizeof aggs[0]; i++)
    if (strlen(aggs[i].name) == n && !memcmp(aggs[i].name, name, n))
      return &aggs[i];
  return NULL;
}

struct kql_aggst {
  int64_t cnt;
  int64_t isum;
  double sum;
  bool real;
  bool set;
  double mean, m2;
  struct kql_val v;
  struct kql_val *ret;
  struct kql_val *items;
  double *w;
  uint32_t n, cap;
  uint32_t *hash; /* open addressing over items (sets), 0 = empty */
  uint32_t hcap;
  uint64_t limit;
};

size_t
kql_agg_state_size(void)
{
  return sizeof(struct kql_aggst);
}

void
kql_agg_init(const struct kql_aggspec *s, struct kql_aggst *st)
{
  (void)s;
  memset(st, 0, sizeof *st);
  st->v = kql_v_null(KQL_T_DYNAMIC);
  st->limit = 1048576;
}

static bool
pred(struct kql_ctx *c, const struct kql_aggspec *s, uint32_t i)
{
  return i < s->nargs && kql_eval_bool(c, s->args[i]);
}

static void
push_item(struct kql_aggst *st, struct kql_arena *keep, const struct kql_val *v,
          double w)
{
  if (st->n == st->cap) {
    uint32_t cap = st->cap ? st->cap * 2 : 8;
    struct kql_val *ni = kql_alloc(keep, cap * sizeof *ni);
    if (st->n) memcpy(ni, st->items, st->n * sizeof *ni);
    st->items = ni;
    if (st->w || w != 1.0) {
      double *nw = kql_alloc(keep, cap * sizeof *nw);
      if (st->n && st->w)
        memcpy(nw, st->w, st->n * sizeof *nw);
      else
        for (uint32_t i = 0; i < st->n; i++)
          nw[i] = 1.0;
      st->w = nw;
    }
    st->cap = cap;
  }
  if (st->w) st->w[st->n] = w;
  st->items[st->n++] = kql_val_copy(keep, v);
}

/* Add v to the set unless present; true when added. */
static bool
set_add(struct kql_aggst *st, struct kql_arena *keep, const struct kql_val *v)
{
  if (st->n + 1 > st->hcap / 2) {
    uint32_t hc = st->hcap ? st->hcap * 2 : 16;
    uint32_t *h = kql_zalloc(keep, hc * sizeof *h);
    for (uint32_t i = 0; i < st->n; i++) {
      uint64_t hv = kql_val_hash(&st->items[i], 1469598103934665603ULL);
      uint32_t k = (uint32_t)hv & (hc - 1);
      while (h[k])
        k = (k + 1) & (hc - 1);
      h[k] = i + 1;
    }
    st->hash = h;
    st->hcap = hc;
  }
  uint64_t hv = kql_val_hash(v, 1469598103934665603ULL);
  uint32_t k = (uint32_t)hv & (st->hcap - 1);
  while (st->hash[k]) {
    if (kql_val_same(&st->items[st->hash[k] - 1], v)) return false;
    k = (k + 1) & (st->hcap - 1);
  }
  push_item(st, keep, v, 1.0);
  st->hash[k] = st->n;
  return true;
}

static void
add_num(struct kql_aggst *st, const struct kql_val *v)
{
  if (v->null) return;
  if (v->t == KQL_T_INT || v->t == KQL_T_LONG || v->t == KQL_T_TIMESPAN) {
    st->isum += v->u.i;
    st->sum += (double)v->u.i;
    if (v->t == KQL_T_TIMESPAN) st->v.t = KQL_T_TIMESPAN;
  } else {
    double d;
    if (!kql_get_real(v, &d)) return;
    st->sum += d;
    st->real = true;
  }
  st->cnt++;
  /* Welford, for variance and stdev */
  double x;
  if (kql_get_real(v, &x)) {
    double delta = x - st->mean;
    st->mean += delta / (double)st->cnt;
    st->m2 += delta * (x - st->mean);
  }
}

static void
keep_best(struct kql_ctx *c, struct kql_aggst *st, struct kql_arena *keep,
          const struct kql_val *v, bool max)
{
  if (v->null) return;
  if (st->set) {
    int r = kql_val_cmp(c->a, v, &st->v, false);
    if (r == KQL_CMP_NONE || (max ? r <= 0 : r >= 0)) return;
  }
  st->v = kql_val_copy(keep, v);
  st->set = true;
}

void
kql_agg_step(struct kql_ctx *c, const struct kql_aggspec *s,
             struct kql_aggst *st, struct kql_arena *keep)
{
  struct kql_val v = kql_v_null(KQL_T_DYNAMIC);
  int k = s->fn->kind;
  if (s->nargs && s->args[0]->kind != KQL_N_STAR && k != AG_COUNTIF &&
      k != AG_ARGMAX && k != AG_ARGMIN)
    kql_eval(c, s->args[0], &v);
  switch (k) {
  case AG_COUNT:
    st->cnt++;
    return;
  case AG_COUNTIF:
    if (pred(c, s, 0)) st->cnt++;
    return;
  case AG_SUMIF:
  case AG_AVGIF:
  case AG_VARIF:
  case AG_STDEVIF:
    if (!pred(c, s, 1)) return;
    add_num(st, &v);
    return;
  case AG_SUM:
  case AG_AVG:
  case AG_VAR:
  case AG_VARP:
  case AG_STDEV:
  case AG_STDEVP:
    add_num(st, &v);
    return;
  case AG_MINIF:
  case AG_MAXIF:
    if (!pred(c, s, 1)) return;
    keep_best(c, st, keep, &v, k == AG_MAXIF);
    return;
  case AG_MIN:
  case AG_MAX:
    keep_best(c, st, keep, &v, k == AG_MAX);
    return;
  case AG_DCOUNTIF:
    if (!pred(c, s, 1)) return;
    /* fall through */
  case AG_DCOUNT:
    if (!v.null) set_add(st, keep, &v);
    return;
  case AG_LISTIF:
  case AG_SETIF:
  case AG_BAGIF:
    if (!pred(c, s, 1)) return;
    /* fall through */
  case AG_LIST:
  case AG_SET:
  case AG_BAG:
  case AG_LISTNULLS: {
    int64_t lim;
    uint32_t li = (k == AG_LISTIF || k == AG_SETIF || k == AG_BAGIF) ? 2 : 1;
    if (li < s->nargs && st->n == 0 && !st->set) {
      struct kql_val lv;
      kql_eval(c, s->args[li], &lv);
      if (kql_get_long(&lv, &lim) && lim > 0) st->limit = (uint64_t)lim;
      st->set = true;
    }
    if (v.null && k != AG_LISTNULLS) return;
    if (k == AG_BAG || k == AG_BAGIF) {
      if (v.t != KQL_T_BAG) return;
      struct kql_val b = v;
      kql_dyn_force(c->a, &b);
      for (uint32_t i = 0; i < b.n && st->n < st->limit; i++) {
        bool dup = false;
        for (uint32_t j = 0; j < st->n; j += 2)
          if (st->items[j].n == b.u.kv[i].kn &&
              !memcmp(st->items[j].u.s, b.u.kv[i].k, b.u.kv[i].kn))
            dup = true;
        if (dup) continue;
        struct kql_val key = kql_v_str(b.u.kv[i].k, b.u.kv[i].kn);
        push_item(st, keep, &key, 1.0);
        push_item(st, keep, &b.u.kv[i].v, 1.0);
      }
      return;
    }
    if (st->n >= st->limit) return;
    if (k == AG_SET || k == AG_SETIF) {
      if (v.t == KQL_T_ARRAY) {
        /* make_set of arrays flattens, as Kusto does */
        struct kql_val arr = v;
        kql_dyn_force(c->a, &arr);
        for (uint32_t i = 0; i < arr.n && st->n < st->limit; i++)
          if (!arr.u.a[i].null) set_add(st, keep, &arr.u.a[i]);
        return;
      }
      set_add(st, keep, &v);
      return;
    }
    if (v.t == KQL_T_ARRAY && k != AG_LISTNULLS) {
      struct kql_val arr = v;
      kql_dyn_force(c->a, &arr);
      for (uint32_t i = 0; i < arr.n && st->n < st->limit; i++)
        push_item(st, keep, &arr.u.a[i], 1.0);
      return;
    }
    push_item(st, keep, &v, 1.0);
    return;
  }
  case AG_ARGMAX:
  case AG_ARGMIN: {
    kql_eval(c, s->args[0], &v);
    bool take = !st->set;
    if (!v.null && st->set) {
      if (st->v.null) {
        take = true;
      } else {
        int r = kql_val_cmp(c->a, &v, &st->v, false);
        take = r != KQL_CMP_NONE && (k == AG_ARGMAX ? r > 0 : r < 0);
      }
    }
    if (!take) return;
    st->set = true;
    st->v = kql_val_copy(keep, &v);
    if (!st->ret && s->nret)
      st->ret = kql_alloc(keep, s->nret * sizeof *st->ret);
    for (uint32_t i = 0; i < s->nret; i++) {
      struct kql_val r;
      kql_eval(c, s->ret[i], &r);
      st->ret[i] = kql_val_copy(keep, &r);
    }
    return;
  }
  case AG_ANYIF:
    if (!pred(c, s, 1)) return;
    /* fall through */
  case AG_ANY:
    if (st->set) return;
    st->set = true;
    st->v = kql_val_copy(keep, &v);
    if (s->nargs > 1 && k == AG_ANY) {
      st->ret = kql_alloc(keep, s->nargs * sizeof *st->ret);
      for (uint32_t i = 1; i < s->nargs; i++) {
        struct kql_val r;
        kql_eval(c, s->args[i], &r);
        st->ret[i] = kql_val_copy(keep, &r);
      }
    }
    return;
  case AG_PCT:
  case AG_PCTS:
    if (!v.null && kql_is_num(v.t))
      push_item(st, keep, &v, 1.0);
    else if (!v.null && (v.t == KQL_T_DATETIME || v.t == KQL_T_TIMESPAN))
      push_item(st, keep, &v, 1.0);
    return;
  case AG_PCTW:
  case AG_PCTSW: {
    struct kql_val w;
    kql_eval(c, s->args[1], &w);
    double wd;
    if (!v.null && kql_get_real(&w, &wd) && wd > 0) push_item(st, keep, &v, wd);
    return;
  }
  default:
    return;
  }
}

struct witem {
  struct kql_val v;
  double w;
};

static int
cmp_witems(const void *a, const void *b)
{
  return kql_val_sortcmp(&((const struct witem *)a)->v,
                         &((const struct witem *)b)->v);
}

/* Nearest-rank percentile over sorted values (weighted when w). */
static struct kql_val
percentile_of(struct kql_ctx *c, struct kql_aggst *st, double p)
{
  if (!st->n) return kql_v_null(KQL_T_REAL);
  struct witem *it = kql_alloc(c->a, st->n * sizeof *it);
  double total = 0;
  for (uint32_t i = 0; i < st->n; i++) {
    it[i].v = st->items[i];
    it[i].w = st->w ? st->w[i] : 1.0;
    total += it[i].w;
  }
  qsort(it, st->n, sizeof *it, cmp_witems);
  double rank = p / 100.0 * total;
  double acc = 0;
  for (uint32_t i = 0; i < st->n; i++) {
    acc += it[i].w;
    if (acc >= rank - 1e-9 && (acc > 0)) return it[i].v;
  }
  return it[st->n - 1].v;
}

static struct kql_val
arr_of(struct kql_val *items, uint32_t n)
{
  struct kql_val v;
  memset(&v, 0, sizeof v);
  v.t = KQL_T_ARRAY;
  v.dyn = 1;
  v.n = n;
  v.u.a = items;
  return v;
}

void
kql_agg_final(struct kql_ctx *c, const struct kql_aggspec *s,
              struct kql_aggst *st, struct kql_val *slots)
{
  struct kql_val *out = &slots[s->slot];
  int k = s->fn->kind;
  switch (k) {
  case AG_COUNT:
  case AG_COUNTIF:
    *out = kql_v_long(st->cnt);
    return;
  case AG_SUM:
  case AG_SUMIF:
    if (st->v.t == KQL_T_TIMESPAN && !st->real)
      *out = kql_v_time(KQL_T_TIMESPAN, st->isum);
    else if (st->real)
      *out = kql_v_real(st->sum);
    else
      *out = kql_v_long(st->isum);
    return;
  case AG_AVG:
  case AG_AVGIF:
    if (st->v.t == KQL_T_TIMESPAN && !st->real && st->cnt)
      *out = kql_v_time(KQL_T_TIMESPAN, st->isum / st->cnt);
    else
      *out = kql_v_real(st->cnt ? st->sum / (double)st->cnt : NAN);
    return;
  case AG_VAR:
  case AG_VARIF:
  case AG_STDEV:
  case AG_STDEVIF:
  case AG_VARP:
  case AG_STDEVP: {
    bool pop = k == AG_VARP || k == AG_STDEVP;
    double var;
    if (st->cnt == 0)
      var = NAN;
    else if (pop)
      var = st->m2 / (double)st->cnt;
    else
      var = st->cnt > 1 ? st->m2 / (double)(st->cnt - 1) : 0;
    if (k == AG_STDEV || k == AG_STDEVIF || k == AG_STDEVP) var = sqrt(var);
    *out = kql_v_real(var);
    return;
  }
  case AG_MIN:
  case AG_MAX:
  case AG_MINIF:
  case AG_MAXIF:
  case AG_ANY:
  case AG_ANYIF:
    *out = st->set ? st->v : kql_v_null(KQL_T_DYNAMIC);
    if (k == AG_ANY && st->ret)
      for (uint32_t i = 1; i < s->nargs; i++)
        if (s->ret_slots && s->ret_slots[i - 1] >= 0)
          slots[s->ret_slots[i - 1]] = st->ret[i];
    return;
  case AG_DCOUNT:
  case AG_DCOUNTIF:
    *out = kql_v_long(st->n);
    return;
  case AG_LIST:
  case AG_LISTIF:
  case AG_LISTNULLS:
  case AG_SET:
  case AG_SETIF: {
    struct kql_val *el = kql_alloc(c->a, (st->n + 1) * sizeof *el);
    for (uint32_t i = 0; i < st->n; i++)
      el[i] = kql_dyn_wrap(&st->items[i]);
    *out = arr_of(el, st->n);
    return;
  }
  case AG_BAG:
  case AG_BAGIF: {
    struct kql_kv *kv = kql_alloc(c->a, (st->n / 2 + 1) * sizeof *kv);
    for (uint32_t i = 0; i + 1 < st->n; i += 2) {
      kv[i / 2].k = st->items[i].u.s;
      kv[i / 2].kn = st->items[i].n;
      kv[i / 2].v = st->items[i + 1];
    }
    memset(out, 0, sizeof *out);
    out->t = KQL_T_BAG;
    out->dyn = 1;
    out->n = st->n / 2;
    out->u.kv = kv;
    return;
  }
  case AG_ARGMAX:
  case AG_ARGMIN:
    *out = st->set ? st->v : kql_v_null(KQL_T_DYNAMIC);
    for (uint32_t i = 0; i < s->nret; i++)
      if (s->ret_slots[i] >= 0)
        slots[s->ret_slots[i]] =
            st->ret ? st->ret[i] : kql_v_null(KQL_T_DYNAMIC);
    return;
  case AG_PCT:
  case AG_PCTW: {
    struct kql_val pv;
    double p = 50;
    kql_eval(c, s->args[k == AG_PCTW ? 2 : 1], &pv);
    kql_get_real(&pv, &p);
    *out = percentile_of(c, st, p);
    return;
  }
  case AG_PCTS:
  case AG_PCTSW: {
    /* one column per percentile: slot, then ret_slots */
    uint32_t first = k == AG_PCTSW ? 2 : 1;
    for (uint32_t i = first; i < s->nargs; i++) {
      struct kql_val pv;
      double p = 50;
      kql_eval(c, s->args[i], &pv);
      kql_get_real(&pv, &p);
      struct kql_val r = percentile_of(c, st, p);
      if (i == first)
        *out = r;
      else if (s->ret_slots && s->ret_slots[i - first - 1] >= 0)
        slots[s->ret_slots[i - first - 1]] = r;
    }
    return;
  }
  default:
    *out = kql_v_null(KQL_T_DYNAMIC);
  }
}
