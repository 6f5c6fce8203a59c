/*
 * sink_fs_win.c - spool file-system calls on Windows (see sink_fs.h).
 *
 * Not built or run on the Linux machines; keep it small.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/sink_fs.h"

#include <direct.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <windows.h>

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
  for (size_t i = 1; i <= n; i++) {
    if (path[i] != '/' && path[i] != '\\' && path[i] != '\0') continue;
    if (i == 2 && path[1] == ':')
      continue; /* "C:" is not a directory to make */
    char saved = path[i];
    path[i] = '\0';
    if (_mkdir(path) != 0 && errno != EEXIST) {
      path[i] = saved;
      return -1;
    }
    path[i] = saved;
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
  int fd = _open(path, _O_RDWR | _O_CREAT | _O_BINARY | _O_NOINHERIT,
                 _S_IREAD | _S_IWRITE);
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

int
sink_fs_default_base(char *out, size_t n)
{
  const char *spool = getenv("RTK_SPOOL_DIR");
  const char *local = getenv("LOCALAPPDATA");
  int r;
  if (spool && *spool)
    r = snprintf(out, n, "%s", spool);
  else if (local && *local)
    r = snprintf(out, n, "%s\\RealTimeKql\\spool", local);
  else
    return -1;
  return r > 0 && (size_t)r < n ? 0 : -1;
}

unsigned long
sink_fs_pid(void)
{
  return (unsigned long)GetCurrentProcessId();
}
