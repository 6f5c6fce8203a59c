/*
 * adx_resp.c - parsers for Kusto and Entra ID responses (see adx_resp.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "adxsink/adx_resp.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Responses larger than this are not parsed (a result table adxsink asks
 * for is a few kilobytes). */
#define RESP_MAX ((size_t)16 << 20)

void
adx_safe_copy(char *out, size_t n, const char *s)
{
  if (!n) return;
  size_t i = 0;
  for (; s && s[i] && i + 1 < n; i++) {
    unsigned char c = (unsigned char)s[i];
    out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
  }
  /* Do not end inside a UTF-8 sequence. */
  if (s && s[i]) {
    while (i > 0 && ((unsigned char)out[i - 1] & 0xc0) == 0x80)
      i--;
    if (i > 0 && ((unsigned char)out[i - 1] & 0xc0) == 0xc0) i--;
  }
  out[i] = '\0';
}

static json_t *
load(const char *body, size_t len)
{
  if (!body || len == 0 || len > RESP_MAX) return NULL;
  json_error_t je;
  return json_loadb(body, len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &je);
}

static char *
dup_str(const char *s)
{
  size_t n = strlen(s);
  char *d = malloc(n + 1);
  if (d) memcpy(d, s, n + 1);
  return d;
}

void
adx_v1_free(struct adx_v1 *t)
{
  for (size_t i = 0; i < t->ncols; i++)
    free(t->colnames[i]);
  for (size_t i = 0; i < t->ncols * t->nrows; i++)
    free(t->cells[i]);
  free(t->colnames);
  free(t->cells);
  memset(t, 0, sizeof *t);
}

int
adx_v1_parse(const char *body, size_t len, struct adx_v1 *t, char *err,
             size_t errn)
{
  memset(t, 0, sizeof *t);
  json_t *root = load(body, len);
  const char *why = NULL;
  json_t *tab = json_array_get(json_object_get(root, "Tables"), 0);
  json_t *cols = json_object_get(tab, "Columns");
  json_t *rows = json_object_get(tab, "Rows");
  if (!root)
    why = "the response is not JSON";
  else if (!json_is_array(cols) || !json_is_array(rows))
    why = "the response has no result table";
  size_t nc = json_array_size(cols), nr = json_array_size(rows);
  if (!why &&
      (nc == 0 || nc > 10000 || nr > 1000000 || nr > ((size_t)1 << 26) / nc))
    why = "the result table has an unexpected size";
  if (!why) {
    t->colnames = calloc(nc, sizeof *t->colnames);
    t->cells = calloc(nc * (nr ? nr : 1), sizeof *t->cells);
    if (!t->colnames || !t->cells)
      why = "out of memory";
    else {
      t->ncols = nc;
      t->nrows = nr;
    }
  }
  for (size_t c = 0; !why && c < nc; c++) {
    const char *name = json_string_value(
        json_object_get(json_array_get(cols, c), "ColumnName"));
    t->colnames[c] = dup_str(name ? name : "");
    if (!t->colnames[c]) why = "out of memory";
  }
  for (size_t r = 0; !why && r < nr; r++) {
    json_t *row = json_array_get(rows, r);
    if (!json_is_array(row) || json_array_size(row) != nc) {
      why = "a result row does not match the columns";
      break;
    }
    for (size_t c = 0; c < nc; c++) {
      const char *v = json_string_value(json_array_get(row, c));
      if (v && !(t->cells[r * nc + c] = dup_str(v))) {
        why = "out of memory";
        break;
      }
    }
  }
  json_decref(root);
  if (why) {
    adx_v1_free(t);
    snprintf(err, errn, "%s", why);
    return -1;
  }
  return 0;
}

long
adx_v1_col(const struct adx_v1 *t, const char *name)
{
  for (size_t i = 0; i < t->ncols; i++)
    if (strcmp(t->colnames[i], name) == 0) return (long)i;
  return -1;
}

const char *
adx_v1_cell(const struct adx_v1 *t, size_t row, long col)
{
  if (col < 0 || (size_t)col >= t->ncols || row >= t->nrows) return NULL;
  return t->cells[row * t->ncols + (size_t)col];
}

static void
copy_field(char *out, size_t n, json_t *obj, const char *key)
{
  const char *v = json_string_value(json_object_get(obj, key));
  adx_safe_copy(out, n, v ? v : "");
}

void
adx_kerr_parse(const char *body, size_t len, struct adx_kerr *e)
{
  memset(e, 0, sizeof *e);
  e->permanent = -1;
  json_t *root = load(body, len);
  json_t *er = json_object_get(root, "error");
  if (json_is_object(er)) {
    copy_field(e->code, sizeof e->code, er, "code");
    copy_field(e->type, sizeof e->type, er, "@type");
    copy_field(e->message, sizeof e->message, er, "@message");
    if (!e->message[0])
      copy_field(e->message, sizeof e->message, er, "message");
    json_t *p = json_object_get(er, "@permanent");
    if (json_is_boolean(p)) e->permanent = json_is_true(p) ? 1 : 0;
  }
  json_decref(root);
}

/* A number of seconds given as a JSON number or a decimal string. */
static int64_t
seconds(json_t *v)
{
  if (json_is_number(v)) {
    double d = json_number_value(v);
    return d > 0 && d < 1e9 ? (int64_t)d : 0;
  }
  const char *s = json_string_value(v);
  if (!s || !*s) return 0;
  int64_t x = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || x > 1000000000) return 0;
    x = x * 10 + (*s - '0');
  }
  return x;
}

static void
wipe_free(char *s)
{
  if (!s) return;
  volatile char *p = s;
  while (*p)
    *p++ = 0;
  free(s);
}

void
adx_token_free(struct adx_token *t)
{
  wipe_free(t->access_token);
  wipe_free(t->refresh_token);
  memset(t, 0, sizeof *t);
}

static bool
token_chars_ok(const char *s)
{
  if (!*s || strlen(s) > 65536) return false;
  for (; *s; s++)
    if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f) return false;
  return true;
}

int
adx_token_parse(const char *body, size_t len, struct adx_token *t)
{
  memset(t, 0, sizeof *t);
  json_t *root = load(body, len);
  int rc = -1;
  if (json_is_object(root)) {
    copy_field(t->error, sizeof t->error, root, "error");
    copy_field(t->description, sizeof t->description, root,
               "error_description");
    const char *at = json_string_value(json_object_get(root, "access_token"));
    const char *rt = json_string_value(json_object_get(root, "refresh_token"));
    const char *tt = json_string_value(json_object_get(root, "token_type"));
    if (at && token_chars_ok(at) &&
        (!tt || strcmp(tt, "Bearer") == 0 || strcmp(tt, "bearer") == 0)) {
      t->access_token = dup_str(at);
      if (rt && token_chars_ok(rt)) t->refresh_token = dup_str(rt);
      t->expires_in = seconds(json_object_get(root, "expires_in"));
      if (t->access_token && (!rt || t->refresh_token)) rc = 0;
    }
  }
  json_decref(root);
  if (rc != 0) {
    wipe_free(t->access_token);
    wipe_free(t->refresh_token);
    t->access_token = t->refresh_token = NULL;
  }
  return rc;
}

void
adx_devcode_free(struct adx_devcode *d)
{
  wipe_free(d->device_code);
  memset(d, 0, sizeof *d);
}

int
adx_devcode_parse(const char *body, size_t len, struct adx_devcode *d)
{
  memset(d, 0, sizeof *d);
  json_t *root = load(body, len);
  const char *dc = json_string_value(json_object_get(root, "device_code"));
  int rc = -1;
  if (dc && token_chars_ok(dc)) {
    d->device_code = dup_str(dc);
    copy_field(d->message, sizeof d->message, root, "message");
    if (!d->message[0]) {
      const char *uri =
          json_string_value(json_object_get(root, "verification_uri"));
      const char *uc = json_string_value(json_object_get(root, "user_code"));
      char u1[200], u2[40];
      adx_safe_copy(u1, sizeof u1, uri ? uri : "?");
      adx_safe_copy(u2, sizeof u2, uc ? uc : "?");
      snprintf(d->message, sizeof d->message,
               "To sign in, open %s and enter the code %s.", u1, u2);
    }
    d->interval = seconds(json_object_get(root, "interval"));
    d->expires_in = seconds(json_object_get(root, "expires_in"));
    if (d->interval <= 0) d->interval = 5;
    if (d->interval > 60) d->interval = 60;
    if (d->expires_in <= 0) d->expires_in = 900;
    rc = d->device_code ? 0 : -1;
  }
  json_decref(root);
  if (rc != 0) adx_devcode_free(d);
  return rc;
}

int
adx_metadata_resource(const char *body, size_t len, char *out, size_t n)
{
  json_t *root = load(body, len);
  const char *r = json_string_value(json_object_get(
      json_object_get(root, "AzureAD"), "KustoServiceResourceId"));
  int rc = -1;
  if (r && (strncmp(r, "https://", 8) == 0 || strncmp(r, "http://", 7) == 0) &&
      strlen(r) < n && token_chars_ok(r)) {
    snprintf(out, n, "%s", r);
    size_t k = strlen(out);
    while (k > 8 && out[k - 1] == '/')
      out[--k] = '\0';
    rc = 0;
  }
  json_decref(root);
  return rc;
}

int
adx_status_parse(const char *json, size_t len, struct adx_status *s)
{
  memset(s, 0, sizeof *s);
  json_t *root = load(json, len);
  int rc = -1;
  if (json_is_object(root)) {
    copy_field(s->source_id, sizeof s->source_id, root, "IngestionSourceId");
    if (!s->source_id[0])
      copy_field(s->source_id, sizeof s->source_id, root, "OperationId");
    copy_field(s->code, sizeof s->code, root, "ErrorCode");
    copy_field(s->details, sizeof s->details, root, "Details");
    const char *fs = json_string_value(json_object_get(root, "FailureStatus"));
    json_t *retry = json_object_get(root, "ShouldRetry");
    s->permanent = fs ? strcmp(fs, "Transient") != 0 : !json_is_true(retry);
    rc = s->source_id[0] ? 0 : -1;
  }
  json_decref(root);
  return rc;
}
