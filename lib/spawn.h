/*
 * spawn.h - start child programs wired to pipes, wait for them, signal
 * them: one interface over posix_spawn and CreateProcessW.
 *
 * The caller makes pipes with spawn_pipe() (both ends close-on-exec /
 * not inheritable), hands the child the ends it should have as its
 * standard input and output, and closes its own copies afterwards. A
 * child inherits nothing else from the caller except what the caller
 * itself inherited without close-on-exec: no pipe end of a sibling stage
 * can keep a pipe open by accident.
 *
 * POSIX (lib/spawn_posix.c): posix_spawn with every signal reset to its
 * default action and an empty signal mask in the child (the caller may
 * ignore SIGPIPE or block signals); a SIGCHLD handler (installed by the
 * first spawn_start) wakes spawn_wait_any. Windows (lib/spawn_win.c):
 * CreateProcessW with an explicit list of inherited handles, the command
 * line quoted by spawn_win_cmdline(), SYSTEMROOT added to the child's
 * environment when missing, every child in one kill-on-close job object.
 * spawn_win_cmdline() itself is plain C (lib/spawn_quote.c), built and
 * tested on every system.
 *
 * Ownership: struct spawn_child is the caller's; spawn_release() frees
 * what spawn_start() acquired (the Windows process handle) once the
 * child has been reaped or abandoned.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_SPAWN_H
#define RTK_SPAWN_H

#include "lib/platform.h"

struct spawn_opts {
  const char *const *argv;    /* UTF-8; argv[0] is the program's full path */
  const char *const *env_add; /* NULL-terminated: "NAME=value" adds or
                                 replaces, "NAME" removes; may be NULL */
  int fd_in, fd_out, fd_err;  /* the child's stdin/stdout/stderr; -1:
                                 the caller's own */
  bool new_group;             /* own process group: a terminal's Ctrl-C
                                 reaches the caller only, which decides
                                 whom to forward it to (spawn_signal) */
};

struct spawn_child {
  long pid;     /* process id; 0 before spawn_start */
  void *handle; /* Windows: the process handle */
  void *stop;   /* Windows: its stop event (winapi.h win_stop_event) */
  bool done;    /* reaped; code and signo are valid */
  int code;     /* exit status, or 128 + signo when a signal ended it */
  int signo;    /* the signal that ended it, else 0 (POSIX only) */
  bool group;   /* leads its own process group (spawn_opts.new_group) */
};

enum spawn_sig {
  SPAWN_SIG_INT,  /* SIGINT; Windows: its stop event, else
                     CTRL_BREAK_EVENT to its group */
  SPAWN_SIG_TERM, /* SIGTERM; Windows: as SPAWN_SIG_INT */
  SPAWN_SIG_KILL  /* SIGKILL; Windows: TerminateProcess */
};

/* spawn_start - start o->argv[0] with the given arguments, environment
 * changes and standard handles. 0 with *c filled in, or -1 with errno set
 * (ENOENT: no such program; E2BIG: command line too long on Windows;
 * EINVAL: bad argument). */
int spawn_start(const struct spawn_opts *o, struct spawn_child *c);

/* spawn_poll - reap c without blocking: 1 when it has ended (c->done,
 * c->code, c->signo set; again 1 on later calls), 0 while it runs, -1
 * with errno set when it cannot be waited for. */
int spawn_poll(struct spawn_child *c);

/* spawn_wait_any - wait until one of the n children (done ones are
 * skipped) ends, a shutdown signal arrives (lib/signals.h; the caller
 * checks sig_count), or timeout_ms passes (-1: no limit). Returns the
 * number of children reaped by this call (0: signal or timeout), or -1
 * with errno set. */
int spawn_wait_any(struct spawn_child *const *cs, size_t n, int timeout_ms);

/* spawn_signal - ask (INT, TERM) or force (KILL) c to stop. A child
 * with its own process group gets the signal for the whole group, as a
 * terminal's Ctrl-C would be, so helpers it started stop (or die) with
 * it. A child that has been reaped is left alone. 0, or -1 with errno
 * set. */
int spawn_signal(struct spawn_child *c, enum spawn_sig sig);

/* spawn_release - free what spawn_start acquired for c. */
void spawn_release(struct spawn_child *c);

/* spawn_pipe - a pipe whose ends are not inherited by children (until
 * handed to one through spawn_opts): fd[0] reads, fd[1] writes. The
 * buffer is grown where the OS allows (plat_pipe_grow). 0, or -1 with
 * errno set. */
int spawn_pipe(int fd[2]);

/* spawn_std_open - make sure descriptors 0, 1 and 2 are open (on the
 * null device when they were closed), so that no pipe made later takes
 * one of their numbers and ends up as some child's standard handle by
 * accident. Call once at start-up. */
void spawn_std_open(void);

/* spawn_null_fd - a descriptor open on the null device (O_RDWR), not
 * inherited; -1 with errno set on failure. */
int spawn_null_fd(void);

/* spawn_self_dir - the directory holding the running program's
 * executable, symbolic links resolved (/proc/self/exe on Linux,
 * GetModuleFileNameW on Windows; argv0 as the last resort). 0 with the
 * path in buf, or -1 with errno set. */
int spawn_self_dir(const char *argv0, char *buf, size_t n);

/* spawn_clock_ms - a monotonic clock in milliseconds, for deadlines
 * around the waits above. */
uint64_t spawn_clock_ms(void);

/* spawn_exe_suffix - ".exe" on Windows, "" elsewhere. */
const char *spawn_exe_suffix(void);

/* spawn_win_cmdline - join argv into one Windows command line that the
 * Microsoft C runtime (and CommandLineToArgvW) splits back into exactly
 * the same arguments: arguments without blanks or quotes as they are,
 * others in double quotes with backslashes doubled where they precede a
 * quote. argv[0] (the program path) is parsed by simpler rules and may
 * not hold a '"'. Returns a malloc'd UTF-8 string owned by the caller, or
 * NULL with errno EINVAL (a '"' in argv[0], or argv[0] missing), E2BIG
 * (longer than the 32767 characters CreateProcessW allows) or ENOMEM. */
char *spawn_win_cmdline(const char *const *argv);

#endif
