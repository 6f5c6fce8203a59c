/*
 * sink_spool.c - spool files and the reject file (see sink_spool.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/sink_spool.h"

#include "lib/log.h"
#include "lib/sink_fs.h"
#include "lib/sink_json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#ifdef PLAT_WINDOWS
#include <io.h>
#define SPOOL_OFLAGS (O_BINARY | O_NOINHERIT)
#else
#include <unistd.h>
#define SPOOL_OFLAGS O_CLOEXEC
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
  struct timespec ts;
  if (timespec_get(&ts, TIME_UTC) != TIME_UTC)
    ts.tv_sec = time(NULL), ts.tv_nsec = 0;
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
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | SPOOL_OFLAGS, 0600);
  if (fd < 0) {
    snprintf(err, errn, "cannot create %s: %s", tmp, strerror(errno));
    return -1;
  }
  if (write_all(fd, b->buf, b->len) != 0 || sink_fs_sync(fd) != 0) {
    int e = errno;
    close(fd);
    remove(tmp);
    snprintf(err, errn, "cannot write %s: %s", tmp, strerror(e));
    return -1;
  }
  if (close(fd) != 0 || rename(tmp, path) != 0) {
    int e = errno;
    remove(tmp);
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

int
sink_spool_list(const char *dir, char ***names, size_t *count)
{
  *names = NULL;
  *count = 0;
  DIR *d = opendir(dir);
  if (!d) return errno == ENOENT ? 0 : -1;
  size_t cap = 0;
  for (;;) {
    struct dirent *e = readdir(d);
    if (!e) break;
    if (!is_spool_name(e->d_name)) continue;
    if (*count == cap) {
      size_t nc = cap ? cap * 2 : 16;
      char **nn = realloc(*names, nc * sizeof *nn);
      if (!nn) goto oom;
      *names = nn;
      cap = nc;
    }
    char *copy = malloc(strlen(e->d_name) + 1);
    if (!copy) goto oom;
    memcpy(copy, e->d_name, strlen(e->d_name) + 1);
    (*names)[(*count)++] = copy;
  }
  closedir(d);
  if (*count) qsort(*names, *count, sizeof **names, cmp_names);
  return 0;
oom:
  closedir(d);
  sink_spool_names_free(*names, *count);
  *names = NULL;
  *count = 0;
  errno = ENOMEM;
  return -1;
}

int
sink_spool_load(const char *path, struct sink_batch *b, char *err, size_t errn)
{
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  if (!is_spool_name(base)) {
    snprintf(err, errn, "%s: not a spool file name", path);
    return -1;
  }
  sink_batch_clear(b);
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errn, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || st.st_size < 0 ||
      (uint64_t)st.st_size > SINK_SPOOL_MAX) {
    fclose(f);
    snprintf(err, errn, "%s: larger than %u MiB or unreadable", path,
             SINK_SPOOL_MAX >> 20);
    return -1;
  }
  size_t size = (size_t)st.st_size;
  if (sink_batch_reserve(b, size + 1) != 0) {
    fclose(f);
    snprintf(err, errn, "%s: out of memory", path);
    return -1;
  }
  size_t got = fread(b->buf, 1, size, f);
  fclose(f);
  if (got != size) {
    snprintf(err, errn, "cannot read %s", path);
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
  return remove(path);
}

int
sink_reject_write(struct sink_reject *r, const char *line, size_t n)
{
  if (!r->path || r->failed) return -1;
  if (r->fd < 0) {
    r->fd = open(r->path, O_WRONLY | O_CREAT | O_APPEND | SPOOL_OFLAGS, 0600);
    if (r->fd < 0 && errno == ENOENT) {
      char dir[4096];
      const char *slash = strrchr(r->path, '/');
      size_t dn = slash ? (size_t)(slash - r->path) : 0;
      if (dn > 0 && dn < sizeof dir) {
        memcpy(dir, r->path, dn);
        dir[dn] = '\0';
        if (sink_fs_mkdirs(dir) == 0)
          r->fd =
              open(r->path, O_WRONLY | O_CREAT | O_APPEND | SPOOL_OFLAGS, 0600);
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
