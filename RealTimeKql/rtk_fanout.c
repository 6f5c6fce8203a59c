/*
 * rtk_fanout.c - copy the rows of the last filter stage to every sink.
 *
 * Used only when there are two or more outputs; one output reads the
 * filter's pipe directly. The bytes are copied in blocks as large as the
 * pipe holds (up to 1 MiB): each sink receives exactly the same byte
 * stream, so it sees whole rows although blocks end anywhere. Writes are
 * blocking, so the slowest sink sets the pace and memory stays at one
 * block (the back-pressure the sinks rely on, ARCHITECTURE.md "Sinks").
 * A sink that has gone (EPIPE, or any other write error) is closed and
 * skipped; the others keep receiving every byte. The input is waited for
 * with sig_wait_fd(), so a Ctrl-C is noticed at once; a write blocked on
 * a stuck sink is interrupted by it (EINTR; the shutdown signals are
 * caught without SA_RESTART). Either way tick() tells whether to stop.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "RealTimeKql/rtk.h"
#include "lib/signals.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifdef PLAT_WINDOWS
#include <io.h>
#define read _read
#define write _write
#define close _close
#else
#include <unistd.h>
#endif

#define BLOCK (1u << 20)

size_t
rtk_fanout_live(const struct rtk_fanout *f)
{
  size_t n = 0;
  for (size_t i = 0; i < f->n; i++)
    if (f->out[i].fd >= 0) n++;
  return n;
}

static bool
tick(struct rtk_fanout *f)
{
  return f->tick && f->tick(f->ud) != 0;
}

/* Write the block to one sink. false: tick() said stop. */
static bool
put(struct rtk_fanout *f, struct rtk_fanout_out *o, const char *p, size_t n)
{
  while (n > 0 && o->fd >= 0) {
    /* Windows' _write takes an unsigned int count. */
    unsigned int chunk = n > BLOCK ? BLOCK : (unsigned int)n;
    long w = (long)write(o->fd, p, chunk);
    if (w < 0 && errno == EINTR) {
      if (tick(f)) return false;
      continue;
    }
    if (w <= 0) {
      o->err = w < 0 ? errno : EIO;
      close(o->fd);
      o->fd = -1;
      /* The pipeline hears about the sink from its exit status; let it
       * look now. */
      if (tick(f)) return false;
      break;
    }
    p += w;
    n -= (size_t)w;
  }
  return true;
}

int
rtk_fanout_run(struct rtk_fanout *f)
{
  if (!f->buf) {
    f->buf = malloc(BLOCK);
    if (!f->buf) {
      errno = ENOMEM;
      return -1;
    }
    f->cap = BLOCK;
  }
  int tick_ms = f->tick_ms > 0 ? f->tick_ms : 200;
  uint64_t next_tick = spawn_clock_ms() + (uint64_t)tick_ms;
  int rc = 0;
  sig_input_begin(f->in);
  while (f->in >= 0 && rtk_fanout_live(f) > 0) {
    enum sig_wait w = sig_wait_fd(f->in, tick_ms);
    if (w == SIG_WAIT_ERROR) {
      rc = -1;
      break;
    }
    /* A steady stream never times out: look at the children anyway. */
    uint64_t now = spawn_clock_ms();
    if (w != SIG_WAIT_READY || now >= next_tick) {
      next_tick = now + (uint64_t)tick_ms;
      if (tick(f)) break;
      if (w != SIG_WAIT_READY) continue;
    }
    /* Windows' _read takes an unsigned int count. */
    long n = (long)read(f->in, f->buf, (unsigned int)f->cap);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      rc = -1;
      break;
    }
    if (n == 0) {
      sig_input_end(f->in);
      close(f->in);
      f->in = -1;
      return 0;
    }
    f->bytes_in += (uint64_t)n;
    bool go = true;
    for (size_t i = 0; i < f->n && go; i++)
      go = put(f, &f->out[i], f->buf, (size_t)n);
    if (!go) break;
  }
  sig_input_end(f->in);
  return rc;
}

void
rtk_fanout_close(struct rtk_fanout *f)
{
  if (f->in >= 0) close(f->in);
  f->in = -1;
  for (size_t i = 0; i < f->n; i++) {
    if (f->out[i].fd >= 0) close(f->out[i].fd);
    f->out[i].fd = -1;
  }
  free(f->buf);
  f->buf = NULL;
  f->cap = 0;
}
