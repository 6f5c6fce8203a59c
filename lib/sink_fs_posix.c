/*
 * sink_fs_posix.c - spool file-system calls on POSIX (see sink_fs.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/sink_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int
sink_fs_open(const char *path, int flags, int mode)
{
  return open(path, flags | O_CLOEXEC, mode);
}

int
sink_fs_rename(const char *from, const char *to)
{
  return rename(from, to);
}

int
sink_fs_remove(const char *path)
{
  return unlink(path);
}

int
sink_fs_list(const char *dir, int (*fn)(void *ctx, const char *name), void *ctx)
{
  DIR *d = opendir(dir);
  if (!d) return -1;
  int r = 0;
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (!e) {
      if (errno != 0) r = -1;
      break;
    }
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    r = fn(ctx, e->d_name);
    if (r != 0) break;
  }
  int e = errno;
  closedir(d);
  errno = e;
  return r;
}

const char *
sink_fs_basename(const char *path)
{
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
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
  for (size_t i = 1; i <= n; i++) {
    if (path[i] != '/' && path[i] != '\0') continue;
    char saved = path[i];
    path[i] = '\0';
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
      path[i] = saved;
      return -1;
    }
    path[i] = saved;
  }
  struct stat st;
  if (stat(dir, &st) != 0) return -1;
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return -1;
  }
  return 0;
}

int
sink_fs_sync(int fd)
{
  return fsync(fd);
}

int
sink_fs_syncdir(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int r = fsync(fd);
  close(fd);
  return r;
}

int
sink_fs_lock(const char *dir)
{
  char path[4096];
  if (snprintf(path, sizeof path, "%s/.lock", dir) >= (int)sizeof path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int fd = sink_fs_open(path, O_RDWR | O_CREAT, 0600);
  if (fd < 0) return -1;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

void
sink_fs_unlock(int handle)
{
  if (handle >= 0) close(handle);
}

int
sink_fs_default_base(char *out, size_t n)
{
  const char *spool = getenv("RTK_SPOOL_DIR");
  const char *state = getenv("XDG_STATE_HOME");
  const char *home = getenv("HOME");
  int r;
  if (spool && *spool)
    r = snprintf(out, n, "%s", spool);
  else if (state && *state == '/')
    r = snprintf(out, n, "%s/realtimekql/spool", state);
  else if (home && *home)
    r = snprintf(out, n, "%s/.local/state/realtimekql/spool", home);
  else
    return -1;
  return r > 0 && (size_t)r < n ? 0 : -1;
}

unsigned long
sink_fs_pid(void)
{
  return (unsigned long)getpid();
}
