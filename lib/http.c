/*
 * http.c - HTTP requests over libcurl (see http.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_RESPONSE (64u * 1024)

struct http_client {
  CURL *h;
  struct http_client_opts o;
  char *user_agent;
  char *cacert;
  char errbuf[CURL_ERROR_SIZE];
};

/* State of one transfer, shared by the callbacks. */
struct xfer {
  const struct http_request *rq;
  struct http_response *rs;
  size_t off; /* request body bytes sent */
  size_t max; /* response body bytes kept */
  size_t cap;
  bool (*cancel)(void);
  bool cancelled;
};

static char *
dup_str(const char *s)
{
  if (!s) return NULL;
  size_t n = strlen(s);
  char *d = malloc(n + 1);
  if (d) memcpy(d, s, n + 1);
  return d;
}

struct http_client *
http_client_new(const struct http_client_opts *o)
{
  struct http_client *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->o = *o;
  c->user_agent = dup_str(o->user_agent ? o->user_agent : "rtk/" RTK_VERSION);
  c->cacert = o->cacert ? dup_str(o->cacert) : NULL;
  c->h = curl_easy_init();
  if (!c->h || !c->user_agent || (o->cacert && !c->cacert)) {
    http_client_free(c);
    return NULL;
  }
  return c;
}

void
http_client_free(struct http_client *c)
{
  if (!c) return;
  if (c->h) curl_easy_cleanup(c->h);
  free(c->user_agent);
  free(c->cacert);
  free(c);
}

static void
clear_headers(struct http_response *rs)
{
  for (size_t i = 0; i < rs->nheaders; i++) {
    free(rs->hname[i]);
    free(rs->hvalue[i]);
  }
  rs->nheaders = 0;
}

void
http_response_free(struct http_response *rs)
{
  clear_headers(rs);
  free(rs->body);
  rs->body = NULL;
  rs->body_len = 0;
}

const char *
http_response_header(const struct http_response *rs, const char *name)
{
  for (size_t i = 0; i < rs->nheaders; i++) {
    const char *a = rs->hname[i], *b = name;
    while (*a && *b && (*a | 0x20) == (*b | 0x20))
      a++, b++;
    if (!*a && !*b) return rs->hvalue[i];
  }
  return NULL;
}

static size_t
on_read(char *buf, size_t size, size_t nitems, void *ud)
{
  struct xfer *x = ud;
  size_t room = size * nitems, left = x->rq->body_len - x->off;
  size_t n = left < room ? left : room;
  if (n) memcpy(buf, (const char *)x->rq->body + x->off, n);
  x->off += n;
  return n;
}

static int
on_seek(void *ud, curl_off_t offset, int origin)
{
  struct xfer *x = ud;
  if (origin != SEEK_SET || offset < 0 ||
      (uint64_t)offset > (uint64_t)x->rq->body_len)
    return CURL_SEEKFUNC_CANTSEEK;
  x->off = (size_t)offset;
  return CURL_SEEKFUNC_OK;
}

static size_t
on_write(char *data, size_t size, size_t nmemb, void *ud)
{
  struct xfer *x = ud;
  struct http_response *rs = x->rs;
  size_t n = size * nmemb;
  size_t keep = rs->body_len < x->max ? x->max - rs->body_len : 0;
  if (keep > n) keep = n;
  if (keep < n)
    rs->body_truncated = true; /* read on, so the connection stays usable */
  if (keep) {
    if (rs->body_len + keep + 1 > x->cap) {
      size_t nc = x->cap ? x->cap : 4096;
      while (nc < rs->body_len + keep + 1)
        nc *= 2;
      char *nb = realloc(rs->body, nc);
      if (!nb) return 0; /* libcurl reports a write error */
      rs->body = nb;
      x->cap = nc;
    }
    memcpy(rs->body + rs->body_len, data, keep);
    rs->body_len += keep;
    rs->body[rs->body_len] = '\0';
  }
  return n;
}

static size_t
on_header(char *data, size_t size, size_t nitems, void *ud)
{
  struct xfer *x = ud;
  struct http_response *rs = x->rs;
  size_t n = size * nitems;
  if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
    clear_headers(rs); /* a new response (after 100 Continue) */
    return n;
  }
  const char *colon = memchr(data, ':', n);
  if (!colon || rs->nheaders >= HTTP_MAX_HEADERS) return n;
  size_t nl = (size_t)(colon - data);
  const char *v = colon + 1, *end = data + n;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' ||
                     end[-1] == '\t'))
    end--;
  size_t vl = (size_t)(end - v);
  char *name = malloc(nl + 1), *value = malloc(vl + 1);
  if (!name || !value) {
    free(name);
    free(value);
    return n;
  }
  for (size_t i = 0; i < nl; i++) {
    char ch = data[i];
    name[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
  }
  name[nl] = '\0';
  memcpy(value, v, vl);
  value[vl] = '\0';
  rs->hname[rs->nheaders] = name;
  rs->hvalue[rs->nheaders] = value;
  rs->nheaders++;
  return n;
}

static int
on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut,
            curl_off_t un)
{
  (void)dt, (void)dn, (void)ut, (void)un;
  struct xfer *x = ud;
  if (x->cancel && x->cancel()) {
    x->cancelled = true;
    return 1;
  }
  return 0;
}

/* Failures a retry can fix: the peer was unreachable, slow or cut us
 * off. Certificates, URLs and our own memory are not among them. */
static bool
transient_code(CURLcode rc)
{
  switch (rc) {
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_PARTIAL_FILE:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return true;
  default:
    return false;
  }
}

static bool
has_header(const struct http_request *rq, const char *name)
{
  size_t n = strlen(name);
  for (size_t i = 0; i < rq->nheaders; i++) {
    const char *h = rq->headers[i].name;
    if (strlen(h) != n) continue;
    size_t k = 0;
    while (k < n && (h[k] | 0x20) == (name[k] | 0x20))
      k++;
    if (k == n) return true;
  }
  return false;
}

/* The request headers as a curl list; NULL and *ok false on failure. */
static struct curl_slist *
header_list(const struct http_request *rq, bool *ok)
{
  struct curl_slist *list = NULL;
  *ok = true;
  for (size_t i = 0; i < rq->nheaders; i++) {
    const char *name = rq->headers[i].name, *value = rq->headers[i].value;
    size_t n = strlen(name) + strlen(value) + 3;
    char *line = malloc(n);
    if (!line) {
      *ok = false;
      break;
    }
    /* "Name;" sends a header with an empty value; "Name:" removes it. */
    if (*value)
      snprintf(line, n, "%s: %s", name, value);
    else
      snprintf(line, n, "%s;", name);
    struct curl_slist *nl = curl_slist_append(list, line);
    free(line);
    if (!nl) {
      *ok = false;
      break;
    }
    list = nl;
  }
  /* libcurl would label a POST body as a form otherwise. */
  if (*ok && rq->body && !has_header(rq, "Content-Type")) {
    struct curl_slist *nl = curl_slist_append(list, "Content-Type:");
    if (nl)
      list = nl;
    else
      *ok = false;
  }
  if (!*ok) {
    curl_slist_free_all(list);
    list = NULL;
  }
  return list;
}

/* OpenSSL reads --cacert before connecting, Schannel only after the
 * handshake (a plain-HTTP peer then looks like a transient TLS failure):
 * check it here so that a missing CA file is the same permanent error
 * with every TLS backend. */
static bool
cacert_missing(const struct http_client *c, const char *url,
               struct http_response *rs)
{
  if (!c->cacert || strncmp(url, "https:", 6) != 0) return false;
  FILE *f = fopen(c->cacert, "rb");
  if (f) {
    fclose(f);
    return false;
  }
  snprintf(rs->error, sizeof rs->error, "cannot read CA file %s: %s", c->cacert,
           strerror(errno));
  return true;
}

int
http_perform(struct http_client *c, const struct http_request *rq,
             struct http_response *rs)
{
  memset(rs, 0, sizeof *rs);
  if (cacert_missing(c, rq->url, rs)) return -1;
  struct xfer x;
  memset(&x, 0, sizeof x);
  x.rq = rq;
  x.rs = rs;
  x.max = rq->max_response ? rq->max_response : DEFAULT_MAX_RESPONSE;
  x.cancel = c->o.cancel;

  bool ok;
  struct curl_slist *hdrs = header_list(rq, &ok);
  if (!ok) {
    snprintf(rs->error, sizeof rs->error, "out of memory");
    return -1;
  }
  CURL *h = c->h;
  curl_easy_reset(h); /* keeps the live connection */
  c->errbuf[0] = '\0';
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
  curl_easy_setopt(h, CURLOPT_URL, rq->url);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (c->cacert) curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
  if (c->o.connect_timeout_ms)
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)c->o.connect_timeout_ms);
  if (c->o.stall_timeout_ms) {
    long secs = (long)((c->o.stall_timeout_ms + 999) / 1000);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, secs);
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);

  const char *m = rq->method;
  bool has_body = rq->body || strcmp(m, "PUT") == 0 || strcmp(m, "POST") == 0;
  if (has_body) {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->body_len);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &x);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &x);
    if (strcmp(m, "PUT") != 0) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
  } else if (strcmp(m, "HEAD") == 0) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (strcmp(m, "GET") != 0) {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
  }

  CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(hdrs);
  if (rc == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    rs->status = status;
    return 0;
  }
  rs->cancelled = x.cancelled;
  rs->transient = !x.cancelled && transient_code(rc);
  /* Each TLS backend words a refused certificate its own way (Schannel:
   * "CertGetCertificateChain trust error ..."): say it plainly first. */
  int k = 0;
  if (rc == CURLE_PEER_FAILED_VERIFICATION && !x.cancelled)
    k = snprintf(rs->error, sizeof rs->error,
                 "server certificate not trusted: ");
  snprintf(rs->error + k, sizeof rs->error - (size_t)k, "%s",
           x.cancelled    ? "cancelled at shutdown"
           : c->errbuf[0] ? c->errbuf
                          : curl_easy_strerror(rc));
  return -1;
}

void
http_url_safe(const char *url, char *out, size_t n)
{
  size_t k = strcspn(url, "?#");
  snprintf(out, n, "%.*s", (int)(k < 2000 ? k : 2000), url);
}

void
http_describe(const struct http_request *rq, const struct http_response *rs,
              char *out, size_t n)
{
  char url[2048];
  http_url_safe(rq->url, url, sizeof url);
  if (rs->status == 0) {
    snprintf(out, n, "%s %s: %s", rq->method, url, rs->error);
    return;
  }
  const char *code = http_response_header(rs, "x-ms-error-code");
  snprintf(out, n, "%s %s: HTTP %ld%s%s%s", rq->method, url, rs->status,
           code ? " (" : "", code ? code : "", code ? ")" : "");
}
