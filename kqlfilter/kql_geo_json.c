/*
 * kql_geo_json.c - GeoJSON shapes in and out of dynamic values, and WKT
 * text to GeoJSON (geo_from_wkt).
 *
 * Reading validates as Kusto documents: coordinates are [lng, lat] with
 * lng in [-180, 180] and lat in [-90, 90]; a LineString has at least two
 * points; a polygon ring is closed, has at least four entries and three
 * distinct vertices. Repeated consecutive vertices are dropped and so is
 * a ring's closing vertex. Everything is built in the caller's arena.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_geo.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ reading */

static bool
member(struct kql_arena *a, const struct kql_val *v, const char *k,
       struct kql_val *out)
{
  return kql_dyn_member(a, v, k, strlen(k), out) && !out->null;
}

static bool
as_array(struct kql_arena *a, const struct kql_val *v, struct kql_val *out)
{
  if (v->null || v->t != KQL_T_ARRAY) return false;
  *out = *v;
  kql_dyn_force(a, out);
  return true;
}

static bool
read_pt(struct kql_arena *a, const struct kql_val *v, struct kql_geo_pt *p)
{
  struct kql_val arr;
  if (!as_array(a, v, &arr) || arr.n < 2) return false;
  const struct kql_val *x = &arr.u.a[0], *y = &arr.u.a[1];
  if (x->null || y->null || !kql_is_num(x->t) || !kql_is_num(y->t))
    return false;
  double lng, lat;
  if (!kql_get_real(x, &lng) || !kql_get_real(y, &lat)) return false;
  if (!kql_geo_pt_valid(lng, lat)) return false;
  p->lng = lng;
  p->lat = lat;
  return true;
}

/* A point list; ring: closed, closing vertex dropped. Consecutive repeats
 * are dropped. */
static bool
read_line(struct kql_arena *a, const struct kql_val *v, bool ring,
          struct kql_geo_line *l)
{
  struct kql_val arr;
  if (!as_array(a, v, &arr)) return false;
  if (arr.n < (ring ? 4u : 2u)) return false;
  l->p = kql_alloc(a, arr.n * sizeof *l->p);
  l->n = 0;
  for (uint32_t i = 0; i < arr.n; i++) {
    struct kql_geo_pt p;
    if (!read_pt(a, &arr.u.a[i], &p)) return false;
    if (l->n && kql_geo_pt_eq(l->p[l->n - 1], p)) continue;
    l->p[l->n++] = p;
  }
  if (ring) {
    struct kql_geo_pt first, last;
    if (!read_pt(a, &arr.u.a[0], &first) ||
        !read_pt(a, &arr.u.a[arr.n - 1], &last) || !kql_geo_pt_eq(first, last))
      return false;
    if (l->n > 1 && kql_geo_pt_eq(l->p[0], l->p[l->n - 1])) l->n--;
    return l->n >= 3;
  }
  return l->n >= 2;
}

static bool
read_poly(struct kql_arena *a, const struct kql_val *v, struct kql_geo_poly *g)
{
  struct kql_val arr;
  if (!as_array(a, v, &arr) || arr.n < 1) return false;
  g->rings = kql_alloc(a, arr.n * sizeof *g->rings);
  g->nrings = arr.n;
  for (uint32_t i = 0; i < arr.n; i++)
    if (!read_line(a, &arr.u.a[i], true, &g->rings[i])) return false;
  return true;
}

static bool
type_is(const struct kql_val *t, const char *name)
{
  size_t n = strlen(name);
  if (t->t != KQL_T_STRING || t->n != n) return false;
  for (size_t i = 0; i < n; i++)
    if (tolower((unsigned char)t->u.s[i]) != tolower((unsigned char)name[i]))
      return false;
  return true;
}

bool
kql_geo_read(struct kql_arena *a, const struct kql_val *v, int want,
             struct kql_geo_shape *out)
{
  memset(out, 0, sizeof *out);
  if (v->null || v->t != KQL_T_BAG) return false;
  struct kql_val type, co, arr;
  if (!member(a, v, "type", &type) || !member(a, v, "coordinates", &co))
    return false;
  if ((want & KQL_GEO_WANT_POINT) && type_is(&type, "Point")) {
    out->kind = KQL_GEO_POINT;
    out->pts = kql_alloc(a, sizeof *out->pts);
    out->npts = 1;
    return read_pt(a, &co, &out->pts[0]);
  }
  if ((want & KQL_GEO_WANT_POINT) && type_is(&type, "MultiPoint")) {
    out->kind = KQL_GEO_MPOINT;
    if (!as_array(a, &co, &arr) || arr.n < 1) return false;
    out->pts = kql_alloc(a, arr.n * sizeof *out->pts);
    out->npts = arr.n;
    for (uint32_t i = 0; i < arr.n; i++)
      if (!read_pt(a, &arr.u.a[i], &out->pts[i])) return false;
    return true;
  }
  if ((want & KQL_GEO_WANT_LINE) && type_is(&type, "LineString")) {
    out->kind = KQL_GEO_LINE;
    out->lines = kql_alloc(a, sizeof *out->lines);
    out->nlines = 1;
    return read_line(a, &co, false, &out->lines[0]);
  }
  if ((want & KQL_GEO_WANT_LINE) && type_is(&type, "MultiLineString")) {
    out->kind = KQL_GEO_MLINE;
    if (!as_array(a, &co, &arr) || arr.n < 1) return false;
    out->lines = kql_alloc(a, arr.n * sizeof *out->lines);
    out->nlines = arr.n;
    for (uint32_t i = 0; i < arr.n; i++)
      if (!read_line(a, &arr.u.a[i], false, &out->lines[i])) return false;
    return true;
  }
  if ((want & KQL_GEO_WANT_POLY) && type_is(&type, "Polygon")) {
    out->kind = KQL_GEO_POLYGON;
    out->polys = kql_alloc(a, sizeof *out->polys);
    out->npolys = 1;
    return read_poly(a, &co, &out->polys[0]);
  }
  if ((want & KQL_GEO_WANT_POLY) && type_is(&type, "MultiPolygon")) {
    out->kind = KQL_GEO_MPOLYGON;
    if (!as_array(a, &co, &arr) || arr.n < 1) return false;
    out->polys = kql_alloc(a, arr.n * sizeof *out->polys);
    out->npolys = arr.n;
    for (uint32_t i = 0; i < arr.n; i++)
      if (!read_poly(a, &arr.u.a[i], &out->polys[i])) return false;
    return true;
  }
  return false;
}

/* ------------------------------------------------------------ writing */

struct kql_val
kql_geo_num(double r)
{
  struct kql_val v;
  if (r == 0) r = 0; /* no negative zero */
  if (r == trunc(r) && fabs(r) < 1e15)
    v = kql_v_long((int64_t)r);
  else
    v = kql_v_real(r);
  v.dyn = 1;
  return v;
}

struct kql_val
kql_geo_mk_array(struct kql_arena *a, uint32_t n)
{
  struct kql_val v;
  memset(&v, 0, sizeof v);
  v.t = KQL_T_ARRAY;
  v.dyn = 1;
  v.n = n;
  v.u.a = kql_zalloc(a, (n + 1) * sizeof *v.u.a);
  return v;
}

static struct kql_val
dstr(const char *s)
{
  struct kql_val v = kql_v_str(s, strlen(s));
  v.dyn = 1;
  return v;
}

struct kql_val
kql_geo_mk_bag(struct kql_arena *a, const char *type, const char *key,
               struct kql_val val)
{
  struct kql_kv *kv = kql_alloc(a, 2 * sizeof *kv);
  kv[0].k = "type";
  kv[0].kn = 4;
  kv[0].v = dstr(type);
  kv[1].k = key;
  kv[1].kn = (uint32_t)strlen(key);
  kv[1].v = val;
  struct kql_val v;
  memset(&v, 0, sizeof v);
  v.t = KQL_T_BAG;
  v.dyn = 1;
  v.n = 2;
  v.u.kv = kv;
  return v;
}

static struct kql_val
mk_pt_coords(struct kql_arena *a, struct kql_geo_pt p)
{
  struct kql_val c = kql_geo_mk_array(a, 2);
  c.u.a[0] = kql_geo_num(p.lng);
  c.u.a[1] = kql_geo_num(p.lat);
  return c;
}

struct kql_val
kql_geo_mk_point(struct kql_arena *a, struct kql_geo_pt p)
{
  return kql_geo_mk_bag(a, "Point", "coordinates", mk_pt_coords(a, p));
}

struct kql_val
kql_geo_mk_coords(struct kql_arena *a, const struct kql_geo_line *l,
                  bool closed)
{
  uint32_t n = l->n + (closed && l->n ? 1 : 0);
  struct kql_val c = kql_geo_mk_array(a, n);
  for (uint32_t i = 0; i < n; i++)
    c.u.a[i] = mk_pt_coords(a, l->p[i % l->n]);
  return c;
}

struct kql_val
kql_geo_mk_poly_coords(struct kql_arena *a, const struct kql_geo_poly *g)
{
  struct kql_val c = kql_geo_mk_array(a, g->nrings);
  for (uint32_t i = 0; i < g->nrings; i++)
    c.u.a[i] = kql_geo_mk_coords(a, &g->rings[i], true);
  return c;
}

static struct kql_val
mk_points(struct kql_arena *a, const struct kql_geo_shape *s, bool multi)
{
  if (!multi) return kql_geo_mk_point(a, s->pts[0]);
  struct kql_val c = kql_geo_mk_array(a, s->npts);
  for (uint32_t i = 0; i < s->npts; i++)
    c.u.a[i] = mk_pt_coords(a, s->pts[i]);
  return kql_geo_mk_bag(a, "MultiPoint", "coordinates", c);
}

static struct kql_val
mk_lines(struct kql_arena *a, const struct kql_geo_shape *s, bool multi)
{
  if (!multi)
    return kql_geo_mk_bag(a, "LineString", "coordinates",
                          kql_geo_mk_coords(a, &s->lines[0], false));
  struct kql_val c = kql_geo_mk_array(a, s->nlines);
  for (uint32_t i = 0; i < s->nlines; i++)
    c.u.a[i] = kql_geo_mk_coords(a, &s->lines[i], false);
  return kql_geo_mk_bag(a, "MultiLineString", "coordinates", c);
}

static struct kql_val
mk_polys(struct kql_arena *a, const struct kql_geo_shape *s, bool multi)
{
  if (!multi)
    return kql_geo_mk_bag(a, "Polygon", "coordinates",
                          kql_geo_mk_poly_coords(a, &s->polys[0]));
  struct kql_val c = kql_geo_mk_array(a, s->npolys);
  for (uint32_t i = 0; i < s->npolys; i++)
    c.u.a[i] = kql_geo_mk_poly_coords(a, &s->polys[i]);
  return kql_geo_mk_bag(a, "MultiPolygon", "coordinates", c);
}

struct kql_val
kql_geo_mk_shape(struct kql_arena *a, const struct kql_geo_shape *s)
{
  switch (s->kind) {
  case KQL_GEO_POINT:
    return mk_points(a, s, false);
  case KQL_GEO_MPOINT:
    return mk_points(a, s, true);
  case KQL_GEO_LINE:
    return mk_lines(a, s, false);
  case KQL_GEO_MLINE:
    return mk_lines(a, s, true);
  case KQL_GEO_POLYGON:
    return mk_polys(a, s, false);
  case KQL_GEO_MPOLYGON:
    return mk_polys(a, s, true);
  default:
    break;
  }
  int fams = (s->npts > 0) + (s->nlines > 0) + (s->npolys > 0);
  if (fams == 1) {
    if (s->npts) return mk_points(a, s, s->npts > 1);
    if (s->nlines) return mk_lines(a, s, s->nlines > 1);
    return mk_polys(a, s, s->npolys > 1);
  }
  struct kql_val g = kql_geo_mk_array(a, (uint32_t)fams);
  uint32_t k = 0;
  if (s->npts) g.u.a[k++] = mk_points(a, s, s->npts > 1);
  if (s->nlines) g.u.a[k++] = mk_lines(a, s, s->nlines > 1);
  if (s->npolys) g.u.a[k++] = mk_polys(a, s, s->npolys > 1);
  return kql_geo_mk_bag(a, "GeometryCollection", "geometries", g);
}

/* ------------------------------------------------------------ WKT */

struct wkt {
  struct kql_arena *a;
  const char *p, *end;
  int depth;
};

static void
ws(struct wkt *w)
{
  while (w->p < w->end && isspace((unsigned char)*w->p))
    w->p++;
}

static bool
eat(struct wkt *w, char c)
{
  ws(w);
  if (w->p < w->end && *w->p == c) {
    w->p++;
    return true;
  }
  return false;
}

static size_t
word(struct wkt *w, char *buf, size_t cap)
{
  ws(w);
  size_t n = 0;
  while (w->p < w->end && isalpha((unsigned char)*w->p)) {
    if (n + 1 < cap) buf[n++] = (char)toupper((unsigned char)*w->p);
    w->p++;
  }
  buf[n] = 0;
  return n;
}

static bool
number(struct wkt *w, double *out)
{
  ws(w);
  char buf[64];
  size_t n = 0;
  while (w->p + n < w->end && n + 1 < sizeof buf &&
         (isdigit((unsigned char)w->p[n]) || strchr("+-.eE", w->p[n])))
    n++;
  if (!n) return false;
  memcpy(buf, w->p, n);
  buf[n] = 0;
  char *e;
  *out = strtod(buf, &e);
  if (e != buf + n || !isfinite(*out)) return false;
  w->p += n;
  return true;
}

/* One coordinate "x y [z [m]]" as [x, y]. */
static bool
wkt_pt(struct wkt *w, struct kql_val *out)
{
  double x, y, extra;
  if (!number(w, &x) || !number(w, &y)) return false;
  if (!kql_geo_pt_valid(x, y)) return false;
  for (int i = 0; i < 2; i++) {
    const char *save = w->p;
    if (!number(w, &extra)) {
      w->p = save;
      break;
    }
  }
  *out = kql_geo_mk_array(w->a, 2);
  out->u.a[0] = kql_geo_num(x);
  out->u.a[1] = kql_geo_num(y);
  return true;
}

/* A growing list of values in the arena. */
struct vlist {
  struct kql_val *v;
  uint32_t n, cap;
};

static void
vl_push(struct kql_arena *a, struct vlist *l, struct kql_val v)
{
  if (l->n == l->cap) {
    uint32_t cap = l->cap ? l->cap * 2 : 8;
    struct kql_val *nv = kql_alloc(a, cap * sizeof *nv);
    if (l->n) memcpy(nv, l->v, l->n * sizeof *nv);
    l->v = nv;
    l->cap = cap;
  }
  l->v[l->n++] = v;
}

static struct kql_val
vl_array(struct kql_arena *a, const struct vlist *l)
{
  struct kql_val arr = kql_geo_mk_array(a, l->n);
  if (l->n) memcpy(arr.u.a, l->v, l->n * sizeof *l->v);
  return arr;
}

/* "(x y, x y, ...)"; a MULTIPOINT may also wrap each point in parens. */
static bool
wkt_seq(struct wkt *w, uint32_t min, bool ring, bool paren_pts,
        struct kql_val *out)
{
  if (!eat(w, '(')) return false;
  struct vlist l = {0};
  do {
    struct kql_val p;
    bool par = paren_pts && eat(w, '(');
    if (!wkt_pt(w, &p)) return false;
    if (par && !eat(w, ')')) return false;
    vl_push(w->a, &l, p);
  } while (eat(w, ','));
  if (!eat(w, ')') || l.n < min) return false;
  if (ring) {
    const struct kql_val *f = l.v[0].u.a, *z = l.v[l.n - 1].u.a;
    double f0, f1, z0, z1;
    kql_get_real(&f[0], &f0);
    kql_get_real(&f[1], &f1);
    kql_get_real(&z[0], &z0);
    kql_get_real(&z[1], &z1);
    if (f0 != z0 || f1 != z1) return false;
  }
  *out = vl_array(w->a, &l);
  return true;
}

static bool
wkt_rings(struct wkt *w, struct kql_val *out)
{
  if (!eat(w, '(')) return false;
  struct vlist l = {0};
  do {
    struct kql_val r;
    if (!wkt_seq(w, 4, true, false, &r)) return false;
    vl_push(w->a, &l, r);
  } while (eat(w, ','));
  if (!eat(w, ')')) return false;
  *out = vl_array(w->a, &l);
  return true;
}

static bool
wkt_geom(struct wkt *w, struct kql_val *out)
{
  char kw[32];
  if (!word(w, kw, sizeof kw)) return false;
  /* Dimension markers (Z, M, ZM) are read and the extra ordinates
   * dropped. */
  const char *save = w->p;
  char dim[8];
  if (!word(w, dim, sizeof dim) ||
      (strcmp(dim, "Z") && strcmp(dim, "M") && strcmp(dim, "ZM")))
    w->p = save;
  struct kql_val c;
  struct vlist l = {0};
  if (!strcmp(kw, "POINT")) {
    if (!eat(w, '(') || !wkt_pt(w, &c) || !eat(w, ')')) return false;
    *out = kql_geo_mk_bag(w->a, "Point", "coordinates", c);
  } else if (!strcmp(kw, "LINESTRING")) {
    if (!wkt_seq(w, 2, false, false, &c)) return false;
    *out = kql_geo_mk_bag(w->a, "LineString", "coordinates", c);
  } else if (!strcmp(kw, "POLYGON")) {
    if (!wkt_rings(w, &c)) return false;
    *out = kql_geo_mk_bag(w->a, "Polygon", "coordinates", c);
  } else if (!strcmp(kw, "MULTIPOINT")) {
    if (!wkt_seq(w, 1, false, true, &c)) return false;
    *out = kql_geo_mk_bag(w->a, "MultiPoint", "coordinates", c);
  } else if (!strcmp(kw, "MULTILINESTRING")) {
    if (!eat(w, '(')) return false;
    do {
      struct kql_val s;
      if (!wkt_seq(w, 2, false, false, &s)) return false;
      vl_push(w->a, &l, s);
    } while (eat(w, ','));
    if (!eat(w, ')')) return false;
    *out = kql_geo_mk_bag(w->a, "MultiLineString", "coordinates",
                          vl_array(w->a, &l));
  } else if (!strcmp(kw, "MULTIPOLYGON")) {
    if (!eat(w, '(')) return false;
    do {
      struct kql_val s;
      if (!wkt_rings(w, &s)) return false;
      vl_push(w->a, &l, s);
    } while (eat(w, ','));
    if (!eat(w, ')')) return false;
    *out =
        kql_geo_mk_bag(w->a, "MultiPolygon", "coordinates", vl_array(w->a, &l));
  } else if (!strcmp(kw, "GEOMETRYCOLLECTION")) {
    if (++w->depth > 16 || !eat(w, '(')) return false;
    do {
      struct kql_val s;
      if (!wkt_geom(w, &s)) return false;
      vl_push(w->a, &l, s);
    } while (eat(w, ','));
    if (!eat(w, ')')) return false;
    w->depth--;
    *out = kql_geo_mk_bag(w->a, "GeometryCollection", "geometries",
                          vl_array(w->a, &l));
  } else {
    return false;
  }
  return true;
}

bool
kql_geo_from_wkt(struct kql_arena *a, const char *s, size_t n,
                 struct kql_val *out)
{
  struct wkt w = {a, s, s + n, 0};
  if (!wkt_geom(&w, out)) return false;
  ws(&w);
  return w.p == w.end;
}
