/*
 * winapi_win.c - UTF-8/UTF-16 at the Windows API boundary, long paths,
 * Win32 error codes (see winapi.h).
 *
 * The conversions go through MultiByteToWideChar/WideCharToMultiByte with
 * CP_UTF8 and no MB_ERR_INVALID_CHARS, so bad input is replaced rather
 * than refused (Vista and later replace with U+FFFD). windows.md section 4
 * lists what was checked under Wine.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/winapi.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>

wchar_t *
win_wide(const char *s)
{
  size_t len = strlen(s);
  if (len >= INT_MAX / 2) {
    errno = ENOMEM;
    return NULL;
  }
  /* One UTF-16 unit per UTF-8 byte at most, plus the NUL. */
  wchar_t *w = malloc((len + 1) * sizeof *w);
  if (!w) {
    errno = ENOMEM;
    return NULL;
  }
  int n = 0;
  if (len > 0) {
    n = MultiByteToWideChar(CP_UTF8, 0, s, (int)len, w, (int)len);
    if (n <= 0) {
      free(w);
      errno = EILSEQ;
      return NULL;
    }
  }
  w[n] = 0;
  return w;
}

char *
win_utf8(const wchar_t *w, long n)
{
  size_t units = n < 0 ? wcslen(w) : (size_t)n;
  if (units >= INT_MAX / 3) {
    errno = ENOMEM;
    return NULL;
  }
  /* At most 3 bytes per unit (a surrogate pair: 4 bytes for 2 units). */
  char *s = malloc(units * 3 + 1);
  if (!s) {
    errno = ENOMEM;
    return NULL;
  }
  int got = 0;
  if (units > 0) {
    got = WideCharToMultiByte(CP_UTF8, 0, w, (int)units, s, (int)units * 3,
                              NULL, NULL);
    if (got <= 0) {
      free(s);
      errno = EILSEQ;
      return NULL;
    }
  }
  s[got] = 0;
  return s;
}

static bool
has_prefix(const wchar_t *w, const wchar_t *p)
{
  return wcsncmp(w, p, wcslen(p)) == 0;
}

wchar_t *
win_path(const char *path)
{
  wchar_t *w = win_wide(path);
  if (!w || has_prefix(w, L"\\\\?\\")) return w;
  DWORD need = GetFullPathNameW(w, 0, NULL, NULL);
  if (need == 0) {
    /* Let the API call that follows report the problem. */
    return w;
  }
  /* Short enough for every API as it is (directories need 12 fewer). */
  if (need < MAX_PATH - 12) return w;
  wchar_t *full = malloc((size_t)need * sizeof *full);
  if (!full) {
    free(w);
    errno = ENOMEM;
    return NULL;
  }
  DWORD got = GetFullPathNameW(w, need, full, NULL);
  free(w);
  if (got == 0 || got >= need) {
    free(full);
    errno = ENOENT;
    return NULL;
  }
  /* GetFullPathNameW has already turned '/' into '\' and resolved "."
   * and ".."; \\?\ paths are passed on without that processing. */
  bool unc = has_prefix(full, L"\\\\");
  const wchar_t *pre = unc ? L"\\\\?\\UNC\\" : L"\\\\?\\";
  const wchar_t *rest = unc ? full + 2 : full;
  size_t plen = wcslen(pre), rlen = wcslen(rest);
  wchar_t *out = malloc((plen + rlen + 1) * sizeof *out);
  if (!out) {
    free(full);
    errno = ENOMEM;
    return NULL;
  }
  memcpy(out, pre, plen * sizeof *out);
  memcpy(out + plen, rest, (rlen + 1) * sizeof *out);
  free(full);
  return out;
}

int
win_errno(unsigned long err)
{
  switch (err) {
  case ERROR_FILE_NOT_FOUND:
  case ERROR_PATH_NOT_FOUND:
  case ERROR_INVALID_NAME:
  case ERROR_INVALID_DRIVE:
  case ERROR_BAD_NETPATH:
  case ERROR_BAD_NET_NAME:
  case ERROR_BAD_PATHNAME:
    return ENOENT;
  case ERROR_ACCESS_DENIED:
  case ERROR_SHARING_VIOLATION:
  case ERROR_LOCK_VIOLATION:
  case ERROR_PRIVILEGE_NOT_HELD:
    return EACCES;
  case ERROR_NOT_ENOUGH_MEMORY:
  case ERROR_OUTOFMEMORY:
  case ERROR_NO_SYSTEM_RESOURCES:
    return ENOMEM;
  case ERROR_INVALID_HANDLE:
    return EBADF;
  case ERROR_BROKEN_PIPE:
  case ERROR_NO_DATA:
  case ERROR_PIPE_NOT_CONNECTED:
    return EPIPE;
  case ERROR_FILENAME_EXCED_RANGE:
    return ENAMETOOLONG;
  case ERROR_DIRECTORY:
    return ENOTDIR;
  case ERROR_ALREADY_EXISTS:
  case ERROR_FILE_EXISTS:
    return EEXIST;
  case ERROR_DISK_FULL:
  case ERROR_HANDLE_DISK_FULL:
    return ENOSPC;
  case ERROR_INVALID_PARAMETER:
    return EINVAL;
  case ERROR_OPERATION_ABORTED:
    return EINTR;
  default:
    return EIO;
  }
}

const char *
win_strerror(unsigned long err, char *buf, size_t n)
{
  wchar_t w[512];
  if (n == 0) return buf;
  DWORD len =
      FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                     NULL, (DWORD)err, 0, w, sizeof w / sizeof w[0], NULL);
  while (len > 0 && (w[len - 1] == L'\r' || w[len - 1] == L'\n' ||
                     w[len - 1] == L' ' || w[len - 1] == L'.'))
    len--;
  char *s = len > 0 ? win_utf8(w, (long)len) : NULL;
  if (s)
    snprintf(buf, n, "%s", s);
  else
    snprintf(buf, n, "error %lu", err);
  free(s);
  return buf;
}

bool
win_under_wine(void)
{
  HMODULE nt = GetModuleHandleW(L"ntdll.dll");
  return nt && GetProcAddress(nt, "wine_get_version");
}

void *
win_stop_event(unsigned long pid)
{
  char name[64];
  snprintf(name, sizeof name, "Local\\RealTimeKql-stop-%lu", pid);
  wchar_t *w = win_wide(name);
  HANDLE h = w ? CreateEventW(NULL, FALSE, FALSE, w) : NULL;
  free(w);
  return h;
}
