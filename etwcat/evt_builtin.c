/*
 * evt_builtin.c - load the schemas compiled into etwcat.
 *
 * The build embeds every .man file of share/schemas/ as evt_builtin_files[]
 * (build-aux/bin2c.c); this file compiles each with evt_manifest.c at
 * EVT_PRIO_BUILTIN, so in-trace and user manifests override them. A file
 * that does not compile is a build defect: it is reported and loading
 * stops, so tests catch it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "etwcat/evt_builtin.h"
#include "etwcat/evt_manifest.h"
#include "etwcat/evt_registry.h"
#include "lib/log.h"

int
evt_builtin_load(struct evt_registry *r)
{
  char err[256];
  for (const struct evt_builtin_file *f = evt_builtin_files; f->name; f++) {
    if (evt_manifest_load(r, (const char *)f->data, f->len, f->name,
                          EVT_PRIO_BUILTIN, err, sizeof err) < 0) {
      log_err("built-in schema %s", err);
      return -1;
    }
  }
  return 0;
}
