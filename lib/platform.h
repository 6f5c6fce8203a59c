/*
 * platform.h - the one place that knows which OS we build for.
 *
 * Included first by every source file. Sets the POSIX level off Windows,
 * the Windows version and stdio flavour on Windows, and declares the
 * start-up hook every program calls first. Logic elsewhere tests the
 * feature macros defined here, never _WIN32.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_PLATFORM_H
#define RTK_PLATFORM_H

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0601
#endif
#define __USE_MINGW_ANSI_STDIO 1
#define PLAT_WINDOWS 1
#else
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif
#define PLAT_POSIX 1
#endif

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTK_VERSION "0.1.0"

/* PLAT_PRINTF(a, b) - format checking of our own printf-like functions
 * for the printf this platform's stdio has: on mingw-w64 the C99 one
 * that __USE_MINGW_ANSI_STDIO selects (%zu, %lld), which GCC would
 * otherwise check by msvcrt's older rules. */
#if defined(__MINGW32__)
#define PLAT_PRINTF(a, b) __attribute__((format(gnu_printf, a, b)))
#elif defined(__GNUC__) || defined(__clang__)
#define PLAT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PLAT_PRINTF(a, b)
#endif

/*
 * plat_init - start-up work every program does first: UTF-8 argv on
 * Windows, binary stdin/stdout, SIGPIPE ignored (a closed pipe shows up
 * as EPIPE from write, which the program treats as "consumer left").
 */
void plat_init(int *argc, char ***argv);

/* plat_isatty - true when the stream's descriptor is a terminal. */
bool plat_isatty(int fd);

/* plat_pipe_grow - raise a pipe's buffer to 1 MiB where the OS allows it;
 * failure is harmless and ignored. */
void plat_pipe_grow(int fd);

#endif
