/*
 * outfd_win.c - outfd_write_all over WriteFile (outfd.h).
 *
 * WriteFile on the descriptor's handle, so that a reader that has gone
 * (ERROR_NO_DATA on a CreatePipe pipe, ERROR_PIPE_NOT_CONNECTED on a Wine
 * Unix pipe, ERROR_BROKEN_PIPE) reads as EPIPE, as on POSIX. The
 * descriptor must be in binary mode (plat_init sets stdout so): bytes go
 * out unchanged, bypassing the C runtime's buffers.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/outfd.h"

#include "lib/winapi.h"

#include <errno.h>
#include <io.h>
#include <windows.h>

/* Largest single WriteFile: its length is a DWORD. */
#define OUTFD_CHUNK (1u << 30)

int
outfd_write_all(int fd, const void *buf, size_t n)
{
  HANDLE h = (HANDLE)_get_osfhandle(fd);
  if (h == INVALID_HANDLE_VALUE) {
    errno = EBADF;
    return -1;
  }
  const char *p = buf;
  while (n > 0) {
    DWORD want = n < OUTFD_CHUNK ? (DWORD)n : OUTFD_CHUNK;
    DWORD done = 0;
    if (!WriteFile(h, p, want, &done, NULL)) {
      errno = win_errno(GetLastError());
      return -1;
    }
    if (done == 0) {
      errno = EIO;
      return -1;
    }
    p += done;
    n -= done;
  }
  return 0;
}
