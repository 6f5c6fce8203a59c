/*
 * kql_func.c - the built-in scalar functions, as one sorted table.
 *
 * Each entry is {name, min and max arity, result type, flags, C
 * function}; kql_fn_find() looks names up with bsearch. Functions get
 * their arguments evaluated, except KQL_FN_LAZY ones (iff, case,
 * coalesce) which evaluate only what they need. An argument of the wrong
 * kind gives null, as Kusto's invalid conversions do. The original
 * tool's ntohs() and getprocessname() are here too (kql.md section 7).
 * Date and time functions: kql_func_time.c; dynamic values:
 * kql_func_dyn.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_func.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI /* not in strict C11 (mingw-w64) */
#define M_PI 3.14159265358979323846
#endif

/* ------------------------------------------------------------ helpers */

struct kql_val
kql_fn_str(struct kql_ctx *c, const struct kql_val *v)
{
  if (!v->null && v->t == KQL_T_STRING) return *v;
  return kql_to_string(c->a, v);
}

bool
kql_fn_long(const struct kql_val *v, int64_t *out)
{
  if (v->null || v->t == KQL_T_STRING || v->t == KQL_T_ARRAY ||
      v->t == KQL_T_BAG)
    return v->t == KQL_T_STRING && v->dyn && kql_get_long(v, out);
  return kql_get_long(v, out);
}

bool
kql_fn_real(const struct kql_val *v, double *out)
{
  if (v->null || v->t == KQL_T_ARRAY || v->t == KQL_T_BAG) return false;
  if (v->t == KQL_T_STRING && !v->dyn) return false;
  return kql_get_real(v, out);
}

/* ------------------------------------------------------------ strings */

static size_t
utf8_count(const char *s, size_t n)
{
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    k += ((unsigned char)s[i] & 0xC0) != 0x80;
  return k;
}

/* Byte offset of character index ci (clamped to n). */
static size_t
utf8_off(const char *s, size_t n, size_t ci)
{
  size_t i = 0, k = 0;
  while (i < n) {
    if (((unsigned char)s[i] & 0xC0) != 0x80) {
      if (k == ci) return i;
      k++;
    }
    i++;
  }
  return n;
}

static void
f_strlen(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
         struct kql_val *out)
{
  (void)n;
  (void)na;
  struct kql_val s = kql_fn_str(c, &a[0]);
  *out = kql_v_long((int64_t)utf8_count(s.u.s, s.n));
}

static void
f_strcat(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
         struct kql_val *out)
{
  (void)n;
  size_t total = 0;
  struct kql_val *s = kql_alloc(c->a, (na + 1) * sizeof *s);
  for (uint32_t i = 0; i < na; i++) {
    s[i] = kql_fn_str(c, &a[i]);
    total += s[i].n;
  }
  char *o = kql_alloc(c->a, total + 1);
  size_t k = 0;
  for (uint32_t i = 0; i < na; i++) {
    memcpy(o + k, s[i].u.s, s[i].n);
    k += s[i].n;
  }
  o[k] = 0;
  *out = kql_v_str(o, k);
}

static void
f_strcat_delim(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
               uint32_t na, struct kql_val *out)
{
  (void)n;
  struct kql_val d = kql_fn_str(c, &a[0]);
  size_t total = 0;
  struct kql_val *s = kql_alloc(c->a, (na + 1) * sizeof *s);
  for (uint32_t i = 1; i < na; i++) {
    s[i] = kql_fn_str(c, &a[i]);
    total += s[i].n + d.n;
  }
  char *o = kql_alloc(c->a, total + 1);
  size_t k = 0;
  for (uint32_t i = 1; i < na; i++) {
    if (i > 1) {
      memcpy(o + k, d.u.s, d.n);
      k += d.n;
    }
    memcpy(o + k, s[i].u.s, s[i].n);
    k += s[i].n;
  }
  o[k] = 0;
  *out = kql_v_str(o, k);
}

static void
f_substring(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
            uint32_t na, struct kql_val *out)
{
  (void)n;
  struct kql_val s = kql_fn_str(c, &a[0]);
  int64_t st, len = INT64_MAX;
  if (!kql_fn_long(&a[1], &st) || (na > 2 && !kql_fn_long(&a[2], &len))) {
    *out = kql_v_str("", 0);
    return;
  }
  int64_t cn = (int64_t)utf8_count(s.u.s, s.n);
  if (st < 0) st += cn;
  if (st < 0) st = 0;
  if (st > cn || len < 0) {
    *out = kql_v_str("", 0);
    return;
  }
  int64_t end = len > cn - st ? cn : st + len;
  size_t b0 = utf8_off(s.u.s, s.n, (size_t)st);
  size_t b1 = utf8_off(s.u.s, s.n, (size_t)end);
  *out = kql_v_str(s.u.s + b0, b1 - b0);
}

static void
f_case_conv(struct kql_ctx *c, struct kql_val *a, struct kql_val *out,
            bool upper)
{
  struct kql_val s = kql_fn_str(c, &a[0]);
  char *o = kql_alloc(c->a, s.n + 1);
  for (size_t i = 0; i < s.n; i++)
    o[i] = (char)(upper ? toupper((unsigned char)s.u.s[i])
                        : tolower((unsigned char)s.u.s[i]));
  o[s.n] = 0;
  *out = kql_v_str(o, s.n);
}

static void
f_tolower(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
          struct kql_val *out)
{
  (void)n;
  (void)na;
  f_case_conv(c, a, out, false);
}

static void
f_toupper(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
          struct kql_val *out)
{
  (void)n;
  (void)na;
  f_case_conv(c, a, out, true);
}

static void
f_reverse(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
          struct kql_val *out)
{
  (void)n;
  (void)na;
  struct kql_val s = kql_fn_str(c, &a[0]);
  char *o = kql_alloc(c->a, s.n + 1);
  /* reverse characters, keeping UTF-8 sequences intact */
  size_t k = s.n;
  size_t i = 0;
  while (i < s.n) {
    size_t j = i + 1;
    while (j < s.n && ((unsigned char)s.u.s[j] & 0xC0) == 0x80)
      j++;
    k -= j - i;
    memcpy(o + k, s.u.s + i, j - i);
    i = j;
  }
  o[s.n] = 0;
  *out = kql_v_str(o, s.n);
}

/* trim family: the first argument is a regex matched at the ends. */
static void
trim_impl(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
          struct kql_val *out, bool left, bool right)
{
  struct kql_val s = kql_fn_str(c, &a[1]);
  struct kql_regex *re = kql_node_regex(c, n, &a[0], 0);
  if (!re) {
    *out = s;
    return;
  }
  size_t b = 0, e = s.n;
  int ng = kql_regex_ngroups(re);
  long *caps = kql_alloc(c->a, (size_t)(2 * ng + 2) * sizeof *caps);
  /* Remove every leading (trailing) match, one after the other. */
  while (left && b < e && kql_regex_search(re, s.u.s, e, b, caps) &&
         (size_t)caps[0] == b && (size_t)caps[1] > b)
    b = (size_t)caps[1];
  while (right && e > b) {
    size_t cut = e;
    for (size_t st = b; st < e; st++) {
      if (!kql_regex_search(re, s.u.s, e, st, caps)) break;
      if ((size_t)caps[1] == e && (size_t)caps[0] < e) {
        cut = (size_t)caps[0];
        break;
      }
      st = (size_t)caps[0];
    }
    if (cut == e) break;
    e = cut;
  }
  if (re != n->aux) kql_regex_free(re);
  *out = kql_v_str(s.u.s + b, e - b);
}

static void
f_trim(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
       struct kql_val *out)
{
  (void)na;
  trim_impl(c, n, a, out, true, true);
}

static void
f_trim_start(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
             uint32_t na, struct kql_val *out)
{
  (void)na;
  trim_impl(c, n, a, out, true, false);
}

static void
f_trim_end(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
           uint32_t na, struct kql_val *out)
{
  (void)na;
  trim_impl(c, n, a, out, false, true);
}

static void
f_split(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
        struct kql_val *out)
{
  (void)n;
  struct kql_val s = kql_fn_str(c, &a[0]);
  struct kql_val d = kql_fn_str(c, &a[1]);
  uint32_t cap = 8, cnt = 0;
  struct kql_val *el = kql_alloc(c->a, cap * sizeof *el);
  size_t i = 0;
  for (;;) {
    const char *p = NULL;
    if (d.n)
      for (size_t k = i; k + d.n <= s.n; k++)
        if (!memcmp(s.u.s + k, d.u.s, d.n)) {
          p = s.u.s + k;
          break;
        }
    size_t e = p ? (size_t)(p - s.u.s) : s.n;
    if (cnt == cap) {
      struct kql_val *ne = kql_alloc(c->a, cap * 2 * sizeof *el);
      memcpy(ne, el, cnt * sizeof *el);
      el = ne;
      cap *= 2;
    }
    el[cnt] = kql_v_str(s.u.s + i, e - i);
    el[cnt++].dyn = 1;
    if (!p) break;
    i = e + d.n;
  }
  if (na > 2) {
    int64_t ix;
    if (!kql_fn_long(&a[2], &ix) || ix < 0 || ix >= cnt) {
      out->t = KQL_T_ARRAY;
      out->null = 0;
      out->dyn = 1;
      out->lazy = 0;
      out->n = 0;
      out->u.a = el;
      return;
    }
    el[0] = el[ix];
    cnt = 1;
  }
  out->t = KQL_T_ARRAY;
  out->null = 0;
  out->dyn = 1;
  out->lazy = 0;
  out->n = cnt;
  out->u.a = el;
}

static void
f_replace_string(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                 uint32_t na, struct kql_val *out)
{
  (void)n;
  (void)na;
  struct kql_val s = kql_fn_str(c, &a[0]);
  struct kql_val f = kql_fn_str(c, &a[1]);
  struct kql_val r = kql_fn_str(c, &a[2]);
  if (!f.n) {
    *out = s;
    return;
  }
  size_t cnt = 0;
  for (size_t i = 0; i + f.n <= s.n;) {
    if (!memcmp(s.u.s + i, f.u.s, f.n)) {
      cnt++;
      i += f.n;
    } else {
      i++;
    }
  }
  size_t len = s.n + cnt * r.n;
  char *o = kql_alloc(c->a, len + 1);
  size_t k = 0;
  for (size_t i = 0; i < s.n;) {
    if (i + f.n <= s.n && !memcmp(s.u.s + i, f.u.s, f.n)) {
      memcpy(o + k, r.u.s, r.n);
      k += r.n;
      i += f.n;
    } else {
      o[k++] = s.u.s[i++];
    }
  }
  o[k] = 0;
  *out = kql_v_str(o, k);
}

static void
regex_replace(struct kql_ctx *c, struct kql_node *n, struct kql_val *text,
              struct kql_val *pat, struct kql_val *rew, struct kql_val *out)
{
  struct kql_val s = kql_fn_str(c, text);
  struct kql_val r = kql_fn_str(c, rew);
  struct kql_regex *re = kql_node_regex(c, n, pat, 0);
  if (!re) {
    *out = s;
    return;
  }
  int ng = kql_regex_ngroups(re);
  long *caps = kql_alloc(c->a, (size_t)(2 * ng + 2) * sizeof *caps);
  struct jsonw w; /* used as a byte buffer */
  jw_init(&w);
  size_t pos = 0;
  while (pos <= s.n && kql_regex_search(re, s.u.s, s.n, pos, caps)) {
    size_t ms = (size_t)caps[0], me = (size_t)caps[1];
    if (ms > pos && jw_reserve(&w, ms - pos)) {
      memcpy(w.buf + w.len, s.u.s + pos, ms - pos);
      w.len += ms - pos;
    }
    for (size_t i = 0; i < r.n; i++) {
      char ch = r.u.s[i];
      if ((ch == '\\' || ch == '$') && i + 1 < r.n &&
          isdigit((unsigned char)r.u.s[i + 1])) {
        int g = r.u.s[++i] - '0';
        if (g <= ng && caps[2 * g] >= 0) {
          size_t gl = (size_t)(caps[2 * g + 1] - caps[2 * g]);
          if (gl && jw_reserve(&w, gl)) {
            memcpy(w.buf + w.len, s.u.s + caps[2 * g], gl);
            w.len += gl;
          }
        }
        continue;
      }
      if (jw_reserve(&w, 1)) w.buf[w.len++] = ch;
    }
    if (me == ms) {
      if (ms < s.n && jw_reserve(&w, 1)) w.buf[w.len++] = s.u.s[ms];
      pos = me + 1;
    } else {
      pos = me;
    }
  }
  if (pos < s.n && jw_reserve(&w, s.n - pos)) {
    memcpy(w.buf + w.len, s.u.s + pos, s.n - pos);
    w.len += s.n - pos;
  }
  if (w.oom) kql_oom();
  *out = kql_v_str(kql_memdup(c->a, w.buf ? w.buf : "", w.len), w.len);
  jw_free(&w);
  if (re != n->aux) kql_regex_free(re);
}

static void
f_replace_regex(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                uint32_t na, struct kql_val *out)
{
  (void)na;
  regex_replace(c, n, &a[0], &a[1], &a[2], out);
}

static void
f_replace(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
          struct kql_val *out)
{
  (void)na;
  regex_replace(c, n, &a[2], &a[0], &a[1], out);
}

static void
f_extract(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
          struct kql_val *out)
{
  int64_t g;
  int type = KQL_T_STRING;
  if (na > 3 && n->kids[3]->kind == KQL_N_LIT && (n->kids[3]->flags & 0x80))
    type = n->kids[3]->slot;
  if (!kql_fn_long(&a[1], &g)) {
    *out = kql_v_null(type);
    return;
  }
  struct kql_val s = kql_fn_str(c, &a[2]);
  struct kql_regex *re = kql_node_regex(c, n, &a[0], 0);
  if (!re) {
    *out = kql_v_null(type);
    return;
  }
  int ng = kql_regex_ngroups(re);
  long *caps = kql_alloc(c->a, (size_t)(2 * ng + 2) * sizeof *caps);
  if (g < 0 || g > ng || !kql_regex_search(re, s.u.s, s.n, 0, caps) ||
      caps[2 * g] < 0) {
    *out = type == KQL_T_STRING ? kql_v_str("", 0) : kql_v_null(type);
  } else {
    struct kql_val m =
        kql_v_str(s.u.s + caps[2 * g], (size_t)(caps[2 * g + 1] - caps[2 * g]));
    *out = type == KQL_T_STRING ? m : kql_convert(c->a, &m, type);
  }
  if (re != n->aux) kql_regex_free(re);
}

static void
f_extract_all(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
              uint32_t na, struct kql_val *out)
{
  struct kql_val s = kql_fn_str(c, &a[na - 1]);
  struct kql_regex *re = kql_node_regex(c, n, &a[0], 0);
  *out = kql_v_null(KQL_T_DYNAMIC);
  if (!re) return;
  int ng = kql_regex_ngroups(re);
  int64_t *sel = NULL;
  uint32_t nsel = 0;
  if (na == 3 && a[1].t == KQL_T_ARRAY) {
    struct kql_val l = a[1];
    kql_dyn_force(c->a, &l);
    sel = kql_alloc(c->a, (l.n + 1) * sizeof *sel);
    for (uint32_t i = 0; i < l.n; i++) {
      const struct kql_val *g = &l.u.a[i];
      if (!g->null && g->t == KQL_T_STRING) {
        /* a group by name */
        for (int k = 1; k <= ng; k++) {
          const char *gn = kql_regex_group_name(re, k);
          if (gn && strlen(gn) == g->n && !memcmp(gn, g->u.s, g->n)) {
            sel[nsel++] = k;
            break;
          }
        }
      } else if (kql_get_long(g, &sel[nsel])) {
        nsel++;
      }
    }
  }
  long *caps = kql_alloc(c->a, (size_t)(2 * ng + 2) * sizeof *caps);
  uint32_t cap = 8, cnt = 0;
  struct kql_val *el = kql_alloc(c->a, cap * sizeof *el);
  size_t pos = 0;
  while (pos <= s.n && kql_regex_search(re, s.u.s, s.n, pos, caps)) {
    struct kql_val item;
    if (ng <= 1 && !nsel) {
      int g = ng == 1 ? 1 : 0;
      item = caps[2 * g] >= 0
                 ? kql_v_str(s.u.s + caps[2 * g],
                             (size_t)(caps[2 * g + 1] - caps[2 * g]))
                 : kql_v_str("", 0);
      item.dyn = 1;
    } else {
      uint32_t k = nsel ? nsel : (uint32_t)ng;
      struct kql_val *sub = kql_alloc(c->a, (k + 1) * sizeof *sub);
      for (uint32_t i = 0; i < k; i++) {
        int g = nsel ? (int)sel[i] : (int)i + 1;
        if (g >= 0 && g <= ng && caps[2 * g] >= 0)
          sub[i] = kql_v_str(s.u.s + caps[2 * g],
                             (size_t)(caps[2 * g + 1] - caps[2 * g]));
        else
          sub[i] = kql_v_str("", 0);
        sub[i].dyn = 1;
      }
      memset(&item, 0, sizeof item);
      item.t = KQL_T_ARRAY;
      item.dyn = 1;
      item.n = k;
      item.u.a = sub;
    }
    if (cnt == cap) {
      struct kql_val *ne = kql_alloc(c->a, cap * 2 * sizeof *el);
      memcpy(ne, el, cnt * sizeof *el);
      el = ne;
      cap *= 2;
    }
    el[cnt++] = item;
    pos = caps[1] > caps[0] ? (size_t)caps[1] : (size_t)caps[1] + 1;
  }
  if (re != n->aux) kql_regex_free(re);
  if (!cnt) return;
  memset(out, 0, sizeof *out);
  out->t = KQL_T_ARRAY;
  out->dyn = 1;
  out->n = cnt;
  out->u.a = el;
}

static void
f_indexof(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
          struct kql_val *out)
{
  (void)n;
  struct kql_val s = kql_fn_str(c, &a[0]);
  struct kql_val f = kql_fn_str(c, &a[1]);
  int64_t start = 0, len = -1, occ = 1;
  if (na > 2 && !kql_fn_long(&a[2], &start)) {
    *out = kql_v_null(KQL_T_LONG);
    return;
  }
  if (na > 3 && !a[3].null && !kql_fn_long(&a[3], &len)) len = -1;
  if (na > 4 && !kql_fn_long(&a[4], &occ)) occ = 1;
  int64_t cn = (int64_t)utf8_count(s.u.s, s.n);
  if (start < 0) start += cn;
  if (start < 0 || start > cn || occ <= 0) {
    *out = kql_v_long(-1);
    return;
  }
  /* Each search looks at length characters from its start and the
   * match must lie inside them; the next occurrence's search starts one
   * character after the previous match. */
  int64_t from = start;
  while (from <= cn) {
    size_t b0 = utf8_off(s.u.s, s.n, (size_t)from);
    size_t lim = s.n;
    if (len >= 0 && from + len < cn)
      lim = utf8_off(s.u.s, s.n, (size_t)(from + len));
    size_t i = b0;
    while (i + f.n <= lim && memcmp(s.u.s + i, f.u.s, f.n) != 0)
      i++;
    if (i + f.n > lim) break;
    int64_t at = (int64_t)utf8_count(s.u.s, i);
    if (--occ == 0) {
      *out = kql_v_long(at);
      return;
    }
    from = at + 1;
  }
  *out = kql_v_long(-1);
}

static void
f_countof(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
          struct kql_val *out)
{
  struct kql_val s = kql_fn_str(c, &a[0]);
  struct kql_val f = kql_fn_str(c, &a[1]);
  bool regex = na > 2 && a[2].t == KQL_T_STRING && a[2].n == 5 &&
               !memcmp(a[2].u.s, "regex", 5);
  int64_t cnt = 0;
  if (regex) {
    struct kql_regex *re = kql_node_regex(c, n, &a[1], 0);
    if (!re) {
      *out = kql_v_null(KQL_T_LONG);
      return;
    }
    long caps[128];
    size_t pos = 0;
    while (pos <= s.n && kql_regex_search(re, s.u.s, s.n, pos, caps)) {
      cnt++;
      pos = caps[1] > caps[0] ? (size_t)caps[1] : (size_t)caps[1] + 1;
    }
    if (re != n->aux) kql_regex_free(re);
  } else if (f.n) {
    for (size_t i = 0; i + f.n <= s.n; i++)
      if (!memcmp(s.u.s + i, f.u.s, f.n)) cnt++;
  }
  *out = kql_v_long(cnt);
}

static void
f_strrep(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
         struct kql_val *out)
{
  (void)n;
  struct kql_val s = kql_fn_str(c, &a[0]);
  struct kql_val d = na > 2 ? kql_fn_str(c, &a[2]) : kql_v_str("", 0);
  int64_t k;
  if (!kql_fn_long(&a[1], &k) || k <= 0 || k > 1000000) {
    *out = kql_v_str("", 0);
    return;
  }
  size_t len = (size_t)k * s.n + (size_t)(k - 1) * d.n;
  char *o = kql_alloc(c->a, len + 1);
  size_t p = 0;
  for (int64_t i = 0; i < k; i++) {
    if (i) {
      memcpy(o + p, d.u.s, d.n);
      p += d.n;
    }
    memcpy(o + p, s.u.s, s.n);
    p += s.n;
  }
  o[p] = 0;
  *out = kql_v_str(o, p);
}

/* ------------------------------------------------------- conditionals */

static void
f_isempty(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
          struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  *out = kql_v_bool(kql_val_isempty(&a[0]));
}

static void
f_isnotempty(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
             uint32_t na, struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  *out = kql_v_bool(!kql_val_isempty(&a[0]));
}

static void
f_isnull(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
         struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  /* A string is never null. */
  *out = kql_v_bool(a[0].null && a[0].t != KQL_T_STRING);
}

static void
f_isnotnull(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
            uint32_t na, struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  *out = kql_v_bool(!(a[0].null && a[0].t != KQL_T_STRING));
}

static void
f_not(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
      struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  struct kql_val b = kql_convert(c->a, &a[0], KQL_T_BOOL);
  *out = b.null ? kql_v_null(KQL_T_BOOL) : kql_v_bool(!b.u.b);
}

static void
f_iff(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
      struct kql_val *out)
{
  (void)a;
  (void)na;
  bool b = kql_eval_bool(c, n->kids[0]);
  kql_eval(c, n->kids[b ? 1 : 2], out);
}

static void
f_case(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
       struct kql_val *out)
{
  (void)a;
  for (uint32_t i = 0; i + 1 < na; i += 2)
    if (kql_eval_bool(c, n->kids[i])) {
      kql_eval(c, n->kids[i + 1], out);
      return;
    }
  kql_eval(c, n->kids[na - 1], out);
}

static void
f_coalesce(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
           uint32_t na, struct kql_val *out)
{
  (void)a;
  for (uint32_t i = 0; i < na; i++) {
    kql_eval(c, n->kids[i], out);
    if (!kql_val_isempty(out)) return;
  }
}

static void
f_minmax_of(struct kql_ctx *c, struct kql_val *a, uint32_t na,
            struct kql_val *out, bool max)
{
  int best = -1;
  for (uint32_t i = 0; i < na; i++) {
    if (a[i].null) continue;
    if (best < 0) {
      best = (int)i;
      continue;
    }
    int r = kql_val_cmp(c->a, &a[i], &a[best], false);
    if (r != KQL_CMP_NONE && (max ? r > 0 : r < 0)) best = (int)i;
  }
  *out = best < 0 ? kql_v_null(a[0].t) : a[best];
  /* mixed int/real: the result is real */
  bool real = false;
  for (uint32_t i = 0; i < na; i++)
    if (!a[i].null && (a[i].t == KQL_T_REAL || a[i].t == KQL_T_DECIMAL))
      real = true;
  if (best >= 0 && real && kql_is_num(out->t)) {
    double d;
    kql_get_real(out, &d);
    *out = kql_v_real(d);
  }
}

static void
f_max_of(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
         struct kql_val *out)
{
  (void)n;
  f_minmax_of(c, a, na, out, true);
}

static void
f_min_of(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
         struct kql_val *out)
{
  (void)n;
  f_minmax_of(c, a, na, out, false);
}

/* ------------------------------------------------------- conversions */

static void
conv(struct kql_ctx *c, struct kql_val *a, struct kql_val *out, int t)
{
  *out = kql_convert(c->a, &a[0], t);
}

#define CONV(fname, T)                                                         \
  static void fname(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,  \
                    uint32_t na, struct kql_val *out)                          \
  {                                                                            \
    (void)n;                                                                   \
    (void)na;                                                                  \
    conv(c, a, out, T);                                                        \
  }
CONV(f_tostring, KQL_T_STRING)
CONV(f_tolong, KQL_T_LONG)
CONV(f_toint, KQL_T_INT)
CONV(f_toreal, KQL_T_REAL)
CONV(f_todecimal, KQL_T_DECIMAL)
CONV(f_tobool, KQL_T_BOOL)
CONV(f_todatetime, KQL_T_DATETIME)
CONV(f_totimespan, KQL_T_TIMESPAN)
CONV(f_toguid, KQL_T_GUID)

static void
f_todynamic(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
            uint32_t na, struct kql_val *out)
{
  (void)n;
  (void)na;
  if (!a[0].null && a[0].t == KQL_T_STRING) {
    if (kql_json_parse_text(c->a, a[0].u.s, a[0].n, out)) return;
    *out = kql_dyn_wrap(&a[0]);
    return;
  }
  *out = kql_dyn_wrap(&a[0]);
}

static void
f_gettype(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
          struct kql_val *out)
{
  (void)c;
  (void)na;
  const char *s;
  if (a[0].null && (a[0].t == KQL_T_DYNAMIC || a[0].dyn))
    s = "null";
  else if (a[0].t == KQL_T_ARRAY)
    s = "array";
  else if (a[0].t == KQL_T_BAG)
    s = "dictionary";
  else if (a[0].t == KQL_T_INT && !a[0].dyn)
    s = "int";
  else if (a[0].t == KQL_T_REAL)
    s = "real";
  else {
    s = kql_type_name(a[0].t);
    if (n->kids[0]->type == KQL_T_INT) s = "int";
  }
  *out = kql_v_str(s, strlen(s));
}

/* ------------------------------------------------------------ math */

static bool
num_arg(const struct kql_val *v, double *d)
{
  if (v->null || !kql_is_num(v->t))
    return v->t == KQL_T_STRING && v->dyn && kql_get_real(v, d);
  return kql_get_real(v, d);
}

#define MATH1(fname, expr)                                                     \
  static void fname(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,  \
                    uint32_t na, struct kql_val *out)                          \
  {                                                                            \
    (void)c;                                                                   \
    (void)n;                                                                   \
    (void)na;                                                                  \
    double x;                                                                  \
    if (!num_arg(&a[0], &x)) {                                                 \
      *out = kql_v_null(KQL_T_REAL);                                           \
      return;                                                                  \
    }                                                                          \
    *out = kql_v_real(expr);                                                   \
  }
MATH1(f_sqrt, x < 0 ? NAN : sqrt(x))
MATH1(f_log, x < 0 ? NAN : log(x))
MATH1(f_log10, x < 0 ? NAN : log10(x))
MATH1(f_log2, x < 0 ? NAN : log2(x))
MATH1(f_exp, exp(x))
MATH1(f_exp2, exp2(x))
MATH1(f_exp10, pow(10, x))
MATH1(f_sin, sin(x))
MATH1(f_cos, cos(x))
MATH1(f_tan, tan(x))
MATH1(f_asin, asin(x))
MATH1(f_acos, acos(x))
MATH1(f_atan, atan(x))
MATH1(f_degrees, x * 180.0 / M_PI)
MATH1(f_radians, x *M_PI / 180.0)
MATH1(f_gamma, tgamma(x))
MATH1(f_loggamma, lgamma(x))

static void
f_pi(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
     struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)a;
  (void)na;
  *out = kql_v_real(M_PI);
}

static void
f_atan2(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
        struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  double y, x;
  if (!num_arg(&a[0], &y) || !num_arg(&a[1], &x)) {
    *out = kql_v_null(KQL_T_REAL);
    return;
  }
  *out = kql_v_real(atan2(y, x));
}

static void
f_abs(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
      struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  struct kql_val v = a[0];
  if (v.null) {
    *out = v;
    return;
  }
  if (v.t == KQL_T_INT || v.t == KQL_T_LONG || v.t == KQL_T_TIMESPAN) {
    if (v.u.i < 0) v.u.i = -v.u.i;
  } else if (v.t == KQL_T_REAL || v.t == KQL_T_DECIMAL) {
    v.u.r = fabs(v.u.r);
  } else {
    v = kql_v_null(KQL_T_REAL);
  }
  *out = v;
}

static void
f_sign(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
       struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  double x;
  if (!num_arg(&a[0], &x)) {
    *out = kql_v_null(KQL_T_REAL);
    return;
  }
  double s = x > 0 ? 1 : x < 0 ? -1 : 0;
  if (a[0].t == KQL_T_LONG || a[0].t == KQL_T_INT)
    *out = kql_v_long((int64_t)s);
  else
    *out = kql_v_real(s);
}

/* pow10_exact - 10^k for k >= 0: exact up to 10^22 whatever the C
 * library's pow() does (msvcrt's is off by an ulp for some). */
static double
pow10_exact(int64_t k)
{
  double p = 1.0;
  for (int64_t i = 0; i < k && i < 400; i++)
    p *= 10.0;
  return p;
}

static double
round_half_away(double x, int64_t digits)
{
  /* Scale by an exact power of ten in both directions: 10^-2 has no
   * exact double, and x * 0.01 / 0.01 drifts by an ulp. */
  double p = pow10_exact(digits < 0 ? -digits : digits);
  double v = digits < 0 ? x / p : x * p;
  double r = round(v);
  /* 2.15 * 10 is 21.499999...: treat near-halves (within a few units
   * of the last place of v) as halves. */
  double frac = fabs(v - trunc(v));
  if (fabs(frac - 0.5) < 8 * DBL_EPSILON * fmax(1.0, fabs(v)))
    r = trunc(v) + (v < 0 ? -1 : 1);
  return digits < 0 ? r * p : r / p;
}

static void
f_round(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
        struct kql_val *out)
{
  (void)c;
  (void)n;
  int64_t d = 0;
  if (na > 1 && !kql_fn_long(&a[1], &d)) {
    *out = kql_v_null(KQL_T_REAL);
    return;
  }
  if (a[0].null) {
    *out = a[0];
    return;
  }
  if (a[0].t == KQL_T_LONG || a[0].t == KQL_T_INT) {
    if (d >= 0) {
      *out = a[0];
      return;
    }
    *out = kql_v_long((int64_t)round_half_away((double)a[0].u.i, d));
    return;
  }
  double x;
  if (!num_arg(&a[0], &x)) {
    *out = kql_v_null(KQL_T_REAL);
    return;
  }
  *out = kql_v_real(round_half_away(x, d));
}

static void
f_ceiling(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
          struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  if (!a[0].null && (a[0].t == KQL_T_LONG || a[0].t == KQL_T_INT)) {
    *out = a[0];
    return;
  }
  double x;
  if (!num_arg(&a[0], &x)) {
    *out = kql_v_null(KQL_T_REAL);
    return;
  }
  *out = kql_v_real(ceil(x));
}

static void
f_pow(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
      struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  double x, y;
  if (!num_arg(&a[0], &x) || !num_arg(&a[1], &y)) {
    *out = kql_v_null(KQL_T_REAL);
    return;
  }
  *out = kql_v_real(pow(x, y));
}

static void
f_isnan(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
        struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  double x;
  if (!num_arg(&a[0], &x)) {
    *out = kql_v_null(KQL_T_BOOL);
    return;
  }
  *out = kql_v_bool(isnan(x));
}

static void
f_isinf(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
        struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  double x;
  if (!num_arg(&a[0], &x)) {
    *out = kql_v_null(KQL_T_BOOL);
    return;
  }
  *out = kql_v_bool(isinf(x));
}

static void
f_isfinite(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
           uint32_t na, struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  double x;
  if (!num_arg(&a[0], &x)) {
    *out = kql_v_null(KQL_T_BOOL);
    return;
  }
  *out = kql_v_bool(isfinite(x));
}

static void
f_bin(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
      struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  kql_bin(&a[0], &a[1], out);
}

static void
f_binary_and(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
             uint32_t na, struct kql_val *out)
{
  (void)c;
  (void)na;
  int64_t x, y;
  if (!kql_fn_long(&a[0], &x) || !kql_fn_long(&a[1], &y)) {
    *out = kql_v_null(KQL_T_LONG);
    return;
  }
  const char *f = n->fn->name;
  int64_t r = !strcmp(f, "binary_and")   ? (x & y)
              : !strcmp(f, "binary_or")  ? (x | y)
              : !strcmp(f, "binary_xor") ? (x ^ y)
              : !strcmp(f, "binary_shift_left")
                  ? (int64_t)((uint64_t)x << (y & 63))
                  : (int64_t)((uint64_t)x >> (y & 63));
  *out = kql_v_long(r);
}

static void
f_binary_not(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
             uint32_t na, struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  int64_t x;
  if (!kql_fn_long(&a[0], &x)) {
    *out = kql_v_null(KQL_T_LONG);
    return;
  }
  *out = kql_v_long(~x);
}

static void
f_bitset_count_ones(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                    uint32_t na, struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  int64_t x;
  if (!kql_fn_long(&a[0], &x)) {
    *out = kql_v_null(KQL_T_LONG);
    return;
  }
  int k = 0;
  for (uint64_t u = (uint64_t)x; u; u &= u - 1)
    k++;
  *out = kql_v_long(k);
}

/* ------------------------------------------------------------ custom */

static void
f_ntohs(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
        struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  int64_t p;
  if (!kql_get_long(&a[0], &p)) {
    *out = kql_v_null(KQL_T_INT);
    return;
  }
  *out = kql_v_int(((p & 0xff) << 8) | ((p >> 8) & 0xff));
}

static void
f_getprocessname(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                 uint32_t na, struct kql_val *out)
{
  (void)n;
  (void)na;
  int64_t pid;
  if (!kql_get_long(&a[0], &pid)) {
    *out = kql_v_str("", 0);
    return;
  }
  *out = kql_proc_name(c->q->run, c->a, pid);
}

static void
f_around(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
         struct kql_val *out)
{
  (void)n;
  (void)na;
  struct kql_val lo, hi, x, y;
  kql_binop(c, KQL_OP_SUB, &a[1], &a[2], &lo);
  kql_binop(c, KQL_OP_ADD, &a[1], &a[2], &hi);
  kql_binop(c, KQL_OP_GE, &a[0], &lo, &x);
  kql_binop(c, KQL_OP_LE, &a[0], &hi, &y);
  if (x.null || y.null)
    *out = kql_v_null(KQL_T_BOOL);
  else
    *out = kql_v_bool(x.u.b && y.u.b);
}

static void
f_indexof_regex(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                uint32_t na, struct kql_val *out)
{
  struct kql_val s = kql_fn_str(c, &a[0]);
  int64_t start = 0, len = -1, occ = 1;
  if ((na > 2 && !kql_fn_long(&a[2], &start)) || start < 0) {
    *out = kql_v_null(KQL_T_LONG);
    return;
  }
  if (na > 3 && !a[3].null && !kql_fn_long(&a[3], &len)) len = -1;
  if (na > 4 && (!kql_fn_long(&a[4], &occ) || occ <= 0)) {
    *out = kql_v_null(KQL_T_LONG);
    return;
  }
  struct kql_regex *re = kql_node_regex(c, n, &a[1], 0);
  if (!re) {
    *out = kql_v_null(KQL_T_LONG);
    return;
  }
  size_t lim = s.n;
  if (len >= 0 && (uint64_t)(start + len) < s.n) lim = (size_t)(start + len);
  int ng = kql_regex_ngroups(re);
  long *caps = kql_alloc(c->a, (size_t)(2 * ng + 2) * sizeof *caps);
  size_t pos = (size_t)start;
  *out = kql_v_long(-1);
  while (pos <= lim && kql_regex_search(re, s.u.s, lim, pos, caps)) {
    if (--occ == 0) {
      *out = kql_v_long(caps[0]);
      break;
    }
    pos = caps[1] > caps[0] ? (size_t)caps[1] : (size_t)caps[1] + 1;
  }
  if (re != n->aux) kql_regex_free(re);
}

/* ------------------------------------------------------------ table */

/* Keep sorted by name (checked at start-up in debug builds). */
static const struct kql_fn fns[] = {
    {"abs", 1, 1, KQL_T_ANY, 0, f_abs},
    {"acos", 1, 1, KQL_T_REAL, 0, f_acos},
    {"ago", 1, 1, KQL_T_DATETIME, KQL_FN_VOLATILE, kql_f_ago},
    {"around", 3, 3, KQL_T_BOOL, 0, f_around},
    {"array_concat", 1, 255, KQL_T_DYNAMIC, 0, kql_f_array_concat},
    {"array_iff", 3, 3, KQL_T_DYNAMIC, 0, kql_f_array_iff},
    {"array_index_of", 2, 5, KQL_T_LONG, 0, kql_f_array_index_of},
    {"array_length", 1, 1, KQL_T_LONG, 0, kql_f_array_length},
    {"array_reverse", 1, 1, KQL_T_DYNAMIC, 0, kql_f_array_reverse},
    {"array_rotate_left", 2, 2, KQL_T_DYNAMIC, 0, kql_f_array_rotate_left},
    {"array_rotate_right", 2, 2, KQL_T_DYNAMIC, 0, kql_f_array_rotate_right},
    {"array_shift_left", 2, 3, KQL_T_DYNAMIC, 0, kql_f_array_shift_left},
    {"array_shift_right", 2, 3, KQL_T_DYNAMIC, 0, kql_f_array_shift_right},
    {"array_slice", 3, 3, KQL_T_DYNAMIC, 0, kql_f_array_slice},
    {"array_sort_asc", 1, 255, KQL_T_DYNAMIC, 0, kql_f_array_sort_asc},
    {"array_sort_desc", 1, 255, KQL_T_DYNAMIC, 0, kql_f_array_sort_desc},
    {"array_split", 2, 2, KQL_T_DYNAMIC, 0, kql_f_array_split},
    {"array_sum", 1, 1, KQL_T_REAL, 0, kql_f_array_sum},
    {"arraylength", 1, 1, KQL_T_LONG, 0, kql_f_array_length},
    {"asin", 1, 1, KQL_T_REAL, 0, f_asin},
    {"atan", 1, 1, KQL_T_REAL, 0, f_atan},
    {"atan2", 2, 2, KQL_T_REAL, 0, f_atan2},
    {"bag_has_key", 2, 2, KQL_T_BOOL, 0, kql_f_bag_has_key},
    {"bag_keys", 1, 1, KQL_T_DYNAMIC, 0, kql_f_bag_keys},
    {"bag_merge", 1, 255, KQL_T_DYNAMIC, 0, kql_f_bag_merge},
    {"bag_pack", 0, 255, KQL_T_DYNAMIC, 0, kql_f_pack},
    {"bag_remove_keys", 2, 2, KQL_T_DYNAMIC, 0, kql_f_bag_remove_keys},
    {"bag_set_key", 3, 3, KQL_T_DYNAMIC, 0, kql_f_bag_set_key},
    {"base64_decode_tostring", 1, 1, KQL_T_STRING, 0, kql_f_b64_decode},
    {"base64_encode_tostring", 1, 1, KQL_T_STRING, 0, kql_f_b64_encode},
    {"base64_encodestring", 1, 1, KQL_T_STRING, 0, kql_f_b64_encode},
    {"bin", 2, 2, KQL_T_ANY, 0, f_bin},
    {"bin_at", 3, 3, KQL_T_ANY, 0, kql_f_bin_at},
    {"binary_and", 2, 2, KQL_T_LONG, 0, f_binary_and},
    {"binary_not", 1, 1, KQL_T_LONG, 0, f_binary_not},
    {"binary_or", 2, 2, KQL_T_LONG, 0, f_binary_and},
    {"binary_shift_left", 2, 2, KQL_T_LONG, 0, f_binary_and},
    {"binary_shift_right", 2, 2, KQL_T_LONG, 0, f_binary_and},
    {"binary_xor", 2, 2, KQL_T_LONG, 0, f_binary_and},
    {"bitset_count_ones", 1, 1, KQL_T_LONG, 0, f_bitset_count_ones},
    {"case", 3, 255, KQL_T_ANY, KQL_FN_LAZY, f_case},
    {"ceiling", 1, 1, KQL_T_ANY, 0, f_ceiling},
    {"coalesce", 1, 255, KQL_T_ANY, KQL_FN_LAZY, f_coalesce},
    {"cos", 1, 1, KQL_T_REAL, 0, f_cos},
    {"countof", 2, 3, KQL_T_LONG, 0, f_countof},
    {"datepart", 2, 2, KQL_T_LONG, 0, kql_f_datetime_part},
    {"datetime_add", 3, 3, KQL_T_DATETIME, 0, kql_f_datetime_add},
    {"datetime_diff", 3, 3, KQL_T_LONG, 0, kql_f_datetime_diff},
    {"datetime_part", 2, 2, KQL_T_LONG, 0, kql_f_datetime_part},
    {"dayofmonth", 1, 1, KQL_T_INT, 0, kql_f_dayofmonth},
    {"dayofweek", 1, 1, KQL_T_TIMESPAN, 0, kql_f_dayofweek},
    {"dayofyear", 1, 1, KQL_T_INT, 0, kql_f_dayofyear},
    {"degrees", 1, 1, KQL_T_REAL, 0, f_degrees},
    {"dynamic_to_json", 1, 1, KQL_T_STRING, 0, kql_f_dynamic_to_json},
    {"endofday", 1, 2, KQL_T_DATETIME, 0, kql_f_endofday},
    {"endofmonth", 1, 2, KQL_T_DATETIME, 0, kql_f_endofmonth},
    {"endofweek", 1, 2, KQL_T_DATETIME, 0, kql_f_endofweek},
    {"endofyear", 1, 2, KQL_T_DATETIME, 0, kql_f_endofyear},
    {"exp", 1, 1, KQL_T_REAL, 0, f_exp},
    {"exp10", 1, 1, KQL_T_REAL, 0, f_exp10},
    {"exp2", 1, 1, KQL_T_REAL, 0, f_exp2},
    {"extract", 3, 4, KQL_T_ANY, 0, f_extract},
    {"extract_all", 2, 3, KQL_T_DYNAMIC, 0, f_extract_all},
    {"extractall", 2, 3, KQL_T_DYNAMIC, 0, f_extract_all},
    {"floor", 2, 2, KQL_T_ANY, 0, f_bin},
    {"format_datetime", 2, 2, KQL_T_STRING, 0, kql_f_format_datetime},
    {"format_ipv4", 1, 2, KQL_T_STRING, 0, kql_f_format_ipv4},
    {"format_ipv4_mask", 1, 2, KQL_T_STRING, 0, kql_f_format_ipv4_mask},
    {"format_timespan", 2, 2, KQL_T_STRING, 0, kql_f_format_timespan},
    {"gamma", 1, 1, KQL_T_REAL, 0, f_gamma},
    {"getmonth", 1, 1, KQL_T_INT, 0, kql_f_monthofyear},
    {"getprocessname", 1, 1, KQL_T_STRING, KQL_FN_VOLATILE, f_getprocessname},
    {"gettype", 1, 1, KQL_T_STRING, 0, f_gettype},
    {"getyear", 1, 1, KQL_T_INT, 0, kql_f_getyear},
    {"has_any_ipv4", 2, 255, KQL_T_BOOL, 0, kql_f_has_ipv4},
    {"has_any_ipv4_prefix", 2, 255, KQL_T_BOOL, 0, kql_f_has_ipv4_prefix},
    {"has_ipv4", 2, 2, KQL_T_BOOL, 0, kql_f_has_ipv4},
    {"has_ipv4_prefix", 2, 2, KQL_T_BOOL, 0, kql_f_has_ipv4_prefix},
    {"hash", 1, 2, KQL_T_LONG, 0, kql_f_hash},
    {"hash_md5", 1, 1, KQL_T_STRING, 0, kql_f_hash_md5},
    {"hash_sha1", 1, 1, KQL_T_STRING, 0, kql_f_hash_sha1},
    {"hash_sha256", 1, 1, KQL_T_STRING, 0, kql_f_hash_sha256},
    {"hourofday", 1, 1, KQL_T_INT, 0, kql_f_hourofday},
    {"iff", 3, 3, KQL_T_ANY, KQL_FN_LAZY, f_iff},
    {"iif", 3, 3, KQL_T_ANY, KQL_FN_LAZY, f_iff},
    {"indexof", 2, 5, KQL_T_LONG, 0, f_indexof},
    {"indexof_regex", 2, 5, KQL_T_LONG, 0, f_indexof_regex},
    {"ipv4_compare", 2, 4, KQL_T_LONG, 0, kql_f_ipv4_compare},
    {"ipv4_is_in_range", 2, 2, KQL_T_BOOL, 0, kql_f_ipv4_is_in_range},
    {"ipv4_is_match", 2, 3, KQL_T_BOOL, 0, kql_f_ipv4_is_match},
    {"ipv4_is_private", 1, 1, KQL_T_BOOL, 0, kql_f_ipv4_is_private},
    {"ipv4_netmask_suffix", 1, 1, KQL_T_INT, 0, kql_f_ipv4_netmask_suffix},
    {"isempty", 1, 1, KQL_T_BOOL, 0, f_isempty},
    {"isfinite", 1, 1, KQL_T_BOOL, 0, f_isfinite},
    {"isinf", 1, 1, KQL_T_BOOL, 0, f_isinf},
    {"isnan", 1, 1, KQL_T_BOOL, 0, f_isnan},
    {"isnotempty", 1, 1, KQL_T_BOOL, 0, f_isnotempty},
    {"isnotnull", 1, 1, KQL_T_BOOL, 0, f_isnotnull},
    {"isnull", 1, 1, KQL_T_BOOL, 0, f_isnull},
    {"jaccard_index", 2, 2, KQL_T_REAL, 0, kql_f_jaccard_index},
    {"log", 1, 1, KQL_T_REAL, 0, f_log},
    {"log10", 1, 1, KQL_T_REAL, 0, f_log10},
    {"log2", 1, 1, KQL_T_REAL, 0, f_log2},
    {"loggamma", 1, 1, KQL_T_REAL, 0, f_loggamma},
    {"make_datetime", 3, 7, KQL_T_DATETIME, 0, kql_f_make_datetime},
    {"make_timespan", 2, 5, KQL_T_TIMESPAN, 0, kql_f_make_timespan},
    {"max_of", 1, 255, KQL_T_ANY, 0, f_max_of},
    {"min_of", 1, 255, KQL_T_ANY, 0, f_min_of},
    {"monthofyear", 1, 1, KQL_T_INT, 0, kql_f_monthofyear},
    {"not", 1, 1, KQL_T_BOOL, 0, f_not},
    {"notempty", 1, 1, KQL_T_BOOL, 0, f_isnotempty},
    {"notnull", 1, 1, KQL_T_BOOL, 0, f_isnotnull},
    {"now", 0, 1, KQL_T_DATETIME, 0, kql_f_now},
    {"ntohs", 1, 1, KQL_T_INT, 0, f_ntohs},
    {"pack", 0, 255, KQL_T_DYNAMIC, 0, kql_f_pack},
    {"pack_array", 0, 255, KQL_T_DYNAMIC, 0, kql_f_pack_array},
    {"pack_dictionary", 0, 255, KQL_T_DYNAMIC, 0, kql_f_pack},
    {"packarray", 0, 255, KQL_T_DYNAMIC, 0, kql_f_pack_array},
    {"parse_ipv4", 1, 1, KQL_T_LONG, 0, kql_f_parse_ipv4},
    {"parse_json", 1, 1, KQL_T_DYNAMIC, 0, f_todynamic},
    {"parsejson", 1, 1, KQL_T_DYNAMIC, 0, f_todynamic},
    {"pi", 0, 0, KQL_T_REAL, 0, f_pi},
    {"pow", 2, 2, KQL_T_REAL, 0, f_pow},
    {"radians", 1, 1, KQL_T_REAL, 0, f_radians},
    {"replace", 3, 3, KQL_T_STRING, 0, f_replace},
    {"replace_regex", 3, 3, KQL_T_STRING, 0, f_replace_regex},
    {"replace_string", 3, 3, KQL_T_STRING, 0, f_replace_string},
    {"reverse", 1, 1, KQL_T_STRING, 0, f_reverse},
    {"round", 1, 2, KQL_T_ANY, 0, f_round},
    {"set_difference", 2, 255, KQL_T_DYNAMIC, 0, kql_f_set_difference},
    {"set_has_element", 2, 2, KQL_T_BOOL, 0, kql_f_set_has_element},
    {"set_intersect", 2, 255, KQL_T_DYNAMIC, 0, kql_f_set_intersect},
    {"set_union", 2, 255, KQL_T_DYNAMIC, 0, kql_f_set_union},
    {"sign", 1, 1, KQL_T_ANY, 0, f_sign},
    {"sin", 1, 1, KQL_T_REAL, 0, f_sin},
    {"split", 2, 3, KQL_T_DYNAMIC, 0, f_split},
    {"sqrt", 1, 1, KQL_T_REAL, 0, f_sqrt},
    {"startofday", 1, 2, KQL_T_DATETIME, 0, kql_f_startofday},
    {"startofmonth", 1, 2, KQL_T_DATETIME, 0, kql_f_startofmonth},
    {"startofweek", 1, 2, KQL_T_DATETIME, 0, kql_f_startofweek},
    {"startofyear", 1, 2, KQL_T_DATETIME, 0, kql_f_startofyear},
    {"strcat", 1, 255, KQL_T_STRING, 0, f_strcat},
    {"strcat_array", 2, 2, KQL_T_STRING, 0, kql_f_strcat_array},
    {"strcat_delim", 2, 255, KQL_T_STRING, 0, f_strcat_delim},
    {"strlen", 1, 1, KQL_T_LONG, 0, f_strlen},
    {"strrep", 2, 3, KQL_T_STRING, 0, f_strrep},
    {"substring", 2, 3, KQL_T_STRING, 0, f_substring},
    {"tan", 1, 1, KQL_T_REAL, 0, f_tan},
    {"tobool", 1, 1, KQL_T_BOOL, 0, f_tobool},
    {"toboolean", 1, 1, KQL_T_BOOL, 0, f_tobool},
    {"todatetime", 1, 1, KQL_T_DATETIME, 0, f_todatetime},
    {"todecimal", 1, 1, KQL_T_DECIMAL, 0, f_todecimal},
    {"todouble", 1, 1, KQL_T_REAL, 0, f_toreal},
    {"todynamic", 1, 1, KQL_T_DYNAMIC, 0, f_todynamic},
    {"toguid", 1, 1, KQL_T_GUID, 0, f_toguid},
    {"toint", 1, 1, KQL_T_INT, 0, f_toint},
    {"tolong", 1, 1, KQL_T_LONG, 0, f_tolong},
    {"tolower", 1, 1, KQL_T_STRING, 0, f_tolower},
    {"toobject", 1, 1, KQL_T_DYNAMIC, 0, f_todynamic},
    {"toreal", 1, 1, KQL_T_REAL, 0, f_toreal},
    {"tostring", 1, 1, KQL_T_STRING, 0, f_tostring},
    {"totime", 1, 1, KQL_T_TIMESPAN, 0, f_totimespan},
    {"totimespan", 1, 1, KQL_T_TIMESPAN, 0, f_totimespan},
    {"toupper", 1, 1, KQL_T_STRING, 0, f_toupper},
    {"trim", 2, 2, KQL_T_STRING, 0, f_trim},
    {"trim_end", 2, 2, KQL_T_STRING, 0, f_trim_end},
    {"trim_start", 2, 2, KQL_T_STRING, 0, f_trim_start},
    {"unicode_codepoints_from_string", 1, 1, KQL_T_DYNAMIC, 0,
     kql_f_unicode_from},
    {"unicode_codepoints_to_string", 1, 255, KQL_T_STRING, 0, kql_f_unicode_to},
    {"unixtime_microseconds_todatetime", 1, 1, KQL_T_DATETIME, 0,
     kql_f_unix_us},
    {"unixtime_milliseconds_todatetime", 1, 1, KQL_T_DATETIME, 0,
     kql_f_unix_ms},
    {"unixtime_nanoseconds_todatetime", 1, 1, KQL_T_DATETIME, 0, kql_f_unix_ns},
    {"unixtime_seconds_todatetime", 1, 1, KQL_T_DATETIME, 0, kql_f_unix_s},
    {"url_decode", 1, 1, KQL_T_STRING, 0, kql_f_url_decode},
    {"url_encode", 1, 1, KQL_T_STRING, 0, kql_f_url_encode},
    {"url_encode_component", 1, 1, KQL_T_STRING, 0, kql_f_url_encode},
    {"week_of_year", 1, 1, KQL_T_INT, 0, kql_f_week_of_year},
    {"zip", 2, 255, KQL_T_DYNAMIC, 0, kql_f_zip},
};

static int
cmp_fn(const void *k, const void *e)
{
  const struct kql_fn *f = e;
  return strcmp(k, f->name);
}

/* Function families live in files of their own, each with a sorted
 * table; this list names them all, the core table first. */
static const struct {
  const struct kql_fn *fns;
  const size_t *n;
} tables[] = {
    {fns, NULL},
    {kql_geo_fns, &kql_geo_nfns},
    {kql_series_fns, &kql_series_nfns},
    {kql_text_fns, &kql_text_nfns},
    {kql_net_fns, &kql_net_nfns},
    {kql_math_fns, &kql_math_nfns},
};

static size_t
table_len(size_t t)
{
  return tables[t].n ? *tables[t].n : sizeof fns / sizeof fns[0];
}

const struct kql_fn *
kql_fn_find(const char *name, size_t n)
{
  char buf[64];
  if (n >= sizeof buf) return NULL;
  memcpy(buf, name, n);
  buf[n] = 0;
  for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
    const struct kql_fn *f =
        bsearch(buf, tables[t].fns, table_len(t), sizeof fns[0], cmp_fn);
    if (f) return f;
  }
  return NULL;
}

void
kql_fn_names(const char ***names, size_t *n)
{
  static const char **list;
  static size_t count;
  if (!list) {
    size_t total = 0;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
      total += table_len(t);
    list = malloc(total * sizeof *list);
    if (!list) {
      *names = NULL;
      *n = 0;
      return;
    }
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
      for (size_t i = 0; i < table_len(t); i++)
        list[count++] = tables[t].fns[i].name;
  }
  *names = list;
  *n = count;
}

bool
kql_fn_table_sorted(void)
{
  for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
    for (size_t i = 1; i < table_len(t); i++)
      if (strcmp(tables[t].fns[i - 1].name, tables[t].fns[i].name) >= 0)
        return false;
  return true;
}
