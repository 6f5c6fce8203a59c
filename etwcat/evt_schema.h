/*
 * evt_schema.h - one schema model for every source of event layouts.
 *
 * Instrumentation manifests (evt_manifest.c, also the built-in schemas in
 * share/schemas/), TRACE_EVENT_INFO blobs of merged traces (evt_tei.c),
 * TraceLogging metadata (evt_tlg.c) and EventSource in-trace manifests all
 * compile to struct evt_schema; one decoder (evt_decode.c) walks it over a
 * payload. The model follows TRACE_EVENT_INFO/EVENT_PROPERTY_INFO: a flat
 * array of fields, structs as slices of that array, lengths and counts
 * either fixed or taken from an earlier field. In/out types are TDH's
 * numbers (etw-schemas.md section 3), with TraceLogging out types already
 * translated to TDH's at compile time.
 *
 * Ownership: a schema and everything it points to is allocated from the
 * registry's arena (struct evt_registry) and lives as long as it does.
 * Strings are UTF-8, NUL-terminated.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ETWCAT_EVT_SCHEMA_H
#define ETWCAT_EVT_SCHEMA_H

#include "lib/platform.h"

/* TDH in-types (tdh.h), plus the manifest/TraceLogging counted types. */
enum evt_in {
  EVT_IN_NULL = 0,
  EVT_IN_UNICODESTRING = 1,
  EVT_IN_ANSISTRING = 2,
  EVT_IN_INT8 = 3,
  EVT_IN_UINT8 = 4,
  EVT_IN_INT16 = 5,
  EVT_IN_UINT16 = 6,
  EVT_IN_INT32 = 7,
  EVT_IN_UINT32 = 8,
  EVT_IN_INT64 = 9,
  EVT_IN_UINT64 = 10,
  EVT_IN_FLOAT = 11,
  EVT_IN_DOUBLE = 12,
  EVT_IN_BOOLEAN = 13, /* 4-byte BOOL */
  EVT_IN_BINARY = 14,
  EVT_IN_GUID = 15,
  EVT_IN_POINTER = 16, /* 4 or 8 bytes: the record's pointer size */
  EVT_IN_FILETIME = 17,
  EVT_IN_SYSTEMTIME = 18,
  EVT_IN_SID = 19,
  EVT_IN_HEXINT32 = 20,
  EVT_IN_HEXINT64 = 21,
  EVT_IN_COUNTEDSTRING = 22,     /* u16 byte count + UTF-16 */
  EVT_IN_COUNTEDANSISTRING = 23, /* u16 byte count + 8-bit */
  EVT_IN_STRUCT = 24,            /* TraceLogging struct marker */
  EVT_IN_COUNTEDBINARY = 25,     /* u16 byte count + bytes */
  /* WBEM in-types of MOF classes (TRACE_EVENT_INFO of classic events). */
  EVT_IN_WBEM_COUNTEDSTRING = 300,
  EVT_IN_WBEM_COUNTEDANSISTRING = 301,
  EVT_IN_WBEM_REVCOUNTEDSTRING = 302,
  EVT_IN_WBEM_REVCOUNTEDANSISTRING = 303,
  EVT_IN_WBEM_NONNULLSTRING = 304,
  EVT_IN_WBEM_NONNULLANSISTRING = 305,
  EVT_IN_WBEM_UNICODECHAR = 306,
  EVT_IN_WBEM_ANSICHAR = 307,
  EVT_IN_WBEM_SIZET = 308,
  EVT_IN_WBEM_HEXDUMP = 309,
  EVT_IN_WBEM_SID = 310
};

/* TDH out-types (tdh.h). */
enum evt_out {
  EVT_OUT_NULL = 0,
  EVT_OUT_STRING = 1,
  EVT_OUT_DATETIME = 2,
  EVT_OUT_BYTE = 3,
  EVT_OUT_UNSIGNEDBYTE = 4,
  EVT_OUT_SHORT = 5,
  EVT_OUT_UNSIGNEDSHORT = 6,
  EVT_OUT_INT = 7,
  EVT_OUT_UNSIGNEDINT = 8,
  EVT_OUT_LONG = 9,
  EVT_OUT_UNSIGNEDLONG = 10,
  EVT_OUT_FLOAT = 11,
  EVT_OUT_DOUBLE = 12,
  EVT_OUT_BOOLEAN = 13,
  EVT_OUT_GUID = 14,
  EVT_OUT_HEXBINARY = 15,
  EVT_OUT_HEXINT8 = 16,
  EVT_OUT_HEXINT16 = 17,
  EVT_OUT_HEXINT32 = 18,
  EVT_OUT_HEXINT64 = 19,
  EVT_OUT_PID = 20,
  EVT_OUT_TID = 21,
  EVT_OUT_PORT = 22,
  EVT_OUT_IPV4 = 23,
  EVT_OUT_IPV6 = 24,
  EVT_OUT_SOCKETADDRESS = 25,
  EVT_OUT_CIMDATETIME = 26,
  EVT_OUT_ETWTIME = 27,
  EVT_OUT_XML = 28,
  EVT_OUT_ERRORCODE = 29,
  EVT_OUT_WIN32ERROR = 30,
  EVT_OUT_NTSTATUS = 31,
  EVT_OUT_HRESULT = 32,
  EVT_OUT_CULTURE_INSENSITIVE_DATETIME = 33,
  EVT_OUT_JSON = 34,
  EVT_OUT_UTF8 = 35,
  EVT_OUT_PKCS7_WITH_TYPE_INFO = 36,
  EVT_OUT_CODE_POINTER = 37,
  EVT_OUT_DATETIME_UTC = 38,
  EVT_OUT_NOPRINT = 301
};

/* struct evt_field.flags */
#define EVT_F_STRUCT 0x0001      /* members: fields[first .. first+nmembers) */
#define EVT_F_LEN_FIELD 0x0002   /* length = value of field index .len */
#define EVT_F_COUNT_FIELD 0x0004 /* count = value of field index .count */
#define EVT_F_LEN_FIXED 0x0010   /* length = .len */
#define EVT_F_COUNT_FIXED 0x0020 /* count = .count (array even if 1) */
#define EVT_F_COUNT_INLINE                                                     \
  0x0040                    /* u16 count precedes the data (TL vcount)         \
                             */
#define EVT_F_CUSTOM 0x0080 /* TL custom: u16 size + opaque bytes */
#define EVT_F_UTC 0x0100    /* datetime known to be UTC */
#define EVT_F_COUNT_REST                                                       \
  0x0200 /* as many as the rest of the payload                                 \
            holds (MOF tails: StackWalk frames) */

/* A value map or bit map. Entries sorted by value for valuemaps. */
struct evt_map_entry {
  uint32_t value;
  const char *name;
};

struct evt_map {
  const char *name;
  bool bitmap;
  uint32_t n;
  const struct evt_map_entry *e;
};

struct evt_field {
  const char *name;
  uint16_t in;               /* enum evt_in; unused for EVT_F_STRUCT */
  uint16_t out;              /* enum evt_out; 0 = the in-type's default */
  uint16_t flags;            /* EVT_F_* */
  uint16_t len;              /* fixed length, or index of the length field */
  uint16_t count;            /* fixed count, or index of the count field */
  uint16_t first;            /* EVT_F_STRUCT: index of the first member */
  uint16_t nmembers;         /* EVT_F_STRUCT: number of members */
  const struct evt_map *map; /* NULL when none */
  const char *map_name;      /* unresolved map (resolved lazily), or NULL */
};

struct evt_schema {
  uint8_t provider[16];
  const char *provider_name;
  /* Key: manifest events by (provider, id, version); classic and kernel
   * events by (provider = class GUID, opcode, version). */
  bool classic;
  uint16_t id;
  uint8_t version;
  uint8_t opcode;
  const char *event_name; /* TL event name, MOF "Class/Opcode", or NULL */
  const char *level_name;
  const char *task_name;
  const char *opcode_name;
  const char *channel_name;
  const char *keywords_name; /* names of the keyword bits, or NULL */
  const char *message;       /* with %1..%n, or NULL */
  uint16_t nfields;          /* all fields, struct members included */
  uint16_t ntop;             /* fields[0..ntop) are top level */
  const struct evt_field *fields;
  /* How the schema was obtained, for --verbose and error messages. */
  const char *source;
};

/* Provider-level names for the header fields when an event has no schema
 * of its own but its provider is known (for example from a manifest). */
struct evt_provider {
  uint8_t guid[16];
  const char *name;
};

#endif
