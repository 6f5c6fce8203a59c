/*
 * kql_func_geo.c - geospatial functions (geo_*).
 *
 * The family's functions and its table, kept sorted by name; kql_func.c
 * searches it after the core table. Measures, predicates and line and
 * polygon functions live here; the geometry is in kql_geo_math.c,
 * GeoJSON in kql_geo_json.c, overlays in kql_geo_clip.c and the cell
 * systems in kql_geo_hash.c, kql_geo_s2.c and kql_geo_h3.c. Invalid
 * coordinates or shapes give null, as Kusto documents for every geo_*
 * function.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_geo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEG (KQL_GEO_PI / 180.0)

/* ------------------------------------------------------------ arguments */

static bool
arg_pt(const struct kql_val *x, const struct kql_val *y, struct kql_geo_pt *p)
{
  double lng, lat;
  if (!kql_fn_real(x, &lng) || !kql_fn_real(y, &lat)) return false;
  if (!kql_geo_pt_valid(lng, lat)) return false;
  p->lng = lng;
  p->lat = lat;
  return true;
}

/* An optional real argument: absent gives def; null is invalid. */
static bool
opt_real(const struct kql_val *a, uint32_t na, uint32_t i, double def,
         double *out)
{
  if (i >= na) {
    *out = def;
    return true;
  }
  return kql_fn_real(&a[i], out) && isfinite(*out);
}

static bool
opt_bool(const struct kql_val *a, uint32_t na, uint32_t i, bool *out)
{
  *out = false;
  if (i >= na) return true;
  if (a[i].null || a[i].t != KQL_T_BOOL) return false;
  *out = a[i].u.b;
  return true;
}

static void
null_out(struct kql_val *out, int t)
{
  *out = kql_v_null(t);
}

/* The polygons of a shape as one set without overlaps: a multipolygon's
 * parts are merged (Kusto measures "the union"). */
static bool
merged(struct kql_arena *a, const struct kql_geo_shape *s,
       struct kql_geo_shape *out)
{
  if (s->npolys < 2) {
    *out = *s;
    return true;
  }
  return kql_geo_union(a, s, 1, out);
}

/* ------------------------------------------------------------ points */

/* WGS-84 ellipsoid distance (Vincenty's inverse formula); false when it
 * does not converge (nearly antipodal points). */
static bool
spheroid_dist(struct kql_geo_pt p1, struct kql_geo_pt p2, double *out)
{
  const double a = 6378137.0, f = 1 / 298.257223563, b = a * (1 - f);
  double L = (p2.lng - p1.lng) * DEG;
  double u1 = atan((1 - f) * tan(p1.lat * DEG));
  double u2 = atan((1 - f) * tan(p2.lat * DEG));
  double su1 = sin(u1), cu1 = cos(u1), su2 = sin(u2), cu2 = cos(u2);
  double lam = L, sig, ss, cs, c2a, c2m;
  for (int it = 0;; it++) {
    if (it == 200) return false;
    double sl = sin(lam), cl = cos(lam);
    double t1 = cu2 * sl, t2 = cu1 * su2 - su1 * cu2 * cl;
    ss = sqrt(t1 * t1 + t2 * t2);
    if (ss == 0) {
      *out = 0;
      return true;
    }
    cs = su1 * su2 + cu1 * cu2 * cl;
    sig = atan2(ss, cs);
    double sa = cu1 * cu2 * sl / ss;
    c2a = 1 - sa * sa;
    c2m = c2a != 0 ? cs - 2 * su1 * su2 / c2a : 0;
    double C = f / 16 * c2a * (4 + f * (4 - 3 * c2a));
    double prev = lam;
    lam = L + (1 - C) * f * sa *
                  (sig + C * ss * (c2m + C * cs * (-1 + 2 * c2m * c2m)));
    if (fabs(lam - prev) < 1e-12) break;
  }
  double u2s = c2a * (a * a - b * b) / (b * b);
  double A = 1 + u2s / 16384 * (4096 + u2s * (-768 + u2s * (320 - 175 * u2s)));
  double B = u2s / 1024 * (256 + u2s * (-128 + u2s * (74 - 47 * u2s)));
  double ds =
      B * ss *
      (c2m + B / 4 *
                 (cs * (-1 + 2 * c2m * c2m) -
                  B / 6 * c2m * (-3 + 4 * ss * ss) * (-3 + 4 * c2m * c2m)));
  *out = b * A * (sig - ds);
  return true;
}

static KQL_FN(f_geo_distance_2points)
{
  (void)n;
  (void)c;
  struct kql_geo_pt p1, p2;
  bool sph;
  if (!arg_pt(&a[0], &a[1], &p1) || !arg_pt(&a[2], &a[3], &p2) ||
      !opt_bool(a, na, 4, &sph)) {
    null_out(out, KQL_T_REAL);
    return;
  }
  double d;
  if (!sph || !spheroid_dist(p1, p2, &d)) d = kql_geo_dist(p1, p2);
  *out = kql_v_real(d);
}

static KQL_FN(f_geo_point_in_circle)
{
  (void)n;
  (void)na;
  (void)c;
  struct kql_geo_pt p, pc;
  double r;
  if (!arg_pt(&a[0], &a[1], &p) || !arg_pt(&a[2], &a[3], &pc) ||
      !kql_fn_real(&a[4], &r) || !(r >= 0)) {
    null_out(out, KQL_T_BOOL);
    return;
  }
  *out = kql_v_bool(kql_geo_dist(p, pc) <= r);
}

/* Azimuth of the geodesic from p1 to p2 at p1, clockwise from north, in
 * [0, 2pi); false when the points are equal or antipodal. */
static bool
azimuth(struct kql_geo_pt p1, struct kql_geo_pt p2, double *out)
{
  struct kql_geo_v3 a = kql_geo_v3(p1), b = kql_geo_v3(p2);
  struct kql_geo_v3 x = kql_geo_cross(a, b);
  if (kql_geo_dot(x, x) < 1e-30) return false;
  double f1 = p1.lat * DEG, f2 = p2.lat * DEG, dl = (p2.lng - p1.lng) * DEG;
  double az =
      atan2(sin(dl) * cos(f2), cos(f1) * sin(f2) - sin(f1) * cos(f2) * cos(dl));
  if (az < 0) az += 2 * KQL_GEO_PI;
  if (az >= 2 * KQL_GEO_PI) az -= 2 * KQL_GEO_PI;
  *out = az;
  return true;
}

static KQL_FN(f_geo_azimuth)
{
  (void)n;
  (void)na;
  (void)c;
  struct kql_geo_pt p1, p2;
  double az;
  if (!arg_pt(&a[0], &a[1], &p1) || !arg_pt(&a[2], &a[3], &p2) ||
      !azimuth(p1, p2, &az)) {
    null_out(out, KQL_T_REAL);
    return;
  }
  *out = kql_v_real(az);
}

static KQL_FN(f_geo_angle)
{
  (void)n;
  (void)na;
  (void)c;
  struct kql_geo_pt p1, p2, p3;
  double az1, az3;
  if (!arg_pt(&a[0], &a[1], &p1) || !arg_pt(&a[2], &a[3], &p2) ||
      !arg_pt(&a[4], &a[5], &p3) || !azimuth(p2, p1, &az1) ||
      !azimuth(p2, p3, &az3)) {
    null_out(out, KQL_T_REAL);
    return;
  }
  double d = az3 - az1;
  if (d < 0) d += 2 * KQL_GEO_PI;
  if (d >= 2 * KQL_GEO_PI) d -= 2 * KQL_GEO_PI;
  *out = kql_v_real(d);
}

/* Buffer radius and tolerance arguments (meters): radius positive, the
 * tolerance at least a millionth of it and lowered below it. */
static bool
buffer_args(const struct kql_val *a, uint32_t na, uint32_t i, double *r,
            double *tol)
{
  if (!kql_fn_real(&a[i], r) || !(*r > 0) || !isfinite(*r) ||
      !opt_real(a, na, i + 1, 10, tol) || !(*tol > 0) || *tol < *r * 1e-6)
    return false;
  if (*tol >= *r) *tol = *r * 0.999;
  return true;
}

/* A ring around v at distance r (radians) whose edges stay outside the
 * circle and within tol (radians) of it, counterclockwise. */
static void
circle(struct kql_arena *ar, struct kql_geo_v3 v, double r, double tol,
       struct kql_geo_line *out)
{
  double step = 2 * acos(r / (r + tol));
  uint32_t k = step > 0 ? (uint32_t)ceil(2 * KQL_GEO_PI / step) : 1024;
  if (k < 8) k = 8;
  if (k > 1024) k = 1024;
  double R = atan(tan(r) / cos(KQL_GEO_PI / k));
  /* A tangent basis at v: east and north. */
  struct kql_geo_v3 z = {0, 0, 1}, e = kql_geo_cross(z, v);
  if (kql_geo_dot(e, e) < 1e-20) {
    struct kql_geo_v3 x = {1, 0, 0};
    e = kql_geo_cross(x, v);
  }
  e = kql_geo_norm(e);
  struct kql_geo_v3 nn = kql_geo_cross(v, e);
  out->n = k;
  out->p = kql_alloc(ar, k * sizeof *out->p);
  for (uint32_t i = 0; i < k; i++) {
    double t = 2 * KQL_GEO_PI * i / k;
    struct kql_geo_v3 d =
        kql_geo_add(kql_geo_scale(e, cos(t)), kql_geo_scale(nn, sin(t)));
    out->p[i] = kql_geo_pt(
        kql_geo_add(kql_geo_scale(v, cos(R)), kql_geo_scale(d, sin(R))));
  }
}

static struct kql_geo_shape
one_ring(struct kql_arena *ar, struct kql_geo_line r)
{
  struct kql_geo_shape s;
  memset(&s, 0, sizeof s);
  s.kind = KQL_GEO_POLYGON;
  s.polys = kql_alloc(ar, sizeof *s.polys);
  s.npolys = 1;
  s.polys[0].rings = kql_alloc(ar, sizeof *s.polys[0].rings);
  s.polys[0].rings[0] = r;
  s.polys[0].nrings = 1;
  return s;
}

/* The band within r of the arc [a, b] (without its ends' caps). */
static struct kql_geo_line
band(struct kql_arena *ar, struct kql_geo_v3 a, struct kql_geo_v3 b, double r)
{
  struct kql_geo_v3 nrm = kql_geo_norm(kql_geo_cross(a, b));
  struct kql_geo_line l = {kql_alloc(ar, 4 * sizeof *l.p), 4};
  double c = cos(r), s = sin(r);
  l.p[0] = kql_geo_pt(kql_geo_add(kql_geo_scale(a, c), kql_geo_scale(nrm, -s)));
  l.p[1] = kql_geo_pt(kql_geo_add(kql_geo_scale(b, c), kql_geo_scale(nrm, -s)));
  l.p[2] = kql_geo_pt(kql_geo_add(kql_geo_scale(b, c), kql_geo_scale(nrm, s)));
  l.p[3] = kql_geo_pt(kql_geo_add(kql_geo_scale(a, c), kql_geo_scale(nrm, s)));
  return l;
}

/* Everything within r meters of the shape: its polygons, a disc around
 * every vertex and a band along every edge, merged. */
static bool
buffer(struct kql_arena *ar, const struct kql_geo_shape *s, double r,
       double tol, struct kql_geo_shape *out)
{
  uint32_t n = s->npolys + s->npts;
  for (uint32_t i = 0; i < s->nlines; i++)
    n += 2 * s->lines[i].n;
  for (uint32_t i = 0; i < s->npolys; i++)
    for (uint32_t j = 0; j < s->polys[i].nrings; j++)
      n += 2 * s->polys[i].rings[j].n;
  struct kql_geo_shape *parts = kql_alloc(ar, (n + 1) * sizeof *parts);
  uint32_t k = 0;
  double rr = r / KQL_GEO_R, tt = tol / KQL_GEO_R;
  for (uint32_t i = 0; i < s->npolys; i++) {
    memset(&parts[k], 0, sizeof parts[k]);
    parts[k].kind = KQL_GEO_POLYGON;
    parts[k].polys = &s->polys[i];
    parts[k++].npolys = 1;
  }
  for (uint32_t i = 0; i < s->npts; i++) {
    struct kql_geo_line cl;
    circle(ar, kql_geo_v3(s->pts[i]), rr, tt, &cl);
    parts[k++] = one_ring(ar, cl);
  }
  for (int fam = 0; fam < 2; fam++) {
    uint32_t nl = fam ? 0 : s->nlines;
    for (uint32_t i = 0; i < s->npolys && fam; i++)
      nl += s->polys[i].nrings;
    for (uint32_t i = 0; i < nl; i++) {
      /* Polygons' rings are counted across the polygons; lines may be
       * NULL then, and NULL + i is undefined even unused. */
      const struct kql_geo_line *l = fam ? NULL : &s->lines[i];
      if (fam) {
        uint32_t m = i;
        for (uint32_t g = 0; g < s->npolys; g++) {
          if (m < s->polys[g].nrings) {
            l = &s->polys[g].rings[m];
            break;
          }
          m -= s->polys[g].nrings;
        }
      }
      uint32_t ne = fam ? l->n : l->n - 1;
      for (uint32_t e = 0; e < l->n; e++) {
        struct kql_geo_line cl;
        circle(ar, kql_geo_v3(l->p[e]), rr, tt, &cl);
        parts[k++] = one_ring(ar, cl);
        if (e < ne)
          parts[k++] = one_ring(ar, band(ar, kql_geo_v3(l->p[e]),
                                         kql_geo_v3(l->p[(e + 1) % l->n]), rr));
      }
    }
  }
  if (!kql_geo_union(ar, parts, k, out)) return false;
  out->kind = out->npolys == 1 ? KQL_GEO_POLYGON : KQL_GEO_MPOLYGON;
  return out->npolys > 0;
}

static KQL_FN(f_geo_point_buffer)
{
  (void)n;
  struct kql_geo_pt p;
  double r, tol;
  if (!arg_pt(&a[0], &a[1], &p) || !buffer_args(a, na, 2, &r, &tol)) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  struct kql_geo_line ring;
  circle(c->a, kql_geo_v3(p), r / KQL_GEO_R, tol / KQL_GEO_R, &ring);
  struct kql_geo_poly g = {&ring, 1};
  *out = kql_geo_mk_bag(c->a, "Polygon", "coordinates",
                        kql_geo_mk_poly_coords(c->a, &g));
}

static KQL_FN(f_geo_line_buffer)
{
  (void)n;
  struct kql_geo_shape s, u;
  double r, tol;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_LINE, &s) ||
      !buffer_args(a, na, 1, &r, &tol) || !buffer(c->a, &s, r, tol, &u)) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  *out = kql_geo_mk_shape(c->a, &u);
}

static KQL_FN(f_geo_polygon_buffer)
{
  (void)n;
  struct kql_geo_shape s, u;
  double r, tol;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_POLY, &s) ||
      !buffer_args(a, na, 1, &r, &tol) || !buffer(c->a, &s, r, tol, &u)) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  *out = kql_geo_mk_shape(c->a, &u);
}

/* ------------------------------------------------------------ polygons */

static KQL_FN(f_geo_point_in_polygon)
{
  (void)n;
  (void)na;
  struct kql_geo_pt p;
  struct kql_geo_shape s;
  if (!arg_pt(&a[0], &a[1], &p) ||
      !kql_geo_read(c->a, &a[2], KQL_GEO_WANT_POLY, &s)) {
    null_out(out, KQL_T_BOOL);
    return;
  }
  *out = kql_v_bool(kql_geo_polys_contain(&s, kql_geo_v3(p)));
}

static KQL_FN(f_geo_polygon_area)
{
  (void)n;
  (void)na;
  struct kql_geo_shape s, u;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_POLY, &s) ||
      !merged(c->a, &s, &u)) {
    null_out(out, KQL_T_REAL);
    return;
  }
  double area = 0;
  for (uint32_t i = 0; i < u.npolys; i++)
    area += kql_geo_poly_area(&u.polys[i]);
  *out = kql_v_real(area * KQL_GEO_R * KQL_GEO_R);
}

static KQL_FN(f_geo_polygon_perimeter)
{
  (void)n;
  (void)na;
  struct kql_geo_shape s, u;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_POLY, &s) ||
      !merged(c->a, &s, &u)) {
    null_out(out, KQL_T_REAL);
    return;
  }
  double len = 0;
  for (uint32_t i = 0; i < u.npolys; i++)
    for (uint32_t j = 0; j < u.polys[i].nrings; j++)
      len += kql_geo_line_len(&u.polys[i].rings[j], true);
  *out = kql_v_real(len * KQL_GEO_R);
}

static KQL_FN(f_geo_polygon_centroid)
{
  (void)n;
  (void)na;
  struct kql_geo_shape s, u;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_POLY, &s) ||
      !merged(c->a, &s, &u)) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  struct kql_geo_v3 acc = {0, 0, 0};
  for (uint32_t i = 0; i < u.npolys; i++) {
    const struct kql_geo_poly *g = &u.polys[i];
    for (uint32_t j = 0; j < g->nrings; j++) {
      struct kql_geo_v3 r = {0, 0, 0};
      kql_geo_ring_centroid_acc(&g->rings[j], &r);
      acc = kql_geo_add(acc, j ? kql_geo_scale(r, -1) : r);
    }
  }
  if (kql_geo_dot(acc, acc) < 1e-60) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  *out = kql_geo_mk_point(c->a, kql_geo_pt(kql_geo_norm(acc)));
}

/* Distance (radians) from p to the nearest polygon boundary, the point
 * there in *best. */
static double
nearest_boundary(const struct kql_geo_shape *s, struct kql_geo_v3 p,
                 struct kql_geo_v3 *best)
{
  double bd = INFINITY;
  for (uint32_t i = 0; i < s->npolys; i++)
    for (uint32_t j = 0; j < s->polys[i].nrings; j++) {
      struct kql_geo_v3 q;
      uint32_t e;
      double d = kql_geo_closest(&s->polys[i].rings[j], true, p, &q, &e);
      if (d < bd) {
        bd = d;
        *best = q;
      }
    }
  return bd;
}

static KQL_FN(f_geo_closest_point_on_polygon)
{
  (void)n;
  (void)na;
  struct kql_geo_pt p;
  struct kql_geo_shape s;
  if (!arg_pt(&a[0], &a[1], &p) ||
      !kql_geo_read(c->a, &a[2], KQL_GEO_WANT_POLY, &s)) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  struct kql_geo_v3 v = kql_geo_v3(p), q;
  if (kql_geo_polys_contain(&s, v)) {
    *out = kql_geo_mk_point(c->a, p);
    return;
  }
  nearest_boundary(&s, v, &q);
  *out = kql_geo_mk_point(c->a, kql_geo_pt(q));
}

static KQL_FN(f_geo_distance_point_to_polygon)
{
  (void)n;
  (void)na;
  struct kql_geo_pt p;
  struct kql_geo_shape s;
  if (!arg_pt(&a[0], &a[1], &p) ||
      !kql_geo_read(c->a, &a[2], KQL_GEO_WANT_POLY, &s)) {
    null_out(out, KQL_T_REAL);
    return;
  }
  struct kql_geo_v3 v = kql_geo_v3(p), q;
  if (kql_geo_polys_contain(&s, v)) {
    *out = kql_v_real(0);
    return;
  }
  *out = kql_v_real(nearest_boundary(&s, v, &q) * KQL_GEO_R);
}

/* ------------------------------------------------------------ lines */

static KQL_FN(f_geo_line_length)
{
  (void)n;
  (void)na;
  struct kql_geo_shape s;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_LINE, &s)) {
    null_out(out, KQL_T_REAL);
    return;
  }
  double len = 0;
  for (uint32_t i = 0; i < s.nlines; i++)
    len += kql_geo_line_len(&s.lines[i], false);
  *out = kql_v_real(len * KQL_GEO_R);
}

static KQL_FN(f_geo_line_centroid)
{
  (void)n;
  (void)na;
  struct kql_geo_shape s;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_LINE, &s)) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  struct kql_geo_v3 acc = {0, 0, 0};
  for (uint32_t i = 0; i < s.nlines; i++)
    kql_geo_line_centroid_acc(&s.lines[i], false, &acc);
  if (kql_geo_dot(acc, acc) < 1e-60) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  *out = kql_geo_mk_point(c->a, kql_geo_pt(kql_geo_norm(acc)));
}

static double
nearest_line(const struct kql_geo_shape *s, struct kql_geo_v3 p,
             struct kql_geo_v3 *best)
{
  double bd = INFINITY;
  for (uint32_t i = 0; i < s->nlines; i++) {
    struct kql_geo_v3 q;
    uint32_t e;
    double d = kql_geo_closest(&s->lines[i], false, p, &q, &e);
    if (d < bd) {
      bd = d;
      *best = q;
    }
  }
  return bd;
}

static KQL_FN(f_geo_closest_point_on_line)
{
  (void)n;
  (void)na;
  struct kql_geo_pt p;
  struct kql_geo_shape s;
  if (!arg_pt(&a[0], &a[1], &p) ||
      !kql_geo_read(c->a, &a[2], KQL_GEO_WANT_LINE, &s)) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  struct kql_geo_v3 q;
  nearest_line(&s, kql_geo_v3(p), &q);
  *out = kql_geo_mk_point(c->a, kql_geo_pt(q));
}

static KQL_FN(f_geo_distance_point_to_line)
{
  (void)n;
  (void)na;
  struct kql_geo_pt p;
  struct kql_geo_shape s;
  if (!arg_pt(&a[0], &a[1], &p) ||
      !kql_geo_read(c->a, &a[2], KQL_GEO_WANT_LINE, &s)) {
    null_out(out, KQL_T_REAL);
    return;
  }
  struct kql_geo_v3 q;
  *out = kql_v_real(nearest_line(&s, kql_geo_v3(p), &q) * KQL_GEO_R);
}

static KQL_FN(f_geo_line_interpolate_point)
{
  (void)n;
  (void)na;
  struct kql_geo_shape s;
  double f;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_LINE, &s) || s.nlines != 1 ||
      !kql_fn_real(&a[1], &f) || !(f >= 0 && f <= 1)) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  const struct kql_geo_line *l = &s.lines[0];
  double target = f * kql_geo_line_len(l, false);
  struct kql_geo_v3 pt = kql_geo_v3(l->p[l->n - 1]);
  for (uint32_t i = 0; i + 1 < l->n; i++) {
    struct kql_geo_v3 x = kql_geo_v3(l->p[i]), y = kql_geo_v3(l->p[i + 1]);
    double e = kql_geo_angle(x, y);
    if (target <= e) {
      pt = e > 0 ? kql_geo_slerp(x, y, target / e) : x;
      break;
    }
    target -= e;
  }
  *out = kql_geo_mk_point(c->a, kql_geo_pt(pt));
}

static KQL_FN(f_geo_line_locate_point)
{
  (void)n;
  struct kql_geo_shape s;
  struct kql_geo_pt p;
  bool sph;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_LINE, &s) || s.nlines != 1 ||
      !arg_pt(&a[1], &a[2], &p) || !opt_bool(a, na, 3, &sph)) {
    null_out(out, KQL_T_REAL);
    return;
  }
  const struct kql_geo_line *l = &s.lines[0];
  struct kql_geo_v3 q;
  uint32_t e;
  kql_geo_closest(l, false, kql_geo_v3(p), &q, &e);
  double total = kql_geo_line_len(l, false), upto = 0;
  for (uint32_t i = 0; i < e; i++)
    upto += kql_geo_angle(kql_geo_v3(l->p[i]), kql_geo_v3(l->p[i + 1]));
  upto += kql_geo_angle(kql_geo_v3(l->p[e]), q);
  *out = kql_v_real(total > 0 ? upto / total : 0);
}

/* ------------------------------------------------------------ densify */

/* A growing point list in the row arena. */
struct ptlist {
  struct kql_geo_pt *p;
  uint32_t n, cap;
};

static bool
pl_push(struct kql_arena *a, struct ptlist *l, struct kql_geo_pt p)
{
  if (l->n >= 10485760) return false;
  if (l->n == l->cap) {
    uint32_t cap = l->cap ? l->cap * 2 : 16;
    struct kql_geo_pt *np = kql_alloc(a, cap * sizeof *np);
    if (l->n) memcpy(np, l->p, l->n * sizeof *np);
    l->p = np;
    l->cap = cap;
  }
  l->p[l->n++] = p;
  return true;
}

/* Split the planar edge [p, q] (straight in longitude and latitude) at
 * its midpoint while the midpoint strays more than tol meters from the
 * geodesic between the ends; push p and the split points. */
static bool
densify_edge(struct kql_arena *a, struct ptlist *l, struct kql_geo_pt p,
             struct kql_geo_pt q, double tol, int depth)
{
  struct kql_geo_pt m = {(p.lng + q.lng) / 2, (p.lat + q.lat) / 2};
  struct kql_geo_v3 vm = kql_geo_v3(m);
  struct kql_geo_v3 g = kql_geo_edge_closest(kql_geo_v3(p), kql_geo_v3(q), vm);
  if (depth >= 40 || kql_geo_angle(vm, g) * KQL_GEO_R <= tol)
    return pl_push(a, l, p);
  return densify_edge(a, l, p, m, tol, depth + 1) &&
         densify_edge(a, l, m, q, tol, depth + 1);
}

static bool
densify(struct kql_arena *a, const struct kql_geo_line *in, bool closed,
        double tol, struct kql_geo_line *out)
{
  struct ptlist l = {0};
  uint32_t ne = closed ? in->n : in->n - 1;
  for (uint32_t i = 0; i < ne; i++)
    if (!densify_edge(a, &l, in->p[i], in->p[(i + 1) % in->n], tol, 0))
      return false;
  if (!closed && !pl_push(a, &l, in->p[in->n - 1])) return false;
  out->p = l.p;
  out->n = l.n;
  return true;
}

static KQL_FN(f_geo_line_densify)
{
  (void)n;
  struct kql_geo_shape s;
  double tol;
  bool keep;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_LINE, &s) ||
      !opt_real(a, na, 1, 10, &tol) || !(tol >= 0.1 && tol <= 10000) ||
      !opt_bool(a, na, 2, &keep)) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  for (uint32_t i = 0; i < s.nlines; i++)
    if (!densify(c->a, &s.lines[i], false, tol, &s.lines[i])) {
      null_out(out, KQL_T_DYNAMIC);
      return;
    }
  *out = kql_geo_mk_shape(c->a, &s);
}

static KQL_FN(f_geo_polygon_densify)
{
  (void)n;
  struct kql_geo_shape s;
  double tol;
  bool keep;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_POLY, &s) ||
      !opt_real(a, na, 1, 10, &tol) || !(tol >= 0.1 && tol <= 10000) ||
      !opt_bool(a, na, 2, &keep)) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  for (uint32_t i = 0; i < s.npolys; i++)
    for (uint32_t j = 0; j < s.polys[i].nrings; j++) {
      struct kql_geo_line *r = &s.polys[i].rings[j];
      if (!densify(c->a, r, true, tol, r)) {
        null_out(out, KQL_T_DYNAMIC);
        return;
      }
    }
  *out = kql_geo_mk_shape(c->a, &s);
}

/* ------------------------------------------------------------ simplify */

/* Douglas-Peucker on vertices [lo, hi] of p: keep[] marks survivors. */
static void
dp(const struct kql_geo_pt *p, uint32_t lo, uint32_t hi, double tol, bool *keep)
{
  while (hi > lo + 1) {
    struct kql_geo_v3 a = kql_geo_v3(p[lo]), b = kql_geo_v3(p[hi]);
    double worst = -1;
    uint32_t at = lo;
    for (uint32_t i = lo + 1; i < hi; i++) {
      struct kql_geo_v3 v = kql_geo_v3(p[i]);
      double d = kql_geo_angle(v, kql_geo_edge_closest(a, b, v));
      if (d > worst) {
        worst = d;
        at = i;
      }
    }
    if (worst * KQL_GEO_R <= tol) return;
    keep[at] = true;
    dp(p, lo, at, tol, keep);
    lo = at;
  }
}

/* Simplify in place: Douglas-Peucker within tol, then no two successive
 * vertices closer than tol. Returns the vertex count left. */
static uint32_t
simplify(struct kql_geo_line *l, bool closed, double tol)
{
  uint32_t n = l->n;
  if (n < 2) return n;
  bool small[256];
  bool *keep = n <= 256 ? small : kql_xcalloc(n, sizeof *keep);
  memset(keep, 0, n * sizeof *keep);
  keep[0] = true;
  if (closed) {
    /* Split the ring at the vertex farthest from the first. */
    struct kql_geo_v3 o = kql_geo_v3(l->p[0]);
    uint32_t far = 1;
    double fd = -1;
    for (uint32_t i = 1; i < n; i++) {
      double d = kql_geo_angle(o, kql_geo_v3(l->p[i]));
      if (d > fd) {
        fd = d;
        far = i;
      }
    }
    keep[far] = true;
    dp(l->p, 0, far, tol, keep);
    /* The closing half: from far back to the first vertex. */
    struct kql_geo_pt *tmp = kql_xmalloc((n - far + 1) * sizeof *tmp);
    bool *tk = kql_xcalloc(n - far + 1, sizeof *tk);
    memcpy(tmp, l->p + far, (n - far) * sizeof *tmp);
    tmp[n - far] = l->p[0];
    dp(tmp, 0, n - far, tol, tk);
    for (uint32_t i = 1; i < n - far; i++)
      keep[far + i] = keep[far + i] || tk[i];
    free(tmp);
    free(tk);
  } else {
    keep[n - 1] = true;
    dp(l->p, 0, n - 1, tol, keep);
  }
  uint32_t k = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (!keep[i]) continue;
    if (k && kql_geo_dist(l->p[k - 1], l->p[i]) < tol) {
      /* Too close to the last one kept: a line keeps its end. */
      if (!closed && i == n - 1) l->p[k - 1] = l->p[i];
      continue;
    }
    l->p[k++] = l->p[i];
  }
  if (closed && k > 1 && kql_geo_dist(l->p[k - 1], l->p[0]) < tol) k--;
  if (keep != small) free(keep);
  l->n = k;
  return k;
}

static KQL_FN(f_geo_line_simplify)
{
  (void)n;
  struct kql_geo_shape s;
  double tol;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_LINE, &s) ||
      !opt_real(a, na, 1, 10, &tol) || !(tol >= 0)) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  uint32_t k = 0;
  for (uint32_t i = 0; i < s.nlines; i++)
    if (simplify(&s.lines[i], false, tol) >= 2) s.lines[k++] = s.lines[i];
  if (!k) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  s.nlines = k;
  s.kind = k == 1 ? KQL_GEO_LINE : KQL_GEO_MLINE;
  *out = kql_geo_mk_shape(c->a, &s);
}

static KQL_FN(f_geo_polygon_simplify)
{
  (void)n;
  struct kql_geo_shape s0, s;
  double tol;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_POLY, &s0) ||
      !opt_real(a, na, 1, 10, &tol) || !(tol >= 0) || !merged(c->a, &s0, &s)) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  uint32_t k = 0;
  for (uint32_t i = 0; i < s.npolys; i++) {
    struct kql_geo_poly *g = &s.polys[i];
    if (simplify(&g->rings[0], true, tol) < 3) continue;
    uint32_t h = 1;
    for (uint32_t j = 1; j < g->nrings; j++)
      if (simplify(&g->rings[j], true, tol) >= 3) g->rings[h++] = g->rings[j];
    g->nrings = h;
    s.polys[k++] = *g;
  }
  if (!k) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  s.npolys = k;
  s.kind = k == 1 ? KQL_GEO_POLYGON : KQL_GEO_MPOLYGON;
  *out = kql_geo_mk_shape(c->a, &s);
}

/* ------------------------------------------------------------ intersects */

static bool
lines_meet(const struct kql_geo_line *x, bool xc, const struct kql_geo_line *y,
           bool yc)
{
  uint32_t nx = xc ? x->n : x->n - 1, ny = yc ? y->n : y->n - 1;
  for (uint32_t i = 0; i < nx; i++) {
    struct kql_geo_v3 a = kql_geo_v3(x->p[i]);
    struct kql_geo_v3 b = kql_geo_v3(x->p[(i + 1) % x->n]);
    for (uint32_t j = 0; j < ny; j++) {
      struct kql_geo_v3 m;
      if (kql_geo_edge_cross(a, b, kql_geo_v3(y->p[j]),
                             kql_geo_v3(y->p[(j + 1) % y->n]), &m))
        return true;
    }
  }
  return false;
}

static bool
line_meets_polys(const struct kql_geo_line *l, bool closed,
                 const struct kql_geo_shape *s)
{
  if (kql_geo_polys_contain(s, kql_geo_v3(l->p[0]))) return true;
  for (uint32_t i = 0; i < s->npolys; i++)
    for (uint32_t j = 0; j < s->polys[i].nrings; j++)
      if (lines_meet(l, closed, &s->polys[i].rings[j], true)) return true;
  return false;
}

static KQL_FN(f_geo_intersects_2lines)
{
  (void)n;
  (void)na;
  struct kql_geo_shape x, y;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_LINE, &x) ||
      !kql_geo_read(c->a, &a[1], KQL_GEO_WANT_LINE, &y)) {
    null_out(out, KQL_T_BOOL);
    return;
  }
  bool hit = false;
  for (uint32_t i = 0; i < x.nlines && !hit; i++)
    for (uint32_t j = 0; j < y.nlines && !hit; j++)
      hit = lines_meet(&x.lines[i], false, &y.lines[j], false);
  *out = kql_v_bool(hit);
}

static KQL_FN(f_geo_intersects_line_with_polygon)
{
  (void)n;
  (void)na;
  struct kql_geo_shape x, y;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_LINE, &x) ||
      !kql_geo_read(c->a, &a[1], KQL_GEO_WANT_POLY, &y)) {
    null_out(out, KQL_T_BOOL);
    return;
  }
  bool hit = false;
  for (uint32_t i = 0; i < x.nlines && !hit; i++)
    hit = line_meets_polys(&x.lines[i], false, &y);
  *out = kql_v_bool(hit);
}

static KQL_FN(f_geo_intersects_2polygons)
{
  (void)n;
  (void)na;
  struct kql_geo_shape x, y;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_POLY, &x) ||
      !kql_geo_read(c->a, &a[1], KQL_GEO_WANT_POLY, &y)) {
    null_out(out, KQL_T_BOOL);
    return;
  }
  bool hit = false;
  for (uint32_t i = 0; i < x.npolys && !hit; i++)
    hit = line_meets_polys(&x.polys[i].rings[0], true, &y);
  for (uint32_t i = 0; i < y.npolys && !hit; i++)
    hit = kql_geo_polys_contain(&x, kql_geo_v3(y.polys[i].rings[0].p[0]));
  *out = kql_v_bool(hit);
}

/* ------------------------------------------------------------ overlays */

/* The elements of a dynamic array of shapes; false when it is not an
 * array or an element is invalid. */
static bool
read_array(struct kql_arena *ar, const struct kql_val *v, int want,
           struct kql_geo_shape **out, uint32_t *n)
{
  if (v->null || v->t != KQL_T_ARRAY) return false;
  struct kql_val arr = *v;
  kql_dyn_force(ar, &arr);
  *out = kql_alloc(ar, (arr.n + 1) * sizeof **out);
  *n = arr.n;
  for (uint32_t i = 0; i < arr.n; i++)
    if (!kql_geo_read(ar, &arr.u.a[i], want, &(*out)[i])) return false;
  return true;
}

static void
poly_kind(struct kql_geo_shape *s)
{
  s->kind = s->npolys == 1 ? KQL_GEO_POLYGON : KQL_GEO_MPOLYGON;
  if (!s->npolys) s->kind = KQL_GEO_NONE;
}

static KQL_FN(f_geo_union_polygons_array)
{
  (void)n;
  (void)na;
  struct kql_geo_shape *in, u;
  uint32_t k;
  if (!read_array(c->a, &a[0], KQL_GEO_WANT_POLY, &in, &k) || !k ||
      !kql_geo_union(c->a, in, k, &u)) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  poly_kind(&u);
  *out = kql_geo_mk_shape(c->a, &u);
}

static KQL_FN(f_geo_intersection_2polygons)
{
  (void)n;
  (void)na;
  struct kql_geo_shape x, y, r;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_POLY, &x) ||
      !kql_geo_read(c->a, &a[1], KQL_GEO_WANT_POLY, &y) ||
      !kql_geo_intersect(c->a, &x, &y, &r)) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  *out = kql_geo_mk_shape(c->a, &r);
}

static KQL_FN(f_geo_simplify_polygons_array)
{
  (void)n;
  struct kql_geo_shape *in, u;
  uint32_t k;
  double tol;
  if (!read_array(c->a, &a[0], KQL_GEO_WANT_POLY, &in, &k) || !k ||
      !opt_real(a, na, 1, 10, &tol) || !(tol >= 0) ||
      !kql_geo_union(c->a, in, k, &u)) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  uint32_t m = 0;
  for (uint32_t i = 0; i < u.npolys; i++) {
    struct kql_geo_poly *g = &u.polys[i];
    if (simplify(&g->rings[0], true, tol) < 3) continue;
    uint32_t h = 1;
    for (uint32_t j = 1; j < g->nrings; j++)
      if (simplify(&g->rings[j], true, tol) >= 3) g->rings[h++] = g->rings[j];
    g->nrings = h;
    u.polys[m++] = *g;
  }
  u.npolys = m;
  if (!m) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  poly_kind(&u);
  *out = kql_geo_mk_shape(c->a, &u);
}

/* Points where two polylines meet, without repeats. */
static KQL_FN(f_geo_intersection_2lines)
{
  (void)n;
  (void)na;
  struct kql_geo_shape x, y;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_LINE, &x) ||
      !kql_geo_read(c->a, &a[1], KQL_GEO_WANT_LINE, &y)) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  struct ptlist pts = {0};
  for (uint32_t i = 0; i < x.nlines; i++)
    for (uint32_t e = 0; e + 1 < x.lines[i].n; e++) {
      struct kql_geo_v3 p = kql_geo_v3(x.lines[i].p[e]);
      struct kql_geo_v3 q = kql_geo_v3(x.lines[i].p[e + 1]);
      for (uint32_t j = 0; j < y.nlines; j++)
        for (uint32_t f = 0; f + 1 < y.lines[j].n; f++) {
          struct kql_geo_v3 m;
          if (!kql_geo_edge_cross(p, q, kql_geo_v3(y.lines[j].p[f]),
                                  kql_geo_v3(y.lines[j].p[f + 1]), &m))
            continue;
          struct kql_geo_pt ll = kql_geo_pt(m);
          bool dup = false;
          for (uint32_t k = 0; k < pts.n && !dup; k++)
            dup = kql_geo_angle(kql_geo_v3(pts.p[k]), m) < 1e-12;
          if (!dup) pl_push(c->a, &pts, ll);
        }
    }
  struct kql_geo_shape r;
  memset(&r, 0, sizeof r);
  r.pts = pts.p;
  r.npts = pts.n;
  *out = kql_geo_mk_shape(c->a, &r);
}

static int
cmp_double(const void *p, const void *q)
{
  double x = *(const double *)p, y = *(const double *)q;
  return x < y ? -1 : x > y;
}

/* The parts of a line inside polygons: each edge is cut where it crosses
 * a ring and the pieces whose middles are inside are kept, joined where
 * they meet. */
static KQL_FN(f_geo_intersection_line_with_polygon)
{
  (void)n;
  (void)na;
  struct kql_geo_shape x, y;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_LINE, &x) ||
      !kql_geo_read(c->a, &a[1], KQL_GEO_WANT_POLY, &y)) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  struct kql_geo_shape r;
  memset(&r, 0, sizeof r);
  uint32_t capl = 0;
  for (uint32_t i = 0; i < x.nlines; i++) {
    const struct kql_geo_line *l = &x.lines[i];
    struct ptlist cur = {0};
    for (uint32_t e = 0; e + 1 < l->n; e++) {
      struct kql_geo_v3 p = kql_geo_v3(l->p[e]), q = kql_geo_v3(l->p[e + 1]);
      double len = kql_geo_angle(p, q);
      uint32_t nt = 2, capt = 16;
      double *t = kql_alloc(c->a, capt * sizeof *t);
      t[0] = 0;
      t[1] = len;
      for (uint32_t g = 0; g < y.npolys; g++)
        for (uint32_t rr = 0; rr < y.polys[g].nrings; rr++) {
          const struct kql_geo_line *ring = &y.polys[g].rings[rr];
          for (uint32_t k = 0; k < ring->n; k++) {
            struct kql_geo_v3 m;
            if (!kql_geo_edge_cross(p, q, kql_geo_v3(ring->p[k]),
                                    kql_geo_v3(ring->p[(k + 1) % ring->n]), &m))
              continue;
            if (nt == capt) {
              double *nt2 = kql_alloc(c->a, capt * 2 * sizeof *nt2);
              memcpy(nt2, t, nt * sizeof *t);
              t = nt2;
              capt *= 2;
            }
            t[nt++] = kql_geo_angle(p, m);
          }
        }
      qsort(t, nt, sizeof *t, cmp_double);
      for (uint32_t k = 0; k + 1 < nt; k++) {
        if (t[k + 1] - t[k] < 1e-15) continue;
        struct kql_geo_v3 mid =
            kql_geo_slerp(p, q, len > 0 ? (t[k] + t[k + 1]) / 2 / len : 0);
        if (kql_geo_polys_contain(&y, mid)) {
          struct kql_geo_pt from =
              t[k] == 0 ? l->p[e] : kql_geo_pt(kql_geo_slerp(p, q, t[k] / len));
          struct kql_geo_pt to =
              t[k + 1] >= len ? l->p[e + 1]
                              : kql_geo_pt(kql_geo_slerp(p, q, t[k + 1] / len));
          if (!cur.n) pl_push(c->a, &cur, from);
          pl_push(c->a, &cur, to);
        } else if (cur.n) {
          if (cur.n >= 2) {
            if (r.nlines == capl) {
              capl = capl ? capl * 2 : 4;
              struct kql_geo_line *nl = kql_alloc(c->a, capl * sizeof *nl);
              if (r.nlines) memcpy(nl, r.lines, r.nlines * sizeof *nl);
              r.lines = nl;
            }
            r.lines[r.nlines].p = cur.p;
            r.lines[r.nlines++].n = cur.n;
          }
          memset(&cur, 0, sizeof cur);
        }
      }
    }
    if (cur.n >= 2) {
      if (r.nlines == capl) {
        capl = capl ? capl * 2 : 4;
        struct kql_geo_line *nl = kql_alloc(c->a, capl * sizeof *nl);
        if (r.nlines) memcpy(nl, r.lines, r.nlines * sizeof *nl);
        r.lines = nl;
      }
      r.lines[r.nlines].p = cur.p;
      r.lines[r.nlines++].n = cur.n;
    }
  }
  *out = kql_geo_mk_shape(c->a, &r);
}

/* The union of lines: their edges without repeats (either direction),
 * chained into as few polylines as possible. */
static KQL_FN(f_geo_union_lines_array)
{
  (void)n;
  (void)na;
  struct kql_geo_shape *in;
  uint32_t k;
  if (!read_array(c->a, &a[0], KQL_GEO_WANT_LINE, &in, &k) || !k) {
    null_out(out, KQL_T_DYNAMIC);
    return;
  }
  uint32_t ne = 0;
  for (uint32_t i = 0; i < k; i++)
    for (uint32_t j = 0; j < in[i].nlines; j++)
      ne += in[i].lines[j].n - 1;
  struct kql_geo_pt *ea = kql_alloc(c->a, (ne + 1) * sizeof *ea);
  struct kql_geo_pt *eb = kql_alloc(c->a, (ne + 1) * sizeof *eb);
  uint32_t m = 0;
  for (uint32_t i = 0; i < k; i++)
    for (uint32_t j = 0; j < in[i].nlines; j++) {
      const struct kql_geo_line *l = &in[i].lines[j];
      for (uint32_t e = 0; e + 1 < l->n; e++) {
        bool dup = false;
        for (uint32_t q = 0; q < m && !dup; q++)
          dup = (kql_geo_pt_eq(ea[q], l->p[e]) &&
                 kql_geo_pt_eq(eb[q], l->p[e + 1])) ||
                (kql_geo_pt_eq(eb[q], l->p[e]) &&
                 kql_geo_pt_eq(ea[q], l->p[e + 1]));
        if (dup) continue;
        ea[m] = l->p[e];
        eb[m++] = l->p[e + 1];
      }
    }
  /* Chains start where a vertex does not have exactly one edge in and
   * one out; what is left are closed chains. */
  bool *used = kql_zalloc(c->a, (m + 1) * sizeof *used);
  struct kql_geo_shape r;
  memset(&r, 0, sizeof r);
  r.lines = kql_alloc(c->a, (m + 1) * sizeof *r.lines);
  for (int pass = 0; pass < 2; pass++)
    for (uint32_t s0 = 0; s0 < m; s0++) {
      if (used[s0]) continue;
      uint32_t nin = 0, nout = 0;
      for (uint32_t q = 0; q < m; q++) {
        nin += kql_geo_pt_eq(eb[q], ea[s0]);
        nout += kql_geo_pt_eq(ea[q], ea[s0]);
      }
      if (pass == 0 && nin == 1 && nout == 1) continue;
      struct ptlist pl = {0};
      pl_push(c->a, &pl, ea[s0]);
      uint32_t cur = s0;
      for (;;) {
        used[cur] = true;
        pl_push(c->a, &pl, eb[cur]);
        uint32_t next = UINT32_MAX;
        nin = nout = 0;
        for (uint32_t q = 0; q < m; q++) {
          nin += kql_geo_pt_eq(eb[q], eb[cur]);
          if (kql_geo_pt_eq(ea[q], eb[cur])) {
            nout++;
            next = q;
          }
        }
        if (nin != 1 || nout != 1 || used[next]) break;
        cur = next;
      }
      r.lines[r.nlines].p = pl.p;
      r.lines[r.nlines++].n = pl.n;
    }
  r.kind = r.nlines == 1 ? KQL_GEO_LINE : KQL_GEO_MLINE;
  *out = kql_geo_mk_shape(c->a, &r);
}

/* ------------------------------------------------------------ WKT */

static KQL_FN(f_geo_from_wkt)
{
  (void)n;
  (void)na;
  if (a[0].null || a[0].t != KQL_T_STRING ||
      !kql_geo_from_wkt(c->a, a[0].u.s, a[0].n, out))
    null_out(out, KQL_T_DYNAMIC);
}

/* ------------------------------------------------------------ table */

#define D KQL_T_DYNAMIC
#define R KQL_T_REAL
#define B KQL_T_BOOL
#define S KQL_T_STRING

const struct kql_fn kql_geo_fns[] = {
    {"geo_angle", 6, 6, R, 0, f_geo_angle},
    {"geo_azimuth", 4, 4, R, 0, f_geo_azimuth},
    {"geo_closest_point_on_line", 3, 3, D, 0, f_geo_closest_point_on_line},
    {"geo_closest_point_on_polygon", 3, 3, D, 0,
     f_geo_closest_point_on_polygon},
    {"geo_distance_2points", 4, 5, R, 0, f_geo_distance_2points},
    {"geo_distance_point_to_line", 3, 3, R, 0, f_geo_distance_point_to_line},
    {"geo_distance_point_to_polygon", 3, 3, R, 0,
     f_geo_distance_point_to_polygon},
    {"geo_from_wkt", 1, 1, D, 0, f_geo_from_wkt},
    {"geo_geohash_neighbors", 1, 1, D, 0, kql_f_geo_geohash_neighbors},
    {"geo_geohash_to_central_point", 1, 1, D, 0,
     kql_f_geo_geohash_to_central_point},
    {"geo_geohash_to_polygon", 1, 1, D, 0, kql_f_geo_geohash_to_polygon},
    {"geo_h3cell_children", 1, 2, D, 0, kql_f_geo_h3cell_children},
    {"geo_h3cell_level", 1, 1, KQL_T_INT, 0, kql_f_geo_h3cell_level},
    {"geo_h3cell_neighbors", 1, 1, D, 0, kql_f_geo_h3cell_neighbors},
    {"geo_h3cell_parent", 1, 2, S, 0, kql_f_geo_h3cell_parent},
    {"geo_h3cell_rings", 2, 2, D, 0, kql_f_geo_h3cell_rings},
    {"geo_h3cell_to_central_point", 1, 1, D, 0,
     kql_f_geo_h3cell_to_central_point},
    {"geo_h3cell_to_polygon", 1, 1, D, 0, kql_f_geo_h3cell_to_polygon},
    {"geo_intersection_2lines", 2, 2, D, 0, f_geo_intersection_2lines},
    {"geo_intersection_2polygons", 2, 2, D, 0, f_geo_intersection_2polygons},
    {"geo_intersection_line_with_polygon", 2, 2, D, 0,
     f_geo_intersection_line_with_polygon},
    {"geo_intersects_2lines", 2, 2, B, 0, f_geo_intersects_2lines},
    {"geo_intersects_2polygons", 2, 2, B, 0, f_geo_intersects_2polygons},
    {"geo_intersects_line_with_polygon", 2, 2, B, 0,
     f_geo_intersects_line_with_polygon},
    {"geo_line_buffer", 2, 3, D, 0, f_geo_line_buffer},
    {"geo_line_centroid", 1, 1, D, 0, f_geo_line_centroid},
    {"geo_line_densify", 1, 3, D, 0, f_geo_line_densify},
    {"geo_line_interpolate_point", 2, 2, D, 0, f_geo_line_interpolate_point},
    {"geo_line_length", 1, 1, R, 0, f_geo_line_length},
    {"geo_line_locate_point", 3, 4, R, 0, f_geo_line_locate_point},
    {"geo_line_simplify", 1, 2, D, 0, f_geo_line_simplify},
    {"geo_line_to_s2cells", 1, 3, D, 0, kql_f_geo_line_to_s2cells},
    {"geo_point_buffer", 3, 4, D, 0, f_geo_point_buffer},
    {"geo_point_in_circle", 5, 5, B, 0, f_geo_point_in_circle},
    {"geo_point_in_polygon", 3, 3, B, 0, f_geo_point_in_polygon},
    {"geo_point_to_geohash", 2, 3, S, 0, kql_f_geo_point_to_geohash},
    {"geo_point_to_h3cell", 2, 3, S, 0, kql_f_geo_point_to_h3cell},
    {"geo_point_to_s2cell", 2, 3, S, 0, kql_f_geo_point_to_s2cell},
    {"geo_polygon_area", 1, 1, R, 0, f_geo_polygon_area},
    {"geo_polygon_buffer", 2, 3, D, 0, f_geo_polygon_buffer},
    {"geo_polygon_centroid", 1, 1, D, 0, f_geo_polygon_centroid},
    {"geo_polygon_densify", 1, 3, D, 0, f_geo_polygon_densify},
    {"geo_polygon_perimeter", 1, 1, R, 0, f_geo_polygon_perimeter},
    {"geo_polygon_simplify", 1, 2, D, 0, f_geo_polygon_simplify},
    {"geo_polygon_to_h3cells", 1, 3, D, 0, kql_f_geo_polygon_to_h3cells},
    {"geo_polygon_to_s2cells", 1, 3, D, 0, kql_f_geo_polygon_to_s2cells},
    {"geo_s2cell_neighbors", 1, 1, D, 0, kql_f_geo_s2cell_neighbors},
    {"geo_s2cell_to_central_point", 1, 1, D, 0,
     kql_f_geo_s2cell_to_central_point},
    {"geo_s2cell_to_polygon", 1, 1, D, 0, kql_f_geo_s2cell_to_polygon},
    {"geo_simplify_polygons_array", 1, 2, D, 0, f_geo_simplify_polygons_array},
    {"geo_union_lines_array", 1, 1, D, 0, f_geo_union_lines_array},
    {"geo_union_polygons_array", 1, 1, D, 0, f_geo_union_polygons_array},
};
const size_t kql_geo_nfns = sizeof kql_geo_fns / sizeof kql_geo_fns[0];
