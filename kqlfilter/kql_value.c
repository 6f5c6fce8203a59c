/*
 * kql_value.c - Kusto scalar values: arenas, types, text forms of
 * datetime and timespan, conversions, comparison, hashing, JSON output.
 *
 * Datetimes and timespans are 64-bit counts of 100 ns ticks (datetimes
 * from 0001-01-01), as Kusto keeps them, so the event contract's
 * 7-digit TimeCreated round-trips exactly. Conversion rules follow the
 * reference: an invalid conversion gives null, never an error. See
 * kql.md section 6.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql.h"

#include "lib/log.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- arena */

struct kql_chunk {
  struct kql_chunk *next;
  size_t cap;
  double align_[]; /* data follows, 8-aligned */
};

#define CHUNK_MIN (64u << 10)

void
kql_oom(void)
{
  log_err("out of memory");
  exit(1);
}

void *
kql_xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (!p) kql_oom();
  return p;
}

void *
kql_xrealloc(void *p, size_t n)
{
  void *q = realloc(p, n ? n : 1);
  if (!q) kql_oom();
  return q;
}

void *
kql_xcalloc(size_t n, size_t m)
{
  void *p = calloc(n ? n : 1, m ? m : 1);
  if (!p) kql_oom();
  return p;
}

void
kql_arena_init(struct kql_arena *a)
{
  a->head = NULL;
  a->p = a->end = NULL;
  a->chunk = 0;
}

void
kql_arena_init_small(struct kql_arena *a, size_t chunk)
{
  kql_arena_init(a);
  a->chunk = chunk;
}

void *
kql_alloc(struct kql_arena *a, size_t n)
{
  n = (n + 7) & ~(size_t)7;
  if ((size_t)(a->end - a->p) < n || !a->p) {
    size_t min = a->chunk ? a->chunk : CHUNK_MIN;
    size_t cap = n > min ? n : min;
    if (cap > SIZE_MAX - sizeof(struct kql_chunk)) kql_oom();
    struct kql_chunk *c = kql_xmalloc(sizeof *c + cap);
    c->cap = cap;
    c->next = a->head;
    a->head = c;
    a->p = (char *)c->align_;
    a->end = a->p + cap;
  }
  void *r = a->p;
  a->p += n;
  return r;
}

void *
kql_zalloc(struct kql_arena *a, size_t n)
{
  void *p = kql_alloc(a, n);
  memset(p, 0, n);
  return p;
}

char *
kql_memdup(struct kql_arena *a, const void *s, size_t n)
{
  char *p = kql_alloc(a, n + 1);
  if (n) memcpy(p, s, n);
  p[n] = 0;
  return p;
}

void
kql_arena_reset(struct kql_arena *a)
{
  struct kql_chunk *c = a->head;
  if (!c) return;
  /* Keep the newest chunk only if it is an ordinary one. */
  size_t min = a->chunk ? a->chunk : CHUNK_MIN;
  struct kql_chunk *keep = c->cap == min ? c : NULL;
  struct kql_chunk *n = c;
  while (n) {
    struct kql_chunk *next = n->next;
    if (n != keep) free(n);
    n = next;
  }
  a->head = keep;
  if (keep) {
    keep->next = NULL;
    a->p = (char *)keep->align_;
    a->end = a->p + keep->cap;
  } else {
    a->p = a->end = NULL;
  }
}

void
kql_arena_free(struct kql_arena *a)
{
  struct kql_chunk *c = a->head;
  size_t chunk = a->chunk;
  while (c) {
    struct kql_chunk *next = c->next;
    free(c);
    c = next;
  }
  kql_arena_init(a);
  a->chunk = chunk;
}

/* ---------------------------------------------------------------- types */

static const char *const type_names[KQL_T_COUNT] = {
    "dynamic",  "bool",     "int",  "long",    "real",    "decimal", "string",
    "datetime", "timespan", "guid", "dynamic", "dynamic", "dynamic"};

const char *
kql_type_name(int t)
{
  if (t < 0 || t >= KQL_T_COUNT) return "?";
  return type_names[t];
}

int
kql_type_parse(const char *s, size_t n)
{
  static const struct {
    const char *name;
    int t;
  } tab[] = {{"bool", KQL_T_BOOL},         {"boolean", KQL_T_BOOL},
             {"int", KQL_T_INT},           {"int32", KQL_T_INT},
             {"long", KQL_T_LONG},         {"int64", KQL_T_LONG},
             {"real", KQL_T_REAL},         {"double", KQL_T_REAL},
             {"decimal", KQL_T_DECIMAL},   {"string", KQL_T_STRING},
             {"datetime", KQL_T_DATETIME}, {"date", KQL_T_DATETIME},
             {"timespan", KQL_T_TIMESPAN}, {"time", KQL_T_TIMESPAN},
             {"guid", KQL_T_GUID},         {"uniqueid", KQL_T_GUID},
             {"dynamic", KQL_T_DYNAMIC}};
  for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
    if (strlen(tab[i].name) == n && !memcmp(tab[i].name, s, n)) return tab[i].t;
  return -1;
}

bool
kql_is_num(int t)
{
  return t == KQL_T_INT || t == KQL_T_LONG || t == KQL_T_REAL ||
         t == KQL_T_DECIMAL;
}

bool
kql_val_isempty(const struct kql_val *v)
{
  if (v->null) return true;
  return (v->t == KQL_T_STRING || v->t == KQL_T_GUID) && v->n == 0;
}

/* ---------------------------------------------------------- date, time */

int64_t
kql_days_from_civil(int64_t y, unsigned m, unsigned d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468; /* days since 1970 */
}

void
kql_civil(int64_t ticks, int *y, int *mo, int *d)
{
  int64_t days = ticks / KQL_TICKS_PER_DAY - KQL_UNIX_EPOCH / KQL_TICKS_PER_DAY;
  if (ticks < 0 && ticks % KQL_TICKS_PER_DAY) days--;
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  unsigned doe = (unsigned)(days - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  unsigned dd = doy - (153 * mp + 2) / 5 + 1;
  unsigned mm = mp < 10 ? mp + 3 : mp - 9;
  *y = (int)((int64_t)yoe + era * 400 + (mm <= 2));
  *mo = (int)mm;
  *d = (int)dd;
}

static int
digits_at(const char *s, size_t n, size_t *i, int maxd, int *out)
{
  int v = 0, k = 0;
  while (*i < n && k < maxd && s[*i] >= '0' && s[*i] <= '9') {
    v = v * 10 + (s[*i] - '0');
    (*i)++;
    k++;
  }
  *out = v;
  return k;
}

static const char *const month_abbr[12] = {"jan", "feb", "mar", "apr",
                                           "may", "jun", "jul", "aug",
                                           "sep", "oct", "nov", "dec"};

static int
month_name(const char *s, size_t n, size_t *i)
{
  if (*i + 3 > n) return 0;
  for (int m = 0; m < 12; m++) {
    if (tolower((unsigned char)s[*i]) == month_abbr[m][0] &&
        tolower((unsigned char)s[*i + 1]) == month_abbr[m][1] &&
        tolower((unsigned char)s[*i + 2]) == month_abbr[m][2]) {
      *i += 3;
      while (*i < n && isalpha((unsigned char)s[*i]))
        (*i)++;
      return m + 1;
    }
  }
  return 0;
}

/* Time of day and zone after a date: [T| ]hh:mm[:ss[.f]][Z|GMT|+hh:mm] */
static bool
parse_tod(const char *s, size_t n, size_t i, int64_t *tod)
{
  int hh = 0, mi = 0, ss = 0;
  int64_t frac = 0;
  int64_t off = 0;
  *tod = 0;
  if (i < n && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) i++;
  while (i < n && s[i] == ' ')
    i++;
  if (i < n && s[i] >= '0' && s[i] <= '9') {
    if (digits_at(s, n, &i, 2, &hh) < 1 || i >= n || s[i] != ':') return false;
    i++;
    if (digits_at(s, n, &i, 2, &mi) != 2) return false;
    if (i < n && s[i] == ':') {
      i++;
      if (digits_at(s, n, &i, 2, &ss) != 2) return false;
      if (i < n && s[i] == '.') {
        i++;
        int k = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
          if (k < 7) {
            frac = frac * 10 + (s[i] - '0');
            k++;
          }
          i++;
        }
        if (!k) return false;
        while (k++ < 7)
          frac *= 10;
      }
    }
    if (hh > 23 || mi > 59 || ss > 59) return false;
  }
  while (i < n && s[i] == ' ')
    i++;
  if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
    i++;
  } else if (i + 3 <= n && !memcmp(s + i, "GMT", 3)) {
    i += 3;
  } else if (i + 3 <= n && !memcmp(s + i, "UTC", 3)) {
    i += 3;
  } else if (i < n && (s[i] == '+' || s[i] == '-')) {
    int sign = s[i] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    i++;
    if (digits_at(s, n, &i, 2, &oh) != 2) return false;
    if (i < n && s[i] == ':') i++;
    digits_at(s, n, &i, 2, &om);
    off = sign * ((int64_t)oh * 3600 + om * 60) * KQL_TICKS_PER_SEC;
  }
  while (i < n && s[i] == ' ')
    i++;
  if (i != n) return false;
  *tod = ((int64_t)hh * 3600 + mi * 60 + ss) * KQL_TICKS_PER_SEC + frac - off;
  return true;
}

static bool
valid_ymd(int y, int m, int d)
{
  static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
    return false;
  if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
    return false;
  return true;
}

bool
kql_parse_datetime(const char *s, size_t n, int64_t *ticks)
{
  while (n && isspace((unsigned char)*s)) {
    s++;
    n--;
  }
  while (n && isspace((unsigned char)s[n - 1]))
    n--;
  size_t i = 0;
  int y = 0, m = 0, d = 0;
  int a = 0;
  /* Optional weekday: "Sat, 08 Nov 2014 ..." */
  if (n && isalpha((unsigned char)s[0])) {
    while (i < n && isalpha((unsigned char)s[i]))
      i++;
    if (i < n && s[i] == ',') i++;
    while (i < n && s[i] == ' ')
      i++;
  }
  int k = digits_at(s, n, &i, 4, &a);
  if (k == 4 && i < n && (s[i] == '-' || s[i] == '/')) {
    char sep = s[i++];
    y = a;
    if (digits_at(s, n, &i, 2, &m) < 1) return false;
    if (i < n && s[i] == sep) {
      i++;
      if (digits_at(s, n, &i, 2, &d) < 1) return false;
    } else {
      d = 1;
    }
  } else if (k == 8 && (i == n || s[i] == 'T' || s[i] == ' ')) {
    y = a / 10000; /* yyyymmdd (4 digits read, re-read) */
    return false;
  } else if (k >= 1 && k <= 2 && i < n && (s[i] == '-' || s[i] == '/')) {
    /* MM-DD-YYYY or MM/DD/YYYY */
    char sep = s[i++];
    m = a;
    if (digits_at(s, n, &i, 2, &d) < 1 || i >= n || s[i] != sep) return false;
    i++;
    if (digits_at(s, n, &i, 4, &y) != 4) return false;
  } else if (k >= 1 && k <= 2 && i < n && s[i] == ' ') {
    /* "08 Nov 2014 15:05:02 GMT" */
    d = a;
    i++;
    m = month_name(s, n, &i);
    if (!m || i >= n || s[i] != ' ') return false;
    i++;
    if (digits_at(s, n, &i, 4, &y) < 2) return false;
    if (y < 100) y += 2000;
  } else {
    return false;
  }
  if (!valid_ymd(y, m, d)) return false;
  int64_t tod;
  if (!parse_tod(s, n, i, &tod)) return false;
  int64_t days = kql_days_from_civil(y, (unsigned)m, (unsigned)d);
  int64_t t = days * KQL_TICKS_PER_DAY + KQL_UNIX_EPOCH + tod;
  if (t < 0 || t > KQL_MAX_TICKS) return false;
  *ticks = t;
  return true;
}

int64_t
kql_ts_unit(const char *s, size_t n)
{
  static const struct {
    const char *u;
    int64_t t;
  } units[] = {{"d", KQL_TICKS_PER_DAY},
               {"day", KQL_TICKS_PER_DAY},
               {"days", KQL_TICKS_PER_DAY},
               {"h", 36000000000LL},
               {"hr", 36000000000LL},
               {"hrs", 36000000000LL},
               {"hour", 36000000000LL},
               {"hours", 36000000000LL},
               {"m", 600000000LL},
               {"min", 600000000LL},
               {"minute", 600000000LL},
               {"minutes", 600000000LL},
               {"s", 10000000LL},
               {"sec", 10000000LL},
               {"second", 10000000LL},
               {"seconds", 10000000LL},
               {"ms", 10000LL},
               {"milli", 10000LL},
               {"millis", 10000LL},
               {"millisec", 10000LL},
               {"millisecond", 10000LL},
               {"milliseconds", 10000LL},
               {"microsec", 10LL},
               {"microsecond", 10LL},
               {"microseconds", 10LL},
               {"tick", 1LL},
               {"ticks", 1LL},
               {"nanosec", 0LL},
               {"nanosecond", 0LL},
               {"nanoseconds", 0LL}};
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strlen(units[i].u) == n && !memcmp(units[i].u, s, n)) return units[i].t;
  return -1;
}

bool
kql_parse_timespan(const char *s, size_t n, int64_t *ticks)
{
  while (n && isspace((unsigned char)*s)) {
    s++;
    n--;
  }
  while (n && isspace((unsigned char)s[n - 1]))
    n--;
  if (!n) return false;
  size_t i = 0;
  int64_t sign = 1;
  if (s[0] == '-') {
    sign = -1;
    i++;
  }
  /* Number with a unit: 1.5h, 30s, 10ms */
  size_t j = i;
  while (j < n && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.'))
    j++;
  if (j > i && j < n && isalpha((unsigned char)s[j])) {
    int64_t unit = kql_ts_unit(s + j, n - j);
    if (unit < 0) return false;
    char buf[64];
    if (j - i >= sizeof buf) return false;
    memcpy(buf, s + i, j - i);
    buf[j - i] = 0;
    char *e;
    double v = strtod(buf, &e);
    if (*e) return false;
    double t = unit ? v * (double)unit : v / 100.0;
    if (fabs(t) > 9.2e18) return false;
    *ticks = sign * (int64_t)llround(t);
    return true;
  }
  /* [d.]hh:mm[:ss[.f]] */
  int64_t days = 0;
  int hh = 0, mi = 0, ss = 0;
  int64_t frac = 0;
  int64_t a = 0;
  int k = 0;
  while (i < n && s[i] >= '0' && s[i] <= '9' && k < 9) {
    a = a * 10 + (s[i] - '0');
    i++;
    k++;
  }
  if (!k) return false;
  if (i < n && s[i] == '.') {
    days = a;
    i++;
    if (digits_at(s, n, &i, 2, &hh) < 1) return false;
  } else if (i == n) {
    return false; /* a bare number is not a timespan text */
  } else {
    if (k > 2) return false;
    hh = (int)a;
  }
  if (i >= n || s[i] != ':') return false;
  i++;
  if (digits_at(s, n, &i, 2, &mi) != 2) return false;
  if (i < n && s[i] == ':') {
    i++;
    if (digits_at(s, n, &i, 2, &ss) != 2) return false;
    if (i < n && s[i] == '.') {
      i++;
      int fk = 0;
      while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (fk < 7) {
          frac = frac * 10 + (s[i] - '0');
          fk++;
        }
        i++;
      }
      if (!fk) return false;
      while (fk++ < 7)
        frac *= 10;
    }
  }
  if (i != n || hh > 23 || mi > 59 || ss > 59) return false;
  *ticks =
      sign * (days * KQL_TICKS_PER_DAY +
              ((int64_t)hh * 3600 + mi * 60 + ss) * KQL_TICKS_PER_SEC + frac);
  return true;
}

static char *
put_digits(char *o, int64_t v, int n)
{
  for (int i = n - 1; i >= 0; i--) {
    o[i] = (char)('0' + v % 10);
    v /= 10;
  }
  return o + n;
}

size_t
kql_fmt_datetime(int64_t ticks, char *out)
{
  int y, mo, d;
  kql_civil(ticks, &y, &mo, &d);
  int64_t tod = ticks % KQL_TICKS_PER_DAY;
  if (tod < 0) tod += KQL_TICKS_PER_DAY;
  int64_t secs = tod / KQL_TICKS_PER_SEC, frac = tod % KQL_TICKS_PER_SEC;
  char *o = out;
  o = put_digits(o, y, 4);
  *o++ = '-';
  o = put_digits(o, mo, 2);
  *o++ = '-';
  o = put_digits(o, d, 2);
  *o++ = 'T';
  o = put_digits(o, secs / 3600, 2);
  *o++ = ':';
  o = put_digits(o, secs / 60 % 60, 2);
  *o++ = ':';
  o = put_digits(o, secs % 60, 2);
  *o++ = '.';
  o = put_digits(o, frac, 7);
  *o++ = 'Z';
  *o = 0;
  return (size_t)(o - out);
}

size_t
kql_fmt_timespan(int64_t ticks, char *out)
{
  char *o = out;
  uint64_t t;
  if (ticks < 0) {
    *o++ = '-';
    t = (uint64_t)0 - (uint64_t)ticks;
  } else {
    t = (uint64_t)ticks;
  }
  uint64_t days = t / KQL_TICKS_PER_DAY;
  uint64_t rest = t % KQL_TICKS_PER_DAY;
  uint64_t secs = rest / KQL_TICKS_PER_SEC, frac = rest % KQL_TICKS_PER_SEC;
  if (days) {
    char b[24];
    int n = snprintf(b, sizeof b, "%" PRIu64 ".", days);
    memcpy(o, b, (size_t)n);
    o += n;
  }
  o = put_digits(o, (int64_t)(secs / 3600), 2);
  *o++ = ':';
  o = put_digits(o, (int64_t)(secs / 60 % 60), 2);
  *o++ = ':';
  o = put_digits(o, (int64_t)(secs % 60), 2);
  if (frac) {
    *o++ = '.';
    o = put_digits(o, (int64_t)frac, 7);
  }
  *o = 0;
  return (size_t)(o - out);
}

size_t
kql_fmt_real(double r, char *out)
{
  if (isnan(r)) return (size_t)snprintf(out, 40, "NaN");
  if (isinf(r))
    return (size_t)snprintf(out, 40, r > 0 ? "Infinity" : "-Infinity");
  int n = 0;
  for (int prec = 15; prec <= 17; prec++) {
    n = snprintf(out, 40, "%.*g", prec, r);
    if (strtod(out, NULL) == r) break;
  }
  return (size_t)n;
}

bool
kql_parse_guid(const char *s, size_t n, char out[37])
{
  if (n == 38 && s[0] == '{' && s[37] == '}') {
    s++;
    n -= 2;
  }
  if (n == 32) { /* no dashes */
    size_t k = 0;
    for (size_t i = 0; i < 32; i++) {
      if (!isxdigit((unsigned char)s[i])) return false;
      if (i == 8 || i == 12 || i == 16 || i == 20) out[k++] = '-';
      out[k++] = (char)tolower((unsigned char)s[i]);
    }
    out[36] = 0;
    return true;
  }
  if (n != 36) return false;
  for (size_t i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
      out[i] = '-';
    } else {
      if (!isxdigit((unsigned char)s[i])) return false;
      out[i] = (char)tolower((unsigned char)s[i]);
    }
  }
  out[36] = 0;
  return true;
}

/* ---------------------------------------------------------- conversion */

/* tostring() of a datetime: ISO-8601 with trailing zero digits trimmed. */
static size_t
dt_text(int64_t ticks, char *out)
{
  size_t n = kql_fmt_datetime(ticks, out);
  /* out ends ".fffffffZ" */
  size_t dot = n - 9;
  size_t e = n - 1;
  while (e > dot + 1 && out[e - 1] == '0')
    e--;
  if (e == dot + 1) e = dot;
  out[e] = 'Z';
  out[e + 1] = 0;
  return e + 1;
}

struct kql_val
kql_to_string(struct kql_arena *a, const struct kql_val *v)
{
  char b[64];
  size_t n = 0;
  if (v->null) return kql_v_str("", 0);
  switch (v->t) {
  case KQL_T_STRING:
  case KQL_T_GUID: {
    struct kql_val r = *v;
    r.t = KQL_T_STRING;
    r.dyn = 0;
    return r;
  }
  case KQL_T_BOOL:
    return v->u.b ? kql_v_str("true", 4) : kql_v_str("false", 5);
  case KQL_T_INT:
  case KQL_T_LONG:
    n = (size_t)snprintf(b, sizeof b, "%" PRId64, v->u.i);
    break;
  case KQL_T_REAL:
  case KQL_T_DECIMAL:
    n = kql_fmt_real(v->u.r, b);
    break;
  case KQL_T_DATETIME:
    n = dt_text(v->u.i, b);
    break;
  case KQL_T_TIMESPAN:
    n = kql_fmt_timespan(v->u.i, b);
    break;
  case KQL_T_ARRAY:
  case KQL_T_BAG:
    return kql_val_json(a, v);
  default:
    return kql_v_str("", 0);
  }
  return kql_v_str(kql_memdup(a, b, n), n);
}

static bool
str_to_long(const char *s, size_t n, int64_t *out)
{
  char b[64];
  while (n && isspace((unsigned char)*s)) {
    s++;
    n--;
  }
  while (n && isspace((unsigned char)s[n - 1]))
    n--;
  if (!n || n >= sizeof b) return false;
  memcpy(b, s, n);
  b[n] = 0;
  char *e;
  errno = 0;
  long long v;
  if (n > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X'))
    v = (long long)strtoull(b, &e, 16);
  else
    v = strtoll(b, &e, 10);
  if (*e || errno) return false;
  *out = v;
  return true;
}

static bool
str_to_real(const char *s, size_t n, double *out)
{
  char b[128];
  while (n && isspace((unsigned char)*s)) {
    s++;
    n--;
  }
  while (n && isspace((unsigned char)s[n - 1]))
    n--;
  if (!n || n >= sizeof b) return false;
  memcpy(b, s, n);
  b[n] = 0;
  if (!strcmp(b, "NaN")) {
    *out = NAN;
    return true;
  }
  if (!strcmp(b, "Infinity") || !strcmp(b, "+Infinity")) {
    *out = INFINITY;
    return true;
  }
  if (!strcmp(b, "-Infinity")) {
    *out = -INFINITY;
    return true;
  }
  char *e;
  double v = strtod(b, &e);
  if (*e || e == b) return false;
  /* strtod accepts "inf"/"nan" spellings Kusto does not. */
  if (isalpha((unsigned char)b[b[0] == '-' || b[0] == '+'])) return false;
  *out = v;
  return true;
}

bool
kql_get_long(const struct kql_val *v, int64_t *out)
{
  if (v->null) return false;
  switch (v->t) {
  case KQL_T_INT:
  case KQL_T_LONG:
  case KQL_T_DATETIME:
  case KQL_T_TIMESPAN:
    *out = v->u.i;
    return true;
  case KQL_T_REAL:
  case KQL_T_DECIMAL:
    if (isnan(v->u.r) || fabs(v->u.r) >= 9.2233720368547758e18) return false;
    *out = (int64_t)v->u.r;
    return true;
  case KQL_T_BOOL:
    *out = v->u.b;
    return true;
  case KQL_T_STRING: {
    if (str_to_long(v->u.s, v->n, out)) return true;
    double r;
    if (str_to_real(v->u.s, v->n, &r) && !isnan(r) &&
        fabs(r) < 9.2233720368547758e18) {
      *out = (int64_t)r;
      return true;
    }
    return false;
  }
  default:
    return false;
  }
}

bool
kql_get_real(const struct kql_val *v, double *out)
{
  if (v->null) return false;
  switch (v->t) {
  case KQL_T_INT:
  case KQL_T_LONG:
  case KQL_T_DATETIME:
  case KQL_T_TIMESPAN:
    *out = (double)v->u.i;
    return true;
  case KQL_T_REAL:
  case KQL_T_DECIMAL:
    *out = v->u.r;
    return true;
  case KQL_T_BOOL:
    *out = v->u.b;
    return true;
  case KQL_T_STRING:
    return str_to_real(v->u.s, v->n, out);
  default:
    return false;
  }
}

struct kql_val
kql_convert(struct kql_arena *a, const struct kql_val *v, int t)
{
  int64_t i;
  double r;
  if (v->null) return kql_v_null(t);
  switch (t) {
  case KQL_T_ANY:
    return *v;
  case KQL_T_STRING:
    return kql_to_string(a, v);
  case KQL_T_LONG:
  case KQL_T_INT:
    if (v->t == KQL_T_DATETIME || v->t == KQL_T_TIMESPAN ||
        v->t == KQL_T_ARRAY || v->t == KQL_T_BAG)
      return kql_v_null(t);
    if (!kql_get_long(v, &i)) return kql_v_null(t);
    if (t == KQL_T_INT) return kql_v_int(i);
    return kql_v_long(i);
  case KQL_T_REAL:
  case KQL_T_DECIMAL: {
    if (v->t == KQL_T_DATETIME || v->t == KQL_T_TIMESPAN ||
        v->t == KQL_T_ARRAY || v->t == KQL_T_BAG)
      return kql_v_null(t);
    if (!kql_get_real(v, &r)) return kql_v_null(t);
    struct kql_val o = kql_v_real(r);
    o.t = (uint8_t)t;
    return o;
  }
  case KQL_T_BOOL:
    if (v->t == KQL_T_BOOL) return kql_v_bool(v->u.b);
    if (v->t == KQL_T_STRING) {
      if (v->n == 4 && !strncasecmp(v->u.s, "true", 4)) return kql_v_bool(true);
      if (v->n == 5 && !strncasecmp(v->u.s, "false", 5))
        return kql_v_bool(false);
      if (str_to_long(v->u.s, v->n, &i)) return kql_v_bool(i != 0);
      return kql_v_null(t);
    }
    if (v->t == KQL_T_INT || v->t == KQL_T_LONG) return kql_v_bool(v->u.i != 0);
    if (v->t == KQL_T_REAL || v->t == KQL_T_DECIMAL)
      return kql_v_bool(v->u.r != 0);
    return kql_v_null(t);
  case KQL_T_DATETIME:
    if (v->t == KQL_T_DATETIME) return kql_v_time(t, v->u.i);
    if (v->t == KQL_T_STRING && kql_parse_datetime(v->u.s, v->n, &i))
      return kql_v_time(t, i);
    return kql_v_null(t);
  case KQL_T_TIMESPAN:
    if (v->t == KQL_T_TIMESPAN) return kql_v_time(t, v->u.i);
    if (v->t == KQL_T_STRING && kql_parse_timespan(v->u.s, v->n, &i))
      return kql_v_time(t, i);
    if (v->t == KQL_T_INT || v->t == KQL_T_LONG) return kql_v_time(t, v->u.i);
    if (v->t == KQL_T_REAL || v->t == KQL_T_DECIMAL)
      return kql_v_time(t, (int64_t)v->u.r);
    return kql_v_null(t);
  case KQL_T_GUID: {
    char g[37];
    if ((v->t == KQL_T_STRING || v->t == KQL_T_GUID) &&
        kql_parse_guid(v->u.s, v->n, g)) {
      struct kql_val o = kql_v_str(kql_memdup(a, g, 36), 36);
      o.t = KQL_T_GUID;
      return o;
    }
    return kql_v_null(t);
  }
  case KQL_T_DYNAMIC:
    if (v->t == KQL_T_STRING) {
      /* todynamic(string) parses JSON; a typed column of type dynamic
       * holding a string keeps it. */
      struct kql_val o;
      if (kql_json_parse_text(a, v->u.s, v->n, &o)) return o;
    }
    return kql_dyn_wrap(v);
  default:
    return *v;
  }
}

struct kql_val
kql_dyn_wrap(const struct kql_val *v)
{
  struct kql_val o = *v;
  if (v->null) return kql_v_null(KQL_T_DYNAMIC);
  o.dyn = 1;
  return o;
}

/* ---------------------------------------------------------- dynamic */

void
kql_dyn_force(struct kql_arena *a, struct kql_val *v)
{
  if (!v->lazy) return;
  const char *p = v->u.s, *end = p + v->n;
  p = kql_json_ws(p, end);
  if (v->t == KQL_T_ARRAY) {
    uint32_t cap = 8, n = 0;
    struct kql_val *el = kql_alloc(a, cap * sizeof *el);
    p = kql_json_ws(p + 1, end);
    while (p < end && *p != ']') {
      const char *q = kql_json_skip(p, end, 0);
      if (!q) break;
      if (n == cap) {
        struct kql_val *ne = kql_alloc(a, cap * 2 * sizeof *el);
        memcpy(ne, el, n * sizeof *el);
        el = ne;
        cap *= 2;
      }
      kql_json_value(a, p, (size_t)(q - p), true, &el[n++]);
      p = kql_json_ws(q, end);
      if (p < end && *p == ',') p = kql_json_ws(p + 1, end);
    }
    v->u.a = el;
    v->n = n;
  } else {
    uint32_t cap = 8, n = 0;
    struct kql_kv *kv = kql_alloc(a, cap * sizeof *kv);
    p = kql_json_ws(p + 1, end);
    while (p < end && *p == '"') {
      const char *q = kql_json_skip(p, end, 0);
      if (!q) break;
      struct kql_val key = kql_json_string(a, p, (size_t)(q - p));
      p = kql_json_ws(q, end);
      if (p >= end || *p != ':') break;
      p = kql_json_ws(p + 1, end);
      q = kql_json_skip(p, end, 0);
      if (!q) break;
      /* A repeated key: the first one wins (as member lookups do). */
      uint32_t slot = n;
      for (uint32_t i = 0; i < n; i++)
        if (kv[i].kn == key.n && !memcmp(kv[i].k, key.u.s, key.n)) slot = i;
      if (slot < n) {
        p = kql_json_ws(q, end);
        if (p < end && *p == ',') p = kql_json_ws(p + 1, end);
        continue;
      }
      {
        if (n == cap) {
          struct kql_kv *nk = kql_alloc(a, cap * 2 * sizeof *kv);
          memcpy(nk, kv, n * sizeof *kv);
          kv = nk;
          cap *= 2;
        }
        n++;
      }
      kv[slot].k = key.u.s;
      kv[slot].kn = key.n;
      kql_json_value(a, p, (size_t)(q - p), true, &kv[slot].v);
      p = kql_json_ws(q, end);
      if (p < end && *p == ',') p = kql_json_ws(p + 1, end);
    }
    v->u.kv = kv;
    v->n = n;
  }
  v->lazy = 0;
}

/* Find a member in a lazy object without building it. */
static bool
lazy_member(struct kql_arena *a, const struct kql_val *v, const char *k,
            size_t kn, struct kql_val *out)
{
  const char *p = v->u.s, *end = p + v->n;
  p = kql_json_ws(p, end);
  p = kql_json_ws(p + 1, end);
  bool found = false;
  while (p < end && *p == '"') {
    const char *q = kql_json_skip(p, end, 0);
    if (!q) return found;
    bool match;
    if (memchr(p, '\\', (size_t)(q - p))) {
      struct kql_val key = kql_json_string(a, p, (size_t)(q - p));
      match = key.n == kn && !memcmp(key.u.s, k, kn);
    } else {
      match = (size_t)(q - p) == kn + 2 && !memcmp(p + 1, k, kn);
    }
    p = kql_json_ws(q, end);
    if (p >= end || *p != ':') return found;
    p = kql_json_ws(p + 1, end);
    q = kql_json_skip(p, end, 0);
    if (!q) return found;
    if (match) {
      /* The first of repeated keys wins: stop scanning here. */
      kql_json_value(a, p, (size_t)(q - p), true, out);
      return true;
    }
    p = kql_json_ws(q, end);
    if (p < end && *p == ',') p = kql_json_ws(p + 1, end);
  }
  return found;
}

bool
kql_dyn_member(struct kql_arena *a, const struct kql_val *v, const char *k,
               size_t kn, struct kql_val *out)
{
  if (v->null || v->t != KQL_T_BAG) return false;
  if (v->lazy) return lazy_member(a, v, k, kn, out);
  for (uint32_t i = 0; i < v->n; i++)
    if (v->u.kv[i].kn == kn && !memcmp(v->u.kv[i].k, k, kn)) {
      *out = v->u.kv[i].v;
      return true;
    }
  return false;
}

bool
kql_dyn_index(struct kql_arena *a, const struct kql_val *v, int64_t i,
              struct kql_val *out)
{
  if (v->null || v->t != KQL_T_ARRAY) return false;
  struct kql_val tmp = *v;
  kql_dyn_force(a, &tmp);
  if (i < 0) i += tmp.n;
  if (i < 0 || i >= tmp.n) return false;
  *out = tmp.u.a[i];
  return true;
}

/* ---------------------------------------------------------- comparison */

static int
cmp_bytes(const char *a, size_t an, const char *b, size_t bn, bool ci)
{
  size_t n = an < bn ? an : bn;
  int c;
  if (ci) {
    c = 0;
    for (size_t i = 0; i < n && !c; i++)
      c = tolower((unsigned char)a[i]) - tolower((unsigned char)b[i]);
  } else {
    c = n ? memcmp(a, b, n) : 0;
  }
  if (c) return c < 0 ? -1 : 1;
  return an < bn ? -1 : an > bn ? 1 : 0;
}

static int
cmp_num(double x, double y)
{
  return x < y ? -1 : x > y ? 1 : 0;
}

int
kql_val_cmp(struct kql_arena *a, const struct kql_val *x,
            const struct kql_val *y, bool ci)
{
  int xt = x->t, yt = y->t;
  if ((xt == KQL_T_INT || xt == KQL_T_LONG) &&
      (yt == KQL_T_INT || yt == KQL_T_LONG))
    return x->u.i < y->u.i ? -1 : x->u.i > y->u.i;
  if (kql_is_num(xt) && kql_is_num(yt)) {
    double dx, dy;
    kql_get_real(x, &dx);
    kql_get_real(y, &dy);
    return cmp_num(dx, dy);
  }
  if ((xt == KQL_T_STRING || xt == KQL_T_GUID) &&
      (yt == KQL_T_STRING || yt == KQL_T_GUID))
    return cmp_bytes(x->u.s, x->n, y->u.s, y->n,
                     ci || xt == KQL_T_GUID || yt == KQL_T_GUID);
  if (xt == yt && (xt == KQL_T_DATETIME || xt == KQL_T_TIMESPAN))
    return x->u.i < y->u.i ? -1 : x->u.i > y->u.i;
  if (xt == KQL_T_BOOL && yt == KQL_T_BOOL) return (int)x->u.b - (int)y->u.b;
  int64_t t;
  /* A string meets a datetime or timespan: read the string as one. */
  if ((xt == KQL_T_DATETIME || xt == KQL_T_TIMESPAN) && yt == KQL_T_STRING) {
    bool ok = xt == KQL_T_DATETIME ? kql_parse_datetime(y->u.s, y->n, &t)
                                   : kql_parse_timespan(y->u.s, y->n, &t);
    if (!ok) return KQL_CMP_NONE;
    return x->u.i < t ? -1 : x->u.i > t;
  }
  if ((yt == KQL_T_DATETIME || yt == KQL_T_TIMESPAN) && xt == KQL_T_STRING) {
    int r = kql_val_cmp(a, y, x, ci);
    return r == KQL_CMP_NONE ? r : -r;
  }
  /* Mixed kinds where one side is dynamic: compare as text, as Rx.Kql's
   * string-based comparison did (e.g. EventId in ("2", "4")). */
  if ((x->dyn || y->dyn) && (kql_is_num(xt) || kql_is_num(yt)) &&
      (xt == KQL_T_STRING || yt == KQL_T_STRING)) {
    double dx, dy;
    if (kql_get_real(x, &dx) && kql_get_real(y, &dy)) return cmp_num(dx, dy);
    return KQL_CMP_NONE;
  }
  if ((xt == KQL_T_ARRAY || xt == KQL_T_BAG) && xt == yt) {
    struct kql_val jx = kql_val_json(a, x), jy = kql_val_json(a, y);
    return cmp_bytes(jx.u.s, jx.n, jy.u.s, jy.n, false) ? 1 : 0;
  }
  return KQL_CMP_NONE;
}

bool
kql_val_same(const struct kql_val *x, const struct kql_val *y)
{
  if (x->null || y->null) return x->null && y->null;
  if (x->t != y->t) {
    if (kql_is_num(x->t) && kql_is_num(y->t)) {
      double a, b;
      kql_get_real(x, &a);
      kql_get_real(y, &b);
      return a == b;
    }
    return false;
  }
  switch (x->t) {
  case KQL_T_BOOL:
    return x->u.b == y->u.b;
  case KQL_T_INT:
  case KQL_T_LONG:
  case KQL_T_DATETIME:
  case KQL_T_TIMESPAN:
    return x->u.i == y->u.i;
  case KQL_T_REAL:
  case KQL_T_DECIMAL:
    return x->u.r == y->u.r || (isnan(x->u.r) && isnan(y->u.r));
  case KQL_T_STRING:
  case KQL_T_GUID:
    return x->n == y->n && !memcmp(x->u.s, y->u.s, x->n);
  default: {
    struct kql_arena a;
    kql_arena_init(&a);
    struct kql_val jx = kql_val_json(&a, x), jy = kql_val_json(&a, y);
    bool eq = jx.n == jy.n && !memcmp(jx.u.s, jy.u.s, jx.n);
    kql_arena_free(&a);
    return eq;
  }
  }
}

static uint64_t
hash_bytes(const void *p, size_t n, uint64_t h)
{
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= 1099511628211ULL;
  }
  return h;
}

uint64_t
kql_val_hash(const struct kql_val *v, uint64_t h)
{
  if (v->null) return hash_bytes("\0null", 5, h);
  switch (v->t) {
  case KQL_T_BOOL:
    return hash_bytes(&v->u.b, 1, h ^ 0x11);
  case KQL_T_INT:
  case KQL_T_LONG:
  case KQL_T_REAL:
  case KQL_T_DECIMAL: {
    /* Numbers that compare equal hash alike. */
    double d;
    kql_get_real(v, &d);
    if (d == 0) d = 0;
    return hash_bytes(&d, sizeof d, h ^ 0x22);
  }
  case KQL_T_DATETIME:
  case KQL_T_TIMESPAN:
    return hash_bytes(&v->u.i, 8, h ^ (uint64_t)v->t);
  case KQL_T_STRING:
  case KQL_T_GUID:
    return hash_bytes(v->u.s, v->n, h ^ 0x33);
  default: {
    struct kql_arena a;
    kql_arena_init(&a);
    struct kql_val j = kql_val_json(&a, v);
    h = hash_bytes(j.u.s, j.n, h ^ 0x44);
    kql_arena_free(&a);
    return h;
  }
  }
}

static int
kind_rank(const struct kql_val *v)
{
  switch (v->t) {
  case KQL_T_BOOL:
    return 1;
  case KQL_T_INT:
  case KQL_T_LONG:
  case KQL_T_REAL:
  case KQL_T_DECIMAL:
    return 2;
  case KQL_T_DATETIME:
    return 3;
  case KQL_T_TIMESPAN:
    return 4;
  case KQL_T_STRING:
  case KQL_T_GUID:
    return 5;
  default:
    return 6;
  }
}

int
kql_val_sortcmp(const struct kql_val *x, const struct kql_val *y)
{
  if (x->null || y->null)
    return (int)y->null - (int)x->null; /* null sorts low */
  int rx = kind_rank(x), ry = kind_rank(y);
  if (rx != ry) return rx < ry ? -1 : 1;
  if (rx == 6) {
    struct kql_arena a;
    kql_arena_init(&a);
    struct kql_val jx = kql_val_json(&a, x), jy = kql_val_json(&a, y);
    int c = cmp_bytes(jx.u.s, jx.n, jy.u.s, jy.n, false);
    kql_arena_free(&a);
    return c;
  }
  int c = kql_val_cmp(NULL, x, y, false);
  if (c == KQL_CMP_NONE) return 0;
  if (rx == 2 && c == 0) {
    /* NaN sorts below every number */
    double a, b;
    kql_get_real(x, &a);
    kql_get_real(y, &b);
    if (isnan(a) != isnan(b)) return isnan(a) ? -1 : 1;
  }
  return c;
}

/* ---------------------------------------------------------- copy */

struct kql_val
kql_val_copy(struct kql_arena *a, const struct kql_val *v)
{
  struct kql_val o = *v;
  if (v->null) return o;
  switch (v->t) {
  case KQL_T_STRING:
  case KQL_T_GUID:
    o.u.s = kql_memdup(a, v->u.s, v->n);
    return o;
  case KQL_T_ARRAY:
    if (v->lazy) {
      o.u.s = kql_memdup(a, v->u.s, v->n);
      return o;
    }
    o.u.a = kql_alloc(a, (v->n ? v->n : 1) * sizeof *o.u.a);
    for (uint32_t i = 0; i < v->n; i++)
      o.u.a[i] = kql_val_copy(a, &v->u.a[i]);
    return o;
  case KQL_T_BAG:
    if (v->lazy) {
      o.u.s = kql_memdup(a, v->u.s, v->n);
      return o;
    }
    o.u.kv = kql_alloc(a, (v->n ? v->n : 1) * sizeof *o.u.kv);
    for (uint32_t i = 0; i < v->n; i++) {
      o.u.kv[i].k = kql_memdup(a, v->u.kv[i].k, v->u.kv[i].kn);
      o.u.kv[i].kn = v->u.kv[i].kn;
      o.u.kv[i].v = kql_val_copy(a, &v->u.kv[i].v);
    }
    return o;
  default:
    return o;
  }
}

/* ---------------------------------------------------------- output */

void
kql_write_val(struct jsonw *w, const struct kql_val *v)
{
  char b[64];
  size_t n;
  if (v->null) {
    /* A string is never null in Kusto: it is empty. */
    if (v->t == KQL_T_STRING)
      jw_strn(w, "", 0);
    else
      jw_null(w);
    return;
  }
  switch (v->t) {
  case KQL_T_BOOL:
    jw_bool(w, v->u.b);
    return;
  case KQL_T_INT:
  case KQL_T_LONG:
    jw_i64(w, v->u.i);
    return;
  case KQL_T_REAL:
  case KQL_T_DECIMAL:
    if (isnan(v->u.r) || isinf(v->u.r)) {
      n = kql_fmt_real(v->u.r, b);
      jw_strn(w, b, n);
      return;
    }
    n = kql_fmt_real(v->u.r, b);
    /* Keep the type visible to the next reader: 5 -> 5.0 */
    if (!strpbrk(b, ".eEn") && n + 2 < sizeof b) {
      b[n++] = '.';
      b[n++] = '0';
    }
    jw_raw(w, b, n);
    return;
  case KQL_T_STRING:
  case KQL_T_GUID:
    jw_strn(w, v->u.s, v->n);
    return;
  case KQL_T_DATETIME:
    n = kql_fmt_datetime(v->u.i, b);
    jw_strn(w, b, n);
    return;
  case KQL_T_TIMESPAN:
    n = kql_fmt_timespan(v->u.i, b);
    jw_strn(w, b, n);
    return;
  case KQL_T_ARRAY:
    if (v->lazy) {
      jw_raw(w, v->u.s, v->n);
      return;
    }
    jw_arr_begin(w);
    for (uint32_t i = 0; i < v->n; i++)
      kql_write_val(w, &v->u.a[i]);
    jw_arr_end(w);
    return;
  case KQL_T_BAG:
    if (v->lazy) {
      jw_raw(w, v->u.s, v->n);
      return;
    }
    jw_obj_begin(w);
    for (uint32_t i = 0; i < v->n; i++) {
      jw_keyn(w, v->u.kv[i].k, v->u.kv[i].kn);
      kql_write_val(w, &v->u.kv[i].v);
    }
    jw_obj_end(w);
    return;
  default:
    jw_null(w);
  }
}

struct kql_val
kql_val_json(struct kql_arena *a, const struct kql_val *v)
{
  if (v->lazy) {
    /* Compact the text: drop whitespace outside strings. */
    char *o = kql_alloc(a, v->n + 1);
    size_t k = 0;
    bool instr = false;
    for (uint32_t i = 0; i < v->n; i++) {
      char c = v->u.s[i];
      if (instr) {
        o[k++] = c;
        if (c == '\\' && i + 1 < v->n)
          o[k++] = v->u.s[++i];
        else if (c == '"')
          instr = false;
      } else if (c == '"') {
        instr = true;
        o[k++] = c;
      } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        o[k++] = c;
      }
    }
    o[k] = 0;
    return kql_v_str(o, k);
  }
  struct jsonw w;
  jw_init(&w);
  kql_write_val(&w, v);
  if (w.oom) kql_oom();
  struct kql_val r = kql_v_str(kql_memdup(a, w.buf ? w.buf : "", w.len), w.len);
  jw_free(&w);
  return r;
}
