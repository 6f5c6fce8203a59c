/*
 * spawn_posix.c - child processes on POSIX systems (spawn.h).
 *
 * posix_spawn, not fork: it is what libuv and the C library recommend
 * for a process that may grow large, and glibc reports a failed exec
 * (a missing program) as its return value. The child gets every signal
 * at its default action (POSIX_SPAWN_SETSIGDEF; the launcher ignores
 * SIGPIPE and catches SIGINT, and an ignored signal would otherwise stay
 * ignored across exec) and an empty mask (POSIX_SPAWN_SETSIGMASK). Pipes
 * are created close-on-exec in one step (pipe2 where it exists), so a
 * child started by another thread meanwhile cannot inherit them; the
 * ends a child should have are installed with dup2 file actions, which
 * clear close-on-exec on the copy.
 *
 * spawn_wait_any sleeps in sig_wait_fd() on a pipe that a SIGCHLD
 * handler writes to: a child's end and a Ctrl-C both wake it, and
 * neither is lost between checking and sleeping.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE 1 /* pipe2 on glibc */
#include "lib/platform.h"
#include "lib/spawn.h"

#include "lib/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int chld_pipe[2] = {-1, -1};

static void
on_sigchld(int sig)
{
  (void)sig;
  int saved = errno;
  char c = 1;
  ssize_t n = write(chld_pipe[1], &c, 1); /* full pipe: already woken */
  (void)n;
  errno = saved;
}

static int
cloexec_pipe(int fd[2])
{
#ifdef __linux__
  return pipe2(fd, O_CLOEXEC);
#else
  if (pipe(fd) != 0) return -1;
  for (int i = 0; i < 2; i++)
    if (fcntl(fd[i], F_SETFD, FD_CLOEXEC) != 0) {
      int e = errno;
      close(fd[0]);
      close(fd[1]);
      errno = e;
      return -1;
    }
  return 0;
#endif
}

/* The SIGCHLD wake-up pipe and handler, once per process. */
static int
chld_setup(void)
{
  if (chld_pipe[0] >= 0) return 0;
  int fd[2];
  if (cloexec_pipe(fd) != 0) return -1;
  for (int i = 0; i < 2; i++) {
    int fl = fcntl(fd[i], F_GETFL);
    if (fl < 0 || fcntl(fd[i], F_SETFL, fl | O_NONBLOCK) != 0) {
      close(fd[0]);
      close(fd[1]);
      return -1;
    }
  }
  chld_pipe[0] = fd[0];
  chld_pipe[1] = fd[1];
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigchld;
  sigemptyset(&sa.sa_mask);
  /* SA_RESTART: a child ending must not make a blocking read or write
   * elsewhere in the program fail with EINTR. */
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  return sigaction(SIGCHLD, &sa, NULL);
}

static void
chld_drain(void)
{
  char buf[64];
  while (chld_pipe[0] >= 0 && read(chld_pipe[0], buf, sizeof buf) > 0)
    ;
}

/* Does env entry e set the variable that add names ("NAME" or
 * "NAME=value")? */
static bool
same_name(const char *e, const char *add)
{
  size_t n = strcspn(add, "=");
  return strncmp(e, add, n) == 0 && e[n] == '=';
}

/* The child's environment: ours without the names env_add mentions,
 * then env_add's assignments. The strings are borrowed. */
static char **
child_env(const char *const *add)
{
  size_t ne = 0, na = 0;
  while (environ && environ[ne])
    ne++;
  while (add && add[na])
    na++;
  char **env = malloc((ne + na + 1) * sizeof *env);
  if (!env) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < ne; i++) {
    bool drop = false;
    for (size_t j = 0; j < na && !drop; j++)
      drop = same_name(environ[i], add[j]);
    if (!drop) env[k++] = environ[i];
  }
  for (size_t j = 0; j < na; j++)
    if (strchr(add[j], '=')) env[k++] = (char *)add[j];
  env[k] = NULL;
  return env;
}

int
spawn_start(const struct spawn_opts *o, struct spawn_child *c)
{
  memset(c, 0, sizeof *c);
  if (!o->argv || !o->argv[0] || o->argv[0][0] != '/') {
    errno = EINVAL;
    return -1;
  }
  if (chld_setup() != 0) return -1;
  char **env = child_env(o->env_add);
  if (!env) {
    errno = ENOMEM;
    return -1;
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  int rc = posix_spawn_file_actions_init(&fa);
  if (rc != 0) {
    free(env);
    errno = rc;
    return -1;
  }
  rc = posix_spawnattr_init(&at);
  if (rc != 0) {
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    errno = rc;
    return -1;
  }
  const int want[3] = {o->fd_in, o->fd_out, o->fd_err};
  for (int i = 0; i < 3 && rc == 0; i++)
    if (want[i] >= 0) rc = posix_spawn_file_actions_adddup2(&fa, want[i], i);
  sigset_t def, mask;
  sigfillset(&def);
  sigdelset(&def, SIGKILL);
  sigdelset(&def, SIGSTOP);
  sigemptyset(&mask);
  short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
  if (o->new_group) flags |= POSIX_SPAWN_SETPGROUP;
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&at, &def);
  if (rc == 0) rc = posix_spawnattr_setsigmask(&at, &mask);
  if (rc == 0 && o->new_group) rc = posix_spawnattr_setpgroup(&at, 0);
  if (rc == 0) rc = posix_spawnattr_setflags(&at, flags);
  pid_t pid = 0;
  if (rc == 0)
    rc = posix_spawn(&pid, o->argv[0], &fa, &at, (char *const *)o->argv, env);
  posix_spawnattr_destroy(&at);
  posix_spawn_file_actions_destroy(&fa);
  free(env);
  if (rc != 0) {
    errno = rc;
    return -1;
  }
  c->pid = (long)pid;
  c->group = o->new_group;
  return 0;
}

static void
set_status(struct spawn_child *c, int st)
{
  c->done = true;
  if (WIFSIGNALED(st)) {
    c->signo = WTERMSIG(st);
    c->code = 128 + c->signo;
  } else {
    c->signo = 0;
    c->code = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
  }
}

int
spawn_poll(struct spawn_child *c)
{
  if (c->done) return 1;
  if (c->pid <= 0) {
    errno = ECHILD;
    return -1;
  }
  int st;
  pid_t r;
  do
    r = waitpid((pid_t)c->pid, &st, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r < 0) return -1;
  if (r == 0) return 0;
  set_status(c, st);
  return 1;
}

int
spawn_wait_any(struct spawn_child *const *cs, size_t n, int timeout_ms)
{
  if (chld_setup() != 0) return -1;
  uint64_t end = spawn_clock_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
  for (;;) {
    /* Drain first, then reap: a SIGCHLD arriving after the reap loop
     * leaves a byte in the pipe and ends the wait below at once. */
    chld_drain();
    int got = 0;
    bool alive = false;
    for (size_t i = 0; i < n; i++) {
      if (cs[i]->done) continue;
      int r = spawn_poll(cs[i]);
      if (r < 0) return -1;
      if (r > 0)
        got++;
      else
        alive = true;
    }
    if (got || !alive) return got;
    int left = -1;
    if (timeout_ms >= 0) {
      uint64_t now = spawn_clock_ms();
      if (now >= end && timeout_ms > 0) return 0;
      left = (int)(end - now);
    }
    enum sig_wait w = sig_wait_fd(chld_pipe[0], left);
    if (w == SIG_WAIT_ERROR) return -1;
    if (w == SIG_WAIT_SIGNAL) return 0;
    /* READY: a child ended. TIMEOUT may also be poll() cut short by
     * SIGCHLD itself (poll is never restarted): the clock decides. */
    if (w == SIG_WAIT_TIMEOUT && timeout_ms == 0) return 0;
  }
}

int
spawn_signal(struct spawn_child *c, enum spawn_sig sig)
{
  if (c->done || c->pid <= 0) return 0;
  int s = sig == SPAWN_SIG_KILL   ? SIGKILL
          : sig == SPAWN_SIG_TERM ? SIGTERM
                                  : SIGINT;
  /* Before it is reaped the child's pid cannot be reused, nor its
   * process group (a zombie leader keeps the group). */
  return kill(c->group ? -(pid_t)c->pid : (pid_t)c->pid, s);
}

void
spawn_release(struct spawn_child *c)
{
  c->handle = NULL;
}

int
spawn_pipe(int fd[2])
{
  if (cloexec_pipe(fd) != 0) return -1;
  plat_pipe_grow(fd[1]);
  return 0;
}

void
spawn_std_open(void)
{
  for (int fd = 0; fd < 3; fd++) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    int n = open("/dev/null", O_RDWR);
    if (n >= 0 && n != fd) close(n); /* lower numbers were open after all */
  }
}

int
spawn_null_fd(void)
{
  return open("/dev/null", O_RDWR | O_CLOEXEC);
}

/* Cut path after its last '/', keeping "/" for a file in the root. */
static int
dir_of(char *path, char *buf, size_t n)
{
  char *slash = strrchr(path, '/');
  if (!slash) {
    errno = ENOENT;
    return -1;
  }
  size_t len = slash == path ? 1 : (size_t)(slash - path);
  if (len >= n) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(buf, path, len);
  buf[len] = '\0';
  return 0;
}

int
spawn_self_dir(const char *argv0, char *buf, size_t n)
{
  char path[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", path, sizeof path - 1);
  if (len > 0) {
    path[len] = '\0';
    return dir_of(path, buf, n);
  }
  /* No /proc: argv[0] names the program when it holds a '/' (a PATH
   * search would have to be redone, and may find another copy). */
  if (!argv0 || !strchr(argv0, '/')) {
    errno = ENOENT;
    return -1;
  }
  if (!realpath(argv0, path)) return -1;
  return dir_of(path, buf, n);
}

uint64_t
spawn_clock_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *
spawn_exe_suffix(void)
{
  return "";
}
