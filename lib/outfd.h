/*
 * outfd.h - write a whole buffer to a file descriptor, the same on every
 * OS.
 *
 * Filters write their output in large blocks straight to fd 1. When the
 * reader of a pipe has gone, this reports EPIPE on every OS: POSIX says
 * so itself (SIGPIPE is ignored, plat_init), while on Windows msvcrt's
 * _write reports EINVAL for ERROR_NO_DATA and ERROR_PIPE_NOT_CONNECTED
 * (windows.md section 4.5), so the Windows twin calls WriteFile and maps
 * the error itself. POSIX: lib/outfd_posix.c; Windows: lib/outfd_win.c.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_OUTFD_H
#define RTK_OUTFD_H

#include "lib/platform.h"

/* outfd_write_all - write n bytes of buf to fd, retrying short writes and
 * interruptions. 0, or -1 with errno set (EPIPE: the reader has gone). */
int outfd_write_all(int fd, const void *buf, size_t n);

#endif
