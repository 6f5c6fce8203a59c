/*
 * pglob_posix.c - pglob over glob(3).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/pglob.h"

#include <glob.h>
#include <stdlib.h>
#include <string.h>

bool
pglob_has_wildcard(const char *p)
{
  return strpbrk(p, "*?[") != NULL;
}

static int
add(struct pglob *g, const char *path)
{
  char **np = realloc(g->paths, (g->n + 1) * sizeof *np);
  if (!np) return -1;
  g->paths = np;
  size_t len = strlen(path);
  char *c = malloc(len + 1);
  if (!c) return -1;
  memcpy(c, path, len + 1);
  g->paths[g->n++] = c;
  return 0;
}

int
pglob_expand(struct pglob *g, const char *pattern)
{
  if (!pglob_has_wildcard(pattern)) return add(g, pattern) == 0 ? 1 : -1;
  glob_t gl;
  memset(&gl, 0, sizeof gl);
  int rc = glob(pattern, 0, NULL, &gl);
  if (rc == GLOB_NOMATCH) {
    globfree(&gl);
    return 0;
  }
  if (rc != 0) {
    globfree(&gl);
    return -1;
  }
  int added = 0;
  for (size_t i = 0; i < gl.gl_pathc; i++) {
    if (add(g, gl.gl_pathv[i]) != 0) {
      globfree(&gl);
      return -1;
    }
    added++;
  }
  globfree(&gl);
  return added;
}

void
pglob_free(struct pglob *g)
{
  for (size_t i = 0; i < g->n; i++)
    free(g->paths[i]);
  free(g->paths);
  g->paths = NULL;
  g->n = 0;
}
