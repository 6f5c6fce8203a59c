/*
 * clock.c - the platform-independent part of lib/clock.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/clock.h"

struct timespec
clock_wall_after(uint64_t ms)
{
  struct timespec ts = clock_wall();
  ts.tv_sec += (time_t)(ms / 1000);
  ts.tv_nsec += (long)(ms % 1000) * 1000000;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  return ts;
}
