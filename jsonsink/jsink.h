/*
 * jsink.h - jsonsink's output side: console, JSON array file, NDJSON
 * file, pretty printing and the human table.
 *
 * main.c parses options into struct jsink and runs the shared sink engine
 * (lib/sink.h) with jsink_deliver() as the deliver callback: every batch
 * of rows is written in the chosen format, synchronously. The array file
 * always ends in "]" after a batch (the next batch overwrites it), so the
 * file is valid JSON between batches, after Ctrl-C, and even after a kill
 * between batches. Rotation (--rotate-bytes) happens between rows.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_JSINK_H
#define RTK_JSINK_H

#include "lib/platform.h"
#include "lib/sink.h"

enum jsink_mode {
  JSINK_CONSOLE, /* one object per line (pretty with --pretty) */
  JSINK_ARRAY,   /* one JSON array, like the original's output file */
  JSINK_NDJSON,  /* one object per line into a file */
  JSINK_TABLE    /* a human table sized to the terminal */
};

struct jsink_table;

struct jsink {
  enum jsink_mode mode;
  bool pretty;
  const char *path;      /* NULL: standard output */
  uint64_t rotate_bytes; /* 0: never rotate */
  int fd;
  bool own_fd;         /* we opened it (close at the end) */
  bool seekable;       /* the array's "]" can be rewritten */
  bool bracket_open;   /* "[" written, "]" still owed */
  unsigned file_index; /* 0 for the first file, then 1, 2... */
  uint64_t file_bytes; /* bytes in the current file */
  uint64_t file_rows;
  char *stage; /* pretty/table output staging */
  size_t stage_len, stage_cap;
  struct jsink_table *table;
  int term_width;
};

/* jsink_open - open the first output; 0, or -1 after a message. */
int jsink_open(struct jsink *j);

/* jsink_deliver - the engine's deliver callback (ctx is struct jsink). */
enum sink_status jsink_deliver(void *ctx, struct sink_batch *b,
                               struct sink_result *r);

/* jsink_finish - the engine's finish callback: close the array, close
 * the file. 0, or -1 when the end could not be written. */
int jsink_finish(void *ctx);

/* jsink_stage_reserve - room for n more bytes in j->stage; 0 or -1. */
int jsink_stage_reserve(struct jsink *j, size_t n);

/* jsink_pretty - append row (valid JSON) re-indented by two spaces and a
 * '\n' to j->stage; 0 or -1 (out of memory). */
int jsink_pretty(struct jsink *j, const char *row, size_t n);

/* Table mode (jsink_table.c): rows in, aligned text into j->stage. */
int jsink_table_rows(struct jsink *j, const char *rows, size_t len,
                     size_t nrows);
void jsink_table_free(struct jsink *j);

/* jsink_term_width - columns of the terminal on fd, or 0 if unknown. */
int jsink_term_width(int fd);

#endif
