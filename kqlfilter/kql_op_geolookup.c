/*
 * kql_op_geolookup.c - evaluate geo_polygon_lookup / geo_line_lookup:
 * each row's location against a static table of polygons or lines.
 *
 * The shapes are read once from the table's key column (a row with an
 * invalid shape never matches). A polygon matches a location inside it
 * (geo_point_in_polygon) or, when a radius is given, within that many
 * meters of it (geo_distance_point_to_polygon); a line matches within
 * the radius (geo_distance_point_to_line). Like the lookup operator, a
 * row is emitted once per match; with return_unmatched, a row without a
 * match passes with nulls in the table's columns. The scan is linear in
 * the table's size (lookup_area_radius, a performance hint, is not
 * needed).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_geo.h"

#include <stdlib.h>
#include <string.h>

struct gl_st {
  struct kql_table *t;
  int lng_slot, lat_slot;
  int *rslots;
  double radius; /* radians; < 0: none */
  bool keep, lines;
  struct kql_geo_shape *shapes;
  bool *valid;
  struct kql_arena mem; /* the shapes */
};

static double
dist_to(const struct kql_geo_shape *s, struct kql_geo_v3 p, bool closed)
{
  double best = 1e300;
  for (uint32_t i = 0; i < s->nlines; i++) {
    struct kql_geo_v3 q;
    uint32_t e;
    double d = kql_geo_closest(&s->lines[i], false, p, &q, &e);
    if (d < best) best = d;
  }
  for (uint32_t i = 0; i < s->npolys && closed; i++)
    for (uint32_t r = 0; r < s->polys[i].nrings; r++) {
      struct kql_geo_v3 q;
      uint32_t e;
      double d = kql_geo_closest(&s->polys[i].rings[r], true, p, &q, &e);
      if (d < best) best = d;
    }
  return best;
}

static bool
matches(const struct gl_st *s, uint32_t i, struct kql_geo_v3 p)
{
  const struct kql_geo_shape *g = &s->shapes[i];
  if (s->lines) return dist_to(g, p, false) <= s->radius;
  if (kql_geo_polys_contain(g, p)) return true;
  return s->radius >= 0 && dist_to(g, p, true) <= s->radius;
}

static void
emit(struct kql_op *op, struct kql_row *r, int64_t row)
{
  struct gl_st *s = op->st;
  for (uint32_t c = 0; c < s->t->ncols; c++) {
    if (s->rslots[c] < 0) continue;
    r->v[s->rslots[c]] = row >= 0 ? s->t->cells[(size_t)row * s->t->ncols + c]
                                  : kql_v_null(s->t->types[c]);
  }
  kql_push(op, r);
}

static void
gl_row(struct kql_op *op, struct kql_row *r)
{
  struct gl_st *s = op->st;
  double lng, lat;
  bool any = false;
  if (kql_fn_real(&r->v[s->lng_slot], &lng) &&
      kql_fn_real(&r->v[s->lat_slot], &lat) && kql_geo_pt_valid(lng, lat)) {
    struct kql_geo_pt pt = {lng, lat};
    struct kql_geo_v3 p = kql_geo_v3(pt);
    for (uint32_t i = 0; i < s->t->nrows && !op->q->done; i++) {
      if (!s->valid[i] || !matches(s, i, p)) continue;
      any = true;
      emit(op, r, i);
    }
  }
  if (!any && s->keep) emit(op, r, -1);
}

static void
gl_end(struct kql_op *op)
{
  kql_end(op);
}

static void
gl_free(struct kql_op *op)
{
  struct gl_st *s = op->st;
  kql_arena_free(&s->mem);
  free(s->valid);
  free(s);
}

static const struct kql_opvt gl_vt = {gl_row, gl_end, gl_free};

struct kql_op *
kql_op_geolookup(struct kql_query *q, struct kql_table *t, int lng_slot,
                 int lat_slot, uint32_t key_col, int *rslots, double radius,
                 bool keep_unmatched, bool lines)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct gl_st *s = kql_xcalloc(1, sizeof *s);
  s->t = t;
  s->lng_slot = lng_slot;
  s->lat_slot = lat_slot;
  s->rslots = rslots;
  s->radius = radius < 0 ? -1 : radius / KQL_GEO_R;
  s->keep = keep_unmatched;
  s->lines = lines;
  kql_arena_init(&s->mem);
  s->shapes = kql_alloc(&s->mem, (t->nrows + 1) * sizeof *s->shapes);
  s->valid = kql_xcalloc(t->nrows + 1, sizeof *s->valid);
  int want = lines ? KQL_GEO_WANT_LINE : KQL_GEO_WANT_POLY;
  for (uint32_t i = 0; i < t->nrows; i++)
    s->valid[i] =
        kql_geo_read(&s->mem, &t->cells[(size_t)i * t->ncols + key_col], want,
                     &s->shapes[i]);
  op->vt = &gl_vt;
  op->q = q;
  op->st = s;
  return op;
}
