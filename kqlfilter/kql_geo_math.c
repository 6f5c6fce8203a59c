/*
 * kql_geo_math.c - spherical geometry for the geo_* functions: unit
 * vectors, great-circle arcs, lengths, areas, centroids, containment.
 *
 * Points are unit vectors on the sphere; edges are the shorter great-
 * circle arc between their ends. A ring's region is the smaller of the
 * two it bounds. Containment projects a ring gnomonically onto the plane
 * tangent at its vertex mean, where great circles become straight lines
 * and the planar crossing-number test is exact; rings too wide for that
 * fall back to counting crossings along an arc from a point outside.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_geo.h"

#include <math.h>
#include <stdlib.h>

#define DEG (KQL_GEO_PI / 180.0)

struct kql_geo_v3
kql_geo_v3(struct kql_geo_pt p)
{
  double lat = p.lat * DEG, lng = p.lng * DEG;
  struct kql_geo_v3 v = {cos(lat) * cos(lng), cos(lat) * sin(lng), sin(lat)};
  return v;
}

struct kql_geo_pt
kql_geo_pt(struct kql_geo_v3 v)
{
  struct kql_geo_pt p;
  p.lat = atan2(v.z, sqrt(v.x * v.x + v.y * v.y)) / DEG;
  p.lng = (v.x == 0 && v.y == 0) ? 0 : atan2(v.y, v.x) / DEG;
  return p;
}

struct kql_geo_v3
kql_geo_cross(struct kql_geo_v3 a, struct kql_geo_v3 b)
{
  struct kql_geo_v3 c = {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z,
                         a.x * b.y - a.y * b.x};
  return c;
}

double
kql_geo_dot(struct kql_geo_v3 a, struct kql_geo_v3 b)
{
  return a.x * b.x + a.y * b.y + a.z * b.z;
}

struct kql_geo_v3
kql_geo_norm(struct kql_geo_v3 a)
{
  double l = sqrt(kql_geo_dot(a, a));
  if (l > 0) {
    a.x /= l;
    a.y /= l;
    a.z /= l;
  }
  return a;
}

struct kql_geo_v3
kql_geo_add(struct kql_geo_v3 a, struct kql_geo_v3 b)
{
  struct kql_geo_v3 c = {a.x + b.x, a.y + b.y, a.z + b.z};
  return c;
}

struct kql_geo_v3
kql_geo_scale(struct kql_geo_v3 a, double k)
{
  struct kql_geo_v3 c = {a.x * k, a.y * k, a.z * k};
  return c;
}

double
kql_geo_angle(struct kql_geo_v3 a, struct kql_geo_v3 b)
{
  struct kql_geo_v3 c = kql_geo_cross(a, b);
  return atan2(sqrt(kql_geo_dot(c, c)), kql_geo_dot(a, b));
}

double
kql_geo_dist(struct kql_geo_pt a, struct kql_geo_pt b)
{
  return kql_geo_angle(kql_geo_v3(a), kql_geo_v3(b)) * KQL_GEO_R;
}

bool
kql_geo_pt_eq(struct kql_geo_pt a, struct kql_geo_pt b)
{
  return a.lng == b.lng && a.lat == b.lat;
}

bool
kql_geo_pt_valid(double lng, double lat)
{
  return isfinite(lng) && isfinite(lat) && lng >= -180 && lng <= 180 &&
         lat >= -90 && lat <= 90;
}

struct kql_geo_v3
kql_geo_slerp(struct kql_geo_v3 a, struct kql_geo_v3 b, double f)
{
  double t = kql_geo_angle(a, b);
  if (t < 1e-300) return a;
  double s = sin(t);
  struct kql_geo_v3 r = kql_geo_add(kql_geo_scale(a, sin((1 - f) * t) / s),
                                    kql_geo_scale(b, sin(f * t) / s));
  return kql_geo_norm(r);
}

struct kql_geo_v3
kql_geo_edge_closest(struct kql_geo_v3 a, struct kql_geo_v3 b,
                     struct kql_geo_v3 p)
{
  struct kql_geo_v3 n = kql_geo_cross(a, b);
  if (kql_geo_dot(n, n) < 1e-300) return a;
  n = kql_geo_norm(n);
  struct kql_geo_v3 q = kql_geo_add(p, kql_geo_scale(n, -kql_geo_dot(p, n)));
  if (kql_geo_dot(q, q) > 1e-300) {
    q = kql_geo_norm(q);
    if (kql_geo_dot(kql_geo_cross(a, q), n) >= 0 &&
        kql_geo_dot(kql_geo_cross(q, b), n) >= 0)
      return q;
  }
  return kql_geo_angle(p, a) <= kql_geo_angle(p, b) ? a : b;
}

/* Whether x lies on arc [a, b] whose plane normal is n (not unit). */
static bool
on_arc(struct kql_geo_v3 a, struct kql_geo_v3 b, struct kql_geo_v3 n,
       struct kql_geo_v3 x)
{
  return kql_geo_dot(kql_geo_cross(a, x), n) >= 0 &&
         kql_geo_dot(kql_geo_cross(x, b), n) >= 0;
}

bool
kql_geo_edge_cross(struct kql_geo_v3 a, struct kql_geo_v3 b,
                   struct kql_geo_v3 c, struct kql_geo_v3 d,
                   struct kql_geo_v3 *x)
{
  struct kql_geo_v3 n1 = kql_geo_cross(a, b), n2 = kql_geo_cross(c, d);
  /* Quick rejection: c and d strictly on one side of ab's plane, or a
   * and b strictly on one side of cd's. */
  double sc = kql_geo_dot(n1, c), sd = kql_geo_dot(n1, d);
  double sa = kql_geo_dot(n2, a), sb = kql_geo_dot(n2, b);
  if ((sc > 0 && sd > 0) || (sc < 0 && sd < 0)) return false;
  if ((sa > 0 && sb > 0) || (sa < 0 && sb < 0)) return false;
  struct kql_geo_v3 m = kql_geo_cross(n1, n2);
  double mm = kql_geo_dot(m, m);
  if (mm < 1e-30) {
    /* The same great circle: the arcs overlap when an end of one lies
     * on the other. */
    struct kql_geo_v3 cand[4] = {a, b, c, d};
    for (int i = 0; i < 4; i++) {
      bool on1 = i < 2 || on_arc(a, b, n1, cand[i]);
      bool on2 = i >= 2 || on_arc(c, d, n2, cand[i]);
      if (on1 && on2) {
        *x = cand[i];
        return true;
      }
    }
    return false;
  }
  m = kql_geo_norm(m);
  if (kql_geo_dot(m, kql_geo_add(a, b)) < 0) m = kql_geo_scale(m, -1);
  if (!on_arc(a, b, n1, m) || !on_arc(c, d, n2, m)) return false;
  *x = m;
  return true;
}

/* ------------------------------------------------------------ rings */

/* Signed area of the spherical triangle abc (positive counterclockwise). */
static double
tri_area(struct kql_geo_v3 a, struct kql_geo_v3 b, struct kql_geo_v3 c)
{
  double det = kql_geo_dot(a, kql_geo_cross(b, c));
  double den = 1 + kql_geo_dot(a, b) + kql_geo_dot(b, c) + kql_geo_dot(c, a);
  return 2 * atan2(det, den);
}

/* The area to the left of the ring (counterclockwise side), in [0, 4pi). */
static double
left_area(const struct kql_geo_line *r)
{
  if (r->n < 3) return 0;
  struct kql_geo_v3 o = kql_geo_v3(r->p[0]);
  double s = 0;
  struct kql_geo_v3 prev = kql_geo_v3(r->p[1]);
  for (uint32_t i = 2; i < r->n; i++) {
    struct kql_geo_v3 cur = kql_geo_v3(r->p[i]);
    s += tri_area(o, prev, cur);
    prev = cur;
  }
  if (s < 0) s += 4 * KQL_GEO_PI;
  return s;
}

double
kql_geo_ring_area(const struct kql_geo_line *r)
{
  double s = left_area(r);
  return s > 2 * KQL_GEO_PI ? 4 * KQL_GEO_PI - s : s;
}

bool
kql_geo_ring_ccw(const struct kql_geo_line *r)
{
  return left_area(r) <= 2 * KQL_GEO_PI;
}

double
kql_geo_poly_area(const struct kql_geo_poly *g)
{
  double s = g->nrings ? kql_geo_ring_area(&g->rings[0]) : 0;
  for (uint32_t i = 1; i < g->nrings; i++)
    s -= kql_geo_ring_area(&g->rings[i]);
  return s < 0 ? 0 : s;
}

double
kql_geo_line_len(const struct kql_geo_line *l, bool closed)
{
  double s = 0;
  uint32_t ne = closed ? l->n : (l->n ? l->n - 1 : 0);
  for (uint32_t i = 0; i < ne; i++)
    s += kql_geo_angle(kql_geo_v3(l->p[i]), kql_geo_v3(l->p[(i + 1) % l->n]));
  return s;
}

void
kql_geo_line_centroid_acc(const struct kql_geo_line *l, bool closed,
                          struct kql_geo_v3 *acc)
{
  uint32_t ne = closed ? l->n : (l->n ? l->n - 1 : 0);
  for (uint32_t i = 0; i < ne; i++) {
    struct kql_geo_v3 a = kql_geo_v3(l->p[i]);
    struct kql_geo_v3 b = kql_geo_v3(l->p[(i + 1) % l->n]);
    double t = kql_geo_angle(a, b);
    /* The integral of the unit vector along the arc: (a + b) tan(t/2). */
    *acc = kql_geo_add(*acc, kql_geo_scale(kql_geo_add(a, b), tan(t / 2)));
  }
}

void
kql_geo_ring_centroid_acc(const struct kql_geo_line *r, struct kql_geo_v3 *acc)
{
  /* The integral of the position over the region to the left of a closed
   * curve is half the curve integral of r x dr: for a great-circle arc,
   * its angle times the unit normal of its plane. The sphere's integral
   * is zero, so the smaller region of a clockwise ring gets the sign
   * flipped. */
  struct kql_geo_v3 s = {0, 0, 0};
  for (uint32_t i = 0; i < r->n; i++) {
    struct kql_geo_v3 a = kql_geo_v3(r->p[i]);
    struct kql_geo_v3 b = kql_geo_v3(r->p[(i + 1) % r->n]);
    struct kql_geo_v3 nrm = kql_geo_cross(a, b);
    if (kql_geo_dot(nrm, nrm) < 1e-300) continue;
    s = kql_geo_add(
        s, kql_geo_scale(kql_geo_norm(nrm), 0.5 * kql_geo_angle(a, b)));
  }
  if (!kql_geo_ring_ccw(r)) s = kql_geo_scale(s, -1);
  *acc = kql_geo_add(*acc, s);
}

double
kql_geo_closest(const struct kql_geo_line *l, bool closed, struct kql_geo_v3 p,
                struct kql_geo_v3 *best, uint32_t *edge)
{
  double bd = INFINITY;
  if (l->n == 1) {
    *best = kql_geo_v3(l->p[0]);
    *edge = 0;
    return kql_geo_angle(p, *best);
  }
  uint32_t ne = closed ? l->n : l->n - 1;
  for (uint32_t i = 0; i < ne; i++) {
    struct kql_geo_v3 a = kql_geo_v3(l->p[i]);
    struct kql_geo_v3 b = kql_geo_v3(l->p[(i + 1) % l->n]);
    struct kql_geo_v3 q = kql_geo_edge_closest(a, b, p);
    double d = kql_geo_angle(p, q);
    if (d < bd) {
      bd = d;
      *best = q;
      *edge = i;
    }
  }
  return bd;
}

/* ------------------------------------------------------------ containment */

/* An orthonormal basis (e1, e2) of the plane tangent at unit vector c. */
static void
tangent_basis(struct kql_geo_v3 c, struct kql_geo_v3 *e1, struct kql_geo_v3 *e2)
{
  struct kql_geo_v3 t = {0, 0, 1};
  if (fabs(c.z) > 0.9) {
    t.x = 1;
    t.z = 0;
  }
  *e1 = kql_geo_norm(kql_geo_cross(t, c));
  *e2 = kql_geo_cross(c, *e1);
}

static bool
planar_contains(const double *xs, const double *ys, uint32_t n, double px,
                double py)
{
  bool in = false;
  for (uint32_t i = 0, j = n - 1; i < n; j = i++) {
    if ((ys[i] > py) != (ys[j] > py)) {
      double x = xs[j] + (py - ys[j]) * (xs[i] - xs[j]) / (ys[i] - ys[j]);
      if (px < x) in = !in;
    }
  }
  return in;
}

/* Crossing parity along ref -> p for rings too wide to project. */
static bool
wide_contains(const struct kql_geo_line *r, struct kql_geo_v3 c,
              struct kql_geo_v3 p)
{
  struct kql_geo_v3 ref = kql_geo_scale(c, -1);
  struct kql_geo_v3 mid = kql_geo_add(ref, p);
  if (kql_geo_dot(mid, mid) < 1e-6) {
    struct kql_geo_v3 e1, e2;
    tangent_basis(ref, &e1, &e2);
    mid = e1;
  }
  mid = kql_geo_norm(mid);
  bool in = false;
  for (uint32_t i = 0; i < r->n; i++) {
    struct kql_geo_v3 a = kql_geo_v3(r->p[i]);
    struct kql_geo_v3 b = kql_geo_v3(r->p[(i + 1) % r->n]);
    struct kql_geo_v3 x;
    if (kql_geo_edge_cross(ref, mid, a, b, &x)) in = !in;
    if (kql_geo_edge_cross(mid, p, a, b, &x)) in = !in;
  }
  return in;
}

bool
kql_geo_ring_contains(const struct kql_geo_line *r, struct kql_geo_v3 p)
{
  if (r->n < 3) return false;
  struct kql_geo_v3 c = {0, 0, 0};
  for (uint32_t i = 0; i < r->n; i++)
    c = kql_geo_add(c, kql_geo_v3(r->p[i]));
  if (kql_geo_dot(c, c) < 1e-24) c = kql_geo_v3(r->p[0]);
  c = kql_geo_norm(c);
  double xs[64], ys[64];
  double *px = xs, *py = ys;
  bool heap = r->n > 64;
  if (heap) {
    px = kql_xmalloc(r->n * sizeof *px);
    py = kql_xmalloc(r->n * sizeof *py);
  }
  struct kql_geo_v3 e1, e2;
  tangent_basis(c, &e1, &e2);
  bool wide = false;
  for (uint32_t i = 0; i < r->n && !wide; i++) {
    struct kql_geo_v3 v = kql_geo_v3(r->p[i]);
    double h = kql_geo_dot(v, c);
    if (h < 1e-3)
      wide = true;
    else {
      px[i] = kql_geo_dot(v, e1) / h;
      py[i] = kql_geo_dot(v, e2) / h;
    }
  }
  bool in;
  if (wide) {
    in = wide_contains(r, c, p);
  } else {
    double h = kql_geo_dot(p, c);
    in = h > 0 && planar_contains(px, py, r->n, kql_geo_dot(p, e1) / h,
                                  kql_geo_dot(p, e2) / h);
  }
  if (heap) {
    free(px);
    free(py);
  }
  return in;
}

bool
kql_geo_poly_contains(const struct kql_geo_poly *g, struct kql_geo_v3 p)
{
  if (!g->nrings || !kql_geo_ring_contains(&g->rings[0], p)) return false;
  for (uint32_t i = 1; i < g->nrings; i++)
    if (kql_geo_ring_contains(&g->rings[i], p)) return false;
  return true;
}

bool
kql_geo_polys_contain(const struct kql_geo_shape *s, struct kql_geo_v3 p)
{
  for (uint32_t i = 0; i < s->npolys; i++)
    if (kql_geo_poly_contains(&s->polys[i], p)) return true;
  return false;
}
