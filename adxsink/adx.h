/*
 * adx.h - adxsink's state and the modules that share it.
 *
 * main.c parses the options into struct adx_ctx and runs the shared sink
 * engine (lib/sink.h) with adx_deliver() as the deliver callback. The
 * first delivery sets the table up from its rows, and a later batch whose
 * rows have new members adds columns for them (adx_setup.c); each
 * batch then goes either to the streaming endpoint (--direct,
 * adx_stream.c) or through queued ingestion (adx_queued.c: blob upload and
 * a queue message). adx_kusto.c sends every Kusto request with a token
 * (adx_auth.c) and turns failures into the engine's retry/spool decisions.
 * All of it runs on the engine's delivery thread, one call at a time, so
 * nothing here is locked.
 *
 * Wire protocol: ../shared/design/azure.md and azure-recorded/.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ADX_H
#define ADX_H

#include "lib/platform.h"
#include "lib/http.h"
#include "lib/sink.h"
#include "adxsink/adx_auth.h"
#include "adxsink/adx_resp.h"
#include "adxsink/adx_schema.h"
#include "adxsink/adx_util.h"

#define ADX_URL_MAX 512
#define ADX_STREAM_MAX (4u << 20) /* streaming ingestion request limit */
#define ADX_INLINE_CHUNK (256u << 10)
#define ADX_CACHE_MS (3600u * 1000u) /* ingestion resources, identity */

/* The outcome of one operation, in the engine's terms. */
struct adx_res {
  enum sink_status st;
  long status;            /* HTTP status, 0 when none */
  int64_t retry_after_ms; /* the service's Retry-After, or -1 */
  char code[128];         /* the service's error code, "" if none */
  char msg[700];          /* never holds a secret */
};

/* Cached queued-ingestion resources (.get ingestion resources). */
struct adx_resources {
  char **queues, **containers, **failed, **succeeded;
  size_t nq, nc, nf, ns;
  size_t qi, ci;       /* round-robin positions */
  uint64_t fetched_ms; /* 0: not fetched */
  char *authctx;       /* .get kusto identity token */
  uint64_t authctx_ms;
};

struct adx_ctx {
  char engine[ADX_URL_MAX]; /* https://cluster */
  char ingest[ADX_URL_MAX]; /* https://ingest-cluster */
  char host[256];           /* the cluster's host, for messages */
  const char *db, *table;
  char mapping[320];
  bool mapping_given; /* --mapping: use it as is */
  bool direct, reset, wait;
  uint64_t wait_ms;
  struct http_client *http;
  struct adx_auth auth;
  bool setup_done;
  struct adx_schema mapped; /* the columns our mapping covers */
  bool inline_fallback;     /* streaming refused by policy: .ingest inline */
  struct adx_resources res;
  uint64_t batches, rows, bytes; /* delivered */
};

/* adx_res_init - an empty, successful result. */
void adx_res_init(struct adx_res *r);

/* adx_res_fail - set r to status st with a message; adx_deliver puts
 * the cluster, database and table in front of it. */
void adx_res_fail(struct adx_res *r, enum sink_status st, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    PLAT_PRINTF(3, 4)
#endif
        ;

/* adx_deliver - the engine's deliver callback (ctx is struct adx_ctx). */
enum sink_status adx_deliver(void *ctx, struct sink_batch *b,
                             struct sink_result *r);

/*
 * adx_kusto_send - send a Kusto request (engine or DM) with the standard
 * headers plus rq's own, and a bearer token; on 401 fetch a new token
 * once and resend. 0 when the service answered 2xx; else -1 with r set
 * (what names the operation in the message). rs is always filled and
 * must be freed with http_response_free.
 */
int adx_kusto_send(struct adx_ctx *x, const char *what, const char *rid,
                   struct http_request *rq, struct http_response *rs,
                   struct adx_res *r);

/* adx_classify - r from a finished request that did not succeed. */
void adx_classify(const struct adx_ctx *x, const char *what,
                  const struct http_request *rq, const struct http_response *rs,
                  struct adx_res *r);

/*
 * adx_mgmt - run one management command on the engine (dm false) or the
 * data-management endpoint. 0 with the result table in *out (free with
 * adx_v1_free; out may be NULL), or -1 with r set.
 */
int adx_mgmt(struct adx_ctx *x, bool dm, const char *db, const char *csl,
             struct adx_v1 *out, struct adx_res *r);

/* adx_setup - make the table ready for the rows of b (adx_setup.c): the
 * first call drops and recreates it with --reset, or creates a missing
 * one; every call adds columns for members of b's rows that the mapping
 * does not cover yet (a no-op when there are none). 0, or -1 with r set.
 * adx_setup_free frees what it keeps in x. */
int adx_setup(struct adx_ctx *x, const struct sink_batch *b, struct adx_res *r);
void adx_setup_free(struct adx_ctx *x);

/* adx_stream_deliver - ingest rows[0, len) by streaming (adx_stream.c). */
void adx_stream_deliver(struct adx_ctx *x, const char *rows, size_t len,
                        size_t nrows, const char *id, struct adx_res *r);

/* adx_queued_deliver - ingest rows[0, len) through a blob and a queue
 * message (adx_queued.c); id (32+ hex digits) names the blob. */
void adx_queued_deliver(struct adx_ctx *x, const char *rows, size_t len,
                        size_t nrows, const char *id, struct adx_res *r);

/* adx_resources_free - drop the cached ingestion resources. */
void adx_resources_free(struct adx_resources *res);

/* adx_gzip - gzip in[0, n) into out (appended). 0 or -1. */
int adx_gzip(const void *in, size_t n, struct adx_str *out);

#endif
