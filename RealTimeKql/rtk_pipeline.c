/*
 * rtk_pipeline.c - start the stages, wire them, forward Ctrl-C, wait for
 * every one of them and decide the exit status.
 *
 * Wiring: etwcat -> kqlfilter (with a query) -> the sinks. One sink
 * reads the last filter's pipe itself; with several, the launcher reads
 * that pipe and copies it to each (rtk_fanout.c). Every stage runs in a
 * process group of its own, so a terminal's Ctrl-C reaches the launcher
 * only, and the launcher decides who hears it:
 *
 *   1st Ctrl-C (or SIGTERM): SIGINT to etwcat only. The input stops;
 *     kqlfilter and the sinks see the end of their input, so they drain
 *     what is in the pipes, flush and exit by themselves.
 *   2nd Ctrl-C, at least 0.5 s later (sig_repeated): SIGINT to every
 *     stage still running, again 0.6 s later (a sink takes a second
 *     signal as "stop waiting for deliveries"; what is left is spooled),
 *     and SIGKILL after 5 s. The fan-out stops copying.
 *   3rd Ctrl-C: SIGKILL at once.
 *
 * A stage that fails (exit status other than 0, or killed by a signal
 * we did not send) while others run stops the input the same way as the
 * first Ctrl-C, so nothing runs on with a dead stage; a sink that ends
 * with status 0 is just one output less (a console sink whose reader
 * went away), and the input stops when no output is left. The exit
 * status is the status of the stage that failed first in time (its
 * failure is the cause; the others' are consequences), with one line on
 * stderr naming it; 0 when every stage succeeded. Every child is reaped
 * before returning: no zombies, whatever happened.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "RealTimeKql/rtk.h"
#include "lib/log.h"
#include "lib/signals.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#ifdef PLAT_WINDOWS
#include <io.h>
#define close _close
#else
#include <unistd.h>
#endif

#define MAX_STAGES (2 + RTK_MAX_SINKS)
#define SECOND_INT_MS 600 /* a sink counts a signal 0.5 s later as new */
#define KILL_AFTER_MS 5000
#define TICK_MS 200
/* How a console process ends after Ctrl-Break without a handler. */
#define WIN_CTRL_EXIT 0xC000013Au

struct run {
  struct rtk_stage *st;
  size_t n;
  size_t first_sink;
  int verbose;
  int level; /* 0 running; 1 input stopped; 2 all asked; 3 killed */
  int sigs;  /* signals handled so far */
  uint64_t level2_ms;
  bool int2_sent;
  int seq; /* stages reaped so far */
  bool launcher_failed;
  const struct rtk_stage *cause; /* the failure that stopped the input */
  struct rtk_fanout fan;
  bool fanning;
};

static const char *
sig_name(int s)
{
  switch (s) {
  case SIGINT:
    return "SIGINT";
  case SIGTERM:
    return "SIGTERM";
  case SIGSEGV:
    return "SIGSEGV";
  case SIGABRT:
    return "SIGABRT";
  case SIGILL:
    return "SIGILL";
  case SIGFPE:
    return "SIGFPE";
#ifdef SIGKILL
  case SIGKILL:
    return "SIGKILL";
#endif
#ifdef SIGBUS
  case SIGBUS:
    return "SIGBUS";
#endif
#ifdef SIGPIPE
  case SIGPIPE:
    return "SIGPIPE";
#endif
  default:
    return "a signal";
  }
}

static bool
running(const struct rtk_stage *s)
{
  return s->started && !s->child.done;
}

/* Ended the way our own request to stop ends a process. */
static bool
stopped_by_us(const struct rtk_stage *s)
{
  if (!s->stop_sent) return false;
  return s->child.signo == SIGINT || s->child.signo == SIGTERM ||
         (unsigned)s->child.code == WIN_CTRL_EXIT;
}

/* Killed by SIGPIPE: its reader went away first, and the reader's own
 * status tells why; never the cause of a failure. (Our programs ignore
 * SIGPIPE and stop quietly on EPIPE anyway.) */
static bool
broken_pipe(const struct rtk_stage *s)
{
#ifdef SIGPIPE
  return s->child.signo == SIGPIPE;
#else
  (void)s;
  return false;
#endif
}

static bool
failed(const struct rtk_stage *s)
{
  return s->child.done && s->child.code != 0 && !stopped_by_us(s) &&
         !broken_pipe(s);
}

static void
signal_stage(struct rtk_stage *s, enum spawn_sig sig)
{
  if (!running(s)) return;
  if (spawn_signal(&s->child, sig) != 0 && errno != ESRCH)
    log_warn("cannot signal %s: %s", s->label, strerror(errno));
  if (sig == SPAWN_SIG_KILL)
    s->kill_sent = true;
  else
    s->stop_sent = true;
}

/* Stop the input; the rest drains. */
static void
stop_input(struct run *r)
{
  if (r->level < 1) r->level = 1;
  signal_stage(&r->st[0], SPAWN_SIG_INT);
}

static void
stop_all(struct run *r)
{
  r->level = 2;
  r->level2_ms = spawn_clock_ms();
  r->int2_sent = false;
  for (size_t i = 0; i < r->n; i++)
    signal_stage(&r->st[i], SPAWN_SIG_INT);
}

static void
kill_all(struct run *r)
{
  r->level = 3;
  for (size_t i = 0; i < r->n; i++)
    signal_stage(&r->st[i], SPAWN_SIG_KILL);
}

static void
describe_end(const struct rtk_stage *s, char *buf, size_t n)
{
  const struct spawn_child *c = &s->child;
  const char *m = rtk_stage_meaning(s, c->code);
  if (c->signo)
    snprintf(buf, n, "killed by %s (exit status %d)", sig_name(c->signo),
             c->code);
  else if ((unsigned)c->code >= 0x80000000u)
    snprintf(buf, n, "ended with status 0x%08X", (unsigned)c->code);
  else
    snprintf(buf, n, "exit status %d%s%s%s", c->code, m ? " (" : "", m ? m : "",
             m ? ")" : "");
}

static void
on_end(struct run *r, size_t i)
{
  struct rtk_stage *s = &r->st[i];
  s->reap_seq = ++r->seq;
  if (r->verbose) {
    char d[200];
    describe_end(s, d, sizeof d);
    log_note("%s ended: %s%s", s->label, d,
             stopped_by_us(s) ? " (asked to stop)" : "");
  }
  if (r->level >= 1 || !running(&r->st[0])) return;
  if (failed(s)) {
    log_note("%s failed: stopping the input", s->label);
    r->cause = s;
    stop_input(r);
    return;
  }
  if (!s->sink) {
    /* A filter that ends early (take) leaves the input nowhere to go. */
    stop_input(r);
    return;
  }
  for (size_t j = r->first_sink; j < r->n; j++)
    if (running(&r->st[j])) return;
  stop_input(r); /* every output has gone */
}

static void
on_signal(struct run *r)
{
  int count = sig_count();
  if (count <= r->sigs) return;
  r->sigs = count;
  const char *what = sig_last();
  if (r->level == 0) {
    log_err("%s: stopping the input; the other stages finish their work "
            "(press Ctrl-C again to stop waiting)",
            what);
    stop_input(r);
  } else if (r->level == 1 && sig_repeated()) {
    log_err("%s again: stopping every stage", what);
    stop_all(r);
  } else if (r->level == 2 && spawn_clock_ms() - r->level2_ms >= 500) {
    log_err("%s again: killing the stages still running", what);
    kill_all(r);
  }
  /* Else the same Ctrl-C seen twice (terminal and script): one request. */
}

/* Escalate on time: the second SIGINT, then SIGKILL. */
static void
deadlines(struct run *r)
{
  if (r->level != 2) return;
  uint64_t el = spawn_clock_ms() - r->level2_ms;
  if (!r->int2_sent && el >= SECOND_INT_MS) {
    r->int2_sent = true;
    for (size_t i = 0; i < r->n; i++)
      if (running(&r->st[i])) spawn_signal(&r->st[i].child, SPAWN_SIG_INT);
  }
  if (el >= KILL_AFTER_MS) {
    log_err("stages still running %d s after the second Ctrl-C: killing "
            "them",
            KILL_AFTER_MS / 1000);
    kill_all(r);
  }
}

/* Look at the children, the signals and the clock; act. Returns true
 * when copying should stop (every stage has been told to stop). */
static bool
service(struct run *r)
{
  for (size_t i = 0; i < r->n; i++) {
    struct rtk_stage *s = &r->st[i];
    if (!s->started || s->ended) continue;
    /* spawn_wait_any may have reaped it already: done without ended. */
    int p = s->child.done ? 1 : spawn_poll(&s->child);
    if (p < 0) {
      log_err("cannot wait for %s: %s", s->label, strerror(errno));
      s->child.done = true;
      s->child.code = RTK_EXIT_FAIL;
      r->launcher_failed = true;
    }
    if (s->child.done) {
      s->ended = true;
      on_end(r, i);
    }
  }
  on_signal(r);
  deadlines(r);
  return r->level >= 2;
}

static int
fan_tick(void *ud)
{
  return service(ud) ? 1 : 0;
}

static void
show(const struct rtk_stage *s)
{
  char line[2048];
  size_t len = 0;
  line[0] = '\0';
  for (size_t i = 0; i < s->nargs && len < sizeof line; i++)
    len += (size_t)snprintf(line + len, sizeof line - len, "%s%s", i ? " " : "",
                            s->argv[i]);
  for (size_t i = 0; i < s->nenv && len < sizeof line; i++)
    if (strchr(s->env[i], '='))
      len += (size_t)snprintf(line + len, sizeof line - len,
                              "%s(%.*s in its environment)", len ? " " : "",
                              (int)strcspn(s->env[i], "="), s->env[i]);
  log_note("%s: %s", s->label, line);
}

static void
close_fd(int *fd)
{
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* Make the pipes; each end goes straight to the stage that gets it (or
 * to the fan-out), so nothing leaks when a later one fails. */
static int
wire(struct run *r)
{
  size_t nup = r->first_sink, nsinks = r->n - r->first_sink;
  int p[2];
  if ((r->st[0].fd_in = spawn_null_fd()) < 0) return -1;
  for (size_t i = 0; i + 1 < nup; i++) {
    if (spawn_pipe(p) != 0) return -1;
    r->st[i].fd_out = p[1];
    r->st[i + 1].fd_in = p[0];
  }
  if (spawn_pipe(p) != 0) return -1;
  r->st[nup - 1].fd_out = p[1];
  if (nsinks == 1) {
    r->st[nup].fd_in = p[0];
    return 0;
  }
  r->fanning = true;
  r->fan.in = p[0];
  r->fan.n = nsinks;
  for (size_t j = 0; j < nsinks; j++) {
    r->fan.out[j].label = r->st[nup + j].label;
    if (spawn_pipe(p) != 0) return -1;
    r->st[nup + j].fd_in = p[0];
    r->fan.out[j].fd = p[1];
  }
  return 0;
}

/* Start every stage, the sinks first. On failure the stages already
 * started see the end of their input and finish by themselves. */
static int
start(struct run *r)
{
  int rc = wire(r);
  if (rc != 0) log_err("cannot make a pipe: %s", strerror(errno));
  for (size_t k = 0; k < r->n && r->verbose; k++)
    show(&r->st[k]);
  for (size_t k = r->n; k-- > 0 && rc == 0;) {
    struct rtk_stage *s = &r->st[k];
    struct spawn_opts o;
    memset(&o, 0, sizeof o);
    o.argv = s->argv;
    o.env_add = (const char *const *)s->env;
    o.fd_in = s->fd_in;
    o.fd_out = s->fd_out;
    o.fd_err = -1;
    o.new_group = true;
    if (spawn_start(&o, &s->child) != 0) {
      log_err("cannot start %s: %s: %s", s->label, s->path, strerror(errno));
      rc = -1;
      break;
    }
    s->started = true;
  }
  /* Our copies of the children's ends: closed, so that each pipe ends
   * when its writer does. */
  for (size_t i = 0; i < r->n; i++) {
    close_fd(&r->st[i].fd_in);
    close_fd(&r->st[i].fd_out);
  }
  return rc;
}

/* The stage whose failure came first, or NULL. A failure that stopped
 * the input is first: what fails after it (a filter reading the line
 * the stopped input cut off) follows from it. Otherwise the order in
 * which they were seen to end, which for stages ending at nearly the
 * same moment may be the pipeline order. */
static const struct rtk_stage *
first_failure(const struct run *r)
{
  if (r->cause) return r->cause;
  const struct rtk_stage *f = NULL;
  for (size_t i = 0; i < r->n; i++) {
    const struct rtk_stage *s = &r->st[i];
    if (failed(s) && (!f || s->reap_seq < f->reap_seq)) f = s;
  }
  return f;
}

int
rtk_pipeline_run(struct rtk_stage *st, size_t n, int verbose)
{
  struct run r;
  memset(&r, 0, sizeof r);
  r.st = st;
  r.n = n;
  r.verbose = verbose;
  r.fan.in = -1;
  r.fan.tick = fan_tick;
  r.fan.ud = &r;
  r.fan.tick_ms = TICK_MS;
  for (size_t i = 0; i < RTK_MAX_SINKS; i++)
    r.fan.out[i].fd = -1;
  r.first_sink = n;
  for (size_t i = 0; i < n; i++)
    if (st[i].sink && r.first_sink == n) r.first_sink = i;
  if (n > MAX_STAGES || r.first_sink == 0 || r.first_sink == n) {
    log_err("internal error: bad pipeline");
    return RTK_EXIT_FAIL;
  }
  if (sig_install() != 0) log_warn("cannot catch Ctrl-C: %s", strerror(errno));

  if (start(&r) != 0) {
    r.launcher_failed = true;
    rtk_fanout_close(&r.fan); /* the sinks see the end of their input */
    stop_input(&r);
  } else if (r.fanning) {
    if (rtk_fanout_run(&r.fan) != 0) {
      log_err("reading the rows: %s", strerror(errno));
      r.launcher_failed = true;
      stop_input(&r);
    }
    rtk_fanout_close(&r.fan);
  }

  struct spawn_child *kids[MAX_STAGES];
  size_t nk = 0;
  for (size_t i = 0; i < n; i++)
    if (st[i].started) kids[nk++] = &st[i].child;
  for (;;) {
    service(&r);
    bool alive = false;
    for (size_t i = 0; i < n; i++)
      alive = alive || running(&st[i]);
    if (!alive) break;
    int timeout = -1;
    if (r.level == 2) timeout = TICK_MS;
    if (spawn_wait_any(kids, nk, timeout) < 0) {
      log_err("waiting for the stages: %s", strerror(errno));
      kill_all(&r);
      r.launcher_failed = true;
      /* Reap what can be reaped, without waiting again for ever. */
      for (size_t i = 0; i < n; i++)
        if (running(&st[i])) {
          st[i].child.done = true;
          st[i].child.code = RTK_EXIT_FAIL;
        }
    }
  }
  for (size_t i = 0; i < n; i++)
    spawn_release(&st[i].child);

  const struct rtk_stage *f = first_failure(&r);
  if (!f) return r.launcher_failed ? RTK_EXIT_FAIL : RTK_EXIT_OK;
  char d[200];
  describe_end(f, d, sizeof d);
  int others = 0;
  for (size_t i = 0; i < n; i++)
    if (failed(&st[i]) && &st[i] != f) others++;
  char more[64] = "";
  if (others)
    snprintf(more, sizeof more, "; %d later stage%s failed too", others,
             others == 1 ? "" : "s");
  int code = f->child.code;
  if (code < 0 || code > 255) code = RTK_EXIT_FAIL;
  log_err("%s failed: %s%s; exit status %d", f->label, d, more, code);
  return code;
}
