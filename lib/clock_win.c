/*
 * clock_win.c - clocks and sleeping on Windows (see clock.h).
 *
 * The wall clock is GetSystemTimeAsFileTime (100 ns units since 1601;
 * the precise variant needs Windows 8), the monotonic one GetTickCount64.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/clock.h"

#include <time.h>
#include <windows.h>

/* 100 ns intervals between 1601-01-01 and 1970-01-01. */
#define EPOCH_DIFF_100NS 116444736000000000ULL

uint64_t
clock_mono_ms(void)
{
  return (uint64_t)GetTickCount64();
}

struct timespec
clock_wall(void)
{
  FILETIME ft;
  GetSystemTimeAsFileTime(&ft);
  uint64_t t = (uint64_t)ft.dwHighDateTime << 32 | ft.dwLowDateTime;
  t = t > EPOCH_DIFF_100NS ? t - EPOCH_DIFF_100NS : 0;
  struct timespec ts;
  ts.tv_sec = (time_t)(t / 10000000);
  ts.tv_nsec = (long)(t % 10000000) * 100;
  return ts;
}

void
clock_sleep_ms(uint64_t ms)
{
  while (ms > 0) {
    DWORD step = ms > 0x7fffffffu ? 0x7fffffffu : (DWORD)ms;
    Sleep(step);
    ms -= step;
  }
}
