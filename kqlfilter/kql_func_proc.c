/*
 * kql_func_proc.c - getprocessname(pid): the process image name.
 *
 * The original tool asked the live machine, which means nothing for a
 * trace recorded elsewhere. Here the answer comes first from process
 * events that passed through the stream (Kernel-Process ProcessStart
 * and rundown: ProcessID + ImageName; kernel Process events: ProcessId
 * + ImageFileName), then, with --live only, from the local process table
 * (kql_proc_live, per platform), else "". Names are reduced as .NET's
 * Process.ProcessName gives them: no directory, no ".exe". kql.md
 * section 7.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct pident {
  int64_t pid;
  char *name; /* NULL: empty slot */
};

struct kql_pidmap {
  struct pident *tab;
  uint32_t cap, n;
};

bool kql_proc_live(int64_t pid, char *out, size_t cap);

static uint32_t
pid_hash(int64_t pid)
{
  uint64_t h = (uint64_t)pid * 0x9E3779B97F4A7C15ULL;
  return (uint32_t)(h >> 32);
}

static void
map_put(struct kql_run *run, int64_t pid, const char *name, size_t n)
{
  struct kql_pidmap *m = run->pids;
  if (!m) {
    m = run->pids = kql_xcalloc(1, sizeof *m);
  }
  if ((m->n + 1) * 2 > m->cap) {
    uint32_t cap = m->cap ? m->cap * 2 : 256;
    struct pident *tab = kql_xcalloc(cap, sizeof *tab);
    for (uint32_t i = 0; i < m->cap; i++) {
      if (!m->tab[i].name) continue;
      uint32_t k = pid_hash(m->tab[i].pid) & (cap - 1);
      while (tab[k].name)
        k = (k + 1) & (cap - 1);
      tab[k] = m->tab[i];
    }
    free(m->tab);
    m->tab = tab;
    m->cap = cap;
  }
  uint32_t k = pid_hash(pid) & (m->cap - 1);
  while (m->tab[k].name && m->tab[k].pid != pid)
    k = (k + 1) & (m->cap - 1);
  if (m->tab[k].name)
    free(m->tab[k].name);
  else
    m->n++;
  m->tab[k].pid = pid;
  m->tab[k].name = kql_xmalloc(n + 1);
  memcpy(m->tab[k].name, name, n);
  m->tab[k].name[n] = 0;
}

static const char *
map_get(struct kql_run *run, int64_t pid)
{
  struct kql_pidmap *m = run->pids;
  if (!m || !m->cap) return NULL;
  uint32_t k = pid_hash(pid) & (m->cap - 1);
  while (m->tab[k].name) {
    if (m->tab[k].pid == pid) return m->tab[k].name;
    k = (k + 1) & (m->cap - 1);
  }
  return NULL;
}

/* "\Device\HarddiskVolume2\Windows\System32\svchost.exe" -> "svchost" */
static void
short_name(const char *s, size_t n, const char **out, size_t *outn)
{
  size_t b = 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] == '\\' || s[i] == '/') b = i + 1;
  size_t e = n;
  if (e - b > 4 && s[e - 4] == '.' && tolower((unsigned char)s[e - 3]) == 'e' &&
      tolower((unsigned char)s[e - 2]) == 'x' &&
      tolower((unsigned char)s[e - 1]) == 'e')
    e -= 4;
  *out = s + b;
  *outn = e - b;
}

static bool
contains(const char *s, size_t n, const char *w)
{
  size_t wn = strlen(w);
  for (size_t i = 0; i + wn <= n; i++)
    if (s[i] == w[0] && !memcmp(s + i, w, wn)) return true;
  return false;
}

void
kql_proc_learn(struct kql_run *run, const char *line, size_t n)
{
  if (!contains(line, n, "\"ImageName\"") &&
      !contains(line, n, "\"ImageFileName\""))
    return;
  struct kql_arena a;
  kql_arena_init_small(&a, 4096);
  struct kql_val row, ed, pidv, namev;
  if (!kql_json_parse_text(&a, line, n, &row) ||
      !kql_dyn_member(&a, &row, "EventData", 9, &ed)) {
    kql_arena_free(&a);
    return;
  }
  bool havepid = kql_dyn_member(&a, &ed, "ProcessID", 9, &pidv) ||
                 kql_dyn_member(&a, &ed, "ProcessId", 9, &pidv);
  bool havename = kql_dyn_member(&a, &ed, "ImageName", 9, &namev) ||
                  kql_dyn_member(&a, &ed, "ImageFileName", 13, &namev);
  int64_t pid;
  if (havepid && havename && kql_get_long(&pidv, &pid) && !namev.null &&
      namev.t == KQL_T_STRING && namev.n) {
    const char *s;
    size_t sn;
    short_name(namev.u.s, namev.n, &s, &sn);
    if (sn) map_put(run, pid, s, sn);
  }
  kql_arena_free(&a);
}

struct kql_val
kql_proc_name(struct kql_run *run, struct kql_arena *a, int64_t pid)
{
  const char *s = map_get(run, pid);
  if (s) return kql_v_str(s, strlen(s));
  char buf[256];
  if (run->live && kql_proc_live(pid, buf, sizeof buf)) {
    size_t n = strlen(buf);
    return kql_v_str(kql_memdup(a, buf, n), n);
  }
  return kql_v_str("", 0);
}

void
kql_proc_free(struct kql_run *run)
{
  struct kql_pidmap *m = run->pids;
  if (!m) return;
  for (uint32_t i = 0; i < m->cap; i++)
    free(m->tab[i].name);
  free(m->tab);
  free(m);
  run->pids = NULL;
}
