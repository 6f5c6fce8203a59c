/*
 * kql_op_parsekv.c - the parse-kv operator: listed keys of key/value
 * text become typed columns.
 *
 * Three ways to find pairs, as Kusto documents them:
 *   - given delimiters: key, kv_delimiter, value, pair_delimiter, ...;
 *     keys and values may be quoted (quote = "'" or "()"), with escape
 *     characters inside quotes; greedy = true lets a value run to the
 *     last pair delimiter before the next key;
 *   - no delimiters: a listed key standing as a word, then any run of
 *     characters that are not letters or digits, then the value (quoted,
 *     or a run of letters and digits);
 *   - regex: each match gives a key (group 1) and a value (group 2).
 * Keys and values are trimmed; the first value of a key wins; a key that
 * is missing gives null ("" for strings).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct kv_st {
  struct kql_node *subject;
  struct kql_pitem *keys;
  int *slots;
  uint32_t n;
  struct kql_kvopts o;
  long *caps;
  bool *found;
};

static bool
word_char(unsigned char ch)
{
  return isalnum(ch) || ch == '_' || ch >= 0x80;
}

static void
trim(const char **s, size_t *n)
{
  while (*n && isspace((unsigned char)**s)) {
    (*s)++;
    (*n)--;
  }
  while (*n && isspace((unsigned char)(*s)[*n - 1]))
    (*n)--;
}

/* The quote that opens at ch: its index, or -1. */
static int
quote_at(const struct kql_kvopts *o, char ch)
{
  for (uint32_t i = 0; i < o->nquotes; i++)
    if (o->quotes[i][0] == ch) return (int)i;
  return -1;
}

static bool
is_escape(const struct kql_kvopts *o, char ch)
{
  for (uint32_t i = 0; i < o->nescapes; i++)
    if (o->escapes[i] == ch) return true;
  return false;
}

/* A quoted text at s[*i] (the opening quote): its content, unescaped,
 * into the arena; *i moves past the closing quote. */
static struct kql_val
quoted(struct kql_arena *a, const struct kql_kvopts *o, const char *s, size_t n,
       size_t *i, int q)
{
  char close = o->quotes[q][1];
  char *out = kql_alloc(a, n - *i + 1);
  size_t w = 0, k = *i + 1;
  while (k < n && s[k] != close) {
    if (is_escape(o, s[k]) && k + 1 < n) k++;
    out[w++] = s[k++];
  }
  *i = k < n ? k + 1 : n;
  out[w] = 0;
  return kql_v_str(out, w);
}

static const char *
find(const char *s, size_t n, size_t from, const char *d)
{
  size_t dn = strlen(d);
  if (!dn) return NULL;
  for (size_t i = from; i + dn <= n; i++)
    if (!memcmp(s + i, d, dn)) return s + i;
  return NULL;
}

/* Store value v for key k when k is listed and has no value yet. */
static void
put(struct kql_op *op, struct kql_row *r, const char *k, size_t kn,
    struct kql_val v)
{
  struct kv_st *st = op->st;
  trim(&k, &kn);
  for (uint32_t i = 0; i < st->n; i++) {
    if (st->found[i] || st->keys[i].n != kn ||
        memcmp(st->keys[i].text, k, kn) != 0)
      continue;
    st->found[i] = true;
    int ty = st->keys[i].type;
    r->v[st->slots[i]] =
        ty == KQL_T_STRING ? v : kql_convert(&op->q->rowmem, &v, ty);
    return;
  }
}

static struct kql_val
trimmed(const char *s, size_t n)
{
  trim(&s, &n);
  return kql_v_str(s, n);
}

static void
by_delimiters(struct kql_op *op, struct kql_row *r, const char *s, size_t n)
{
  struct kv_st *st = op->st;
  const struct kql_kvopts *o = &st->o;
  struct kql_arena *a = &op->q->rowmem;
  size_t pl = strlen(o->pair), kl = strlen(o->kv);
  size_t i = 0;
  while (i < n) {
    /* white space and empty pairs */
    while (i < n) {
      if (isspace((unsigned char)s[i]))
        i++;
      else if (pl && i + pl <= n && !memcmp(s + i, o->pair, pl))
        i += pl;
      else
        break;
    }
    if (i >= n) break;
    struct kql_val key;
    int q = quote_at(o, s[i]);
    if (q >= 0) {
      key = quoted(a, o, s, n, &i, q);
      const char *d = find(s, n, i, o->kv);
      if (!d) break;
      i = (size_t)(d - s) + kl;
    } else {
      const char *d = find(s, n, i, o->kv);
      const char *pd = find(s, n, i, o->pair);
      if (!d) break;
      if (pd && pd < d) { /* a pair without a value */
        i = (size_t)(pd - s) + pl;
        continue;
      }
      key = trimmed(s + i, (size_t)(d - s) - i);
      i = (size_t)(d - s) + kl;
    }
    while (i < n && s[i] == ' ' && o->pair[0] != ' ')
      i++;
    struct kql_val val;
    q = i < n ? quote_at(o, s[i]) : -1;
    if (q >= 0) {
      val = quoted(a, o, s, n, &i, q);
      const char *pd = find(s, n, i, o->pair);
      i = pd ? (size_t)(pd - s) + pl : n;
    } else {
      const char *pd = find(s, n, i, o->pair);
      if (o->greedy && pd) {
        /* to the last pair delimiter before the next key */
        const char *nk = find(s, n, (size_t)(pd - s) + pl, o->kv);
        const char *last = pd;
        while (nk) {
          const char *x = find(s, n, (size_t)(last - s) + pl, o->pair);
          if (!x || x >= nk) break;
          last = x;
        }
        pd = nk ? last : NULL;
      }
      size_t e = pd ? (size_t)(pd - s) : n;
      val = trimmed(s + i, e - i);
      i = pd ? e + pl : n;
    }
    put(op, r, key.u.s, key.n, val);
  }
}

static void
by_words(struct kql_op *op, struct kql_row *r, const char *s, size_t n)
{
  struct kv_st *st = op->st;
  const struct kql_kvopts *o = &st->o;
  for (uint32_t k = 0; k < st->n; k++) {
    const char *key = st->keys[k].text;
    size_t kn = st->keys[k].n;
    for (size_t i = 0; kn && i + kn <= n; i++) {
      if (memcmp(s + i, key, kn) != 0) continue;
      if (i > 0 && word_char((unsigned char)s[i - 1])) continue;
      size_t j = i + kn;
      size_t d = j;
      while (j < n && !word_char((unsigned char)s[j]) && quote_at(o, s[j]) < 0)
        j++;
      if (j == d || j >= n) continue; /* no delimiter, or no value */
      struct kql_val v;
      int q = quote_at(o, s[j]);
      if (q >= 0) {
        v = quoted(&op->q->rowmem, o, s, n, &j, q);
      } else {
        size_t b = j;
        while (j < n && word_char((unsigned char)s[j]))
          j++;
        v = kql_v_str(s + b, j - b);
      }
      put(op, r, key, kn, v);
      break;
    }
  }
}

static void
by_regex(struct kql_op *op, struct kql_row *r, const char *s, size_t n)
{
  struct kv_st *st = op->st;
  size_t pos = 0;
  while (pos <= n && kql_regex_search(st->o.re, s, n, pos, st->caps)) {
    if (st->caps[2] >= 0 && st->caps[4] >= 0)
      put(op, r, s + st->caps[2], (size_t)(st->caps[3] - st->caps[2]),
          trimmed(s + st->caps[4], (size_t)(st->caps[5] - st->caps[4])));
    pos = st->caps[1] > st->caps[0] ? (size_t)st->caps[1]
                                    : (size_t)st->caps[1] + 1;
  }
}

static void
kv_row(struct kql_op *op, struct kql_row *r)
{
  struct kv_st *st = op->st;
  struct kql_ctx c = {op->q, &op->q->rowmem, r};
  struct kql_val v;
  kql_eval(&c, st->subject, &v);
  memset(st->found, 0, st->n);
  if (!v.null) {
    struct kql_val s = v.t == KQL_T_STRING ? v : kql_to_string(c.a, &v);
    if (st->o.re)
      by_regex(op, r, s.u.s, s.n);
    else if (st->o.pair && st->o.kv)
      by_delimiters(op, r, s.u.s, s.n);
    else
      by_words(op, r, s.u.s, s.n);
  }
  for (uint32_t i = 0; i < st->n; i++)
    if (!st->found[i]) r->v[st->slots[i]] = kql_v_null(st->keys[i].type);
  kql_push(op, r);
}

static void
kv_end(struct kql_op *op)
{
  kql_end(op);
}

static void
kv_free(struct kql_op *op)
{
  struct kv_st *st = op->st;
  free(st->caps);
  free(st->found);
  free(st);
}

static const struct kql_opvt kv_vt = {kv_row, kv_end, kv_free};

struct kql_op *
kql_op_parsekv(struct kql_query *q, struct kql_node *subject,
               struct kql_pitem *keys, int *slots, uint32_t n,
               const struct kql_kvopts *opts)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct kv_st *st = kql_xcalloc(1, sizeof *st);
  st->subject = subject;
  st->keys = keys;
  st->slots = slots;
  st->n = n;
  st->o = *opts;
  int ng = st->o.re ? kql_regex_ngroups(st->o.re) : 0;
  st->caps = kql_xcalloc((size_t)(2 * ng + 2), sizeof *st->caps);
  st->found = kql_xcalloc(n + 1, 1);
  op->vt = &kv_vt;
  op->q = q;
  op->st = st;
  return op;
}
