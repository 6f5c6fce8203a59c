/*
 * etl_writer.h - write deterministic .etl traces in the Windows layout.
 *
 * A test tool, not part of any program: it produces the files that unit,
 * CLI and benchmark tests feed to etwcat. The writer lays records out the
 * way the kernel does: one buffer per CPU, filled in time order and
 * flushed when full, so buffers of different CPUs come out of time order
 * and a reader has to merge them. The first buffer holds the logfile
 * header (a SYSTEM record whose payload is TRACE_LOGFILE_HEADER); every
 * record is 8-byte aligned and the rest of each uncompressed buffer is
 * 0xFF. Optional MS-XCA compression (tests/tools/lzx_compress.h) and
 * deliberate damage (bad sizes, unknown header kinds, a broken compressed
 * stream, truncation) let tests cover the reader's error paths.
 *
 * Ownership: the writer owns its buffers; record contents passed to the
 * etlw_add_* functions are copied before they return. Output goes to a
 * caller-owned seekable FILE (the header buffer is rewritten at the end
 * with EndTime and BuffersWritten) or to memory owned by the writer.
 * Nothing here exits or prints: functions return 0 or -1 and
 * etlw_error() says why. Format: design/etl-format.md sections 1-5, 9, 14.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_ETL_WRITER_H
#define RTK_ETL_WRITER_H

#include "lib/platform.h"

#include <stdio.h>

#define ETLW_BUF_HDR 0x48 /* WMI_BUFFER_HEADER size */
#define ETLW_MIN_BUFFER 1024
#define ETLW_MAX_BUFFER (16u << 20)
#define ETLW_MAX_CPUS 256

/* Clock types (TRACE_LOGFILE_HEADER.ReservedFlags). */
#define ETLW_CLOCK_QPC 1
#define ETLW_CLOCK_SYSTEM 2
#define ETLW_CLOCK_CYCLES 3

/* LogFileMode bits the writer sets. */
#define ETLW_MODE_SEQUENTIAL 0x00000001u
#define ETLW_MODE_COMPRESSED 0x04000000u

/* BufferFlag bits. */
#define ETLW_BF_FLUSH_MARKER 0x0001
#define ETLW_BF_PROC_INDEX 0x0020
#define ETLW_BF_COMPRESSED 0x0040

/* Header kinds: the marker's type byte (byte 2 of a record). */
enum etlw_kind {
  ETLW_SYSTEM32 = 0x01,
  ETLW_SYSTEM64 = 0x02,
  ETLW_COMPACT32 = 0x03,
  ETLW_COMPACT64 = 0x04,
  ETLW_FULL32 = 0x0A,
  ETLW_INSTANCE32 = 0x0B,
  ETLW_PERFINFO32 = 0x10,
  ETLW_PERFINFO64 = 0x11,
  ETLW_EVENT32 = 0x12,
  ETLW_EVENT64 = 0x13,
  ETLW_FULL64 = 0x14,
  ETLW_INSTANCE64 = 0x15
};
#define ETLW_KIND_WPP 0x20     /* pseudo kind: TraceMessage (flags 0x90) */
#define ETLW_KIND_UNKNOWN 0x1F /* type byte written by damage "unknown" */
#define ETLW_NKINDS 0x21       /* size of struct etlw_stats.kinds */

/* Extended data item types (EVENT_HEADER_EXTENDED_DATA_ITEM.ExtType). */
#define ETLW_EXT_RELATED_ACTIVITYID 1
#define ETLW_EXT_STACK_TRACE64 6
#define ETLW_EXT_EVENT_SCHEMA_TL 11
#define ETLW_EXT_PROV_TRAITS 12

/* WPP TraceMessage option flags (etl-format.md section 14). */
#define ETLW_WPP_SEQUENCE 0x01
#define ETLW_WPP_GUID 0x02
#define ETLW_WPP_TIMESTAMP 0x08
#define ETLW_WPP_SYSTEMINFO 0x20

/* A GUID in Windows layout: written d1, d2, d3 little-endian, d4 as is. */
struct etlw_guid {
  uint32_t d1;
  uint16_t d2, d3;
  uint8_t d4[8];
};

/* Damage to apply while writing. Buffer numbers count buffers in file
 * order, 0 being the logfile header buffer; -1 means "no damage". */
enum etlw_size_lie {
  ETLW_LIE_BIG,  /* BufferSize 0x7FFFFFF0: far past the end of the file */
  ETLW_LIE_ZERO, /* BufferSize 0 */
  ETLW_LIE_SMALL /* BufferSize 0x40: smaller than the buffer header */
};

struct etlw_damage {
  int64_t truncate;       /* cut the file to this many bytes */
  int64_t bad_size_buf;   /* this buffer's BufferSize lies ... */
  enum etlw_size_lie lie; /* ... this way */
  int64_t bad_record_buf; /* its last record's size overruns the buffer */
  int64_t unknown_buf;    /* its last record gets header type 0x1F */
  int64_t bad_lzx_buf;    /* its compressed stream starts with a bad match */
};

/* What etlw_damage did to one buffer (reported with the buffer). */
struct etlw_buf_damage {
  const char *what;   /* "buffer-size", "record", "unknown-kind", "lzx" */
  uint32_t rec_off;   /* offset of the damaged record in the buffer */
  int rec_kind;       /* its header kind before the damage */
  int event_id;       /* its descriptor Id if an EVENT_HEADER, else -1 */
  uint32_t old_value; /* the size or BufferSize before the damage */
  uint32_t new_value; /* the value written instead */
};

/* One buffer as written; passed to etlw_opts.on_buffer. */
struct etlw_buf_info {
  uint32_t index;    /* position in the file, 0 = header buffer */
  uint64_t offset;   /* file offset (before any truncation) */
  uint32_t size;     /* bytes on disk */
  uint32_t filled;   /* FilledBytes (uncompressed) */
  unsigned cpu;      /* processor of every record in it */
  uint64_t sequence; /* SequenceNumber */
  uint16_t flags;    /* BufferFlag */
  uint32_t records;  /* records in it */
  uint32_t kept;     /* of those, the ones wholly inside a truncated file
                        (a cut compressed buffer keeps none) */
  uint64_t first_ts; /* raw timestamp of the first record */
  uint64_t last_ts;  /* raw timestamp of the last record */
  const struct etlw_buf_damage *damage; /* NULL when undamaged */
  size_t ndamage;
};

struct etlw_opts {
  uint32_t buffer_size;     /* bytes, multiple of 8, 1 KiB .. 16 MiB */
  unsigned ptr_size;        /* 4 or 8: PointerSize, SYSTEM32/64 header */
  unsigned clock;           /* ETLW_CLOCK_* */
  uint64_t perf_freq;       /* PerfFreq: QPC ticks per second */
  uint32_t cpu_mhz;         /* CpuSpeedInMHz (the cycle clock's rate) */
  int64_t start_time;       /* StartTime, FILETIME UTC (100 ns since 1601) */
  uint64_t start_raw;       /* raw clock at start (raw0); system clock:
                               ignored, raw0 = start_time */
  unsigned ncpus;           /* NumberOfProcessors, 1 .. ETLW_MAX_CPUS */
  bool compress;            /* COMPRESSED mode, needs lzx_compress() */
  bool win7;                /* Win7 layout: u8 CPU + u8 alignment 8, no
                               PROC_INDEX, version 6.1, LogFileMode 0 */
  const char *logger_name;  /* ASCII; NULL = "etlwriter" */
  const char *logfile_name; /* ASCII; NULL = "C:\PerfLogs\etlwriter.etl" */
  uint32_t header_pid, header_tid; /* of the logfile header record */
  FILE *out; /* seekable output; NULL = keep it in memory */
  const struct etlw_damage *damage; /* NULL = none */
  void (*on_buffer)(void *ctx, const struct etlw_buf_info *bi);
  void *ctx;
};

/* Totals, filled by etlw_finish. */
struct etlw_stats {
  uint32_t buffers;            /* BuffersWritten, header buffer included */
  uint64_t records;            /* all records, header record included */
  uint64_t kinds[ETLW_NKINDS]; /* records per header kind */
  uint64_t bytes;              /* file size before truncation */
  uint64_t bytes_written;      /* file size after truncation */
  uint64_t end_raw;            /* newest raw timestamp written */
  int64_t end_time;            /* EndTime (FILETIME) in the header */
  unsigned damage_done;        /* bits: 1 size, 2 record, 4 unknown, 8 lzx */
};

/* Extended data item of an EVENT_HEADER record. */
struct etlw_ext {
  uint16_t type; /* ETLW_EXT_* */
  uint16_t len;  /* data bytes; the item is padded to 8 with zeros */
  const void *data;
};

/* An EVENT_HEADER32/64 record (manifest-based or TraceLogging). */
struct etlw_event {
  bool header32; /* EVENT_HEADER32 (a WOW64 process) instead of 64 */
  struct etlw_guid provider;
  uint16_t id;
  uint8_t version, channel, level, opcode;
  uint16_t task;
  uint64_t keyword;
  uint32_t pid, tid, kernel_time, user_time;
  uint64_t timestamp; /* raw clock */
  struct etlw_guid activity;
  const struct etlw_ext *ext; /* written in this order; NULL if none */
  size_t next;
  const void *data; /* user data */
  size_t len;
};

/* A classic record: SYSTEM, COMPACT, PERFINFO, FULL_HEADER or INSTANCE.
 * Fields a kind does not have are ignored. */
struct etlw_classic {
  enum etlw_kind kind;
  uint16_t version;      /* SYSTEM/COMPACT/PERFINFO: marker version;
                            FULL/INSTANCE: Class.Version */
  uint16_t hook_id;      /* SYSTEM/COMPACT/PERFINFO: group << 8 | type */
  uint8_t type, level;   /* FULL/INSTANCE: Class.Type (opcode), Class.Level */
  struct etlw_guid guid; /* FULL/INSTANCE: event class */
  uint32_t instance_id, parent_instance_id;  /* INSTANCE */
  struct etlw_guid parent_guid;              /* INSTANCE */
  uint32_t pid, tid, kernel_time, user_time; /* not in PERFINFO */
  uint64_t timestamp;
  const void *data;
  size_t len;
};

/* A WPP TraceMessage record (unverified layout, etl-format.md section
 * 14): {u16 Size, u8 0, u8 0x90, u16 MessageNumber, u16 OptionFlags},
 * then, as OptionFlags select, u32 sequence, the message GUID, u64
 * timestamp, u32 TID + u32 PID; then the arguments. */
struct etlw_wpp {
  uint16_t message_number;
  uint16_t option_flags; /* ETLW_WPP_* */
  uint32_t sequence;
  struct etlw_guid guid;
  uint32_t pid, tid;
  uint64_t timestamp;
  const void *data;
  size_t len;
};

/* etlw_opts_default - Win8+ style, 64 KiB buffers, 64-bit, QPC at
 * 10 MHz, 4 CPUs, a fixed start time, memory output. */
void etlw_opts_default(struct etlw_opts *o);

/*
 * etlw_new - check the options, write the logfile header buffer and
 * return a writer. On failure returns NULL with a message in err.
 */
struct etlw *etlw_new(const struct etlw_opts *o, char *err, size_t errsz);

/*
 * etlw_add_event, etlw_add_classic, etlw_add_wpp - append one record to
 * CPU cpu's buffer, flushing that buffer first when the record does not
 * fit. Records of one CPU must come in time order. Returns 0, or -1 when
 * the record is too big for a buffer or a u16 size, an argument is
 * invalid, or the output fails.
 */
int etlw_add_event(struct etlw *w, unsigned cpu, const struct etlw_event *ev);
int etlw_add_classic(struct etlw *w, unsigned cpu,
                     const struct etlw_classic *c);
int etlw_add_wpp(struct etlw *w, unsigned cpu, const struct etlw_wpp *m);

/*
 * etlw_finish - flush every CPU's buffer (in CPU order), rewrite the
 * header with EndTime and BuffersWritten, flush the FILE and fill *st
 * (may be NULL). Call once; afterwards only etlw_mem, etlw_error and
 * etlw_free are allowed. Returns 0 or -1.
 */
int etlw_finish(struct etlw *w, struct etlw_stats *st);

/* etlw_mem - the file bytes when writing to memory (after truncation). */
const uint8_t *etlw_mem(const struct etlw *w, size_t *len);

/* etlw_error - the last error message, "" if none. */
const char *etlw_error(const struct etlw *w);

/* etlw_free - release the writer; the FILE stays open. NULL is fine. */
void etlw_free(struct etlw *w);

/* etlw_raw_at - the raw clock value `ticks` 100-ns units after the
 * start, in the writer's clock (rounded down when the clock is coarser
 * than 100 ns): the timestamp to give a record logged at that time. */
uint64_t etlw_raw_at(const struct etlw *w, uint64_t ticks);

/* etlw_kind_name - "SYSTEM64", "EVENT_HEADER32", "WPP", ... */
const char *etlw_kind_name(int kind);

#endif
