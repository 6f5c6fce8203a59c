/*
 * evt_tlg.h - compile TraceLogging event metadata into a struct evt_schema.
 *
 * A TraceLogging event carries its own schema in extended item 11
 * (EVENT_SCHEMA_TL) and its provider name in item 12 (PROV_TRAITS). This
 * module turns those bytes into the common schema model and caches the
 * result in the registry, keyed by (provider GUID, metadata bytes), so a
 * blob is compiled once per trace. Decoding the payload is evt_decode.c's
 * job. Format: design/etw-schemas.md section 5, etl-format.md section 10.
 *
 * Conventions of the compiled schema (the decoder relies on them):
 *  - fields[0..ntop) are the top-level fields in metadata order; struct
 *    members follow, each struct's direct members contiguous at
 *    fields[first .. first+nmembers), laid out breadth-first.
 *  - in-types are TDH's, except that TraceLogging BINARY (14, a u16 byte
 *    count then the bytes) becomes EVT_IN_COUNTEDBINARY (25), which has
 *    the same encoding; in-type 16 (pointer) is kept as EVT_IN_POINTER.
 *  - out-types are translated from TlgOut to TDH (evt_tlg_out_to_tdh).
 *  - ccount arrays: EVT_F_COUNT_FIXED with .count = the metadata's count;
 *    vcount arrays: EVT_F_COUNT_INLINE (a u16 count precedes the values);
 *    both may be combined with EVT_F_STRUCT (arrays of structs repeat the
 *    whole member group). Custom fields: EVT_F_CUSTOM (u16 size + opaque
 *    bytes); their type-info bytes are dropped.
 *  - id, version and opcode of the schema are 0: one metadata blob may be
 *    shared by events with different descriptors, so the decoder takes
 *    those from the event header. Event and field tags are dropped.
 *
 * Ownership: schemas and their strings live in the registry's arena.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ETWCAT_EVT_TLG_H
#define ETWCAT_EVT_TLG_H

#include "lib/platform.h"
#include "etwcat/etl_event.h"
#include "etwcat/evt_registry.h"
#include "etwcat/evt_schema.h"

/* Deepest struct nesting accepted (a top-level struct is depth 1). Each
 * level may cost two JSON levels (array + object) in the output. */
#define EVT_TLG_MAX_DEPTH 16

/*
 * evt_tlg_schema - the schema of TraceLogging event ev.
 *
 * Looks ev->tl_meta up in the registry's TraceLogging cache; on a miss
 * compiles it, registers it with evt_registry_add_tl and returns it. The
 * provider name from ev->tl_traits, when present and well formed, is
 * registered at EVT_PRIO_TRACE and copied into the schema (malformed
 * traits are ignored: the name is optional). Returns NULL with a message
 * in err (errlen bytes, may be 0) when ev has no metadata, the metadata
 * is malformed, or memory ran out. Failures are not cached.
 */
const struct evt_schema *evt_tlg_schema(struct evt_registry *r,
                                        const struct etl_event *ev, char *err,
                                        size_t errlen);

/*
 * evt_tlg_compile - compile metadata blob meta[0..n) without touching the
 * cache. provider_name may be NULL. The schema is arena memory of r but
 * is not registered anywhere. NULL with a message in err on failure.
 */
const struct evt_schema *evt_tlg_compile(struct evt_registry *r,
                                         const uint8_t provider[16],
                                         const char *provider_name,
                                         const uint8_t *meta, size_t n,
                                         char *err, size_t errlen);

/*
 * evt_tlg_out_to_tdh - translate a TlgOut code (OutMeta & 0x7F) for a
 * field of TraceLogging in-type tl_in into enum evt_out. TlgOut codes
 * below 32 differ from TDH's (HEX, SIGNED and UNSIGNED take their width
 * from the in-type; FILETIME becomes EVT_OUT_DATETIME); 32 to 38 equal
 * TDH's; anything unknown gives EVT_OUT_NULL (the in-type's default).
 */
uint16_t evt_tlg_out_to_tdh(uint8_t tl_out, uint8_t tl_in);

#endif
