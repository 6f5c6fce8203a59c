/*
 * kql_func_time.c - datetime and timespan functions.
 *
 * Datetimes are ticks (100 ns) since 0001-01-01, a Monday; weeks start
 * on Sunday as in Kusto's startofweek/dayofweek. A string argument that
 * reads as a datetime is accepted where a datetime is expected (event
 * timestamps arrive as ISO-8601 text).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_func.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define HOUR (3600 * KQL_TICKS_PER_SEC)
#define MINUTE (60 * KQL_TICKS_PER_SEC)

static bool
get_dt(const struct kql_val *v, int64_t *t)
{
  if (v->null) return false;
  if (v->t == KQL_T_DATETIME) {
    *t = v->u.i;
    return true;
  }
  if (v->t == KQL_T_STRING) return kql_parse_datetime(v->u.s, v->n, t);
  return false;
}

static bool
get_ts(const struct kql_val *v, int64_t *t)
{
  if (v->null) return false;
  if (v->t == KQL_T_TIMESPAN) {
    *t = v->u.i;
    return true;
  }
  if (v->t == KQL_T_STRING) return kql_parse_timespan(v->u.s, v->n, t);
  return false;
}

static struct kql_val
dt_or_null(int64_t t)
{
  if (t < 0 || t > KQL_MAX_TICKS) return kql_v_null(KQL_T_DATETIME);
  return kql_v_time(KQL_T_DATETIME, t);
}

static int64_t
ticks_of(int64_t y, int m, int d)
{
  return (kql_days_from_civil(y, (unsigned)m, (unsigned)d)) *
             KQL_TICKS_PER_DAY +
         KQL_UNIX_EPOCH;
}

static bool
leap(int y)
{
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int
mdays(int y, int m)
{
  static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Add months keeping the day (clamped to the month's length). */
static int64_t
add_months(int64_t t, int64_t months, bool *ok)
{
  int y, m, d;
  kql_civil(t, &y, &m, &d);
  int64_t tod = t % KQL_TICKS_PER_DAY;
  int64_t mm = (int64_t)y * 12 + (m - 1) + months;
  int64_t ny = mm / 12;
  int nm = (int)(mm % 12) + 1;
  if (ny < 1 || ny > 9999) {
    *ok = false;
    return 0;
  }
  *ok = true;
  int nd = d > mdays((int)ny, nm) ? mdays((int)ny, nm) : d;
  return ticks_of(ny, nm, nd) + tod;
}

KQL_FN(kql_f_now)
{
  (void)n;
  int64_t off = 0;
  if (na > 0 && !get_ts(&a[0], &off)) {
    *out = kql_v_null(KQL_T_DATETIME);
    return;
  }
  *out = dt_or_null(c->q->run->now + off);
}

KQL_FN(kql_f_ago)
{
  (void)n;
  (void)na;
  int64_t off;
  if (!get_ts(&a[0], &off)) {
    *out = kql_v_null(KQL_T_DATETIME);
    return;
  }
  *out = dt_or_null(c->q->run->now - off);
}

KQL_FN(kql_f_bin_at)
{
  (void)c;
  (void)n;
  (void)na;
  struct kql_val v = a[0], sz = a[1], at = a[2];
  if (v.null || sz.null || at.null) {
    *out = kql_v_null(v.t);
    return;
  }
  int64_t t, s, o;
  if (get_dt(&v, &t) && get_ts(&sz, &s) && get_dt(&at, &o)) {
    if (s <= 0) {
      *out = kql_v_null(KQL_T_DATETIME);
      return;
    }
    int64_t d = t - o;
    int64_t r = d % s;
    if (r < 0) r += s;
    *out = dt_or_null(t - r);
    return;
  }
  if (v.t == KQL_T_TIMESPAN && get_ts(&sz, &s) && get_ts(&at, &o) && s > 0) {
    int64_t d = v.u.i - o;
    int64_t r = d % s;
    if (r < 0) r += s;
    *out = kql_v_time(KQL_T_TIMESPAN, v.u.i - r);
    return;
  }
  double x, b, ofs;
  if (kql_get_real(&v, &x) && kql_get_real(&sz, &b) &&
      kql_get_real(&at, &ofs) && b > 0) {
    double r = floor((x - ofs) / b) * b + ofs;
    if ((v.t == KQL_T_LONG || v.t == KQL_T_INT) && r == floor(r))
      *out = kql_v_long((int64_t)r);
    else
      *out = kql_v_real(r);
    return;
  }
  *out = kql_v_null(v.t);
}

static int64_t
start_of(int64_t t, char unit, int64_t off, bool *ok)
{
  int y, m, d;
  *ok = true;
  switch (unit) {
  case 'd':
    return t - t % KQL_TICKS_PER_DAY + off * KQL_TICKS_PER_DAY;
  case 'w': {
    int64_t days = t / KQL_TICKS_PER_DAY;
    int64_t dow = (days + 1) % 7; /* 0001-01-01 is a Monday */
    return (days - dow + off * 7) * KQL_TICKS_PER_DAY;
  }
  case 'm':
    kql_civil(t, &y, &m, &d);
    return add_months(ticks_of(y, m, 1), off, ok);
  default:
    kql_civil(t, &y, &m, &d);
    if (y + off < 1 || y + off > 9999) {
      *ok = false;
      return 0;
    }
    return ticks_of(y + off, 1, 1);
  }
}

static void
startend(struct kql_val *a, uint32_t na, struct kql_val *out, char unit,
         bool end)
{
  int64_t t, off = 0;
  if (!get_dt(&a[0], &t) || (na > 1 && !kql_fn_long(&a[1], &off))) {
    *out = kql_v_null(KQL_T_DATETIME);
    return;
  }
  bool ok;
  int64_t s = start_of(t, unit, end ? off + 1 : off, &ok);
  if (!ok) {
    *out = kql_v_null(KQL_T_DATETIME);
    return;
  }
  *out = dt_or_null(end ? s - 1 : s);
}

#define STARTEND(fname, unit, end)                                             \
  KQL_FN(fname)                                                                \
  {                                                                            \
    (void)c;                                                                   \
    (void)n;                                                                   \
    startend(a, na, out, unit, end);                                           \
  }
STARTEND(kql_f_startofday, 'd', false)
STARTEND(kql_f_startofweek, 'w', false)
STARTEND(kql_f_startofmonth, 'm', false)
STARTEND(kql_f_startofyear, 'y', false)
STARTEND(kql_f_endofday, 'd', true)
STARTEND(kql_f_endofweek, 'w', true)
STARTEND(kql_f_endofmonth, 'm', true)
STARTEND(kql_f_endofyear, 'y', true)

KQL_FN(kql_f_dayofweek)
{
  (void)c;
  (void)n;
  (void)na;
  int64_t t;
  if (!get_dt(&a[0], &t)) {
    *out = kql_v_null(KQL_T_TIMESPAN);
    return;
  }
  int64_t dow = (t / KQL_TICKS_PER_DAY + 1) % 7;
  *out = kql_v_time(KQL_T_TIMESPAN, dow * KQL_TICKS_PER_DAY);
}

static int
iso_week(int64_t t)
{
  int y, m, d;
  kql_civil(t, &y, &m, &d);
  int64_t days = t / KQL_TICKS_PER_DAY;
  int wd = (int)(days % 7) + 1; /* Monday = 1 */
  int64_t yday = days - (ticks_of(y, 1, 1) / KQL_TICKS_PER_DAY) + 1;
  int w = (int)((yday - wd + 10) / 7);
  if (w < 1) {
    int py = y - 1;
    int64_t pdays = ticks_of(py, 12, 31);
    return iso_week(pdays);
  }
  int ylen = leap(y) ? 366 : 365;
  if (w == 53 && (ylen - yday) < (4 - wd + 7) % 7 + 0 && wd < 4) return 1;
  if (w == 53) {
    /* week 53 only when Dec 31 is Thursday, or Friday in a leap year */
    int64_t dec31 = ticks_of(y, 12, 31) / KQL_TICKS_PER_DAY;
    int dw = (int)(dec31 % 7) + 1;
    if (!(dw == 4 || (dw == 5 && leap(y)))) return 1;
  }
  return w;
}

static bool
part_value(const char *p, size_t pn, int64_t t, int64_t *out)
{
  int y, m, d;
  kql_civil(t, &y, &m, &d);
  int64_t tod = t % KQL_TICKS_PER_DAY;
  char b[32];
  if (pn >= sizeof b) return false;
  for (size_t i = 0; i < pn; i++)
    b[i] = (char)tolower((unsigned char)p[i]);
  b[pn] = 0;
  if (!strcmp(b, "year"))
    *out = y;
  else if (!strcmp(b, "quarter"))
    *out = (m - 1) / 3 + 1;
  else if (!strcmp(b, "month"))
    *out = m;
  else if (!strcmp(b, "week_of_year") || !strcmp(b, "weekofyear") ||
           !strcmp(b, "week"))
    *out = iso_week(t);
  else if (!strcmp(b, "day"))
    *out = d;
  else if (!strcmp(b, "dayofyear"))
    *out = t / KQL_TICKS_PER_DAY - ticks_of(y, 1, 1) / KQL_TICKS_PER_DAY + 1;
  else if (!strcmp(b, "hour"))
    *out = tod / HOUR;
  else if (!strcmp(b, "minute"))
    *out = tod / MINUTE % 60;
  else if (!strcmp(b, "second"))
    *out = tod / KQL_TICKS_PER_SEC % 60;
  else if (!strcmp(b, "millisecond"))
    *out = tod % KQL_TICKS_PER_SEC / 10000;
  else if (!strcmp(b, "microsecond"))
    *out = tod % KQL_TICKS_PER_SEC / 10;
  else if (!strcmp(b, "nanosecond"))
    *out = tod % KQL_TICKS_PER_SEC * 100;
  else
    return false;
  return true;
}

KQL_FN(kql_f_datetime_part)
{
  (void)n;
  (void)na;
  int64_t t, v;
  struct kql_val p = kql_fn_str(c, &a[0]);
  if (!get_dt(&a[1], &t) || !part_value(p.u.s, p.n, t, &v)) {
    *out = kql_v_null(KQL_T_INT);
    return;
  }
  *out = kql_v_int(v);
}

static void
part_simple(struct kql_val *a, struct kql_val *out, const char *part,
            bool isint)
{
  int64_t t, v;
  if (!get_dt(&a[0], &t) || !part_value(part, strlen(part), t, &v)) {
    *out = kql_v_null(isint ? KQL_T_INT : KQL_T_LONG);
    return;
  }
  *out = isint ? kql_v_int(v) : kql_v_long(v);
}

#define PART(fname, part)                                                      \
  KQL_FN(fname)                                                                \
  {                                                                            \
    (void)c;                                                                   \
    (void)n;                                                                   \
    (void)na;                                                                  \
    part_simple(a, out, part, true);                                           \
  }
PART(kql_f_dayofmonth, "day")
PART(kql_f_dayofyear, "dayofyear")
PART(kql_f_hourofday, "hour")
PART(kql_f_monthofyear, "month")
PART(kql_f_getyear, "year")
PART(kql_f_week_of_year, "week_of_year")

static int64_t
unit_ticks(const char *b)
{
  if (!strcmp(b, "week")) return 7 * KQL_TICKS_PER_DAY;
  if (!strcmp(b, "day")) return KQL_TICKS_PER_DAY;
  if (!strcmp(b, "hour")) return HOUR;
  if (!strcmp(b, "minute")) return MINUTE;
  if (!strcmp(b, "second")) return KQL_TICKS_PER_SEC;
  if (!strcmp(b, "millisecond")) return 10000;
  if (!strcmp(b, "microsecond")) return 10;
  if (!strcmp(b, "nanosecond")) return 0;
  return -1;
}

static bool
part_name(struct kql_ctx *c, const struct kql_val *v, char *b, size_t cap)
{
  struct kql_val s = kql_fn_str(c, v);
  if (s.n >= cap) return false;
  for (size_t i = 0; i < s.n; i++)
    b[i] = (char)tolower((unsigned char)s.u.s[i]);
  b[s.n] = 0;
  return true;
}

KQL_FN(kql_f_datetime_add)
{
  (void)n;
  (void)na;
  char b[32];
  int64_t amount, t;
  if (!part_name(c, &a[0], b, sizeof b) || !kql_fn_long(&a[1], &amount) ||
      !get_dt(&a[2], &t)) {
    *out = kql_v_null(KQL_T_DATETIME);
    return;
  }
  bool ok = true;
  int64_t r;
  if (!strcmp(b, "year"))
    r = add_months(t, amount * 12, &ok);
  else if (!strcmp(b, "quarter"))
    r = add_months(t, amount * 3, &ok);
  else if (!strcmp(b, "month"))
    r = add_months(t, amount, &ok);
  else {
    int64_t u = unit_ticks(b);
    if (u < 0) {
      *out = kql_v_null(KQL_T_DATETIME);
      return;
    }
    r = u ? t + amount * u : t + amount / 100;
  }
  *out = ok ? dt_or_null(r) : kql_v_null(KQL_T_DATETIME);
}

static int64_t
floordiv(int64_t a, int64_t b)
{
  int64_t q = a / b;
  if ((a % b) && ((a < 0) != (b < 0))) q--;
  return q;
}

KQL_FN(kql_f_datetime_diff)
{
  (void)n;
  (void)na;
  char b[32];
  int64_t t1, t2;
  if (!part_name(c, &a[0], b, sizeof b) || !get_dt(&a[1], &t1) ||
      !get_dt(&a[2], &t2)) {
    *out = kql_v_null(KQL_T_LONG);
    return;
  }
  int y1, m1, d1, y2, m2, d2;
  kql_civil(t1, &y1, &m1, &d1);
  kql_civil(t2, &y2, &m2, &d2);
  int64_t r;
  if (!strcmp(b, "year"))
    r = y1 - y2;
  else if (!strcmp(b, "quarter"))
    r = (y1 * 4 + (m1 - 1) / 3) - (y2 * 4 + (m2 - 1) / 3);
  else if (!strcmp(b, "month"))
    r = ((int64_t)y1 * 12 + m1) - ((int64_t)y2 * 12 + m2);
  else if (!strcmp(b, "week")) {
    bool ok;
    int64_t w1 = start_of(t1, 'w', 0, &ok), w2 = start_of(t2, 'w', 0, &ok);
    r = (w1 - w2) / (7 * KQL_TICKS_PER_DAY);
  } else {
    int64_t u = unit_ticks(b);
    if (u < 0) {
      *out = kql_v_null(KQL_T_LONG);
      return;
    }
    if (u == 0)
      r = (t1 - t2) * 100;
    else
      r = floordiv(t1, u) - floordiv(t2, u);
  }
  *out = kql_v_long(r);
}

/* format_datetime / format_timespan: .NET-style custom format letters. */
static void
fmt_apply(struct kql_ctx *c, const struct kql_val *fmt, int y, int mo, int d,
          int64_t days, bool neg, int64_t tod, bool is_ts, struct kql_val *out)
{
  struct kql_val f = kql_fn_str(c, fmt);
  char *o = kql_alloc(c->a, f.n * 8 + 64);
  size_t k = 0;
  int64_t hh = tod / HOUR, mi = tod / MINUTE % 60,
          ss = tod / KQL_TICKS_PER_SEC % 60, fr = tod % KQL_TICKS_PER_SEC;
  if (neg) o[k++] = '-';
  for (size_t i = 0; i < f.n;) {
    char ch = f.u.s[i];
    size_t r = 1;
    while (i + r < f.n && f.u.s[i + r] == ch)
      r++;
    char buf[32];
    int w = 0;
    switch (ch) {
    case 'y':
      if (r <= 2)
        w = snprintf(buf, sizeof buf, "%0*d", (int)r, y % 100);
      else
        w = snprintf(buf, sizeof buf, "%0*d", (int)r, y);
      break;
    case 'M':
      w = snprintf(buf, sizeof buf, "%0*d", r >= 2 ? 2 : 1, mo);
      break;
    case 'd':
      if (is_ts)
        w = snprintf(buf, sizeof buf, "%0*lld", (int)r, (long long)days);
      else
        w = snprintf(buf, sizeof buf, "%0*d", r >= 2 ? 2 : 1, d);
      break;
    case 'H':
      w = snprintf(buf, sizeof buf, "%0*lld", r >= 2 ? 2 : 1, (long long)hh);
      break;
    case 'h': {
      int64_t h12 = hh % 12 ? hh % 12 : 12;
      if (is_ts) h12 = hh;
      w = snprintf(buf, sizeof buf, "%0*lld", r >= 2 ? 2 : 1, (long long)h12);
      break;
    }
    case 'm':
      w = snprintf(buf, sizeof buf, "%0*lld", r >= 2 ? 2 : 1, (long long)mi);
      break;
    case 's':
      w = snprintf(buf, sizeof buf, "%0*lld", r >= 2 ? 2 : 1, (long long)ss);
      break;
    case 'f':
    case 'F': {
      if (r > 7) r = 7;
      char digs[24];
      snprintf(digs, sizeof digs, "%07lld", (long long)fr);
      size_t len = r;
      if (ch == 'F')
        while (len && digs[len - 1] == '0')
          len--;
      memcpy(buf, digs, len);
      w = (int)len;
      if (ch == 'F' && !len && k && (o[k - 1] == '.')) k--;
      break;
    }
    case 't':
      w = snprintf(buf, sizeof buf, "%s", hh < 12 ? "AM" : "PM");
      if (r == 1) w = 1;
      break;
    case '\\':
      if (i + 1 < f.n) {
        o[k++] = f.u.s[i + 1];
        i += 2;
        continue;
      }
      r = 1;
      buf[0] = '\\';
      w = 1;
      break;
    default:
      for (size_t j = 0; j < r; j++)
        o[k++] = ch;
      i += r;
      continue;
    }
    if (w > 0) {
      memcpy(o + k, buf, (size_t)w);
      k += (size_t)w;
    }
    i += r;
  }
  o[k] = 0;
  *out = kql_v_str(o, k);
}

KQL_FN(kql_f_format_datetime)
{
  (void)n;
  (void)na;
  int64_t t;
  if (!get_dt(&a[0], &t)) {
    *out = kql_v_str("", 0);
    return;
  }
  int y, m, d;
  kql_civil(t, &y, &m, &d);
  fmt_apply(c, &a[1], y, m, d, 0, false, t % KQL_TICKS_PER_DAY, false, out);
}

KQL_FN(kql_f_format_timespan)
{
  (void)n;
  (void)na;
  int64_t t;
  if (!get_ts(&a[0], &t)) {
    *out = kql_v_str("", 0);
    return;
  }
  bool neg = t < 0;
  if (neg) t = -t;
  fmt_apply(c, &a[1], 0, 0, 0, t / KQL_TICKS_PER_DAY, neg,
            t % KQL_TICKS_PER_DAY, true, out);
}

KQL_FN(kql_f_make_datetime)
{
  (void)c;
  (void)n;
  int64_t v[6] = {0, 1, 1, 0, 0, 0};
  double sec = 0;
  for (uint32_t i = 0; i < na && i < 5; i++)
    if (!kql_fn_long(&a[i], &v[i])) {
      *out = kql_v_null(KQL_T_DATETIME);
      return;
    }
  if (na > 5 && !kql_fn_real(&a[5], &sec)) {
    *out = kql_v_null(KQL_T_DATETIME);
    return;
  }
  if (v[0] < 1 || v[0] > 9999 || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
      v[2] > mdays((int)v[0], (int)v[1]) || v[3] < 0 || v[3] > 23 || v[4] < 0 ||
      v[4] > 59 || sec < 0 || sec >= 60) {
    *out = kql_v_null(KQL_T_DATETIME);
    return;
  }
  int64_t t = ticks_of(v[0], (int)v[1], (int)v[2]) + v[3] * HOUR +
              v[4] * MINUTE + (int64_t)llround(sec * KQL_TICKS_PER_SEC);
  *out = dt_or_null(t);
}

KQL_FN(kql_f_make_timespan)
{
  (void)c;
  (void)n;
  int64_t v[4] = {0, 0, 0, 0};
  double sec = 0;
  /* (h, m) | (h, m, s) | (d, h, m, s) */
  uint32_t nint = na == 4 ? 3 : na == 3 ? 2 : na;
  for (uint32_t i = 0; i < nint; i++)
    if (!kql_fn_long(&a[i], &v[i])) {
      *out = kql_v_null(KQL_T_TIMESPAN);
      return;
    }
  if (na >= 3 && !kql_fn_real(&a[na - 1], &sec)) {
    *out = kql_v_null(KQL_T_TIMESPAN);
    return;
  }
  int64_t t;
  if (na == 4)
    t = v[0] * KQL_TICKS_PER_DAY + v[1] * HOUR + v[2] * MINUTE;
  else
    t = v[0] * HOUR + v[1] * MINUTE;
  t += (int64_t)llround(sec * KQL_TICKS_PER_SEC);
  *out = kql_v_time(KQL_T_TIMESPAN, t);
}

static void
unix_conv(struct kql_val *a, struct kql_val *out, double per_tick_mul)
{
  double x;
  if (a[0].null || !kql_get_real(&a[0], &x) || a[0].t == KQL_T_STRING) {
    *out = kql_v_null(KQL_T_DATETIME);
    return;
  }
  double t = x * per_tick_mul;
  if (fabs(t) > 3.2e17) {
    *out = kql_v_null(KQL_T_DATETIME);
    return;
  }
  *out = dt_or_null(KQL_UNIX_EPOCH + (int64_t)llround(t));
}

KQL_FN(kql_f_unix_s)
{
  (void)c;
  (void)n;
  (void)na;
  unix_conv(a, out, 1e7);
}

KQL_FN(kql_f_unix_ms)
{
  (void)c;
  (void)n;
  (void)na;
  unix_conv(a, out, 1e4);
}

KQL_FN(kql_f_unix_us)
{
  (void)c;
  (void)n;
  (void)na;
  unix_conv(a, out, 10);
}

KQL_FN(kql_f_unix_ns)
{
  (void)c;
  (void)n;
  (void)na;
  unix_conv(a, out, 0.01);
}
