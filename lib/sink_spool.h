/*
 * sink_spool.h - batches that could not be delivered, kept on disk.
 *
 * A spool directory holds one file per batch, named
 * batch-<UTC time>-<pid>-<seq>-<batch id>.ndjson, so names sort oldest
 * first and the batch keeps its id (and so its blob name) when it is
 * replayed. The content is the batch's rows, NDJSON. Files are written to
 * a temporary name, flushed to disk and renamed, so a crash never leaves
 * half a batch under a spool name. Bad input lines go to a reject file
 * (sink_reject_*), raw, one per line, appended.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_SINK_SPOOL_H
#define RTK_SINK_SPOOL_H

#include "lib/platform.h"
#include "lib/sink.h"

/* The largest spool file replayed; bigger ones are left alone. */
#define SINK_SPOOL_MAX (1024u << 20)

/*
 * sink_spool_write - store b's rows as a new spool file in dir (made if
 * missing). 0 with the file's path in path[0, n); or -1 with the reason
 * in err[0, errn).
 */
int sink_spool_write(const char *dir, const struct sink_batch *b, char *path,
                     size_t n, char *err, size_t errn);

/*
 * sink_spool_list - the spool file names (not paths) in dir, oldest first,
 * as a malloc'd array of malloc'd strings (free with sink_spool_names_free).
 * A missing directory is an empty list. 0, or -1 with errno.
 */
int sink_spool_list(const char *dir, char ***names, size_t *count);
void sink_spool_names_free(char **names, size_t count);

/*
 * sink_spool_load - read a spool file into b (emptied first): rows, row
 * count, and the id from the file name; b->spool_path is set to a copy of
 * path. 0, or -1 with the reason in err.
 */
int sink_spool_load(const char *path, struct sink_batch *b, char *err,
                    size_t errn);

/* sink_spool_remove - delete a delivered spool file; 0 or -1. */
int sink_spool_remove(const char *path);

/* The reject file: opened on first use, appended to, closed at the end. */
struct sink_reject {
  const char *path;
  int fd;
  bool failed; /* opening or writing failed once: reported, not retried */
};

/* sink_reject_write - append line + '\n'; 0, or -1 (reported once). */
int sink_reject_write(struct sink_reject *r, const char *line, size_t n);
void sink_reject_close(struct sink_reject *r);

#endif
