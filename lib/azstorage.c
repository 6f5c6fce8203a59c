/*
 * azstorage.c - connection strings, blob URLs, dates and the SharedKey
 * StringToSign (see azstorage.h).
 *
 * StringToSign for x-ms-version >= 2015-02-21 (azure.md section 7): the
 * verb, eleven standard header values (Content-Length empty when 0), the
 * x-ms-* headers lowercased, trimmed and sorted as "name:value\n", then
 * "/" + account + URL path and the query parameters, each
 * "\nname:value[,value...]" with names lowercased and sorted and values
 * URL-decoded and sorted.
 *
 * Connection string rules (learn.microsoft.com, "Configure Azure Storage
 * connection strings"; azure.md section 9): "Key=Value" settings joined
 * by ';', keys in any case, a value may itself contain '=' (keys and SAS
 * tokens do). Unknown keys are ignored, as the Azure SDKs do; a key given
 * twice is an error, since which one wins would be a guess.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/azstorage.h"

#include "lib/base64.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum key_id {
  K_PROTOCOL,
  K_NAME,
  K_KEY,
  K_SUFFIX,
  K_BLOB,
  K_QUEUE,
  K_SAS,
  K_DEV,
  K_PROXY,
  K_COUNT
};

static const char *const key_names[K_COUNT] = {"DefaultEndpointsProtocol",
                                               "AccountName",
                                               "AccountKey",
                                               "EndpointSuffix",
                                               "BlobEndpoint",
                                               "QueueEndpoint",
                                               "SharedAccessSignature",
                                               "UseDevelopmentStorage",
                                               "DevelopmentStorageProxyUri"};

static bool
same_ci(const char *a, size_t an, const char *b)
{
  size_t bn = strlen(b);
  if (an != bn) return false;
  for (size_t i = 0; i < an; i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = (char)(x + 32);
    if (y >= 'A' && y <= 'Z') y = (char)(y + 32);
    if (x != y) return false;
  }
  return true;
}

static bool
is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char *
dup_n(const char *s, size_t n)
{
  char *d = malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

/* A malloc'd "%s%s%s..." of up to four parts (NULL ends the list). */
static char *
join(const char *a, const char *b, const char *c, const char *d)
{
  const char *parts[4] = {a, b, c, d};
  size_t n = 0;
  for (int i = 0; i < 4 && parts[i]; i++)
    n += strlen(parts[i]);
  char *s = malloc(n + 1);
  if (!s) return NULL;
  size_t o = 0;
  for (int i = 0; i < 4 && parts[i]; i++) {
    size_t k = strlen(parts[i]);
    memcpy(s + o, parts[i], k);
    o += k;
  }
  s[o] = '\0';
  return s;
}

static void
wipe_free(char *s)
{
  if (!s) return;
  volatile char *p = s;
  while (*p)
    *p++ = '\0';
  free(s);
}

void
azs_account_free(struct azs_account *a)
{
  free(a->name);
  if (a->key) {
    volatile uint8_t *k = a->key;
    for (size_t i = 0; i < a->key_len; i++)
      k[i] = 0;
    free(a->key);
  }
  free(a->blob_endpoint);
  free(a->queue_endpoint);
  wipe_free(a->sas);
  memset(a, 0, sizeof *a);
}

/* Only printable ASCII without spaces may go into a URL we send. */
static bool
url_safe(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) return false;
  return true;
}

static bool
is_http_url(const char *s)
{
  return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* A copy of an endpoint URL without trailing '/'; NULL if not a URL. */
static char *
endpoint(const char *v)
{
  if (!is_http_url(v) || strpbrk(v, "?# ")) return NULL;
  size_t n = strlen(v);
  while (n && v[n - 1] == '/')
    n--;
  const char *host = strstr(v, "://") + 3;
  if ((size_t)(host - v) >= n) return NULL; /* no host */
  return dup_n(v, n);
}

static bool
name_ok(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || n > 64) return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
      return false;
  return true;
}

/* The development storage endpoints, optionally on a proxy's host. */
static int
dev_account(struct azs_account *a, const char *proxy, char *err, size_t n)
{
  char host[512] = "http://127.0.0.1";
  if (proxy) {
    if (!is_http_url(proxy) || !url_safe(proxy)) {
      snprintf(err, n, "DevelopmentStorageProxyUri is not an http(s) URL");
      return -1;
    }
    const char *h = strstr(proxy, "://") + 3;
    size_t hl = strcspn(h, ":/?#");
    if (hl == 0 || (size_t)(h - proxy) + hl >= sizeof host) {
      snprintf(err, n, "DevelopmentStorageProxyUri has no usable host");
      return -1;
    }
    snprintf(host, sizeof host, "%.*s", (int)((size_t)(h - proxy) + hl), proxy);
  }
  uint8_t key[64];
  long kl = base64_decode(AZS_DEV_KEY, strlen(AZS_DEV_KEY), key);
  a->dev = true;
  a->name = dup_n(AZS_DEV_ACCOUNT, strlen(AZS_DEV_ACCOUNT));
  a->key = kl > 0 ? malloc((size_t)kl) : NULL;
  a->blob_endpoint = join(host, ":10000/", AZS_DEV_ACCOUNT, NULL);
  a->queue_endpoint = join(host, ":10001/", AZS_DEV_ACCOUNT, NULL);
  if (!a->name || !a->key || !a->blob_endpoint || !a->queue_endpoint) {
    snprintf(err, n, "out of memory");
    return -1;
  }
  memcpy(a->key, key, (size_t)kl);
  a->key_len = (size_t)kl;
  return 0;
}

static int
fail(struct azs_account *a, char **vals, char *err, size_t n, const char *msg,
     const char *key)
{
  snprintf(err, n, "connection string: %s%s", msg, key ? key : "");
  for (int i = 0; i < K_COUNT; i++)
    wipe_free(vals[i]);
  azs_account_free(a);
  return -1;
}

int
azs_parse(const char *cs, struct azs_account *a, char *err, size_t n)
{
  char *vals[K_COUNT] = {0};
  memset(a, 0, sizeof *a);
  const char *p = cs;
  while (*p) {
    size_t seg = strcspn(p, ";");
    const char *s = p, *e = p + seg;
    p = *e ? e + 1 : e;
    while (s < e && is_space(*s))
      s++;
    while (e > s && is_space(e[-1]))
      e--;
    if (s == e) continue;
    const char *eq = memchr(s, '=', (size_t)(e - s));
    if (!eq || eq == s)
      return fail(a, vals, err, n, "a setting is not Key=Value", NULL);
    const char *ke = eq;
    while (ke > s && is_space(ke[-1]))
      ke--;
    const char *v = eq + 1;
    while (v < e && is_space(*v))
      v++;
    int id = -1;
    for (int k = 0; k < K_COUNT; k++)
      if (same_ci(s, (size_t)(ke - s), key_names[k])) id = k;
    if (id < 0) continue; /* unknown setting: ignored like the SDKs do */
    if (vals[id])
      return fail(a, vals, err, n, "setting given twice: ", key_names[id]);
    vals[id] = dup_n(v, (size_t)(e - v));
    if (!vals[id]) return fail(a, vals, err, n, "out of memory", NULL);
  }

  if (vals[K_DEV]) {
    if (!same_ci(vals[K_DEV], strlen(vals[K_DEV]), "true"))
      return fail(a, vals, err, n, "UseDevelopmentStorage must be true", NULL);
    if (dev_account(a, vals[K_PROXY], err, n) != 0) {
      for (int i = 0; i < K_COUNT; i++)
        wipe_free(vals[i]);
      azs_account_free(a);
      return -1;
    }
    for (int i = 0; i < K_COUNT; i++)
      wipe_free(vals[i]);
    return 0;
  }

  const char *proto = vals[K_PROTOCOL] ? vals[K_PROTOCOL] : "https";
  if (strcmp(proto, "https") != 0 && strcmp(proto, "http") != 0)
    return fail(a, vals, err, n,
                "DefaultEndpointsProtocol must be http "
                "or https",
                NULL);
  const char *suffix = vals[K_SUFFIX] ? vals[K_SUFFIX] : "core.windows.net";
  if (!*suffix || !url_safe(suffix) || strpbrk(suffix, "/?#:@"))
    return fail(a, vals, err, n, "bad value for ", key_names[K_SUFFIX]);
  if (vals[K_NAME]) {
    if (!name_ok(vals[K_NAME]))
      return fail(a, vals, err, n,
                  "AccountName must be lowercase letters and digits", NULL);
    a->name = dup_n(vals[K_NAME], strlen(vals[K_NAME]));
    if (!a->name) return fail(a, vals, err, n, "out of memory", NULL);
  }
  if (vals[K_KEY]) {
    if (!a->name)
      return fail(a, vals, err, n, "AccountKey needs AccountName", NULL);
    size_t kl = strlen(vals[K_KEY]);
    a->key = malloc(kl / 4 * 3 + 3);
    long dl = a->key ? base64_decode(vals[K_KEY], kl, a->key) : -1;
    if (dl <= 0)
      return fail(a, vals, err, n, "AccountKey is not valid base64", NULL);
    a->key_len = (size_t)dl;
  }
  if (vals[K_SAS]) {
    const char *sas = vals[K_SAS];
    if (*sas == '?') sas++;
    if (!*sas || *sas == '?' || !url_safe(sas) || strchr(sas, '#'))
      return fail(a, vals, err, n, "bad value for ", key_names[K_SAS]);
    a->sas = dup_n(sas, strlen(sas));
    if (!a->sas) return fail(a, vals, err, n, "out of memory", NULL);
  }
  if (!a->key && !a->sas)
    return fail(a, vals, err, n,
                "neither AccountKey nor SharedAccessSignature given", NULL);
  if (vals[K_BLOB]) {
    a->blob_endpoint = endpoint(vals[K_BLOB]);
    if (!a->blob_endpoint)
      return fail(a, vals, err, n, "not an http(s) URL: ", key_names[K_BLOB]);
  } else if (a->name) {
    a->blob_endpoint = join(proto, "://", a->name, NULL);
    char *full = a->blob_endpoint
                     ? join(a->blob_endpoint, ".blob.", suffix, NULL)
                     : NULL;
    free(a->blob_endpoint);
    a->blob_endpoint = full;
    if (!full) return fail(a, vals, err, n, "out of memory", NULL);
  } else {
    return fail(a, vals, err, n, "BlobEndpoint or AccountName needed", NULL);
  }
  if (vals[K_QUEUE]) {
    a->queue_endpoint = endpoint(vals[K_QUEUE]);
    if (!a->queue_endpoint)
      return fail(a, vals, err, n, "not an http(s) URL: ", key_names[K_QUEUE]);
  } else if (a->name && !vals[K_BLOB]) {
    char *head = join(proto, "://", a->name, NULL);
    a->queue_endpoint = head ? join(head, ".queue.", suffix, NULL) : NULL;
    free(head);
    if (!a->queue_endpoint) return fail(a, vals, err, n, "out of memory", NULL);
  }
  for (int i = 0; i < K_COUNT; i++)
    wipe_free(vals[i]);
  return 0;
}

bool
azs_container_ok(const char *s)
{
  if (strcmp(s, "$root") == 0 || strcmp(s, "$web") == 0) return true;
  size_t n = strlen(s);
  if (n < 3 || n > 63 || s[0] == '-' || s[n - 1] == '-') return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '-' && s[i + 1] == '-') return false;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return false;
  }
  return true;
}

/* Append s percent-encoded (RFC 3986 unreserved and '/' stay) at o. */
static bool
put_encoded(char *out, size_t n, size_t *o, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || strchr("-._~/", c);
    if (*o + (plain ? 1 : 3) >= n) return false;
    if (plain) {
      out[(*o)++] = (char)c;
    } else {
      out[(*o)++] = '%';
      out[(*o)++] = hex[c >> 4];
      out[(*o)++] = hex[c & 15];
    }
  }
  return true;
}

int
azs_blob_url(const struct azs_account *a, const char *container,
             const char *blob, const char *query, bool with_sas, char *out,
             size_t n)
{
  int r = snprintf(out, n, "%s/%s", a->blob_endpoint, container);
  if (r < 0 || (size_t)r >= n) return -1;
  size_t o = (size_t)r;
  if (blob) {
    if (o + 1 >= n) return -1;
    out[o++] = '/';
    if (!put_encoded(out, n, &o, blob)) return -1;
  }
  bool sas = with_sas && a->sas;
  r = snprintf(out + o, n - o, "%s%s%s%s", query || sas ? "?" : "",
               query ? query : "", query && sas ? "&" : "", sas ? a->sas : "");
  if (r < 0 || (size_t)r >= n - o) return -1;
  return 0;
}

/* y-m-d from days since 1970-01-01 (proleptic Gregorian). */
static void
civil(int64_t z, int *y, int *m, int *d)
{
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

void
azs_rfc1123(int64_t t, char out[32])
{
  static const char wdays[] = "ThuFriSatSunMonTueWed"; /* 1970-01-01: Thu */
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  int64_t sod = t - days * 86400;
  int y, m, d;
  civil(days, &y, &m, &d);
  int wd = (int)(((days % 7) + 7) % 7);
  snprintf(out, 32, "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT", wdays + 3 * wd,
           d, months + 3 * (m - 1), y, (int)(sod / 3600), (int)(sod / 60 % 60),
           (int)(sod % 60));
}

#define MAX_PARAMS 32

static bool
name_is(const char *a, const char *b)
{
  for (; *a && *b; a++, b++) {
    char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
    char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
    if (x != y) return false;
  }
  return !*a && !*b;
}

static const char *
header_value(const struct http_header *h, size_t nh, const char *name)
{
  for (size_t i = 0; i < nh; i++)
    if (name_is(h[i].name, name)) return h[i].value;
  return "";
}

/* Appends to a fixed buffer; the first overflow sticks. */
struct out {
  char *p;
  size_t n, len;
  bool over;
};

static void
put(struct out *o, const char *s, size_t n)
{
  if (o->over || n >= o->n - o->len) {
    o->over = true;
    return;
  }
  memcpy(o->p + o->len, s, n);
  o->len += n;
  o->p[o->len] = '\0';
}

static void
puts_(struct out *o, const char *s)
{
  put(o, s, strlen(s));
}

/* Header value trimmed of surrounding whitespace. */
static void
put_trimmed(struct out *o, const char *v)
{
  while (*v == ' ' || *v == '\t')
    v++;
  size_t n = strlen(v);
  while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
    n--;
  put(o, v, n);
}

static int
cmp_hdr(const void *a, const void *b)
{
  const struct http_header *x = *(const struct http_header *const *)a;
  const struct http_header *y = *(const struct http_header *const *)b;
  for (const char *p = x->name, *q = y->name;; p++, q++) {
    char c = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
    char d = *q >= 'A' && *q <= 'Z' ? (char)(*q + 32) : *q;
    if (c != d || !c) return (unsigned char)c - (unsigned char)d;
  }
}

struct param {
  char name[128];
  char value[1024];
};

static int
cmp_param(const void *a, const void *b)
{
  const struct param *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : strcmp(x->value, y->value);
}

static int
hexv(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
  return -1;
}

/* URL-decode s[0, n) into out (size cap); lowercase if asked. */
static bool
decode(const char *s, size_t n, char *out, size_t cap, bool lower)
{
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%' && i + 2 < n && hexv(s[i + 1]) >= 0 && hexv(s[i + 2]) >= 0) {
      c = (char)(hexv(s[i + 1]) << 4 | hexv(s[i + 2]));
      i += 2;
    } else if (c == '+') {
      c = ' ';
    }
    if (lower && c >= 'A' && c <= 'Z') c = (char)(c + 32);
    if (o + 1 >= cap) return false;
    out[o++] = c;
  }
  out[o] = '\0';
  return true;
}

long
azs_string_to_sign(const char *account, const char *method, const char *url,
                   const struct http_header *h, size_t nh,
                   uint64_t content_length, char *buf, size_t n)
{
  struct out o = {buf, n, 0, n == 0};
  if (n) buf[0] = '\0';
  static const char *const std_headers[] = {"Content-Encoding",
                                            "Content-Language",
                                            NULL,
                                            "Content-MD5",
                                            "Content-Type",
                                            "Date",
                                            "If-Modified-Since",
                                            "If-Match",
                                            "If-None-Match",
                                            "If-Unmodified-Since",
                                            "Range"};
  puts_(&o, method);
  puts_(&o, "\n");
  for (size_t i = 0; i < sizeof std_headers / sizeof std_headers[0]; i++) {
    if (!std_headers[i]) {
      if (content_length) {
        char num[32];
        snprintf(num, sizeof num, "%" PRIu64, content_length);
        puts_(&o, num);
      }
    } else {
      put_trimmed(&o, header_value(h, nh, std_headers[i]));
    }
    puts_(&o, "\n");
  }

  const struct http_header *xms[64];
  size_t nx = 0;
  for (size_t i = 0; i < nh && nx < 64; i++) {
    const char *nm = h[i].name;
    if ((nm[0] | 0x20) == 'x' && nm[1] == '-' && (nm[2] | 0x20) == 'm' &&
        (nm[3] | 0x20) == 's' && nm[4] == '-')
      xms[nx++] = &h[i];
  }
  qsort(xms, nx, sizeof xms[0], cmp_hdr);
  for (size_t i = 0; i < nx; i++) {
    for (const char *p = xms[i]->name; *p; p++) {
      char c = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
      put(&o, &c, 1);
    }
    puts_(&o, ":");
    put_trimmed(&o, xms[i]->value);
    puts_(&o, "\n");
  }

  /* Canonicalized resource: "/" + account + path, then the query. */
  const char *sep = strstr(url, "://");
  if (!sep) return -1;
  const char *path = sep + 3 + strcspn(sep + 3, "/?#");
  size_t plen = strcspn(path, "?#");
  puts_(&o, "/");
  puts_(&o, account);
  if (plen)
    put(&o, path, plen);
  else
    puts_(&o, "/");
  if (path[plen] == '?') {
    struct param params[MAX_PARAMS]; /* about 36 KiB of stack */
    size_t np = 0;
    const char *q = path + plen + 1;
    while (*q && *q != '#') {
      size_t len = strcspn(q, "&#");
      const char *eq = memchr(q, '=', len);
      size_t nl = eq ? (size_t)(eq - q) : len;
      if (len) {
        if (np >= MAX_PARAMS ||
            !decode(q, nl, params[np].name, sizeof params[np].name, true) ||
            !decode(eq ? eq + 1 : q + len, eq ? len - nl - 1 : 0,
                    params[np].value, sizeof params[np].value, false))
          return -1;
        np++;
      }
      q += len;
      if (*q == '&') q++;
    }
    qsort(params, np, sizeof params[0], cmp_param);
    for (size_t i = 0; i < np; i++) {
      bool same = i > 0 && strcmp(params[i].name, params[i - 1].name) == 0;
      if (same) {
        puts_(&o, ",");
      } else {
        puts_(&o, "\n");
        puts_(&o, params[i].name);
        puts_(&o, ":");
      }
      puts_(&o, params[i].value);
    }
  }
  return o.over ? -1 : (long)o.len;
}
