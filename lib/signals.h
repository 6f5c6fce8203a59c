/*
 * signals.h - shutdown signals and waiting for input, behind one interface.
 *
 * A program that must flush before it exits calls sig_install() once; from
 * then on SIGINT and SIGTERM (Ctrl-C, Ctrl-Break and console close on
 * Windows) no longer kill it but are counted, and sig_count() tells the
 * main loop how many arrived. sig_wait_fd() waits for input, a signal or a
 * timeout, whichever comes first, so a reader never sleeps through Ctrl-C.
 * Worker threads call sig_block_thread() so signals reach the reader.
 * POSIX: lib/signals_posix.c (self-pipe + poll); Windows:
 * lib/signals_win.c (console control handler + event).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_SIGNALS_H
#define RTK_SIGNALS_H

#include "lib/platform.h"

enum sig_wait {
  SIG_WAIT_ERROR = -1,  /* the wait itself failed; errno is set */
  SIG_WAIT_READY = 0,   /* fd is readable (or at end of input) */
  SIG_WAIT_TIMEOUT = 1, /* timeout_ms passed */
  SIG_WAIT_SIGNAL = 2   /* a shutdown signal arrived */
};

/* sig_install - catch the shutdown signals; 0, or -1 on failure. Calling
 * it again resets the count (tests run several sessions). */
int sig_install(void);

/* sig_count - shutdown signals received since sig_install. */
int sig_count(void);

/* sig_repeated - true when a further signal came at least 500 ms after
 * the first: the user insists. (One Ctrl-C can arrive twice, from the
 * terminal and from a launcher forwarding it; that is not insisting.) */
bool sig_repeated(void);

/* sig_last - name of the last signal received ("SIGINT"...), or "". */
const char *sig_last(void);

/* sig_raise_test - count a signal as if it had arrived (tests). */
void sig_raise_test(void);

/* sig_block_thread - keep shutdown signals away from the calling thread. */
void sig_block_thread(void);

/* sig_input_begin - prepare fd for sig_wait_fd. On POSIX a pipe or socket
 * is made non-blocking, so a read never blocks on half a line; then a read
 * may fail with EAGAIN, meaning "wait again". sig_input_end restores it. */
void sig_input_begin(int fd);
void sig_input_end(int fd);

/* sig_wait_fd - wait up to timeout_ms (-1 = no limit) for fd to become
 * readable or a shutdown signal to arrive. */
enum sig_wait sig_wait_fd(int fd, int timeout_ms);

/* sig_sleep_ms - sleep, returning early (false) when a signal arrives. */
bool sig_sleep_ms(int ms);

#endif
