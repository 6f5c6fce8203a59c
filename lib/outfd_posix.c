/*
 * outfd_posix.c - outfd_write_all over write(2) (outfd.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/outfd.h"

#include <errno.h>
#include <unistd.h>

int
outfd_write_all(int fd, const void *buf, size_t n)
{
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}
