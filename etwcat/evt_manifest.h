/*
 * evt_manifest.h - compile instrumentation manifests into schemas.
 *
 * An instrumentation manifest (the XML that mc.exe compiles; also what a
 * .NET EventSource logs as event 65534) declares providers, their
 * channels, levels, tasks, opcodes, keywords, maps and templates, and the
 * events that use them. evt_manifest_load() turns every <provider> under
 * <events> into struct evt_schema entries (one per event), named the way
 * TDH names them, and registers them with the provider's name and maps.
 * evt_manifest_chunk() reassembles an EventSource manifest from the
 * payloads of its 65534 events and loads it once complete.
 *
 * What the schemas hold (the decoder relies on it):
 * - level_name, task_name, opcode_name, channel_name: the item's message
 *   string (stringTable, en-US preferred, else the first culture) when it
 *   has one that resolves, else its name; winmeta built-ins by their TDH
 *   names ("Information", "Info", "System"...). NULL when the event does
 *   not set the attribute (the writer then names the number itself).
 * - keywords_name: the display names of the event's keywords joined with
 *   ", ", or NULL.
 * - message: the resolved message string, or NULL (no message, or a
 *   string id missing from the table).
 * - fields: top-level fields first, then each struct's members in turn;
 *   out is 0 when the manifest gives no outType, an unknown one, or the
 *   in-type's default. map_name is set whenever the field has a map;
 *   map too when the provider declares it (value maps sorted by value,
 *   bit maps in declaration order, entries whose message does not
 *   resolve left out); otherwise the decoder may find it later with
 *   evt_registry_find_map(). Lengths are kept for UnicodeString,
 *   AnsiString and Binary only; win:Binary with outType win:IPv6 and no
 *   length gets length 16; length and count fields are earlier,
 *   non-array integer fields (a member's may be an earlier member of the
 *   same struct or an earlier top-level field).
 * - event_name: the event's name attribute (newer manifests), or NULL.
 * - source: the name passed to the loader.
 *
 * Project extension (for the classic kernel MOF classes, which have no
 * manifest of their own; share/schemas/MSNT_SystemTrace-*.man use it).
 * Attributes and in-types whose prefix is bound to EVT_MANIFEST_NS:
 * - <provider rtk:classic="true"> (or "1"; "false"/"0" = absent): the
 *   provider GUID is a MOF class GUID and each event is keyed as a
 *   classic event, by (class GUID, event type, version) with the event
 *   type in the event's value attribute (0 to 255). An event's opcode
 *   attribute, when present, must name an opcode of that same value;
 *   its display name becomes the schema's opcode_name (TDH names MOF
 *   event types that way: "Start", "DCEnd", "Load").
 * - inType="rtk:WbemSizeT", "rtk:WbemSid", "rtk:WbemUnicodeChar", ...:
 *   the WBEM in-types 300 to 310, named as evt_in_name() names them
 *   (SizeT is pointer-sized; WbemSid is a u32 0, or a TOKEN_USER of two
 *   pointers and a SID). The decoder sizes them by the record's pointer
 *   size, as it does win:Pointer.
 * An element or attribute of another namespace is ignored, as before;
 * the same names with a prefix bound elsewhere are not the extension.
 *
 * Ownership: schemas, fields, maps and strings live in the registry's
 * arena; the XML is not referenced after a load returns. The chunk table
 * is process-wide and not thread-safe (etwcat decodes on one thread).
 *
 * Design notes: etw-schemas.md section 3; EventSource envelope:
 * etl-format.md section 11. The XML is untrusted: sizes, counts, nesting
 * and numbers are bounded, and a failed load registers nothing.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ETWCAT_EVT_MANIFEST_H
#define ETWCAT_EVT_MANIFEST_H

#include "lib/platform.h"
#include "etwcat/evt_registry.h"

/* The namespace of the project extension described above. */
#define EVT_MANIFEST_NS "urn:realtimekql:etwcat"

/* Largest manifest text accepted, and most fields in one template. */
#define EVT_MANIFEST_MAX_BYTES (32u << 20)
#define EVT_MANIFEST_MAX_FIELDS 1024

/*
 * evt_manifest_load - compile the len bytes of manifest XML at xml and
 * register every event schema, provider name and map at priority prio.
 * name labels messages and becomes schema->source (copied). Returns the
 * number of event schemas registered (>= 0), or -1 with
 * "name:line:col: reason" (or "name: reason") in err; on failure nothing
 * is registered (arena memory may have been used; only running out of
 * memory while registering can leave part of a manifest registered).
 */
int evt_manifest_load(struct evt_registry *r, const char *xml, size_t len,
                      const char *name, enum evt_prio prio, char *err,
                      size_t errlen);

/*
 * evt_manifest_chunk - feed the payload of one EventSource manifest event
 * (Id 65534) of provider: an 8-byte envelope {u8 Format = 1, u8 Major = 1,
 * u8 Minor, u8 Magic = 0x5B, u16 TotalChunks, u16 ChunkNumber} and a chunk
 * of UTF-8 XML. Chunks are gathered per (registry, provider) in a small
 * static table (EVT_MANIFEST_PENDING slots; a chunk 0 restarts, a chunk out
 * of sequence drops what was gathered); the complete manifest is loaded
 * at EVT_PRIO_TRACE, once: the same text logged again is not reloaded.
 * Returns 1 when a manifest was completed (and loaded, or already
 * loaded), 0 when the chunk was stored and more are expected, -1 with a
 * reason in err (bad envelope, chunk out of order, manifest too large, or
 * the manifest's own compile error).
 */
#define EVT_MANIFEST_PENDING 16
int evt_manifest_chunk(struct evt_registry *r, const uint8_t provider[16],
                       const uint8_t *payload, size_t len, char *err,
                       size_t errlen);

/*
 * evt_manifest_chunks_drop - forget the chunk state kept for registry r
 * (every registry when r is NULL) and free its memory. Call it before
 * evt_registry_free(r), so that a later registry at the same address does
 * not inherit it.
 */
void evt_manifest_chunks_drop(const struct evt_registry *r);

#endif
