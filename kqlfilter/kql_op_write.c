/*
 * kql_op_write.c - the last operator: write rows as NDJSON, or collect
 * them into a table (let tables, join right sides).
 *
 * Writing follows the query's output schema. A row whose schema is the
 * untouched input (only where/take/... upstream) is copied as its
 * original bytes. Otherwise named columns are written from their slots
 * and "the star" walks the input line's own fields: removed ones are
 * skipped, renamed ones renamed, replaced ones (extend on an existing
 * input column) written from their slot in place, the rest copied as
 * bytes. With several queries in a file every row starts with
 * "_query": the query's number, so a sink can route rows.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <stdlib.h>
#include <string.h>

#define MAX_COLS 4096

static bool
name_eq(const char *a, size_t an, const char *b)
{
  return strlen(b) == an && !memcmp(a, b, an);
}

static void
write_star(struct kql_query *q, struct kql_col *col, struct kql_row *r,
           bool *done)
{
  struct jsonw *w = &q->run->w;
  const struct kql_star *st = col->star;
  if (!r->raw) return; /* a row of a static source has no text */
  const char *p = r->raw, *end = r->raw + r->rawn;
  p = kql_json_ws(p, end);
  if (p >= end || *p != '{') return;
  p = kql_json_ws(p + 1, end);
  while (p < end && *p == '"') {
    const char *kend = kql_json_skip(p, end, 0);
    if (!kend) return;
    struct kql_val key = kql_json_string(&q->rowmem, p, (size_t)(kend - p));
    p = kql_json_ws(kend, end);
    if (p >= end || *p != ':') return;
    p = kql_json_ws(p + 1, end);
    const char *vend = kql_json_skip(p, end, 0);
    if (!vend) return;
    const char *vs = p;
    size_t vn = (size_t)(vend - p);
    p = kql_json_ws(vend, end);
    if (p < end && *p == ',') p = kql_json_ws(p + 1, end);
    const char *name = key.u.s;
    size_t nn = key.n;
    bool skip = false;
    for (uint32_t i = 0; i < st->naway && !skip; i++)
      if (kql_wild(st->away[i], name, nn)) skip = true;
    if (!skip && st->nkeep) {
      skip = true;
      for (uint32_t i = 0; i < st->nkeep; i++)
        if (kql_wild(st->keep[i], name, nn)) skip = false;
    }
    if (skip) continue;
    const char *outname = name;
    size_t outn = nn;
    for (uint32_t i = 0; i < st->nren; i++)
      if (name_eq(name, nn, st->ren_from[i])) {
        outname = st->ren_to[i];
        outn = strlen(outname);
      }
    int repl = -1;
    for (uint32_t i = 0; i < st->nrepl; i++)
      if (name_eq(name, nn, st->repl[i])) repl = (int)i;
    if (repl >= 0) {
      /* The extended column takes the input column's place. */
      for (uint32_t c = 0; c < q->out.ncols && c < MAX_COLS; c++) {
        struct kql_col *oc = &q->out.cols[c];
        if (oc->kind == KQL_COL_NAMED && oc->maybe_dup &&
            name_eq(name, nn, oc->name)) {
          done[c] = true;
          jw_keyn(w, outname, outn);
          kql_write_val(w, &r->v[oc->slot]);
          break;
        }
      }
      continue;
    }
    /* A named column of the same name wins (it is written by itself). */
    bool shadow = false;
    for (uint32_t c = 0; c < q->out.ncols && !shadow; c++) {
      struct kql_col *oc = &q->out.cols[c];
      if (oc->kind == KQL_COL_NAMED && !oc->maybe_dup &&
          name_eq(outname, outn, oc->name))
        shadow = true;
    }
    if (shadow) continue;
    jw_keyn(w, outname, outn);
    jw_raw(w, vs, vn);
  }
}

static void
write_spread(struct kql_query *q, struct kql_col *col, struct kql_row *r)
{
  struct jsonw *w = &q->run->w;
  struct kql_val b = r->v[col->slot];
  if (b.null || b.t != KQL_T_BAG) return;
  kql_dyn_force(&q->rowmem, &b);
  /* Columns in name order, as Kusto gives them. */
  struct kql_kv *kv = kql_alloc(&q->rowmem, (b.n + 1) * sizeof *kv);
  memcpy(kv, b.u.kv, b.n * sizeof *kv);
  for (uint32_t i = 1; i < b.n; i++)
    for (uint32_t j = i; j > 0; j--) {
      size_t m = kv[j].kn < kv[j - 1].kn ? kv[j].kn : kv[j - 1].kn;
      int d = memcmp(kv[j].k, kv[j - 1].k, m);
      if (d > 0 || (d == 0 && kv[j].kn >= kv[j - 1].kn)) break;
      struct kql_kv t = kv[j];
      kv[j] = kv[j - 1];
      kv[j - 1] = t;
    }
  b.u.kv = kv;
  size_t pn = col->prefix ? strlen(col->prefix) : 0;
  for (uint32_t i = 0; i < b.n; i++) {
    if (pn) {
      char *k = kql_alloc(&q->rowmem, pn + b.u.kv[i].kn + 1);
      memcpy(k, col->prefix, pn);
      memcpy(k + pn, b.u.kv[i].k, b.u.kv[i].kn);
      jw_keyn(w, k, pn + b.u.kv[i].kn);
    } else {
      jw_keyn(w, b.u.kv[i].k, b.u.kv[i].kn);
    }
    kql_write_val(w, &b.u.kv[i].v);
  }
}

void
kql_write_row(struct kql_query *q, struct kql_row *r)
{
  struct kql_run *run = q->run;
  struct jsonw *w = &run->w;
  if (q->star_identity && r->raw && !run->tag_rows) {
    if (jw_reserve(w, r->rawn + 1)) {
      memcpy(w->buf + w->len, r->raw, r->rawn);
      w->len += r->rawn;
      w->buf[w->len++] = '\n';
    }
    return;
  }
  bool done[MAX_COLS];
  uint32_t nc = q->out.ncols < MAX_COLS ? q->out.ncols : MAX_COLS;
  memset(done, 0, nc);
  jw_obj_begin(w);
  if (run->tag_rows) {
    jw_key(w, "_query");
    jw_i64(w, q->index);
  }
  for (uint32_t c = 0; c < nc; c++) {
    struct kql_col *col = &q->out.cols[c];
    if (done[c]) continue;
    if (col->kind != KQL_COL_NAMED) {
      if (col->kind == KQL_COL_STAR) {
        write_star(q, col, r, done);
      } else if (col->kind == KQL_COL_SPREAD) {
        write_spread(q, col, r);
      } else { /* MEMBER */
        struct kql_val m;
        jw_key(w, col->name);
        if (!kql_dyn_member(&q->rowmem, &r->v[col->slot], col->key,
                            strlen(col->key), &m))
          m = kql_v_null(KQL_T_DYNAMIC);
        kql_write_val(w, &m);
      }
      continue;
    }
    jw_key(w, col->name);
    kql_write_val(w, &r->v[col->slot]);
  }
  jw_obj_end(w);
  jw_newline(w);
}

static void
write_row(struct kql_op *op, struct kql_row *r)
{
  struct kql_run *run = op->q->run;
  kql_write_row(op->q, r);
  run->rows_out++;
  if (run->flush_each_row || run->w.len >= (256u << 10)) kql_flush(run);
}

static void
write_end(struct kql_op *op)
{
  (void)op;
}

static const struct kql_opvt write_vt = {write_row, write_end, NULL};

struct kql_op *
kql_op_write(struct kql_query *q)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  op->vt = &write_vt;
  op->q = q;
  /* Only the untouched star: copy input lines as they are. */
  q->star_identity = q->out.ncols == 1 && q->out.cols[0].kind == KQL_COL_STAR &&
                     !q->out.cols[0].star->naway &&
                     !q->out.cols[0].star->nkeep &&
                     !q->out.cols[0].star->nrepl && !q->out.cols[0].star->nren;
  return op;
}

/* ---------------------------------------------------------------- collect */

struct collect_st {
  struct kql_table *t;
  uint32_t cap;
};

static void
collect_row(struct kql_op *op, struct kql_row *r)
{
  struct collect_st *s = op->st;
  struct kql_table *t = s->t;
  struct kql_query *q = op->q;
  if (t->nrows == s->cap) {
    uint32_t cap = s->cap ? s->cap * 2 : 16;
    struct kql_val *cells =
        kql_alloc(&t->mem, (size_t)cap * (t->ncols + 1) * sizeof *cells);
    if (t->nrows)
      memcpy(cells, t->cells, (size_t)t->nrows * t->ncols * sizeof *cells);
    t->cells = cells;
    s->cap = cap;
  }
  struct kql_val *row = &t->cells[(size_t)t->nrows * t->ncols];
  uint32_t k = 0;
  for (uint32_t c = 0; c < q->out.ncols; c++) {
    struct kql_col *col = &q->out.cols[c];
    if (col->kind != KQL_COL_NAMED) continue;
    row[k++] = kql_val_copy(&t->mem, &r->v[col->slot]);
  }
  t->nrows++;
}

static void
collect_end(struct kql_op *op)
{
  (void)op;
}

static void
collect_free(struct kql_op *op)
{
  free(op->st);
}

static const struct kql_opvt collect_vt = {collect_row, collect_end,
                                           collect_free};

struct kql_op *
kql_op_collect(struct kql_query *q, struct kql_table *t)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct collect_st *s = kql_xcalloc(1, sizeof *s);
  s->t = t;
  uint32_t n = 0;
  for (uint32_t c = 0; c < q->out.ncols; c++)
    if (q->out.cols[c].kind == KQL_COL_NAMED) n++;
  t->ncols = n;
  t->cols = kql_alloc(&t->mem, (n + 1) * sizeof *t->cols);
  t->types = kql_alloc(&t->mem, n + 1);
  n = 0;
  for (uint32_t c = 0; c < q->out.ncols; c++) {
    struct kql_col *col = &q->out.cols[c];
    if (col->kind != KQL_COL_NAMED) continue;
    t->cols[n] = kql_memdup(&t->mem, col->name, strlen(col->name));
    t->types[n++] = col->type;
  }
  op->vt = &collect_vt;
  op->q = q;
  op->st = s;
  return op;
}
