/*
 * kql_geo_hash.c - geohash functions: geo_point_to_geohash,
 * geo_geohash_to_central_point, geo_geohash_to_polygon and
 * geo_geohash_neighbors.
 *
 * A geohash interleaves longitude and latitude bisection bits, longitude
 * first, five bits per base-32 character (the alphabet without a, i, l
 * and o). Kusto accepts 1 to 18 characters.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_geo.h"

#include <math.h>
#include <string.h>

#define GH_MAX 18

static const char b32[] = "0123456789bcdefghjkmnpqrstuvwxyz";

static int
b32_val(char ch)
{
  const char *p = ch ? strchr(b32, ch) : NULL;
  return p ? (int)(p - b32) : -1;
}

/* The integer cell coordinates of a geohash: x over nx longitude bits,
 * y over ny latitude bits. */
struct gh {
  uint64_t x, y;
  int nx, ny, len;
};

static bool
gh_parse(const struct kql_val *v, struct gh *g)
{
  if (v->null || v->t != KQL_T_STRING || v->n < 1 || v->n > GH_MAX)
    return false;
  memset(g, 0, sizeof *g);
  g->len = (int)v->n;
  int k = 0;
  for (uint32_t i = 0; i < v->n; i++) {
    int d = b32_val(v->u.s[i]);
    if (d < 0) return false;
    for (int b = 4; b >= 0; b--, k++) {
      uint64_t bit = (uint64_t)(d >> b) & 1;
      if (k % 2 == 0) {
        g->x = g->x << 1 | bit;
        g->nx++;
      } else {
        g->y = g->y << 1 | bit;
        g->ny++;
      }
    }
  }
  return true;
}

static void
gh_text(const struct gh *g, char *out)
{
  int nx = g->nx, ny = g->ny, k = 0;
  for (int i = 0; i < g->len; i++) {
    int d = 0;
    for (int b = 0; b < 5; b++, k++) {
      uint64_t bit;
      if (k % 2 == 0)
        bit = g->x >> --nx & 1;
      else
        bit = g->y >> --ny & 1;
      d = d << 1 | (int)bit;
    }
    out[i] = b32[d];
  }
  out[g->len] = 0;
}

static void
gh_bounds(const struct gh *g, double *w, double *s, double *e, double *n)
{
  double cw = 360.0 / (double)((uint64_t)1 << g->nx);
  double ch = 180.0 / (double)((uint64_t)1 << g->ny);
  *w = -180 + (double)g->x * cw;
  *e = *w + cw;
  *s = -90 + (double)g->y * ch;
  *n = *s + ch;
}

static struct kql_val
str_val(struct kql_arena *a, const char *s)
{
  size_t n = strlen(s);
  return kql_v_str(kql_memdup(a, s, n), n);
}

KQL_FN(kql_f_geo_point_to_geohash)
{
  (void)n;
  double lng, lat;
  int64_t acc = 5;
  if (!kql_fn_real(&a[0], &lng) || !kql_fn_real(&a[1], &lat) ||
      !kql_geo_pt_valid(lng, lat) || (na > 2 && !kql_fn_long(&a[2], &acc)) ||
      acc < 1 || acc > GH_MAX) {
    *out = kql_v_str("", 0);
    return;
  }
  char buf[GH_MAX + 1];
  double lo[2] = {-180, -90}, hi[2] = {180, 90}, val[2] = {lng, lat};
  int k = 0;
  for (int i = 0; i < acc; i++) {
    int d = 0;
    for (int b = 0; b < 5; b++, k++) {
      int ax = k % 2;
      double mid = (lo[ax] + hi[ax]) / 2;
      d <<= 1;
      if (val[ax] >= mid) {
        d |= 1;
        lo[ax] = mid;
      } else {
        hi[ax] = mid;
      }
    }
    buf[i] = b32[d];
  }
  buf[acc] = 0;
  *out = str_val(c->a, buf);
}

KQL_FN(kql_f_geo_geohash_to_central_point)
{
  (void)n;
  (void)na;
  struct gh g;
  if (!gh_parse(&a[0], &g)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  double w, s, e, nn;
  gh_bounds(&g, &w, &s, &e, &nn);
  struct kql_geo_pt p = {(w + e) / 2, (s + nn) / 2};
  *out = kql_geo_mk_point(c->a, p);
}

KQL_FN(kql_f_geo_geohash_to_polygon)
{
  (void)n;
  (void)na;
  struct gh g;
  if (!gh_parse(&a[0], &g)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  double w, s, e, nn;
  gh_bounds(&g, &w, &s, &e, &nn);
  struct kql_geo_pt *p = kql_alloc(c->a, 4 * sizeof *p);
  p[0].lng = w, p[0].lat = s;
  p[1].lng = e, p[1].lat = s;
  p[2].lng = e, p[2].lat = nn;
  p[3].lng = w, p[3].lat = nn;
  struct kql_geo_line ring = {p, 4};
  struct kql_geo_poly poly = {&ring, 1};
  *out = kql_geo_mk_bag(c->a, "Polygon", "coordinates",
                        kql_geo_mk_poly_coords(c->a, &poly));
}

KQL_FN(kql_f_geo_geohash_neighbors)
{
  (void)n;
  (void)na;
  struct gh g;
  if (!gh_parse(&a[0], &g)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  /* The order Kusto lists them in (its documented example). */
  static const int off[8][2] = {{-1, -1}, {-1, 1}, {1, -1}, {0, 1},
                                {-1, 0},  {1, 1},  {1, 0},  {0, -1}};
  struct kql_val arr = kql_geo_mk_array(c->a, 8);
  uint32_t k = 0;
  uint64_t xmax = (uint64_t)1 << g.nx, ymax = (uint64_t)1 << g.ny;
  for (int i = 0; i < 8; i++) {
    int64_t y = (int64_t)g.y + off[i][1];
    if (y < 0 || (uint64_t)y >= ymax) continue; /* beyond a pole */
    struct gh nb = g;
    nb.x = (g.x + xmax + (uint64_t)(int64_t)off[i][0]) % xmax;
    nb.y = (uint64_t)y;
    if (nb.x == g.x && nb.y == g.y) continue;
    char buf[GH_MAX + 1];
    gh_text(&nb, buf);
    bool dup = false;
    for (uint32_t j = 0; j < k; j++)
      dup = dup || (arr.u.a[j].n == (uint32_t)g.len &&
                    !memcmp(arr.u.a[j].u.s, buf, (size_t)g.len));
    if (dup) continue;
    arr.u.a[k] = str_val(c->a, buf);
    arr.u.a[k++].dyn = 1;
  }
  arr.n = k;
  *out = arr;
}
