/*
 * sink_deliver.c - delivery with retries, spooling, and the worker thread.
 *
 * One batch's life: deliver(); on SINK_RETRY wait (Retry-After, or the
 * backoff) and try again, at most cfg.retries times; whatever cannot be
 * delivered goes to the spool, or counts as lost when there is no spool or
 * it cannot be written. After a batch has used up its retries the
 * destination counts as down: later batches get one attempt each until one
 * succeeds, so an outage does not stall the input for the whole backoff on
 * every batch. A fatal answer (bad key) spools everything after it. The
 * shutdown deadline cuts waits short. See sink.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/sink_int.h"

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/signals.h"
#include "lib/sink_spool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sink_eng sink_eng;

static _Thread_local bool on_worker;

uint64_t
sink_now_ms(void)
{
  return clock_mono_ms();
}

void
sink_shutdown_begin(void)
{
  unsigned long long zero = 0;
  uint64_t ms = sink_eng.cfg ? sink_eng.cfg->shutdown_ms : 0;
  unsigned long long dl = sink_now_ms() + (ms ? ms : 1);
  atomic_compare_exchange_strong(&sink_eng.deadline_ms, &zero, dl);
}

bool
sink_cancelled(void)
{
  if (sig_repeated()) return true;
  uint64_t dl = atomic_load(&sink_eng.deadline_ms);
  return dl && sink_now_ms() >= dl;
}

void
sink_stat_add(uint64_t *field, uint64_t n)
{
  pthread_mutex_lock(&sink_eng.mu);
  *field += n;
  pthread_mutex_unlock(&sink_eng.mu);
}

/* Sleep a slice without stealing the reader's signal wake-up. */
static void
sleep_slice(uint64_t ms)
{
  if (!on_worker) {
    (void)sig_sleep_ms((int)ms);
    return;
  }
  clock_sleep_ms(ms);
}

/* Wait ms before a retry; false when the wait was cut short (cancelled,
 * or it would end after the shutdown deadline). */
static bool
backoff_wait(uint64_t ms)
{
  uint64_t end = sink_now_ms() + ms;
  for (;;) {
    if (sig_count() > 0) sink_shutdown_begin();
    uint64_t dl = atomic_load(&sink_eng.deadline_ms);
    if (sink_cancelled() || (dl && end > dl)) return false;
    uint64_t now = sink_now_ms();
    if (now >= end) return true;
    sleep_slice(end - now < 100 ? end - now : 100);
  }
}

static void
describe_rows(const struct sink_batch *b, char *out, size_t n)
{
  if (b->spool_path)
    snprintf(out, n, "%zu rows from %s", b->rows, b->spool_path);
  else if (b->first_line)
    snprintf(out, n, "%zu rows (input lines %" PRIu64 "...)", b->rows,
             b->first_line);
  else
    snprintf(out, n, "%zu rows", b->rows);
}

static void
spool_or_lose(struct sink_batch *b)
{
  struct sink_stats *st = sink_eng.st;
  char what[512];
  describe_rows(b, what, sizeof what);
  if (b->spool_path) {
    log_warn("batch left in the spool: %s", b->spool_path);
    sink_stat_add(&st->spool_left, b->rows);
    return;
  }
  const char *dir = sink_eng.cfg->spool_dir;
  if (!dir) {
    log_err("%s lost", what);
    sink_stat_add(&st->lost, b->rows);
    return;
  }
  char path[4096], err[512];
  if (sink_spool_write(dir, b, path, sizeof path, err, sizeof err) != 0) {
    log_err("%s; %s lost", err, what);
    sink_stat_add(&st->lost, b->rows);
    return;
  }
  log_warn("%s spooled to %s", what, path);
  sink_stat_add(&st->spooled, b->rows);
}

static void
delivered(struct sink_batch *b)
{
  struct sink_stats *st = sink_eng.st;
  pthread_mutex_lock(&sink_eng.mu);
  st->delivered += b->rows;
  st->batches++;
  if (b->spool_path) st->replayed += b->rows;
  pthread_mutex_unlock(&sink_eng.mu);
  if (b->spool_path) {
    if (sink_spool_remove(b->spool_path) != 0)
      log_warn("cannot remove delivered spool file %s: %s", b->spool_path,
               strerror(errno));
    else
      log_note("delivered %zu spooled rows from %s", b->rows, b->spool_path);
  }
  if (atomic_exchange(&sink_eng.down, false)) log_warn("delivering again");
}

void
sink_deliver_batch(struct sink_batch *b)
{
  const struct sink_cfg *cfg = sink_eng.cfg;
  if (b->rows == 0) return;
  if (atomic_load(&sink_eng.closed))
    return; /* the consumer left: like `head`, nobody wants the rest */
  if (atomic_load(&sink_eng.fatal)) {
    spool_or_lose(b);
    return;
  }
  for (unsigned attempt = 0;; attempt++) {
    if (sink_cancelled()) {
      log_warn("shutdown: delivery cut short");
      spool_or_lose(b);
      return;
    }
    struct sink_result r;
    r.retry_after_ms = -1;
    r.msg[0] = '\0';
    enum sink_status s = sink_eng.ops->deliver(sink_eng.ops->ctx, b, &r);
    switch (s) {
    case SINK_OK:
      delivered(b);
      return;
    case SINK_CLOSED:
      atomic_store(&sink_eng.closed, true);
      return;
    case SINK_FATAL:
      log_err("%s", r.msg);
      if (!atomic_exchange(&sink_eng.fatal, true))
        log_err("not trying again: this and later batches are %s",
                cfg->spool_dir ? "spooled" : "lost");
      spool_or_lose(b);
      return;
    case SINK_FAIL:
      log_err("%s", r.msg);
      spool_or_lose(b);
      return;
    case SINK_RETRY:
      break;
    }
    bool down = atomic_load(&sink_eng.down);
    if (down || attempt >= cfg->retries) {
      if (down)
        log_err("%s; destination still down", r.msg);
      else
        log_err("%s; giving up after %u %s", r.msg, cfg->retries,
                cfg->retries == 1 ? "retry" : "retries");
      atomic_store(&sink_eng.down, true);
      spool_or_lose(b);
      return;
    }
    uint64_t d =
        sink_retry_delay_ms(&sink_eng.backoff, attempt, r.retry_after_ms);
    unsigned left = cfg->retries - attempt;
    if (d < 1000)
      log_warn("%s; retrying in %" PRIu64 " ms (%u %s left)", r.msg, d, left,
               left == 1 ? "retry" : "retries");
    else
      log_warn("%s; retrying in %" PRIu64 ".%01" PRIu64 " s (%u %s left)",
               r.msg, d / 1000, d % 1000 / 100, left,
               left == 1 ? "retry" : "retries");
    if (!backoff_wait(d)) {
      log_warn("shutdown: not waiting to retry");
      spool_or_lose(b);
      return;
    }
  }
}

static void *
worker_main(void *arg)
{
  (void)arg;
  on_worker = true;
  sig_block_thread();
  pthread_mutex_lock(&sink_eng.mu);
  for (;;) {
    while (!sink_eng.qhead && !sink_eng.closing)
      pthread_cond_wait(&sink_eng.cv, &sink_eng.mu);
    struct sink_batch *b = sink_eng.qhead;
    if (!b) break;
    sink_eng.qhead = b->next;
    if (!sink_eng.qhead) sink_eng.qtail = NULL;
    sink_eng.qlen--;
    sink_eng.busy = true;
    sink_eng.busy_rows = b->rows;
    pthread_mutex_unlock(&sink_eng.mu);
    sink_deliver_batch(b);
    sink_batch_clear(b);
    pthread_mutex_lock(&sink_eng.mu);
    /* Do not hoard the memory of one huge replayed batch. */
    if (b->cap > 2 * sink_eng.cfg->batch_bytes + (1u << 20)) {
      free(b->buf);
      b->buf = NULL;
      b->cap = 0;
    }
    b->next = sink_eng.pool;
    sink_eng.pool = b;
    sink_eng.busy = false;
    pthread_cond_broadcast(&sink_eng.cv);
  }
  pthread_mutex_unlock(&sink_eng.mu);
  return NULL;
}

int
sink_worker_start(void)
{
  if (pthread_create(&sink_eng.worker, NULL, worker_main, NULL) != 0) return -1;
  sink_eng.worker_on = true;
  return 0;
}

/* Wait on the condition for at most ms. */
static void
timed_wait(uint64_t ms)
{
  struct timespec ts = clock_wall_after(ms);
  pthread_cond_timedwait(&sink_eng.cv, &sink_eng.mu, &ts);
}

struct sink_batch *
sink_dispatch(struct sink_batch *b)
{
  if (!sink_eng.worker_on) {
    sink_deliver_batch(b);
    sink_batch_clear(b);
    return b;
  }
  pthread_mutex_lock(&sink_eng.mu);
  while (sink_eng.qlen >= sink_eng.cfg->inflight) {
    timed_wait(100);
    if (sig_count() > 0) sink_shutdown_begin();
  }
  b->next = NULL;
  if (sink_eng.qtail)
    sink_eng.qtail->next = b;
  else
    sink_eng.qhead = b;
  sink_eng.qtail = b;
  sink_eng.qlen++;
  pthread_cond_broadcast(&sink_eng.cv);
  struct sink_batch *nb = sink_eng.pool;
  if (nb) sink_eng.pool = nb->next;
  pthread_mutex_unlock(&sink_eng.mu);
  if (!nb) nb = sink_batch_new();
  if (nb) nb->next = NULL;
  return nb;
}

/* A deliver() that ignores sink_cancelled() could hang the exit: this
 * long after the deadline, spool what still waits in the queue, count the
 * batch in the worker's hands as lost, and leave the worker behind. Called
 * with the lock held; returns with it released. */
#define STUCK_MS 10000

static void
abandon_worker(void)
{
  struct sink_batch *q = sink_eng.qhead;
  size_t in_hand = sink_eng.busy_rows;
  sink_eng.qhead = sink_eng.qtail = NULL;
  sink_eng.qlen = 0;
  pthread_mutex_unlock(&sink_eng.mu);
  log_err("delivery did not stop after the shutdown deadline");
  while (q) {
    struct sink_batch *next = q->next;
    spool_or_lose(q);
    q = next; /* the worker may still touch the pool: free nothing */
  }
  if (in_hand) log_err("%zu rows in flight lost", in_hand);
  sink_stat_add(&sink_eng.st->lost, in_hand);
  sink_eng.worker_on = false;
}

void
sink_worker_stop(void)
{
  if (sink_eng.worker_on) {
    pthread_mutex_lock(&sink_eng.mu);
    sink_eng.closing = true;
    pthread_cond_broadcast(&sink_eng.cv);
    while (sink_eng.qhead || sink_eng.busy) {
      timed_wait(100);
      if (sig_count() > 0) sink_shutdown_begin();
      uint64_t dl = atomic_load(&sink_eng.deadline_ms);
      if (dl && sink_now_ms() > dl + STUCK_MS) {
        abandon_worker();
        return;
      }
    }
    pthread_mutex_unlock(&sink_eng.mu);
    pthread_join(sink_eng.worker, NULL);
    sink_eng.worker_on = false;
  }
  while (sink_eng.pool) {
    struct sink_batch *b = sink_eng.pool;
    sink_eng.pool = b->next;
    sink_batch_free(b);
  }
}
