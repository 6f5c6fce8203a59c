/*
 * lineread.c - block-buffered line reader (see lineread.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/lineread.h"

#include "lib/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifdef PLAT_WINDOWS
#include <io.h>
#define read _read
#else
#include <unistd.h>
#endif

#define BLOCK (256u << 10)

int
lr_init(struct lineread *r, int fd, size_t max_line)
{
  memset(r, 0, sizeof *r);
  r->fd = fd;
  r->max_line = max_line ? max_line : LR_DEFAULT_MAX;
  r->cap = BLOCK * 4;
  r->buf = malloc(r->cap);
  return r->buf ? 0 : -1;
}

void
lr_free(struct lineread *r)
{
  free(r->buf);
  r->buf = NULL;
}

bool
lr_ready(const struct lineread *r)
{
  return memchr(r->buf + r->start, '\n', r->end - r->start) != NULL;
}

/* Read more bytes; false at EOF or on error. Compacts or grows first. */
static bool
fill(struct lineread *r)
{
  if (r->start > 0 && (r->start == r->end || r->cap - r->end < BLOCK)) {
    memmove(r->buf, r->buf + r->start, r->end - r->start);
    r->end -= r->start;
    r->start = 0;
  }
  if (r->cap - r->end < BLOCK) {
    size_t nc = r->cap * 2;
    char *nb = realloc(r->buf, nc);
    if (!nb) {
      r->err = ENOMEM;
      return false;
    }
    r->buf = nb;
    r->cap = nc;
  }
  for (;;) {
    long n = (long)read(r->fd, r->buf + r->end, r->cap - r->end);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      r->err = errno;
      return false;
    }
    if (n == 0) {
      r->eof = true;
      return false;
    }
    r->end += (size_t)n;
    return true;
  }
}

/* Drop the rest of an over-long line, through its '\n'. */
static int
skip_long(struct lineread *r)
{
  for (;;) {
    char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
    if (nl) {
      r->start = (size_t)(nl - r->buf) + 1;
      return 0;
    }
    r->start = r->end = 0;
    if (!fill(r)) return r->err ? -1 : 0;
  }
}

int
lr_next(struct lineread *r, const char **line, size_t *len)
{
  size_t scanned = 0;
  for (;;) {
    char *p = r->buf + r->start + scanned;
    char *nl = memchr(p, '\n', r->end - r->start - scanned);
    if (nl) {
      size_t n = (size_t)(nl - (r->buf + r->start));
      *line = r->buf + r->start;
      r->start += n + 1;
      if (n && (*line)[n - 1] == '\r') n--;
      *len = n;
      r->lineno++;
      return 1;
    }
    scanned = r->end - r->start;
    if (scanned > r->max_line) {
      r->lineno++;
      r->too_long++;
      log_err("<stdin>:%" PRIu64 ": line longer than %zu bytes skipped",
              r->lineno, r->max_line);
      if (skip_long(r) < 0) return -1;
      scanned = 0;
      continue;
    }
    if (!fill(r)) {
      if (r->err) return -1;
      if (r->end > r->start) { /* last line without '\n' */
        *line = r->buf + r->start;
        *len = r->end - r->start;
        r->start = r->end;
        r->lineno++;
        return 1;
      }
      return 0;
    }
  }
}
