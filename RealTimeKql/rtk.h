/*
 * rtk.h - the RealTimeKql launcher's modules and what they share.
 *
 * rtk_args.c parses the documented command line (the seed's option
 * table, ../shared/design/cli.md) into struct rtk_args; rtk_stages.c
 * turns those into one command line per stage (the only place that
 * knows each program's options); rtk_pipeline.c starts the stages, wires
 * them with pipes, forwards Ctrl-C, waits and works out the exit status;
 * rtk_fanout.c copies the last stage's rows to every sink when there is
 * more than one. main.c is the checklist that calls them.
 *
 * Ownership: struct rtk_args borrows the strings of argv, except the
 * secrets, which it copies (argv's copies are blanked) and
 * rtk_args_free() wipes. struct rtk_pipeline owns the argument strings
 * it formats; rtk_pipeline_free() releases them.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_RTK_H
#define RTK_RTK_H

#include "lib/platform.h"

#include "lib/spawn.h"

#include <stdio.h>

/* Exit statuses of the launcher itself (a stage's status is passed on). */
enum {
  RTK_EXIT_OK = 0,
  RTK_EXIT_FAIL = 1,  /* a stage could not be started, or I/O failed */
  RTK_EXIT_USAGE = 2, /* bad command line */
};

#define RTK_MAX_FILES 64
#define RTK_MAX_PROVIDERS 16
#define RTK_MAX_SINKS 4 /* console, JSON file, Blob, ADX */

/* What the command line asked for. */
struct rtk_args {
  bool help, version;
  bool top; /* --help/--version came before any command */
  int verbose;
  /* input */
  const char *session;
  const char *files[RTK_MAX_FILES];
  size_t nfiles;
  const char *providers[RTK_MAX_PROVIDERS];
  size_t nproviders;
  /* query */
  const char *query;
  /* outputs */
  bool console, table;
  const char *json;
  char *blob_cs; /* secret: a copy, wiped by rtk_args_free */
  const char *blob_container;
  const char *adx_authority, *adx_client_id, *adx_cluster, *adx_database,
      *adx_table;
  char *adx_key; /* secret: a copy, wiped by rtk_args_free */
  bool adx_reset, adx_direct;
  bool adx_any; /* some --adx* option was given */
};

/* Command-line errors; rtk_arg_text() holds their text. */
enum rtk_argerr {
  RTK_ARG_OK = 0,
  RTK_ARG_NO_COMMAND,     /* nothing, or an option before the command */
  RTK_ARG_BAD_COMMAND,    /* not "etw" */
  RTK_ARG_UNKNOWN,        /* no such option */
  RTK_ARG_NO_VALUE,       /* the option needs a value */
  RTK_ARG_EMPTY_VALUE,    /* --opt= with nothing after it */
  RTK_ARG_FLAG_VALUE,     /* a value given to an option that takes none */
  RTK_ARG_TWICE,          /* given twice */
  RTK_ARG_STRAY,          /* an argument that is no option */
  RTK_ARG_TOO_MANY,       /* more --file/--provider than we hold */
  RTK_ARG_NO_INPUT,       /* no --session, --file or --provider */
  RTK_ARG_TWO_INPUTS,     /* --file together with --session/--provider */
  RTK_ARG_BLOB_NO_CS,     /* a container but no connection string */
  RTK_ARG_BLOB_NO_CNT,    /* a connection string but no container */
  RTK_ARG_ADX_INCOMPLETE, /* an --adx* option without cluster/db/table */
  RTK_ARG_ADX_KEY_ALONE,  /* --adxkey without --adxclientid */
  RTK_ARG_NO_MEMORY
};

/* A parse result: the error and the argument it is about. */
struct rtk_argres {
  enum rtk_argerr err;
  char what[80]; /* the argument it is about, up to any '=', or "" */
};

/* rtk_args_parse - parse argv (argv[0] is the program) into *a, which is
 * cleared first. Secret values are copied and blanked in argv. The
 * environment is consulted only for RTK_BLOB_CONNECTION_STRING. */
struct rtk_argres rtk_args_parse(int argc, char **argv, struct rtk_args *a);

/* rtk_args_free - wipe and free the secrets. */
void rtk_args_free(struct rtk_args *a);

/* rtk_args_tables_sorted - the option tables are in bsearch order
 * (tests). */
bool rtk_args_tables_sorted(void);

/* rtk_arg_text - the message for an error (one line, no newline). */
const char *rtk_arg_text(enum rtk_argerr e);

/* rtk_args_usage - the short usage lines; rtk_args_help - the option
 * overview for `RealTimeKql etw --help` (generated from the table);
 * rtk_args_help_top - the overview for `RealTimeKql --help`. */
void rtk_args_usage(FILE *f);
void rtk_args_help(FILE *f);
void rtk_args_help_top(FILE *f);

/* One stage of the pipeline. */
enum rtk_kind {
  RTK_ETWCAT,
  RTK_KQLFILTER,
  RTK_CONSOLE,
  RTK_JSONFILE,
  RTK_BLOB,
  RTK_ADX
};

#define RTK_STAGE_ARGS 24
#define RTK_STAGE_ENV 6

struct rtk_stage {
  enum rtk_kind kind;
  const char *prog; /* program name: "etwcat" */
  char label[160];  /* for messages: "jsonsink (--outputjson=x.json)" */
  char *path;       /* full path next to the launcher (owned) */
  const char *argv[RTK_STAGE_ARGS + 1];
  char *own[RTK_STAGE_ARGS]; /* formatted arguments (owned) */
  size_t nargs, nown;
  char *env[RTK_STAGE_ENV + 1]; /* "NAME=value" / "NAME" (owned) */
  size_t nenv;
  bool sink;
  struct spawn_child child;
  bool started;
  bool ended;        /* its end has been seen and acted on */
  bool stop_sent;    /* we asked it to stop (SIGINT/SIGTERM) */
  bool kill_sent;    /* we killed it */
  int reap_seq;      /* order in which it ended, from 1 */
  int fd_in, fd_out; /* the ends it gets; -1: inherit */
};

/* rtk_stages_build - fill stages[] from the arguments: etwcat, kqlfilter
 * (with a query), one sink per output. dir is where the programs are.
 * Returns the number of stages, or -1 (out of memory). */
int rtk_stages_build(const struct rtk_args *a, const char *dir,
                     struct rtk_stage *stages, size_t max);

/* rtk_stages_free - free what rtk_stages_build allocated. */
void rtk_stages_free(struct rtk_stage *stages, size_t n);

/* rtk_stage_meaning - a few words on what exit status code means for
 * this kind of stage ("query error"), or NULL. */
const char *rtk_stage_meaning(const struct rtk_stage *s, int code);

/* The fan-out: rows from one descriptor to several. */
struct rtk_fanout_out {
  int fd;  /* write end of the sink's input pipe; -1 once closed */
  int err; /* errno of the failed write that closed it, else 0 */
  const char *label;
};

struct rtk_fanout {
  int in; /* read end; -1 once at end of input */
  struct rtk_fanout_out out[RTK_MAX_SINKS];
  size_t n;
  char *buf;
  size_t cap;
  uint64_t bytes_in;
  /* Called when a wait for input ends by a signal or a timeout, or a
   * write was interrupted: non-zero means "stop copying now". */
  int (*tick)(void *ud);
  void *ud;
  int tick_ms; /* longest wait for input between ticks */
};

/* rtk_fanout_run - copy until end of input, until every output has gone
 * or until tick says stop. Output descriptors that fail (EPIPE: the sink
 * has gone) are closed and skipped; the others keep receiving every
 * byte. Returns 0, or -1 when reading failed (errno set). Closes nothing
 * that is still open at the end: rtk_fanout_close does. */
int rtk_fanout_run(struct rtk_fanout *f);

/* rtk_fanout_live - outputs still open. */
size_t rtk_fanout_live(const struct rtk_fanout *f);

/* rtk_fanout_close - close the input and every output still open. */
void rtk_fanout_close(struct rtk_fanout *f);

/* rtk_pipeline_run - start the stages, copy, forward signals, wait for
 * every stage; returns the launcher's exit status (0, or the first
 * failing stage's status) after a one-line summary naming that stage. */
int rtk_pipeline_run(struct rtk_stage *stages, size_t n, int verbose);

#endif
