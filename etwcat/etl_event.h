/*
 * etl_event.h - the internal view of one ETW event, whatever its source.
 *
 * The .etl reader (etl_reader.c) and, on Windows, the real-time consumer
 * both fill a struct etl_event; decoding (evt_decode.c) and the NDJSON
 * writer (evt_output.c) read only this view. It mirrors EVENT_RECORD:
 * header fields, extended data, user data. Pointers point into the
 * producer's buffer and are valid only until the next event is produced.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ETWCAT_ETL_EVENT_H
#define ETWCAT_ETL_EVENT_H

#include "lib/platform.h"

/* Header kinds (etl-format.md section 3); the value is the marker's type
 * byte, so 32/64-bit pairs stay distinct. */
enum etl_hdr {
  ETL_HDR_SYSTEM32 = 0x01,
  ETL_HDR_SYSTEM64 = 0x02,
  ETL_HDR_COMPACT32 = 0x03,
  ETL_HDR_COMPACT64 = 0x04,
  ETL_HDR_FULL32 = 0x0A,
  ETL_HDR_INSTANCE32 = 0x0B,
  ETL_HDR_TIMED = 0x0C,
  ETL_HDR_ERROR = 0x0D,
  ETL_HDR_WNODE = 0x0E,
  ETL_HDR_MESSAGE = 0x0F,
  ETL_HDR_PERFINFO32 = 0x10,
  ETL_HDR_PERFINFO64 = 0x11,
  ETL_HDR_EVENT32 = 0x12,
  ETL_HDR_EVENT64 = 0x13,
  ETL_HDR_FULL64 = 0x14,
  ETL_HDR_INSTANCE64 = 0x15,
  ETL_HDR_WPP = 0x90 /* TraceMessage record (flag byte 0x90) */
};

/* What the provider GUID names, which decides how schemas are looked up. */
enum etl_origin {
  ETL_ORIGIN_MANIFEST, /* EVENT_HEADER: (provider, id, version) */
  ETL_ORIGIN_CLASSIC,  /* FULL/INSTANCE: (class GUID, opcode, version) */
  ETL_ORIGIN_KERNEL,   /* SYSTEM/COMPACT/PERFINFO: group GUID, opcode=type */
  ETL_ORIGIN_WPP       /* TraceMessage: message GUID + number */
};

/* EVENT_HEADER.Flags bits (evntcons.h). */
#define ETL_EF_EXTENDED_INFO 0x0001
#define ETL_EF_PRIVATE_SESSION 0x0002
#define ETL_EF_STRING_ONLY 0x0004
#define ETL_EF_TRACE_MESSAGE 0x0008
#define ETL_EF_NO_CPUTIME 0x0010
#define ETL_EF_32_BIT_HEADER 0x0020
#define ETL_EF_64_BIT_HEADER 0x0040
#define ETL_EF_CLASSIC_HEADER 0x0100

/* Extended data item types (evntcons.h) used by the decoder. */
#define ETL_EXT_RELATED_ACTIVITYID 1
#define ETL_EXT_SID 2
#define ETL_EXT_TS_ID 3
#define ETL_EXT_STACK_TRACE32 5
#define ETL_EXT_STACK_TRACE64 6
#define ETL_EXT_EVENT_SCHEMA_TL 11
#define ETL_EXT_PROV_TRAITS 12

struct etl_event {
  int64_t time;         /* UTC FILETIME ticks (100 ns since 1601) */
  uint8_t hdr;          /* enum etl_hdr */
  uint8_t origin;       /* enum etl_origin */
  uint8_t ptr_size;     /* 4 or 8: pointer size of this record */
  uint16_t flags;       /* EVENT_HEADER.Flags (ETL_EF_*) */
  uint8_t provider[16]; /* Windows GUID layout */
  uint16_t id;
  uint8_t version;
  uint8_t channel;
  uint8_t level;
  uint8_t opcode;
  uint16_t task;
  uint64_t keywords;
  uint16_t hook_id; /* SYSTEM/COMPACT/PERFINFO: group << 8 | type */
  bool has_pid;     /* PERFINFO records carry no PID/TID */
  uint32_t pid;
  uint32_t tid;
  uint16_t cpu;
  bool has_activity;
  uint8_t activity[16];
  bool has_related;
  uint8_t related[16];
  /* User data (the payload). */
  const uint8_t *data;
  uint32_t data_len;
  /* TraceLogging: extended items 11 and 12, when present. */
  const uint8_t *tl_meta;
  uint16_t tl_meta_len;
  const uint8_t *tl_traits;
  uint16_t tl_traits_len;
  /* All extended items as laid out in the record, for later use. */
  const uint8_t *ext;
  uint32_t ext_len;
  /* Where the record came from, for messages. */
  const char *src_name; /* file name, or session name */
  uint64_t src_offset;  /* absolute offset of the record in the file */
  uint32_t src_buffer;  /* buffer index in the file */
};

#endif
