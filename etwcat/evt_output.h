/*
 * evt_output.h - one event as one line of the NDJSON event contract.
 *
 * Finds the event's schema (trace schemas, user manifests, built-ins, in
 * that order; see evt_registry.h), writes the header keys in the order of
 * ARCHITECTURE.md "The event contract", then EventData, or DecodeError
 * and RawData when there is no schema or the payload does not fit it.
 * Schema records met on the way (EventSource manifests, EventMetadata)
 * are compiled into the registry as they pass.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ETWCAT_EVT_OUTPUT_H
#define ETWCAT_EVT_OUTPUT_H

#include "lib/platform.h"
#include "etwcat/etl_event.h"
#include "etwcat/etl_reader.h"
#include "etwcat/evt_decode.h"
#include "etwcat/evt_registry.h"
#include "lib/jsonw.h"

struct evt_hdr_cache;

struct evt_writer {
  struct evt_registry *reg;
  struct evt_opts opts;
  struct evt_hdr_cache *hdr_cache; /* owned; see evt_writer_free */
  bool messages; /* add "Message": the schema's message, %N filled in */
  /* Statistics for the summary at exit. */
  uint64_t events;
  uint64_t decode_errors;
  uint64_t no_schema;
};

/* evt_write_event - append ev as one JSON line to w. f is the file the
 * event came from (NULL for real-time events): its log file header fills
 * the trace header record's EventData, and on the first schema miss the
 * file is scanned once for schema records that come later in it. */
void evt_write_event(struct evt_writer *wr, const struct etl_event *ev,
                     struct etl_file *f, struct jsonw *w);

/* evt_writer_free - release what the writer caches (not reg). */
void evt_writer_free(struct evt_writer *wr);

/* evt_prescan - compile every schema record of f (EventMetadata,
 * EventSource manifests) into the registry; done at most once per file.
 */
void evt_prescan(struct evt_writer *wr, struct etl_file *f);

#endif
