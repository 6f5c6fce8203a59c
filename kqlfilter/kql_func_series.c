/*
 * kql_func_series.c - series_* functions and other numeric arrays.
 *
 * A series is a dynamic array of numbers. Element-wise functions give
 * an array as long as the longest argument; a scalar argument stands
 * for a series repeating it; an element that is missing or not a number
 * gives a null element. Aggregating functions (series_stats,
 * series_dot_product, ...) skip such elements. range() builds arrays of
 * numbers, datetimes or timespans. The family's functions and its table,
 * kept sorted by name; kql_func.c searches it after the core table.
 * series_stats() as several columns is expanded by kql_bind.c into
 * members of series_stats_dynamic().
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_func.h"

#include <math.h>
#include <string.h>

/* range() and series results stop here (Kusto's limit too). */
#define MAX_SERIES (1u << 20)

/* ------------------------------------------------------------ helpers */

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

static struct kql_val
dyn_real(double d)
{
  struct kql_val v = kql_v_real(d);
  v.dyn = 1;
  return v;
}

static struct kql_val
dyn_long(int64_t i)
{
  struct kql_val v = kql_v_long(i);
  v.dyn = 1;
  return v;
}

static struct kql_val
dyn_bool(bool b)
{
  struct kql_val v = kql_v_bool(b);
  v.dyn = 1;
  return v;
}

/* One argument seen as a series: an array (parsed), or a scalar number
 * repeated (len 0 means "any length"). */
struct series {
  const struct kql_val *el; /* NULL for a scalar */
  uint32_t n;
  struct kql_val one;
  bool ok; /* false: null or not a series nor a number */
};

static struct series
series_of(struct kql_ctx *c, const struct kql_val *v)
{
  struct series s;
  memset(&s, 0, sizeof s);
  if (v->null) return s;
  if (v->t == KQL_T_ARRAY) {
    struct kql_val x = *v;
    kql_dyn_force(c->a, &x);
    s.el = x.u.a;
    s.n = x.n;
    s.ok = true;
    return s;
  }
  if (v->t == KQL_T_BAG) return s;
  s.one = *v;
  s.ok = true;
  return s;
}

/* Element i: false when it is missing or not a number. */
static bool
series_at(const struct series *s, uint32_t i, double *d)
{
  const struct kql_val *v;
  if (!s->el)
    v = &s->one;
  else if (i < s->n)
    v = &s->el[i];
  else
    return false;
  if (v->null || v->t == KQL_T_STRING || v->t == KQL_T_ARRAY ||
      v->t == KQL_T_BAG || v->t == KQL_T_BOOL)
    return false;
  if (!kql_get_real(v, d)) return false;
  return true;
}

/* Element i is a whole number (int or long). */
static bool
series_int_at(const struct series *s, uint32_t i, int64_t *out)
{
  const struct kql_val *v = !s->el ? &s->one : i < s->n ? &s->el[i] : NULL;
  if (!v || v->null || (v->t != KQL_T_LONG && v->t != KQL_T_INT)) return false;
  *out = v->u.i;
  return true;
}

static uint32_t
series_len(const struct series *s, uint32_t na)
{
  uint32_t n = 0;
  for (uint32_t i = 0; i < na; i++)
    if (s[i].el && s[i].n > n) n = s[i].n;
  return n > MAX_SERIES ? MAX_SERIES : n;
}

/* ------------------------------------------------------------ unary */

static void
unary(struct kql_ctx *c, const struct kql_val *a, struct kql_val *out,
      double (*f)(double))
{
  struct series s = series_of(c, a);
  if (!s.ok || !s.el) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  uint32_t n = s.n > MAX_SERIES ? MAX_SERIES : s.n;
  struct kql_val *el = kql_alloc(c->a, (n + 1) * sizeof *el);
  for (uint32_t i = 0; i < n; i++) {
    double d;
    el[i] = series_at(&s, i, &d) ? dyn_real(f(d)) : kql_v_null(KQL_T_DYNAMIC);
  }
  *out = mk_array(el, n);
}

static double
sign_of(double d)
{
  return d > 0 ? 1 : d < 0 ? -1 : 0;
}

#define UNARY(name, f)                                                         \
  static void name(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,   \
                   uint32_t na, struct kql_val *out)                           \
  {                                                                            \
    (void)n;                                                                   \
    (void)na;                                                                  \
    unary(c, &a[0], out, f);                                                   \
  }

UNARY(f_series_abs, fabs)
UNARY(f_series_acos, acos)
UNARY(f_series_asin, asin)
UNARY(f_series_atan, atan)
UNARY(f_series_ceiling, ceil)
UNARY(f_series_cos, cos)
UNARY(f_series_exp, exp)
UNARY(f_series_floor, floor)
UNARY(f_series_log, log)
UNARY(f_series_sign, sign_of)
UNARY(f_series_sin, sin)
UNARY(f_series_sqrt, sqrt)
UNARY(f_series_tan, tan)

/* ------------------------------------------------------------ binary */

enum bin_op {
  B_ADD,
  B_SUB,
  B_MUL,
  B_DIV,
  B_POW,
  B_EQ,
  B_NE,
  B_LT,
  B_LE,
  B_GT,
  B_GE
};

static struct kql_val
bin_elem(const struct series *x, const struct series *y, uint32_t i, int op)
{
  double a, b;
  if (!series_at(x, i, &a) || !series_at(y, i, &b))
    return kql_v_null(KQL_T_DYNAMIC);
  int64_t ia, ib;
  bool ints = series_int_at(x, i, &ia) && series_int_at(y, i, &ib);
  switch (op) {
  case B_ADD:
    return ints ? dyn_long((int64_t)((uint64_t)ia + (uint64_t)ib))
                : dyn_real(a + b);
  case B_SUB:
    return ints ? dyn_long((int64_t)((uint64_t)ia - (uint64_t)ib))
                : dyn_real(a - b);
  case B_MUL:
    return ints ? dyn_long((int64_t)((uint64_t)ia * (uint64_t)ib))
                : dyn_real(a * b);
  case B_DIV:
    return dyn_real(a / b);
  case B_POW:
    return dyn_real(pow(a, b));
  case B_EQ:
    return dyn_bool(a == b);
  case B_NE:
    return dyn_bool(a != b);
  case B_LT:
    return dyn_bool(a < b);
  case B_LE:
    return dyn_bool(a <= b);
  case B_GT:
    return dyn_bool(a > b);
  default:
    return dyn_bool(a >= b);
  }
}

static void
binary(struct kql_ctx *c, struct kql_val *a, struct kql_val *out, int op)
{
  struct series s[2] = {series_of(c, &a[0]), series_of(c, &a[1])};
  if (!s[0].ok || !s[1].ok || (!s[0].el && !s[1].el)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  uint32_t n = series_len(s, 2);
  struct kql_val *el = kql_alloc(c->a, (n + 1) * sizeof *el);
  for (uint32_t i = 0; i < n; i++)
    el[i] = bin_elem(&s[0], &s[1], i, op);
  *out = mk_array(el, n);
}

#define BINARY(name, op)                                                       \
  static void name(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,   \
                   uint32_t na, struct kql_val *out)                           \
  {                                                                            \
    (void)n;                                                                   \
    (void)na;                                                                  \
    binary(c, a, out, op);                                                     \
  }

BINARY(f_series_add, B_ADD)
BINARY(f_series_divide, B_DIV)
BINARY(f_series_equals, B_EQ)
BINARY(f_series_greater, B_GT)
BINARY(f_series_greater_equals, B_GE)
BINARY(f_series_less, B_LT)
BINARY(f_series_less_equals, B_LE)
BINARY(f_series_multiply, B_MUL)
BINARY(f_series_not_equals, B_NE)
BINARY(f_series_pow, B_POW)
BINARY(f_series_subtract, B_SUB)

/* ------------------------------------------------------------ reductions */

/* Sums over the positions where both series hold numbers. */
struct pair_sums {
  double n, sx, sy, sxx, syy, sxy;
};

static bool
pair_sums(struct kql_ctx *c, struct kql_val *a, struct pair_sums *ps)
{
  struct series s[2] = {series_of(c, &a[0]), series_of(c, &a[1])};
  memset(ps, 0, sizeof *ps);
  if (!s[0].ok || !s[1].ok || (!s[0].el && !s[1].el)) return false;
  uint32_t n = series_len(s, 2);
  for (uint32_t i = 0; i < n; i++) {
    double x, y;
    if (!series_at(&s[0], i, &x) || !series_at(&s[1], i, &y)) continue;
    ps->n += 1;
    ps->sx += x;
    ps->sy += y;
    ps->sxx += x * x;
    ps->syy += y * y;
    ps->sxy += x * y;
  }
  return true;
}

static void
f_series_dot_product(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                     uint32_t na, struct kql_val *out)
{
  (void)n;
  (void)na;
  struct pair_sums ps;
  *out = pair_sums(c, a, &ps) ? kql_v_real(ps.sxy) : kql_v_null(KQL_T_REAL);
}

static void
f_series_cosine_similarity(struct kql_ctx *c, struct kql_node *n,
                           struct kql_val *a, uint32_t na, struct kql_val *out)
{
  (void)n;
  struct pair_sums ps;
  if (!pair_sums(c, a, &ps)) {
    *out = kql_v_null(KQL_T_REAL);
    return;
  }
  /* Optional magnitudes save computing them. */
  double m1 = sqrt(ps.sxx), m2 = sqrt(ps.syy), d;
  if (na > 2 && kql_fn_real(&a[2], &d)) m1 = d;
  if (na > 3 && kql_fn_real(&a[3], &d)) m2 = d;
  *out = kql_v_real(ps.sxy / (m1 * m2));
}

static void
f_series_pearson_correlation(struct kql_ctx *c, struct kql_node *n,
                             struct kql_val *a, uint32_t na,
                             struct kql_val *out)
{
  (void)n;
  (void)na;
  struct pair_sums ps;
  if (!pair_sums(c, a, &ps) || ps.n < 1) {
    *out = kql_v_null(KQL_T_REAL);
    return;
  }
  double cov = ps.sxy - ps.sx * ps.sy / ps.n;
  double vx = ps.sxx - ps.sx * ps.sx / ps.n;
  double vy = ps.syy - ps.sy * ps.sy / ps.n;
  *out = kql_v_real(cov / sqrt(vx * vy));
}

static void
f_series_magnitude(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                   uint32_t na, struct kql_val *out)
{
  (void)n;
  (void)na;
  struct kql_val two[2] = {a[0], a[0]};
  struct pair_sums ps;
  *out = pair_sums(c, two, &ps) ? kql_v_real(sqrt(ps.sxx))
                                : kql_v_null(KQL_T_REAL);
}

static void
f_series_sum(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
             uint32_t na, struct kql_val *out)
{
  (void)n;
  (void)na;
  struct kql_val two[2] = {a[0], a[0]};
  struct pair_sums ps;
  *out = pair_sums(c, two, &ps) ? kql_v_real(ps.sx) : kql_v_null(KQL_T_REAL);
}

static struct kql_kv
kv(const char *k, struct kql_val v)
{
  struct kql_kv r;
  r.k = k;
  r.kn = (uint32_t)strlen(k);
  r.v = v;
  return r;
}

/* series_stats_dynamic(x [, ignore_nonfinite]): min, min_idx, max,
 * max_idx, avg, stdev and variance (sample) as a property bag. */
static void
f_series_stats_dynamic(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                       uint32_t na, struct kql_val *out)
{
  (void)n;
  struct series s = series_of(c, &a[0]);
  if (!s.ok || !s.el) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  bool skip_nonfinite = false;
  if (na > 1 && !a[1].null && a[1].t == KQL_T_BOOL) skip_nonfinite = a[1].u.b;
  double cnt = 0, sum = 0, sq = 0, mn = 0, mx = 0;
  int64_t imn = -1, imx = -1;
  for (uint32_t i = 0; i < s.n; i++) {
    double d;
    if (!series_at(&s, i, &d)) continue;
    if (skip_nonfinite && !isfinite(d)) continue;
    if (imn < 0 || d < mn) {
      mn = d;
      imn = i;
    }
    if (imx < 0 || d > mx) {
      mx = d;
      imx = i;
    }
    cnt += 1;
    sum += d;
    sq += d * d;
  }
  struct kql_kv *b = kql_alloc(c->a, 7 * sizeof *b);
  struct kql_val nul = kql_v_null(KQL_T_DYNAMIC);
  double avg = cnt ? sum / cnt : 0;
  double var = cnt > 1 ? (sq - sum * sum / cnt) / (cnt - 1) : 0;
  if (var < 0) var = 0;
  b[0] = kv("min", cnt ? dyn_real(mn) : nul);
  b[1] = kv("min_idx", cnt ? dyn_long(imn) : nul);
  b[2] = kv("max", cnt ? dyn_real(mx) : nul);
  b[3] = kv("max_idx", cnt ? dyn_long(imx) : nul);
  b[4] = kv("avg", cnt ? dyn_real(avg) : nul);
  b[5] = kv("stdev", cnt ? dyn_real(sqrt(var)) : nul);
  b[6] = kv("variance", cnt ? dyn_real(var) : nul);
  struct kql_val r;
  memset(&r, 0, sizeof r);
  r.t = KQL_T_BAG;
  r.dyn = 1;
  r.n = 7;
  r.u.kv = b;
  *out = r;
}

/* ------------------------------------------------------------ filters */

/* series_iir(x, numerators b, denominators a):
 * y[i] = (sum_k b[k] x[i-k] - sum_{k>=1} a[k] y[i-k]) / a[0]. */
static void
f_series_iir(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
             uint32_t na, struct kql_val *out)
{
  (void)n;
  (void)na;
  struct series x = series_of(c, &a[0]), bs = series_of(c, &a[1]),
                as = series_of(c, &a[2]);
  double a0;
  if (!x.ok || !x.el || !bs.ok || !bs.el || !as.ok || !as.el || !as.n ||
      !series_at(&as, 0, &a0) || a0 == 0) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  uint32_t len = x.n > MAX_SERIES ? MAX_SERIES : x.n;
  double *y = kql_alloc(c->a, (len + 1) * sizeof *y);
  struct kql_val *el = kql_alloc(c->a, (len + 1) * sizeof *el);
  for (uint32_t i = 0; i < len; i++) {
    double acc = 0, v;
    for (uint32_t k = 0; k < bs.n && k <= i; k++)
      if (series_at(&bs, k, &v)) {
        double xv;
        if (series_at(&x, i - k, &xv)) acc += v * xv;
      }
    for (uint32_t k = 1; k < as.n && k <= i; k++)
      if (series_at(&as, k, &v)) acc -= v * y[i - k];
    y[i] = acc / a0;
    el[i] = dyn_real(y[i]);
  }
  *out = mk_array(el, len);
}

/* ------------------------------------------------------------ filling */

/* The missing value: null by default; or elements equal to a given
 * number. */
static bool
is_missing(const struct series *s, uint32_t i, bool has_miss, double miss)
{
  double d;
  if (!series_at(s, i, &d)) return true;
  return has_miss && (d == miss || (isnan(miss) && isnan(d)));
}

static bool
all_ints(const struct series *s, bool has_miss, double miss)
{
  bool any = false;
  for (uint32_t i = 0; i < s->n; i++) {
    int64_t v;
    if (is_missing(s, i, has_miss, miss)) continue;
    if (!series_int_at(s, i, &v)) return false;
    any = true;
  }
  return any;
}

/* series_fill_linear(x [, missing [, fill_edges [, constant]]]). */
static void
f_series_fill_linear(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                     uint32_t na, struct kql_val *out)
{
  (void)n;
  struct series s = series_of(c, &a[0]);
  if (!s.ok || !s.el) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  double miss = 0, cst = 0;
  bool has_miss = na > 1 && kql_fn_real(&a[1], &miss);
  bool edges = true;
  if (na > 2 && !a[2].null && a[2].t == KQL_T_BOOL) edges = a[2].u.b;
  if (na > 3 && !kql_fn_real(&a[3], &cst)) cst = 0;
  bool ints = all_ints(&s, has_miss, miss);
  uint32_t len = s.n > MAX_SERIES ? MAX_SERIES : s.n;
  struct kql_val *el = kql_alloc(c->a, (len + 1) * sizeof *el);
  int64_t prev = -1;
  double pv = 0;
  for (uint32_t i = 0; i <= len; i++) {
    double d = 0;
    if (i < len && is_missing(&s, i, has_miss, miss)) continue;
    if (i < len) series_at(&s, i, &d);
    /* Fill the gap (prev, i). */
    for (int64_t k = prev + 1; k < (int64_t)i; k++) {
      double f;
      bool ok = true;
      if (prev >= 0 && i < len)
        f = pv + (d - pv) * (double)(k - prev) / (double)((int64_t)i - prev);
      else if (prev < 0 && i == len)
        f = cst; /* nothing to interpolate from */
      else if (!edges)
        ok = false, f = 0;
      else
        f = prev >= 0 ? pv : d;
      if (!ok)
        el[k] = kql_v_null(KQL_T_DYNAMIC);
      else if (ints && !(prev < 0 && i == len))
        el[k] = dyn_long((int64_t)f);
      else
        el[k] = dyn_real(f);
    }
    if (i < len) {
      el[i] = s.el[i];
      prev = i;
      pv = d;
    }
  }
  *out = mk_array(el, len);
}

/* series_fill_const(x, constant [, missing]). */
static void
f_series_fill_const(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                    uint32_t na, struct kql_val *out)
{
  (void)n;
  struct series s = series_of(c, &a[0]);
  if (!s.ok || !s.el) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  double miss = 0;
  bool has_miss = na > 2 && kql_fn_real(&a[2], &miss);
  uint32_t len = s.n > MAX_SERIES ? MAX_SERIES : s.n;
  struct kql_val *el = kql_alloc(c->a, (len + 1) * sizeof *el);
  for (uint32_t i = 0; i < len; i++)
    el[i] = is_missing(&s, i, has_miss, miss) ? kql_dyn_wrap(&a[1]) : s.el[i];
  *out = mk_array(el, len);
}

/* series_fill_forward / series_fill_backward (x [, missing]). */
static void
fill_dir(struct kql_ctx *c, struct kql_val *a, uint32_t na, struct kql_val *out,
         bool fwd)
{
  struct series s = series_of(c, &a[0]);
  if (!s.ok || !s.el) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  double miss = 0;
  bool has_miss = na > 1 && kql_fn_real(&a[1], &miss);
  uint32_t len = s.n > MAX_SERIES ? MAX_SERIES : s.n;
  struct kql_val *el = kql_alloc(c->a, (len + 1) * sizeof *el);
  struct kql_val last = kql_v_null(KQL_T_DYNAMIC);
  for (uint32_t k = 0; k < len; k++) {
    uint32_t i = fwd ? k : len - 1 - k;
    if (!is_missing(&s, i, has_miss, miss)) last = s.el[i];
    el[i] = is_missing(&s, i, has_miss, miss) ? last : s.el[i];
  }
  *out = mk_array(el, len);
}

static void
f_series_fill_forward(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                      uint32_t na, struct kql_val *out)
{
  (void)n;
  fill_dir(c, a, na, out, true);
}

static void
f_series_fill_backward(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                       uint32_t na, struct kql_val *out)
{
  (void)n;
  fill_dir(c, a, na, out, false);
}

/* ------------------------------------------------------------ range */

/* range(start, stop [, step]): numbers, datetimes or timespans from
 * start to stop inclusive. */
static void
f_range(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
        struct kql_val *out)
{
  (void)n;
  struct kql_val step = na > 2 ? a[2] : kql_v_long(1);
  *out = kql_v_null(KQL_T_DYNAMIC);
  if (a[0].null || a[1].null || step.null) return;
  bool timed = a[0].t == KQL_T_DATETIME || a[0].t == KQL_T_TIMESPAN;
  if (timed) {
    if (step.t != KQL_T_TIMESPAN || step.u.i == 0) return;
    int64_t b = a[0].u.i, e, st = step.u.i;
    if (a[1].t != a[0].t) return;
    e = a[1].u.i;
    if ((st > 0 && e < b) || (st < 0 && e > b)) {
      *out = mk_array(NULL, 0);
      return;
    }
    uint64_t cnt = (uint64_t)((e - b) / st) + 1;
    if (cnt > MAX_SERIES) cnt = MAX_SERIES;
    struct kql_val *el = kql_alloc(c->a, (size_t)cnt * sizeof *el);
    for (uint64_t i = 0; i < cnt; i++) {
      el[i] = kql_v_time(a[0].t, b + (int64_t)i * st);
      el[i].dyn = 1;
    }
    *out = mk_array(el, (uint32_t)cnt);
    return;
  }
  int64_t ib = 0, is = 1;
  bool ints = (a[0].t == KQL_T_LONG || a[0].t == KQL_T_INT) &&
              (step.t == KQL_T_LONG || step.t == KQL_T_INT) &&
              kql_fn_long(&a[0], &ib) && kql_fn_long(&step, &is);
  double b, e, st;
  if (!kql_fn_real(&a[0], &b) || !kql_fn_real(&a[1], &e) ||
      !kql_fn_real(&step, &st) || st == 0 || isnan(b) || isnan(e) || isnan(st))
    return;
  if ((st > 0 && e < b) || (st < 0 && e > b)) {
    *out = mk_array(NULL, 0);
    return;
  }
  double cntd = floor((e - b) / st + 1e-9) + 1;
  uint32_t cnt = cntd > MAX_SERIES ? MAX_SERIES : (uint32_t)cntd;
  struct kql_val *el = kql_alloc(c->a, ((size_t)cnt + 1) * sizeof *el);
  for (uint32_t i = 0; i < cnt; i++)
    el[i] = ints ? dyn_long(ib + (int64_t)i * is) : dyn_real(b + i * st);
  *out = mk_array(el, cnt);
}

/* Keep sorted by name. */
const struct kql_fn kql_series_fns[] = {
    {"range", 2, 3, KQL_T_DYNAMIC, 0, f_range},
    {"series_abs", 1, 1, KQL_T_DYNAMIC, 0, f_series_abs},
    {"series_acos", 1, 1, KQL_T_DYNAMIC, 0, f_series_acos},
    {"series_add", 2, 2, KQL_T_DYNAMIC, 0, f_series_add},
    {"series_asin", 1, 1, KQL_T_DYNAMIC, 0, f_series_asin},
    {"series_atan", 1, 1, KQL_T_DYNAMIC, 0, f_series_atan},
    {"series_ceiling", 1, 1, KQL_T_DYNAMIC, 0, f_series_ceiling},
    {"series_cos", 1, 1, KQL_T_DYNAMIC, 0, f_series_cos},
    {"series_cosine_similarity", 2, 4, KQL_T_REAL, 0,
     f_series_cosine_similarity},
    {"series_divide", 2, 2, KQL_T_DYNAMIC, 0, f_series_divide},
    {"series_dot_product", 2, 2, KQL_T_REAL, 0, f_series_dot_product},
    {"series_equals", 2, 2, KQL_T_DYNAMIC, 0, f_series_equals},
    {"series_exp", 1, 1, KQL_T_DYNAMIC, 0, f_series_exp},
    {"series_fill_backward", 1, 2, KQL_T_DYNAMIC, 0, f_series_fill_backward},
    {"series_fill_const", 2, 3, KQL_T_DYNAMIC, 0, f_series_fill_const},
    {"series_fill_forward", 1, 2, KQL_T_DYNAMIC, 0, f_series_fill_forward},
    {"series_fill_linear", 1, 4, KQL_T_DYNAMIC, 0, f_series_fill_linear},
    {"series_floor", 1, 1, KQL_T_DYNAMIC, 0, f_series_floor},
    {"series_greater", 2, 2, KQL_T_DYNAMIC, 0, f_series_greater},
    {"series_greater_equals", 2, 2, KQL_T_DYNAMIC, 0, f_series_greater_equals},
    {"series_iir", 3, 3, KQL_T_DYNAMIC, 0, f_series_iir},
    {"series_less", 2, 2, KQL_T_DYNAMIC, 0, f_series_less},
    {"series_less_equals", 2, 2, KQL_T_DYNAMIC, 0, f_series_less_equals},
    {"series_log", 1, 1, KQL_T_DYNAMIC, 0, f_series_log},
    {"series_magnitude", 1, 1, KQL_T_REAL, 0, f_series_magnitude},
    {"series_multiply", 2, 2, KQL_T_DYNAMIC, 0, f_series_multiply},
    {"series_not_equals", 2, 2, KQL_T_DYNAMIC, 0, f_series_not_equals},
    {"series_pearson_correlation", 2, 2, KQL_T_REAL, 0,
     f_series_pearson_correlation},
    {"series_pow", 2, 2, KQL_T_DYNAMIC, 0, f_series_pow},
    {"series_sign", 1, 1, KQL_T_DYNAMIC, 0, f_series_sign},
    {"series_sin", 1, 1, KQL_T_DYNAMIC, 0, f_series_sin},
    {"series_sqrt", 1, 1, KQL_T_DYNAMIC, 0, f_series_sqrt},
    {"series_stats", 1, 2, KQL_T_DYNAMIC, 0, f_series_stats_dynamic},
    {"series_stats_dynamic", 1, 2, KQL_T_DYNAMIC, 0, f_series_stats_dynamic},
    {"series_subtract", 2, 2, KQL_T_DYNAMIC, 0, f_series_subtract},
    {"series_sum", 1, 1, KQL_T_REAL, 0, f_series_sum},
    {"series_tan", 1, 1, KQL_T_DYNAMIC, 0, f_series_tan},
};
const size_t kql_series_nfns = sizeof kql_series_fns / sizeof kql_series_fns[0];
