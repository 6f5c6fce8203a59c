/*
 * jsink_term_posix.c - terminal width on POSIX (see jsink.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "jsonsink/jsink.h"

#include <sys/ioctl.h>
#include <unistd.h>

int
jsink_term_width(int fd)
{
#ifdef TIOCGWINSZ
  struct winsize ws;
  if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
#else
  (void)fd;
#endif
  return 0;
}
