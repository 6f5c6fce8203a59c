/*
 * adx_auth.c - access tokens: fixed, client credentials, managed identity
 * and device code (see adx_auth.h).
 *
 * Requests follow azure.md section 1 and the recorded client-credentials
 * exchange (azure-recorded/05-aad-client-credentials.txt): a form POST to
 * {login}/{tenant}/oauth2/v2.0/token with the secret form-encoded. Error
 * descriptions from Entra ID (AADSTSnnnn) are passed on; they never
 * contain the secret.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "adxsink/adx.h"

#include "lib/log.h"
#include "lib/signals.h"
#include "lib/sink_retry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIFETIME_S 3600

const char *
adx_auth_kind_name(enum adx_auth_kind k)
{
  switch (k) {
  case ADX_AUTH_TOKEN:
    return "fixed token";
  case ADX_AUTH_APPKEY:
    return "application key";
  case ADX_AUTH_MSI:
    return "managed identity";
  case ADX_AUTH_DEVICE:
    return "device code";
  }
  return "?";
}

static void
wipe_free(char **s)
{
  if (!*s) return;
  volatile char *p = *s;
  while (*p)
    *p++ = 0;
  free(*s);
  *s = NULL;
}

void
adx_auth_free(struct adx_auth *a)
{
  wipe_free(&a->secret);
  wipe_free(&a->token);
  wipe_free(&a->refresh);
}

void
adx_form_add(struct adx_str *s, const char *name, const char *value)
{
  if (s->len) adx_str_addn(s, "&", 1);
  adx_str_add_pct(s, name);
  adx_str_addn(s, "=", 1);
  adx_str_add_pct(s, value);
}

/* Keep a new token; take over t's strings. */
static void
keep_token(struct adx_auth *a, struct adx_token *t)
{
  wipe_free(&a->token);
  a->token = t->access_token;
  t->access_token = NULL;
  if (t->refresh_token) {
    wipe_free(&a->refresh);
    a->refresh = t->refresh_token;
    t->refresh_token = NULL;
  }
  int64_t life = t->expires_in > 0 ? t->expires_in : DEFAULT_LIFETIME_S;
  int64_t margin = life / 2 < 300 ? life / 2 : 300;
  uint64_t now = sink_now_ms();
  a->refresh_at_ms = now + (uint64_t)(life - margin) * 1000;
  a->expires_at_ms = now + (uint64_t)life * 1000;
  a->fetched++;
  log_note("got a %s token valid for %" PRId64 " s",
           adx_auth_kind_name(a->kind), life);
}

/* The Kusto resource id from the engine's auth metadata, once. */
static void
find_resource(struct adx_auth *a, struct http_client *h)
{
  if (a->resource_done) return;
  snprintf(a->resource, sizeof a->resource, "%s", ADX_KUSTO_RESOURCE);
  struct adx_str url;
  adx_str_init(&url);
  adx_str_add(&url, a->engine);
  adx_str_add(&url, "/v1/rest/auth/metadata");
  if (url.oom) {
    adx_str_free(&url);
    return;
  }
  struct http_header hd[] = {{"Accept", "application/json"}};
  struct http_request rq = {"GET", url.p, hd, 1, NULL, 0, 0};
  struct http_response rs;
  if (http_perform(h, &rq, &rs) == 0) {
    a->resource_done = true;
    if (rs.status == 200 &&
        adx_metadata_resource(rs.body, rs.body_len, a->resource,
                              sizeof a->resource) != 0)
      snprintf(a->resource, sizeof a->resource, "%s", ADX_KUSTO_RESOURCE);
    log_note("token scope: %s/.default", a->resource);
  }
  http_response_free(&rs);
  adx_str_free(&url);
}

/* r from a failed token request. */
static void
token_failure(const char *what, const struct http_request *rq,
              const struct http_response *rs, const struct adx_token *t,
              struct adx_res *r)
{
  char desc[256];
  http_describe(rq, rs, desc, sizeof desc);
  r->status = rs->status;
  if (rs->status == 0) {
    adx_res_fail(r, rs->transient || rs->cancelled ? SINK_RETRY : SINK_FATAL,
                 "%s: %s", what, desc);
    return;
  }
  const char *ra = http_response_header(rs, "retry-after");
  r->retry_after_ms = sink_retry_after_ms(ra, adx_now_s());
  snprintf(r->code, sizeof r->code, "%s", t->error);
  bool transient = sink_retry_transient(rs->status, false) ||
                   rs->status == 404 || rs->status == 410;
  if (rs->status >= 200 && rs->status < 300) {
    adx_res_fail(r, SINK_RETRY, "%s: %s: the answer holds no access token",
                 what, desc);
    return;
  }
  adx_res_fail(r, transient ? SINK_RETRY : SINK_FATAL, "%s: %s %s%s%s", what,
               desc, t->error[0] ? t->error : "", t->description[0] ? ": " : "",
               t->description);
}

/* POST a form (or GET when form is NULL) to url and keep the token. */
static int
token_request(struct adx_auth *a, struct http_client *h, const char *what,
              const char *url, const char *form,
              const struct http_header *extra, size_t nextra, struct adx_res *r)
{
  struct http_header hd[4];
  size_t n = 0;
  if (form)
    hd[n++] = (struct http_header){
        "Content-Type", "application/x-www-form-urlencoded;charset=utf-8"};
  hd[n++] = (struct http_header){"Accept", "application/json"};
  for (size_t i = 0; i < nextra && n < 4; i++)
    hd[n++] = extra[i];
  struct http_request rq = {form ? "POST" : "GET",   url, hd, n, form,
                            form ? strlen(form) : 0, 0};
  struct http_response rs;
  struct adx_token t;
  memset(&t, 0, sizeof t);
  int rc = -1;
  if (http_perform(h, &rq, &rs) == 0 && rs.status == 200 &&
      adx_token_parse(rs.body, rs.body_len, &t) == 0) {
    keep_token(a, &t);
    rc = 0;
  } else {
    if (rs.status) adx_token_parse(rs.body, rs.body_len, &t);
    token_failure(what, &rq, &rs, &t, r);
  }
  adx_token_free(&t);
  http_response_free(&rs);
  return rc;
}

static int
token_url(struct adx_auth *a, const char *leaf, struct adx_str *url)
{
  adx_str_add(url, a->login);
  adx_str_addn(url, "/", 1);
  adx_str_add_pct(url, a->tenant);
  adx_str_add(url, "/oauth2/v2.0/");
  adx_str_add(url, leaf);
  return url->oom ? -1 : 0;
}

static int
scope(struct adx_auth *a, struct adx_str *s, bool offline)
{
  adx_str_add(s, a->resource);
  adx_str_add(s, "/.default");
  if (offline) adx_str_add(s, " offline_access");
  return s->oom ? -1 : 0;
}

static int
app_key(struct adx_auth *a, struct http_client *h, struct adx_res *r)
{
  struct adx_str url, form, sc;
  adx_str_init(&url);
  adx_str_init(&form);
  adx_str_init(&sc);
  int rc = -1;
  if (token_url(a, "token", &url) == 0 && scope(a, &sc, false) == 0) {
    adx_form_add(&form, "client_id", a->client_id);
    adx_form_add(&form, "scope", sc.p);
    adx_form_add(&form, "grant_type", "client_credentials");
    adx_form_add(&form, "client_secret", a->secret ? a->secret : "");
    if (!form.oom)
      rc = token_request(a, h, "sign-in with the application key", url.p,
                         form.p, NULL, 0, r);
  }
  if (rc != 0 && (url.oom || form.oom || sc.oom))
    adx_res_fail(r, SINK_RETRY, "out of memory");
  if (form.p) memset(form.p, 0, form.len);
  adx_str_free(&url);
  adx_str_free(&form);
  adx_str_free(&sc);
  return rc;
}

static int
managed_identity(struct adx_auth *a, struct http_client *h, struct adx_res *r)
{
  struct adx_str url;
  adx_str_init(&url);
  adx_str_add(&url, a->imds);
  adx_str_add(&url, "/metadata/identity/oauth2/token?api-version=2018-02-01"
                    "&resource=");
  adx_str_add_pct(&url, a->resource);
  if (a->client_id) {
    adx_str_add(&url, "&client_id=");
    adx_str_add_pct(&url, a->client_id);
  }
  int rc = -1;
  if (url.oom) {
    adx_res_fail(r, SINK_RETRY, "out of memory");
  } else {
    struct http_header md = {"Metadata", "true"};
    rc = token_request(a, h, "managed identity (IMDS)", url.p, NULL, &md, 1, r);
  }
  adx_str_free(&url);
  return rc;
}

static int
refresh_grant(struct adx_auth *a, struct http_client *h, struct adx_res *r)
{
  struct adx_str url, form, sc;
  adx_str_init(&url);
  adx_str_init(&form);
  adx_str_init(&sc);
  int rc = -1;
  if (token_url(a, "token", &url) == 0 && scope(a, &sc, true) == 0) {
    adx_form_add(&form, "client_id", a->client_id);
    adx_form_add(&form, "grant_type", "refresh_token");
    adx_form_add(&form, "refresh_token", a->refresh);
    adx_form_add(&form, "scope", sc.p);
    if (!form.oom)
      rc = token_request(a, h, "token refresh", url.p, form.p, NULL, 0, r);
  }
  if (form.p) memset(form.p, 0, form.len);
  adx_str_free(&url);
  adx_str_free(&form);
  adx_str_free(&sc);
  return rc;
}

/* Sleep ms, false when shutdown cancels the wait. */
static bool
nap(uint64_t ms)
{
  uint64_t end = sink_now_ms() + ms;
  while (sink_now_ms() < end) {
    if (sink_cancelled()) return false;
    uint64_t left = end - sink_now_ms();
    sig_sleep_ms(left > 100 ? 100 : (int)left);
  }
  return !sink_cancelled();
}

static int
device_code(struct adx_auth *a, struct http_client *h, struct adx_res *r)
{
  if (a->refresh && refresh_grant(a, h, r) == 0) return 0;
  struct adx_str url, form, sc;
  adx_str_init(&url);
  adx_str_init(&form);
  adx_str_init(&sc);
  int rc = -1;
  struct adx_devcode dc;
  memset(&dc, 0, sizeof dc);
  if (token_url(a, "devicecode", &url) != 0 || scope(a, &sc, true) != 0) {
    adx_res_fail(r, SINK_RETRY, "out of memory");
    goto out;
  }
  adx_form_add(&form, "client_id", a->client_id);
  adx_form_add(&form, "scope", sc.p);
  struct http_header hd[] = {
      {"Content-Type", "application/x-www-form-urlencoded;charset=utf-8"},
      {"Accept", "application/json"}};
  struct http_request rq = {"POST", url.p, hd, 2, form.p, form.len, 0};
  struct http_response rs;
  if (form.oom) {
    adx_res_fail(r, SINK_RETRY, "out of memory");
    goto out;
  }
  if (http_perform(h, &rq, &rs) != 0 || rs.status != 200 ||
      adx_devcode_parse(rs.body, rs.body_len, &dc) != 0) {
    struct adx_token t;
    memset(&t, 0, sizeof t);
    if (rs.status) adx_token_parse(rs.body, rs.body_len, &t);
    token_failure("device-code sign-in", &rq, &rs, &t, r);
    adx_token_free(&t);
    http_response_free(&rs);
    goto out;
  }
  http_response_free(&rs);
  /* The user must see this whatever the verbosity. */
  log_err("%s", dc.message);
  adx_str_clear(&url);
  if (token_url(a, "token", &url) != 0) {
    adx_res_fail(r, SINK_RETRY, "out of memory");
    goto out;
  }
  uint64_t deadline = sink_now_ms() + (uint64_t)dc.expires_in * 1000;
  uint64_t interval = (uint64_t)dc.interval * 1000;
  for (;;) {
    if (!nap(interval)) {
      adx_res_fail(r, SINK_RETRY, "device-code sign-in: cancelled");
      goto out;
    }
    if (sink_now_ms() > deadline) {
      adx_res_fail(r, SINK_FATAL,
                   "device-code sign-in: the code expired "
                   "before anyone signed in");
      goto out;
    }
    adx_str_clear(&form);
    adx_form_add(&form, "grant_type",
                 "urn:ietf:params:oauth:grant-type:device_code");
    adx_form_add(&form, "client_id", a->client_id);
    adx_form_add(&form, "device_code", dc.device_code);
    if (form.oom) {
      adx_res_fail(r, SINK_RETRY, "out of memory");
      goto out;
    }
    if (token_request(a, h, "device-code sign-in", url.p, form.p, NULL, 0, r) ==
        0) {
      rc = 0;
      goto out;
    }
    if (strcmp(r->code, "authorization_pending") == 0) continue;
    if (strcmp(r->code, "slow_down") == 0) {
      interval += 5000;
      continue;
    }
    if (r->st == SINK_RETRY) {
      /* No answer or a server error: keep polling until the deadline. */
      continue;
    }
    goto out; /* declined, expired, bad code: r says which */
  }
out:
  if (form.p) memset(form.p, 0, form.len);
  adx_devcode_free(&dc);
  adx_str_free(&url);
  adx_str_free(&form);
  adx_str_free(&sc);
  return rc;
}

int
adx_auth_get(struct adx_auth *a, struct http_client *h, bool force,
             const char **tok, struct adx_res *r)
{
  if (a->kind == ADX_AUTH_TOKEN) {
    if (force) {
      adx_res_fail(r, SINK_FATAL,
                   "the service rejected the fixed token "
                   "(expired or for another resource)");
      return -1;
    }
    *tok = a->secret;
    return 0;
  }
  if (!force && a->token && sink_now_ms() < a->refresh_at_ms) {
    *tok = a->token;
    return 0;
  }
  find_resource(a, h);
  int rc;
  switch (a->kind) {
  case ADX_AUTH_APPKEY:
    rc = app_key(a, h, r);
    break;
  case ADX_AUTH_MSI:
    rc = managed_identity(a, h, r);
    break;
  default:
    rc = device_code(a, h, r);
    break;
  }
  if (rc != 0 && !force && a->token && sink_now_ms() < a->expires_at_ms &&
      r->st == SINK_RETRY) {
    /* The refresh failed for now, but the old token is still good. */
    log_warn("%s; using the current token until it expires", r->msg);
    rc = 0;
  }
  if (rc == 0) {
    /* Polls or refreshes that failed on the way are history now. */
    adx_res_init(r);
    *tok = a->token;
  }
  return rc;
}
