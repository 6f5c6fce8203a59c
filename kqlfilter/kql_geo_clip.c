/*
 * kql_geo_clip.c - polygon overlays on the sphere: union and
 * intersection (geo_union_polygons_array, geo_intersection_2polygons,
 * multipolygon measures).
 *
 * The method is split-and-select. Rings are oriented so that each
 * polygon lies to their left (shells counterclockwise around their
 * smaller region, holes clockwise). Every edge is split where it meets
 * another (crossings, and vertices lying on it); each piece is then kept
 * or dropped by where its midpoint lies: for a union, outside every
 * other polygon; for an intersection, inside the other shape. Pieces
 * two polygons share are kept once when they run the same way and
 * dropped when they run opposite ways (a common border). The kept
 * pieces are linked into loops, turning as far left as possible where
 * several leave one vertex, and each loop is rotated to start with the
 * piece of the earliest input edge, as S2 does, so that output follows
 * the input's order. Loops around their smaller region are shells; the
 * others are holes, given to the shell around them.
 *
 * Everything lives in the caller's arena.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_geo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SNAP 1e-13 /* radians: points closer than this are one vertex */

struct ov_vtx {
  struct kql_geo_v3 p;
  struct kql_geo_pt ll;
};

struct ov_split {
  double t; /* angle from the edge's start */
  uint32_t v;
};

struct ov_edge {
  uint32_t a, b;
  int owner;   /* polygon index (union) or side 0/1 (intersection) */
  uint32_t id; /* input order */
  struct ov_split *sp;
  uint32_t nsp, capsp;
  double box[6]; /* min x, max x, min y, max y, min z, max z */
};

struct ov_piece {
  uint32_t a, b;
  int owner;
  uint32_t id, seq;
  bool keep, used;
};

struct ov_poly {
  struct kql_geo_poly g; /* oriented */
  int owner;
  double box[6];
};

struct ov {
  struct kql_arena *ar;
  struct ov_vtx *v;
  uint32_t nv, capv;
  struct ov_edge *e;
  uint32_t ne, cape;
  struct ov_piece *pc;
  uint32_t npc;
  struct ov_poly *pl;
  uint32_t npl, cappl;
  uint32_t *contact; /* vertices where the two sides meet */
  uint32_t ncontact, capcontact;
  bool intersect;
};

static void *
grow(struct kql_arena *a, void *p, uint32_t n, uint32_t *cap, size_t sz)
{
  if (n < *cap) return p;
  uint32_t nc = *cap ? *cap * 2 : 16;
  void *np = kql_alloc(a, nc * sz);
  if (n) memcpy(np, p, n * sz);
  *cap = nc;
  return np;
}

static uint32_t
add_vtx(struct ov *o, struct kql_geo_v3 p, struct kql_geo_pt ll)
{
  o->v = grow(o->ar, o->v, o->nv, &o->capv, sizeof *o->v);
  o->v[o->nv].p = p;
  o->v[o->nv].ll = ll;
  return o->nv++;
}

/* An input vertex: equal coordinates give the same vertex. */
static uint32_t
input_vtx(struct ov *o, struct kql_geo_pt ll, uint32_t *hash, uint32_t hcap)
{
  uint64_t bits[2];
  double x[2] = {ll.lng + 0.0, ll.lat + 0.0};
  memcpy(bits, x, sizeof bits);
  uint64_t h =
      (bits[0] * 0x9E3779B97F4A7C15u) ^ (bits[1] + 0x632BE59BD9B4E019u);
  h ^= h >> 29;
  uint32_t slot = (uint32_t)(h % hcap);
  for (;;) {
    uint32_t k = hash[slot];
    if (k == UINT32_MAX) break;
    if (kql_geo_pt_eq(o->v[k].ll, ll)) return k;
    slot = (slot + 1) % hcap;
  }
  uint32_t k = add_vtx(o, kql_geo_v3(ll), ll);
  hash[slot] = k;
  return k;
}

static void
edge_box(struct ov *o, struct ov_edge *e)
{
  struct kql_geo_v3 a = o->v[e->a].p, b = o->v[e->b].p;
  double pad = 1 - cos(kql_geo_angle(a, b) / 2) + 1e-12;
  double av[3] = {a.x, a.y, a.z}, bv[3] = {b.x, b.y, b.z};
  for (int k = 0; k < 3; k++) {
    e->box[2 * k] = (av[k] < bv[k] ? av[k] : bv[k]) - pad;
    e->box[2 * k + 1] = (av[k] > bv[k] ? av[k] : bv[k]) + pad;
  }
}

static bool
boxes_meet(const double *x, const double *y)
{
  for (int k = 0; k < 3; k++)
    if (x[2 * k] > y[2 * k + 1] || y[2 * k] > x[2 * k + 1]) return false;
  return true;
}

static void
add_split(struct ov *o, struct ov_edge *e, uint32_t v)
{
  if (v == e->a || v == e->b) return;
  for (uint32_t i = 0; i < e->nsp; i++)
    if (e->sp[i].v == v) return;
  e->sp = grow(o->ar, e->sp, e->nsp, &e->capsp, sizeof *e->sp);
  e->sp[e->nsp].t = kql_geo_angle(o->v[e->a].p, o->v[v].p);
  e->sp[e->nsp++].v = v;
}

static void
add_contact(struct ov *o, uint32_t v)
{
  for (uint32_t i = 0; i < o->ncontact; i++)
    if (o->contact[i] == v) return;
  o->contact =
      grow(o->ar, o->contact, o->ncontact, &o->capcontact, sizeof *o->contact);
  o->contact[o->ncontact++] = v;
}

/* Whether vertex v lies on the interior of edge e. */
static bool
on_edge(struct ov *o, const struct ov_edge *e, uint32_t v)
{
  if (v == e->a || v == e->b) return false;
  struct kql_geo_v3 p = o->v[v].p;
  struct kql_geo_v3 q = kql_geo_edge_closest(o->v[e->a].p, o->v[e->b].p, p);
  return kql_geo_angle(p, q) < SNAP && kql_geo_angle(p, o->v[e->a].p) >= SNAP &&
         kql_geo_angle(p, o->v[e->b].p) >= SNAP;
}

/* Split edges x and y where they meet. */
static void
meet(struct ov *o, struct ov_edge *x, struct ov_edge *y)
{
  bool sides = o->intersect && x->owner != y->owner;
  uint32_t xs[2] = {x->a, x->b}, ys[2] = {y->a, y->b};
  bool touched = false;
  for (int k = 0; k < 2; k++) {
    if (xs[k] == y->a || xs[k] == y->b) {
      touched = true;
      if (sides) add_contact(o, xs[k]);
    }
    if (on_edge(o, y, xs[k])) {
      add_split(o, y, xs[k]);
      if (sides) add_contact(o, xs[k]);
      touched = true;
    }
    if (on_edge(o, x, ys[k])) {
      add_split(o, x, ys[k]);
      if (sides) add_contact(o, ys[k]);
      touched = true;
    }
  }
  if (touched) return;
  struct kql_geo_v3 m;
  if (!kql_geo_edge_cross(o->v[x->a].p, o->v[x->b].p, o->v[y->a].p,
                          o->v[y->b].p, &m))
    return;
  uint32_t v = add_vtx(o, m, kql_geo_pt(m));
  add_split(o, x, v);
  add_split(o, y, v);
  if (sides) add_contact(o, v);
}

static int
cmp_edge_box(const void *p, const void *q)
{
  const struct ov_edge *x = p, *y = q;
  return x->box[0] < y->box[0] ? -1 : x->box[0] > y->box[0];
}

static int
cmp_split(const void *p, const void *q)
{
  const struct ov_split *x = p, *y = q;
  return x->t < y->t ? -1 : x->t > y->t;
}

/* Add a polygon, oriented so that its region lies left of its rings. */
static void
add_poly(struct ov *o, const struct kql_geo_poly *g, int owner, uint32_t *hash,
         uint32_t hcap)
{
  o->pl = grow(o->ar, o->pl, o->npl, &o->cappl, sizeof *o->pl);
  struct ov_poly *p = &o->pl[o->npl++];
  p->owner = owner;
  p->g.nrings = g->nrings;
  p->g.rings = kql_alloc(o->ar, g->nrings * sizeof *p->g.rings);
  for (int k = 0; k < 6; k++)
    p->box[k] = k % 2 ? -2 : 2;
  for (uint32_t r = 0; r < g->nrings; r++) {
    const struct kql_geo_line *in = &g->rings[r];
    struct kql_geo_line *out = &p->g.rings[r];
    bool ccw = kql_geo_ring_ccw(in);
    bool flip = r == 0 ? !ccw : ccw;
    out->n = in->n;
    out->p = kql_alloc(o->ar, in->n * sizeof *out->p);
    for (uint32_t i = 0; i < in->n; i++)
      out->p[i] = in->p[flip ? (in->n - i) % in->n : i];
    uint32_t first = 0, prev = 0;
    for (uint32_t i = 0; i < out->n; i++) {
      uint32_t v = input_vtx(o, out->p[i], hash, hcap);
      if (i == 0)
        first = v;
      else {
        o->e = grow(o->ar, o->e, o->ne, &o->cape, sizeof *o->e);
        struct ov_edge *e = &o->e[o->ne];
        memset(e, 0, sizeof *e);
        e->a = prev, e->b = v, e->owner = owner, e->id = o->ne++;
      }
      prev = v;
      if (r == 0) {
        double c[3] = {o->v[v].p.x, o->v[v].p.y, o->v[v].p.z};
        for (int k = 0; k < 3; k++) {
          if (c[k] < p->box[2 * k]) p->box[2 * k] = c[k];
          if (c[k] > p->box[2 * k + 1]) p->box[2 * k + 1] = c[k];
        }
      }
    }
    o->e = grow(o->ar, o->e, o->ne, &o->cape, sizeof *o->e);
    struct ov_edge *e = &o->e[o->ne];
    memset(e, 0, sizeof *e);
    e->a = prev, e->b = first, e->owner = owner, e->id = o->ne++;
  }
}

static void
pad_poly_boxes(struct ov *o)
{
  for (uint32_t i = 0; i < o->npl; i++) {
    /* Edges bulge away from their chords: pad by the longest one's. */
    double pad = 0;
    const struct kql_geo_line *r = &o->pl[i].g.rings[0];
    for (uint32_t k = 0; k < r->n; k++) {
      double t =
          kql_geo_angle(kql_geo_v3(r->p[k]), kql_geo_v3(r->p[(k + 1) % r->n]));
      if (1 - cos(t / 2) > pad) pad = 1 - cos(t / 2);
    }
    for (int k = 0; k < 6; k++)
      o->pl[i].box[k] += k % 2 ? pad + 1e-9 : -pad - 1e-9;
  }
}

static bool
in_box(const double *b, struct kql_geo_v3 p)
{
  return p.x >= b[0] && p.x <= b[1] && p.y >= b[2] && p.y <= b[3] &&
         p.z >= b[4] && p.z <= b[5];
}

/* Whether p lies inside a polygon of another owner (union) or of the
 * other side (intersection). */
static bool
inside_other(struct ov *o, struct kql_geo_v3 p, int owner)
{
  for (uint32_t i = 0; i < o->npl; i++) {
    if (o->pl[i].owner == owner || !in_box(o->pl[i].box, p)) continue;
    if (kql_geo_poly_contains(&o->pl[i].g, p)) return true;
  }
  return false;
}

/* Cut every edge at its split points into pieces. */
static void
make_pieces(struct ov *o)
{
  uint32_t n = 0;
  for (uint32_t i = 0; i < o->ne; i++)
    n += o->e[i].nsp + 1;
  o->pc = kql_zalloc(o->ar, (n + 1) * sizeof *o->pc);
  o->npc = 0;
  for (uint32_t i = 0; i < o->ne; i++) {
    struct ov_edge *e = &o->e[i];
    if (e->nsp > 1) qsort(e->sp, e->nsp, sizeof *e->sp, cmp_split);
    uint32_t from = e->a;
    for (uint32_t k = 0; k <= e->nsp; k++) {
      uint32_t to = k < e->nsp ? e->sp[k].v : e->b;
      if (to == from) continue;
      struct ov_piece *p = &o->pc[o->npc++];
      p->a = from, p->b = to, p->owner = e->owner, p->id = e->id, p->seq = k;
      from = to;
    }
  }
}

static int
cmp_piece_key(const void *p, const void *q)
{
  const struct ov_piece *x = *(struct ov_piece *const *)p;
  const struct ov_piece *y = *(struct ov_piece *const *)q;
  uint32_t xa = x->a < x->b ? x->a : x->b, xb = x->a < x->b ? x->b : x->a;
  uint32_t ya = y->a < y->b ? y->a : y->b, yb = y->a < y->b ? y->b : y->a;
  if (xa != ya) return xa < ya ? -1 : 1;
  if (xb != yb) return xb < yb ? -1 : 1;
  if (x->id != y->id) return x->id < y->id ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A growing list of border segments (intersections that only touch). */
struct seg {
  uint32_t a, b;
};
struct seglist {
  struct seg *s;
  uint32_t n, cap;
};

static bool
same_ends(const struct ov_piece *x, const struct ov_piece *y)
{
  return (x->a == y->a && x->b == y->b) || (x->a == y->b && x->b == y->a);
}

/* Decide which pieces stay. */
static void
select_pieces(struct ov *o, struct seglist *border)
{
  struct ov_piece **ord = kql_alloc(o->ar, (o->npc + 1) * sizeof *ord);
  for (uint32_t i = 0; i < o->npc; i++)
    ord[i] = &o->pc[i];
  qsort(ord, o->npc, sizeof *ord, cmp_piece_key);
  for (uint32_t i = 0; i < o->npc;) {
    uint32_t j = i + 1;
    while (j < o->npc && same_ends(ord[i], ord[j]))
      j++;
    bool others = false, opposite = false;
    for (uint32_t k = i + 1; k < j; k++)
      if (ord[k]->owner != ord[i]->owner) {
        others = true;
        if (ord[k]->a != ord[i]->a) opposite = true;
      }
    if (others) {
      /* A shared border: once if it runs one way, never if both. */
      ord[i]->keep = !opposite;
      if (opposite && o->intersect) {
        border->s =
            grow(o->ar, border->s, border->n, &border->cap, sizeof *border->s);
        border->s[border->n].a = ord[i]->a;
        border->s[border->n++].b = ord[i]->b;
      }
    } else {
      struct ov_piece *p = ord[i];
      struct kql_geo_v3 m =
          kql_geo_norm(kql_geo_add(o->v[p->a].p, o->v[p->b].p));
      bool in = inside_other(o, m, p->owner);
      for (uint32_t k = i; k < j; k++)
        ord[k]->keep = o->intersect ? in : !in;
      /* Repeats within one owner are kept once. */
      for (uint32_t k = i + 1; k < j; k++)
        ord[k]->keep = false;
    }
    i = j;
  }
}

/* Signed turn at v from arriving along (u, v) to leaving along (v, w):
 * positive to the left. */
static double
turn(struct ov *o, uint32_t u, uint32_t v, uint32_t w)
{
  struct kql_geo_v3 pv = o->v[v].p;
  struct kql_geo_v3 din =
      kql_geo_norm(kql_geo_cross(kql_geo_cross(o->v[u].p, pv), pv));
  struct kql_geo_v3 dout =
      kql_geo_norm(kql_geo_cross(kql_geo_cross(pv, o->v[w].p), pv));
  double t =
      atan2(kql_geo_dot(kql_geo_cross(din, dout), pv), kql_geo_dot(din, dout));
  /* Going back the way we came is the last resort. */
  if (t > 3.14159265 || t < -3.14159265) t = -4;
  return t;
}

static int
cmp_piece_order(const void *p, const void *q)
{
  const struct ov_piece *x = *(struct ov_piece *const *)p;
  const struct ov_piece *y = *(struct ov_piece *const *)q;
  if (x->id != y->id) return x->id < y->id ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct ov_loop {
  struct kql_geo_line l;
  uint32_t key_id, key_seq;
  bool shell;
  double area;
  int parent;
};

/* Link kept pieces into loops. */
static uint32_t
trace(struct ov *o, struct ov_loop **loops)
{
  uint32_t *cnt = kql_zalloc(o->ar, (o->nv + 1) * sizeof *cnt);
  uint32_t nk = 0;
  for (uint32_t i = 0; i < o->npc; i++)
    if (o->pc[i].keep) {
      cnt[o->pc[i].a + 1]++;
      nk++;
    }
  for (uint32_t v = 0; v < o->nv; v++)
    cnt[v + 1] += cnt[v];
  uint32_t *out = kql_alloc(o->ar, (nk + 1) * sizeof *out);
  uint32_t *fill = kql_zalloc(o->ar, (o->nv + 1) * sizeof *fill);
  struct ov_piece **ord = kql_alloc(o->ar, (nk + 1) * sizeof *ord);
  uint32_t m = 0;
  for (uint32_t i = 0; i < o->npc; i++)
    if (o->pc[i].keep) {
      out[cnt[o->pc[i].a] + fill[o->pc[i].a]++] = i;
      ord[m++] = &o->pc[i];
    }
  qsort(ord, m, sizeof *ord, cmp_piece_order);
  struct ov_loop *lp = NULL;
  uint32_t nl = 0, capl = 0;
  uint32_t *path = kql_alloc(o->ar, (nk + 1) * sizeof *path);
  for (uint32_t s = 0; s < m; s++) {
    uint32_t first = (uint32_t)(ord[s] - o->pc);
    if (o->pc[first].used) continue;
    uint32_t np = 0, cur = first;
    bool closed = false;
    for (;;) {
      o->pc[cur].used = true;
      path[np++] = cur;
      uint32_t v = o->pc[cur].b, best = UINT32_MAX;
      double bt = -10;
      for (uint32_t k = cnt[v]; k < cnt[v + 1]; k++) {
        uint32_t c = out[k];
        if (o->pc[c].used && c != first) continue;
        double t = turn(o, o->pc[cur].a, v, o->pc[c].b);
        if (t > bt) {
          bt = t;
          best = c;
        }
      }
      if (best == UINT32_MAX) break;
      if (best == first) {
        closed = true;
        break;
      }
      cur = best;
    }
    if (!closed || np < 3) continue;
    /* Start with the piece of the earliest input edge. */
    uint32_t at = 0;
    for (uint32_t k = 1; k < np; k++)
      if (cmp_piece_order(&(struct ov_piece *){&o->pc[path[k]]},
                          &(struct ov_piece *){&o->pc[path[at]]}) < 0)
        at = k;
    lp = grow(o->ar, lp, nl, &capl, sizeof *lp);
    struct ov_loop *L = &lp[nl++];
    L->l.n = np;
    L->l.p = kql_alloc(o->ar, np * sizeof *L->l.p);
    for (uint32_t k = 0; k < np; k++)
      L->l.p[k] = o->v[o->pc[path[(at + k) % np]].a].ll;
    L->key_id = o->pc[path[at]].id;
    L->key_seq = o->pc[path[at]].seq;
    L->shell = kql_geo_ring_ccw(&L->l);
    L->area = kql_geo_ring_area(&L->l);
    L->parent = -1;
  }
  *loops = lp;
  return nl;
}

/* A point just left of the loop's first edge: inside what the loop
 * bounds on its left. */
static struct kql_geo_v3
left_of_first(const struct kql_geo_line *l)
{
  struct kql_geo_v3 a = kql_geo_v3(l->p[0]), b = kql_geo_v3(l->p[1 % l->n]);
  struct kql_geo_v3 m = kql_geo_norm(kql_geo_add(a, b));
  struct kql_geo_v3 nrm = kql_geo_norm(kql_geo_cross(a, b));
  return kql_geo_norm(kql_geo_add(m, kql_geo_scale(nrm, 1e-9)));
}

static void
assemble(struct ov *o, struct ov_loop *lp, uint32_t nl,
         struct kql_geo_shape *out)
{
  uint32_t nshell = 0;
  for (uint32_t i = 0; i < nl; i++)
    nshell += lp[i].shell;
  out->polys = kql_zalloc(o->ar, (nshell + 1) * sizeof *out->polys);
  out->npolys = 0;
  int *slot = kql_alloc(o->ar, (nl + 1) * sizeof *slot);
  uint32_t *nholes = kql_zalloc(o->ar, (nl + 1) * sizeof *nholes);
  for (uint32_t i = 0; i < nl; i++) {
    if (lp[i].shell) continue;
    struct kql_geo_v3 p = left_of_first(&lp[i].l);
    double best = INFINITY;
    for (uint32_t k = 0; k < nl; k++)
      if (lp[k].shell && lp[k].area < best &&
          kql_geo_ring_contains(&lp[k].l, p)) {
        best = lp[k].area;
        lp[i].parent = (int)k;
      }
    if (lp[i].parent >= 0) nholes[lp[i].parent]++;
  }
  for (uint32_t i = 0; i < nl; i++) {
    slot[i] = -1;
    if (!lp[i].shell) continue;
    struct kql_geo_poly *g = &out->polys[out->npolys];
    slot[i] = (int)out->npolys++;
    g->rings = kql_alloc(o->ar, (nholes[i] + 1) * sizeof *g->rings);
    g->rings[0] = lp[i].l;
    g->nrings = 1;
  }
  for (uint32_t i = 0; i < nl; i++)
    if (!lp[i].shell && lp[i].parent >= 0) {
      struct kql_geo_poly *g = &out->polys[slot[lp[i].parent]];
      g->rings[g->nrings++] = lp[i].l;
    }
}

static void
find_meetings(struct ov *o)
{
  for (uint32_t i = 0; i < o->ne; i++)
    edge_box(o, &o->e[i]);
  /* Sweep along x: only edges whose boxes overlap are compared. */
  struct ov_edge *sorted = kql_alloc(o->ar, (o->ne + 1) * sizeof *sorted);
  memcpy(sorted, o->e, o->ne * sizeof *sorted);
  qsort(sorted, o->ne, sizeof *sorted, cmp_edge_box);
  uint32_t *idx = kql_alloc(o->ar, (o->ne + 1) * sizeof *idx);
  for (uint32_t i = 0; i < o->ne; i++)
    idx[i] = sorted[i].id;
  for (uint32_t i = 0; i < o->ne; i++) {
    struct ov_edge *x = &o->e[idx[i]];
    for (uint32_t j = i + 1; j < o->ne; j++) {
      struct ov_edge *y = &o->e[idx[j]];
      if (y->box[0] > x->box[1]) break;
      if (!boxes_meet(x->box, y->box)) continue;
      meet(o, x, y);
    }
  }
}

static void
ov_init(struct ov *o, struct kql_arena *a, bool intersect)
{
  memset(o, 0, sizeof *o);
  o->ar = a;
  o->intersect = intersect;
}

static uint32_t *
vtx_hash(struct kql_arena *a, uint32_t nverts, uint32_t *cap)
{
  *cap = nverts * 2 + 17;
  uint32_t *h = kql_alloc(a, *cap * sizeof *h);
  memset(h, 0xff, *cap * sizeof *h);
  return h;
}

static uint32_t
count_verts(const struct kql_geo_shape *s)
{
  uint32_t n = 0;
  for (uint32_t i = 0; i < s->npolys; i++)
    for (uint32_t r = 0; r < s->polys[i].nrings; r++)
      n += s->polys[i].rings[r].n;
  return n;
}

bool
kql_geo_union(struct kql_arena *a, const struct kql_geo_shape *in, uint32_t n,
              struct kql_geo_shape *out)
{
  struct ov o;
  ov_init(&o, a, false);
  uint32_t nv = 0;
  for (uint32_t i = 0; i < n; i++)
    nv += count_verts(&in[i]);
  uint32_t hcap, *hash = vtx_hash(a, nv, &hcap);
  int owner = 0;
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t k = 0; k < in[i].npolys; k++)
      add_poly(&o, &in[i].polys[k], owner++, hash, hcap);
  pad_poly_boxes(&o);
  find_meetings(&o);
  make_pieces(&o);
  struct seglist border = {0};
  select_pieces(&o, &border);
  struct ov_loop *lp;
  uint32_t nl = trace(&o, &lp);
  memset(out, 0, sizeof *out);
  assemble(&o, lp, nl, out);
  out->kind = out->npolys == 1 ? KQL_GEO_POLYGON : KQL_GEO_NONE;
  if (out->npolys > 1) out->kind = KQL_GEO_MPOLYGON;
  return true;
}

/* Whether vertex v is on a loop or a border segment of the result. */
static bool
used_vertex(struct ov *o, uint32_t v, const struct seglist *border)
{
  for (uint32_t i = 0; i < o->npc; i++)
    if (o->pc[i].keep && o->pc[i].used && (o->pc[i].a == v || o->pc[i].b == v))
      return true;
  for (uint32_t i = 0; i < border->n; i++)
    if (border->s[i].a == v || border->s[i].b == v) return true;
  return false;
}

bool
kql_geo_intersect(struct kql_arena *a, const struct kql_geo_shape *x,
                  const struct kql_geo_shape *y, struct kql_geo_shape *out)
{
  struct ov o;
  ov_init(&o, a, true);
  uint32_t hcap, *hash = vtx_hash(a, count_verts(x) + count_verts(y), &hcap);
  for (uint32_t k = 0; k < x->npolys; k++)
    add_poly(&o, &x->polys[k], 0, hash, hcap);
  for (uint32_t k = 0; k < y->npolys; k++)
    add_poly(&o, &y->polys[k], 1, hash, hcap);
  pad_poly_boxes(&o);
  find_meetings(&o);
  make_pieces(&o);
  struct seglist border = {0};
  select_pieces(&o, &border);
  struct ov_loop *lp;
  uint32_t nl = trace(&o, &lp);
  memset(out, 0, sizeof *out);
  assemble(&o, lp, nl, out);
  /* Borders the two share, as lines. */
  if (border.n) {
    out->lines = kql_alloc(a, border.n * sizeof *out->lines);
    for (uint32_t i = 0; i < border.n; i++) {
      struct kql_geo_line *l = &out->lines[out->nlines++];
      l->n = 2;
      l->p = kql_alloc(a, 2 * sizeof *l->p);
      l->p[0] = o.v[border.s[i].a].ll;
      l->p[1] = o.v[border.s[i].b].ll;
    }
  }
  /* Points where they only touch. */
  for (uint32_t i = 0; i < o.ncontact; i++) {
    uint32_t v = o.contact[i];
    if (used_vertex(&o, v, &border) || kql_geo_polys_contain(out, o.v[v].p))
      continue;
    if (!out->pts) out->pts = kql_alloc(a, o.ncontact * sizeof *out->pts);
    out->pts[out->npts++] = o.v[v].ll;
  }
  out->kind = KQL_GEO_NONE;
  return true;
}
