/*
 * evt_registry.h - where schemas live and how they are found.
 *
 * The registry owns an arena: every schema, field array, map and string a
 * schema source compiles is allocated from it (evt_alloc, evt_strdup) and
 * freed all at once with the registry. Schemas are keyed as
 * (provider GUID, classic?, id-or-opcode, version). Each carries a
 * priority: EVT_PRIO_TRACE (schemas that travel in the trace) beats
 * EVT_PRIO_USER (--manifest) beats EVT_PRIO_BUILTIN; adding a schema
 * whose key exists replaces it only when the new priority is at least as
 * strong. TraceLogging schemas are cached by the exact metadata bytes.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ETWCAT_EVT_REGISTRY_H
#define ETWCAT_EVT_REGISTRY_H

#include "lib/platform.h"
#include "etwcat/evt_schema.h"

enum evt_prio { EVT_PRIO_TRACE = 0, EVT_PRIO_USER = 1, EVT_PRIO_BUILTIN = 2 };

struct evt_registry;

struct evt_registry *evt_registry_new(void);
void evt_registry_free(struct evt_registry *r);

/* evt_alloc - n zeroed bytes from the arena, aligned for any type; NULL on
 * out of memory. */
void *evt_alloc(struct evt_registry *r, size_t n);
/* evt_strdup - copy n bytes of s and add a NUL; NULL on out of memory. */
char *evt_strdup(struct evt_registry *r, const char *s, size_t n);

/* evt_registry_add - register s (arena memory, not copied) under its key.
 * Returns 0, or -1 on out of memory. */
int evt_registry_add(struct evt_registry *r, const struct evt_schema *s,
                     enum evt_prio prio);

/* evt_registry_find - exact key lookup; NULL when absent. For classic
 * schemas id_or_opcode is the opcode, otherwise the event id. */
const struct evt_schema *evt_registry_find(struct evt_registry *r,
                                           const uint8_t provider[16],
                                           bool classic, uint16_t id_or_opcode,
                                           uint8_t version);

/* evt_registry_find_lower - the schema with the same provider and
 * id-or-opcode and the highest version below `version`; NULL if none. */
const struct evt_schema *
evt_registry_find_lower(struct evt_registry *r, const uint8_t provider[16],
                        bool classic, uint16_t id_or_opcode, uint8_t version);

/* Provider names (from manifests, traits, TRACE_EVENT_INFO). The first
 * name registered at the strongest priority wins. name is copied. */
int evt_registry_set_provider_name(struct evt_registry *r,
                                   const uint8_t guid[16], const char *name,
                                   enum evt_prio prio);
const char *evt_registry_provider_name(struct evt_registry *r,
                                       const uint8_t guid[16]);

/* Maps by (provider, map name), for sources where maps arrive apart from
 * the events that use them (EVENT_MAP_INFO). m is arena memory. */
int evt_registry_add_map(struct evt_registry *r, const uint8_t provider[16],
                         const struct evt_map *m);
const struct evt_map *evt_registry_find_map(struct evt_registry *r,
                                            const uint8_t provider[16],
                                            const char *name);

/* TraceLogging: schemas keyed by (provider, metadata bytes). */
const struct evt_schema *evt_registry_find_tl(struct evt_registry *r,
                                              const uint8_t provider[16],
                                              const uint8_t *meta, size_t n);
int evt_registry_add_tl(struct evt_registry *r, const uint8_t provider[16],
                        const uint8_t *meta, size_t n,
                        const struct evt_schema *s);

#endif
