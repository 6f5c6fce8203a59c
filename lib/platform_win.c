/*
 * platform_win.c - start-up and stdio details on Windows (platform.h).
 *
 * plat_init rebuilds argv as UTF-8 from the wide command line, so every
 * program keeps a plain main() and getopt_long sees UTF-8 whatever the
 * ANSI code page is (windows.md section 4.3); puts stdin, stdout and
 * stderr into binary mode, so "\n" is not turned into "\r\n" and .etl
 * bytes arrive unchanged (4.1); makes the console show UTF-8; and turns
 * off the error dialogs, so a crash ends the process with a non-zero
 * status instead of waiting for a click. Ctrl-C keeps its default action
 * (end the process) until a program installs its own handler through
 * lib/signals.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "lib/winapi.h"

#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <shellapi.h>

static UINT saved_cp;

static void
restore_console_cp(void)
{
  if (saved_cp) SetConsoleOutputCP(saved_cp);
}

/* The UTF-8 argv lives until the process ends: one block holding the
 * pointer array and the strings. NULL leaves the caller's argv alone. */
static char **
utf8_argv(int *argc_out)
{
  int argc = 0;
  wchar_t **wargv = CommandLineToArgvW(GetCommandLineW(), &argc);
  if (!wargv || argc <= 0) return NULL;
  char **conv = calloc((size_t)argc, sizeof *conv);
  size_t bytes = ((size_t)argc + 1) * sizeof(char *);
  bool ok = conv;
  for (int i = 0; ok && i < argc; i++) {
    conv[i] = win_utf8(wargv[i], -1);
    ok = conv[i];
    if (ok) bytes += strlen(conv[i]) + 1;
  }
  char **out = ok ? malloc(bytes) : NULL;
  if (out) {
    char *p = (char *)(out + argc + 1);
    for (int i = 0; i < argc; i++) {
      size_t n = strlen(conv[i]) + 1;
      memcpy(p, conv[i], n);
      out[i] = p;
      p += n;
    }
    out[argc] = NULL;
    *argc_out = argc;
  }
  for (int i = 0; conv && i < argc; i++)
    free(conv[i]);
  free(conv);
  LocalFree(wargv);
  return out;
}

void
plat_init(int *argc, char ***argv)
{
  SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX |
               SEM_NOOPENFILEERRORBOX);
  (void)_setmode(_fileno(stdin), _O_BINARY);
  (void)_setmode(_fileno(stdout), _O_BINARY);
  (void)_setmode(_fileno(stderr), _O_BINARY);
  if (plat_isatty(1) || plat_isatty(2)) {
    UINT cp = GetConsoleOutputCP();
    if (cp != CP_UTF8 && SetConsoleOutputCP(CP_UTF8)) {
      saved_cp = cp;
      atexit(restore_console_cp);
    }
  }
  int n = 0;
  char **v = utf8_argv(&n);
  if (v) {
    *argc = n;
    *argv = v;
  }
}

bool
plat_isatty(int fd)
{
  HANDLE h = (HANDLE)_get_osfhandle(fd);
  DWORD mode;
  return h != INVALID_HANDLE_VALUE && GetFileType(h) == FILE_TYPE_CHAR &&
         GetConsoleMode(h, &mode);
}

void
plat_pipe_grow(int fd)
{
  /* A Windows pipe's buffer is fixed when the pipe is created. */
  (void)fd;
}
