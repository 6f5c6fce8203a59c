/*
 * evt_decode.h - decode an event payload into the EventData JSON object.
 *
 * One walker for every schema source: it follows a struct evt_schema
 * (evt_schema.h) over the payload bytes of a struct etl_event and writes
 * the values, formatted per etw-schemas.md section 7 (evt_format.c), into
 * a struct jsonw. Finding the schema, the header keys and DecodeError /
 * RawData are the caller's job (ARCHITECTURE.md, "The event contract").
 *
 * Payload and schema are both untrusted: every read is bounds-checked,
 * struct nesting is limited to EVT_DEC_MAX_DEPTH, array counts are bounded
 * by the bytes left, and the number of values one event may produce is
 * bounded (one per payload byte plus EVT_DEC_ZERO_BUDGET), so no schema
 * can make the decoder loop or recurse without end. Nothing is allocated
 * per event except, rarely, for a very long bitmap text; a call uses
 * about 32 KiB of stack.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ETWCAT_EVT_DECODE_H
#define ETWCAT_EVT_DECODE_H

#include "lib/platform.h"
#include "etwcat/etl_event.h"
#include "etwcat/evt_registry.h"
#include "etwcat/evt_schema.h"
#include "lib/jsonw.h"

/* Limits (see the file comment); beyond them decoding fails with a
 * reason. One object (EventData or a struct) may have at most 1024
 * members. */
#define EVT_DEC_MAX_DEPTH 16     /* struct nesting below EventData */
#define EVT_DEC_MAX_REFS 1024    /* length/count fields: indexes below */
#define EVT_DEC_MAX_MEMBERS 4096 /* members of large open objects, total */
#define EVT_DEC_ZERO_BUDGET 4096 /* values beyond one per payload byte */

struct evt_opts {
  /* Format values as Tx.Windows (the original tool) did: win:Port raw
   * (the u16 read little-endian, 47873 for port 443) and IPv6 socket
   * addresses without brackets. */
  bool tx_compat;
};

/* Where a top-level value's JSON text landed in w->buf: [start, end).
 * Strings include their quotes and are JSON-escaped. Fields that print
 * nothing (out-type NOPRINT) get start == end. */
struct evt_span {
  size_t start;
  size_t end;
};

/*
 * evt_decode_payload - write ev's payload, decoded with schema s, as one
 * JSON object value: `{"PID":2716,"daddr":"157.56.244.38",...}`.
 *
 * Convention: the function writes a whole value, nothing before it; the
 * caller writes the key first (jw_key(w, "EventData")) and nothing after.
 * r resolves maps named by map_name (may be NULL: such maps are then
 * ignored). o may be NULL (defaults). Trailing payload bytes after the
 * last field are ignored (etw-schemas.md section 2).
 *
 * Returns 0. Returns -1 when the payload does not fit the schema (a field
 * overruns the payload, a length or count is larger than the bytes left,
 * a bad SID, nesting too deep, a broken schema), with a one-line reason
 * in err (errlen bytes, always NUL-terminated when errlen > 0), e.g.
 * "field 'daddr' (UInt32) at payload offset 8 needs 4 bytes, 2 left";
 * w is then exactly as it was at the call (nothing of the object left,
 * the caller's key still pending), so the caller can roll back its own
 * mark and write DecodeError/RawData. Out of memory in the writer is not
 * an error here: it shows as w->oom, as for every jsonw call.
 */
int evt_decode_payload(struct evt_registry *r, const struct evt_schema *s,
                       const struct etl_event *ev, const struct evt_opts *o,
                       struct jsonw *w, char *err, size_t errlen);

/*
 * evt_decode_payload_spans - as evt_decode_payload, and also records in
 * spans[i] (i < nspans, i < s->ntop) where the value of top-level field
 * i was written, for filling a message's %n (n = i + 1). Spans are byte
 * offsets into w->buf and stay valid until w is reset or rolled back.
 */
int evt_decode_payload_spans(struct evt_registry *r, const struct evt_schema *s,
                             const struct etl_event *ev,
                             const struct evt_opts *o, struct jsonw *w,
                             struct evt_span *spans, size_t nspans, char *err,
                             size_t errlen);

/*
 * evt_decode_string_only - the payload of an EVENT_HEADER_FLAG_STRING_ONLY
 * event (one UTF-16LE string, NUL-terminated or ending with the payload;
 * an odd last byte is ignored) as one JSON string value. Never fails.
 */
void evt_decode_string_only(const struct etl_event *ev, struct jsonw *w);

/* evt_in_name - the manifest name of an in-type ("UInt32", "SID", ...),
 * or "in-type ?" for an unknown number. For messages. */
const char *evt_in_name(unsigned in);

#endif
