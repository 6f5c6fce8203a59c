/*
 * sink_fs_win.c - the sinks' file-system calls on Windows (see sink_fs.h).
 *
 * Every name is UTF-8 inside the programs; it becomes UTF-16 (with the
 * \\?\ prefix past MAX_PATH, lib/winapi.h) right before the wide call,
 * so names in any script and long paths work whatever the ANSI code page.
 * Descriptors come from _wopen in binary mode and are not inherited. The
 * default spool base is %LOCALAPPDATA%\RealTimeKql\spool, read as UTF-16
 * too (a user name outside the code page is common).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/sink_fs.h"

#include "lib/winapi.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <windows.h>

/* errno for a Win32 error; returns -1. */
static int
fail_errno(unsigned long err)
{
  errno = win_errno(err);
  return -1;
}

int
sink_fs_open(const char *path, int flags, int mode)
{
  (void)mode; /* only a read-only bit exists; our files are writable */
  wchar_t *w = win_path(path);
  if (!w) return -1;
  int fd = _wopen(w, flags | _O_BINARY | _O_NOINHERIT, _S_IREAD | _S_IWRITE);
  int e = errno;
  free(w);
  errno = e;
  return fd;
}

int
sink_fs_rename(const char *from, const char *to)
{
  wchar_t *wf = win_path(from), *wt = wf ? win_path(to) : NULL;
  BOOL ok = wf && wt && MoveFileExW(wf, wt, MOVEFILE_REPLACE_EXISTING);
  unsigned long err = GetLastError();
  free(wf);
  free(wt);
  if (ok) return 0;
  return !wf || !wt ? -1 : fail_errno(err);
}

int
sink_fs_remove(const char *path)
{
  wchar_t *w = win_path(path);
  if (!w) return -1;
  BOOL ok = DeleteFileW(w);
  unsigned long err = GetLastError();
  free(w);
  return ok ? 0 : fail_errno(err);
}

int
sink_fs_list(const char *dir, int (*fn)(void *ctx, const char *name), void *ctx)
{
  size_t n = strlen(dir);
  char *pat = malloc(n + 3);
  if (!pat) return -1;
  memcpy(pat, dir, n);
  memcpy(pat + n, "\\*", 3);
  wchar_t *w = win_path(pat);
  free(pat);
  if (!w) return -1;
  WIN32_FIND_DATAW fd;
  HANDLE h =
      FindFirstFileExW(w, FindExInfoBasic, &fd, FindExSearchNameMatch, NULL, 0);
  unsigned long err = GetLastError();
  free(w);
  if (h == INVALID_HANDLE_VALUE) return fail_errno(err);
  int r = 0;
  do {
    if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0)
      continue;
    char *name = win_utf8(fd.cFileName, -1);
    if (!name) {
      r = -1;
      break;
    }
    r = fn(ctx, name);
    free(name);
    if (r != 0) break;
  } while (FindNextFileW(h, &fd));
  err = GetLastError();
  FindClose(h);
  if (r == 0 && err != ERROR_NO_MORE_FILES) return fail_errno(err);
  return r;
}

static bool
is_sep(char c)
{
  return c == '/' || c == '\\';
}

const char *
sink_fs_basename(const char *path)
{
  const char *base = path;
  for (const char *p = path; *p; p++)
    if (is_sep(*p)) base = p + 1;
  return base;
}

/* Bytes at the start of p that name no directory to create: "C:" and
 * the "\\server\share" of a UNC path. */
static size_t
root_len(const char *p)
{
  if (p[0] && p[1] == ':') return 2;
  if (!is_sep(p[0]) || !is_sep(p[1])) return 0;
  size_t i = 2;
  for (int part = 0; part < 2; part++) {
    while (p[i] && !is_sep(p[i]))
      i++;
    if (part == 0 && p[i]) i++;
  }
  return i;
}

static int
make_dir(const char *path)
{
  wchar_t *w = win_path(path);
  if (!w) return -1;
  BOOL ok = CreateDirectoryW(w, NULL);
  unsigned long err = GetLastError();
  free(w);
  return ok || err == ERROR_ALREADY_EXISTS ? 0 : fail_errno(err);
}

int
sink_fs_mkdirs(const char *dir)
{
  char path[4096];
  size_t n = strlen(dir);
  if (n == 0 || n >= sizeof path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(path, dir, n + 1);
  for (size_t i = root_len(path) + 1; i <= n; i++) {
    if (!is_sep(path[i]) && path[i] != '\0') continue;
    if (is_sep(path[i - 1])) continue; /* "a//b", or a root's separator */
    char saved = path[i];
    path[i] = '\0';
    int r = make_dir(path);
    path[i] = saved;
    if (r != 0) return -1;
  }
  wchar_t *w = win_path(dir);
  if (!w) return -1;
  DWORD attr = GetFileAttributesW(w);
  unsigned long err = GetLastError();
  free(w);
  if (attr == INVALID_FILE_ATTRIBUTES) return fail_errno(err);
  if (!(attr & FILE_ATTRIBUTE_DIRECTORY)) {
    errno = ENOTDIR;
    return -1;
  }
  return 0;
}

int
sink_fs_sync(int fd)
{
  return _commit(fd);
}

int
sink_fs_syncdir(const char *dir)
{
  (void)dir; /* NTFS renames need no directory flush */
  return 0;
}

int
sink_fs_lock(const char *dir)
{
  char path[4096];
  if (snprintf(path, sizeof path, "%s\\.lock", dir) >= (int)sizeof path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int fd = sink_fs_open(path, O_RDWR | O_CREAT, 0600);
  if (fd < 0) return -1;
  HANDLE h = (HANDLE)_get_osfhandle(fd);
  OVERLAPPED ov;
  memset(&ov, 0, sizeof ov);
  if (!LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1,
                  0, &ov)) {
    _close(fd);
    errno = EWOULDBLOCK;
    return -1;
  }
  return fd;
}

void
sink_fs_unlock(int handle)
{
  if (handle >= 0) _close(handle);
}

/* An environment variable as UTF-8 (malloc'd), or NULL when unset or
 * empty. */
static char *
env_utf8(const wchar_t *name)
{
  const wchar_t *v = _wgetenv(name);
  return v && *v ? win_utf8(v, -1) : NULL;
}

int
sink_fs_default_base(char *out, size_t n)
{
  char *spool = env_utf8(L"RTK_SPOOL_DIR");
  char *local = spool ? NULL : env_utf8(L"LOCALAPPDATA");
  int r = -1;
  if (spool)
    r = snprintf(out, n, "%s", spool);
  else if (local)
    r = snprintf(out, n, "%s\\RealTimeKql\\spool", local);
  free(spool);
  free(local);
  return r > 0 && (size_t)r < n ? 0 : -1;
}

unsigned long
sink_fs_pid(void)
{
  return (unsigned long)GetCurrentProcessId();
}
