/*
 * jsink_out.c - jsonsink's writers: console, array file, NDJSON file,
 * rotation (see jsink.h).
 *
 * Rows arrive as a batch of "row\n" lines. Console and NDJSON output is
 * the batch itself, written as it is. The array file gets the batch with
 * each '\n' turned into ',' in place and the last into ']': one write per
 * batch, then the file position steps back over the ']' so the next batch
 * replaces it. Output that cannot seek (a pipe) gets its ']' at the end.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "jsonsink/jsink.h"

#include "lib/log.h"
#include "lib/outfd.h"
#include "lib/sink_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef PLAT_WINDOWS
#include <io.h>
#else
#include <unistd.h>
#endif

int
jsink_stage_reserve(struct jsink *j, size_t n)
{
  if (j->stage_cap - j->stage_len >= n) return 0;
  size_t nc = j->stage_cap ? j->stage_cap : 64 * 1024;
  while (nc - j->stage_len < n) {
    if (nc > SIZE_MAX / 2) return -1;
    nc *= 2;
  }
  char *ns = realloc(j->stage, nc);
  if (!ns) return -1;
  j->stage = ns;
  j->stage_cap = nc;
  return 0;
}

/* Write everything; -1 with errno on failure (EPIPE: the reader has
 * gone, on every OS). */
static int
write_all(int fd, const char *p, size_t n)
{
  return outfd_write_all(fd, p, n);
}

static const char *
out_name(const struct jsink *j)
{
  return j->path && strcmp(j->path, "-") != 0 ? j->path : "<stdout>";
}

/* The name of file number idx: out.json, out.1.json, out.2.json... */
static int
file_name(const struct jsink *j, unsigned idx, char *out, size_t n)
{
  if (idx == 0) return snprintf(out, n, "%s", j->path) < (int)n ? 0 : -1;
  const char *base = sink_fs_basename(j->path);
  const char *dot = strrchr(base, '.');
  if (!dot || dot == base)
    return snprintf(out, n, "%s.%u", j->path, idx) < (int)n ? 0 : -1;
  int stem = (int)(dot - j->path);
  return snprintf(out, n, "%.*s.%u%s", stem, j->path, idx, dot) < (int)n ? 0
                                                                         : -1;
}

static int
open_file(struct jsink *j)
{
  j->file_bytes = 0;
  j->file_rows = 0;
  j->bracket_open = false;
  if (!j->path || strcmp(j->path, "-") == 0) {
    j->fd = 1;
    j->own_fd = false;
  } else {
    char name[4096];
    if (file_name(j, j->file_index, name, sizeof name) != 0) {
      log_err("%s: name too long", j->path);
      return -1;
    }
    j->fd = sink_fs_open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (j->fd < 0) {
      log_err("%s: %s", name, strerror(errno));
      return -1;
    }
    j->own_fd = true;
  }
  struct stat st;
  j->seekable = fstat(j->fd, &st) == 0 && S_ISREG(st.st_mode) &&
                lseek(j->fd, 0, SEEK_CUR) >= 0;
  if (j->mode == JSINK_ARRAY) {
    /* Valid from the start: "[]", positioned to replace the "]". */
    const char *head = j->seekable ? "[]" : "[";
    if (write_all(j->fd, head, strlen(head)) != 0 ||
        (j->seekable && lseek(j->fd, -1, SEEK_CUR) < 0)) {
      log_err("%s: %s", out_name(j), strerror(errno));
      return -1;
    }
    j->file_bytes = 1;
    j->bracket_open = true;
  }
  return 0;
}

/* End the current file: the array's closing bracket, then close. */
static int
close_file(struct jsink *j)
{
  int r = 0;
  if (j->mode == JSINK_ARRAY && j->bracket_open) {
    /* A seekable file already ends in "]"; step over it. */
    if (j->seekable ? lseek(j->fd, 0, SEEK_END) < 0
                    : write_all(j->fd, "]", 1) != 0)
      r = -1;
    j->bracket_open = false;
  }
  if (j->own_fd && j->fd >= 0 && close(j->fd) != 0) r = -1;
  j->fd = -1;
  return r;
}

int
jsink_open(struct jsink *j)
{
  j->fd = -1;
  if (j->mode == JSINK_TABLE) {
    int w = jsink_term_width(1);
    if (w <= 0) {
      const char *c = getenv("COLUMNS");
      w = c ? (int)strtol(c, NULL, 10) : 0;
    }
    j->term_width = w >= 20 && w <= 1000 ? w : 120;
  }
  return open_file(j);
}

static enum sink_status
write_failed(struct jsink *j, struct sink_result *r)
{
  if (errno == EPIPE && !j->own_fd) return SINK_CLOSED;
  snprintf(r->msg, sizeof r->msg, "%s: %s", out_name(j), strerror(errno));
  return SINK_FATAL;
}

/* Write rows [p, p + len) (each ending in '\n', nrows of them) to the
 * current file in the file's format. */
static int
write_rows(struct jsink *j, char *p, size_t len, size_t nrows)
{
  switch (j->mode) {
  case JSINK_CONSOLE:
    if (!j->pretty) return write_all(j->fd, p, len);
    j->stage_len = 0;
    for (size_t off = 0; off < len;) {
      char *nl = memchr(p + off, '\n', len - off);
      size_t n = (size_t)(nl - (p + off));
      if (jsink_pretty(j, p + off, n) != 0) {
        errno = ENOMEM;
        return -1;
      }
      off += n + 1;
    }
    return write_all(j->fd, j->stage, j->stage_len);
  case JSINK_NDJSON:
    return write_all(j->fd, p, len);
  case JSINK_TABLE:
    j->stage_len = 0;
    if (jsink_table_rows(j, p, len, nrows) != 0) {
      errno = ENOMEM;
      return -1;
    }
    return write_all(j->fd, j->stage, j->stage_len);
  case JSINK_ARRAY:
    break;
  }
  /* Array: rows joined by ',' after the '[' or the previous rows. */
  bool first = j->file_rows == 0;
  for (char *q = memchr(p, '\n', len); q;
       q = memchr(q + 1, '\n', (size_t)(p + len - q - 1)))
    *q = ',';
  if (!first && write_all(j->fd, ",", 1) != 0) return -1;
  if (j->seekable) {
    p[len - 1] = ']';
    if (write_all(j->fd, p, len) != 0 || lseek(j->fd, -1, SEEK_CUR) < 0)
      return -1;
  } else if (write_all(j->fd, p, len - 1) != 0) {
    return -1;
  }
  j->file_bytes += len - 1 + !first; /* the "]" is not counted */
  return 0;
}

enum sink_status
jsink_deliver(void *ctx, struct sink_batch *b, struct sink_result *r)
{
  struct jsink *j = ctx;
  if (j->fd < 0) {
    snprintf(r->msg, sizeof r->msg, "%s: not open", out_name(j));
    return SINK_FATAL;
  }
  char *p = b->buf;
  size_t left = b->len, rows_left = b->rows;
  while (left) {
    /* How many rows fit in this file before it must rotate? */
    size_t take = left, nrows = rows_left;
    if (j->rotate_bytes && j->path) {
      size_t off = 0, k = 0;
      while (off < left) {
        char *nl = memchr(p + off, '\n', left - off);
        size_t n = (size_t)(nl - (p + off)) + 1;
        if ((j->file_rows + k > 0) && j->file_bytes + off + n > j->rotate_bytes)
          break;
        off += n;
        k++;
      }
      take = off;
      nrows = k;
    }
    if (take) {
      if (write_rows(j, p, take, nrows) != 0) return write_failed(j, r);
      if (j->mode != JSINK_ARRAY) j->file_bytes += take;
      j->file_rows += nrows;
      p += take;
      left -= take;
      rows_left -= nrows;
    }
    if (left) {
      if (close_file(j) != 0) return write_failed(j, r);
      j->file_index++;
      if (open_file(j) != 0) {
        snprintf(r->msg, sizeof r->msg, "%s: cannot open the next file",
                 out_name(j));
        return SINK_FATAL;
      }
    }
  }
  return SINK_OK;
}

int
jsink_finish(void *ctx)
{
  struct jsink *j = ctx;
  int r = 0;
  if (j->fd >= 0 && close_file(j) != 0) {
    log_err("%s: %s", out_name(j), strerror(errno));
    r = -1;
  }
  jsink_table_free(j);
  free(j->stage);
  j->stage = NULL;
  return r;
}
