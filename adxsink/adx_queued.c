/*
 * adx_queued.c - queued ingestion: temp blob plus a message on the
 * data-management service's ready queue (see adx.h).
 *
 * Exactly the steps the official SDK takes (azure.md section 5;
 * azure-recorded/03-queued-ingest-from-file.txt):
 *   1. `.get ingestion resources` on the DM endpoint (db NetDefaultDB):
 *      queue and container URLs with SAS; cached for an hour, dropped
 *      early when storage refuses them; used round robin;
 *   2. `.get kusto identity token`: the authorizationContext, cached too;
 *   3. Put Blob of the gzip'd rows into a TempStorage container with its
 *      SAS, named {db}__{table}__{id}__batch.json.gz, where id comes from
 *      the batch id, so a retried or replayed batch overwrites its own blob;
 *   4. Put Message on a SecuredReadyForAggregationQueue: base64 of the
 *      ingestion JSON, with the fields in the order the SDK sends them.
 * With --wait the message asks for success reports too, and the status
 * queues are read until this blob's outcome arrives.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "adxsink/adx.h"

#include "lib/base64.h"
#include "lib/log.h"
#include "lib/signals.h"
#include "lib/sink_retry.h"
#include "lib/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORAGE_VERSION "2021-12-02"

static void
free_list(char ***v, size_t *n)
{
  for (size_t i = 0; i < *n; i++)
    free((*v)[i]);
  free(*v);
  *v = NULL;
  *n = 0;
}

void
adx_resources_free(struct adx_resources *res)
{
  free_list(&res->queues, &res->nq);
  free_list(&res->containers, &res->nc);
  free_list(&res->failed, &res->nf);
  free_list(&res->succeeded, &res->ns);
  res->fetched_ms = 0;
  if (res->authctx) {
    memset(res->authctx, 0, strlen(res->authctx));
    free(res->authctx);
  }
  res->authctx = NULL;
  res->authctx_ms = 0;
}

static int
push(char ***v, size_t *n, const char *s)
{
  char **nv = realloc(*v, (*n + 1) * sizeof *nv);
  if (!nv) return -1;
  *v = nv;
  size_t len = strlen(s);
  char *c = malloc(len + 1);
  if (!c) return -1;
  memcpy(c, s, len + 1);
  nv[(*n)++] = c;
  return 0;
}

/* Storage URLs from the service: https, or http to a loopback host. */
static bool
storage_url_ok(const char *u)
{
  char host[256];
  if (strncmp(u, "https://", 8) == 0) return strchr(u, '?') ? true : false;
  return strncmp(u, "http://", 7) == 0 && strchr(u, '?') &&
         adx_url_host(u, host, sizeof host) == 0 && adx_host_loopback(host);
}

static int
get_resources(struct adx_ctx *x, struct adx_res *r)
{
  struct adx_resources *res = &x->res;
  uint64_t now = sink_now_ms();
  if (res->fetched_ms && now - res->fetched_ms < ADX_CACHE_MS) return 0;
  free_list(&res->queues, &res->nq);
  free_list(&res->containers, &res->nc);
  free_list(&res->failed, &res->nf);
  free_list(&res->succeeded, &res->ns);
  struct adx_v1 t;
  if (adx_mgmt(x, true, "NetDefaultDB", ".get ingestion resources", &t, r) != 0)
    return -1;
  long kc = adx_v1_col(&t, "ResourceTypeName");
  long uc = adx_v1_col(&t, "StorageRoot");
  int rc = 0;
  size_t bad = 0;
  for (size_t i = 0; i < t.nrows && rc == 0; i++) {
    const char *kind = adx_v1_cell(&t, i, kc), *url = adx_v1_cell(&t, i, uc);
    if (!kind || !url) continue;
    char ***v = NULL;
    size_t *n = NULL;
    if (strcmp(kind, "SecuredReadyForAggregationQueue") == 0)
      v = &res->queues, n = &res->nq;
    else if (strcmp(kind, "TempStorage") == 0)
      v = &res->containers, n = &res->nc;
    else if (strcmp(kind, "FailedIngestionsQueue") == 0)
      v = &res->failed, n = &res->nf;
    else if (strcmp(kind, "SuccessfulIngestionsQueue") == 0)
      v = &res->succeeded, n = &res->ns;
    if (!v) continue;
    if (!storage_url_ok(url)) {
      bad++;
      continue;
    }
    if (push(v, n, url) != 0) {
      adx_res_fail(r, SINK_RETRY, "out of memory");
      rc = -1;
    }
  }
  adx_v1_free(&t);
  if (rc == 0 && (!res->nq || !res->nc)) {
    adx_res_fail(r, SINK_RETRY, ".get ingestion resources: no %s%s",
                 res->nq ? "temporary storage" : "ready queue",
                 bad ? " with a usable (https) URL" : "");
    rc = -1;
  }
  if (rc == 0) {
    res->fetched_ms = now;
    /* Start the rotation at a random place, as the SDKs do, so several
     * sinks spread over the storage accounts. */
    uint8_t rnd[2] = {0, 0};
    uuid_rand_bytes(rnd, sizeof rnd);
    res->qi = rnd[0] % res->nq;
    res->ci = rnd[1] % res->nc;
    log_note("ingestion resources: %zu queues, %zu containers", res->nq,
             res->nc);
  }
  return rc;
}

static int
get_authctx(struct adx_ctx *x, struct adx_res *r)
{
  struct adx_resources *res = &x->res;
  uint64_t now = sink_now_ms();
  if (res->authctx && now - res->authctx_ms < ADX_CACHE_MS) return 0;
  struct adx_v1 t;
  if (adx_mgmt(x, true, "NetDefaultDB", ".get kusto identity token", &t, r) !=
      0)
    return -1;
  const char *v = adx_v1_cell(&t, 0, adx_v1_col(&t, "AuthorizationContext"));
  int rc = -1;
  if (v && *v) {
    free(res->authctx);
    size_t n = strlen(v);
    res->authctx = malloc(n + 1);
    if (res->authctx) {
      memcpy(res->authctx, v, n + 1);
      res->authctx_ms = now;
      rc = 0;
    }
  }
  if (rc != 0)
    adx_res_fail(r, SINK_RETRY,
                 ".get kusto identity token: no AuthorizationContext");
  adx_v1_free(&t);
  return rc;
}

/* url "base?query": base + suffix + "?" + query + extra into out. */
static void
sas_url(struct adx_str *out, const char *url, const char *suffix,
        const char *extra)
{
  const char *q = strchr(url, '?');
  adx_str_addn(out, url, (size_t)(q - url));
  adx_str_add(out, suffix);
  adx_str_add(out, q);
  if (extra) adx_str_add(out, extra);
}

/* A storage request with a SAS (no Authorization header). */
static int
storage(struct adx_ctx *x, const char *what, const char *method,
        const char *url, const char *ctype, const void *body, size_t len,
        long want, struct http_response *rs, struct adx_res *r)
{
  uint8_t u[16];
  char rid[37];
  if (uuid_v4(u) != 0) memset(u, 0x5a, sizeof u);
  uuid_fmt(u, rid);
  struct http_header hd[5];
  size_t n = 0;
  if (ctype) hd[n++] = (struct http_header){"Content-Type", ctype};
  hd[n++] = (struct http_header){"Accept", "application/xml"};
  hd[n++] = (struct http_header){"x-ms-version", STORAGE_VERSION};
  hd[n++] = (struct http_header){"x-ms-client-request-id", rid};
  if (strcmp(method, "PUT") == 0)
    hd[n++] = (struct http_header){"x-ms-blob-type", "BlockBlob"};
  struct http_request rq = {method, url, hd, n, body, len, (size_t)1 << 20};
  if (http_perform(x->http, &rq, rs) == 0 && rs->status == want) return 0;
  char desc[300];
  http_describe(&rq, rs, desc, sizeof desc);
  r->status = rs->status;
  const char *code = http_response_header(rs, "x-ms-error-code");
  snprintf(r->code, sizeof r->code, "%s", code ? code : "");
  enum sink_status st;
  if (rs->status == 0)
    st = rs->transient || rs->cancelled ? SINK_RETRY : SINK_FATAL;
  else
    st = sink_retry_transient(rs->status, false) ? SINK_RETRY : SINK_FAIL;
  r->retry_after_ms =
      sink_retry_after_ms(http_response_header(rs, "retry-after"), adx_now_s());
  adx_res_fail(r, st, "%s: %s", what, desc);
  return -1;
}

/* The SAS was refused or the container/queue is gone: fetch again. */
static bool
stale_resources(const struct adx_res *r)
{
  return r->status == 403 || r->status == 404;
}

static void
message_json(struct adx_ctx *x, struct adx_str *j, const char *blob_url,
             size_t raw, const char *guid)
{
  char now[32];
  adx_utc_iso(now);
  adx_str_add(j, "{\"IngestionStatusInTable\":null,"
                 "\"ApplicationForTracing\":\"adxsink\","
                 "\"ClientVersionForTracing\":\"adxsink:{" RTK_VERSION "}\","
                 "\"BlobPath\":");
  adx_str_add_json(j, blob_url);
  adx_str_addf(j, ",\"RawDataSize\":%zu,\"DatabaseName\":", raw);
  adx_str_add_json(j, x->db);
  adx_str_add(j, ",\"TableName\":");
  adx_str_add_json(j, x->table);
  adx_str_addf(j,
               ",\"RetainBlobOnSuccess\":true,\"FlushImmediately\":false,"
               "\"IgnoreSizeLimit\":false,\"ReportLevel\":%d,"
               "\"ReportMethod\":0,\"SourceMessageCreationTime\":\"%s\","
               "\"Id\":\"%s\",\"AdditionalProperties\":"
               "{\"authorizationContext\":",
               x->wait ? 2 : 0, now, guid);
  adx_str_add_json(j, x->res.authctx);
  adx_str_add(j, ",\"ingestionMappingReference\":");
  adx_str_add_json(j, x->mapping);
  adx_str_add(j, ",\"format\":\"multijson\"}}");
}

/* The text between <tag> and </tag> in [p, e), or NULL. */
static const char *
xml_field(const char *p, const char *e, const char *tag, size_t *len)
{
  char open[48], close[48];
  snprintf(open, sizeof open, "<%s>", tag);
  snprintf(close, sizeof close, "</%s>", tag);
  size_t ol = strlen(open), cl = strlen(close);
  for (const char *q = p; q + ol <= e; q++) {
    if (memcmp(q, open, ol) != 0) continue;
    const char *v = q + ol;
    for (const char *z = v; z + cl <= e; z++)
      if (memcmp(z, close, cl) == 0) {
        *len = (size_t)(z - v);
        return v;
      }
    return NULL;
  }
  return NULL;
}

/* Look at one status queue: 1 and *st filled when our outcome was there,
 * 0 when not, -1 on failure. */
static int
poll_status(struct adx_ctx *x, const char *queue, bool failed, const char *guid,
            struct adx_status *out)
{
  struct adx_str url;
  adx_str_init(&url);
  sas_url(&url, queue, "/messages", "&numofmessages=32&visibilitytimeout=2");
  struct http_response rs;
  struct adx_res r;
  adx_res_init(&r);
  int found = -1;
  if (url.oom || storage(x, "status queue", "GET", url.p, NULL, NULL, 0, 200,
                         &rs, &r) != 0) {
    if (!url.oom) http_response_free(&rs);
    adx_str_free(&url);
    return -1;
  }
  found = 0;
  const char *p = rs.body ? rs.body : "", *end = p + rs.body_len;
  for (;;) {
    const char *m = strstr(p, "<QueueMessage>");
    if (!m || m >= end) break;
    const char *me = strstr(m, "</QueueMessage>");
    if (!me) break;
    size_t idl, popl, txl;
    const char *id = xml_field(m, me, "MessageId", &idl);
    const char *pop = xml_field(m, me, "PopReceipt", &popl);
    const char *tx = xml_field(m, me, "MessageText", &txl);
    p = me + 1;
    if (!id || !pop || !tx || idl > 64 || popl > 256 || txl > 65536) continue;
    uint8_t *dec = malloc(txl / 4 * 3 + 3);
    long dl = dec ? base64_decode(tx, txl, dec) : -1;
    struct adx_status s;
    bool ours = dl > 0 &&
                adx_status_parse((const char *)dec, (size_t)dl, &s) == 0 &&
                strcmp(s.source_id, guid) == 0;
    free(dec);
    if (!ours) continue;
    *out = s;
    if (!failed) out->code[0] = '\0';
    found = failed ? 2 : 1;
    /* Delete the report: it has been read. */
    char idb[65], popb[257];
    snprintf(idb, sizeof idb, "%.*s", (int)idl, id);
    snprintf(popb, sizeof popb, "%.*s", (int)popl, pop);
    struct adx_str del;
    adx_str_init(&del);
    const char *q = strchr(queue, '?');
    adx_str_addn(&del, queue, (size_t)(q - queue));
    adx_str_add(&del, "/messages/");
    adx_str_add_pct(&del, idb);
    adx_str_add(&del, "?popreceipt=");
    adx_str_add_pct(&del, popb);
    adx_str_addn(&del, "&", 1);
    adx_str_add(&del, q + 1);
    if (!del.oom) {
      struct http_response drs;
      struct adx_res dr;
      adx_res_init(&dr);
      storage(x, "status queue", "DELETE", del.p, NULL, NULL, 0, 204, &drs,
              &dr);
      http_response_free(&drs);
    }
    adx_str_free(&del);
    break;
  }
  http_response_free(&rs);
  adx_str_free(&url);
  return found;
}

static void
wait_outcome(struct adx_ctx *x, const char *guid, struct adx_res *r)
{
  uint64_t deadline = sink_now_ms() + x->wait_ms;
  while (sink_now_ms() < deadline && !sink_cancelled()) {
    struct adx_status s;
    for (size_t i = 0; i < x->res.nf + x->res.ns; i++) {
      bool failed = i < x->res.nf;
      const char *q =
          failed ? x->res.failed[i] : x->res.succeeded[i - x->res.nf];
      int got = poll_status(x, q, failed, guid, &s);
      if (got == 1) {
        log_note("ingestion %s succeeded", guid);
        return;
      }
      if (got == 2) {
        snprintf(r->code, sizeof r->code, "%s", s.code);
        adx_res_fail(r, s.permanent ? SINK_FAIL : SINK_RETRY,
                     "queued ingestion %s failed: %s: %s", guid,
                     s.code[0] ? s.code : "(no error code)", s.details);
        return;
      }
    }
    sig_sleep_ms(300);
  }
  if (!sink_cancelled())
    log_warn("ingestion %s: no status report after %" PRIu64
             " s; the rows are queued",
             guid, x->wait_ms / 1000);
}

void
adx_queued_deliver(struct adx_ctx *x, const char *rows, size_t len,
                   size_t nrows, const char *id, struct adx_res *r)
{
  char guid[37];
  if (adx_guid_from_hex(id, guid) != 0) {
    uint8_t u[16];
    uuid_v4(u);
    uuid_fmt(u, guid);
  }
  struct adx_str gz, name, blob, msg, body;
  adx_str_init(&gz);
  adx_str_init(&name);
  adx_str_init(&blob);
  adx_str_init(&msg);
  adx_str_init(&body);
  char *b64 = NULL;
  if (adx_gzip(rows, len, &gz) != 0) {
    adx_res_fail(r, SINK_RETRY, "gzip: out of memory");
    goto out;
  }
  adx_str_add(&name, "/");
  adx_str_add_pct(&name, x->db);
  adx_str_add(&name, "__");
  adx_str_add_pct(&name, x->table);
  adx_str_addf(&name, "__%s__batch.json.gz", guid);
  /* Upload, and when storage refuses the SAS, fetch resources once more. */
  for (int attempt = 0;; attempt++) {
    if (get_resources(x, r) != 0) goto out;
    const char *cont = x->res.containers[x->res.ci++ % x->res.nc];
    adx_str_clear(&blob);
    sas_url(&blob, cont, name.p ? name.p : "", NULL);
    if (blob.oom || name.oom) {
      adx_res_fail(r, SINK_RETRY, "out of memory");
      goto out;
    }
    struct http_response rs;
    int rc = storage(x, "blob upload", "PUT", blob.p,
                     "application/octet-stream", gz.p, gz.len, 201, &rs, r);
    http_response_free(&rs);
    if (rc == 0) break;
    if (attempt == 0 && stale_resources(r)) {
      log_note("%s; fetching the ingestion resources again", r->msg);
      x->res.fetched_ms = 0;
      adx_res_init(r);
      continue;
    }
    goto out;
  }
  if (get_authctx(x, r) != 0) goto out;
  message_json(x, &msg, blob.p, len, guid);
  if (msg.oom || !(b64 = malloc(BASE64_ENCODED_LEN(msg.len) + 1))) {
    adx_res_fail(r, SINK_RETRY, "out of memory");
    goto out;
  }
  base64_encode(msg.p, msg.len, b64);
  adx_str_add(&body, "<?xml version=\"1.0\" encoding=\"UTF-8\" "
                     "standalone=\"yes\"?><QueueMessage><MessageText>");
  adx_str_add(&body, b64);
  adx_str_add(&body, "</MessageText></QueueMessage>");
  for (int attempt = 0;; attempt++) {
    const char *queue = x->res.queues[x->res.qi++ % x->res.nq];
    struct adx_str qurl;
    adx_str_init(&qurl);
    sas_url(&qurl, queue, "/messages", NULL);
    if (qurl.oom || body.oom) {
      adx_str_free(&qurl);
      adx_res_fail(r, SINK_RETRY, "out of memory");
      goto out;
    }
    struct http_response rs;
    int rc = storage(x, "queue message", "POST", qurl.p, "application/xml",
                     body.p, body.len, 201, &rs, r);
    http_response_free(&rs);
    adx_str_free(&qurl);
    if (rc == 0) break;
    if (attempt == 0 && stale_resources(r)) {
      x->res.fetched_ms = 0;
      adx_res_init(r);
      if (get_resources(x, r) != 0) goto out;
      continue;
    }
    goto out;
  }
  log_note("queued %zu rows (%zu bytes, %zu gzip'd) as %s", nrows, len, gz.len,
           guid);
  if (x->wait) wait_outcome(x, guid, r);
out:
  free(b64);
  adx_str_free(&gz);
  adx_str_free(&name);
  adx_str_free(&blob);
  adx_str_free(&msg);
  adx_str_free(&body);
}
