/*
 * kql_geo_s2.c - S2 cells: geo_point_to_s2cell, geo_s2cell_to_central_point,
 * geo_s2cell_to_polygon, geo_s2cell_neighbors, geo_polygon_to_s2cells and
 * geo_line_to_s2cells.
 *
 * Written from the public description of the S2 cell hierarchy
 * (s2geometry.io): the sphere is projected onto the six faces of a cube;
 * face coordinates (u, v) in [-1, 1] are warped to (s, t) in [0, 1] by
 * the quadratic transform; (s, t) is cut into 2^30 x 2^30 leaf cells
 * (i, j) ordered along a Hilbert curve whose orientation flips (swap
 * and invert bits) as it descends. A 64-bit cell id is 3 face bits, two
 * bits per level, then a single 1 bit; a token is its hex form without
 * trailing zeros. Cell edges are great-circle arcs.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_geo.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S2_MAXLEVEL 30
#define S2_MAXSIZE (1 << S2_MAXLEVEL)
#define S2_SWAP 1
#define S2_INVERT 2
#define S2_MAXCELLS 65536

/* Hilbert sub-cell (i bit << 1 | j bit) at each curve position, per
 * orientation; and how a position changes the orientation below it. */
static const int pos_to_ij[4][4] = {
    {0, 1, 3, 2}, /* canonical */
    {0, 2, 3, 1}, /* swapped axes */
    {3, 2, 0, 1}, /* inverted */
    {3, 1, 0, 2}, /* swapped and inverted */
};
static const int pos_to_orient[4] = {S2_SWAP, 0, 0, S2_SWAP | S2_INVERT};

static int
ij_to_pos(int orient, int ij)
{
  for (int p = 0; p < 4; p++)
    if (pos_to_ij[orient][p] == ij) return p;
  return 0;
}

/* ------------------------------------------------------------ projection */

static double
st_to_uv(double s)
{
  if (s >= 0.5) return (1.0 / 3) * (4 * s * s - 1);
  return (1.0 / 3) * (1 - 4 * (1 - s) * (1 - s));
}

static double
uv_to_st(double u)
{
  if (u >= 0) return 0.5 * sqrt(1 + 3 * u);
  return 1 - 0.5 * sqrt(1 - 3 * u);
}

static int
xyz_to_face_uv(struct kql_geo_v3 p, double *u, double *v)
{
  double ax = fabs(p.x), ay = fabs(p.y), az = fabs(p.z);
  int face = ax >= ay ? (ax >= az ? 0 : 2) : (ay >= az ? 1 : 2);
  double c = face == 0 ? p.x : face == 1 ? p.y : p.z;
  if (c < 0) face += 3;
  switch (face) {
  case 0:
    *u = p.y / p.x, *v = p.z / p.x;
    break;
  case 1:
    *u = -p.x / p.y, *v = p.z / p.y;
    break;
  case 2:
    *u = -p.x / p.z, *v = -p.y / p.z;
    break;
  case 3:
    *u = p.z / p.x, *v = p.y / p.x;
    break;
  case 4:
    *u = p.z / p.y, *v = -p.x / p.y;
    break;
  default:
    *u = -p.y / p.z, *v = -p.x / p.z;
    break;
  }
  return face;
}

static struct kql_geo_v3
face_uv_to_xyz(int face, double u, double v)
{
  struct kql_geo_v3 p;
  switch (face) {
  case 0:
    p.x = 1, p.y = u, p.z = v;
    break;
  case 1:
    p.x = -u, p.y = 1, p.z = v;
    break;
  case 2:
    p.x = -u, p.y = -v, p.z = 1;
    break;
  case 3:
    p.x = -1, p.y = -v, p.z = -u;
    break;
  case 4:
    p.x = v, p.y = -1, p.z = -u;
    break;
  default:
    p.x = v, p.y = u, p.z = -1;
    break;
  }
  return p;
}

static int64_t
st_to_ij(double s)
{
  double x = floor(s * S2_MAXSIZE);
  if (x < 0) return 0;
  if (x > S2_MAXSIZE - 1) return S2_MAXSIZE - 1;
  return (int64_t)x;
}

/* ------------------------------------------------------------ cell ids */

static uint64_t
lsb_for(int level)
{
  return (uint64_t)1 << (2 * (S2_MAXLEVEL - level));
}

static uint64_t
from_face_ij(int face, int64_t i, int64_t j)
{
  uint64_t id = (uint64_t)face << 61;
  int orient = face & S2_SWAP;
  for (int k = S2_MAXLEVEL - 1; k >= 0; k--) {
    int ij = (int)((i >> k & 1) << 1 | (j >> k & 1));
    int pos = ij_to_pos(orient, ij);
    id |= (uint64_t)pos << (2 * k + 1);
    orient ^= pos_to_orient[pos];
  }
  return id | 1;
}

static uint64_t
parent_at(uint64_t id, int level)
{
  uint64_t lsb = lsb_for(level);
  return (id & ~(2 * lsb - 1)) | lsb;
}

static int
level_of(uint64_t id)
{
  int tz = 0;
  while (tz < 64 && !(id >> tz & 1))
    tz++;
  return S2_MAXLEVEL - tz / 2;
}

static bool
id_valid(uint64_t id)
{
  if (id >> 61 > 5) return false;
  uint64_t lsb = id & (~id + 1);
  if (!lsb) return false;
  int tz = 0;
  while (!(lsb >> tz & 1))
    tz++;
  return tz % 2 == 0 && tz <= 60;
}

/* Face and (i, j) of the cell's lower-left leaf, and its level. */
static int
to_face_ij(uint64_t id, int64_t *i, int64_t *j, int *level)
{
  int face = (int)(id >> 61);
  int lvl = level_of(id);
  int orient = face & S2_SWAP;
  int64_t ii = 0, jj = 0;
  for (int k = 1; k <= lvl; k++) {
    int pos = (int)(id >> (61 - 2 * k) & 3);
    int ij = pos_to_ij[orient][pos];
    ii = ii << 1 | (ij >> 1);
    jj = jj << 1 | (ij & 1);
    orient ^= pos_to_orient[pos];
  }
  *i = ii << (S2_MAXLEVEL - lvl);
  *j = jj << (S2_MAXLEVEL - lvl);
  *level = lvl;
  return face;
}

static uint64_t
leaf_of(struct kql_geo_v3 p)
{
  double u, v;
  int face = xyz_to_face_uv(p, &u, &v);
  return from_face_ij(face, st_to_ij(uv_to_st(u)), st_to_ij(uv_to_st(v)));
}

/* The cell containing leaf (i, j) of face, where (i, j) may lie just
 * off the face: it is carried onto the neighbouring face through xyz,
 * using the linear (u = 2s - 1) projection both ways so that positions
 * along the shared edge are kept. */
static uint64_t
from_face_ij_wrap(int face, int64_t i, int64_t j)
{
  if (i < -1) i = -1;
  if (i > S2_MAXSIZE) i = S2_MAXSIZE;
  if (j < -1) j = -1;
  if (j > S2_MAXSIZE) j = S2_MAXSIZE;
  const double lim = 1 + DBL_EPSILON;
  double u = (2.0 * ((double)i - S2_MAXSIZE / 2) + 1) / S2_MAXSIZE;
  double v = (2.0 * ((double)j - S2_MAXSIZE / 2) + 1) / S2_MAXSIZE;
  u = u < -lim ? -lim : u > lim ? lim : u;
  v = v < -lim ? -lim : v > lim ? lim : v;
  int nf = xyz_to_face_uv(face_uv_to_xyz(face, u, v), &u, &v);
  return from_face_ij(nf, st_to_ij(0.5 * (u + 1)), st_to_ij(0.5 * (v + 1)));
}

static uint64_t
from_face_ij_same(int face, int64_t i, int64_t j, bool same)
{
  return same ? from_face_ij(face, i, j) : from_face_ij_wrap(face, i, j);
}

static void
token(uint64_t id, char *out)
{
  static const char hex[] = "0123456789abcdef";
  if (!id) {
    out[0] = 'X';
    out[1] = 0;
    return;
  }
  int n = 16;
  while (n > 0 && !(id >> (64 - 4 * n) & 15))
    n--;
  for (int k = 0; k < n; k++)
    out[k] = hex[id >> (60 - 4 * k) & 15];
  out[n] = 0;
}

static bool
parse_token(const struct kql_val *v, uint64_t *id)
{
  if (v->null || v->t != KQL_T_STRING || v->n < 1 || v->n > 16) return false;
  uint64_t x = 0;
  for (uint32_t k = 0; k < 16; k++) {
    int d = 0;
    if (k < v->n) {
      char ch = v->u.s[k];
      if (ch >= '0' && ch <= '9')
        d = ch - '0';
      else if (ch >= 'a' && ch <= 'f')
        d = ch - 'a' + 10;
      else if (ch >= 'A' && ch <= 'F')
        d = ch - 'A' + 10;
      else
        return false;
    }
    x = x << 4 | (uint64_t)d;
  }
  if (!id_valid(x)) return false;
  *id = x;
  return true;
}

static struct kql_val
token_val(struct kql_arena *a, uint64_t id)
{
  char buf[20];
  token(id, buf);
  size_t n = strlen(buf);
  struct kql_val v = kql_v_str(kql_memdup(a, buf, n), n);
  return v;
}

/* The four corners of a cell, counterclockwise from (u0, v0). */
static void
cell_vertices(uint64_t id, struct kql_geo_v3 vx[4])
{
  int64_t i, j;
  int lvl;
  int face = to_face_ij(id, &i, &j, &lvl);
  double size = (double)((int64_t)1 << (S2_MAXLEVEL - lvl));
  double u0 = st_to_uv((double)i / S2_MAXSIZE);
  double u1 = st_to_uv(((double)i + size) / S2_MAXSIZE);
  double v0 = st_to_uv((double)j / S2_MAXSIZE);
  double v1 = st_to_uv(((double)j + size) / S2_MAXSIZE);
  vx[0] = kql_geo_norm(face_uv_to_xyz(face, u0, v0));
  vx[1] = kql_geo_norm(face_uv_to_xyz(face, u1, v0));
  vx[2] = kql_geo_norm(face_uv_to_xyz(face, u1, v1));
  vx[3] = kql_geo_norm(face_uv_to_xyz(face, u0, v1));
}

static struct kql_geo_v3
cell_center(uint64_t id)
{
  int64_t i, j;
  int lvl;
  int face = to_face_ij(id, &i, &j, &lvl);
  double half = (double)((int64_t)1 << (S2_MAXLEVEL - lvl)) / 2;
  double u = st_to_uv(((double)i + half) / S2_MAXSIZE);
  double v = st_to_uv(((double)j + half) / S2_MAXSIZE);
  return kql_geo_norm(face_uv_to_xyz(face, u, v));
}

/* ------------------------------------------------------------ functions */

KQL_FN(kql_f_geo_point_to_s2cell)
{
  (void)n;
  double lng, lat;
  int64_t level = 11;
  if (!kql_fn_real(&a[0], &lng) || !kql_fn_real(&a[1], &lat) ||
      !kql_geo_pt_valid(lng, lat) || (na > 2 && !kql_fn_long(&a[2], &level)) ||
      level < 0 || level > S2_MAXLEVEL) {
    *out = kql_v_str("", 0);
    return;
  }
  struct kql_geo_pt p = {lng, lat};
  *out = token_val(c->a, parent_at(leaf_of(kql_geo_v3(p)), (int)level));
}

KQL_FN(kql_f_geo_s2cell_to_central_point)
{
  (void)n;
  (void)na;
  uint64_t id;
  if (!parse_token(&a[0], &id)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  *out = kql_geo_mk_point(c->a, kql_geo_pt(cell_center(id)));
}

KQL_FN(kql_f_geo_s2cell_to_polygon)
{
  (void)n;
  (void)na;
  uint64_t id;
  if (!parse_token(&a[0], &id)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  struct kql_geo_v3 vx[4];
  cell_vertices(id, vx);
  struct kql_geo_pt *p = kql_alloc(c->a, 4 * sizeof *p);
  for (int k = 0; k < 4; k++)
    p[k] = kql_geo_pt(vx[k]);
  struct kql_geo_line ring = {p, 4};
  struct kql_geo_poly g = {&ring, 1};
  *out = kql_geo_mk_bag(c->a, "Polygon", "coordinates",
                        kql_geo_mk_poly_coords(c->a, &g));
}

KQL_FN(kql_f_geo_s2cell_neighbors)
{
  (void)n;
  (void)na;
  uint64_t id;
  if (!parse_token(&a[0], &id)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  int64_t i, j;
  int lvl;
  int face = to_face_ij(id, &i, &j, &lvl);
  int64_t size = (int64_t)1 << (S2_MAXLEVEL - lvl);
  uint64_t nb[8];
  int k = 0;
  /* The row below, then the cell's own row and column, then the row
   * above: diagonal, edge and diagonal neighbours. */
  for (int64_t d = -size; d <= size; d += size) {
    bool same;
    if (d < 0) {
      same = j + d >= 0;
    } else if (d >= size) {
      same = j + d < S2_MAXSIZE;
    } else {
      same = true;
      nb[k++] = from_face_ij_same(face, i, j - size, j - size >= 0);
      nb[k++] = from_face_ij_same(face, i, j + size, j + size < S2_MAXSIZE);
    }
    nb[k++] = from_face_ij_same(face, i - size, j + d, same && i - size >= 0);
    nb[k++] =
        from_face_ij_same(face, i + size, j + d, same && i + size < S2_MAXSIZE);
  }
  /* Kusto lists them in another order than they are found in (its
   * documented example): the last diagonal first, and the two edge
   * neighbours along i swapped. */
  static const int order[8] = {7, 0, 1, 2, 3, 5, 4, 6};
  struct kql_val arr = kql_geo_mk_array(c->a, 8);
  uint32_t m = 0;
  for (int x = 0; x < k; x++) {
    uint64_t cell = parent_at(nb[order[x]], lvl);
    bool dup = cell == id;
    for (int y = 0; y < x && !dup; y++)
      dup = parent_at(nb[order[y]], lvl) == cell;
    if (dup) continue;
    arr.u.a[m] = token_val(c->a, cell);
    arr.u.a[m++].dyn = 1;
  }
  arr.n = m;
  *out = arr;
}

/* ------------------------------------------------------------ coverings */

/* The shape to cover: edges and, for polygons, containment. */
struct cover {
  const struct kql_geo_shape *s;
  bool polys;
  double radius; /* radians */
};

static bool
cell_contains_pt(uint64_t id, struct kql_geo_v3 p)
{
  uint64_t lsb = id & (~id + 1);
  uint64_t leaf = leaf_of(p);
  return leaf >= id - (lsb - 1) && leaf <= id + (lsb - 1);
}

/* Visit every edge of the shape: f returns true to stop. */
static bool
each_edge(const struct kql_geo_shape *s,
          bool (*f)(void *, struct kql_geo_v3, struct kql_geo_v3), void *arg)
{
  for (uint32_t i = 0; i < s->nlines; i++) {
    const struct kql_geo_line *l = &s->lines[i];
    for (uint32_t k = 0; k + 1 < l->n; k++)
      if (f(arg, kql_geo_v3(l->p[k]), kql_geo_v3(l->p[k + 1]))) return true;
  }
  for (uint32_t i = 0; i < s->npolys; i++)
    for (uint32_t r = 0; r < s->polys[i].nrings; r++) {
      const struct kql_geo_line *l = &s->polys[i].rings[r];
      for (uint32_t k = 0; k < l->n; k++)
        if (f(arg, kql_geo_v3(l->p[k]), kql_geo_v3(l->p[(k + 1) % l->n])))
          return true;
    }
  return false;
}

struct cell_test {
  struct kql_geo_v3 vx[4];
  double radius;
};

/* An edge meets the cell's boundary, or comes within radius of it. */
static bool
edge_meets_cell(void *arg, struct kql_geo_v3 a, struct kql_geo_v3 b)
{
  struct cell_test *t = arg;
  for (int k = 0; k < 4; k++) {
    struct kql_geo_v3 c = t->vx[k], d = t->vx[(k + 1) % 4], x;
    if (kql_geo_edge_cross(a, b, c, d, &x)) return true;
    if (t->radius > 0) {
      if (kql_geo_angle(a, kql_geo_edge_closest(c, d, a)) <= t->radius ||
          kql_geo_angle(c, kql_geo_edge_closest(a, b, c)) <= t->radius)
        return true;
    }
  }
  return false;
}

static bool
first_vertex(const struct kql_geo_shape *s, struct kql_geo_v3 *p)
{
  if (s->nlines) {
    *p = kql_geo_v3(s->lines[0].p[0]);
    return true;
  }
  if (s->npolys) {
    *p = kql_geo_v3(s->polys[0].rings[0].p[0]);
    return true;
  }
  return false;
}

static bool
cell_meets(const struct cover *cv, uint64_t id)
{
  struct cell_test t;
  cell_vertices(id, t.vx);
  t.radius = cv->radius;
  struct kql_geo_v3 p;
  /* A shape inside the cell: its first vertex is. */
  if (first_vertex(cv->s, &p) && cell_contains_pt(id, p)) return true;
  /* The cell inside a polygon: its corners are. */
  if (cv->polys && kql_geo_polys_contain(cv->s, t.vx[0])) return true;
  return each_edge(cv->s, edge_meets_cell, &t);
}

/* All cells of the level that meet the shape, in cell id order; false
 * when there are more than S2_MAXCELLS. */
static bool
cover(const struct cover *cv, int level, uint64_t **cells, uint32_t *ncells)
{
  uint32_t cap = 64, n = 0;
  uint64_t *cur = kql_xmalloc(cap * sizeof *cur);
  for (int f = 0; f < 6; f++) {
    uint64_t id = ((uint64_t)f << 61) | lsb_for(0);
    if (cell_meets(cv, id)) cur[n++] = id;
  }
  for (int l = 1; l <= level; l++) {
    uint32_t ncap = n * 4 + 1, m = 0;
    uint64_t *next = kql_xmalloc(ncap * sizeof *next);
    for (uint32_t x = 0; x < n; x++) {
      uint64_t lsb = lsb_for(l);
      uint64_t child = cur[x] - (cur[x] & (~cur[x] + 1)) + lsb;
      for (int k = 0; k < 4; k++, child += 2 * lsb)
        if (cell_meets(cv, child)) next[m++] = child;
    }
    free(cur);
    cur = next;
    n = m;
    if (n > S2_MAXCELLS) {
      free(cur);
      return false;
    }
  }
  *cells = cur;
  *ncells = n;
  return true;
}

static void
covering_fn(struct kql_ctx *c, struct kql_val *a, uint32_t na,
            struct kql_val *out, int want)
{
  struct kql_geo_shape s;
  int64_t level = 11;
  double radius = 0;
  if (!kql_geo_read(c->a, &a[0], want, &s) ||
      (na > 1 && !kql_fn_long(&a[1], &level)) || level < 0 ||
      level > S2_MAXLEVEL || (na > 2 && !kql_fn_real(&a[2], &radius)) ||
      !(radius >= 0)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  struct cover cv = {&s, want == KQL_GEO_WANT_POLY, radius / KQL_GEO_R};
  uint64_t *cells;
  uint32_t nc;
  if (!cover(&cv, (int)level, &cells, &nc)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  struct kql_val arr = kql_geo_mk_array(c->a, nc);
  for (uint32_t k = 0; k < nc; k++) {
    arr.u.a[k] = token_val(c->a, cells[k]);
    arr.u.a[k].dyn = 1;
  }
  free(cells);
  *out = arr;
}

KQL_FN(kql_f_geo_polygon_to_s2cells)
{
  (void)n;
  covering_fn(c, a, na, out, KQL_GEO_WANT_POLY);
}

KQL_FN(kql_f_geo_line_to_s2cells)
{
  (void)n;
  covering_fn(c, a, na, out, KQL_GEO_WANT_LINE);
}
