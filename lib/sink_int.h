/*
 * sink_int.h - state shared by the engine's reader (lib/sink_engine.c) and
 * its delivery side (lib/sink_deliver.c). Not for sink programs.
 *
 * The reader thread fills batches and hands them to sink_dispatch(); with
 * a worker, batches wait in a bounded FIFO queue guarded by mu. Stats the
 * delivery side changes are updated under mu; the reader's own counters
 * (lines, rows, rejected) are touched by the reader only.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_SINK_INT_H
#define RTK_SINK_INT_H

#include "lib/platform.h"
#include "lib/sink.h"
#include "lib/sink_retry.h"

#include <pthread.h>
#include <stdatomic.h>

struct sink_eng {
  const struct sink_cfg *cfg;
  const struct sink_ops *ops;
  struct sink_stats *st;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct sink_batch *qhead, *qtail; /* waiting for the worker */
  unsigned qlen;
  struct sink_batch *pool; /* empty batches to reuse */
  bool worker_on;
  bool closing; /* no more batches will come */
  bool busy;    /* the worker is delivering one */
  size_t busy_rows;
  pthread_t worker;
  atomic_bool fatal;         /* destination refused us for good */
  atomic_bool down;          /* last batch failed after all retries */
  atomic_bool closed;        /* consumer went away */
  atomic_ullong deadline_ms; /* shutdown deadline; 0: not shutting down */
  struct sink_backoff backoff;
};

extern struct sink_eng sink_eng;

/* sink_shutdown_begin - start the shutdown clock (once). */
void sink_shutdown_begin(void);

/* sink_deliver_batch - deliver with retries; spool or count as lost what
 * cannot be delivered. Called on the delivering thread. */
void sink_deliver_batch(struct sink_batch *b);

/* sink_worker_start - start the delivery thread; 0 or -1. */
int sink_worker_start(void);

/* sink_dispatch - hand over a full batch; returns an empty one to fill
 * (b itself without a worker), or NULL when out of memory. Blocks while
 * the queue is full. */
struct sink_batch *sink_dispatch(struct sink_batch *b);

/* sink_worker_stop - no more batches: wait for the queue to empty (the
 * deadline bounds it), stop the worker, free the pool. */
void sink_worker_stop(void);

/* sink_stat_add - add n to a delivery counter under the lock. */
void sink_stat_add(uint64_t *field, uint64_t n);

#endif
