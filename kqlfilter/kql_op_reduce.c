/*
 * kql_op_reduce.c - reduce by Text: group similar strings under
 * patterns (Pattern, Count, Representative).
 *
 * Kusto does not document its algorithm; this one keeps to what the
 * reference shows. Each string splits into terms at separator
 * characters (characters=..., by default anything that is not an ASCII
 * letter or digit). A term stays in the pattern when more than
 * threshold (default 0.1) of all rows have that term at that position
 * among strings of as many terms; otherwise it becomes '*', which also
 * takes the separators next to it ("MachineLearningX4" with
 * characters="X" gives "MachineLearning*"). Strings whose pattern keeps
 * no term at all are counted as "others". Rows come out by count,
 * largest first, each with its first string as the representative
 * ("" for others). Blocking: the strings wait for the end of input.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct rstr {
  const char *s;
  uint32_t n;
};

/* A counting hash map from byte strings. */
struct rmap {
  struct rent {
    const char *k;
    uint32_t kn;
    uint64_t cnt;
    uint32_t first; /* the first string's index */
    uint32_t order;
  } * e;
  uint32_t cap, n;
};

struct red_st {
  struct kql_node *text;
  double threshold;
  const char *seps;
  int slots[3];
  struct rstr *str;
  uint32_t n, cap;
  struct kql_arena mem;
};

static uint64_t
hash_bytes(const char *s, size_t n)
{
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
  return h;
}

static struct rent *
map_get(struct rmap *m, struct kql_arena *a, const char *k, size_t kn)
{
  if (m->n * 2 >= m->cap) {
    uint32_t cap = m->cap ? m->cap * 2 : 256;
    struct rent *ne = kql_xcalloc(cap, sizeof *ne);
    for (uint32_t i = 0; i < m->cap; i++) {
      if (!m->e[i].k) continue;
      uint32_t j = (uint32_t)hash_bytes(m->e[i].k, m->e[i].kn) & (cap - 1);
      while (ne[j].k)
        j = (j + 1) & (cap - 1);
      ne[j] = m->e[i];
    }
    free(m->e);
    m->e = ne;
    m->cap = cap;
  }
  uint32_t j = (uint32_t)hash_bytes(k, kn) & (m->cap - 1);
  while (m->e[j].k) {
    if (m->e[j].kn == kn && !memcmp(m->e[j].k, k, kn)) return &m->e[j];
    j = (j + 1) & (m->cap - 1);
  }
  m->e[j].k = kn ? kql_memdup(a, k, kn) : "";
  m->e[j].kn = (uint32_t)kn;
  m->e[j].order = m->n++;
  return &m->e[j];
}

static bool
is_sep(const struct red_st *st, unsigned char ch)
{
  if (st->seps) return ch && strchr(st->seps, ch) != NULL;
  return !(isalnum(ch) || ch >= 0x80);
}

/* The terms of s: up to max (start, length) pairs; the count. */
static uint32_t
terms(const struct red_st *st, const struct rstr *s, uint32_t *at,
      uint32_t *len, uint32_t max)
{
  uint32_t k = 0;
  for (uint32_t i = 0; i < s->n && k < max;) {
    if (is_sep(st, (unsigned char)s->s[i])) {
      i++;
      continue;
    }
    uint32_t b = i;
    while (i < s->n && !is_sep(st, (unsigned char)s->s[i]))
      i++;
    at[k] = b;
    len[k++] = i - b;
  }
  return k;
}

/* "nterms pos term" as a map key into buf. */
static size_t
term_key(char *buf, size_t cap, uint32_t nt, uint32_t pos, const char *t,
         uint32_t tn)
{
  int w = snprintf(buf, cap, "%u %u ", nt, pos);
  size_t k = w > 0 ? (size_t)w : 0;
  if (k + tn > cap) tn = (uint32_t)(cap - k);
  memcpy(buf + k, t, tn);
  return k + tn;
}

static void
red_row(struct kql_op *op, struct kql_row *r)
{
  struct red_st *st = op->st;
  struct kql_ctx c = {op->q, &op->q->rowmem, r};
  struct kql_val v;
  kql_eval(&c, st->text, &v);
  struct kql_val s =
      v.t == KQL_T_STRING && !v.null ? v : kql_to_string(c.a, &v);
  if (st->n == st->cap) {
    st->cap = st->cap ? st->cap * 2 : 1024;
    st->str = kql_xrealloc(st->str, st->cap * sizeof *st->str);
  }
  st->str[st->n].s = kql_memdup(&st->mem, s.u.s, s.n);
  st->str[st->n++].n = s.n;
}

static int
cmp_groups(const void *x, const void *y)
{
  const struct rent *a = *(const struct rent *const *)x;
  const struct rent *b = *(const struct rent *const *)y;
  if (a->cnt != b->cnt) return a->cnt > b->cnt ? -1 : 1;
  return a->order < b->order ? -1 : a->order > b->order;
}

#define MAX_TERMS 256

static void
red_end(struct kql_op *op)
{
  struct red_st *st = op->st;
  struct kql_query *q = op->q;
  struct rmap freq = {0}, pats = {0};
  uint32_t at[MAX_TERMS], len[MAX_TERMS];
  char key[1024];
  for (uint32_t i = 0; i < st->n; i++) {
    uint32_t nt = terms(st, &st->str[i], at, len, MAX_TERMS);
    for (uint32_t k = 0; k < nt; k++) {
      size_t kn =
          term_key(key, sizeof key, nt, k, st->str[i].s + at[k], len[k]);
      map_get(&freq, &st->mem, key, kn)->cnt++;
    }
  }
  double need = st->threshold * st->n;
  uint64_t others = 0;
  for (uint32_t i = 0; i < st->n; i++) {
    const struct rstr *s = &st->str[i];
    uint32_t nt = terms(st, s, at, len, MAX_TERMS);
    char *pat = kql_alloc(&q->rowmem, s->n + 2);
    size_t w = 0;
    bool kept = false, wild = false;
    uint32_t prev_end = 0;
    for (uint32_t k = 0; k < nt; k++) {
      size_t kn = term_key(key, sizeof key, nt, k, s->s + at[k], len[k]);
      bool keep = (double)map_get(&freq, &st->mem, key, kn)->cnt > need;
      if (keep) {
        /* the separators before it, unless a '*' took them */
        if (!wild) {
          memcpy(pat + w, s->s + prev_end, at[k] - prev_end);
          w += at[k] - prev_end;
        }
        memcpy(pat + w, s->s + at[k], len[k]);
        w += len[k];
        kept = true;
        wild = false;
      } else if (!wild) {
        /* drop the separators before the '*' */
        pat[w++] = '*';
        wild = true;
      }
      prev_end = at[k] + len[k];
    }
    if (!wild && prev_end < s->n) {
      memcpy(pat + w, s->s + prev_end, s->n - prev_end);
      w += s->n - prev_end;
    }
    if (!kept) {
      others++;
      continue;
    }
    struct rent *g = map_get(&pats, &st->mem, pat, w);
    if (!g->cnt) g->first = i;
    g->cnt++;
  }
  struct rent **order = kql_xcalloc(pats.n + 1, sizeof *order);
  uint32_t k = 0;
  for (uint32_t i = 0; i < pats.cap; i++)
    if (pats.e[i].k) order[k++] = &pats.e[i];
  qsort(order, k, sizeof *order, cmp_groups);
  struct kql_row row = {NULL, 0, q->slots};
  for (uint32_t i = 0; i <= k; i++) {
    if (i == k && !others) break;
    if (i < k) {
      q->slots[st->slots[0]] = kql_v_str(order[i]->k, order[i]->kn);
      q->slots[st->slots[1]] = kql_v_long((int64_t)order[i]->cnt);
      const struct rstr *rep = &st->str[order[i]->first];
      q->slots[st->slots[2]] = kql_v_str(rep->s, rep->n);
    } else {
      q->slots[st->slots[0]] = kql_v_str("others", 6);
      q->slots[st->slots[1]] = kql_v_long((int64_t)others);
      q->slots[st->slots[2]] = kql_v_str("", 0);
    }
    kql_push(op, &row);
  }
  free(order);
  free(freq.e);
  free(pats.e);
  kql_arena_reset(&q->rowmem);
  kql_end(op);
}

static void
red_free(struct kql_op *op)
{
  struct red_st *st = op->st;
  free(st->str);
  kql_arena_free(&st->mem);
  free(st);
}

static const struct kql_opvt red_vt = {red_row, red_end, red_free};

struct kql_op *
kql_op_reduce(struct kql_query *q, struct kql_node *text, double threshold,
              const char *seps, const int out_slots[3])
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct red_st *st = kql_xcalloc(1, sizeof *st);
  st->text = text;
  st->threshold = threshold;
  st->seps = seps;
  memcpy(st->slots, out_slots, sizeof st->slots);
  kql_arena_init(&st->mem);
  op->vt = &red_vt;
  op->q = q;
  op->st = st;
  return op;
}
