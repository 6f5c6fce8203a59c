/*
 * evt_builtin.h - the schemas compiled into etwcat from share/schemas/.
 *
 * The build embeds every .man file of share/schemas (build-aux/bin2c.c);
 * evt_builtin_load() compiles them into the registry at EVT_PRIO_BUILTIN.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ETWCAT_EVT_BUILTIN_H
#define ETWCAT_EVT_BUILTIN_H

#include <stddef.h>

struct evt_builtin_file {
  const char *name;
  const unsigned char *data;
  size_t len;
};

/* Terminated by an entry whose name is NULL. */
extern const struct evt_builtin_file evt_builtin_files[];

struct evt_registry;
/* evt_builtin_load - compile every built-in file; 0, or -1 when one does
 * not compile (a build defect: message on stderr). */
int evt_builtin_load(struct evt_registry *r);

#endif
