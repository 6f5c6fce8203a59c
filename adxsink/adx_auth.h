/*
 * adx_auth.h - Entra ID (AAD) access tokens for Kusto.
 *
 * Four ways to get a token (issue 6; azure.md section 1): a fixed token
 * given by the user; client credentials (application id and key) at the
 * v2 token endpoint of --login-endpoint/{tenant}; managed identity from
 * IMDS (--imds-endpoint); and the device-code flow, whose sign-in message
 * goes to stderr. Tokens are cached and fetched again before they expire
 * (min(5 minutes, half the lifetime) early) or when Kusto answers 401.
 * The scope is the service's KustoServiceResourceId, read once from the
 * engine's /v1/rest/auth/metadata (default https://kusto.kusto.windows.net,
 * as the SDKs do). Secrets and tokens are never logged; struct adx_auth
 * owns them and wipes them in adx_auth_free.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ADX_AUTH_H
#define ADX_AUTH_H

#include "lib/platform.h"
#include "lib/http.h"

#define ADX_KUSTO_RESOURCE "https://kusto.kusto.windows.net"
#define ADX_KUSTO_CLIENT_ID "db662dc1-0cfe-4e1c-a843-19a68e65be58"

struct adx_res;

enum adx_auth_kind {
  ADX_AUTH_TOKEN,  /* a fixed bearer token */
  ADX_AUTH_APPKEY, /* client credentials */
  ADX_AUTH_MSI,    /* managed identity (IMDS) */
  ADX_AUTH_DEVICE  /* device code, interactive */
};

struct adx_auth {
  enum adx_auth_kind kind;
  const char *login;     /* https://login.microsoftonline.com */
  const char *tenant;    /* authority: tenant id or domain */
  const char *client_id; /* app id; user-assigned identity; public client */
  const char *imds;      /* http://169.254.169.254 */
  const char *engine;    /* for the auth metadata */
  char *secret;          /* the app key or the fixed token (owned) */
  char resource[512];
  bool resource_done;
  char *token;            /* current access token (owned) */
  char *refresh;          /* refresh token (device code) */
  uint64_t refresh_at_ms; /* monotonic: fetch again from then on */
  uint64_t expires_at_ms;
  unsigned fetched; /* tokens fetched so far */
};

/* adx_auth_kind_name - "token", "app key", "managed identity"... */
const char *adx_auth_kind_name(enum adx_auth_kind k);

/*
 * adx_auth_get - a valid access token in *tok (owned by a), fetched when
 * none is cached, when it is due, or when force is set (the service
 * rejected it). 0, or -1 with r set (SINK_RETRY for transient failures,
 * SINK_FATAL when the credentials are refused).
 */
int adx_auth_get(struct adx_auth *a, struct http_client *h, bool force,
                 const char **tok, struct adx_res *r);

/* adx_auth_free - wipe and free the secrets and tokens. */
void adx_auth_free(struct adx_auth *a);

/* adx_form_add - append "&name=value" (no '&' when s is empty), both
 * form-encoded. */
struct adx_str;
void adx_form_add(struct adx_str *s, const char *name, const char *value);

#endif
