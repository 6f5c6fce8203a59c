/*
 * platform_posix.c - start-up and stdio details on POSIX systems.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

void
plat_init(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  /* A reader that goes away must not kill us: write() returns EPIPE and
   * the program stops quietly. */
  signal(SIGPIPE, SIG_IGN);
}

bool
plat_isatty(int fd)
{
  return isatty(fd) == 1;
}

void
plat_pipe_grow(int fd)
{
#ifdef F_SETPIPE_SZ
  (void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
#else
  (void)fd;
#endif
}
