/*
 * kql_eval.c - evaluate bound scalar expressions for one row.
 *
 * A tree walk over bound nodes: columns read the row's slots, calls go
 * through the built-in table (kql_func.c). Operators follow Kusto: null
 * propagates except in ==/!= (one null side gives false/true) and in
 * and/or (false and null is false, true or null is true); int/long
 * arithmetic stays integral, anything with real is real; datetime and
 * timespan arithmetic works in ticks; % is never negative. String
 * operators: case-insensitive unless _cs; has matches whole terms
 * (runs of letters and digits). Rules: kql.md section 6.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Read a string as a datetime or timespan where the other side is one. */
static bool
coerce_time(const struct kql_val *v, int t, int64_t *out)
{
  if (v->null) return false;
  if (v->t == t) {
    *out = v->u.i;
    return true;
  }
  if (v->t == KQL_T_STRING)
    return t == KQL_T_DATETIME ? kql_parse_datetime(v->u.s, v->n, out)
                               : kql_parse_timespan(v->u.s, v->n, out);
  return false;
}

static bool
is_intlike(int t)
{
  return t == KQL_T_INT || t == KQL_T_LONG;
}

static int64_t
floor_mod(int64_t a, int64_t b)
{
  int64_t r = a % b;
  if (r < 0) r += b < 0 ? -b : b;
  return r;
}

static void
arith(int op, const struct kql_val *x, const struct kql_val *y,
      struct kql_val *out)
{
  int xt = x->t, yt = y->t;
  int64_t a, b;
  /* datetime and timespan */
  if (xt == KQL_T_DATETIME || yt == KQL_T_DATETIME || xt == KQL_T_TIMESPAN ||
      yt == KQL_T_TIMESPAN) {
    if (xt == KQL_T_DATETIME) {
      if ((op == KQL_OP_SUB) && coerce_time(y, KQL_T_DATETIME, &b) &&
          y->t != KQL_T_TIMESPAN) {
        *out = kql_v_time(KQL_T_TIMESPAN, x->u.i - b);
        return;
      }
      if ((op == KQL_OP_ADD || op == KQL_OP_SUB) &&
          coerce_time(y, KQL_T_TIMESPAN, &b)) {
        int64_t r = op == KQL_OP_ADD ? x->u.i + b : x->u.i - b;
        *out = r < 0 || r > KQL_MAX_TICKS ? kql_v_null(KQL_T_DATETIME)
                                          : kql_v_time(KQL_T_DATETIME, r);
        return;
      }
    } else if (yt == KQL_T_DATETIME) {
      if (op == KQL_OP_ADD && xt == KQL_T_TIMESPAN) {
        *out = kql_v_time(KQL_T_DATETIME, x->u.i + y->u.i);
        return;
      }
      if (op == KQL_OP_SUB && coerce_time(x, KQL_T_DATETIME, &a)) {
        *out = kql_v_time(KQL_T_TIMESPAN, a - y->u.i);
        return;
      }
    } else if (xt == KQL_T_TIMESPAN &&
               (yt == KQL_T_TIMESPAN || yt == KQL_T_STRING)) {
      if (!coerce_time(y, KQL_T_TIMESPAN, &b)) goto bad;
      a = x->u.i;
      switch (op) {
      case KQL_OP_ADD:
        *out = kql_v_time(KQL_T_TIMESPAN, a + b);
        return;
      case KQL_OP_SUB:
        *out = kql_v_time(KQL_T_TIMESPAN, a - b);
        return;
      case KQL_OP_DIV:
        *out = b ? kql_v_real((double)a / (double)b) : kql_v_null(KQL_T_REAL);
        return;
      case KQL_OP_MOD:
        *out = b ? kql_v_time(KQL_T_TIMESPAN, floor_mod(a, b))
                 : kql_v_null(KQL_T_TIMESPAN);
        return;
      default:
        goto bad;
      }
    } else if (xt == KQL_T_TIMESPAN && kql_is_num(yt)) {
      double d;
      kql_get_real(y, &d);
      if (op == KQL_OP_MUL) {
        *out = kql_v_time(KQL_T_TIMESPAN, (int64_t)llround(x->u.i * d));
        return;
      }
      if (op == KQL_OP_DIV) {
        *out = d != 0 ? kql_v_time(KQL_T_TIMESPAN, (int64_t)llround(x->u.i / d))
                      : kql_v_null(KQL_T_TIMESPAN);
        return;
      }
    } else if (yt == KQL_T_TIMESPAN && kql_is_num(xt) && op == KQL_OP_MUL) {
      double d;
      kql_get_real(x, &d);
      *out = kql_v_time(KQL_T_TIMESPAN, (int64_t)llround(y->u.i * d));
      return;
    } else if (yt == KQL_T_TIMESPAN && xt == KQL_T_STRING &&
               coerce_time(x, KQL_T_DATETIME, &a) &&
               (op == KQL_OP_ADD || op == KQL_OP_SUB)) {
      *out = kql_v_time(KQL_T_DATETIME,
                        op == KQL_OP_ADD ? a + y->u.i : a - y->u.i);
      return;
    }
  bad:
    *out = kql_v_null(KQL_T_ANY == 0 ? KQL_T_DYNAMIC : KQL_T_DYNAMIC);
    return;
  }
  if (is_intlike(xt) && is_intlike(yt)) {
    a = x->u.i;
    b = y->u.i;
    int rt = xt == KQL_T_INT && yt == KQL_T_INT ? KQL_T_INT : KQL_T_LONG;
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    int64_t r;
    switch (op) {
    case KQL_OP_ADD:
      r = (int64_t)(ua + ub);
      break;
    case KQL_OP_SUB:
      r = (int64_t)(ua - ub);
      break;
    case KQL_OP_MUL:
      r = (int64_t)(ua * ub);
      break;
    case KQL_OP_DIV:
      if (!b || (a == INT64_MIN && b == -1)) {
        *out = kql_v_null(rt);
        return;
      }
      r = a / b;
      break;
    default: /* MOD */
      if (!b) {
        *out = kql_v_null(rt);
        return;
      }
      if (b == -1) {
        r = 0;
        break;
      }
      r = floor_mod(a, b);
    }
    *out = rt == KQL_T_INT ? kql_v_int(r) : kql_v_long(r);
    return;
  }
  if (kql_is_num(xt) && kql_is_num(yt)) {
    double da, db, r;
    kql_get_real(x, &da);
    kql_get_real(y, &db);
    switch (op) {
    case KQL_OP_ADD:
      r = da + db;
      break;
    case KQL_OP_SUB:
      r = da - db;
      break;
    case KQL_OP_MUL:
      r = da * db;
      break;
    case KQL_OP_DIV:
      r = da / db;
      break;
    default:
      r = fmod(da, db);
      if (r < 0) r += fabs(db);
    }
    *out = kql_v_real(r);
    if (xt == KQL_T_DECIMAL || yt == KQL_T_DECIMAL) out->t = KQL_T_DECIMAL;
    return;
  }
  /* A string holding a number meets a number (dynamic values, as the
   * original tool allowed). */
  if ((x->dyn || y->dyn || xt == KQL_T_STRING || yt == KQL_T_STRING) &&
      (kql_is_num(xt) || kql_is_num(yt))) {
    struct kql_val cx = *x, cy = *y;
    int64_t i;
    double d;
    if (xt == KQL_T_STRING) {
      if (kql_get_long(x, &i) && !memchr(x->u.s, '.', x->n))
        cx = kql_v_long(i);
      else if (kql_get_real(x, &d))
        cx = kql_v_real(d);
      else
        goto null;
    }
    if (yt == KQL_T_STRING) {
      if (kql_get_long(y, &i) && !memchr(y->u.s, '.', y->n))
        cy = kql_v_long(i);
      else if (kql_get_real(y, &d))
        cy = kql_v_real(d);
      else
        goto null;
    }
    if (kql_is_num(cx.t) && kql_is_num(cy.t)) {
      arith(op, &cx, &cy, out);
      return;
    }
  }
null:
  *out = kql_v_null(kql_is_num(xt) ? xt : KQL_T_DYNAMIC);
}

void
kql_binop(struct kql_ctx *c, int op, const struct kql_val *x,
          const struct kql_val *y, struct kql_val *out)
{
  switch (op) {
  case KQL_OP_ADD:
  case KQL_OP_SUB:
  case KQL_OP_MUL:
  case KQL_OP_DIV:
  case KQL_OP_MOD:
    if (x->null || y->null) {
      int t = !x->null ? x->t : !y->null ? y->t : x->t;
      if (t == KQL_T_STRING || t == KQL_T_ARRAY || t == KQL_T_BAG)
        t = KQL_T_DYNAMIC;
      if (x->null && y->null && x->t != y->t) t = KQL_T_DYNAMIC;
      if (t == KQL_T_DATETIME && (op == KQL_OP_SUB) &&
          (x->t == KQL_T_DATETIME && y->t == KQL_T_DATETIME))
        t = KQL_T_TIMESPAN;
      *out = kql_v_null(t);
      return;
    }
    arith(op, x, y, out);
    return;
  case KQL_OP_EQ:
  case KQL_OP_NE:
  case KQL_OP_EQ_CI:
  case KQL_OP_NE_CI: {
    bool ne = op == KQL_OP_NE || op == KQL_OP_NE_CI;
    if (x->null || y->null) {
      if (x->null && y->null)
        *out = kql_v_null(KQL_T_BOOL);
      else
        *out = kql_v_bool(ne);
      return;
    }
    int r = kql_val_cmp(c->a, x, y, op == KQL_OP_EQ_CI || op == KQL_OP_NE_CI);
    if (r == KQL_CMP_NONE) {
      /* A number against its text: compare as text (Rx.Kql's in). */
      if ((x->t == KQL_T_STRING) != (y->t == KQL_T_STRING)) {
        struct kql_val sx = kql_to_string(c->a, x);
        struct kql_val sy = kql_to_string(c->a, y);
        r = kql_val_cmp(c->a, &sx, &sy, false);
      }
    }
    if (r == KQL_CMP_NONE)
      *out = kql_v_bool(ne);
    else
      *out = kql_v_bool(ne ? r != 0 : r == 0);
    return;
  }
  case KQL_OP_LT:
  case KQL_OP_LE:
  case KQL_OP_GT:
  case KQL_OP_GE: {
    if (x->null || y->null) {
      *out = kql_v_null(KQL_T_BOOL);
      return;
    }
    int r = kql_val_cmp(c->a, x, y, false);
    if (r == KQL_CMP_NONE) {
      *out = kql_v_null(KQL_T_BOOL);
      return;
    }
    bool b = op == KQL_OP_LT   ? r < 0
             : op == KQL_OP_LE ? r <= 0
             : op == KQL_OP_GT ? r > 0
                               : r >= 0;
    *out = kql_v_bool(b);
    return;
  }
  default: {
    int base = op & ~KQL_OP_NEGATE;
    bool isnull = false;
    bool r = kql_strop(c->a, base, x, y, &isnull);
    if (isnull)
      *out = kql_v_null(KQL_T_BOOL);
    else
      *out = kql_v_bool((op & KQL_OP_NEGATE) ? !r : r);
  }
  }
}

/* ------------------------------------------------------------ strings */

static bool
alnum(unsigned char c)
{
  return isalnum(c) || c >= 0x80;
}

static const char *
find_ci(const char *h, size_t hn, const char *n, size_t nn, size_t from,
        bool cs)
{
  if (nn == 0) return h + from;
  if (nn > hn) return NULL;
  if (cs) {
    for (size_t i = from; i + nn <= hn; i++) {
      const char *p = memchr(h + i, n[0], hn - nn + 1 - i);
      if (!p) return NULL;
      if (!memcmp(p, n, nn)) return p;
      i = (size_t)(p - h);
    }
    return NULL;
  }
  unsigned char f = (unsigned char)tolower((unsigned char)n[0]);
  for (size_t i = from; i + nn <= hn; i++) {
    if ((unsigned char)tolower((unsigned char)h[i]) != f) continue;
    size_t k = 1;
    while (k < nn &&
           tolower((unsigned char)h[i + k]) == tolower((unsigned char)n[k]))
      k++;
    if (k == nn) return h + i;
  }
  return NULL;
}

/* has / hasprefix / hassuffix: the match must start (end) at a term
 * boundary where the needle starts (ends) with a letter or digit. */
static bool
has_term(const char *h, size_t hn, const char *n, size_t nn, bool cs, bool pre,
         bool suf)
{
  if (nn == 0) return true;
  size_t from = 0;
  for (;;) {
    const char *p = find_ci(h, hn, n, nn, from, cs);
    if (!p) return false;
    size_t i = (size_t)(p - h);
    bool ok = true;
    if (pre && alnum((unsigned char)n[0]) && i > 0 &&
        alnum((unsigned char)h[i - 1]))
      ok = false;
    if (suf && alnum((unsigned char)n[nn - 1]) && i + nn < hn &&
        alnum((unsigned char)h[i + nn]))
      ok = false;
    if (ok) return true;
    from = i + 1;
  }
}

static struct kql_val
as_text(struct kql_arena *a, const struct kql_val *v)
{
  if (!v->null && v->t == KQL_T_STRING) return *v;
  return kql_to_string(a, v);
}

bool
kql_strop(struct kql_arena *a, int op, const struct kql_val *x,
          const struct kql_val *y, bool *isnull)
{
  *isnull = false;
  struct kql_val sx = as_text(a, x), sy = as_text(a, y);
  const char *h = sx.u.s, *n = sy.u.s;
  size_t hn = sx.n, nn = sy.n;
  switch (op) {
  case KQL_OP_CONTAINS:
  case KQL_OP_CONTAINS_CS:
    return find_ci(h, hn, n, nn, 0, op == KQL_OP_CONTAINS_CS);
  case KQL_OP_HAS:
  case KQL_OP_HAS_CS:
    return has_term(h, hn, n, nn, op == KQL_OP_HAS_CS, true, true);
  case KQL_OP_HASPREFIX:
  case KQL_OP_HASPREFIX_CS:
    return has_term(h, hn, n, nn, op == KQL_OP_HASPREFIX_CS, true, false);
  case KQL_OP_HASSUFFIX:
  case KQL_OP_HASSUFFIX_CS:
    return has_term(h, hn, n, nn, op == KQL_OP_HASSUFFIX_CS, false, true);
  case KQL_OP_STARTSWITH:
    return nn <= hn && !strncasecmp(h, n, nn);
  case KQL_OP_STARTSWITH_CS:
    return nn <= hn && !memcmp(h, n, nn);
  case KQL_OP_ENDSWITH:
    return nn <= hn && !strncasecmp(h + hn - nn, n, nn);
  case KQL_OP_ENDSWITH_CS:
    return nn <= hn && !memcmp(h + hn - nn, n, nn);
  case KQL_OP_MATCHES: {
    char err[128];
    struct kql_regex *re = kql_regex_compile(n, nn, 0, err, sizeof err);
    if (!re) {
      *isnull = true;
      return false;
    }
    long caps[2];
    bool r = kql_regex_search(re, h, hn, 0, caps);
    kql_regex_free(re);
    return r;
  }
  default:
    *isnull = true;
    return false;
  }
}

/* ------------------------------------------------------------ bin */

void
kql_bin(const struct kql_val *v, const struct kql_val *sz, struct kql_val *out)
{
  if (v->null || sz->null) {
    *out = kql_v_null(v->null ? v->t : v->t);
    return;
  }
  int64_t t;
  if (v->t == KQL_T_DATETIME || v->t == KQL_T_TIMESPAN ||
      (v->t == KQL_T_STRING && sz->t == KQL_T_TIMESPAN &&
       coerce_time(v, KQL_T_DATETIME, &t))) {
    int rt = v->t == KQL_T_STRING ? KQL_T_DATETIME : v->t;
    if (v->t != KQL_T_STRING) t = v->u.i;
    int64_t s;
    if (sz->t == KQL_T_TIMESPAN || is_intlike(sz->t))
      s = sz->u.i;
    else {
      double d;
      kql_get_real(sz, &d);
      s = (int64_t)d;
    }
    if (s <= 0) {
      *out = kql_v_null(rt);
      return;
    }
    int64_t r = t - floor_mod(t, s);
    *out = kql_v_time(rt, r);
    return;
  }
  if (is_intlike(v->t) && is_intlike(sz->t)) {
    if (sz->u.i <= 0) {
      *out = kql_v_null(v->t);
      return;
    }
    int64_t r = v->u.i - floor_mod(v->u.i, sz->u.i);
    *out = v->t == KQL_T_INT ? kql_v_int(r) : kql_v_long(r);
    return;
  }
  double a, b;
  if (kql_is_num(v->t) && kql_get_real(v, &a) && kql_get_real(sz, &b)) {
    if (sz->t == KQL_T_TIMESPAN) b = (double)sz->u.i;
    if (b <= 0) {
      *out = kql_v_null(v->t);
      return;
    }
    struct kql_val r = kql_v_real(floor(a / b) * b);
    if (is_intlike(v->t)) r = kql_v_long((int64_t)r.u.r);
    *out = r;
    return;
  }
  *out = kql_v_null(v->t);
}

/* ------------------------------------------------------------ nodes */

static bool
in_list(struct kql_ctx *c, struct kql_node *n, const struct kql_val *x)
{
  int op = n->op & ~KQL_OP_NEGATE;
  bool ci = op == KQL_OP_IN_CI;
  bool all = op == KQL_OP_HAS_ALL;
  bool any = false, every = true;
  for (uint32_t i = 1; i < n->nkids; i++) {
    struct kql_val v;
    kql_eval(c, n->kids[i], &v);
    struct kql_val one = v;
    uint32_t cnt = 1;
    struct kql_val *list = &one;
    if (v.t == KQL_T_ARRAY && !v.null) {
      kql_dyn_force(c->a, &v);
      list = v.u.a;
      cnt = v.n;
    }
    for (uint32_t k = 0; k < cnt; k++) {
      struct kql_val *e = &list[k];
      bool hit;
      if (op == KQL_OP_HAS_ANY || op == KQL_OP_HAS_ALL) {
        bool isnull;
        hit = kql_strop(c->a, KQL_OP_HAS, x, e, &isnull);
      } else {
        struct kql_val r;
        kql_binop(c, ci ? KQL_OP_EQ_CI : KQL_OP_EQ, x, e, &r);
        hit = !r.null && r.u.b;
      }
      if (hit)
        any = true;
      else
        every = false;
      if (hit && !all) return true;
    }
  }
  return all ? every : any;
}

void
kql_eval(struct kql_ctx *c, struct kql_node *n, struct kql_val *out)
{
  switch (n->kind) {
  case KQL_N_LIT:
    *out = n->lit;
    return;
  case KQL_N_NAME:
    if (n->slot < 0 || !c->row) {
      *out = kql_v_null(KQL_T_DYNAMIC);
      return;
    }
    *out = c->row->v[n->slot];
    return;
  case KQL_N_MEMBER: {
    struct kql_val b;
    kql_eval(c, n->kids[0], &b);
    if (!b.null && b.t == KQL_T_STRING && n->kids[0]->type != KQL_T_STRING) {
      /* A JSON text in a string column: read it as dynamic. */
      struct kql_val p;
      if (b.n && (b.u.s[0] == '{') && kql_json_parse_text(c->a, b.u.s, b.n, &p))
        b = p;
    }
    if (!kql_dyn_member(c->a, &b, n->name, n->nlen, out))
      *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  case KQL_N_INDEX: {
    struct kql_val b, i;
    kql_eval(c, n->kids[0], &b);
    kql_eval(c, n->kids[1], &i);
    int64_t k;
    if (b.t == KQL_T_BAG && i.t == KQL_T_STRING && !i.null) {
      if (!kql_dyn_member(c->a, &b, i.u.s, i.n, out))
        *out = kql_v_null(KQL_T_DYNAMIC);
      return;
    }
    if (!kql_get_long(&i, &k) || !kql_dyn_index(c->a, &b, k, out))
      *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  case KQL_N_CALL: {
    const struct kql_fn *fn = n->fn;
    if (!fn) {
      *out = kql_v_null(KQL_T_DYNAMIC);
      return;
    }
    if (fn->flags & KQL_FN_LAZY) {
      fn->f(c, n, NULL, n->nkids, out);
      return;
    }
    struct kql_val local[8];
    struct kql_val *args =
        n->nkids <= 8 ? local : kql_alloc(c->a, n->nkids * sizeof *args);
    for (uint32_t i = 0; i < n->nkids; i++) {
      if (n->kids[i]->kind == KQL_N_STAR)
        args[i] = kql_v_null(KQL_T_DYNAMIC);
      else
        kql_eval(c, n->kids[i], &args[i]);
    }
    fn->f(c, n, args, n->nkids, out);
    return;
  }
  case KQL_N_UNARY: {
    struct kql_val v;
    kql_eval(c, n->kids[0], &v);
    if (v.null) {
      *out = v;
      return;
    }
    switch (v.t) {
    case KQL_T_INT:
    case KQL_T_LONG:
    case KQL_T_TIMESPAN:
      v.u.i = (int64_t)(0 - (uint64_t)v.u.i);
      break;
    case KQL_T_REAL:
    case KQL_T_DECIMAL:
      v.u.r = -v.u.r;
      break;
    default:
      v = kql_v_null(KQL_T_DYNAMIC);
    }
    *out = v;
    return;
  }
  case KQL_N_BINARY: {
    int op = n->op;
    if (op == KQL_OP_AND || op == KQL_OP_OR) {
      struct kql_val l, r;
      kql_eval(c, n->kids[0], &l);
      bool lnull = l.null || l.t != KQL_T_BOOL;
      if (!lnull && op == KQL_OP_AND && !l.u.b) {
        *out = kql_v_bool(false);
        return;
      }
      if (!lnull && op == KQL_OP_OR && l.u.b) {
        *out = kql_v_bool(true);
        return;
      }
      kql_eval(c, n->kids[1], &r);
      bool rnull = r.null || r.t != KQL_T_BOOL;
      if (!rnull && op == KQL_OP_AND && !r.u.b) {
        *out = kql_v_bool(false);
        return;
      }
      if (!rnull && op == KQL_OP_OR && r.u.b) {
        *out = kql_v_bool(true);
        return;
      }
      /* The reference shows null and true as false. */
      if (lnull && rnull)
        *out = kql_v_null(KQL_T_BOOL);
      else if (lnull || rnull)
        *out = kql_v_bool(false);
      else
        *out = kql_v_bool(op == KQL_OP_AND);
      return;
    }
    struct kql_val l, r;
    kql_eval(c, n->kids[0], &l);
    kql_eval(c, n->kids[1], &r);
    if ((op & ~KQL_OP_NEGATE) == KQL_OP_MATCHES) {
      struct kql_val s = l.t == KQL_T_STRING ? l : kql_to_string(c->a, &l);
      struct kql_regex *re = kql_node_regex(c, n, &r, 0);
      if (!re) {
        *out = kql_v_null(KQL_T_BOOL);
        return;
      }
      long caps[64];
      *out = kql_v_bool(kql_regex_search(re, s.u.s, s.n, 0, caps));
      if (re != n->aux) kql_regex_free(re);
      return;
    }
    kql_binop(c, op, &l, &r, out);
    return;
  }
  case KQL_N_IN: {
    struct kql_val x;
    kql_eval(c, n->kids[0], &x);
    bool neg = (n->op & KQL_OP_NEGATE) != 0;
    int op = n->op & ~KQL_OP_NEGATE;
    if (x.null && op != KQL_OP_HAS_ANY && op != KQL_OP_HAS_ALL) {
      *out = kql_v_bool(neg);
      return;
    }
    bool r = in_list(c, n, &x);
    *out = kql_v_bool(neg ? !r : r);
    return;
  }
  case KQL_N_BETWEEN: {
    struct kql_val x, lo, hi, a, b;
    kql_eval(c, n->kids[0], &x);
    kql_eval(c, n->kids[1], &lo);
    kql_eval(c, n->kids[2], &hi);
    if (hi.t == KQL_T_TIMESPAN && !hi.null &&
        (lo.t == KQL_T_DATETIME || lo.t == KQL_T_TIMESPAN)) {
      struct kql_val sum;
      kql_binop(c, KQL_OP_ADD, &lo, &hi, &sum);
      hi = sum;
    }
    kql_binop(c, KQL_OP_GE, &x, &lo, &a);
    kql_binop(c, KQL_OP_LE, &x, &hi, &b);
    if (a.null || b.null) {
      *out = kql_v_null(KQL_T_BOOL);
      return;
    }
    bool r = a.u.b && b.u.b;
    *out = kql_v_bool((n->op & KQL_OP_NEGATE) ? !r : r);
    return;
  }
  default:
    *out = kql_v_null(KQL_T_DYNAMIC);
  }
}

bool
kql_eval_bool(struct kql_ctx *c, struct kql_node *n)
{
  struct kql_val v;
  kql_eval(c, n, &v);
  if (v.null) return false;
  if (v.t == KQL_T_BOOL) return v.u.b;
  if (v.t == KQL_T_STRING && v.dyn)
    return v.n == 4 && !strncasecmp(v.u.s, "true", 4);
  return false;
}

struct kql_regex *
kql_node_regex(struct kql_ctx *c, struct kql_node *n, const struct kql_val *pat,
               int flags)
{
  if (n->aux) return n->aux;
  (void)c;
  if (pat->null) return NULL;
  struct kql_val s = *pat;
  if (s.t != KQL_T_STRING) return NULL;
  char err[128];
  return kql_regex_compile(s.u.s, s.n, flags, err, sizeof err);
}
