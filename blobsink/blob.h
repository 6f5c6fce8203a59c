/*
 * blob.h - blobsink's upload side: one blob per batch.
 *
 * main.c parses the options and the connection string into struct blob;
 * blob_deliver() is the sink engine's deliver callback. Each batch
 * becomes one block blob named <guid>_1_<guid>.json (the original tool's
 * naming; both GUIDs come from the batch id, so a retried or replayed
 * batch overwrites its own earlier copy instead of adding a duplicate)
 * holding a JSON array of the rows, or NDJSON with --ndjson, gzipped with
 * --gzip. The container is created on first use unless only a container
 * SAS is available. Requests: azure.md section 9.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_BLOB_H
#define RTK_BLOB_H

#include "lib/platform.h"
#include "lib/azstorage.h"
#include "lib/http.h"
#include "lib/sink.h"

struct blob {
  struct azs_account acct;
  const char *container;
  bool ndjson;     /* body as NDJSON instead of a JSON array */
  bool gzip;       /* body gzipped (Content-Encoding: gzip) */
  bool can_create; /* SharedKey or an account SAS */
  bool container_ready;
  struct http_client *http;
  uint8_t *body; /* reused between batches */
  size_t body_cap;
};

/* blob_name - the blob name for batch id into out (at least 80 bytes). */
void blob_name(const struct blob *bl, const char *id, char *out, size_t n);

/* blob_deliver - the engine's deliver callback (ctx is struct blob). */
enum sink_status blob_deliver(void *ctx, struct sink_batch *b,
                              struct sink_result *r);

/* blob_free - release what blob_deliver allocated. */
void blob_free(struct blob *bl);

#endif
