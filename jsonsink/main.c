/*
 * main.c - jsonsink: NDJSON rows on stdin to the console, a JSON array
 * file, an NDJSON file or a table.
 *
 * The shared sink engine (lib/sink.h) reads, checks and batches the rows
 * and handles signals; jsink_out.c writes each batch. Nothing is retried
 * or spooled here: a failed write loses rows and the exit code says so
 * (1). Manual: share/man/jsonsink.1.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "jsonsink/jsink.h"
#include "lib/log.h"
#include "lib/sink.h"
#include "lib/sink_opts.h"

#include <stdio.h>
#include <string.h>

enum { O_FILE, O_NDJSON, O_PRETTY, O_ROTATE_BYTES, O_TABLE };

/* Sorted by long name (bsearch). */
static const struct sink_opt opts[] = {
    {"file", 'f', SINK_ARG_STR, O_FILE, "FILE",
     "write one JSON array to FILE (\"-\": standard output)"},
    {"ndjson", 0, SINK_ARG_NONE, O_NDJSON, NULL,
     "with --file: one object per line instead of an array"},
    {"pretty", 0, SINK_ARG_NONE, O_PRETTY, NULL,
     "console: indent each object over several lines"},
    {"rotate-bytes", 0, SINK_ARG_SIZE, O_ROTATE_BYTES, "SIZE",
     "with --file: start FILE.1, FILE.2... past SIZE bytes"},
    {"table", 't', SINK_ARG_NONE, O_TABLE, NULL,
     "console: a table sized to the terminal"},
};

struct args {
  struct jsink *j;
  bool ndjson, table;
};

static int
on_opt(void *ud, const struct sink_opt *o, const char *val)
{
  struct args *a = ud;
  uint64_t v;
  switch (o->id) {
  case O_FILE:
    if (!*val) {
      log_err("--file: empty name");
      return -1;
    }
    a->j->path = val;
    break;
  case O_NDJSON:
    a->ndjson = true;
    break;
  case O_PRETTY:
    a->j->pretty = true;
    break;
  case O_ROTATE_BYTES:
    if (sink_parse_size(val, &v) != 0 || v < 1024) {
      log_err("--rotate-bytes: at least 1k");
      return -1;
    }
    a->j->rotate_bytes = v;
    break;
  case O_TABLE:
    a->table = true;
    break;
  default:
    return -1;
  }
  return 0;
}

static void
usage(FILE *f)
{
  fprintf(f, "usage: jsonsink [-htv] [--ndjson] [--pretty] [--file=FILE] "
             "[--rotate-bytes=SIZE] [options] < rows.ndjson\n"
             "Writes NDJSON rows from standard input to the console or a "
             "file.\n");
  sink_opts_help(f, opts, sizeof opts / sizeof opts[0], SINK_OPTS_BASIC);
  fprintf(f, "exit status: 0 all rows written, 1 rows lost, 2 usage error\n");
}

/* Settle the mode and refuse combinations that mean nothing. */
static int
check_args(struct args *a)
{
  struct jsink *j = a->j;
  bool to_file = j->path && strcmp(j->path, "-") != 0;
  if (a->ndjson && !j->path) {
    log_err("--ndjson needs --file");
    return -1;
  }
  if (a->table && (j->path || j->pretty)) {
    log_err("--table writes to the console only, without --pretty");
    return -1;
  }
  if (j->pretty && j->path) {
    log_err("--pretty is for the console; --file writes compact JSON");
    return -1;
  }
  if (j->rotate_bytes && !to_file) {
    log_err("--rotate-bytes needs --file=FILE");
    return -1;
  }
  j->mode = a->table    ? JSINK_TABLE
            : a->ndjson ? JSINK_NDJSON
            : j->path   ? JSINK_ARRAY
                        : JSINK_CONSOLE;
  return 0;
}

int
main(int argc, char **argv)
{
  plat_init(&argc, &argv);
  log_init("jsonsink");

  struct sink_opts so;
  sink_opts_init(&so);
  /* Files and consoles are cheap to write: large batches, flushed as
   * soon as the input pauses, and at most 0.2 s late. */
  so.cfg.batch_rows = 0;
  so.cfg.batch_bytes = 1u << 20;
  so.cfg.flush_ms = 200;
  so.cfg.flush_idle = true;
  so.cfg.inflight = 0;
  so.cfg.retries = 0;

  struct jsink j;
  memset(&j, 0, sizeof j);
  struct args a = {&j, false, false};
  if (sink_opts_parse(argc, argv, opts, sizeof opts / sizeof opts[0],
                      SINK_OPTS_BASIC, on_opt, &a, &so) != 0)
    return SINK_EXIT_USAGE;
  if (so.help) {
    usage(stdout);
    return SINK_EXIT_OK;
  }
  if (so.version) {
    printf("jsonsink %s\n", RTK_VERSION);
    return SINK_EXIT_OK;
  }
  log_set_verbosity(so.verbose);
  if (check_args(&a) != 0) return SINK_EXIT_USAGE;
  if (jsink_open(&j) != 0) return SINK_EXIT_LOST;
  plat_pipe_grow(0);

  struct sink_ops ops = {&j, jsink_deliver, jsink_finish};
  struct sink_stats st;
  return sink_run(&so.cfg, &ops, &st);
}
