/*
 * blob_put.c - create the container, upload one batch (see blob.h).
 *
 * Statuses map onto the engine's: 201 delivered; 408/429/5xx and
 * connection failures retried; 401/403 fatal (the key or SAS is wrong:
 * every later batch would fail the same way); a missing container is
 * created again and the upload retried; anything else fails this batch.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "blobsink/blob.h"

#include "lib/log.h"
#include "lib/sink_retry.h"
#include "lib/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define MAX_HEADERS 10

/* The common x-ms-* headers; returns how many were set. */
static size_t
base_headers(const struct blob *bl, struct http_header *h, char *date,
             char *reqid)
{
  size_t n = 0;
  uint8_t u[16];
  if (uuid_v4(u) != 0) memset(u, 0, sizeof u);
  uuid_fmt(u, reqid);
  h[n++] = (struct http_header){"x-ms-version", AZS_API_VERSION};
  h[n++] = (struct http_header){"x-ms-client-request-id", reqid};
  if (bl->acct.key) {
    azs_rfc1123((int64_t)time(NULL), date);
    h[n++] = (struct http_header){"x-ms-date", date};
  }
  return n;
}

/* Sign (SharedKey) and send; -1 when signing failed. */
static int
send_request(struct blob *bl, struct http_request *rq, struct http_header *h,
             size_t nh, struct http_response *rs, char *auth, size_t an)
{
  if (bl->acct.key) {
    if (azs_sharedkey(&bl->acct, rq->method, rq->url, h, nh, rq->body_len, auth,
                      an) != 0)
      return -1;
    h[nh++] = (struct http_header){"Authorization", auth};
  }
  rq->headers = h;
  rq->nheaders = nh;
  http_perform(bl->http, rq, rs);
  return 0;
}

/* Fill r for a failed request; returns the status to report. */
static enum sink_status
failed(const struct http_request *rq, const struct http_response *rs,
       struct sink_result *r, const char *hint)
{
  char what[600];
  http_describe(rq, rs, what, sizeof what);
  snprintf(r->msg, sizeof r->msg, "%s%s%s", what, hint ? ": " : "",
           hint ? hint : "");
  if (rs->status == 401 || rs->status == 403) return SINK_FATAL;
  if (sink_retry_transient(rs->status, rs->transient) || rs->cancelled) {
    r->retry_after_ms = sink_retry_after_ms(
        http_response_header(rs, "retry-after"), (int64_t)time(NULL));
    return SINK_RETRY;
  }
  return SINK_FAIL;
}

static const char *
auth_hint(const struct blob *bl)
{
  return bl->acct.key ? "the account refused our signature; check "
                        "AccountName and AccountKey"
                      : "the SAS was refused; check its permissions "
                        "(create, write) and expiry";
}

static enum sink_status
create_container(struct blob *bl, struct sink_result *r)
{
  char url[4096], date[32], reqid[37], auth[256];
  if (azs_blob_url(&bl->acct, bl->container, NULL, "restype=container", true,
                   url, sizeof url) != 0) {
    snprintf(r->msg, sizeof r->msg, "container URL too long");
    return SINK_FATAL;
  }
  struct http_header h[MAX_HEADERS];
  size_t nh = base_headers(bl, h, date, reqid);
  struct http_request rq = {"PUT", url, NULL, 0, NULL, 0, 0};
  struct http_response rs;
  if (send_request(bl, &rq, h, nh, &rs, auth, sizeof auth) != 0) {
    snprintf(r->msg, sizeof r->msg, "cannot sign the request");
    return SINK_FATAL;
  }
  enum sink_status st = SINK_OK;
  const char *code = http_response_header(&rs, "x-ms-error-code");
  if (rs.status == 201) {
    log_note("created container %s", bl->container);
    bl->container_ready = true;
  } else if (rs.status == 409 && code &&
             strcmp(code, "ContainerAlreadyExists") == 0) {
    bl->container_ready = true;
  } else if (rs.status == 403 && !bl->acct.key) {
    /* A SAS that may not create containers may still write blobs. */
    log_note("the SAS may not create containers; assuming %s exists",
             bl->container);
    bl->container_ready = true;
  } else if (rs.status == 409) {
    st = SINK_RETRY; /* e.g. ContainerBeingDeleted */
    failed(&rq, &rs, r, NULL);
  } else {
    st = failed(&rq, &rs, r,
                rs.status == 403 || rs.status == 401 ? auth_hint(bl) : NULL);
    if (st == SINK_FAIL)
      st = SINK_FATAL; /* a container we cannot create: no batch can land */
  }
  http_response_free(&rs);
  return st;
}

void
blob_name(const struct blob *bl, const char *id, char *out, size_t n)
{
  uint8_t u[16];
  char first[37];
  if (uuid_parse_n(id, u) != 0) memset(u, 0, sizeof u);
  uuid_fmt(u, first);
  snprintf(out, n, "%s_1_%.32s.%s%s", first, id + 32,
           bl->ndjson ? "ndjson" : "json", bl->gzip ? ".gz" : "");
}

static int
reserve(struct blob *bl, size_t n)
{
  if (bl->body_cap >= n) return 0;
  uint8_t *nb = realloc(bl->body, n);
  if (!nb) return -1;
  bl->body = nb;
  bl->body_cap = n;
  return 0;
}

/* The request body for batch b into bl->body; its length, or -1. */
static long
make_body(struct blob *bl, const struct sink_batch *b, const uint8_t **out)
{
  const uint8_t *src = (const uint8_t *)b->buf;
  size_t len = b->len;
  if (!bl->ndjson) {
    /* "[row,row,...,row]": the rows with their '\n's turned into ','. */
    if (reserve(bl, len + 1) != 0) return -1;
    bl->body[0] = '[';
    memcpy(bl->body + 1, b->buf, len);
    uint8_t *end = bl->body + len + 1;
    for (uint8_t *q = memchr(bl->body + 1, '\n', len); q;
         q = memchr(q + 1, '\n', (size_t)(end - q - 1)))
      *q = ',';
    bl->body[len] = ']';
    src = bl->body;
    len = len + 1;
  }
  if (!bl->gzip) {
    *out = src;
    return (long)len;
  }
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    return -1;
  size_t bound = deflateBound(&z, (uLong)len);
  /* The JSON array sits at the start of bl->body: compress into the
   * space after it. */
  size_t off = src == bl->body ? len : 0;
  if (reserve(bl, off + bound) != 0) {
    deflateEnd(&z);
    return -1;
  }
  if (src != (const uint8_t *)b->buf) src = bl->body;
  z.next_in = (Bytef *)src;
  z.avail_in = (uInt)len;
  z.next_out = bl->body + off;
  z.avail_out = (uInt)bound;
  int zr = deflate(&z, Z_FINISH);
  long outlen = (long)z.total_out;
  deflateEnd(&z);
  if (zr != Z_STREAM_END) return -1;
  *out = bl->body + off;
  return outlen;
}

enum sink_status
blob_deliver(void *ctx, struct sink_batch *b, struct sink_result *r)
{
  struct blob *bl = ctx;
  if (!bl->container_ready && bl->can_create) {
    enum sink_status st = create_container(bl, r);
    if (st != SINK_OK) return st;
  }
  const uint8_t *body;
  long blen = make_body(bl, b, &body);
  if (blen < 0) {
    snprintf(r->msg, sizeof r->msg,
             "out of memory building a batch of %zu "
             "rows",
             b->rows);
    return SINK_FAIL;
  }
  char name[128], url[4096], date[32], reqid[37], auth[256];
  blob_name(bl, b->id, name, sizeof name);
  if (azs_blob_url(&bl->acct, bl->container, name, NULL, true, url,
                   sizeof url) != 0) {
    snprintf(r->msg, sizeof r->msg, "blob URL too long");
    return SINK_FATAL;
  }
  struct http_header h[MAX_HEADERS];
  size_t nh = base_headers(bl, h, date, reqid);
  h[nh++] = (struct http_header){"x-ms-blob-type", "BlockBlob"};
  h[nh++] = (struct http_header){"x-ms-blob-content-type",
                                 bl->ndjson ? "application/x-ndjson"
                                            : "application/json"};
  if (bl->gzip)
    h[nh++] = (struct http_header){"x-ms-blob-content-encoding", "gzip"};
  h[nh++] = (struct http_header){"Content-Type", "application/octet-stream"};
  struct http_request rq = {"PUT", url, NULL, 0, body, (size_t)blen, 0};
  struct http_response rs;
  if (send_request(bl, &rq, h, nh, &rs, auth, sizeof auth) != 0) {
    snprintf(r->msg, sizeof r->msg, "cannot sign the request");
    return SINK_FATAL;
  }
  enum sink_status st = SINK_OK;
  const char *code = http_response_header(&rs, "x-ms-error-code");
  if (rs.status == 201) {
    log_note("uploaded %s (%zu rows, %ld bytes)", name, b->rows, blen);
  } else if (rs.status == 404 && code &&
             strcmp(code, "ContainerNotFound") == 0) {
    bl->container_ready = false;
    st = failed(&rq, &rs, r,
                bl->can_create ? "the container is gone; creating it again"
                               : "the container does not exist and the SAS "
                                 "cannot create it");
    st = bl->can_create ? SINK_RETRY : SINK_FATAL;
  } else {
    st = failed(&rq, &rs, r,
                rs.status == 401 || rs.status == 403 ? auth_hint(bl) : NULL);
  }
  http_response_free(&rs);
  return st;
}

void
blob_free(struct blob *bl)
{
  free(bl->body);
  bl->body = NULL;
  bl->body_cap = 0;
}
