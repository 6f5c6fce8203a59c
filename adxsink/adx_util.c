/*
 * adx_util.c - growable strings, URL encoding and endpoint checks (see
 * adx_util.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "adxsink/adx_util.h"

#include "lib/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* No single string adxsink builds (a request body) may exceed this. */
#define STR_CEILING ((size_t)1 << 30)

void
adx_str_init(struct adx_str *s)
{
  memset(s, 0, sizeof *s);
}

void
adx_str_free(struct adx_str *s)
{
  free(s->p);
  memset(s, 0, sizeof *s);
}

void
adx_str_clear(struct adx_str *s)
{
  s->len = 0;
  if (s->p) s->p[0] = '\0';
}

static bool
grow(struct adx_str *s, size_t more)
{
  if (s->oom) return false;
  if (more > STR_CEILING - s->len) {
    s->oom = true;
    return false;
  }
  size_t need = s->len + more + 1;
  if (need <= s->cap) return true;
  size_t nc = s->cap ? s->cap : 64;
  while (nc < need)
    nc *= 2;
  char *np = realloc(s->p, nc);
  if (!np) {
    s->oom = true;
    return false;
  }
  s->p = np;
  s->cap = nc;
  return true;
}

void
adx_str_addn(struct adx_str *s, const char *p, size_t n)
{
  if (!grow(s, n)) return;
  if (n) memcpy(s->p + s->len, p, n);
  s->len += n;
  s->p[s->len] = '\0';
}

char *
adx_str_extend(struct adx_str *s, size_t n)
{
  if (!grow(s, n)) return NULL;
  char *at = s->p + s->len;
  s->len += n;
  s->p[s->len] = '\0';
  return at;
}

void
adx_str_add(struct adx_str *s, const char *p)
{
  adx_str_addn(s, p, strlen(p));
}

void
adx_str_addf(struct adx_str *s, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !grow(s, (size_t)n)) {
    s->oom = true;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(s->p + s->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  s->len += (size_t)n;
}

void
adx_str_add_pct(struct adx_str *s, const char *p)
{
  static const char hex[] = "0123456789ABCDEF";
  for (; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      adx_str_addn(s, (const char *)&c, 1);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      adx_str_addn(s, e, 3);
    }
  }
}

void
adx_str_add_json(struct adx_str *s, const char *p)
{
  static const char hex[] = "0123456789abcdef";
  adx_str_addn(s, "\"", 1);
  for (; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      adx_str_addn(s, e, 2);
    } else if (c < 0x20) {
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      adx_str_addn(s, e, 6);
    } else {
      adx_str_addn(s, p, 1);
    }
  }
  adx_str_addn(s, "\"", 1);
}

char *
adx_str_take(struct adx_str *s)
{
  if (s->oom) {
    adx_str_free(s);
    return NULL;
  }
  if (!s->p) adx_str_addn(s, "", 0);
  char *p = s->oom ? NULL : s->p;
  if (!p) free(s->p);
  memset(s, 0, sizeof *s);
  return p;
}

static bool
ci_prefix(const char *s, const char *pfx)
{
  for (; *pfx; s++, pfx++)
    if (!*s || (*s | 0x20) != *pfx) return false;
  return true;
}

/* Bounds of the authority part of a URL: [*a, *e). -1 when malformed. */
static int
authority(const char *url, const char **a, const char **e)
{
  const char *p = strstr(url, "://");
  if (!p) return -1;
  p += 3;
  *a = p;
  *e = p + strcspn(p, "/?#");
  return *e > *a ? 0 : -1;
}

int
adx_url_host(const char *url, char *host, size_t n)
{
  const char *a, *e;
  if (authority(url, &a, &e) != 0) return -1;
  const char *h = a, *he;
  if (*h == '[') {
    h++;
    he = memchr(h, ']', (size_t)(e - h));
    if (!he) return -1;
  } else {
    he = memchr(h, ':', (size_t)(e - h));
    if (!he) he = e;
  }
  size_t len = (size_t)(he - h);
  if (len == 0 || len >= n) return -1;
  for (size_t i = 0; i < len; i++) {
    char c = h[i];
    host[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
  }
  host[len] = '\0';
  return 0;
}

static bool
is_ipv4(const char *h)
{
  int parts = 0;
  while (*h) {
    int digits = 0, v = 0;
    while (*h >= '0' && *h <= '9') {
      v = v * 10 + (*h++ - '0');
      if (++digits > 3 || v > 255) return false;
    }
    if (!digits) return false;
    parts++;
    if (*h == '.')
      h++;
    else if (*h)
      return false;
  }
  return parts == 4;
}

bool
adx_host_loopback(const char *host)
{
  size_t n = strlen(host);
  if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0) return true;
  if (n > 10 && strcmp(host + n - 10, ".localhost") == 0) return true;
  return is_ipv4(host) && strncmp(host, "127.", 4) == 0;
}

int
adx_url_base(const char *arg, unsigned flags, char *out, size_t n, char *err,
             size_t errn)
{
  if (!arg || !*arg) {
    snprintf(err, errn, "empty endpoint");
    return -1;
  }
  for (const char *p = arg; *p; p++)
    if ((unsigned char)*p <= ' ' || *p == 0x7f) {
      snprintf(err, errn, "endpoint contains spaces or control characters");
      return -1;
    }
  bool has_scheme = strstr(arg, "://");
  bool http = ci_prefix(arg, "http://");
  if (has_scheme && !http && !ci_prefix(arg, "https://")) {
    snprintf(err, errn, "%s: only https:// (or http:// to loopback) URLs", arg);
    return -1;
  }
  int w = has_scheme ? snprintf(out, n, "%s", arg)
                     : snprintf(out, n, "https://%s", arg);
  if (w < 0 || (size_t)w >= n) {
    snprintf(err, errn, "endpoint too long");
    return -1;
  }
  /* Lowercase the scheme, drop one trailing '/'. */
  for (char *p = out; *p != ':'; p++)
    *p = (char)(*p | 0x20);
  size_t len = strlen(out);
  if (len && out[len - 1] == '/') out[--len] = '\0';
  const char *a, *e;
  if (authority(out, &a, &e) != 0) {
    snprintf(err, errn, "%s: no host", arg);
    return -1;
  }
  if (*e) {
    snprintf(err, errn, "%s: a path, query or fragment is not allowed", arg);
    return -1;
  }
  if (memchr(a, '@', (size_t)(e - a))) {
    snprintf(err, errn, "%s: user information is not allowed", arg);
    return -1;
  }
  char host[256];
  if (adx_url_host(out, host, sizeof host) != 0) {
    snprintf(err, errn, "%s: bad host", arg);
    return -1;
  }
  if (http && !adx_host_loopback(host) &&
      !((flags & ADX_URL_LINKLOCAL) && strcmp(host, "169.254.169.254") == 0)) {
    snprintf(err, errn, "%s: plain http is allowed only to loopback addresses",
             arg);
    return -1;
  }
  return 0;
}

int
adx_url_ingest(const char *engine, char *out, size_t n)
{
  char host[256];
  if (adx_url_host(engine, host, sizeof host) != 0) return -1;
  bool literal =
      is_ipv4(host) || strchr(host, ':') || strcmp(host, "localhost") == 0;
  const char *p = strstr(engine, "://");
  if (!p) return -1;
  int w;
  if (literal || strncmp(p + 3, "ingest-", 7) == 0)
    w = snprintf(out, n, "%s", engine);
  else
    w = snprintf(out, n, "%.*s://ingest-%s", (int)(p - engine), engine, p + 3);
  return w < 0 || (size_t)w >= n ? -1 : 0;
}

int
adx_guid_from_hex(const char *hex, char out[37])
{
  size_t o = 0;
  for (size_t i = 0; i < 32; i++) {
    char c = hex[i];
    if (c >= 'A' && c <= 'F') c = (char)(c + 32);
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return -1;
    if (i == 8 || i == 12 || i == 16 || i == 20) out[o++] = '-';
    out[o++] = c;
  }
  out[o] = '\0';
  return 0;
}

int64_t
adx_now_s(void)
{
  return (int64_t)time(NULL);
}

void
adx_utc_iso(char out[32])
{
  struct timespec ts = clock_wall();
  time_t t = ts.tv_sec;
  struct tm tm;
#ifdef PLAT_WINDOWS
  gmtime_s(&tm, &t);
#else
  gmtime_r(&t, &tm);
#endif
  char date[32];
  if (strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
    date[0] = '\0';
  snprintf(out, 32, "%.19s.%03uZ", date,
           (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}
