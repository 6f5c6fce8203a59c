/*
 * sink_engine.c - the sink's reading side: input, bad lines, batching,
 * spool replay at start, shutdown and the exit code (see sink.h).
 *
 * The reader waits for input with sig_wait_fd(), so it notices a signal,
 * a batch growing old or the input going idle without blocking in read().
 * After the first SIGINT/SIGTERM it keeps reading for a moment while
 * input still arrives: in a pipeline the upstream stages got the same
 * Ctrl-C and are flushing their last rows to us. Then the open batch is
 * flushed and deliveries get until the shutdown deadline to finish.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/sink_int.h"

#include "lib/lineread.h"
#include "lib/log.h"
#include "lib/signals.h"
#include "lib/sink_fs.h"
#include "lib/sink_json.h"
#include "lib/sink_spool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bad lines reported one by one before the rest are only counted. */
#define MAX_REPORTS 20
/* After a signal: stop reading once input has been idle this long, or
 * this long after the signal at the latest. */
#define DRAIN_IDLE_MS 200
#define DRAIN_MAX_MS 2000

struct reader {
  const struct sink_cfg *cfg;
  struct sink_stats *st;
  struct sink_batch *cur;
  struct sink_reject rej;
  uint64_t reports;
  bool oom;
};

void
sink_cfg_defaults(struct sink_cfg *cfg)
{
  memset(cfg, 0, sizeof *cfg);
  cfg->batch_rows = 10000;
  cfg->batch_bytes = 4u << 20;
  cfg->flush_ms = 500;
  cfg->flush_idle = false;
  cfg->inflight = 2;
  cfg->retries = 5;
  cfg->retry_delay_ms = 1000;
  cfg->retry_max_ms = 30000;
  cfg->shutdown_ms = 30000;
  cfg->input_fd = 0;
  cfg->input_name = "<stdin>";
}

int
sink_exit_code(const struct sink_stats *st)
{
  if (st->lost || st->io_error) return SINK_EXIT_LOST;
  if (st->spooled || st->spool_left) return SINK_EXIT_SPOOLED;
  return SINK_EXIT_OK;
}

static void
dispatch(struct reader *r)
{
  if (!r->cur->rows) return;
  struct sink_batch *nb = sink_dispatch(r->cur);
  if (!nb) {
    log_err("out of memory");
    r->oom = true;
    nb = NULL;
  }
  r->cur = nb;
}

static void
reject(struct reader *r, const char *line, size_t n, uint64_t lineno,
       size_t off, const char *why)
{
  r->st->rejected++;
  bool saved = sink_reject_write(&r->rej, line, n) == 0;
  if (++r->reports <= MAX_REPORTS)
    log_err("%s:%" PRIu64 ": %s at byte %zu; line %s", r->cfg->input_name,
            lineno, why, off + 1,
            saved ? "written to the reject file" : "skipped");
  if (r->reports == MAX_REPORTS)
    log_err("further bad lines are counted, not shown");
}

static void
take_line(struct reader *r, const char *line, size_t n, uint64_t lineno)
{
  r->st->lines++;
  if (lineno == 1 && n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
    line += 3; /* a byte-order mark some Windows tools write */
    n -= 3;
  }
  size_t s, e;
  const char *why;
  if (sink_json_object(line, n, &s, &e, &why) != 0) {
    if (s >= n && strcmp(why, "empty line") == 0)
      return; /* blank line: not a row */
    reject(r, line, n, lineno, s, why);
    return;
  }
  const struct sink_cfg *cfg = r->cfg;
  size_t len = e - s;
  if (r->cur->rows && r->cur->len + len + 1 > cfg->batch_bytes) dispatch(r);
  if (!r->cur) return;
  if (!r->cur->rows) {
    r->cur->born_ms = sink_now_ms();
    r->cur->first_line = lineno;
  }
  if (sink_batch_add(r->cur, line + s, len) != 0) {
    log_err("out of memory");
    r->oom = true;
    return;
  }
  r->st->rows++;
  if ((cfg->batch_rows && r->cur->rows >= cfg->batch_rows) ||
      r->cur->len >= cfg->batch_bytes)
    dispatch(r);
  else if ((r->cur->rows & 255) == 0 && cfg->flush_ms &&
           sink_now_ms() - r->cur->born_ms >= cfg->flush_ms)
    dispatch(r);
}

/* Deliver what earlier runs spooled, oldest first. Holds the directory
 * lock (returned) so two sinks never replay the same files. */
static int
replay(struct reader *r)
{
  const char *dir = r->cfg->spool_dir;
  char **names;
  size_t count;
  if (!dir) return -1;
  if (sink_spool_list(dir, &names, &count) != 0) {
    log_warn("cannot read spool directory %s: %s", dir, strerror(errno));
    return -1;
  }
  if (!count) return -1;
  int lock = sink_fs_lock(dir);
  if (lock < 0) {
    log_warn("%s is in use by another process; its %zu spooled batches "
             "stay there",
             dir, count);
    sink_spool_names_free(names, count);
    return -1;
  }
  log_note("delivering %zu spooled batches from %s first", count, dir);
  size_t i = 0;
  for (; i < count && r->cur; i++) {
    if (atomic_load(&sink_eng.fatal) || atomic_load(&sink_eng.down) ||
        sig_count() > 0)
      break;
    char path[4096], err[512];
    if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= (int)sizeof path)
      continue;
    if (sink_spool_load(path, r->cur, err, sizeof err) != 0) {
      char bad[4096];
      snprintf(bad, sizeof bad, "%s/damaged-%s", dir, names[i]);
      log_err("%s; renamed to %s", err, bad);
      (void)sink_fs_rename(path, bad);
      r->st->spool_left++; /* undelivered rows stay on disk: exit 3 */
      sink_batch_clear(r->cur);
      continue;
    }
    dispatch(r);
  }
  if (i < count) {
    log_warn("%zu spooled batches left in %s for the next run", count - i, dir);
    r->st->spool_left += count - i; /* rows unknown: count the files */
  }
  sink_spool_names_free(names, count);
  return lock;
}

static void
summary(const struct sink_cfg *cfg, const struct sink_stats *st)
{
  log_note("%" PRIu64 " rows delivered in %" PRIu64 " batches", st->delivered,
           st->batches);
  if (st->replayed)
    log_note("%" PRIu64 " of them from the spool", st->replayed);
  if (st->spooled)
    log_warn("%" PRIu64 " rows spooled to %s; they are delivered first on "
             "the next start",
             st->spooled, cfg->spool_dir);
  if (st->spool_left)
    log_warn("spooled rows still waiting in %s", cfg->spool_dir);
  if (st->lost) log_err("%" PRIu64 " rows lost", st->lost);
  if (st->rejected)
    log_warn("%" PRIu64 " bad input lines rejected%s%s", st->rejected,
             cfg->reject_path ? "; see " : "",
             cfg->reject_path ? cfg->reject_path : "");
}

/* The reading loop; returns when input ends, a signal has been handled,
 * the consumer went away or memory ran out. */
static void
read_input(struct reader *r, struct lineread *lr)
{
  const struct sink_cfg *cfg = r->cfg;
  uint64_t drain_start = 0;
  for (;;) {
    if (r->oom || atomic_load(&sink_eng.closed)) return;
    if (sig_count() > 0 && !drain_start) {
      drain_start = sink_now_ms();
      log_note("%s: finishing", sig_last());
    }
    if (drain_start &&
        (sig_repeated() || sink_now_ms() - drain_start >= DRAIN_MAX_MS))
      break;
    if (!lr_ready(lr) && !lr->eof) {
      int timeout = -1;
      uint64_t now = sink_now_ms();
      if (r->cur->rows) {
        uint64_t due = r->cur->born_ms + cfg->flush_ms;
        if (cfg->flush_ms && now >= due) {
          dispatch(r);
          continue;
        }
        if (cfg->flush_idle)
          timeout = 0;
        else if (cfg->flush_ms)
          timeout = due - now > 86400000 ? 86400000 : (int)(due - now);
      }
      if (drain_start && (timeout < 0 || timeout > DRAIN_IDLE_MS))
        timeout = DRAIN_IDLE_MS;
      enum sig_wait w = sig_wait_fd(cfg->input_fd, timeout);
      if (w == SIG_WAIT_TIMEOUT) {
        if (drain_start && (!r->cur->rows || timeout == DRAIN_IDLE_MS))
          break; /* idle after a signal: stop reading */
        dispatch(r);
        continue;
      }
      if (w == SIG_WAIT_SIGNAL) continue;
      if (w == SIG_WAIT_ERROR) {
        log_err("%s: %s", cfg->input_name, strerror(errno));
        r->st->io_error = true;
        return;
      }
    }
    const char *line;
    size_t n;
    int rc = lr_next(lr, &line, &n);
    if (rc < 0) {
      if (lr->err == EAGAIN || lr->err == EWOULDBLOCK || lr->err == EINTR) {
        lr->err = 0;
        continue;
      }
      log_err("%s: %s", cfg->input_name, strerror(lr->err));
      r->st->io_error = true;
      return;
    }
    if (rc == 0) return;
    take_line(r, line, n, lr->lineno);
  }
  /* Stopped by a signal: rows already read into memory still count. */
  const char *line;
  size_t n;
  while (!r->oom && r->cur && lr_ready(lr) && lr_next(lr, &line, &n) == 1)
    take_line(r, line, n, lr->lineno);
}

int
sink_run(const struct sink_cfg *cfg, const struct sink_ops *ops,
         struct sink_stats *st)
{
  memset(st, 0, sizeof *st);
  memset(&sink_eng, 0, sizeof sink_eng);
  sink_eng.cfg = cfg;
  sink_eng.ops = ops;
  sink_eng.st = st;
  pthread_mutex_init(&sink_eng.mu, NULL);
  pthread_cond_init(&sink_eng.cv, NULL);
  sink_backoff_init(&sink_eng.backoff, cfg->retry_delay_ms, cfg->retry_max_ms);
  if (sig_install() != 0) log_warn("cannot catch signals: %s", strerror(errno));

  struct reader r;
  memset(&r, 0, sizeof r);
  r.cfg = cfg;
  r.st = st;
  r.rej.path = cfg->reject_path;
  r.rej.fd = -1;
  r.cur = sink_batch_new();
  struct lineread lr;
  if (!r.cur || lr_init(&lr, cfg->input_fd, 0) != 0) {
    log_err("out of memory");
    sink_batch_free(r.cur);
    st->lost = 1;
    return SINK_EXIT_LOST;
  }
  if (cfg->inflight > 0 && sink_worker_start() != 0) {
    log_warn("cannot start the delivery thread; delivering inline");
  }
  int lock = replay(&r);
  sig_input_begin(cfg->input_fd);
  if (r.cur) read_input(&r, &lr);
  sig_input_end(cfg->input_fd);
  st->rejected += lr.too_long;
  sink_shutdown_begin();
  if (r.cur && !r.oom) dispatch(&r);
  sink_worker_stop();
  if (r.oom) {
    st->io_error = true;
  }
  if (ops->finish && ops->finish(ops->ctx) != 0) st->io_error = true;
  st->closed = atomic_load(&sink_eng.closed);
  sink_reject_close(&r.rej);
  sink_fs_unlock(lock);
  sink_batch_free(r.cur);
  lr_free(&lr);
  summary(cfg, st);
  pthread_cond_destroy(&sink_eng.cv);
  pthread_mutex_destroy(&sink_eng.mu);
  return sink_exit_code(st);
}
