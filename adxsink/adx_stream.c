/*
 * adx_stream.c - --direct: streaming ingestion, with .ingest inline when
 * the table's policy does not allow streaming (see adx.h).
 *
 * POST {engine}/v1/rest/ingest/{db}/{table}?streamFormat=multijson&
 * mappingName=M with the gzip'd rows (azure.md section 4; recorded in
 * azure-recorded/02-streaming-ingest.txt). A request holds at most 4 MiB;
 * a batch that compresses to more (or that the service calls too large)
 * is split in two at a row boundary. When the service says streaming is
 * not enabled, adxsink names the policy command once on stderr and goes on
 * with `.ingest inline` commands in small pieces (azure.md, "Decision:
 * what --direct means here"), so no row waits for an operator. A mapping
 * that disappeared is created again once.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "adxsink/adx.h"
#include "adxsink/adx_schema.h"

#include "lib/log.h"

#include <stdio.h>
#include <string.h>

/* Where to cut rows[0, len) in two: after the '\n' nearest the middle. */
static size_t
middle(const char *rows, size_t len)
{
  size_t half = len / 2;
  const char *nl = memchr(rows + half, '\n', len - half);
  if (nl && (size_t)(nl - rows) + 1 < len) return (size_t)(nl - rows) + 1;
  for (size_t i = half; i > 0; i--)
    if (rows[i - 1] == '\n') return i;
  return 0;
}

static size_t
count_rows(const char *p, size_t n)
{
  size_t k = 0;
  for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))); p++)
    k++;
  return k;
}

static void
ingest_inline(struct adx_ctx *x, const char *rows, size_t len,
              struct adx_res *r)
{
  size_t off = 0;
  while (off < len) {
    size_t n = len - off;
    if (n > ADX_INLINE_CHUNK) {
      /* Cut after the last '\n' within the chunk (rows end in '\n'). */
      size_t cut = ADX_INLINE_CHUNK;
      while (cut > 0 && rows[off + cut - 1] != '\n')
        cut--;
      n = cut ? cut : len - off;
    }
    struct adx_str c;
    adx_str_init(&c);
    adx_str_add(&c, ".ingest inline into table ");
    adx_kql_name(&c, x->table);
    adx_str_add(&c, " with (format='json', ingestionMappingReference=");
    adx_kql_string(&c, x->mapping);
    adx_str_add(&c, ") <|\n");
    adx_str_addn(&c, rows + off, n);
    int rc = c.oom ? -1 : adx_mgmt(x, false, x->db, c.p, NULL, r);
    if (c.oom) adx_res_fail(r, SINK_RETRY, "out of memory");
    adx_str_free(&c);
    if (rc != 0) return;
    off += n;
  }
}

static bool
policy_refused(const struct adx_res *r)
{
  return strcmp(r->code, "BadRequest_StreamingIngestionPolicyNotEnabled") ==
             0 ||
         strcmp(r->code, "StreamingIngestionDisabledForCluster") == 0;
}

static bool
too_large(const struct adx_res *r)
{
  return r->status == 413 ||
         strcmp(r->code, "Stream_InputStreamTooLarge") == 0 ||
         strcmp(r->code, "FileTooLarge") == 0;
}

static void
stream(struct adx_ctx *x, const char *rows, size_t len, size_t nrows,
       bool may_setup, struct adx_res *r)
{
  struct adx_str gz, url;
  adx_str_init(&gz);
  adx_str_init(&url);
  if (adx_gzip(rows, len, &gz) != 0) {
    adx_res_fail(r, SINK_RETRY, "gzip: out of memory");
    goto out;
  }
  if (gz.len > ADX_STREAM_MAX) {
    size_t cut = middle(rows, len);
    if (!cut || nrows < 2) {
      adx_res_fail(r, SINK_FAIL,
                   "streaming ingestion: a row of %zu bytes does not fit "
                   "in one 4 MiB request (use queued ingestion)",
                   len);
      goto out;
    }
    adx_str_free(&gz);
    stream(x, rows, cut, count_rows(rows, cut), may_setup, r);
    if (r->st == SINK_OK)
      stream(x, rows + cut, len - cut, count_rows(rows + cut, len - cut),
             may_setup, r);
    goto out;
  }
  adx_str_add(&url, x->engine);
  adx_str_add(&url, "/v1/rest/ingest/");
  adx_str_add_pct(&url, x->db);
  adx_str_addn(&url, "/", 1);
  adx_str_add_pct(&url, x->table);
  adx_str_add(&url, "?streamFormat=multijson&mappingName=");
  adx_str_add_pct(&url, x->mapping);
  if (url.oom) {
    adx_res_fail(r, SINK_RETRY, "out of memory");
    goto out;
  }
  struct http_header hd[] = {{"Accept", "application/json"},
                             {"Content-Type", "application/octet-stream"},
                             {"Content-Encoding", "gzip"}};
  struct http_request rq = {"POST", url.p, hd, 3, gz.p, gz.len, 0};
  struct http_response rs;
  int rc = adx_kusto_send(x, "streaming ingestion", "adxsink.streaming", &rq,
                          &rs, r);
  http_response_free(&rs);
  if (rc == 0) {
    log_note("streamed %zu rows (%zu bytes, %zu gzip'd)", nrows, len, gz.len);
    goto out;
  }
  if (policy_refused(r)) {
    struct adx_str t;
    adx_str_init(&t);
    adx_kql_name(&t, x->table);
    log_err("cluster %s, database %s, table %s: streaming ingestion is not "
            "enabled (%s); enable it with `.alter table %s policy "
            "streamingingestion enable` (or run with --reset); until then "
            "rows go in with .ingest inline commands",
            x->host, x->db, x->table, r->code, t.p ? t.p : x->table);
    adx_str_free(&t);
    x->inline_fallback = true;
    adx_res_init(r);
    ingest_inline(x, rows, len, r);
    goto out;
  }
  if (too_large(r) && nrows > 1) {
    size_t cut = middle(rows, len);
    if (cut) {
      adx_res_init(r);
      stream(x, rows, cut, count_rows(rows, cut), may_setup, r);
      if (r->st == SINK_OK)
        stream(x, rows + cut, len - cut, count_rows(rows + cut, len - cut),
               may_setup, r);
      goto out;
    }
  }
  if (may_setup && !x->mapping_given &&
      strcmp(r->code, "BadRequest_MappingReferenceWasNotFound") == 0) {
    log_warn("%s; setting the table up again", r->msg);
    struct sink_batch b;
    memset(&b, 0, sizeof b);
    b.buf = (char *)(uintptr_t)rows;
    b.len = len;
    adx_res_init(r);
    x->setup_done = false; /* the mapping is gone: make it again */
    if (adx_setup(x, &b, r) == 0) stream(x, rows, len, nrows, false, r);
  }
out:
  adx_str_free(&gz);
  adx_str_free(&url);
}

void
adx_stream_deliver(struct adx_ctx *x, const char *rows, size_t len,
                   size_t nrows, const char *id, struct adx_res *r)
{
  (void)id;
  if (x->inline_fallback) {
    ingest_inline(x, rows, len, r);
    return;
  }
  stream(x, rows, len, nrows, true, r);
}
