/*
 * clock.h - wall time, a monotonic clock and sleeping, per platform.
 *
 * C11's timespec_get() is missing from msvcrt, and POSIX clock_gettime()
 * and nanosleep() from MSVC, so code outside the platform files asks
 * here instead. The monotonic clock is for timeouts and deadlines (it
 * never jumps when the wall clock is set); the wall clock is for
 * timestamps and for the absolute times pthread_cond_timedwait() takes.
 * POSIX: lib/clock_posix.c; Windows: lib/clock_win.c.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_CLOCK_H
#define RTK_CLOCK_H

#include "lib/platform.h"

#include <time.h>

/* clock_mono_ms - milliseconds since an arbitrary fixed point; never goes
 * back. */
uint64_t clock_mono_ms(void);

/* clock_wall - the current UTC time as seconds and nanoseconds since
 * 1970-01-01 (the resolution is the system's: 100 ns to 16 ms). */
struct timespec clock_wall(void);

/* clock_wall_after - the wall time ms milliseconds from now, normalised
 * (an absolute deadline for pthread_cond_timedwait). */
struct timespec clock_wall_after(uint64_t ms);

/* clock_sleep_ms - sleep for ms milliseconds (not cut short by signals). */
void clock_sleep_ms(uint64_t ms);

#endif
