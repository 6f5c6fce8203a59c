/*
 * jsink_term_win.c - console width on Windows (see jsink.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "jsonsink/jsink.h"

#include <io.h>
#include <windows.h>

int
jsink_term_width(int fd)
{
  CONSOLE_SCREEN_BUFFER_INFO info;
  HANDLE h = (HANDLE)_get_osfhandle(fd);
  if (h != INVALID_HANDLE_VALUE && GetConsoleScreenBufferInfo(h, &info))
    return info.srWindow.Right - info.srWindow.Left + 1;
  return 0;
}
