/*
 * etw_realtime_posix.c - real-time ETW off Windows: say so plainly
 * (etw_realtime.h).
 *
 * --provider specs are still checked, so a typo is reported as such on
 * every system.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "etwcat/etw_realtime.h"

#include "etwcat/etw_provider.h"
#include "lib/log.h"

int
etw_rt_run(const struct etw_rt_opts *o, struct evt_registry *reg,
           const struct etw_rt_sink *sink)
{
  (void)reg;
  (void)sink;
  for (size_t i = 0; i < o->nproviders; i++) {
    struct etw_provider p;
    char err[300];
    if (etw_provider_parse(o->providers[i], &p, err, sizeof err) != 0) {
      log_err("%s", err);
      return 2;
    }
  }
  log_err("real-time ETW (--session, --provider) needs Windows; on this "
          "system read recorded traces with --file=PATTERN");
  return 2;
}
