/*
 * evt_tei.h - load the schemas that merged traces carry (EventMetadata).
 *
 * xperf, WPR and PerfView merges inject classic events from the
 * EventMetadata provider {bbccf6c1-6cd1-48c4-80ff-839482e37671}: opcode 32
 * carries one TRACE_EVENT_INFO blob (what TdhGetEventInformation returned
 * on the tracing machine), opcode 33 a provider GUID plus one
 * EVENT_MAP_INFO. This module compiles them into the registry at
 * EVT_PRIO_TRACE; the caller feeds it every such event, ideally in a
 * pre-pass before decoding. Format: design/etw-schemas.md section 4,
 * etl-format.md section 12.
 *
 * Conventions of the compiled schemas (the decoder relies on them):
 *  - the flat property array is kept as is: fields[0..ntop) are the
 *    top-level properties, struct members are the slices the blob names,
 *    which were checked to lie after the top level, to cover every
 *    later property exactly once (no sharing, cycles or orphans) and to
 *    nest at most EVT_TEI_MAX_DEPTH deep.
 *  - count/length fields (EVT_F_COUNT_FIELD / EVT_F_LEN_FIELD) name an
 *    earlier, non-struct property by index; for a struct member that is
 *    usually a sibling in the same struct instance.
 *  - lengths are kept only for in-types whose size they decide
 *    (UNICODESTRING, ANSISTRING, BINARY); TDH also reports the natural
 *    size of fixed-size types, which is dropped. A count above 1 without
 *    PropertyParamCount is a fixed count (old TDH had no FixedCount bit).
 *  - maps: field->map_name is always set when the property has a map;
 *    field->map is set only if the map was already loaded. Maps are
 *    registered under the GUID opcode 33 carries; the decoder resolves
 *    missing ones with evt_registry_find_map(schema->provider, name).
 *  - names: level, task, opcode and channel names that are winmeta
 *    defaults ("win:Informational", "win:Info", ...) are dropped so the
 *    writer uses its built-in display names; keyword names are joined
 *    with a space; trailing blanks of the message and of map entry names
 *    (left by the message compiler) are trimmed.
 *  - manifest events (DecodingSource 0) are keyed by (ProviderGuid, Id,
 *    Version); MOF classes (1) by (EventGuid, Opcode, Version) with
 *    event_name "Task/Opcode". WPP (2) and TraceLogging (3) blobs are
 *    skipped: those events cannot be keyed this way.
 *
 * Ownership: everything compiled lives in the registry's arena.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ETWCAT_EVT_TEI_H
#define ETWCAT_EVT_TEI_H

#include "lib/platform.h"
#include "etwcat/etl_event.h"
#include "etwcat/evt_registry.h"

/* EventMetadata provider GUID, Windows byte layout. */
extern const uint8_t evt_tei_provider[16];

#define EVT_TEI_OPCODE_EVENT_INFO 32
#define EVT_TEI_OPCODE_MAP_INFO 33

/* Deepest struct nesting accepted (a top-level struct is depth 1). */
#define EVT_TEI_MAX_DEPTH 16

/*
 * evt_tei_is_metadata - true when ev comes from the EventMetadata
 * provider (any opcode).
 */
bool evt_tei_is_metadata(const struct etl_event *ev);

/*
 * evt_tei_load - compile one EventMetadata event into r.
 *
 * Opcode 32 registers a schema (and its provider name), opcode 33 a map;
 * other opcodes and skipped decoding sources return 0 and change nothing.
 * Returns -1 with a message in err (errlen bytes, may be 0) when ev is not
 * an EventMetadata event, the blob is malformed, or memory ran out; the
 * registry is then unchanged except for unreachable arena memory.
 */
int evt_tei_load(struct evt_registry *r, const struct etl_event *ev, char *err,
                 size_t errlen);

/* evt_tei_load_event_info - the opcode-32 payload p[0..n); as above. */
int evt_tei_load_event_info(struct evt_registry *r, const uint8_t *p, size_t n,
                            char *err, size_t errlen);

/* evt_tei_load_map_info - the opcode-33 payload p[0..n); as above. Pattern
 * maps and string-keyed WBEM maps cannot be represented and are skipped
 * (return 0). */
int evt_tei_load_map_info(struct evt_registry *r, const uint8_t *p, size_t n,
                          char *err, size_t errlen);

#endif
