/*
 * sink_retry.c - retry decisions and backoff delays (see sink_retry.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/sink_retry.h"

#include "lib/uuid.h"

#include <string.h>

void
sink_backoff_init(struct sink_backoff *b, uint64_t base_ms, uint64_t cap_ms)
{
  b->base_ms = base_ms;
  b->cap_ms = cap_ms < base_ms ? base_ms : cap_ms;
  b->rng = 0;
  if (uuid_rand_bytes(&b->rng, sizeof b->rng) != 0 || b->rng == 0)
    b->rng = 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)b;
}

bool
sink_retry_transient(long status, bool transport_transient)
{
  switch (status) {
  case 0:
    return transport_transient;
  case 408:
  case 429:
  case 500:
  case 502:
  case 503:
  case 504:
    return true;
  default:
    return false;
  }
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* Read exactly `digits` decimal digits at *p; -1 if not there. */
static int
digits_at(const char **p, int digits)
{
  int v = 0;
  for (int i = 0; i < digits; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  *p += digits;
  return v;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" -> Unix seconds, or -1. */
static int64_t
parse_imf_date(const char *s)
{
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  const char *comma = strchr(s, ',');
  if (!comma) return -1;
  const char *p = comma + 1;
  while (*p == ' ')
    p++;
  int day = digits_at(&p, 2);
  if (day < 1 || day > 31 || *p++ != ' ') return -1;
  int mon = -1;
  for (int i = 0; i < 12; i++)
    if (strncmp(p, months + 3 * i, 3) == 0) mon = i + 1;
  if (mon < 0) return -1;
  p += 3;
  if (*p++ != ' ') return -1;
  int year = digits_at(&p, 4);
  if (year < 1970 || *p++ != ' ') return -1;
  int hh = digits_at(&p, 2);
  if (hh < 0 || hh > 23 || *p++ != ':') return -1;
  int mm = digits_at(&p, 2);
  if (mm < 0 || mm > 59 || *p++ != ':') return -1;
  int ss = digits_at(&p, 2);
  if (ss < 0 || ss > 60 || strcmp(p, " GMT") != 0) return -1;
  return days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60 + ss;
}

int64_t
sink_retry_after_ms(const char *v, int64_t now_s)
{
  if (!v) return -1;
  while (*v == ' ' || *v == '\t')
    v++;
  if (*v >= '0' && *v <= '9') {
    int64_t secs = 0;
    const char *p = v;
    while (*p >= '0' && *p <= '9') {
      if (secs < SINK_RETRY_AFTER_MAX_MS / 1000 + 1)
        secs = secs * 10 + (*p - '0'); /* stop growing: no overflow */
      p++;
    }
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p) return -1;
    int64_t ms = secs * 1000;
    return ms > SINK_RETRY_AFTER_MAX_MS ? SINK_RETRY_AFTER_MAX_MS : ms;
  }
  int64_t when = parse_imf_date(v);
  if (when < 0) return -1;
  if (when <= now_s) return 0;
  int64_t d = when - now_s;
  if (d > SINK_RETRY_AFTER_MAX_MS / 1000) return SINK_RETRY_AFTER_MAX_MS;
  return d * 1000;
}

static uint64_t
next_rand(struct sink_backoff *b)
{
  /* xorshift64*: plenty for jitter. */
  uint64_t x = b->rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  b->rng = x;
  return x * 0x2545F4914F6CDD1Dull;
}

uint64_t
sink_retry_delay_ms(struct sink_backoff *b, unsigned attempt,
                    int64_t retry_after_ms)
{
  if (retry_after_ms >= 0) return (uint64_t)retry_after_ms;
  uint64_t d = b->base_ms;
  for (unsigned i = 0; i < attempt && d < b->cap_ms; i++)
    d *= 2; /* d < cap, so no overflow before the cap check */
  if (d > b->cap_ms) d = b->cap_ms;
  uint64_t half = d / 2;
  return d - half + (half ? next_rand(b) % (half + 1) : 0);
}
