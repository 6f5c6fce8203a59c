/*
 * kql_proc_win.c - the live process table for getprocessname() on
 * Windows: the image path of the process (QueryFullProcessImageNameW,
 * which needs only PROCESS_QUERY_LIMITED_INFORMATION, so it works for
 * most processes without Administrator), reduced as .NET's
 * Process.ProcessName: no directory, no ".exe".
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/winapi.h"

#include <stdlib.h>
#include <string.h>
#include <windows.h>

bool kql_proc_live(int64_t pid, char *out, size_t cap);

/* short_form - the file name of path without a final ".exe", into out. */
static bool
short_form(const char *path, char *out, size_t cap)
{
  const char *s = path;
  for (const char *p = path; *p; p++)
    if (*p == '\\' || *p == '/') s = p + 1;
  size_t n = strlen(s);
  if (n > 4 && _stricmp(s + n - 4, ".exe") == 0) n -= 4;
  if (n == 0 || n >= cap) return false;
  memcpy(out, s, n);
  out[n] = 0;
  return true;
}

bool
kql_proc_live(int64_t pid, char *out, size_t cap)
{
  /* Pid 0 (Idle) and 4 (System) have no image file. */
  if (pid <= 0 || pid > 0xFFFFFFFF || cap < 2) return false;
  HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)pid);
  if (!h) return false;
  DWORD n = 32768; /* the longest path the wide API has */
  wchar_t *wpath = malloc(n * sizeof *wpath);
  BOOL ok = wpath && QueryFullProcessImageNameW(h, 0, wpath, &n);
  CloseHandle(h);
  char *path = ok ? win_utf8(wpath, (long)n) : NULL;
  free(wpath);
  if (!path) return false;
  bool r = short_form(path, out, cap);
  free(path);
  return r;
}
