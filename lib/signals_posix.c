/*
 * signals_posix.c - shutdown signals and input waits on POSIX (signals.h).
 *
 * The handler only bumps a counter and writes one byte into a self-pipe;
 * sig_wait_fd() polls the input and the pipe together, so a signal ends a
 * wait at once instead of being noticed after the next line arrives.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int self_pipe[2] = {-1, -1};
static atomic_int count;
static volatile sig_atomic_t last_sig;
static atomic_llong first_ms, last_ms; /* monotonic arrival times */
static int saved_flags = -1;
static int saved_fd = -1;

static void
on_signal(int sig)
{
  int saved = errno;
  last_sig = sig;
  struct timespec ts; /* clock_gettime is async-signal-safe */
  long long ms = clock_gettime(CLOCK_MONOTONIC, &ts) == 0
                     ? (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000
                     : 0;
  if (atomic_fetch_add(&count, 1) == 0) atomic_store(&first_ms, ms);
  atomic_store(&last_ms, ms);
  if (self_pipe[1] >= 0) {
    char c = 1;
    ssize_t n = write(self_pipe[1], &c, 1); /* full pipe: already woken */
    (void)n;
  }
  errno = saved;
}

static void
drain_pipe(void)
{
  char buf[64];
  while (self_pipe[0] >= 0 && read(self_pipe[0], buf, sizeof buf) > 0)
    ;
}

static int
make_pipe(void)
{
  if (self_pipe[0] >= 0) return 0;
  if (pipe(self_pipe) != 0) return -1;
  for (int i = 0; i < 2; i++) {
    int fl = fcntl(self_pipe[i], F_GETFL);
    if (fl < 0 || fcntl(self_pipe[i], F_SETFL, fl | O_NONBLOCK) != 0) return -1;
    if (fcntl(self_pipe[i], F_SETFD, FD_CLOEXEC) != 0) return -1;
  }
  return 0;
}

int
sig_install(void)
{
  if (make_pipe() != 0) return -1;
  drain_pipe();
  atomic_store(&count, 0);
  last_sig = 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: poll() must return on a signal */
  if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
    return -1;
  return 0;
}

int
sig_count(void)
{
  return atomic_load(&count);
}

bool
sig_repeated(void)
{
  return atomic_load(&count) >= 2 &&
         atomic_load(&last_ms) - atomic_load(&first_ms) >= 500;
}

const char *
sig_last(void)
{
  switch (last_sig) {
  case SIGINT:
    return "SIGINT";
  case SIGTERM:
    return "SIGTERM";
  default:
    return "";
  }
}

void
sig_raise_test(void)
{
  on_signal(SIGTERM);
}

void
sig_block_thread(void)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
}

void
sig_input_begin(int fd)
{
  struct stat st;
  if (fstat(fd, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
    return;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || (fl & O_NONBLOCK)) return;
  if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0) {
    saved_flags = fl;
    saved_fd = fd;
  }
}

void
sig_input_end(int fd)
{
  if (fd == saved_fd && saved_flags >= 0) (void)fcntl(fd, F_SETFL, saved_flags);
  saved_fd = -1;
  saved_flags = -1;
}

enum sig_wait
sig_wait_fd(int fd, int timeout_ms)
{
  struct pollfd p[2];
  int n = 0;
  if (fd >= 0) {
    p[n].fd = fd;
    p[n].events = POLLIN;
    p[n].revents = 0;
    n++;
  }
  int pi = n;
  if (self_pipe[0] >= 0) {
    p[n].fd = self_pipe[0];
    p[n].events = POLLIN;
    p[n].revents = 0;
    n++;
  }
  int before = sig_count();
  int r = poll(p, (nfds_t)n, timeout_ms < 0 ? -1 : timeout_ms);
  if (r < 0) {
    if (errno == EINTR)
      return sig_count() != before ? SIG_WAIT_SIGNAL : SIG_WAIT_TIMEOUT;
    return SIG_WAIT_ERROR;
  }
  if (pi < n && p[pi].revents) {
    drain_pipe();
    return SIG_WAIT_SIGNAL;
  }
  if (r == 0) return SIG_WAIT_TIMEOUT;
  return SIG_WAIT_READY; /* POLLIN, POLLHUP or POLLERR: let read() say */
}

bool
sig_sleep_ms(int ms)
{
  return sig_wait_fd(-1, ms) != SIG_WAIT_SIGNAL;
}
