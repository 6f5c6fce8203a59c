/*
 * etl_reader.h - walk .etl files and produce events in time order.
 *
 * Three files share this interface:
 *   etl_file.c   - open a file, read its TRACE_LOGFILE_HEADER, convert
 *                  timestamps, index every buffer (a cheap pre-pass that
 *                  reads each buffer header and its first record), load a
 *                  buffer (decompressing it when needed);
 *   etl_record.c - decode one record header of any kind into struct
 *                  etl_event (etl_event.h);
 *   etl_merge.c  - the k-way merge over buffers of all files (a heap
 *                  keyed by each buffer's next timestamp, ties in file
 *                  order), admitting buffers lazily in order of their
 *                  first timestamp so memory stays bounded by the buffers
 *                  that overlap in time, not by the file size.
 * Layouts: ../shared/design/etl-format.md. Every problem is reported once
 * through log_err with file, buffer index and absolute offset, counted in
 * struct etl_file.problems, and the bad buffer or record is skipped.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ETWCAT_ETL_READER_H
#define ETWCAT_ETL_READER_H

#include "lib/platform.h"
#include "etwcat/etl_event.h"

#define ETL_BUF_HDR 0x48
#define ETL_MAX_BUFFER (64u << 20) /* larger buffers are treated as lies */
#define ETL_MAX_REPORTS 100        /* problems printed per file */

/* LogFileMode bits used by the reader. */
#define ETL_MODE_RELOG 0x00010000u
#define ETL_MODE_COMPRESSED 0x04000000u

struct rfile;

struct etl_bufinfo {
  uint64_t off;    /* absolute offset of the buffer in the file */
  uint32_t size;   /* bytes on disk */
  uint32_t filled; /* FilledBytes: end of valid (decompressed) data */
  uint16_t flags;  /* BufferFlag */
  uint16_t cpu;
  uint32_t index; /* position in file order */
  int64_t first;  /* time of the first record (FILETIME ticks) */
};

struct etl_file {
  char *name;
  struct rfile *rf;
  uint64_t size;
  uint32_t findex; /* position among the inputs, for tie-breaking */
  /* TRACE_LOGFILE_HEADER fields (etl-format.md section 5). */
  uint32_t buffer_size;
  uint32_t version;
  uint32_t provider_version;
  uint32_t ncpus;
  int64_t end_time;
  uint32_t timer_resolution;
  uint32_t max_file_size;
  uint32_t log_mode;
  uint32_t buffers_written;
  uint32_t start_buffers;
  uint32_t ptr_size;
  uint32_t events_lost;
  uint32_t cpu_mhz;
  int64_t boot_time;
  int64_t perf_freq;
  int64_t start_time;
  uint32_t clock; /* 1 QPC, 2 system time, 3 CPU cycles */
  uint32_t buffers_lost;
  int32_t tz_bias;
  char *logger_name;  /* UTF-8 */
  char *logfile_name; /* UTF-8 */
  int64_t raw0;       /* raw timestamp of the header record */
  bool have_header;
  /* Buffer index, in file order. */
  struct etl_bufinfo *bufs;
  size_t nbufs;
  unsigned problems; /* buffers or records skipped */
  bool prescanned;   /* schema records already collected */
};

/* etl_file_open - open and index one file. Returns NULL when the file
 * cannot be read at all or is not an ETL file (after reporting why). */
struct etl_file *etl_file_open(const char *path, uint32_t findex);
/* etl_file_open_rfile - the same over an already open rfile, which the
 * etl_file then owns (also on failure). */
struct etl_file *etl_file_open_rfile(const char *name, struct rfile *rf,
                                     uint32_t findex);
void etl_file_close(struct etl_file *f);

/* etl_file_time - raw record timestamp to UTC FILETIME ticks. */
int64_t etl_file_time(const struct etl_file *f, int64_t raw);

/* etl_file_load - read (and decompress) buffer b into *data (malloc'd,
 * b->filled bytes, header included). -1 after reporting on failure. */
int etl_file_load(struct etl_file *f, const struct etl_bufinfo *b,
                  uint8_t **data);

/* etl_problem - report a problem at an absolute offset and count it. */
void etl_problem(struct etl_file *f, uint32_t buf, uint64_t off,
                 const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    PLAT_PRINTF(4, 5)
#endif
    ;

/* Record walking inside a loaded buffer. */
struct etl_walk {
  struct etl_file *file;
  const struct etl_bufinfo *buf;
  const uint8_t *data; /* buffer bytes, header included */
  uint32_t pos;        /* offset of the next record */
  uint32_t end;        /* FilledBytes */
  int64_t last_raw;    /* for records that carry no timestamp */
  bool have_raw;
};

enum etl_next { ETL_EVENT, ETL_END, ETL_SKIP };

/* etl_walk_next - decode the record at w->pos into ev and advance.
 * ETL_EVENT: ev is filled (pointers into w->data); ETL_END: no more
 * records; ETL_SKIP: a bad record was reported and skipped, call again.
 */
enum etl_next etl_walk_next(struct etl_walk *w, struct etl_event *ev);

/* etl_peek_first_raw - raw timestamp of the first record of a buffer
 * whose first `n` bytes (after the header) are given; false if none. */
bool etl_peek_first_raw(const uint8_t *rec, size_t n, int64_t *raw);

/* Merge over several files. */
struct etl_merge;
struct etl_merge *etl_merge_new(struct etl_file **files, size_t n,
                                bool file_order);
/* etl_merge_next - the next event in time order (or file order); false
 * at the end. The event stays valid until the next call. *file is the
 * file it came from. */
bool etl_merge_next(struct etl_merge *m, struct etl_event *ev,
                    struct etl_file **file);
void etl_merge_free(struct etl_merge *m);

/* Kernel group GUIDs (etl-format.md section 8): the class GUID of a
 * SYSTEM/COMPACT/PERFINFO hook id; false for unknown groups. */
bool etl_kernel_guid(uint16_t hook_id, uint8_t guid[16]);

/* etl_kernel_group - the group number of a kernel class GUID (classic
 * FULL_HEADER events use them too), or -1. */
int etl_kernel_group(const uint8_t guid[16]);

#endif
