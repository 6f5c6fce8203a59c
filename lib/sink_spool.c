/*
 * sink_spool.c - spool files and the reject file (see sink_spool.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/sink_spool.h"

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/sink_fs.h"
#include "lib/sink_json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef PLAT_WINDOWS
#include <io.h>
#else
#include <unistd.h>
#endif

#define PREFIX "batch-"
#define SUFFIX ".ndjson"

static atomic_uint seq;

/* y-m-d from days since 1970-01-01 (proleptic Gregorian). */
static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int
write_all(int fd, const char *p, size_t n)
{
  while (n) {
    size_t chunk = n > (1u << 30) ? (1u << 30) : n;
    long w = (long)write(fd, p, (unsigned)chunk);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int
sink_spool_write(const char *dir, const struct sink_batch *b, char *path,
                 size_t n, char *err, size_t errn)
{
  if (sink_fs_mkdirs(dir) != 0) {
    snprintf(err, errn, "cannot create spool directory %s: %s", dir,
             strerror(errno));
    return -1;
  }
  struct timespec ts = clock_wall();
  int64_t secs = (int64_t)ts.tv_sec;
  int y, mo, d;
  civil_from_days(secs / 86400, &y, &mo, &d);
  int64_t sod = secs % 86400;
  unsigned s = atomic_fetch_add(&seq, 1);
  char name[256];
  int r =
      snprintf(name, sizeof name,
               PREFIX "%04d%02d%02dT%02d%02d%02d%03dZ-%lu-%06u-%s" SUFFIX, y,
               mo, d, (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60),
               (int)(ts.tv_nsec / 1000000), sink_fs_pid(), s % 1000000, b->id);
  char tmp[4096];
  int rt = snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
  r = r < 0 || (size_t)r >= sizeof name ? -1
                                        : snprintf(path, n, "%s/%s", dir, name);
  if (r < 0 || (size_t)r >= n || rt < 0 || (size_t)rt >= sizeof tmp) {
    snprintf(err, errn, "spool path too long");
    return -1;
  }
  int fd = sink_fs_open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    snprintf(err, errn, "cannot create %s: %s", tmp, strerror(errno));
    return -1;
  }
  if (write_all(fd, b->buf, b->len) != 0 || sink_fs_sync(fd) != 0) {
    int e = errno;
    close(fd);
    sink_fs_remove(tmp);
    snprintf(err, errn, "cannot write %s: %s", tmp, strerror(e));
    return -1;
  }
  if (close(fd) != 0 || sink_fs_rename(tmp, path) != 0) {
    int e = errno;
    sink_fs_remove(tmp);
    snprintf(err, errn, "cannot store %s: %s", path, strerror(e));
    return -1;
  }
  (void)sink_fs_syncdir(dir);
  return 0;
}

static bool
is_spool_name(const char *s)
{
  size_t n = strlen(s);
  size_t pre = sizeof PREFIX - 1, suf = sizeof SUFFIX - 1;
  if (n < pre + SINK_ID_LEN + 1 + suf || strncmp(s, PREFIX, pre) != 0 ||
      strcmp(s + n - suf, SUFFIX) != 0)
    return false;
  const char *id = s + n - suf - SINK_ID_LEN;
  if (id[-1] != '-') return false;
  for (size_t i = 0; i < SINK_ID_LEN; i++)
    if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
      return false;
  return true;
}

static int
cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void
sink_spool_names_free(char **names, size_t count)
{
  for (size_t i = 0; i < count; i++)
    free(names[i]);
  free(names);
}

struct name_list {
  char **names;
  size_t count, cap;
};

/* sink_fs_list callback: keep spool names; 1 when out of memory. */
static int
add_name(void *ctx, const char *name)
{
  struct name_list *l = ctx;
  if (!is_spool_name(name)) return 0;
  if (l->count == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 16;
    char **nn = realloc(l->names, nc * sizeof *nn);
    if (!nn) return 1;
    l->names = nn;
    l->cap = nc;
  }
  size_t n = strlen(name) + 1;
  char *copy = malloc(n);
  if (!copy) return 1;
  memcpy(copy, name, n);
  l->names[l->count++] = copy;
  return 0;
}

int
sink_spool_list(const char *dir, char ***names, size_t *count)
{
  struct name_list l = {NULL, 0, 0};
  *names = NULL;
  *count = 0;
  int r = sink_fs_list(dir, add_name, &l);
  if (r != 0) {
    int e = r > 0 ? ENOMEM : errno;
    sink_spool_names_free(l.names, l.count);
    if (r < 0 && e == ENOENT) return 0;
    errno = e;
    return -1;
  }
  if (l.count) qsort(l.names, l.count, sizeof *l.names, cmp_names);
  *names = l.names;
  *count = l.count;
  return 0;
}

int
sink_spool_load(const char *path, struct sink_batch *b, char *err, size_t errn)
{
  const char *base = sink_fs_basename(path);
  if (!is_spool_name(base)) {
    snprintf(err, errn, "%s: not a spool file name", path);
    return -1;
  }
  sink_batch_clear(b);
  int fd = sink_fs_open(path, O_RDONLY, 0);
  if (fd < 0) {
    snprintf(err, errn, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  /* Read to the end rather than trust a size: fstat's st_size is 32-bit
   * in msvcrt. One byte past the limit tells a file that is too big. */
  size_t size = 0;
  const char *problem = NULL;
  for (;;) {
    if (size > SINK_SPOOL_MAX) {
      problem = "too large";
      break;
    }
    if (b->cap - size < 65536 + 1 && sink_batch_reserve(b, size + 65536 + 1)) {
      problem = "out of memory";
      break;
    }
    size_t want = b->cap - size - 1;
    long got = (long)read(fd, b->buf + size,
                          (unsigned)(want < (1u << 30) ? want : (1u << 30)));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      problem = strerror(errno);
      break;
    }
    if (got == 0) break;
    size += (size_t)got;
  }
  close(fd);
  if (problem) {
    if (size > SINK_SPOOL_MAX)
      snprintf(err, errn, "%s: larger than %u MiB", path, SINK_SPOOL_MAX >> 20);
    else
      snprintf(err, errn, "cannot read %s: %s", path, problem);
    return -1;
  }
  b->len = size;
  if (size && b->buf[size - 1] != '\n') b->buf[b->len++] = '\n';
  /* Check every row again: a damaged file must not reach the peer. */
  size_t rows = 0, off = 0;
  while (off < b->len) {
    char *nl = memchr(b->buf + off, '\n', b->len - off);
    size_t len = (size_t)(nl - (b->buf + off)), s, e;
    const char *why;
    if (sink_json_object(b->buf + off, len, &s, &e, &why) != 0) {
      snprintf(err, errn, "%s: row %zu: %s", path, rows + 1, why);
      b->len = 0;
      return -1;
    }
    rows++;
    off += len + 1;
  }
  b->rows = rows;
  memcpy(b->id, base + strlen(base) - (sizeof SUFFIX - 1) - SINK_ID_LEN,
         SINK_ID_LEN);
  b->id[SINK_ID_LEN] = '\0';
  b->spool_path = malloc(strlen(path) + 1);
  if (!b->spool_path) {
    snprintf(err, errn, "%s: out of memory", path);
    return -1;
  }
  memcpy(b->spool_path, path, strlen(path) + 1);
  return 0;
}

int
sink_spool_remove(const char *path)
{
  return sink_fs_remove(path);
}

int
sink_reject_write(struct sink_reject *r, const char *line, size_t n)
{
  if (!r->path || r->failed) return -1;
  if (r->fd < 0) {
    r->fd = sink_fs_open(r->path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (r->fd < 0 && errno == ENOENT) {
      char dir[4096];
      /* The directory: up to the separator before the base name. */
      size_t dn = (size_t)(sink_fs_basename(r->path) - r->path);
      dn = dn > 0 ? dn - 1 : 0;
      if (dn > 0 && dn < sizeof dir) {
        memcpy(dir, r->path, dn);
        dir[dn] = '\0';
        if (sink_fs_mkdirs(dir) == 0)
          r->fd = sink_fs_open(r->path, O_WRONLY | O_CREAT | O_APPEND, 0600);
      }
    }
    if (r->fd < 0) {
      log_err("cannot open reject file %s: %s", r->path, strerror(errno));
      r->failed = true;
      return -1;
    }
  }
  if (write_all(r->fd, line, n) != 0 || write_all(r->fd, "\n", 1) != 0) {
    log_err("cannot write reject file %s: %s", r->path, strerror(errno));
    r->failed = true;
    return -1;
  }
  return 0;
}

void
sink_reject_close(struct sink_reject *r)
{
  if (r->fd >= 0) close(r->fd);
  r->fd = -1;
}
