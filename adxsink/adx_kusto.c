/*
 * adx_kusto.c - Kusto requests: the headers the SDKs send, a bearer
 * token, one retry with a fresh token after 401, and what a failure means
 * for the batch (see adx.h).
 *
 * Headers as recorded from the official SDK (azure-recorded/01..03):
 * Accept: application/json, x-ms-client-request-id "<prefix>;<uuid>",
 * x-ms-app and x-ms-client-version "Name:{version}". Decisions follow
 * azure.md section 6: the HTTP status and the error body's @permanent
 * flag, never message text. 401 after a fresh token and 403 stop the
 * destination (the identity is not allowed in); other permanent errors
 * fail the batch; 408, 429 and 5xx (unless @permanent) are retried.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "adxsink/adx.h"

#include "lib/log.h"
#include "lib/sink_retry.h"
#include "lib/uuid.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT_VERSION "adxsink:{" RTK_VERSION "}"

void
adx_res_init(struct adx_res *r)
{
  memset(r, 0, sizeof *r);
  r->st = SINK_OK;
  r->retry_after_ms = -1;
}

void
adx_res_fail(struct adx_res *r, enum sink_status st, const char *fmt, ...)
{
  r->st = st;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->msg, sizeof r->msg, fmt, ap);
  va_end(ap);
}

void
adx_classify(const struct adx_ctx *x, const char *what,
             const struct http_request *rq, const struct http_response *rs,
             struct adx_res *r)
{
  char desc[300];
  http_describe(rq, rs, desc, sizeof desc);
  r->status = rs->status;
  r->code[0] = '\0';
  if (rs->status == 0) {
    adx_res_fail(r, rs->transient || rs->cancelled ? SINK_RETRY : SINK_FATAL,
                 "%s: %s", what, desc);
    return;
  }
  struct adx_kerr e;
  adx_kerr_parse(rs->body, rs->body_len, &e);
  snprintf(r->code, sizeof r->code, "%s", e.code);
  const char *ra = http_response_header(rs, "retry-after");
  r->retry_after_ms = sink_retry_after_ms(ra, adx_now_s());
  enum sink_status st;
  const char *hint = "";
  if (rs->status == 401) {
    st = SINK_FATAL;
    hint = x->auth.kind == ADX_AUTH_TOKEN
               ? " (the service refused the fixed token: expired, or "
                 "issued for another resource)"
               : " (the service refused a fresh token)";
  } else if (rs->status == 403) {
    st = SINK_FATAL;
    hint = " (the identity lacks permission)";
  } else {
    bool permanent = e.permanent >= 0
                         ? e.permanent == 1
                         : !sink_retry_transient(rs->status, false);
    st = permanent ? SINK_FAIL : SINK_RETRY;
  }
  adx_res_fail(r, st, "%s: %s %s%s%s%s", what, desc,
               e.code[0] ? e.code : "(no error code)", e.message[0] ? ": " : "",
               e.message, hint);
}

int
adx_kusto_send(struct adx_ctx *x, const char *what, const char *rid,
               struct http_request *rq, struct http_response *rs,
               struct adx_res *r)
{
  uint8_t u[16];
  char uuid[37], reqid[96];
  if (uuid_v4(u) != 0) memset(u, 0x5a, sizeof u);
  uuid_fmt(u, uuid);
  snprintf(reqid, sizeof reqid, "%s;%s", rid, uuid);
  struct http_header hd[HTTP_MAX_HEADERS];
  size_t n = 0;
  for (size_t i = 0; i < rq->nheaders && n < HTTP_MAX_HEADERS - 5; i++)
    hd[n++] = rq->headers[i];
  hd[n++] = (struct http_header){"x-ms-client-request-id", reqid};
  hd[n++] = (struct http_header){"x-ms-app", "adxsink"};
  hd[n++] = (struct http_header){"x-ms-client-version", CLIENT_VERSION};
  size_t auth_at = n++;
  struct http_request req = *rq;
  req.headers = hd;
  req.nheaders = n;
  memset(rs, 0, sizeof *rs);
  for (int attempt = 0; attempt < 2; attempt++) {
    const char *tok;
    if (adx_auth_get(&x->auth, x->http, attempt > 0, &tok, r) != 0) return -1;
    struct adx_str bearer;
    adx_str_init(&bearer);
    adx_str_add(&bearer, "Bearer ");
    adx_str_add(&bearer, tok);
    if (bearer.oom) {
      adx_str_free(&bearer);
      adx_res_fail(r, SINK_RETRY, "out of memory");
      return -1;
    }
    hd[auth_at] = (struct http_header){"Authorization", bearer.p};
    http_response_free(rs);
    int rc = http_perform(x->http, &req, rs);
    memset(bearer.p, 0, bearer.len);
    adx_str_free(&bearer);
    if (rc == 0 && rs->status >= 200 && rs->status < 300) return 0;
    if (rc == 0 && rs->status == 401 && attempt == 0 &&
        x->auth.kind != ADX_AUTH_TOKEN) {
      log_note("%s: HTTP 401; fetching a new token", what);
      continue;
    }
    break;
  }
  adx_classify(x, what, &req, rs, r);
  return -1;
}

int
adx_mgmt(struct adx_ctx *x, bool dm, const char *db, const char *csl,
         struct adx_v1 *out, struct adx_res *r)
{
  struct adx_str body, url, what;
  adx_str_init(&body);
  adx_str_init(&url);
  adx_str_init(&what);
  adx_str_add(&body, "{\"db\":");
  adx_str_add_json(&body, db);
  adx_str_add(&body, ",\"csl\":");
  adx_str_add_json(&body, csl);
  adx_str_addn(&body, "}", 1);
  adx_str_add(&url, dm ? x->ingest : x->engine);
  adx_str_add(&url, "/v1/rest/mgmt");
  /* Name the command in messages by its first words, not its data. */
  size_t k = 0, words = 0;
  while (csl[k] && k < 60) {
    if (csl[k] == ' ' && ++words == 3) break;
    k++;
  }
  adx_str_addn(&what, csl, k);
  int rc = -1;
  if (body.oom || url.oom || what.oom) {
    adx_res_fail(r, SINK_RETRY, "out of memory");
    goto out;
  }
  struct http_header hd[] = {
      {"Accept", "application/json"},
      {"Content-Type", "application/json; charset=utf-8"}};
  struct http_request rq = {"POST",   url.p,          hd, 2, body.p,
                            body.len, (size_t)4 << 20};
  struct http_response rs;
  log_note("%s: %s", dm ? "data management" : "engine", what.p);
  if (adx_kusto_send(x, what.p, "adxsink.mgmt", &rq, &rs, r) == 0) {
    char err[128];
    if (!out) {
      rc = 0;
    } else if (adx_v1_parse(rs.body, rs.body_len, out, err, sizeof err) == 0) {
      rc = 0;
    } else {
      adx_res_fail(r, SINK_RETRY, "%s: %s", what.p, err);
    }
  }
  http_response_free(&rs);
out:
  adx_str_free(&body);
  adx_str_free(&url);
  adx_str_free(&what);
  return rc;
}
