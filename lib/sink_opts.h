/*
 * sink_opts.h - command-line options shared by every sink, and the
 * parser each sink's main() uses for its own options too.
 *
 * Options are data: a program passes a table sorted by long name (searched
 * with bsearch) and a callback for its own ids; the common options fill
 * struct sink_opts. Both "--opt=value" and "--opt value" work. A
 * SINK_ARG_SECRET value is handed to the callback and then blanked in
 * argv, so `ps` does not show it; better still, secrets come from the
 * environment or "@file". Help text is generated from the tables.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_SINK_OPTS_H
#define RTK_SINK_OPTS_H

#include "lib/platform.h"
#include "lib/sink.h"

#include <stdio.h>

enum sink_argkind {
  SINK_ARG_NONE,   /* a flag */
  SINK_ARG_STR,    /* a string */
  SINK_ARG_SECRET, /* a string blanked in argv after use */
  SINK_ARG_COUNT,  /* an unsigned number */
  SINK_ARG_SIZE,   /* bytes, with an optional k/M/G suffix (1024-based) */
  SINK_ARG_SECS    /* seconds, fractions allowed, or with ms/s/m/h */
};

struct sink_opt {
  const char *name; /* long name without "--" */
  char letter;      /* short alias, or 0 */
  enum sink_argkind kind;
  int id;          /* the program's own ids are >= 0 */
  const char *arg; /* value name in the help, e.g. "FILE" */
  const char *help;
};

/* Common option groups a sink can ask for. */
#define SINK_OPTS_BASIC 1u /* batching, reject file, shutdown, -v, -h */
#define SINK_OPTS_NET 2u   /* retries, spool, inflight, HTTP options */

struct sink_opts {
  struct sink_cfg cfg;
  const char *cacert;          /* --cacert FILE, or NULL */
  uint64_t connect_timeout_ms; /* --connect-timeout */
  uint64_t stall_timeout_ms;   /* --timeout: no progress for this long */
  int verbose;
  bool help, version;
  bool spool_dir_given, reject_given;
  char spool_buf[4096]; /* storage for a computed spool directory */
  char reject_buf[4096];
};

/* sink_opts_handler - called for each of the program's options with the
 * value (NULL for flags; number options are checked before the call and
 * passed as text). Return 0, or -1 after log_err() for a bad value. */
typedef int (*sink_opts_handler)(void *ud, const struct sink_opt *o,
                                 const char *val);

/* sink_opts_init - the defaults: sink_cfg_defaults plus HTTP timeouts. */
void sink_opts_init(struct sink_opts *so);

/*
 * sink_opts_parse - parse argv[1..]. Returns 0, or -1 after a message
 * (the caller exits with SINK_EXIT_USAGE). Operands are refused.
 */
int sink_opts_parse(int argc, char **argv, const struct sink_opt *prog,
                    size_t nprog, unsigned groups, sink_opts_handler fn,
                    void *ud, struct sink_opts *so);

/* sink_opts_help - the option list, program options first. */
void sink_opts_help(FILE *f, const struct sink_opt *prog, size_t nprog,
                    unsigned groups);

/*
 * sink_opts_spool - settle the spool directory and reject file: when
 * --spool-dir was not given, <default base>/<prog>/<key> (key names the
 * destination, e.g. account-container; unsafe characters become '_').
 * The reject file defaults to <spool dir>/rejected.ndjson. 0 or -1.
 */
int sink_opts_spool(struct sink_opts *so, const char *prog, const char *key);

/* Value parsers: 0, or -1 when s is not a valid value. */
int sink_parse_count(const char *s, uint64_t *v);
int sink_parse_size(const char *s, uint64_t *v);
int sink_parse_secs(const char *s, uint64_t *ms);

/*
 * sink_secret - resolve a secret option value: "@FILE" reads the file
 * (first line, at most 64 KiB), anything else is the value itself. A
 * malloc'd copy, or NULL after log_err (the message names the file, never
 * the secret).
 */
char *sink_secret(const char *val);

/* sink_secret_free - wipe and free a secret. */
void sink_secret_free(char *s);

#endif
