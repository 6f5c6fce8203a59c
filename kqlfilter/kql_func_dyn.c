/*
 * kql_func_dyn.c - functions over dynamic values (arrays and property
 * bags), IPv4 helpers, hashing and text encodings.
 *
 * Arrays and bags are built in the row arena; lazy JSON values are
 * parsed only when a function needs their parts. Hashes: hash() is
 * xxHash64 of the value's text (as Kusto documents), hash_md5/sha1/
 * sha256 are the usual digests as lowercase hex, written here from the
 * published algorithms.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_func.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
mk_bag(struct kql_kv *kv, uint32_t n)
{
  struct kql_val v;
  memset(&v, 0, sizeof v);
  v.t = KQL_T_BAG;
  v.dyn = 1;
  v.n = n;
  v.u.kv = kv;
  return v;
}

/* The argument as a parsed array; false if it is not one. */
static bool
arr(struct kql_ctx *c, const struct kql_val *v, struct kql_val *out)
{
  if (v->null || v->t != KQL_T_ARRAY) return false;
  *out = *v;
  kql_dyn_force(c->a, out);
  return true;
}

static bool
bag(struct kql_ctx *c, const struct kql_val *v, struct kql_val *out)
{
  if (v->null || v->t != KQL_T_BAG) return false;
  *out = *v;
  kql_dyn_force(c->a, out);
  return true;
}

static struct kql_val
elem(const struct kql_val *v)
{
  return kql_dyn_wrap(v);
}

KQL_FN(kql_f_array_length)
{
  (void)n;
  (void)na;
  struct kql_val x;
  if (!arr(c, &a[0], &x)) {
    *out = kql_v_null(KQL_T_LONG);
    return;
  }
  *out = kql_v_long(x.n);
}

KQL_FN(kql_f_pack_array)
{
  (void)n;
  struct kql_val *el = kql_alloc(c->a, (na + 1) * sizeof *el);
  for (uint32_t i = 0; i < na; i++)
    el[i] = elem(&a[i]);
  *out = mk_array(el, na);
}

KQL_FN(kql_f_pack)
{
  (void)n;
  struct kql_kv *kv = kql_alloc(c->a, (na / 2 + 1) * sizeof *kv);
  uint32_t k = 0;
  for (uint32_t i = 0; i + 1 < na; i += 2) {
    struct kql_val key = kql_fn_str(c, &a[i]);
    uint32_t slot = k;
    for (uint32_t j = 0; j < k; j++)
      if (kv[j].kn == key.n && !memcmp(kv[j].k, key.u.s, key.n)) slot = j;
    if (slot == k) k++;
    kv[slot].k = key.u.s;
    kv[slot].kn = key.n;
    kv[slot].v = elem(&a[i + 1]);
  }
  *out = mk_bag(kv, k);
}

KQL_FN(kql_f_bag_keys)
{
  (void)n;
  (void)na;
  struct kql_val b;
  if (!bag(c, &a[0], &b)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  struct kql_val *el = kql_alloc(c->a, (b.n + 1) * sizeof *el);
  for (uint32_t i = 0; i < b.n; i++) {
    el[i] = kql_v_str(b.u.kv[i].k, b.u.kv[i].kn);
    el[i].dyn = 1;
  }
  *out = mk_array(el, b.n);
}

KQL_FN(kql_f_bag_has_key)
{
  (void)n;
  (void)na;
  struct kql_val b, v;
  if (!bag(c, &a[0], &b)) {
    *out = kql_v_null(KQL_T_BOOL);
    return;
  }
  struct kql_val k = kql_fn_str(c, &a[1]);
  *out = kql_v_bool(kql_dyn_member(c->a, &b, k.u.s, k.n, &v));
}

KQL_FN(kql_f_bag_merge)
{
  (void)n;
  uint32_t total = 0;
  for (uint32_t i = 0; i < na; i++) {
    struct kql_val b;
    if (bag(c, &a[i], &b)) total += b.n;
  }
  struct kql_kv *kv = kql_alloc(c->a, (total + 1) * sizeof *kv);
  uint32_t k = 0;
  for (uint32_t i = 0; i < na; i++) {
    struct kql_val b;
    if (!bag(c, &a[i], &b)) continue;
    for (uint32_t j = 0; j < b.n; j++) {
      bool dup = false;
      for (uint32_t m = 0; m < k; m++)
        if (kv[m].kn == b.u.kv[j].kn && !memcmp(kv[m].k, b.u.kv[j].k, kv[m].kn))
          dup = true;
      if (!dup) kv[k++] = b.u.kv[j];
    }
  }
  *out = mk_bag(kv, k);
}

KQL_FN(kql_f_bag_remove_keys)
{
  (void)n;
  (void)na;
  struct kql_val b, keys;
  if (!bag(c, &a[0], &b) || !arr(c, &a[1], &keys)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  struct kql_kv *kv = kql_alloc(c->a, (b.n + 1) * sizeof *kv);
  uint32_t k = 0;
  for (uint32_t i = 0; i < b.n; i++) {
    bool drop = false;
    for (uint32_t j = 0; j < keys.n; j++) {
      struct kql_val s = kql_fn_str(c, &keys.u.a[j]);
      /* a JSONPath like $.a.b removes nested keys: only top level here */
      const char *p = s.u.s;
      size_t pn = s.n;
      if (pn >= 2 && p[0] == '$' && p[1] == '.') {
        p += 2;
        pn -= 2;
      }
      if (pn == b.u.kv[i].kn && !memcmp(p, b.u.kv[i].k, pn)) drop = true;
    }
    if (!drop) kv[k++] = b.u.kv[i];
  }
  *out = mk_bag(kv, k);
}

KQL_FN(kql_f_bag_set_key)
{
  (void)n;
  (void)na;
  struct kql_val b;
  if (!bag(c, &a[0], &b)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  struct kql_val key = kql_fn_str(c, &a[1]);
  struct kql_kv *kv = kql_alloc(c->a, (b.n + 1) * sizeof *kv);
  memcpy(kv, b.u.kv, b.n * sizeof *kv);
  uint32_t k = b.n;
  uint32_t slot = k;
  for (uint32_t i = 0; i < k; i++)
    if (kv[i].kn == key.n && !memcmp(kv[i].k, key.u.s, key.n)) slot = i;
  if (slot == k) k++;
  kv[slot].k = key.u.s;
  kv[slot].kn = key.n;
  kv[slot].v = elem(&a[2]);
  *out = mk_bag(kv, k);
}

KQL_FN(kql_f_array_concat)
{
  (void)n;
  uint32_t total = 0;
  for (uint32_t i = 0; i < na; i++) {
    struct kql_val x;
    if (!arr(c, &a[i], &x)) {
      *out = kql_v_null(KQL_T_DYNAMIC);
      return;
    }
    total += x.n;
  }
  struct kql_val *el = kql_alloc(c->a, (total + 1) * sizeof *el);
  uint32_t k = 0;
  for (uint32_t i = 0; i < na; i++) {
    struct kql_val x;
    arr(c, &a[i], &x);
    memcpy(el + k, x.u.a, x.n * sizeof *el);
    k += x.n;
  }
  *out = mk_array(el, k);
}

KQL_FN(kql_f_array_iff)
{
  (void)n;
  (void)na;
  struct kql_val cond, t, f;
  if (!arr(c, &a[0], &cond)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  bool ta = arr(c, &a[1], &t), fa = arr(c, &a[2], &f);
  struct kql_val *el = kql_alloc(c->a, (cond.n + 1) * sizeof *el);
  for (uint32_t i = 0; i < cond.n; i++) {
    struct kql_val b = kql_convert(c->a, &cond.u.a[i], KQL_T_BOOL);
    struct kql_val pick;
    if (b.null)
      pick = kql_v_null(KQL_T_DYNAMIC);
    else if (b.u.b)
      pick = ta ? (i < t.n ? t.u.a[i] : kql_v_null(KQL_T_DYNAMIC)) : a[1];
    else
      pick = fa ? (i < f.n ? f.u.a[i] : kql_v_null(KQL_T_DYNAMIC)) : a[2];
    if (cond.u.a[i].t != KQL_T_BOOL && !cond.u.a[i].null)
      pick = kql_v_null(KQL_T_DYNAMIC); /* not a bool: null */
    el[i] = elem(&pick);
  }
  *out = mk_array(el, cond.n);
}

KQL_FN(kql_f_array_index_of)
{
  (void)n;
  struct kql_val x;
  if (!arr(c, &a[0], &x)) {
    *out = kql_v_null(KQL_T_LONG);
    return;
  }
  int64_t start = 0, len = -1, occ = 1;
  if (na > 2 && !kql_fn_long(&a[2], &start)) start = 0;
  if (na > 3 && !kql_fn_long(&a[3], &len)) len = -1;
  if (na > 4 && !kql_fn_long(&a[4], &occ)) occ = 1;
  if (start < 0) start += x.n;
  if (start < 0) start = 0;
  int64_t end = len < 0 ? x.n : start + len;
  if (end > x.n) end = x.n;
  for (int64_t i = start; i < end && occ > 0; i++) {
    struct kql_val r;
    kql_binop(c, KQL_OP_EQ, &x.u.a[i], &a[1], &r);
    if (!r.null && r.u.b && --occ == 0) {
      *out = kql_v_long(i);
      return;
    }
  }
  *out = kql_v_long(-1);
}

KQL_FN(kql_f_array_reverse)
{
  (void)n;
  (void)na;
  struct kql_val x;
  if (!arr(c, &a[0], &x)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  struct kql_val *el = kql_alloc(c->a, (x.n + 1) * sizeof *el);
  for (uint32_t i = 0; i < x.n; i++)
    el[i] = x.u.a[x.n - 1 - i];
  *out = mk_array(el, x.n);
}

static void
rotate(struct kql_ctx *c, struct kql_val *a, struct kql_val *out, bool left)
{
  struct kql_val x;
  int64_t k;
  if (!arr(c, &a[0], &x) || !kql_fn_long(&a[1], &k)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  struct kql_val *el = kql_alloc(c->a, (x.n + 1) * sizeof *el);
  if (x.n) {
    int64_t s = k % (int64_t)x.n;
    if (!left) s = -s;
    if (s < 0) s += x.n;
    for (uint32_t i = 0; i < x.n; i++)
      el[i] = x.u.a[(i + (uint64_t)s) % x.n];
  }
  *out = mk_array(el, x.n);
}

KQL_FN(kql_f_array_rotate_left)
{
  (void)n;
  (void)na;
  rotate(c, a, out, true);
}

KQL_FN(kql_f_array_rotate_right)
{
  (void)n;
  (void)na;
  rotate(c, a, out, false);
}

static void
shift(struct kql_ctx *c, struct kql_val *a, uint32_t na, struct kql_val *out,
      bool left)
{
  struct kql_val x;
  int64_t k;
  if (!arr(c, &a[0], &x) || !kql_fn_long(&a[1], &k)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  struct kql_val fill = na > 2 ? elem(&a[2]) : kql_v_null(KQL_T_DYNAMIC);
  struct kql_val *el = kql_alloc(c->a, (x.n + 1) * sizeof *el);
  if (!left) k = -k;
  for (int64_t i = 0; i < x.n; i++) {
    int64_t src = i + k;
    el[i] = src >= 0 && src < x.n ? x.u.a[src] : fill;
  }
  *out = mk_array(el, x.n);
}

KQL_FN(kql_f_array_shift_left)
{
  (void)n;
  shift(c, a, na, out, true);
}

KQL_FN(kql_f_array_shift_right)
{
  (void)n;
  shift(c, a, na, out, false);
}

KQL_FN(kql_f_array_slice)
{
  (void)n;
  (void)na;
  struct kql_val x;
  int64_t s, e;
  if (!arr(c, &a[0], &x) || !kql_fn_long(&a[1], &s) ||
      !kql_fn_long(&a[2], &e)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  if (s < 0) s += x.n;
  if (e < 0) e += x.n;
  if (s < 0) s = 0;
  if (e >= x.n) e = x.n - 1;
  uint32_t cnt = e >= s ? (uint32_t)(e - s + 1) : 0;
  *out = mk_array(cnt ? x.u.a + s : x.u.a, cnt);
}

KQL_FN(kql_f_array_split)
{
  (void)n;
  (void)na;
  struct kql_val x;
  if (!arr(c, &a[0], &x)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  int64_t idx[256];
  uint32_t ni = 0;
  struct kql_val l;
  if (arr(c, &a[1], &l)) {
    for (uint32_t i = 0; i < l.n && ni < 255; i++)
      if (kql_get_long(&l.u.a[i], &idx[ni])) ni++;
  } else if (kql_fn_long(&a[1], &idx[0])) {
    ni = 1;
  }
  struct kql_val *parts = kql_alloc(c->a, (ni + 2) * sizeof *parts);
  int64_t prev = 0;
  for (uint32_t i = 0; i <= ni; i++) {
    int64_t cut = i < ni ? idx[i] : x.n;
    if (cut < 0) cut += x.n;
    if (cut > x.n) cut = x.n;
    if (cut < prev) cut = prev;
    parts[i] = mk_array(x.u.a + prev, (uint32_t)(cut - prev));
    prev = cut;
  }
  *out = mk_array(parts, ni + 1);
}

static const struct kql_val *sort_base;
static bool sort_desc;

static int
cmp_idx(const void *x, const void *y)
{
  uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
  int c = kql_val_sortcmp(&sort_base[i], &sort_base[j]);
  if (sort_desc) c = -c;
  return c ? c : (i < j ? -1 : i > j);
}

/* array_sort_asc/desc(a1 [, a2 ...] [, nulls_last]): a1 sorted, the
 * others reordered alike; with several arrays, an array of them. Nulls
 * go last unless nulls_last is false. */
static void
sort_arr(struct kql_ctx *c, struct kql_val *a, uint32_t na, struct kql_val *out,
         bool desc)
{
  bool nulls_last = true;
  if (na > 1 && a[na - 1].t == KQL_T_BOOL && !a[na - 1].null) {
    nulls_last = a[na - 1].u.b;
    na--;
  }
  struct kql_val *xs = kql_alloc(c->a, (na + 1) * sizeof *xs);
  for (uint32_t k = 0; k < na; k++)
    if (!arr(c, &a[k], &xs[k]) || (k && xs[k].n != xs[0].n)) {
      *out = kql_v_null(KQL_T_DYNAMIC);
      return;
    }
  uint32_t n0 = xs[0].n;
  uint32_t *ix = kql_alloc(c->a, (n0 + 1) * sizeof *ix);
  uint32_t k = 0, nn = 0;
  for (uint32_t i = 0; i < n0; i++)
    if (!xs[0].u.a[i].null) ix[k++] = i;
  sort_base = xs[0].u.a;
  sort_desc = desc;
  if (k > 1) qsort(ix, k, sizeof *ix, cmp_idx);
  for (uint32_t i = 0; i < n0; i++)
    if (xs[0].u.a[i].null) ix[k + nn++] = i;
  if (!nulls_last && nn) {
    uint32_t *t = kql_alloc(c->a, (n0 + 1) * sizeof *t);
    memcpy(t, ix + k, nn * sizeof *t);
    memcpy(t + nn, ix, k * sizeof *t);
    ix = t;
  }
  struct kql_val *res = kql_alloc(c->a, (na + 1) * sizeof *res);
  for (uint32_t m = 0; m < na; m++) {
    struct kql_val *el = kql_alloc(c->a, (n0 + 1) * sizeof *el);
    for (uint32_t i = 0; i < n0; i++)
      el[i] = xs[m].u.a[ix[i]];
    res[m] = mk_array(el, n0);
  }
  *out = na == 1 ? res[0] : mk_array(res, na);
}

KQL_FN(kql_f_array_sort_asc)
{
  (void)n;
  sort_arr(c, a, na, out, false);
}

KQL_FN(kql_f_array_sort_desc)
{
  (void)n;
  sort_arr(c, a, na, out, true);
}

KQL_FN(kql_f_array_sum)
{
  (void)n;
  (void)na;
  struct kql_val x;
  if (!arr(c, &a[0], &x)) {
    *out = kql_v_null(KQL_T_REAL);
    return;
  }
  double s = 0;
  for (uint32_t i = 0; i < x.n; i++) {
    double d;
    if (!kql_get_real(&x.u.a[i], &d)) {
      *out = kql_v_null(KQL_T_REAL);
      return;
    }
    s += d;
  }
  *out = kql_v_real(s);
}

KQL_FN(kql_f_strcat_array)
{
  (void)n;
  (void)na;
  struct kql_val x;
  if (!arr(c, &a[0], &x)) {
    *out = kql_v_str("", 0);
    return;
  }
  struct kql_val d = kql_fn_str(c, &a[1]);
  size_t total = 0;
  struct kql_val *s = kql_alloc(c->a, (x.n + 1) * sizeof *s);
  for (uint32_t i = 0; i < x.n; i++) {
    s[i] = kql_fn_str(c, &x.u.a[i]);
    total += s[i].n + d.n;
  }
  char *o = kql_alloc(c->a, total + 1);
  size_t k = 0;
  for (uint32_t i = 0; i < x.n; i++) {
    if (i) {
      memcpy(o + k, d.u.s, d.n);
      k += d.n;
    }
    memcpy(o + k, s[i].u.s, s[i].n);
    k += s[i].n;
  }
  o[k] = 0;
  *out = kql_v_str(o, k);
}

KQL_FN(kql_f_zip)
{
  (void)n;
  uint32_t maxn = 0;
  struct kql_val *xs = kql_alloc(c->a, (na + 1) * sizeof *xs);
  for (uint32_t i = 0; i < na; i++) {
    if (!arr(c, &a[i], &xs[i])) {
      *out = kql_v_null(KQL_T_DYNAMIC);
      return;
    }
    if (xs[i].n > maxn) maxn = xs[i].n;
  }
  struct kql_val *rows = kql_alloc(c->a, (maxn + 1) * sizeof *rows);
  for (uint32_t r = 0; r < maxn; r++) {
    struct kql_val *el = kql_alloc(c->a, (na + 1) * sizeof *el);
    for (uint32_t i = 0; i < na; i++)
      el[i] = r < xs[i].n ? xs[i].u.a[r] : kql_v_null(KQL_T_DYNAMIC);
    rows[r] = mk_array(el, na);
  }
  *out = mk_array(rows, maxn);
}

static bool
set_has(struct kql_ctx *c, const struct kql_val *el, uint32_t n,
        const struct kql_val *v)
{
  (void)c;
  for (uint32_t i = 0; i < n; i++)
    if (kql_val_same(&el[i], v)) return true;
  return false;
}

KQL_FN(kql_f_set_has_element)
{
  (void)n;
  (void)na;
  struct kql_val x;
  if (!arr(c, &a[0], &x)) {
    *out = kql_v_null(KQL_T_BOOL);
    return;
  }
  *out = kql_v_bool(set_has(c, x.u.a, x.n, &a[1]));
}

static void
set_op(struct kql_ctx *c, struct kql_val *a, uint32_t na, struct kql_val *out,
       int op)
{
  uint32_t total = 0;
  struct kql_val *xs = kql_alloc(c->a, (na + 1) * sizeof *xs);
  for (uint32_t i = 0; i < na; i++) {
    if (!arr(c, &a[i], &xs[i])) {
      *out = kql_v_null(KQL_T_DYNAMIC);
      return;
    }
    total += xs[i].n;
  }
  struct kql_val *el = kql_alloc(c->a, (total + 1) * sizeof *el);
  uint32_t k = 0;
  uint32_t from = op == 0 ? na : 1;
  for (uint32_t i = 0; i < from; i++)
    for (uint32_t j = 0; j < xs[i].n; j++) {
      struct kql_val *v = &xs[i].u.a[j];
      if (set_has(c, el, k, v)) continue;
      bool keep = true;
      for (uint32_t m = 1; m < na && op != 0; m++) {
        bool in = set_has(c, xs[m].u.a, xs[m].n, v);
        if ((op == 1 && !in) || (op == 2 && in)) keep = false;
      }
      if (keep) el[k++] = *v;
    }
  *out = mk_array(el, k);
}

KQL_FN(kql_f_set_union)
{
  (void)n;
  set_op(c, a, na, out, 0);
}

KQL_FN(kql_f_set_intersect)
{
  (void)n;
  set_op(c, a, na, out, 1);
}

KQL_FN(kql_f_set_difference)
{
  (void)n;
  set_op(c, a, na, out, 2);
}

KQL_FN(kql_f_dynamic_to_json)
{
  (void)n;
  (void)na;
  if (a[0].null) {
    *out = kql_v_str("null", 4);
    return;
  }
  if (a[0].t == KQL_T_BAG) {
    /* keys sorted, as the reference shows */
    struct kql_val b;
    bag(c, &a[0], &b);
    struct kql_kv *kv = kql_alloc(c->a, (b.n + 1) * sizeof *kv);
    memcpy(kv, b.u.kv, b.n * sizeof *kv);
    for (uint32_t i = 1; i < b.n; i++)
      for (uint32_t j = i; j > 0; j--) {
        size_t m = kv[j].kn < kv[j - 1].kn ? kv[j].kn : kv[j - 1].kn;
        int r = memcmp(kv[j].k, kv[j - 1].k, m);
        if (r > 0 || (r == 0 && kv[j].kn >= kv[j - 1].kn)) break;
        struct kql_kv t = kv[j];
        kv[j] = kv[j - 1];
        kv[j - 1] = t;
      }
    for (uint32_t i = 0; i < b.n; i++) {
      struct kql_val s;
      KQL_FN(kql_f_dynamic_to_json);
      if (kv[i].v.t == KQL_T_BAG) {
        kql_f_dynamic_to_json(c, n, &kv[i].v, 1, &s);
        kql_json_parse_text(c->a, s.u.s, s.n, &kv[i].v);
      }
    }
    struct kql_val sorted = mk_bag(kv, b.n);
    *out = kql_val_json(c->a, &sorted);
    return;
  }
  *out = kql_val_json(c->a, &a[0]);
}

/* ------------------------------------------------------------ IPv4 */

static bool
ipv4_parse(const char *s, size_t n, uint32_t *ip, int *prefix)
{
  uint32_t v = 0;
  size_t i = 0;
  *prefix = 32;
  for (int part = 0; part < 4; part++) {
    if (i >= n || !isdigit((unsigned char)s[i])) return false;
    unsigned x = 0;
    int d = 0;
    while (i < n && isdigit((unsigned char)s[i]) && d < 4) {
      x = x * 10 + (unsigned)(s[i++] - '0');
      d++;
    }
    if (x > 255) return false;
    v = v << 8 | x;
    if (part < 3) {
      if (i >= n || s[i] != '.') return false;
      i++;
    }
  }
  if (i < n && s[i] == '/') {
    i++;
    int p = 0, d = 0;
    while (i < n && isdigit((unsigned char)s[i]) && d < 3) {
      p = p * 10 + (s[i++] - '0');
      d++;
    }
    if (!d || p > 32) return false;
    *prefix = p;
  }
  if (i != n) return false;
  *ip = v;
  return true;
}

static bool
ip_arg(struct kql_ctx *c, const struct kql_val *v, uint32_t *ip, int *pfx)
{
  if (v->null) return false;
  struct kql_val s = kql_fn_str(c, v);
  return ipv4_parse(s.u.s, s.n, ip, pfx);
}

KQL_FN(kql_f_parse_ipv4)
{
  (void)n;
  (void)na;
  uint32_t ip;
  int p;
  if (!ip_arg(c, &a[0], &ip, &p)) {
    *out = kql_v_null(KQL_T_LONG);
    return;
  }
  uint32_t mask = p ? 0xFFFFFFFFu << (32 - p) : 0;
  *out = kql_v_long(ip & mask);
}

static uint32_t
mask_of(int p)
{
  return p ? 0xFFFFFFFFu << (32 - p) : 0;
}

KQL_FN(kql_f_ipv4_is_in_range)
{
  (void)n;
  (void)na;
  uint32_t ip, r;
  int p1, p2;
  if (!ip_arg(c, &a[0], &ip, &p1) || !ip_arg(c, &a[1], &r, &p2)) {
    *out = kql_v_null(KQL_T_BOOL);
    return;
  }
  uint32_t m = mask_of(p2);
  *out = kql_v_bool((ip & m) == (r & m));
}

KQL_FN(kql_f_ipv4_compare)
{
  (void)n;
  uint32_t x, y;
  int p1, p2;
  if (!ip_arg(c, &a[0], &x, &p1) || !ip_arg(c, &a[1], &y, &p2)) {
    *out = kql_v_null(KQL_T_LONG);
    return;
  }
  int p = p1 < p2 ? p1 : p2;
  int64_t pm;
  if (na > 2 && kql_fn_long(&a[2], &pm) && pm >= 0 && pm < p) p = (int)pm;
  uint32_t m = mask_of(p);
  x &= m;
  y &= m;
  *out = kql_v_long(x < y ? -1 : x > y ? 1 : 0);
}

KQL_FN(kql_f_ipv4_is_match)
{
  struct kql_val r;
  kql_f_ipv4_compare(c, n, a, na, &r);
  *out = r.null ? kql_v_null(KQL_T_BOOL) : kql_v_bool(r.u.i == 0);
}

KQL_FN(kql_f_ipv4_is_private)
{
  (void)n;
  (void)na;
  uint32_t ip;
  int p;
  if (!ip_arg(c, &a[0], &ip, &p)) {
    *out = kql_v_null(KQL_T_BOOL);
    return;
  }
  bool priv = (ip >> 24) == 10 || (ip >> 20) == ((172u << 4) | 1) ||
              (ip >> 16) == ((192u << 8) | 168);
  *out = kql_v_bool(priv);
}

/* ------------------------------------------------------------ hashing */

static uint64_t
rotl64(uint64_t x, int r)
{
  return (x << r) | (x >> (64 - r));
}

#define P1 11400714785074694791ULL
#define P2 14029467366897019727ULL
#define P3 1609587929392839161ULL
#define P4 9650029242287828579ULL
#define P5 2870177450012600261ULL

static uint64_t
rd64(const unsigned char *p)
{
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

static uint32_t
rd32(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static uint64_t
xxround(uint64_t acc, uint64_t in)
{
  acc += in * P2;
  acc = rotl64(acc, 31);
  return acc * P1;
}

static uint64_t
xxmerge(uint64_t acc, uint64_t v)
{
  acc ^= xxround(0, v);
  return acc * P1 + P4;
}

static uint64_t
xxh64(const void *data, size_t len, uint64_t seed)
{
  const unsigned char *p = data, *end = p + len;
  uint64_t h;
  if (len >= 32) {
    uint64_t v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
    while (end - p >= 32) {
      v1 = xxround(v1, rd64(p));
      v2 = xxround(v2, rd64(p + 8));
      v3 = xxround(v3, rd64(p + 16));
      v4 = xxround(v4, rd64(p + 24));
      p += 32;
    }
    h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
    h = xxmerge(h, v1);
    h = xxmerge(h, v2);
    h = xxmerge(h, v3);
    h = xxmerge(h, v4);
  } else {
    h = seed + P5;
  }
  h += (uint64_t)len;
  while (end - p >= 8) {
    h ^= xxround(0, rd64(p));
    h = rotl64(h, 27) * P1 + P4;
    p += 8;
  }
  if (end - p >= 4) {
    h ^= (uint64_t)rd32(p) * P1;
    h = rotl64(h, 23) * P2 + P3;
    p += 4;
  }
  while (p < end) {
    h ^= (*p++) * P5;
    h = rotl64(h, 11) * P1;
  }
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

/* The text a hash sees: datetimes with all 7 fraction digits. */
static struct kql_val
hash_text(struct kql_ctx *c, const struct kql_val *v)
{
  if (!v->null && v->t == KQL_T_DATETIME) {
    char b[48];
    size_t n = kql_fmt_datetime(v->u.i, b);
    return kql_v_str(kql_memdup(c->a, b, n), n);
  }
  return kql_fn_str(c, v);
}

KQL_FN(kql_f_hash)
{
  (void)n;
  uint64_t h;
  const struct kql_val *v = &a[0];
  unsigned char b[8];
  if (!v->null &&
      (v->t == KQL_T_LONG || v->t == KQL_T_DATETIME || v->t == KQL_T_TIMESPAN ||
       v->t == KQL_T_INT || v->t == KQL_T_REAL || v->t == KQL_T_DECIMAL)) {
    /* Numbers and times hash their 8 bytes, little-endian. */
    uint64_t u;
    if (v->t == KQL_T_REAL || v->t == KQL_T_DECIMAL)
      memcpy(&u, &v->u.r, 8);
    else
      u = (uint64_t)v->u.i;
    for (int i = 0; i < 8; i++)
      b[i] = (unsigned char)(u >> (8 * i));
    h = xxh64(b, v->t == KQL_T_INT ? 4 : 8, 0);
  } else {
    struct kql_val s = hash_text(c, v);
    h = xxh64(s.u.s, s.n, 0);
  }
  int64_t mod;
  if (na > 1) {
    if (!kql_fn_long(&a[1], &mod) || mod <= 0) {
      *out = kql_v_null(KQL_T_LONG);
      return;
    }
    *out = kql_v_long((int64_t)(h % (uint64_t)mod));
    return;
  }
  *out = kql_v_long((int64_t)h);
}

static void
hexout(struct kql_ctx *c, const unsigned char *d, size_t n, struct kql_val *out)
{
  static const char hx[] = "0123456789abcdef";
  char *o = kql_alloc(c->a, 2 * n + 1);
  for (size_t i = 0; i < n; i++) {
    o[2 * i] = hx[d[i] >> 4];
    o[2 * i + 1] = hx[d[i] & 15];
  }
  o[2 * n] = 0;
  *out = kql_v_str(o, 2 * n);
}

static uint32_t
rotr(uint32_t x, int r)
{
  return (x >> r) | (x << (32 - r));
}

static uint32_t
rotl(uint32_t x, int r)
{
  return (x << r) | (x >> (32 - r));
}

/* Message padding shared by MD5 (little-endian length) and SHA. */
static unsigned char *
pad(struct kql_ctx *c, const char *s, size_t n, bool be, size_t *outn)
{
  size_t total = ((n + 8) / 64 + 1) * 64;
  unsigned char *m = kql_zalloc(c->a, total);
  memcpy(m, s, n);
  m[n] = 0x80;
  uint64_t bits = (uint64_t)n * 8;
  for (int i = 0; i < 8; i++)
    m[total - 8 + i] =
        (unsigned char)(be ? bits >> (56 - 8 * i) : bits >> (8 * i));
  *outn = total;
  return m;
}

static void
sha256(struct kql_ctx *c, const char *s, size_t n, unsigned char out[32])
{
  static const uint32_t k[64] = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
      0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
      0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
      0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
      0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
      0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
      0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
      0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
      0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  size_t mn;
  unsigned char *m = pad(c, s, n, true, &mn);
  for (size_t off = 0; off < mn; off += 64) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
      w[i] = (uint32_t)m[off + 4 * i] << 24 |
             (uint32_t)m[off + 4 * i + 1] << 16 |
             (uint32_t)m[off + 4 * i + 2] << 8 | m[off + 4 * i + 3];
    for (int i = 16; i < 64; i++) {
      uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t A = h[0], B = h[1], C = h[2], D = h[3], E = h[4], F = h[5],
             G = h[6], H = h[7];
    for (int i = 0; i < 64; i++) {
      uint32_t S1 = rotr(E, 6) ^ rotr(E, 11) ^ rotr(E, 25);
      uint32_t ch = (E & F) ^ (~E & G);
      uint32_t t1 = H + S1 + ch + k[i] + w[i];
      uint32_t S0 = rotr(A, 2) ^ rotr(A, 13) ^ rotr(A, 22);
      uint32_t mj = (A & B) ^ (A & C) ^ (B & C);
      uint32_t t2 = S0 + mj;
      H = G;
      G = F;
      F = E;
      E = D + t1;
      D = C;
      C = B;
      B = A;
      A = t1 + t2;
    }
    h[0] += A;
    h[1] += B;
    h[2] += C;
    h[3] += D;
    h[4] += E;
    h[5] += F;
    h[6] += G;
    h[7] += H;
  }
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 4; j++)
      out[4 * i + j] = (unsigned char)(h[i] >> (24 - 8 * j));
}

static void
sha1(struct kql_ctx *c, const char *s, size_t n, unsigned char out[20])
{
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  size_t mn;
  unsigned char *m = pad(c, s, n, true, &mn);
  for (size_t off = 0; off < mn; off += 64) {
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
      w[i] = (uint32_t)m[off + 4 * i] << 24 |
             (uint32_t)m[off + 4 * i + 1] << 16 |
             (uint32_t)m[off + 4 * i + 2] << 8 | m[off + 4 * i + 3];
    for (int i = 16; i < 80; i++)
      w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t A = h[0], B = h[1], C = h[2], D = h[3], E = h[4];
    for (int i = 0; i < 80; i++) {
      uint32_t f, k;
      if (i < 20) {
        f = (B & C) | (~B & D);
        k = 0x5A827999;
      } else if (i < 40) {
        f = B ^ C ^ D;
        k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (B & C) | (B & D) | (C & D);
        k = 0x8F1BBCDC;
      } else {
        f = B ^ C ^ D;
        k = 0xCA62C1D6;
      }
      uint32_t t = rotl(A, 5) + f + E + k + w[i];
      E = D;
      D = C;
      C = rotl(B, 30);
      B = A;
      A = t;
    }
    h[0] += A;
    h[1] += B;
    h[2] += C;
    h[3] += D;
    h[4] += E;
  }
  for (int i = 0; i < 5; i++)
    for (int j = 0; j < 4; j++)
      out[4 * i + j] = (unsigned char)(h[i] >> (24 - 8 * j));
}

static void
md5(struct kql_ctx *c, const char *s, size_t n, unsigned char out[16])
{
  static const uint32_t K[64] = {
      0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
      0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
      0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
      0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
      0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
      0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
      0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
      0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
      0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
      0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
      0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
  static const int S[64] = {7,  12, 17, 22, 7,  12, 17, 22, 7,  12, 17, 22, 7,
                            12, 17, 22, 5,  9,  14, 20, 5,  9,  14, 20, 5,  9,
                            14, 20, 5,  9,  14, 20, 4,  11, 16, 23, 4,  11, 16,
                            23, 4,  11, 16, 23, 4,  11, 16, 23, 6,  10, 15, 21,
                            6,  10, 15, 21, 6,  10, 15, 21, 6,  10, 15, 21};
  uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  size_t mn;
  unsigned char *m = pad(c, s, n, false, &mn);
  for (size_t off = 0; off < mn; off += 64) {
    uint32_t M[16];
    for (int i = 0; i < 16; i++)
      M[i] = rd32(m + off + 4 * i);
    uint32_t A = h[0], B = h[1], C = h[2], D = h[3];
    for (int i = 0; i < 64; i++) {
      uint32_t F;
      int g;
      if (i < 16) {
        F = (B & C) | (~B & D);
        g = i;
      } else if (i < 32) {
        F = (D & B) | (~D & C);
        g = (5 * i + 1) % 16;
      } else if (i < 48) {
        F = B ^ C ^ D;
        g = (3 * i + 5) % 16;
      } else {
        F = C ^ (B | ~D);
        g = (7 * i) % 16;
      }
      F = F + A + K[i] + M[g];
      A = D;
      D = C;
      C = B;
      B = B + rotl(F, S[i]);
    }
    h[0] += A;
    h[1] += B;
    h[2] += C;
    h[3] += D;
  }
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      out[4 * i + j] = (unsigned char)(h[i] >> (8 * j));
}

KQL_FN(kql_f_hash_sha256)
{
  (void)n;
  (void)na;
  unsigned char d[32];
  struct kql_val s = hash_text(c, &a[0]);
  sha256(c, s.u.s, s.n, d);
  hexout(c, d, 32, out);
}

KQL_FN(kql_f_hash_sha1)
{
  (void)n;
  (void)na;
  unsigned char d[20];
  struct kql_val s = hash_text(c, &a[0]);
  sha1(c, s.u.s, s.n, d);
  hexout(c, d, 20, out);
}

KQL_FN(kql_f_hash_md5)
{
  (void)n;
  (void)na;
  unsigned char d[16];
  struct kql_val s = hash_text(c, &a[0]);
  md5(c, s.u.s, s.n, d);
  hexout(c, d, 16, out);
}

/* ------------------------------------------------------------ encodings */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

KQL_FN(kql_f_b64_encode)
{
  (void)n;
  (void)na;
  struct kql_val s = kql_fn_str(c, &a[0]);
  const unsigned char *p = (const unsigned char *)s.u.s;
  size_t on = (s.n + 2) / 3 * 4;
  char *o = kql_alloc(c->a, on + 1);
  size_t k = 0;
  for (size_t i = 0; i < s.n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16;
    if (i + 1 < s.n) v |= (uint32_t)p[i + 1] << 8;
    if (i + 2 < s.n) v |= p[i + 2];
    o[k++] = b64[v >> 18 & 63];
    o[k++] = b64[v >> 12 & 63];
    o[k++] = i + 1 < s.n ? b64[v >> 6 & 63] : '=';
    o[k++] = i + 2 < s.n ? b64[v & 63] : '=';
  }
  o[k] = 0;
  *out = kql_v_str(o, k);
}

KQL_FN(kql_f_b64_decode)
{
  (void)n;
  (void)na;
  struct kql_val s = kql_fn_str(c, &a[0]);
  char *o = kql_alloc(c->a, s.n + 1);
  size_t k = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < s.n; i++) {
    char ch = s.u.s[i];
    if (ch == '=') break;
    const char *q = strchr(b64, ch);
    if (!q || !ch) {
      *out = kql_v_str("", 0);
      return;
    }
    acc = acc << 6 | (uint32_t)(q - b64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      o[k++] = (char)(acc >> bits & 0xFF);
    }
  }
  o[k] = 0;
  *out = kql_v_str(o, k);
}

KQL_FN(kql_f_url_encode)
{
  (void)n;
  (void)na;
  static const char hx[] = "0123456789ABCDEF";
  struct kql_val s = kql_fn_str(c, &a[0]);
  char *o = kql_alloc(c->a, s.n * 3 + 1);
  size_t k = 0;
  for (size_t i = 0; i < s.n; i++) {
    unsigned char ch = (unsigned char)s.u.s[i];
    if (isalnum(ch) || strchr("-_.~", ch)) {
      o[k++] = (char)ch;
    } else {
      o[k++] = '%';
      o[k++] = hx[ch >> 4];
      o[k++] = hx[ch & 15];
    }
  }
  o[k] = 0;
  *out = kql_v_str(o, k);
}

KQL_FN(kql_f_url_decode)
{
  (void)n;
  (void)na;
  struct kql_val s = kql_fn_str(c, &a[0]);
  char *o = kql_alloc(c->a, s.n + 1);
  size_t k = 0;
  for (size_t i = 0; i < s.n; i++) {
    char ch = s.u.s[i];
    if (ch == '%' && i + 2 < s.n && isxdigit((unsigned char)s.u.s[i + 1]) &&
        isxdigit((unsigned char)s.u.s[i + 2])) {
      char hx[3] = {s.u.s[i + 1], s.u.s[i + 2], 0};
      o[k++] = (char)strtol(hx, NULL, 16);
      i += 2;
    } else if (ch == '+') {
      o[k++] = ' ';
    } else {
      o[k++] = ch;
    }
  }
  o[k] = 0;
  *out = kql_v_str(o, k);
}

/* ------------------------------------------------------------ more IPv4 */

/* Every IPv4 address standing alone in text (not touching letters,
 * digits or dots), as its text span; false when there are no more. */
static bool
next_ipv4(const char *s, size_t n, size_t *pos, size_t *b, size_t *e)
{
  for (size_t i = *pos; i < n; i++) {
    if (!isdigit((unsigned char)s[i])) continue;
    if (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '.'))
      continue;
    size_t j = i;
    int parts = 0;
    bool ok = true;
    while (parts < 4) {
      size_t d = j;
      while (j < n && isdigit((unsigned char)s[j]) && j - d < 4)
        j++;
      if (j == d || j - d > 3) {
        ok = false;
        break;
      }
      parts++;
      if (parts < 4) {
        if (j >= n || s[j] != '.') {
          ok = false;
          break;
        }
        j++;
      }
    }
    if (ok && j < n && (isalnum((unsigned char)s[j]) || s[j] == '.'))
      ok = false;
    if (ok) {
      *b = i;
      *e = j;
      *pos = j;
      return true;
    }
    while (i < n && (isdigit((unsigned char)s[i]) || s[i] == '.'))
      i++;
  }
  *pos = n;
  return false;
}

/* Does text hold the address ip (prefix: an address starting with it)? */
static bool
text_has_ip(const struct kql_val *text, const struct kql_val *ip, bool prefix)
{
  uint32_t want = 0, got;
  int pw, pg;
  if (!prefix && !ipv4_parse(ip->u.s, ip->n, &want, &pw)) return false;
  if (prefix) {
    /* a prefix is 1 to 3 whole octets, each followed by a dot, or a
     * whole address */
    if (!ip->n ||
        (ip->u.s[ip->n - 1] != '.' && !ipv4_parse(ip->u.s, ip->n, &want, &pw)))
      return false;
  }
  size_t pos = 0, b, e;
  while (next_ipv4(text->u.s, text->n, &pos, &b, &e)) {
    if (!ipv4_parse(text->u.s + b, e - b, &got, &pg)) continue;
    if (!prefix && got == want) return true;
    if (prefix && e - b >= ip->n && !memcmp(text->u.s + b, ip->u.s, ip->n))
      return true;
  }
  return false;
}

static void
has_ip_any(struct kql_ctx *c, struct kql_val *a, uint32_t na,
           struct kql_val *out, bool prefix)
{
  struct kql_val t = kql_fn_str(c, &a[0]);
  for (uint32_t i = 1; i < na; i++) {
    struct kql_val l;
    if (arr(c, &a[i], &l)) {
      for (uint32_t k = 0; k < l.n; k++) {
        struct kql_val s = kql_fn_str(c, &l.u.a[k]);
        if (text_has_ip(&t, &s, prefix)) {
          *out = kql_v_bool(true);
          return;
        }
      }
      continue;
    }
    struct kql_val s = kql_fn_str(c, &a[i]);
    if (text_has_ip(&t, &s, prefix)) {
      *out = kql_v_bool(true);
      return;
    }
  }
  *out = kql_v_bool(false);
}

KQL_FN(kql_f_has_ipv4)
{
  (void)n;
  has_ip_any(c, a, na, out, false);
}

KQL_FN(kql_f_has_ipv4_prefix)
{
  (void)n;
  has_ip_any(c, a, na, out, true);
}

KQL_FN(kql_f_ipv4_netmask_suffix)
{
  (void)n;
  (void)na;
  uint32_t ip;
  int p;
  if (!ip_arg(c, &a[0], &ip, &p)) {
    *out = kql_v_null(KQL_T_INT);
    return;
  }
  *out = kql_v_int(p);
}

static bool
ip_or_long(struct kql_ctx *c, const struct kql_val *v, uint32_t *ip, int *p)
{
  if (!v->null && (v->t == KQL_T_LONG || v->t == KQL_T_INT)) {
    if (v->u.i < 0 || v->u.i > 0xFFFFFFFFLL) return false;
    *ip = (uint32_t)v->u.i;
    *p = 32;
    return true;
  }
  return ip_arg(c, v, ip, p);
}

static void
format_ip(struct kql_ctx *c, struct kql_val *a, uint32_t na,
          struct kql_val *out, bool with_mask)
{
  uint32_t ip;
  int p;
  int64_t m = 32;
  if (!ip_or_long(c, &a[0], &ip, &p) ||
      (na > 1 && (!kql_fn_long(&a[1], &m) || m < 0 || m > 32))) {
    *out = kql_v_str("", 0);
    return;
  }
  if (m > p) m = p;
  ip &= mask_of((int)m);
  char b[40];
  int k = snprintf(b, sizeof b, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255,
                   ip >> 8 & 255, ip & 255);
  if (with_mask) k += snprintf(b + k, sizeof b - (size_t)k, "/%d", (int)m);
  *out = kql_v_str(kql_memdup(c->a, b, (size_t)k), (size_t)k);
}

KQL_FN(kql_f_format_ipv4)
{
  (void)n;
  format_ip(c, a, na, out, false);
}

KQL_FN(kql_f_format_ipv4_mask)
{
  (void)n;
  format_ip(c, a, na, out, true);
}

KQL_FN(kql_f_jaccard_index)
{
  (void)n;
  (void)na;
  struct kql_val x, y;
  if (!arr(c, &a[0], &x) || !arr(c, &a[1], &y)) {
    *out = kql_v_null(KQL_T_REAL);
    return;
  }
  struct kql_val *u = kql_alloc(c->a, (x.n + y.n + 1) * sizeof *u);
  uint32_t nu = 0, ni = 0, nx = 0;
  for (uint32_t i = 0; i < x.n; i++)
    if (!set_has(c, u, nu, &x.u.a[i])) {
      u[nu++] = x.u.a[i];
      nx++;
    }
  for (uint32_t i = 0; i < y.n; i++) {
    if (set_has(c, y.u.a, i, &y.u.a[i])) continue; /* repeated in y */
    if (set_has(c, u, nx, &y.u.a[i]))
      ni++;
    else
      u[nu++] = y.u.a[i];
  }
  *out = nu ? kql_v_real((double)ni / (double)nu) : kql_v_real(NAN);
}

/* ------------------------------------------------------------ unicode */

KQL_FN(kql_f_unicode_from)
{
  (void)n;
  (void)na;
  struct kql_val s = kql_fn_str(c, &a[0]);
  struct kql_val *el = kql_alloc(c->a, (s.n + 1) * sizeof *el);
  uint32_t k = 0;
  const unsigned char *p = (const unsigned char *)s.u.s;
  for (size_t i = 0; i < s.n;) {
    uint32_t cp = p[i];
    size_t len = cp < 0x80 ? 1 : cp < 0xE0 ? 2 : cp < 0xF0 ? 3 : 4;
    if (i + len > s.n) len = s.n - i;
    if (len > 1) cp &= 0x3F >> (len - 1);
    for (size_t j = 1; j < len; j++)
      cp = cp << 6 | (p[i + j] & 0x3F);
    el[k] = kql_v_long(cp);
    el[k++].dyn = 1;
    i += len;
  }
  *out = mk_array(el, k);
}

static size_t
put_cp(char *o, uint32_t cp)
{
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | cp >> 6);
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | cp >> 12);
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | cp >> 18);
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

KQL_FN(kql_f_unicode_to)
{
  (void)n;
  size_t total = 0;
  for (uint32_t i = 0; i < na; i++) {
    struct kql_val l;
    total += arr(c, &a[i], &l) ? l.n : 1;
  }
  char *o = kql_alloc(c->a, total * 4 + 1);
  size_t k = 0;
  for (uint32_t i = 0; i < na; i++) {
    struct kql_val l;
    int64_t cp;
    if (arr(c, &a[i], &l)) {
      for (uint32_t j = 0; j < l.n; j++) {
        if (!kql_get_long(&l.u.a[j], &cp) || cp < 0) {
          *out = kql_v_null(KQL_T_STRING);
          return;
        }
        k += put_cp(o + k, (uint32_t)cp);
      }
    } else if (kql_fn_long(&a[i], &cp) && cp >= 0) {
      k += put_cp(o + k, (uint32_t)cp);
    } else {
      *out = kql_v_null(KQL_T_STRING);
      return;
    }
  }
  o[k] = 0;
  *out = kql_v_str(o, k);
}
