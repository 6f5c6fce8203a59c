/*
 * kql_op_bagunpack.c - evaluate bag_unpack(column [, prefix]
 * [, columnsConflict=...] [, ignoredProperties=...]).
 *
 * Kusto decides the new columns from the whole table: every key of every
 * row's bag becomes a column (in name order, after a prefix), a row
 * without that key gets null there, and the bag's own column goes away.
 * So the operator holds the rows until the end of input, gathering keys,
 * then replaces the bag's column in the output schema (struct kql_col
 * kind SPREAD) with one MEMBER column per key and lets the rows go. A key
 * that names an existing column either replaces that column in place
 * (columnsConflict='replace_source') or is dropped ('keep_source', and,
 * with a warning, Kusto's default 'error').
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <stdlib.h>
#include <string.h>

struct bu_key {
  const char *k;
  uint32_t kn;
};

struct bu_st {
  int slot;
  int conflict;
  char **ignored;
  uint32_t nignored;
  struct kql_row **rows;
  size_t n, cap;
  struct bu_key *keys;
  uint32_t nkeys, capkeys;
  uint32_t *set; /* open addressing: key index + 1 */
  uint32_t setcap;
  struct kql_arena mem;
};

static uint64_t
key_hash(const char *k, size_t n)
{
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
  return h;
}

static void
set_insert(struct bu_st *s, uint32_t idx)
{
  uint32_t m = s->setcap - 1;
  uint32_t i = (uint32_t)key_hash(s->keys[idx].k, s->keys[idx].kn) & m;
  while (s->set[i])
    i = (i + 1) & m;
  s->set[i] = idx + 1;
}

static void
add_key(struct bu_st *s, const char *k, uint32_t kn)
{
  for (uint32_t i = 0; i < s->nignored; i++)
    if (strlen(s->ignored[i]) == kn && !memcmp(s->ignored[i], k, kn)) return;
  if (s->setcap) {
    uint32_t m = s->setcap - 1;
    for (uint32_t i = (uint32_t)key_hash(k, kn) & m; s->set[i];
         i = (i + 1) & m) {
      struct bu_key *e = &s->keys[s->set[i] - 1];
      if (e->kn == kn && !memcmp(e->k, k, kn)) return;
    }
  }
  if (s->nkeys == s->capkeys) {
    s->capkeys = s->capkeys ? s->capkeys * 2 : 16;
    s->keys = kql_xrealloc(s->keys, s->capkeys * sizeof *s->keys);
  }
  s->keys[s->nkeys].k = kql_memdup(&s->mem, k, kn);
  s->keys[s->nkeys].kn = kn;
  s->nkeys++;
  if (s->nkeys * 2 > s->setcap) {
    free(s->set);
    s->setcap = s->setcap ? s->setcap * 2 : 64;
    while (s->nkeys * 2 > s->setcap)
      s->setcap *= 2;
    s->set = kql_xcalloc(s->setcap, sizeof *s->set);
    for (uint32_t i = 0; i < s->nkeys; i++)
      set_insert(s, i);
  } else {
    set_insert(s, s->nkeys - 1);
  }
}

static void
bu_row(struct kql_op *op, struct kql_row *r)
{
  struct bu_st *s = op->st;
  struct kql_val *b = &r->v[s->slot];
  kql_dyn_force(&op->q->rowmem, b);
  if (!b->null && b->t == KQL_T_BAG)
    for (uint32_t i = 0; i < b->n; i++)
      add_key(s, b->u.kv[i].k, b->u.kv[i].kn);
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 256;
    s->rows = kql_xrealloc(s->rows, s->cap * sizeof *s->rows);
  }
  s->rows[s->n++] = kql_row_store(op->q, &s->mem, r);
}

static int
cmp_key(const void *x, const void *y)
{
  const struct bu_key *a = x, *b = y;
  size_t m = a->kn < b->kn ? a->kn : b->kn;
  int d = memcmp(a->k, b->k, m);
  return d ? d : (a->kn > b->kn) - (a->kn < b->kn);
}

/* The output schema with the bag's column spread into its keys. */
static void
respread(struct kql_op *op)
{
  struct bu_st *s = op->st;
  struct kql_query *q = op->q;
  struct kql_schema *o = &q->out;
  uint32_t sp = o->ncols;
  for (uint32_t c = 0; c < o->ncols; c++)
    if (o->cols[c].kind == KQL_COL_SPREAD && o->cols[c].slot == s->slot) sp = c;
  if (sp == o->ncols) return; /* projected away */
  const char *prefix = o->cols[sp].prefix ? o->cols[sp].prefix : "";
  size_t pn = strlen(prefix);
  if (s->nkeys) qsort(s->keys, s->nkeys, sizeof *s->keys, cmp_key);
  struct kql_col *nc =
      kql_alloc(&q->mem, (o->ncols + s->nkeys + 1) * sizeof *nc);
  uint32_t k = 0;
  for (uint32_t c = 0; c < o->ncols; c++) {
    if (c != sp) {
      nc[k++] = o->cols[c];
      continue;
    }
    for (uint32_t i = 0; i < s->nkeys; i++) {
      char *name = kql_alloc(&q->mem, pn + s->keys[i].kn + 1);
      memcpy(name, prefix, pn);
      memcpy(name + pn, s->keys[i].k, s->keys[i].kn);
      name[pn + s->keys[i].kn] = 0;
      char *key = kql_memdup(&q->mem, s->keys[i].k, s->keys[i].kn);
      int clash = -1;
      for (uint32_t x = 0; x < o->ncols; x++)
        if (o->cols[x].kind == KQL_COL_NAMED && !strcmp(o->cols[x].name, name))
          clash = (int)x;
      if (clash < 0) {
        memset(&nc[k], 0, sizeof nc[k]);
        nc[k].name = name;
        nc[k].key = key;
        nc[k].slot = s->slot;
        nc[k].type = KQL_T_DYNAMIC;
        nc[k].kind = KQL_COL_MEMBER;
        k++;
        continue;
      }
      if (s->conflict == 1) {
        /* replace_source: the column keeps its place, the bag its value */
        struct kql_col *t = (uint32_t)clash < sp ? &nc[clash] : &o->cols[clash];
        t->kind = KQL_COL_MEMBER;
        t->key = key;
        t->slot = s->slot;
      } else if (s->conflict == 0) {
        log_warn("bag_unpack: key '%s' names an existing column; kept the "
                 "column (columnsConflict='replace_source' replaces it)",
                 name);
      }
    }
  }
  o->cols = nc;
  o->ncols = k;
}

static void
bu_end(struct kql_op *op)
{
  struct bu_st *s = op->st;
  respread(op);
  for (size_t i = 0; i < s->n; i++) {
    kql_push(op, s->rows[i]);
    kql_arena_reset(&op->q->rowmem);
  }
  kql_end(op);
}

static void
bu_free(struct kql_op *op)
{
  struct bu_st *s = op->st;
  free(s->rows);
  free(s->keys);
  free(s->set);
  kql_arena_free(&s->mem);
  free(s);
}

static const struct kql_opvt bu_vt = {bu_row, bu_end, bu_free};

struct kql_op *
kql_op_bagunpack(struct kql_query *q, int slot, int conflict, char **ignored,
                 uint32_t nignored)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct bu_st *s = kql_xcalloc(1, sizeof *s);
  s->slot = slot;
  s->conflict = conflict;
  s->ignored = ignored;
  s->nignored = nignored;
  kql_arena_init(&s->mem);
  op->vt = &bu_vt;
  op->q = q;
  op->st = s;
  return op;
}
