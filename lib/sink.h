/*
 * sink.h - the engine every sink runs: NDJSON rows in, batches delivered.
 *
 * A sink program fills a struct sink_cfg (usually with sink_opts_parse),
 * provides a deliver callback, and calls sink_run(). The engine reads the
 * input with lib/lineread, checks each line is one JSON object (bad lines
 * are reported with their line number, written to the reject file and
 * counted), groups rows into batches by rows, bytes and age, and hands
 * each batch to deliver(). Transient failures are retried with capped
 * exponential backoff and jitter (lib/sink_retry.c); a batch that still
 * cannot be delivered is written to the spool directory
 * (lib/sink_spool.c) and delivered first on the next start. EOF, SIGINT
 * and SIGTERM flush the open batch and wait for deliveries in flight, at
 * most cfg.shutdown_ms. With cfg.inflight > 0, delivery runs on one worker
 * thread with at most that many batches queued; the reader then blocks,
 * so a slow destination slows the input down instead of growing memory.
 *
 * Ownership: the engine owns every batch; deliver() may read b->buf and
 * must not keep pointers into it after returning. Design: ARCHITECTURE.md
 * (Sinks), issue 5.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_SINK_H
#define RTK_SINK_H

#include "lib/platform.h"

/* A batch id is 64 lowercase hex digits: two random version-4 UUIDs, so
 * a sink can name what it uploads after it (blobsink: two GUIDs). It stays
 * the same across retries and spool replay, so a re-sent batch replaces
 * its first copy instead of duplicating it. */
#define SINK_ID_LEN 64

/* Exit codes (issue 5; STYLE.md B6). */
#define SINK_EXIT_OK 0      /* every row delivered */
#define SINK_EXIT_LOST 1    /* rows lost: even spooling failed */
#define SINK_EXIT_USAGE 2   /* bad option */
#define SINK_EXIT_SPOOLED 3 /* some rows spooled rather than delivered */

enum sink_status {
  SINK_OK = 0, /* delivered */
  SINK_RETRY,  /* transient failure: try the same batch again later */
  SINK_FAIL,   /* permanent for this batch: spool it, go on */
  SINK_FATAL,  /* permanent for the destination (bad key): spool this and
                  every later batch without trying */
  SINK_CLOSED  /* the consumer went away (EPIPE): stop reading quietly */
};

struct sink_batch {
  char *buf; /* rows, each one JSON object followed by '\n' */
  size_t len, cap;
  size_t rows;
  uint64_t born_ms;    /* monotonic ms when the first row went in */
  uint64_t first_line; /* input line of the first row; 0 when replayed */
  char id[SINK_ID_LEN + 1];
  char *spool_path; /* the spool file this batch was replayed from */
  struct sink_batch *next;
};

/* What deliver() tells the engine beyond its status. */
struct sink_result {
  int64_t retry_after_ms; /* the peer's Retry-After, or -1 */
  char msg[768];          /* why it failed; never a secret */
};

struct sink_ops {
  void *ctx;
  /* deliver - send one batch. Runs on the worker thread when
   * cfg.inflight > 0, else on the reading thread. */
  enum sink_status (*deliver)(void *ctx, struct sink_batch *b,
                              struct sink_result *r);
  /* finish - optional; called once after the last delivery, on the
   * reading thread (close files). -1 means its rows were lost. */
  int (*finish)(void *ctx);
};

struct sink_cfg {
  size_t batch_rows;       /* flush at this many rows (0: no limit) */
  size_t batch_bytes;      /* flush before a batch would exceed this */
  uint64_t flush_ms;       /* flush a batch this old (0: no limit) */
  bool flush_idle;         /* also flush when the input goes idle */
  unsigned inflight;       /* batches queued for the worker; 0: no worker */
  const char *spool_dir;   /* NULL: undeliverable batches are lost */
  const char *reject_path; /* NULL: bad lines are reported and counted */
  unsigned retries;        /* retries after the first attempt */
  uint64_t retry_delay_ms; /* first backoff delay */
  uint64_t retry_max_ms;   /* backoff cap */
  uint64_t shutdown_ms;    /* how long EOF/signal waits for deliveries */
  int input_fd;            /* usually 0 */
  const char *input_name;  /* for messages: "<stdin>" */
};

struct sink_stats {
  uint64_t lines;      /* input lines read */
  uint64_t rows;       /* good rows read */
  uint64_t rejected;   /* bad lines */
  uint64_t delivered;  /* rows delivered, replayed ones included */
  uint64_t batches;    /* batches delivered */
  uint64_t replayed;   /* rows delivered from the spool */
  uint64_t spooled;    /* rows written to the spool this run */
  uint64_t spool_left; /* rows of spool files still undelivered */
  uint64_t lost;       /* rows neither delivered nor spooled */
  bool io_error;       /* reading input or finishing output failed */
  bool closed;         /* the consumer went away */
};

/* Batches (lib/sink_batch.c). Allocation failures return NULL or -1. */
struct sink_batch *sink_batch_new(void);
void sink_batch_free(struct sink_batch *b);
/* sink_batch_clear - empty b, forget its spool file, give it a new id. */
void sink_batch_clear(struct sink_batch *b);
/* sink_batch_reserve - make room for n more bytes. */
int sink_batch_reserve(struct sink_batch *b, size_t n);
/* sink_batch_add - append one row (n bytes, no '\n') and a '\n'. */
int sink_batch_add(struct sink_batch *b, const char *row, size_t n);

/* sink_cfg_defaults - the engine's defaults (latency under a second). */
void sink_cfg_defaults(struct sink_cfg *cfg);

/*
 * sink_run - read cfg->input_fd to the end (or a shutdown signal), deliver
 * everything, fill *st and return the exit code: SINK_EXIT_OK,
 * SINK_EXIT_SPOOLED or SINK_EXIT_LOST. Installs the signal handlers.
 */
int sink_run(const struct sink_cfg *cfg, const struct sink_ops *ops,
             struct sink_stats *st);

/* sink_exit_code - the exit code the stats call for. */
int sink_exit_code(const struct sink_stats *st);

/*
 * sink_cancelled - true once in-flight work must stop: a second signal,
 * or the shutdown deadline has passed. Long operations inside deliver()
 * (an HTTP transfer) poll it and give up, returning SINK_RETRY.
 */
bool sink_cancelled(void);

/* sink_now_ms - monotonic milliseconds. */
uint64_t sink_now_ms(void);

#endif
