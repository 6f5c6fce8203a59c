/*
 * etw_realtime.h - consume a real-time ETW session (etwcat --session,
 * --provider).
 *
 * --session=NAME attaches to a running session; --provider specs
 * (etw_provider.h) start a private session "etwcat-PID", enable the
 * providers in it and stop it again on every way out: the end of the
 * run, Ctrl-C/Ctrl-Break/console close, exit() from anywhere (atexit) and
 * an unhandled exception. Only a forced kill can leave it behind; then
 * "logman stop etwcat-PID -ets" removes it.
 *
 * Threads: ProcessTrace runs on a consumer thread whose callback copies
 * each record into a bounded queue and never waits for the writer (a full
 * queue drops the event and counts it); the calling thread is the
 * writer: it takes events off the queue in arrival order and gives them
 * to the sink. Schemas missing from the registry are looked up through
 * TDH on the writer thread, once per (provider, id or opcode, version),
 * after the trace's own, --manifest and built-in schemas (never under
 * Wine, where TDH aborts the process).
 *
 * Windows: etwcat/etw_realtime_win.c. Elsewhere (etw_realtime_posix.c)
 * and under Wine it reports that real-time ETW needs Windows.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ETWCAT_ETW_REALTIME_H
#define ETWCAT_ETW_REALTIME_H

#include "lib/platform.h"
#include "etwcat/etl_event.h"
#include "etwcat/evt_registry.h"

struct etw_rt_opts {
  const char *session;          /* attach to this session, or NULL */
  const char *const *providers; /* --provider specs */
  size_t nproviders;
  size_t queue_events; /* queue length; 0: 8192 events */
};

/* What the writer thread does with events. Both are called on the
 * calling thread only. */
struct etw_rt_sink {
  /* One event; ev and what it points to are valid during the call.
   * false: the output has gone, stop consuming. */
  bool (*event)(void *ctx, const struct etl_event *ev);
  /* The queue has run empty: a moment to flush. false: stop. */
  bool (*idle)(void *ctx);
  void *ctx;
};

/*
 * etw_rt_run - consume until Ctrl-C, the end of the session or the end of
 * the output. reg must hold the schemas to decode with; TDH results are
 * added to it. Messages are printed here. Returns the exit status:
 * 0 consumed and stopped cleanly; 1 could not start, attach or keep up
 * (events lost, output failed); 2 a bad --provider spec, a provider name
 * that is not registered (or the list cannot be read), or real-time ETW
 * is not available on this system. One run per process.
 */
int etw_rt_run(const struct etw_rt_opts *o, struct evt_registry *reg,
               const struct etw_rt_sink *sink);

#endif
