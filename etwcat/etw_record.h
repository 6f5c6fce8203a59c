/*
 * etw_record.h - an EVENT_RECORD from a real-time session, as the event
 * view the .etl reader produces (etl_event.h).
 *
 * ProcessTrace hands the consumer's callback an EVENT_RECORD (evntcons.h)
 * whose pointers are valid only during the call: ETW reuses the buffer.
 * etw_realtime_win.c copies the record's fields into struct etw_rec, a
 * plain-C mirror declared here, and etw_record_copy() turns that into a
 * struct etl_event whose bytes (extended items and user data) live in a
 * buffer the caller owns, so the event can cross to the writer thread.
 * Being plain C, this is compiled and unit-tested on every OS
 * (tests/unit/test_etw_record.c builds records from corpus .etl files).
 *
 * What ProcessTrace does to a record, and what is mapped back here:
 *  - timestamps arrive as UTC FILETIME ticks (unless the consumer asked
 *    for raw timestamps, which etwcat does not);
 *  - classic (MOF) and kernel records carry EVENT_HEADER_FLAG_CLASSIC_HEADER,
 *    their class GUID as ProviderId and the event type as Opcode; a class
 *    GUID of an NT Kernel Logger group gives the kernel origin and the
 *    hook id (group << 8 | type) the .etl reader reports;
 *  - kernel records without process context (PERFINFO headers) carry
 *    0xFFFFFFFF as ProcessId and ThreadId;
 *  - WPP records carry EVENT_HEADER_FLAG_TRACE_MESSAGE, the message GUID as
 *    ProviderId and the message number as Id;
 *  - the processor is ProcessorIndex when EVENT_HEADER_FLAG_PROCESSOR_INDEX
 *    is set, else the low byte (ProcessorNumber).
 * The layout of the copied extended items is that of the .etl file
 * (etl-format.md section 9): u16 size, u16 type, u16 linkage, u16 data
 * size, data, padded to 8 bytes.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ETWCAT_ETW_RECORD_H
#define ETWCAT_ETW_RECORD_H

#include "lib/platform.h"
#include "etwcat/etl_event.h"

/* EVENT_HEADER.Flags bit not in etl_event.h. */
#define ETW_EF_PROCESSOR_INDEX 0x0200

/* Extended items kept per record; there are fewer than 20 item types and
 * each appears at most once. */
#define ETW_REC_MAX_EXT 32

/* EVENT_HEADER_EXTENDED_DATA_ITEM */
struct etw_rec_ext {
  uint16_t type;       /* ExtType: ETL_EXT_* */
  uint16_t size;       /* DataSize */
  const uint8_t *data; /* DataPtr */
};

/* EVENT_RECORD, field by field. */
struct etw_rec {
  /* EVENT_HEADER */
  uint16_t flags;       /* Flags: ETL_EF_* */
  uint16_t property;    /* EventProperty */
  uint32_t tid;         /* ThreadId */
  uint32_t pid;         /* ProcessId */
  int64_t timestamp;    /* TimeStamp: UTC FILETIME ticks */
  uint8_t provider[16]; /* ProviderId, Windows GUID byte layout */
  /* EVENT_DESCRIPTOR */
  uint16_t id;
  uint8_t version;
  uint8_t channel;
  uint8_t level;
  uint8_t opcode;
  uint16_t task;
  uint64_t keyword;
  uint8_t activity[16]; /* ActivityId */
  /* ETW_BUFFER_CONTEXT: ProcessorNumber | Alignment << 8 (the same bytes
   * as ProcessorIndex), LoggerId */
  uint16_t processor;
  uint16_t logger_id;
  /* Extended data and user data. */
  uint16_t ext_count;
  const struct etw_rec_ext *ext;
  uint16_t user_len;
  const uint8_t *user;
};

/* etw_record_size - bytes etw_record_copy needs in its buffer for r. */
size_t etw_record_size(const struct etw_rec *r);

/*
 * etw_record_copy - fill ev from r, copying the extended items and the
 * user data into buf[0..cap); ev's pointers then point into buf, which
 * the caller keeps alive as long as ev is used (buf may be NULL when
 * etw_record_size is 0). src_name (not copied) names the session in
 * messages. false, with ev untouched, when cap is smaller than
 * etw_record_size(r) or the record claims user data it does not have.
 */
bool etw_record_copy(const struct etw_rec *r, struct etl_event *ev,
                     uint8_t *buf, size_t cap, const char *src_name);

#endif
