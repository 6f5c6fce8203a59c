/*
 * log.h - the one way programs write messages to stderr.
 *
 * Every message starts with "prog: ". log_err and log_warn print unless
 * the verbosity is negative (quiet); log_note prints at verbosity >= 1.
 * Nothing here exits except log_die, which main() code may use;
 * library-style code returns errors.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_LOG_H
#define RTK_LOG_H

#include "lib/platform.h"

#if defined(__GNUC__) || defined(__clang__)
#define LOG_PRINTF(a, b) PLAT_PRINTF(a, b)
#define LOG_NORETURN __attribute__((noreturn))
#else
#define LOG_PRINTF(a, b)
#define LOG_NORETURN
#endif

void log_init(const char *prog);
void log_set_verbosity(int v);
int log_verbosity(void);
const char *log_prog(void);

void log_err(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_note(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_die(int code, const char *fmt, ...) LOG_PRINTF(2, 3) LOG_NORETURN;

/* log_errbuf - format a message into a caller's error buffer (library-style
 * code reports through such buffers; main decides what to print). Does
 * nothing when err is NULL or errlen is 0. */
void log_errbuf(char *err, size_t errlen, const char *fmt, ...)
    LOG_PRINTF(3, 4);

#endif
