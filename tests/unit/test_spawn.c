/*
 * test_spawn.c - child processes (lib/spawn.h): the Windows quoting
 * table, and real children, which are this test binary itself started
 * as "test_spawn --child MODE ..." (libuv's maybe_run_test), never a
 * shell: argument round trips with hostile strings, environment changes,
 * standard handles, exit codes, signals, waiting, and on POSIX the
 * child's signal dispositions, mask, process group and inherited
 * descriptors.
 *
 * The quoting checks run everywhere; under Wine (make check-windows) the
 * round trips also go through CreateProcessW and the child's C runtime.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "lib/signals.h"
#include "lib/spawn.h"
#include "tests/unit/check.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef PLAT_WINDOWS
#include <io.h>
#include <windows.h>
#define read _read
#define write _write
#define close _close
#else
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#endif

/* ---- the child side ------------------------------------------------ */

static void
sleep_ms(int ms)
{
#ifdef PLAT_WINDOWS
  Sleep((DWORD)ms);
#else
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
#endif
}

#ifdef PLAT_POSIX
/* SIGPIPE's disposition before plat_init() ignored it. */
static bool sigpipe_at_start;
#endif

static int
child(int argc, char **argv)
{
  const char *mode = argv[2];
  if (strcmp(mode, "echo") == 0) {
    /* Each argument as "length:bytes\n", so that nothing is ambiguous. */
    for (int i = 3; i < argc; i++)
      printf("%zu:%s\n", strlen(argv[i]), argv[i]);
    return 0;
  }
  if (strcmp(mode, "env") == 0) {
    for (int i = 3; i < argc; i++) {
      const char *v = getenv(argv[i]);
      printf("%s=%s\n", argv[i], v ? v : "(unset)");
    }
    return 0;
  }
  if (strcmp(mode, "exit") == 0) return (int)strtol(argv[3], NULL, 10);
  if (strcmp(mode, "sleep") == 0) {
    sleep_ms((int)strtol(argv[3], NULL, 10));
    return 0;
  }
  if (strcmp(mode, "cat") == 0) {
    char buf[4096];
    long n;
    while ((n = (long)read(0, buf, sizeof buf)) > 0)
      if (write(1, buf, (unsigned)n) != n) return 1;
    return n < 0;
  }
#ifdef PLAT_POSIX
  if (strcmp(mode, "posix") == 0) {
    /* Signal dispositions, mask, group, and which descriptors from
     * argv[3...] are open. */
    struct sigaction sa;
    printf("SIGPIPE %s\n", sigpipe_at_start ? "default" : "changed");
    sigaction(SIGINT, NULL, &sa);
    printf("SIGINT %s\n", sa.sa_handler == SIG_DFL ? "default" : "changed");
    sigset_t mask;
    sigprocmask(SIG_BLOCK, NULL, &mask);
    printf("SIGTERM %s\n", sigismember(&mask, SIGTERM) ? "blocked" : "open");
    printf("group %s\n", getpgrp() == getpid() ? "own" : "shared");
    for (int i = 3; i < argc; i++) {
      int fd = (int)strtol(argv[i], NULL, 10);
      printf("fd %d %s\n", fd, fcntl(fd, F_GETFD) >= 0 ? "open" : "closed");
    }
    return 0;
  }
#endif
  fprintf(stderr, "test_spawn: unknown child mode %s\n", mode);
  return 99;
}

/* ---- helpers ------------------------------------------------------- */

static char self[4200];

/* Run this binary as a child with argv "--child" + args; collect its
 * standard output (stdin from `in` when given). Returns the exit code,
 * or -1 when it could not start. */
static int
run(const char *const *args, const char *const *env, const char *in, char *out,
    size_t outn, struct spawn_child *cp)
{
  const char *argv[64];
  size_t n = 0;
  argv[n++] = self;
  argv[n++] = "--child";
  for (size_t i = 0; args[i] && n < 63; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  int po[2], pi[2] = {-1, -1};
  if (spawn_pipe(po) != 0) return -1;
  if (in && spawn_pipe(pi) != 0) return -1;
  struct spawn_opts o;
  memset(&o, 0, sizeof o);
  o.argv = argv;
  o.env_add = env;
  o.fd_in = pi[0];
  o.fd_out = po[1];
  o.fd_err = -1;
  struct spawn_child c;
  int rc = spawn_start(&o, &c);
  close(po[1]);
  if (in) close(pi[0]);
  if (rc != 0) {
    close(po[0]);
    if (in) close(pi[1]);
    return -1;
  }
  if (in) {
    CHECK(write(pi[1], in, (unsigned)strlen(in)) == (long)strlen(in));
    close(pi[1]);
  }
  size_t got = 0;
  long r;
  while (got + 1 < outn &&
         (r = (long)read(po[0], out + got, (unsigned)(outn - 1 - got))) > 0)
    got += (size_t)r;
  out[got] = '\0';
  close(po[0]);
  struct spawn_child *cs[1] = {&c};
  while (!c.done)
    if (spawn_wait_any(cs, 1, -1) < 0) break;
  if (cp) *cp = c;
  spawn_release(&c);
  /* Windows text mode would add '\r': the child writes with printf. */
  char *w = out;
  for (char *p = out; *p; p++)
    if (*p != '\r') *w++ = *p;
  *w = '\0';
  return c.code;
}

/* ---- a parser written from the Microsoft C runtime's rules --------- */

/* Split a command line the way the CRT does (argv[0] by its own rule).
 * Returns the count; args are NUL-separated in buf. */
static int
crt_split(const char *line, char *buf, char **av, int max)
{
  const char *p = line;
  char *o = buf;
  int n = 0;
  /* argv[0]: quoted up to the next quote, or up to a blank. */
  av[n++] = o;
  if (*p == '"') {
    p++;
    while (*p && *p != '"')
      *o++ = *p++;
    if (*p) p++;
  } else {
    while (*p && *p != ' ' && *p != '\t')
      *o++ = *p++;
  }
  *o++ = '\0';
  for (;;) {
    while (*p == ' ' || *p == '\t')
      p++;
    if (!*p || n == max) break;
    av[n++] = o;
    bool quoted = false;
    while (*p && (quoted || (*p != ' ' && *p != '\t'))) {
      size_t bs = 0;
      while (*p == '\\') {
        bs++;
        p++;
      }
      if (*p == '"') {
        for (size_t i = 0; i < bs / 2; i++)
          *o++ = '\\';
        if (bs % 2) {
          *o++ = '"';
        } else if (quoted && p[1] == '"') {
          *o++ = '"'; /* "" inside quotes: a literal quote (ucrt) */
          p++;
        } else {
          quoted = !quoted;
        }
        p++;
      } else {
        for (size_t i = 0; i < bs; i++)
          *o++ = '\\';
        /* A blank after backslashes still ends the argument. */
        if (*p && (quoted || (*p != ' ' && *p != '\t'))) *o++ = *p++;
      }
    }
    *o++ = '\0';
  }
  return n;
}

/* Hostile arguments: blanks, quotes, backslashes before quotes and at
 * the end, UNC paths, a KQL query, shell and cmd.exe characters, tab,
 * line break, non-ASCII, empty. */
static const char *const hostile[] = {
    "",
    "a",
    "a b",
    "a\"b",
    "\"",
    "\"\"",
    "a\\",
    "a b\\",
    "a\\\"b",
    "a\\\\\"b",
    "\\\\server\\share\\dir\\",
    "\\\\server\\share name\\",
    "C:\\Program Files\\x\\",
    "EtwTcp | where Opcode == \"Data sent.\" and Port > 1000",
    "\ttab",
    "line\nbreak",
    "vt\vx",
    "%PATH%",
    "^&|<>()!",
    "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac",
    "trailing space ",
    " leading space",
    "\\",
    "\\\\",
    "\\\"",
    "--adxkey=a\"b c\\",
    "*.etl",
    "{7dd42a49-5329-4832-8dfd-43d979153a88}",
};
#define NHOSTILE (sizeof hostile / sizeof hostile[0])

/* ---- regular cases ------------------------------------------------- */

static void
test_quote_table(void)
{
  static const struct {
    const char *in, *out;
  } t[] = {
      {"", "\"\""},
      {"a", "a"},
      {"a b", "\"a b\""},
      {"a\"b", "\"a\\\"b\""},
      {"a\\", "a\\"},
      {"a b\\", "\"a b\\\\\""},
      {"a\\\"b", "\"a\\\\\\\"b\""},
      {"\\\\server\\share\\", "\\\\server\\share\\"},
      {"C:\\Program Files\\x\\", "\"C:\\Program Files\\x\\\\\""},
      {"\ttab", "\"\ttab\""},
      {"%PATH%", "%PATH%"},
      {"^&|<>", "^&|<>"},
      {"\"", "\"\\\"\""},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    const char *argv[] = {"C:\\bin\\x.exe", t[i].in, NULL};
    char *line = spawn_win_cmdline(argv);
    char want[256];
    snprintf(want, sizeof want, "C:\\bin\\x.exe %s", t[i].out);
    CHECK_STR(line, want);
    free(line);
  }
  /* argv[0] has no escapes: quotes only around blanks. */
  const char *sp[] = {"C:\\Program Files\\rtk\\etwcat.exe", "-f", NULL};
  char *line = spawn_win_cmdline(sp);
  CHECK_STR(line, "\"C:\\Program Files\\rtk\\etwcat.exe\" -f");
  free(line);
}

static void
test_quote_roundtrip(void)
{
  const char *argv[NHOSTILE + 2];
  argv[0] = "C:\\Program Files\\rtk\\kqlfilter.exe";
  for (size_t i = 0; i < NHOSTILE; i++)
    argv[i + 1] = hostile[i];
  argv[NHOSTILE + 1] = NULL;
  char *line = spawn_win_cmdline(argv);
  CHECK(line != NULL);
  if (!line) return;
  static char buf[8192];
  char *av[NHOSTILE + 4];
  int n = crt_split(line, buf, av, (int)(NHOSTILE + 3));
  CHECK(n == (int)NHOSTILE + 1);
  for (int i = 0; i < n && i < (int)NHOSTILE + 1; i++)
    CHECK_STR(av[i], argv[i]);
  free(line);
}

static void
test_spawn_echo(void)
{
  const char *args[NHOSTILE + 2];
  args[0] = "echo";
  for (size_t i = 0; i < NHOSTILE; i++)
    args[i + 1] = hostile[i];
  args[NHOSTILE + 1] = NULL;
  static char out[16384], want[16384];
  size_t w = 0;
  for (size_t i = 0; i < NHOSTILE; i++)
    w += (size_t)snprintf(want + w, sizeof want - w, "%zu:%s\n",
                          strlen(hostile[i]), hostile[i]);
  struct spawn_child c;
  int code = run(args, NULL, NULL, out, sizeof out, &c);
  CHECK(code == 0);
  CHECK(c.done && c.signo == 0 && c.pid > 0);
  /* Line breaks inside arguments come back as they went. */
  CHECK_STR(out, want);
}

static void
test_env(void)
{
  static char set_b[] = "RTK_TEST_B=from-parent";
  static char set_c[] = "RTK_TEST_C=kept";
  CHECK(putenv(set_b) == 0);
  CHECK(putenv(set_c) == 0);
  const char *env[] = {"RTK_TEST_A=added value", "RTK_TEST_B", NULL};
  const char *args[] = {"env", "RTK_TEST_A", "RTK_TEST_B", "RTK_TEST_C", NULL};
  char out[512];
  CHECK(run(args, env, NULL, out, sizeof out, NULL) == 0);
  CHECK_STR(out, "RTK_TEST_A=added value\nRTK_TEST_B=(unset)\n"
                 "RTK_TEST_C=kept\n");
  const char *env2[] = {"RTK_TEST_C=replaced", NULL};
  const char *args2[] = {"env", "RTK_TEST_C", NULL};
  CHECK(run(args2, env2, NULL, out, sizeof out, NULL) == 0);
  CHECK_STR(out, "RTK_TEST_C=replaced\n");
}

static void
test_stdin(void)
{
  const char *args[] = {"cat", NULL};
  char out[256];
  CHECK(run(args, NULL, "{\"a\":1}\n{\"b\":2}\n", out, sizeof out, NULL) == 0);
  CHECK_STR(out, "{\"a\":1}\n{\"b\":2}\n");
}

static void
test_exit_codes(void)
{
  static const int codes[] = {0, 1, 2, 3, 77, 255};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    char n[8], out[16];
    snprintf(n, sizeof n, "%d", codes[i]);
    const char *args[] = {"exit", n, NULL};
    struct spawn_child c;
    CHECK(run(args, NULL, NULL, out, sizeof out, &c) == codes[i]);
    CHECK(c.signo == 0);
  }
}

static int
start_sleeper(struct spawn_child *c, const char *ms, bool group)
{
  const char *argv[] = {self, "--child", "sleep", ms, NULL};
  struct spawn_opts o;
  memset(&o, 0, sizeof o);
  o.argv = argv;
  o.fd_in = o.fd_out = o.fd_err = -1;
  o.new_group = group;
  return spawn_start(&o, c);
}

static void
test_wait_and_kill(void)
{
  struct spawn_child a, b;
  CHECK(start_sleeper(&a, "100", false) == 0);
  CHECK(start_sleeper(&b, "30000", false) == 0);
  CHECK(spawn_poll(&b) == 0);
  struct spawn_child *cs[2] = {&a, &b};
  uint64_t t0 = spawn_clock_ms();
  int got = spawn_wait_any(cs, 2, 10000);
  uint64_t el = spawn_clock_ms() - t0;
  CHECK(got == 1);
  CHECK(a.done && a.code == 0 && !b.done);
  CHECK(el < 5000); /* woken by the child's end, not the timeout */
  /* A timeout with a child still running. */
  t0 = spawn_clock_ms();
  CHECK(spawn_wait_any(cs, 2, 50) == 0);
  CHECK(spawn_clock_ms() - t0 >= 40);
  CHECK(spawn_signal(&b, SPAWN_SIG_KILL) == 0);
  while (!b.done)
    CHECK(spawn_wait_any(cs, 2, 5000) >= 0);
  CHECK(b.code == 128 + 9);
  CHECK(spawn_poll(&b) == 1);                   /* reaped stays reaped */
  CHECK(spawn_signal(&b, SPAWN_SIG_KILL) == 0); /* and is left alone */
  spawn_release(&a);
  spawn_release(&b);
}

static void
test_wait_signal(void)
{
  struct spawn_child a;
  CHECK(sig_install() == 0);
  CHECK(start_sleeper(&a, "30000", true) == 0);
  struct spawn_child *cs[1] = {&a};
  sig_raise_test(); /* as if Ctrl-C came */
  uint64_t t0 = spawn_clock_ms();
  CHECK(spawn_wait_any(cs, 1, 10000) == 0);
  CHECK(spawn_clock_ms() - t0 < 5000);
  CHECK(sig_count() == 1);
  CHECK(spawn_signal(&a, SPAWN_SIG_KILL) == 0);
  while (!a.done)
    CHECK(spawn_wait_any(cs, 1, 5000) >= 0);
  spawn_release(&a);
}

static void
test_self_dir(void)
{
  char dir[4096];
  CHECK(spawn_self_dir(NULL, dir, sizeof dir) == 0);
  CHECK(strstr(self, dir) == self);
  CHECK(spawn_self_dir(NULL, dir, 4) == -1);
}

#ifdef PLAT_POSIX
static void
test_posix_child(void)
{
  /* The parent ignores SIGPIPE (plat_init), catches SIGINT and blocks
   * SIGTERM; the child must see none of that. */
  signal(SIGPIPE, SIG_IGN);
  sigset_t m, old;
  sigemptyset(&m);
  sigaddset(&m, SIGTERM);
  sigprocmask(SIG_BLOCK, &m, &old);
  int p[2];
  CHECK(spawn_pipe(p) == 0);
  char a[16], b[16];
  snprintf(a, sizeof a, "%d", p[0]);
  snprintf(b, sizeof b, "%d", p[1]);
  const char *args[] = {"posix", a, b, "1", NULL};
  char out[512];
  CHECK(run(args, NULL, NULL, out, sizeof out, NULL) == 0);
  char want[512];
  snprintf(want, sizeof want,
           "SIGPIPE default\nSIGINT default\nSIGTERM open\ngroup shared\n"
           "fd %d closed\nfd %d closed\nfd 1 open\n",
           p[0], p[1]);
  CHECK_STR(out, want);
  close(p[0]);
  close(p[1]);
  sigprocmask(SIG_SETMASK, &old, NULL);
}

static void
test_posix_group(void)
{
  const char *argv[] = {self, "--child", "posix", NULL};
  int po[2];
  CHECK(spawn_pipe(po) == 0);
  struct spawn_opts o;
  memset(&o, 0, sizeof o);
  o.argv = argv;
  o.fd_in = o.fd_err = -1;
  o.fd_out = po[1];
  o.new_group = true;
  struct spawn_child c;
  CHECK(spawn_start(&o, &c) == 0);
  close(po[1]);
  char out[256] = "";
  long n = (long)read(po[0], out, sizeof out - 1);
  out[n > 0 ? n : 0] = '\0';
  close(po[0]);
  struct spawn_child *cs[1] = {&c};
  while (!c.done)
    CHECK(spawn_wait_any(cs, 1, 5000) >= 0);
  CHECK(strstr(out, "group own\n") != NULL);
}

static void
test_posix_sigint(void)
{
  struct spawn_child c;
  CHECK(start_sleeper(&c, "30000", true) == 0);
  CHECK(spawn_signal(&c, SPAWN_SIG_INT) == 0);
  struct spawn_child *cs[1] = {&c};
  while (!c.done)
    CHECK(spawn_wait_any(cs, 1, 5000) >= 0);
  CHECK(c.signo == SIGINT && c.code == 128 + SIGINT);
}
#endif

/* ---- error cases --------------------------------------------------- */

static void
test_errors(void)
{
  /* No such program. */
  char missing[4400];
  snprintf(missing, sizeof missing, "%s-missing%s", self, spawn_exe_suffix());
  const char *argv[] = {missing, NULL};
  struct spawn_opts o;
  memset(&o, 0, sizeof o);
  o.argv = argv;
  o.fd_in = o.fd_out = o.fd_err = -1;
  struct spawn_child c;
  errno = 0;
  CHECK(spawn_start(&o, &c) == -1 && errno == ENOENT);
  /* argv[0] holding a quote cannot be written as a command line. */
  const char *q[] = {"C:\\a\"b.exe", NULL};
  errno = 0;
  CHECK(!spawn_win_cmdline(q) && errno == EINVAL);
  const char *none[] = {NULL};
  CHECK(!spawn_win_cmdline(none));
  /* The length limit counts UTF-16 units, not bytes. */
  size_t big = 20000;
  char *wide = malloc(big * 3 + 1); /* 20000 x U+65E5, 60000 bytes */
  char *ascii = malloc(40001);
  if (!wide || !ascii) {
    free(wide);
    free(ascii);
    CHECK(!"out of memory");
    return;
  }
  for (size_t i = 0; i < big; i++)
    memcpy(wide + 3 * i, "\xe6\x97\xa5", 3);
  wide[big * 3] = '\0';
  memset(ascii, 'x', 40000);
  ascii[40000] = '\0';
  const char *w[] = {"x.exe", wide, NULL};
  char *line = spawn_win_cmdline(w);
  CHECK(line != NULL);
  free(line);
  const char *a[] = {"x.exe", ascii, NULL};
  errno = 0;
  CHECK(!spawn_win_cmdline(a) && errno == E2BIG);
  free(wide);
  free(ascii);
}

int
main(int argc, char **argv)
{
#ifdef PLAT_POSIX
  struct sigaction sa0;
  sigpipe_at_start =
      sigaction(SIGPIPE, NULL, &sa0) == 0 && sa0.sa_handler == SIG_DFL;
#endif
  plat_init(&argc, &argv);
  if (argc >= 3 && strcmp(argv[1], "--child") == 0) return child(argc, argv);
  char dir[4096];
  if (spawn_self_dir(argv[0], dir, sizeof dir) != 0) {
    fprintf(stderr, "test_spawn: cannot find myself: %s\n", strerror(errno));
    return 1;
  }
  snprintf(self, sizeof self, "%s/test_spawn%s", dir, spawn_exe_suffix());
  test_quote_table();
  test_quote_roundtrip();
  test_spawn_echo();
  test_env();
  test_stdin();
  test_exit_codes();
  test_wait_and_kill();
  test_wait_signal();
  test_self_dir();
#ifdef PLAT_POSIX
  test_posix_child();
  test_posix_group();
  test_posix_sigint();
#endif
  test_errors();
  return check_result();
}
