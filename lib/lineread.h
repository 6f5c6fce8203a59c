/*
 * lineread.h - read newline-terminated lines from a file descriptor fast.
 *
 * Reads in large blocks and hands out each line as a view into its own
 * buffer (valid until the next call); lines longer than the ceiling are
 * reported, skipped and counted, never truncated silently. A final line
 * without '\n' is returned too. Line numbers count from 1. Used by every
 * program that reads NDJSON on stdin.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_LINEREAD_H
#define RTK_LINEREAD_H

#include "lib/platform.h"

#define LR_DEFAULT_MAX (16u << 20) /* 16 MiB per line */

struct lineread {
  int fd;
  char *buf;
  size_t cap, start, end; /* unread bytes are buf[start, end) */
  size_t max_line;
  uint64_t lineno;   /* number of the line returned last */
  uint64_t too_long; /* lines skipped for exceeding max_line */
  bool eof;
  int err; /* errno of a failed read, else 0 */
};

/* lr_init - 0, or -1 on out of memory. max_line 0 = LR_DEFAULT_MAX. */
int lr_init(struct lineread *r, int fd, size_t max_line);
void lr_free(struct lineread *r);

/* lr_next - the next line without its '\n' (and without a '\r' before
 * it): 1 with *line and *len set; 0 at end of input; -1 on a read error
 * (r->err). *line is not NUL-terminated. */
int lr_next(struct lineread *r, const char **line, size_t *len);

/* lr_ready - true when a complete line is already buffered, so a caller
 * that flushes output when input goes idle knows whether it would block.
 */
bool lr_ready(const struct lineread *r);

#endif
