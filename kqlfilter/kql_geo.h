/*
 * kql_geo.h - geometry shared by the geo_* functions (kql_func_geo.c and
 * the kql_geo_*.c helpers).
 *
 * Kusto measures on a sphere of radius 6371010 m (the S2 library's Earth)
 * with WGS-84 longitudes and latitudes; edges are geodesics (great-circle
 * arcs), and a ring encloses the smaller of the two regions it splits
 * the sphere into. Shapes read from GeoJSON live in the row arena; a
 * struct kql_geo_shape never owns memory.
 *
 * Files: kql_geo_math.c (vectors, measures, containment, crossings),
 * kql_geo_json.c (GeoJSON in and out, WKT), kql_geo_clip.c (union and
 * intersection), kql_geo_s2.c (S2 cells), kql_geo_h3.c (H3 cells),
 * kql_geo_hash.c (geohash); kql_op_geolookup.c (the lookup plugins).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KQL_GEO_H
#define KQL_GEO_H

#include "kqlfilter/kql_func.h"

#define KQL_GEO_R 6371010.0 /* Earth radius, meters */
#define KQL_GEO_PI 3.14159265358979323846

struct kql_geo_pt {
  double lng, lat; /* degrees */
};

struct kql_geo_v3 {
  double x, y, z;
};

/* A LineString, or a polygon ring without its closing vertex. */
struct kql_geo_line {
  struct kql_geo_pt *p;
  uint32_t n;
};

/* A polygon: rings[0] the shell, then holes. */
struct kql_geo_poly {
  struct kql_geo_line *rings;
  uint32_t nrings;
};

enum kql_geo_kind {
  KQL_GEO_NONE,
  KQL_GEO_POINT,
  KQL_GEO_LINE,
  KQL_GEO_POLYGON,
  KQL_GEO_MPOINT,
  KQL_GEO_MLINE,
  KQL_GEO_MPOLYGON,
  KQL_GEO_COLLECTION
};

/* Any shape: points, lines and polygons (a collection may hold all). */
struct kql_geo_shape {
  int kind;
  struct kql_geo_pt *pts;
  uint32_t npts;
  struct kql_geo_line *lines;
  uint32_t nlines;
  struct kql_geo_poly *polys;
  uint32_t npolys;
};

/* ------------------------------------------------------------ vectors */

struct kql_geo_v3 kql_geo_v3(struct kql_geo_pt p);
struct kql_geo_pt kql_geo_pt(struct kql_geo_v3 v);
struct kql_geo_v3 kql_geo_cross(struct kql_geo_v3 a, struct kql_geo_v3 b);
double kql_geo_dot(struct kql_geo_v3 a, struct kql_geo_v3 b);
struct kql_geo_v3 kql_geo_norm(struct kql_geo_v3 a);
struct kql_geo_v3 kql_geo_add(struct kql_geo_v3 a, struct kql_geo_v3 b);
struct kql_geo_v3 kql_geo_scale(struct kql_geo_v3 a, double k);
/* kql_geo_angle - the angle between two unit vectors, radians. */
double kql_geo_angle(struct kql_geo_v3 a, struct kql_geo_v3 b);
/* kql_geo_dist - great-circle distance in meters. */
double kql_geo_dist(struct kql_geo_pt a, struct kql_geo_pt b);
/* kql_geo_slerp - the point a fraction f of the way from a to b. */
struct kql_geo_v3 kql_geo_slerp(struct kql_geo_v3 a, struct kql_geo_v3 b,
                                double f);
/* kql_geo_edge_closest - the point of arc [a, b] closest to p. */
struct kql_geo_v3 kql_geo_edge_closest(struct kql_geo_v3 a, struct kql_geo_v3 b,
                                       struct kql_geo_v3 p);
/* kql_geo_edge_cross - whether arcs [a, b] and [c, d] meet; the meeting
 * point in *x (the first one when they overlap). */
bool kql_geo_edge_cross(struct kql_geo_v3 a, struct kql_geo_v3 b,
                        struct kql_geo_v3 c, struct kql_geo_v3 d,
                        struct kql_geo_v3 *x);
bool kql_geo_pt_eq(struct kql_geo_pt a, struct kql_geo_pt b);
bool kql_geo_pt_valid(double lng, double lat);

/* ------------------------------------------------------------ measures */

/* kql_geo_ring_contains - p inside the smaller region of the ring. */
bool kql_geo_ring_contains(const struct kql_geo_line *r, struct kql_geo_v3 p);
bool kql_geo_poly_contains(const struct kql_geo_poly *g, struct kql_geo_v3 p);
bool kql_geo_polys_contain(const struct kql_geo_shape *s, struct kql_geo_v3 p);
/* Areas in steradians (the smaller side of each ring). */
double kql_geo_ring_area(const struct kql_geo_line *r);
double kql_geo_poly_area(const struct kql_geo_poly *g);
/* kql_geo_ring_ccw - the ring runs counterclockwise around its smaller
 * region. */
bool kql_geo_ring_ccw(const struct kql_geo_line *r);
/* kql_geo_line_len - length of a polyline in radians (closed: a ring). */
double kql_geo_line_len(const struct kql_geo_line *l, bool closed);
/* kql_geo_line_centroid_acc - add the polyline's length-weighted
 * centroid integral to *acc. */
void kql_geo_line_centroid_acc(const struct kql_geo_line *l, bool closed,
                               struct kql_geo_v3 *acc);
/* kql_geo_ring_centroid_acc - add the ring's area-weighted centroid
 * integral (signed by the ring's orientation around its region). */
void kql_geo_ring_centroid_acc(const struct kql_geo_line *r,
                               struct kql_geo_v3 *acc);
/* kql_geo_closest - the point of the polyline closest to p, its
 * distance in radians, and the edge it lies on. */
double kql_geo_closest(const struct kql_geo_line *l, bool closed,
                       struct kql_geo_v3 p, struct kql_geo_v3 *best,
                       uint32_t *edge);

/* ------------------------------------------------------------ GeoJSON */

#define KQL_GEO_WANT_POINT 1
#define KQL_GEO_WANT_LINE 2
#define KQL_GEO_WANT_POLY 4

/* kql_geo_read - read a GeoJSON value of one of the wanted families
 * (Point/MultiPoint, LineString/MultiLineString, Polygon/MultiPolygon);
 * false when it is not one or is invalid (coordinates out of range, a
 * line with fewer than two points, a ring not closed or with fewer than
 * three distinct vertices). */
bool kql_geo_read(struct kql_arena *a, const struct kql_val *v, int want,
                  struct kql_geo_shape *out);
/* kql_geo_num - a coordinate value as a dynamic number: whole numbers
 * as longs so that they print as Kusto prints them. */
struct kql_val kql_geo_num(double r);
struct kql_val kql_geo_mk_point(struct kql_arena *a, struct kql_geo_pt p);
/* kql_geo_mk_coords - the coordinates array of a line; closed: of a ring,
 * its closing vertex added. */
struct kql_val kql_geo_mk_coords(struct kql_arena *a,
                                 const struct kql_geo_line *l, bool closed);
struct kql_val kql_geo_mk_poly_coords(struct kql_arena *a,
                                      const struct kql_geo_poly *g);
/* kql_geo_mk_shape - GeoJSON of a shape: its own kind, or for
 * KQL_GEO_NONE the simplest kind that holds what it has (a collection
 * when it mixes families, an empty collection when it has nothing). */
struct kql_val kql_geo_mk_shape(struct kql_arena *a,
                                const struct kql_geo_shape *s);
struct kql_val kql_geo_mk_bag(struct kql_arena *a, const char *type,
                              const char *key, struct kql_val v);
struct kql_val kql_geo_mk_array(struct kql_arena *a, uint32_t n);
/* kql_geo_from_wkt - parse WKT text into GeoJSON; false when invalid. */
bool kql_geo_from_wkt(struct kql_arena *a, const char *s, size_t n,
                      struct kql_val *out);

/* ------------------------------------------------------------ overlay */

/* kql_geo_union - the union of all polygons of the shapes, as polygons
 * (rings counterclockwise, holes clockwise). false when it fails. */
bool kql_geo_union(struct kql_arena *a, const struct kql_geo_shape *in,
                   uint32_t n, struct kql_geo_shape *out);
/* kql_geo_intersect - the intersection of two polygonal shapes: polygons,
 * plus lines and points where they only touch. */
bool kql_geo_intersect(struct kql_arena *a, const struct kql_geo_shape *x,
                       const struct kql_geo_shape *y,
                       struct kql_geo_shape *out);

/* ------------------------------------------------------------ lookups */

/* kql_op_geolookup - evaluate geo_polygon_lookup (lines false) or
 * geo_line_lookup: the location in slots lng_slot and lat_slot against
 * the shapes in column key_col of t; a match writes t's columns into
 * rslots (-1: not written). radius in meters, < 0 for none (polygons
 * only). The operator does not own t or rslots. */
struct kql_op *kql_op_geolookup(struct kql_query *q, struct kql_table *t,
                                int lng_slot, int lat_slot, uint32_t key_col,
                                int *rslots, double radius, bool keep_unmatched,
                                bool lines);

/* ------------------------------------------------------------ families */

KQL_FN(kql_f_geo_geohash_neighbors);
KQL_FN(kql_f_geo_geohash_to_central_point);
KQL_FN(kql_f_geo_geohash_to_polygon);
KQL_FN(kql_f_geo_point_to_geohash);

KQL_FN(kql_f_geo_point_to_s2cell);
KQL_FN(kql_f_geo_polygon_to_s2cells);
KQL_FN(kql_f_geo_line_to_s2cells);
KQL_FN(kql_f_geo_s2cell_neighbors);
KQL_FN(kql_f_geo_s2cell_to_central_point);
KQL_FN(kql_f_geo_s2cell_to_polygon);

KQL_FN(kql_f_geo_h3cell_children);
KQL_FN(kql_f_geo_h3cell_level);
KQL_FN(kql_f_geo_h3cell_neighbors);
KQL_FN(kql_f_geo_h3cell_parent);
KQL_FN(kql_f_geo_h3cell_rings);
KQL_FN(kql_f_geo_h3cell_to_central_point);
KQL_FN(kql_f_geo_h3cell_to_polygon);
KQL_FN(kql_f_geo_point_to_h3cell);
KQL_FN(kql_f_geo_polygon_to_h3cells);

#endif
