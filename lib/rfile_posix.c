/*
 * rfile_posix.c - rfile over open/pread.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/rfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct rfile {
  int fd; /* -1: reads come from mem */
  const uint8_t *mem;
  uint64_t size;
};

struct rfile *
rfile_open(const char *path)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return NULL;
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    errno = EISDIR;
    return NULL;
  }
  struct rfile *f = malloc(sizeof *f);
  if (!f) {
    close(fd);
    errno = ENOMEM;
    return NULL;
  }
  f->fd = fd;
  f->mem = NULL;
  f->size = (uint64_t)st.st_size;
#ifdef POSIX_FADV_SEQUENTIAL
  (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  return f;
}

struct rfile *
rfile_from_memory(const void *p, size_t n)
{
  struct rfile *f = malloc(sizeof *f);
  if (!f) return NULL;
  f->fd = -1;
  f->mem = p;
  f->size = n;
  return f;
}

void
rfile_close(struct rfile *f)
{
  if (!f) return;
  if (f->fd >= 0) close(f->fd);
  free(f);
}

uint64_t
rfile_size(const struct rfile *f)
{
  return f->size;
}

long long
rfile_pread(struct rfile *f, void *buf, size_t n, uint64_t off)
{
  if (f->fd < 0) {
    if (off >= f->size) return 0;
    size_t avail = (size_t)(f->size - off);
    size_t take = n < avail ? n : avail;
    memcpy(buf, f->mem + off, take);
    return (long long)take;
  }
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(f->fd, (char *)buf + got, n - got, (off_t)(off + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  return (long long)got;
}
