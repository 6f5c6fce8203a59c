/*
 * kql_proc_posix.c - the live process table for getprocessname() on
 * POSIX systems: /proc/<pid>/comm (Linux; at most 15 characters).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include <stdio.h>
#include <string.h>

bool kql_proc_live(int64_t pid, char *out, size_t cap);

bool
kql_proc_live(int64_t pid, char *out, size_t cap)
{
  char path[64];
  if (pid < 0 || cap < 2) return false;
  snprintf(path, sizeof path, "/proc/%lld/comm", (long long)pid);
  FILE *f = fopen(path, "r");
  if (!f) return false;
  size_t n = fread(out, 1, cap - 1, f);
  fclose(f);
  while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
    n--;
  out[n] = 0;
  return n > 0;
}
