/*
 * pglob.h - expand a file pattern the same way on every OS.
 *
 * Programs expand --file patterns themselves because cmd.exe and quoted
 * shell words pass them through unexpanded. A pattern without wildcards
 * is returned as is, so a missing file is reported by whoever opens it.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_PGLOB_H
#define RTK_PGLOB_H

#include "lib/platform.h"

struct pglob {
  char **paths; /* sorted, owned */
  size_t n;
};

/* pglob_expand - append the matches of pattern to g. Returns the number
 * of paths added (0 when a wildcard pattern matches nothing), -1 on out
 * of memory. */
int pglob_expand(struct pglob *g, const char *pattern);
void pglob_free(struct pglob *g);
bool pglob_has_wildcard(const char *pattern);

#endif
