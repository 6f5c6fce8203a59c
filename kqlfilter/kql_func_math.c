/*
 * kql_func_math.c - statistical functions and unit conversions.
 *
 * erf/erfc come from the C library. beta_cdf is the regularized
 * incomplete beta function, evaluated with its continued fraction
 * (modified Lentz method); beta_inv inverts it by bisection, which is
 * slow but sure. Invalid shape parameters give NaN, a probability out of
 * [0, 1] gives NaN for beta_cdf and null for beta_inv, as Kusto
 * documents. Unit conversions scale through one base unit per kind
 * (degrees, joules); the names are Kusto's (exact, case-sensitive).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_func.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------ erf */

static void
f_erf(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
      struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  double x;
  *out = kql_fn_real(&a[0], &x) ? kql_v_real(erf(x)) : kql_v_null(KQL_T_REAL);
}

static void
f_erfc(struct kql_ctx *c, struct kql_node *n, struct kql_val *a, uint32_t na,
       struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  double x;
  *out = kql_fn_real(&a[0], &x) ? kql_v_real(erfc(x)) : kql_v_null(KQL_T_REAL);
}

/* ------------------------------------------------------------ beta */

/* The continued fraction of I_x(a, b), good for x < (a + 1)/(a + b + 2). */
static double
beta_cf(double a, double b, double x)
{
  const double tiny = 1e-300;
  double qab = a + b, qap = a + 1, qam = a - 1;
  double cc = 1, d = 1 - qab * x / qap;
  if (fabs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 1000; m++) {
    int m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (fabs(d) < tiny) d = tiny;
    cc = 1 + aa / cc;
    if (fabs(cc) < tiny) cc = tiny;
    d = 1 / d;
    h *= d * cc;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (fabs(d) < tiny) d = tiny;
    cc = 1 + aa / cc;
    if (fabs(cc) < tiny) cc = tiny;
    d = 1 / d;
    double del = d * cc;
    h *= del;
    if (fabs(del - 1) < 1e-16) break;
  }
  return h;
}

/* Regularized incomplete beta I_x(a, b), for 0 <= x <= 1, a, b > 0. */
static double
ibeta(double x, double a, double b)
{
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  double lbt =
      lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
  double bt = exp(lbt);
  if (x < (a + 1) / (a + b + 2)) return bt * beta_cf(a, b, x) / a;
  return 1 - bt * beta_cf(b, a, 1 - x) / b;
}

/* The three arguments as reals; false (null result) if one is not. */
static bool
three(struct kql_val *a, double *x, double *al, double *be)
{
  return kql_fn_real(&a[0], x) && kql_fn_real(&a[1], al) &&
         kql_fn_real(&a[2], be);
}

static void
f_beta_cdf(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
           uint32_t na, struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  double x, al, be;
  if (!three(a, &x, &al, &be)) {
    *out = kql_v_null(KQL_T_REAL);
    return;
  }
  if (x < 0 || x > 1 || !(al > 0) || !(be > 0)) {
    *out = kql_v_real(NAN);
    return;
  }
  *out = kql_v_real(ibeta(x, al, be));
}

static void
f_beta_pdf(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
           uint32_t na, struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  double x, al, be;
  if (!three(a, &x, &al, &be)) {
    *out = kql_v_null(KQL_T_REAL);
    return;
  }
  if (x < 0 || x > 1 || !(al > 0) || !(be > 0)) {
    *out = kql_v_real(NAN);
    return;
  }
  double lp = (al - 1) * log(x) + (be - 1) * log1p(-x) + lgamma(al + be) -
              lgamma(al) - lgamma(be);
  *out = kql_v_real(exp(lp));
}

static void
f_beta_inv(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
           uint32_t na, struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  double p, al, be;
  if (!three(a, &p, &al, &be) || p < 0 || p > 1) {
    *out = kql_v_null(KQL_T_REAL);
    return;
  }
  if (!(al > 0) || !(be > 0)) {
    *out = kql_v_real(NAN);
    return;
  }
  double lo = 0, hi = 1;
  for (int i = 0; i < 200 && hi - lo > 1e-17; i++) {
    double mid = (lo + hi) / 2;
    if (ibeta(mid, al, be) < p)
      lo = mid;
    else
      hi = mid;
  }
  *out = kql_v_real((lo + hi) / 2);
}

/* ------------------------------------------------------------ units */

struct unit {
  const char *name;
  double base; /* the unit in base units */
};

#define DEG_PER_RAD (180.0 / 3.14159265358979323846)

/* Degrees. Tilt is not linear: it is handled by name. */
static const struct unit angles[] = {{"Arcminute", 1.0 / 60},
                                     {"Arcsecond", 1.0 / 3600},
                                     {"Centiradian", 1e-2 * DEG_PER_RAD},
                                     {"Deciradian", 1e-1 * DEG_PER_RAD},
                                     {"Degree", 1},
                                     {"Gradian", 0.9},
                                     {"Microdegree", 1e-6},
                                     {"Microradian", 1e-6 * DEG_PER_RAD},
                                     {"Millidegree", 1e-3},
                                     {"Milliradian", 1e-3 * DEG_PER_RAD},
                                     {"Nanodegree", 1e-9},
                                     {"Nanoradian", 1e-9 * DEG_PER_RAD},
                                     {"NatoMil", 360.0 / 6400},
                                     {"Radian", DEG_PER_RAD},
                                     {"Revolution", 360},
                                     {"Tilt", 0},
                                     {NULL, 0}};

#define BTU 1055.05585262
#define EV 1.602176634e-19
#define THERM_EC 105505585.262
#define THERM_IMP 105505585.257348
#define THERM_US 105480400.0

/* Joules. */
static const struct unit energies[] = {{"BritishThermalUnit", BTU},
                                       {"Calorie", 4.184},
                                       {"DecathermEc", 10 * THERM_EC},
                                       {"DecathermImperial", 10 * THERM_IMP},
                                       {"DecathermUs", 10 * THERM_US},
                                       {"ElectronVolt", EV},
                                       {"Erg", 1e-7},
                                       {"FootPound", 1.355817948331400},
                                       {"GigabritishThermalUnit", 1e9 * BTU},
                                       {"GigaelectronVolt", 1e9 * EV},
                                       {"Gigajoule", 1e9},
                                       {"GigawattDay", 86400e9},
                                       {"GigawattHour", 3600e9},
                                       {"HorsepowerHour", 2684519.537696172792},
                                       {"Joule", 1},
                                       {"KilobritishThermalUnit", 1e3 * BTU},
                                       {"Kilocalorie", 4184},
                                       {"KiloelectronVolt", 1e3 * EV},
                                       {"Kilojoule", 1e3},
                                       {"KilowattDay", 86400e3},
                                       {"KilowattHour", 3600e3},
                                       {"MegabritishThermalUnit", 1e6 * BTU},
                                       {"Megacalorie", 4.184e6},
                                       {"MegaelectronVolt", 1e6 * EV},
                                       {"Megajoule", 1e6},
                                       {"MegawattDay", 86400e6},
                                       {"MegawattHour", 3600e6},
                                       {"Millijoule", 1e-3},
                                       {"TeraelectronVolt", 1e12 * EV},
                                       {"TerawattDay", 86400e12},
                                       {"TerawattHour", 3600e12},
                                       {"ThermEc", THERM_EC},
                                       {"ThermImperial", THERM_IMP},
                                       {"ThermUs", THERM_US},
                                       {"WattDay", 86400},
                                       {"WattHour", 3600},
                                       {NULL, 0}};

static const struct unit *
find_unit(const struct unit *t, const struct kql_val *v)
{
  if (v->null || v->t != KQL_T_STRING) return NULL;
  for (; t->name; t++)
    if (strlen(t->name) == v->n && !memcmp(t->name, v->u.s, v->n)) return t;
  return NULL;
}

static void
convert(struct kql_val *a, struct kql_val *out, const struct unit *t)
{
  double x;
  const struct unit *from = find_unit(t, &a[1]), *to = find_unit(t, &a[2]);
  if (!kql_fn_real(&a[0], &x) || !from || !to) {
    *out = kql_v_null(KQL_T_REAL);
    return;
  }
  bool tilt = t == angles;
  double base = tilt && !strcmp(from->name, "Tilt") ? asin(x) * DEG_PER_RAD
                                                    : x * from->base;
  double r = tilt && !strcmp(to->name, "Tilt") ? sin(base / DEG_PER_RAD)
                                               : base / to->base;
  *out = kql_v_real(r);
}

static void
f_convert_angle(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                uint32_t na, struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  convert(a, out, angles);
}

static void
f_convert_energy(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,
                 uint32_t na, struct kql_val *out)
{
  (void)c;
  (void)n;
  (void)na;
  convert(a, out, energies);
}

/* Keep sorted by name. */
const struct kql_fn kql_math_fns[] = {
    {"beta_cdf", 3, 3, KQL_T_REAL, 0, f_beta_cdf},
    {"beta_inv", 3, 3, KQL_T_REAL, 0, f_beta_inv},
    {"beta_pdf", 3, 3, KQL_T_REAL, 0, f_beta_pdf},
    {"convert_angle", 3, 3, KQL_T_REAL, 0, f_convert_angle},
    {"convert_energy", 3, 3, KQL_T_REAL, 0, f_convert_energy},
    {"erf", 1, 1, KQL_T_REAL, 0, f_erf},
    {"erfc", 1, 1, KQL_T_REAL, 0, f_erfc},
};
const size_t kql_math_nfns = sizeof kql_math_fns / sizeof kql_math_fns[0];
