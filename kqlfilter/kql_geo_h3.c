/*
 * kql_geo_h3.c - H3 cells: geo_point_to_h3cell, geo_h3cell_level,
 * geo_h3cell_parent, geo_h3cell_children, geo_h3cell_neighbors,
 * geo_h3cell_rings, geo_h3cell_to_central_point, geo_h3cell_to_polygon
 * and geo_polygon_to_h3cells.
 *
 * Written from the public description of H3 (h3geo.org): an icosahedron
 * in the Dymaxion orientation; on each face a hexagon grid in a planar
 * gnomonic projection, in IJK coordinates (three axes 120 degrees apart);
 * resolution 0 cells are spaced so that the face vertices lie two cells
 * from the face centre; each finer resolution is an aperture 7 grid, a
 * factor sqrt(7) smaller and alternately turned by atan(sqrt(3)/5)
 * (Class III, odd resolutions) and back (Class II). A cell index holds
 * mode 1, the resolution, a base cell (0-121) and one digit 0-6 per
 * resolution, the digit's bits being the unit IJK vector from the
 * parent's centre, in the base cell's home-face frame; unused digits
 * are 7.
 *
 * Only the 20 face centres are constants here. Everything else is
 * derived from them when first needed: the vertices; each face's i axis
 * (towards its vertex that is alone in its latitude band of the
 * icosahedron); the 122 base cells (face centres, face interiors, edge
 * midpoints and vertices on the resolution 0 grid, numbered from north
 * to south), each with a home face (the one where its IJK position is
 * largest, then the lowest face); and for each face position its base
 * cell and the 60-degree turns between the two faces' frames. Cells whose
 * points fall beyond their home face are carried across the face edge
 * by unfolding the two faces into one plane. Pentagon-specific index
 * rotations are approximated.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_geo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define H3_MAXRES 15
#define H3_NBASE 122
#define H3_SQRT7 2.6457513110645905905
#define H3_MAX_POLY_CELLS 61680

/* Icosahedron face centres (latitude, longitude in radians) of H3's
 * Dymaxion orientation. */
static const double face_ll[20][2] = {
    {0.803582649718989942, 1.248397419617396099},
    {1.307747883455638156, 2.536945009877921159},
    {1.054751253523952054, -1.347517358900396623},
    {0.600191595538186799, -0.450603909469755746},
    {0.491715428198773866, 0.401988202911306943},
    {0.172745327415618701, 1.678146885280433686},
    {0.605929321571350690, 2.953923329812411617},
    {0.427370518328979641, -1.888876200336285401},
    {-0.079066118549212831, -0.733429513380867741},
    {-0.230961644455383637, 0.506495587332349035},
    {0.079066118549212831, 2.408163140208925497},
    {0.230961644455383637, -2.635097066257444203},
    {-0.172745327415618701, -1.463445768309359553},
    {-0.605929321571350690, -0.187669323777381622},
    {-0.427370518328979641, 1.252716453253507838},
    {-0.600191595538186799, 2.690988744120037492},
    {-0.491715428198773866, -2.739604450678486295},
    {-0.803582649718989942, -1.893195233972397139},
    {-1.307747883455638156, -0.604647643711872080},
    {-1.054751253523952054, 1.794075294689396615},
};

struct ijk {
  int i, j, k;
};

/* Digits are the bits of unit IJK vectors: i*4 + j*2 + k. */
static const struct ijk unit[7] = {{0, 0, 0}, {0, 0, 1}, {0, 1, 0}, {0, 1, 1},
                                   {1, 0, 0}, {1, 0, 1}, {1, 1, 0}};
/* The digit a 60-degree counterclockwise turn makes of each digit. */
static const int rot_ccw[7] = {0, 5, 3, 1, 6, 4, 2};

struct h3_tab {
  bool ready;
  double res0u; /* gnomonic length of one resolution 0 unit */
  double ap7;   /* Class III turn */
  struct kql_geo_v3 c[20], ux[20], uy[20];
  struct kql_geo_v3 vx[12];
  int fv[20][3];     /* the face's vertices */
  double fvx[20][3]; /* their positions in the face plane */
  double fvy[20][3];
  struct kql_geo_v3 bc[H3_NBASE];
  int bc_face[H3_NBASE];
  struct ijk bc_ijk[H3_NBASE];
  bool bc_pent[H3_NBASE];
  signed char fijk_bc[20][3][3][3];
  signed char fijk_rot[20][3][3][3];
};

static struct h3_tab T;

/* ------------------------------------------------------------ IJK */

static struct ijk
ijk_norm(int i, int j, int k)
{
  int m = i < j ? (i < k ? i : k) : (j < k ? j : k);
  struct ijk r = {i - m, j - m, k - m};
  return r;
}

static struct ijk
ijk_add(struct ijk a, struct ijk b)
{
  return ijk_norm(a.i + b.i, a.j + b.j, a.k + b.k);
}

static struct ijk
ijk_sub(struct ijk a, struct ijk b)
{
  return ijk_norm(a.i - b.i, a.j - b.j, a.k - b.k);
}

static struct ijk
ijk_scale(struct ijk a, int n)
{
  return ijk_norm(a.i * n, a.j * n, a.k * n);
}

static void
ijk_xy(struct ijk a, double *x, double *y)
{
  double i = a.i - a.k, j = a.j - a.k;
  *x = i - 0.5 * j;
  *y = j * 0.86602540378443864676;
}

/* The lattice point nearest (x, y): cube rounding over the axial
 * coordinates (i, -j). */
static struct ijk
xy_ijk(double x, double y)
{
  double j = y / 0.86602540378443864676, i = x + j / 2;
  double q = i, r = -j, s = -q - r;
  double rq = round(q), rr = round(r), rs = round(s);
  double dq = fabs(rq - q), dr = fabs(rr - r), ds = fabs(rs - s);
  if (dq > dr && dq > ds)
    rq = -rr - rs;
  else if (dr > ds)
    rr = -rq - rs;
  return ijk_norm((int)rq, (int)-rr, 0);
}

/* Aperture 7 parents and centres: counterclockwise (into Class III) and
 * clockwise (into Class II). */
static struct ijk
up7(struct ijk a, bool ccw)
{
  double i = a.i - a.k, j = a.j - a.k;
  if (ccw)
    return ijk_norm((int)lround((3 * i - j) / 7), (int)lround((i + 2 * j) / 7),
                    0);
  return ijk_norm((int)lround((2 * i + j) / 7), (int)lround((3 * j - i) / 7),
                  0);
}

static struct ijk
down7(struct ijk a, bool ccw)
{
  if (ccw) return ijk_norm(3 * a.i + a.j, 3 * a.j + a.k, a.i + 3 * a.k);
  return ijk_norm(3 * a.i + a.k, a.i + 3 * a.j, a.j + 3 * a.k);
}

static int
ijk_digit(struct ijk a)
{
  if (a.i > 1 || a.j > 1 || a.k > 1) return -1;
  int d = a.i * 4 + a.j * 2 + a.k;
  return d == 7 ? -1 : d;
}

/* ------------------------------------------------------------ faces */

static struct kql_geo_v3
ll_v3(double lat, double lng)
{
  struct kql_geo_v3 v = {cos(lat) * cos(lng), cos(lat) * sin(lng), sin(lat)};
  return v;
}

static double
azimuth(struct kql_geo_v3 c, struct kql_geo_v3 p)
{
  double lat = asin(c.z), lng = atan2(c.y, c.x);
  struct kql_geo_v3 n = {-sin(lat) * cos(lng), -sin(lat) * sin(lng), cos(lat)};
  struct kql_geo_v3 e = {-sin(lng), cos(lng), 0};
  return atan2(kql_geo_dot(p, e), kql_geo_dot(p, n));
}

/* Resolution 0, Class II plane coordinates of p on face f. */
static void
to_plane(int f, struct kql_geo_v3 p, double *x, double *y)
{
  double h = kql_geo_dot(p, T.c[f]);
  *x = kql_geo_dot(p, T.ux[f]) / h / T.res0u;
  *y = kql_geo_dot(p, T.uy[f]) / h / T.res0u;
}

static struct kql_geo_v3
from_plane(int f, double x, double y)
{
  struct kql_geo_v3 w =
      kql_geo_add(T.c[f], kql_geo_add(kql_geo_scale(T.ux[f], x * T.res0u),
                                      kql_geo_scale(T.uy[f], y * T.res0u)));
  return kql_geo_norm(w);
}

/* Plane coordinates between a resolution's frame and resolution 0. */
static void
res_to_0(int res, double x, double y, double *x0, double *y0)
{
  double s = pow(H3_SQRT7, -res), a = res % 2 ? T.ap7 : 0;
  *x0 = s * (x * cos(a) - y * sin(a));
  *y0 = s * (x * sin(a) + y * cos(a));
}

static void
res_from_0(int res, double x0, double y0, double *x, double *y)
{
  double s = pow(H3_SQRT7, res), a = res % 2 ? -T.ap7 : 0;
  *x = s * (x0 * cos(a) - y0 * sin(a));
  *y = s * (x0 * sin(a) + y0 * cos(a));
}

static int
face_of(struct kql_geo_v3 p)
{
  int best = 0;
  for (int f = 1; f < 20; f++)
    if (kql_geo_dot(T.c[f], p) > kql_geo_dot(T.c[best], p)) best = f;
  return best;
}

/* The face other than f that has vertices a and b. */
static int
face_across(int f, int a, int b)
{
  for (int g = 0; g < 20; g++) {
    if (g == f) continue;
    int hit = 0;
    for (int k = 0; k < 3; k++)
      hit += T.fv[g][k] == a || T.fv[g][k] == b;
    if (hit == 2) return g;
  }
  return f;
}

static int
vertex_slot(int f, int v)
{
  for (int k = 0; k < 3; k++)
    if (T.fv[f][k] == v) return k;
  return 0;
}

/* The point (x, y) of face f's resolution 0 plane on the sphere: past an
 * edge of the face, the neighbouring face is unfolded into the plane and
 * the point projected from there. */
static struct kql_geo_v3
plane_geo(int f, double x, double y)
{
  for (int e = 0; e < 3; e++) {
    int k1 = (e + 1) % 3, k2 = (e + 2) % 3;
    double ax = T.fvx[f][k1], ay = T.fvy[f][k1];
    double bx = T.fvx[f][k2], by = T.fvy[f][k2];
    /* The centre (origin) and the point on opposite sides of the edge. */
    double sc = (bx - ax) * (0 - ay) - (by - ay) * (0 - ax);
    double sp = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
    if (sc * sp >= 0) continue;
    int g = face_across(f, T.fv[f][k1], T.fv[f][k2]);
    int g1 = vertex_slot(g, T.fv[f][k1]), g2 = vertex_slot(g, T.fv[f][k2]);
    double qax = T.fvx[g][g1], qay = T.fvy[g][g1];
    double qbx = T.fvx[g][g2], qby = T.fvy[g][g2];
    double rot = atan2(qby - qay, qbx - qax) - atan2(by - ay, bx - ax);
    double dx = x - ax, dy = y - ay;
    double gx = qax + dx * cos(rot) - dy * sin(rot);
    double gy = qay + dx * sin(rot) + dy * cos(rot);
    return from_plane(g, gx, gy);
  }
  return from_plane(f, x, y);
}

static int
cmp_lat(const void *p, const void *q)
{
  const struct kql_geo_v3 *a = p, *b = q;
  return a->z > b->z ? -1 : a->z < b->z;
}

static void
h3_init(void)
{
  if (T.ready) return;
  T.ap7 = atan(sqrt(3.0) / 5);
  for (int f = 0; f < 20; f++)
    T.c[f] = ll_v3(face_ll[f][0], face_ll[f][1]);
  /* Vertices: the ends of the edges between adjacent faces, half an
   * icosahedron edge (atan 2) either side of the edge midpoint. */
  int nv = 0;
  double h = atan(2.0) / 2;
  for (int f = 0; f < 20; f++)
    for (int g = f + 1; g < 20; g++) {
      if (kql_geo_dot(T.c[f], T.c[g]) < cos(45 * KQL_GEO_PI / 180)) continue;
      struct kql_geo_v3 m = kql_geo_norm(kql_geo_add(T.c[f], T.c[g]));
      struct kql_geo_v3 n = kql_geo_norm(kql_geo_cross(T.c[f], T.c[g]));
      for (int s = -1; s <= 1; s += 2) {
        struct kql_geo_v3 v = kql_geo_norm(kql_geo_add(
            kql_geo_scale(m, cos(h)), kql_geo_scale(n, s * sin(h))));
        bool dup = false;
        for (int k = 0; k < nv && !dup; k++)
          dup = kql_geo_dot(T.vx[k], v) > 1 - 1e-9;
        if (!dup && nv < 12) T.vx[nv++] = v;
      }
    }
  for (int f = 0; f < 20; f++) {
    int k = 0;
    for (int v = 0; v < 12; v++)
      if (kql_geo_dot(T.vx[v], T.c[f]) > cos(38 * KQL_GEO_PI / 180) && k < 3)
        T.fv[f][k++] = v;
  }
  /* Latitude bands of the vertices: the one shared by faces 0-4, their
   * other vertices, the one shared by faces 15-19, the rest. */
  int band[12];
  for (int v = 0; v < 12; v++) {
    int in_top = 0, in_bot = 0;
    for (int f = 0; f < 5; f++)
      for (int k = 0; k < 3; k++) {
        in_top += T.fv[f][k] == v;
        in_bot += T.fv[f + 15][k] == v;
      }
    band[v] = in_top == 5 ? 0 : in_top ? 1 : in_bot == 5 ? 3 : 2;
  }
  double rad = 0;
  for (int f = 0; f < 20; f++) {
    int apex = T.fv[f][0];
    for (int k = 0; k < 3; k++) {
      int b = band[T.fv[f][k]], same = 0;
      for (int m = 0; m < 3; m++)
        same += band[T.fv[f][m]] == b;
      if (same == 1) apex = T.fv[f][k];
    }
    double axis = azimuth(T.c[f], T.vx[apex]);
    double lat = asin(T.c[f].z), lng = atan2(T.c[f].y, T.c[f].x);
    struct kql_geo_v3 n = {-sin(lat) * cos(lng), -sin(lat) * sin(lng),
                           cos(lat)};
    struct kql_geo_v3 e = {-sin(lng), cos(lng), 0};
    /* x along the i axis; y a quarter turn counterclockwise (azimuths
     * run clockwise). */
    T.ux[f] =
        kql_geo_add(kql_geo_scale(n, cos(axis)), kql_geo_scale(e, sin(axis)));
    T.uy[f] = kql_geo_add(kql_geo_scale(n, cos(axis - KQL_GEO_PI / 2)),
                          kql_geo_scale(e, sin(axis - KQL_GEO_PI / 2)));
    rad = kql_geo_angle(T.c[f], T.vx[apex]);
  }
  T.res0u = tan(rad) / 2;
  for (int f = 0; f < 20; f++)
    for (int k = 0; k < 3; k++)
      to_plane(f, T.vx[T.fv[f][k]], &T.fvx[f][k], &T.fvy[f][k]);
  /* Base cells: the resolution 0 lattice points of every face. */
  static const struct ijk pos[10] = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1},
                                     {1, 1, 0}, {0, 1, 1}, {1, 0, 1}, {2, 0, 0},
                                     {0, 2, 0}, {0, 0, 2}};
  struct kql_geo_v3 ctr[H3_NBASE];
  int nb = 0;
  for (int f = 0; f < 20; f++)
    for (int k = 0; k < 10; k++) {
      double x, y;
      ijk_xy(pos[k], &x, &y);
      struct kql_geo_v3 p = from_plane(f, x, y);
      bool dup = false;
      for (int b = 0; b < nb && !dup; b++)
        dup = kql_geo_dot(ctr[b], p) > 1 - 1e-9;
      if (!dup && nb < H3_NBASE) ctr[nb++] = p;
    }
  qsort(ctr, (size_t)nb, sizeof *ctr, cmp_lat);
  for (int b = 0; b < nb; b++) {
    T.bc[b] = ctr[b];
    T.bc_face[b] = -1;
  }
  for (int f = 0; f < 20; f++)
    for (int k = 0; k < 10; k++) {
      double x, y;
      ijk_xy(pos[k], &x, &y);
      struct kql_geo_v3 p = from_plane(f, x, y);
      for (int b = 0; b < nb; b++) {
        if (kql_geo_dot(T.bc[b], p) < 1 - 1e-9) continue;
        struct ijk cur = T.bc_ijk[b], nw = pos[k];
        bool better = T.bc_face[b] < 0 || nw.i > cur.i ||
                      (nw.i == cur.i &&
                       (nw.j > cur.j || (nw.j == cur.j && nw.k > cur.k)));
        if (better) {
          T.bc_face[b] = f;
          T.bc_ijk[b] = nw;
        }
        T.bc_pent[b] = k >= 7;
      }
    }
  /* Each face position: its base cell and the turns from the face's
   * frame into the base cell's home frame. */
  for (int f = 0; f < 20; f++)
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++)
        for (int k = 0; k < 3; k++) {
          double x, y;
          ijk_xy(ijk_norm(i, j, k), &x, &y);
          struct kql_geo_v3 p = from_plane(f, x, y);
          int best = 0;
          for (int b = 1; b < nb; b++)
            if (kql_geo_dot(T.bc[b], p) > kql_geo_dot(T.bc[best], p)) best = b;
          int hf = T.bc_face[best];
          struct kql_geo_v3 q = T.bc[best];
          struct kql_geo_v3 tf =
              kql_geo_add(T.ux[f], kql_geo_scale(q, -kql_geo_dot(T.ux[f], q)));
          struct kql_geo_v3 th = kql_geo_add(
              T.ux[hf], kql_geo_scale(q, -kql_geo_dot(T.ux[hf], q)));
          double a =
              atan2(kql_geo_dot(kql_geo_cross(tf, th), q), kql_geo_dot(tf, th));
          int n = (int)lround(a / (KQL_GEO_PI / 3));
          T.fijk_bc[f][i][j][k] = (signed char)best;
          T.fijk_rot[f][i][j][k] = (signed char)(((-n) % 6 + 6) % 6);
        }
  T.ready = true;
}

/* ------------------------------------------------------------ indexes */

static int
h3_res(uint64_t h)
{
  return (int)(h >> 52 & 15);
}

static int
h3_base(uint64_t h)
{
  return (int)(h >> 45 & 127);
}

static int
h3_digit(uint64_t h, int r)
{
  return (int)(h >> (3 * (H3_MAXRES - r)) & 7);
}

static uint64_t
h3_set_digit(uint64_t h, int r, int d)
{
  int sh = 3 * (H3_MAXRES - r);
  return (h & ~((uint64_t)7 << sh)) | (uint64_t)d << sh;
}

static uint64_t
h3_make(int res, int base, const int *digits)
{
  uint64_t h = (uint64_t)1 << 59 | (uint64_t)res << 52 | (uint64_t)base << 45;
  for (int r = 1; r <= H3_MAXRES; r++)
    h |= (uint64_t)(r <= res ? digits[r - 1] : 7) << (3 * (H3_MAXRES - r));
  return h;
}

static int
leading_digit(uint64_t h)
{
  for (int r = 1; r <= h3_res(h); r++)
    if (h3_digit(h, r)) return h3_digit(h, r);
  return 0;
}

static bool
h3_valid(uint64_t h)
{
  if (h >> 63 || (h >> 59 & 15) != 1 || (h >> 56 & 7)) return false;
  int res = h3_res(h), b = h3_base(h);
  if (b >= H3_NBASE) return false;
  for (int r = 1; r <= H3_MAXRES; r++) {
    int d = h3_digit(h, r);
    if (r <= res ? d > 6 : d != 7) return false;
  }
  h3_init();
  return !(T.bc_pent[b] && leading_digit(h) == 1);
}

static bool
parse_cell(const struct kql_val *v, uint64_t *out)
{
  if (v->null || v->t != KQL_T_STRING || v->n < 1 || v->n > 16) return false;
  uint64_t h = 0;
  for (uint32_t k = 0; k < v->n; k++) {
    char ch = v->u.s[k];
    int d;
    if (ch >= '0' && ch <= '9')
      d = ch - '0';
    else if (ch >= 'a' && ch <= 'f')
      d = ch - 'a' + 10;
    else if (ch >= 'A' && ch <= 'F')
      d = ch - 'A' + 10;
    else
      return false;
    h = h << 4 | (uint64_t)d;
  }
  if (!h3_valid(h)) return false;
  *out = h;
  return true;
}

static struct kql_val
cell_val(struct kql_arena *a, uint64_t h)
{
  static const char hex[] = "0123456789abcdef";
  char buf[17];
  int n = 0;
  for (int s = 60; s >= 0; s -= 4) {
    int d = (int)(h >> s & 15);
    if (!n && !d) continue;
    buf[n++] = hex[d];
  }
  if (!n) buf[n++] = '0';
  struct kql_val v = kql_v_str(kql_memdup(a, buf, (size_t)n), (size_t)n);
  return v;
}

/* The cell of lattice point a of face f at resolution res. */
static uint64_t
faceijk_cell(int f, struct ijk a, int res)
{
  int digits[H3_MAXRES];
  for (int r = res; r >= 1; r--) {
    bool ccw = r % 2 == 1;
    struct ijk last = a;
    a = up7(a, ccw);
    int d = ijk_digit(ijk_sub(last, down7(a, ccw)));
    digits[r - 1] = d < 0 ? 0 : d;
  }
  int b, rot;
  if (a.i <= 2 && a.j <= 2 && a.k <= 2) {
    b = T.fijk_bc[f][a.i][a.j][a.k];
    rot = T.fijk_rot[f][a.i][a.j][a.k];
  } else {
    /* Far off the face: the nearest base cell, unturned. */
    double x, y;
    ijk_xy(a, &x, &y);
    struct kql_geo_v3 p = plane_geo(f, x, y);
    b = 0;
    for (int n = 1; n < H3_NBASE; n++)
      if (kql_geo_dot(T.bc[n], p) > kql_geo_dot(T.bc[b], p)) b = n;
    rot = 0;
  }
  for (int t = 0; t < rot; t++)
    for (int r = 0; r < res; r++)
      digits[r] = rot_ccw[digits[r]];
  if (T.bc_pent[b]) {
    /* Pentagons have no digit-1 subsequence: turn out of it. */
    int lead = 0;
    for (int r = 0; r < res && !lead; r++)
      lead = digits[r];
    if (lead == 1)
      for (int r = 0; r < res; r++)
        digits[r] = rot_ccw[digits[r]];
  }
  return h3_make(res, b, digits);
}

static uint64_t
geo_cell(struct kql_geo_v3 p, int res)
{
  h3_init();
  int f = face_of(p);
  double x0, y0, x, y;
  to_plane(f, p, &x0, &y0);
  res_from_0(res, x0, y0, &x, &y);
  return faceijk_cell(f, xy_ijk(x, y), res);
}

/* The cell's centre as a lattice point of its base cell's home face. */
static int
cell_faceijk(uint64_t h, struct ijk *out)
{
  h3_init();
  int b = h3_base(h), res = h3_res(h);
  struct ijk a = T.bc_ijk[b];
  for (int r = 1; r <= res; r++)
    a = ijk_add(down7(a, r % 2 == 1), unit[h3_digit(h, r)]);
  *out = a;
  return T.bc_face[b];
}

static struct kql_geo_v3
lattice_geo(int f, struct ijk a, double dx, double dy, int res)
{
  double x, y, x0, y0;
  ijk_xy(a, &x, &y);
  res_to_0(res, x + dx, y + dy, &x0, &y0);
  return plane_geo(f, x0, y0);
}

static struct kql_geo_v3
cell_center(uint64_t h)
{
  struct ijk a;
  int f = cell_faceijk(h, &a);
  return lattice_geo(f, a, 0, 0, h3_res(h));
}

/* A set of cells (open addressing). */
struct cellset {
  uint64_t *v;
  uint32_t n, cap;
};

static void
cs_free(struct cellset *s)
{
  free(s->v);
}

static bool
cs_add(struct cellset *s, uint64_t h)
{
  if ((s->n + 1) * 2 > s->cap) {
    uint32_t ncap = s->cap ? s->cap * 2 : 256;
    uint64_t *nv = kql_xcalloc(ncap, sizeof *nv);
    for (uint32_t i = 0; i < s->cap; i++)
      if (s->v[i]) {
        uint32_t k = (uint32_t)(s->v[i] * 0x9E3779B97F4A7C15u >> 40) % ncap;
        while (nv[k])
          k = (k + 1) % ncap;
        nv[k] = s->v[i];
      }
    free(s->v);
    s->v = nv;
    s->cap = ncap;
  }
  uint32_t k = (uint32_t)(h * 0x9E3779B97F4A7C15u >> 40) % s->cap;
  while (s->v[k]) {
    if (s->v[k] == h) return false;
    k = (k + 1) % s->cap;
  }
  s->v[k] = h;
  s->n++;
  return true;
}

/* ------------------------------------------------------------ functions */

KQL_FN(kql_f_geo_point_to_h3cell)
{
  (void)n;
  double lng, lat;
  int64_t res = 6;
  if (!kql_fn_real(&a[0], &lng) || !kql_fn_real(&a[1], &lat) ||
      !kql_geo_pt_valid(lng, lat) || (na > 2 && !kql_fn_long(&a[2], &res)) ||
      res < 0 || res > H3_MAXRES) {
    *out = kql_v_str("", 0);
    return;
  }
  struct kql_geo_pt p = {lng, lat};
  *out = cell_val(c->a, geo_cell(kql_geo_v3(p), (int)res));
}

KQL_FN(kql_f_geo_h3cell_level)
{
  (void)n;
  (void)na;
  (void)c;
  uint64_t h;
  if (!parse_cell(&a[0], &h)) {
    *out = kql_v_null(KQL_T_INT);
    return;
  }
  *out = kql_v_int(h3_res(h));
}

static uint64_t
parent_of(uint64_t h, int res)
{
  for (int r = res + 1; r <= h3_res(h); r++)
    h = h3_set_digit(h, r, 7);
  return (h & ~((uint64_t)15 << 52)) | (uint64_t)res << 52;
}

KQL_FN(kql_f_geo_h3cell_parent)
{
  (void)n;
  uint64_t h;
  int64_t res = -1;
  if (!parse_cell(&a[0], &h) || (na > 1 && !kql_fn_long(&a[1], &res))) {
    *out = kql_v_str("", 0);
    return;
  }
  if (na < 2) res = h3_res(h) - 1;
  if (res < 0 || res > h3_res(h)) {
    *out = kql_v_str("", 0);
    return;
  }
  *out = cell_val(c->a, parent_of(h, (int)res));
}

KQL_FN(kql_f_geo_h3cell_children)
{
  (void)n;
  uint64_t h;
  int64_t res = -1;
  if (!parse_cell(&a[0], &h) || (na > 1 && !kql_fn_long(&a[1], &res))) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  int cr = h3_res(h);
  if (na < 2) res = cr + 1;
  if (res <= cr || res > H3_MAXRES || res - cr > 5) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  int d = (int)res - cr;
  uint32_t total = 1;
  for (int k = 0; k < d; k++)
    total *= 7;
  bool pent = T.bc_pent[h3_base(h)] && leading_digit(h) == 0;
  struct kql_val arr = kql_geo_mk_array(c->a, total);
  uint32_t m = 0;
  for (uint32_t x = 0; x < total; x++) {
    uint64_t ch = (h & ~((uint64_t)15 << 52)) | (uint64_t)res << 52;
    uint32_t rest = x;
    bool zero = true, skip = false;
    int dig[5];
    for (int k = d - 1; k >= 0; k--) {
      dig[k] = (int)(rest % 7);
      rest /= 7;
    }
    for (int k = 0; k < d; k++) {
      if (pent && zero && dig[k] == 1) skip = true;
      if (dig[k]) zero = false;
      ch = h3_set_digit(ch, cr + 1 + k, dig[k]);
    }
    if (skip) continue;
    arr.u.a[m] = cell_val(c->a, ch);
    arr.u.a[m++].dyn = 1;
  }
  arr.n = m;
  *out = arr;
}

/* Ring k around the cell, in H3's order: from k steps along i, walk k
 * steps in each of the six directions j, jk, k, ik, i, ij. Lattice
 * points are placed in the cell's home-face frame and looked up from
 * where they fall on the sphere. */
static uint32_t
ring(uint64_t h, int k, uint64_t *out)
{
  static const int dirs[6] = {2, 3, 1, 5, 4, 6};
  int res = h3_res(h);
  if (k == 0) {
    out[0] = h;
    return 1;
  }
  struct ijk o;
  int f = cell_faceijk(h, &o);
  struct ijk p = ijk_add(o, ijk_scale(unit[4], k));
  uint32_t n = 0;
  for (int d = 0; d < 6; d++)
    for (int s = 0; s < k; s++) {
      p = ijk_add(p, unit[dirs[d]]);
      out[n++] = geo_cell(lattice_geo(f, p, 0, 0, res), res);
    }
  return n;
}

static bool
seen(const uint64_t *v, uint32_t n, uint64_t x)
{
  for (uint32_t i = 0; i < n; i++)
    if (v[i] == x) return true;
  return false;
}

KQL_FN(kql_f_geo_h3cell_neighbors)
{
  (void)n;
  (void)na;
  uint64_t h;
  if (!parse_cell(&a[0], &h)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  uint64_t cells[6], kept[6];
  uint32_t nc = ring(h, 1, cells), m = 0;
  for (uint32_t i = 0; i < nc; i++)
    if (cells[i] != h && !seen(kept, m, cells[i])) kept[m++] = cells[i];
  struct kql_val arr = kql_geo_mk_array(c->a, m);
  for (uint32_t i = 0; i < m; i++) {
    arr.u.a[i] = cell_val(c->a, kept[i]);
    arr.u.a[i].dyn = 1;
  }
  *out = arr;
}

KQL_FN(kql_f_geo_h3cell_rings)
{
  (void)n;
  (void)na;
  uint64_t h;
  int64_t dist;
  if (!parse_cell(&a[0], &h) || !kql_fn_long(&a[1], &dist) || dist < 0 ||
      dist > 142) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  /* A cell already listed (near pentagons) is not listed again. */
  struct cellset *all = kql_zalloc(c->a, sizeof *all);
  uint64_t *cells = kql_xmalloc((6 * (size_t)dist + 1) * sizeof *cells);
  struct kql_val rings = kql_geo_mk_array(c->a, (uint32_t)dist + 1);
  for (int k = 0; k <= dist; k++) {
    uint32_t nc = ring(h, k, cells);
    struct kql_val r = kql_geo_mk_array(c->a, nc);
    uint32_t m = 0;
    for (uint32_t i = 0; i < nc; i++) {
      if (!cs_add(all, cells[i])) continue;
      r.u.a[m] = cell_val(c->a, cells[i]);
      r.u.a[m++].dyn = 1;
    }
    r.n = m;
    rings.u.a[k] = r;
  }
  cs_free(all);
  free(cells);
  *out = rings;
}

KQL_FN(kql_f_geo_h3cell_to_central_point)
{
  (void)n;
  (void)na;
  uint64_t h;
  if (!parse_cell(&a[0], &h)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  *out = kql_geo_mk_point(c->a, kql_geo_pt(cell_center(h)));
}

/* The cell's corners, counterclockwise from 30 degrees off its i axis,
 * with a corner added where an edge crosses into another face. */
static uint32_t
cell_boundary(uint64_t h, struct kql_geo_pt *out)
{
  struct ijk o;
  int f = cell_faceijk(h, &o);
  int res = h3_res(h);
  bool pent = T.bc_pent[h3_base(h)] && leading_digit(h) == 0;
  int nvert = pent ? 5 : 6;
  double r = 1 / sqrt(3.0), x, y;
  ijk_xy(o, &x, &y);
  uint32_t n = 0;
  int prev_face = -1;
  struct kql_geo_v3 prev = {0, 0, 0};
  for (int k = 0; k <= nvert; k++) {
    double ang = KQL_GEO_PI / 6 + (k % nvert) * 2 * KQL_GEO_PI / nvert;
    double x0, y0;
    res_to_0(res, x + r * cos(ang), y + r * sin(ang), &x0, &y0);
    struct kql_geo_v3 p = plane_geo(f, x0, y0);
    int pf = face_of(p);
    if (k && pf != prev_face && res % 2) {
      /* Where the edge meets the face boundary. */
      struct kql_geo_v3 m;
      for (int e = 0; e < 3; e++) {
        struct kql_geo_v3 va = T.vx[T.fv[prev_face][e]];
        struct kql_geo_v3 vb = T.vx[T.fv[prev_face][(e + 1) % 3]];
        if (kql_geo_edge_cross(prev, p, va, vb, &m) &&
            kql_geo_angle(m, prev) > 1e-12 && kql_geo_angle(m, p) > 1e-12) {
          out[n++] = kql_geo_pt(m);
          break;
        }
      }
    }
    if (k < nvert) out[n++] = kql_geo_pt(p);
    prev = p;
    prev_face = pf;
  }
  return n;
}

KQL_FN(kql_f_geo_h3cell_to_polygon)
{
  (void)n;
  (void)na;
  uint64_t h;
  if (!parse_cell(&a[0], &h)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  struct kql_geo_pt *p = kql_alloc(c->a, 16 * sizeof *p);
  struct kql_geo_line ring = {p, cell_boundary(h, p)};
  struct kql_geo_poly g = {&ring, 1};
  *out = kql_geo_mk_bag(c->a, "Polygon", "coordinates",
                        kql_geo_mk_poly_coords(c->a, &g));
}

/* ------------------------------------------------------------ polyfill */

static int
cmp_u64(const void *p, const void *q)
{
  uint64_t x = *(const uint64_t *)p, y = *(const uint64_t *)q;
  return x < y ? -1 : x > y;
}

/* Distance (radians) from p to the shape's polygon boundaries. */
static double
boundary_dist(const struct kql_geo_shape *s, struct kql_geo_v3 p)
{
  double best = INFINITY;
  for (uint32_t i = 0; i < s->npolys; i++)
    for (uint32_t r = 0; r < s->polys[i].nrings; r++) {
      struct kql_geo_v3 q;
      uint32_t e;
      double d = kql_geo_closest(&s->polys[i].rings[r], true, p, &q, &e);
      if (d < best) best = d;
    }
  return best;
}

/* Cells whose centres lie inside the polygons (or within radius of
 * them): a flood from the cells under the vertices through every cell
 * near the shape. */
KQL_FN(kql_f_geo_polygon_to_h3cells)
{
  (void)n;
  struct kql_geo_shape s;
  int64_t res = 6;
  double radius = 0;
  if (!kql_geo_read(c->a, &a[0], KQL_GEO_WANT_POLY, &s) ||
      (na > 1 && !kql_fn_long(&a[1], &res)) || res < 0 || res > H3_MAXRES ||
      (na > 2 && !kql_fn_real(&a[2], &radius)) || !(radius >= 0)) {
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  h3_init();
  /* A cell's centre is never farther than its circumradius from its
   * corners: about the resolution 0 unit's length. */
  double reach = atan(T.res0u * pow(H3_SQRT7, -(double)res)) * 1.2;
  double rad = radius / KQL_GEO_R;
  struct cellset visited = {0};
  uint32_t qcap = 1024, qh = 0, qt = 0;
  uint64_t *queue = kql_xmalloc(qcap * sizeof *queue);
  uint64_t *hits = NULL;
  uint32_t nhits = 0, caphits = 0;
  bool over = false;
  for (uint32_t i = 0; i < s.npolys; i++)
    for (uint32_t r = 0; r < s.polys[i].nrings; r++)
      for (uint32_t k = 0; k < s.polys[i].rings[r].n; k++) {
        uint64_t h = geo_cell(kql_geo_v3(s.polys[i].rings[r].p[k]), (int)res);
        if (!cs_add(&visited, h)) continue;
        if (qt == qcap) {
          qcap *= 2;
          queue = kql_xrealloc(queue, qcap * sizeof *queue);
        }
        queue[qt++] = h;
      }
  while (qh < qt && !over) {
    uint64_t h = queue[qh++];
    struct kql_geo_v3 ctr = cell_center(h);
    bool in = kql_geo_polys_contain(&s, ctr);
    double d = in ? 0 : boundary_dist(&s, ctr);
    if (in || d <= rad) {
      if (nhits == caphits) {
        caphits = caphits ? caphits * 2 : 256;
        hits = kql_xrealloc(hits, caphits * sizeof *hits);
      }
      hits[nhits++] = h;
      if (nhits > H3_MAX_POLY_CELLS) over = true;
    }
    if (!in && d > rad + reach) continue;
    uint64_t nb[6];
    uint32_t nn = ring(h, 1, nb);
    for (uint32_t k = 0; k < nn; k++) {
      if (!cs_add(&visited, nb[k])) continue;
      if (qt == qcap) {
        qcap *= 2;
        queue = kql_xrealloc(queue, qcap * sizeof *queue);
      }
      queue[qt++] = nb[k];
    }
  }
  free(queue);
  cs_free(&visited);
  if (over) {
    free(hits);
    *out = kql_v_null(KQL_T_DYNAMIC);
    return;
  }
  if (nhits) qsort(hits, nhits, sizeof *hits, cmp_u64);
  struct kql_val arr = kql_geo_mk_array(c->a, nhits);
  for (uint32_t i = 0; i < nhits; i++) {
    arr.u.a[i] = cell_val(c->a, hits[i]);
    arr.u.a[i].dyn = 1;
  }
  free(hits);
  *out = arr;
}
