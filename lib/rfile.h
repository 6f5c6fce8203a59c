/*
 * rfile.h - positional reads from a file, the same on every OS.
 *
 * The .etl reader needs random access (buffers are visited out of file
 * order when traces are merged) without mapping whole files: peak memory
 * must not grow with the file. rfile_pread returns the bytes read (short
 * only at end of file) or -1 with errno set.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_RFILE_H
#define RTK_RFILE_H

#include "lib/platform.h"

struct rfile;

/* rfile_open - NULL with errno set on failure; refuses directories. */
struct rfile *rfile_open(const char *path);
/* rfile_from_memory - an rfile over n bytes the caller keeps alive (tests
 * and fuzzers feed in-memory traces through the same reader). */
struct rfile *rfile_from_memory(const void *p, size_t n);
void rfile_close(struct rfile *f);
uint64_t rfile_size(const struct rfile *f);
long long rfile_pread(struct rfile *f, void *buf, size_t n, uint64_t off);

#endif
