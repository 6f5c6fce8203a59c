/*
 * rtk_stages.c - one command line per stage: the only place that knows
 * the options of etwcat, kqlfilter, jsonsink, blobsink and adxsink.
 *
 * Each build_* function below turns the launcher's arguments into one
 * program's argv and environment changes; when a program's options
 * change, its function is the one to edit (share/man/<prog>.1.md).
 * Secrets never go into an argv: the storage connection string reaches
 * blobsink as RTK_BLOB_CONNECTION_STRING and the ADX key reaches adxsink
 * as RTK_ADX_KEY, both documented by those programs. Every other stage
 * gets an environment without them (least privilege: a child's
 * environment is readable to its user through /proc).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "RealTimeKql/rtk.h"
#include "lib/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define ENV_BLOB "RTK_BLOB_CONNECTION_STRING"
#define ENV_ADX "RTK_ADX_KEY"

/* Append a borrowed argument. */
static int
arg(struct rtk_stage *s, const char *a)
{
  if (s->nargs == RTK_STAGE_ARGS) return -1;
  s->argv[s->nargs++] = a;
  s->argv[s->nargs] = NULL;
  return 0;
}

static char *vfmt(const char *fmt, va_list ap) PLAT_PRINTF(1, 0);

static char *
vfmt(const char *fmt, va_list ap)
{
  va_list cp;
  va_copy(cp, ap);
  int n = vsnprintf(NULL, 0, fmt, cp);
  va_end(cp);
  if (n < 0) return NULL;
  char *p = malloc((size_t)n + 1);
  if (p) vsnprintf(p, (size_t)n + 1, fmt, ap);
  return p;
}

/* Append a formatted argument the stage owns. */
static int argf(struct rtk_stage *s, const char *fmt, ...) LOG_PRINTF(2, 3);

static int
argf(struct rtk_stage *s, const char *fmt, ...)
{
  if (s->nown == RTK_STAGE_ARGS) return -1;
  va_list ap;
  va_start(ap, fmt);
  char *p = vfmt(fmt, ap);
  va_end(ap);
  if (!p) return -1;
  s->own[s->nown++] = p;
  return arg(s, p);
}

/* An environment change: "NAME=value" sets, "NAME" removes. */
static int
env(struct rtk_stage *s, const char *name, const char *value)
{
  if (s->nenv == RTK_STAGE_ENV) return -1;
  size_t n = strlen(name), v = value ? strlen(value) : 0;
  char *p = malloc(n + (value ? v + 1 : 0) + 1);
  if (!p) return -1;
  memcpy(p, name, n);
  if (value) {
    p[n] = '=';
    memcpy(p + n + 1, value, v);
    n += v + 1;
  }
  p[n] = '\0';
  s->env[s->nenv++] = p;
  s->env[s->nenv] = NULL;
  return 0;
}

/* Start a stage: its program's full path as argv[0]. */
static int
begin(struct rtk_stage *s, enum rtk_kind kind, const char *prog,
      const char *dir, bool sink)
{
  memset(s, 0, sizeof *s);
  s->kind = kind;
  s->prog = prog;
  s->sink = sink;
  s->fd_in = s->fd_out = -1;
  snprintf(s->label, sizeof s->label, "%s", prog);
  size_t n = strlen(dir) + 1 + strlen(prog) + strlen(spawn_exe_suffix()) + 1;
  s->path = malloc(n);
  if (!s->path) return -1;
  snprintf(s->path, n, "%s/%s%s", dir, prog, spawn_exe_suffix());
  int rc = arg(s, s->path);
  /* No stage but the one that needs it sees a secret. */
  if (kind != RTK_BLOB) rc |= env(s, ENV_BLOB, NULL);
  if (kind != RTK_ADX) rc |= env(s, ENV_ADX, NULL);
  return rc;
}

/* etwcat(1): the input. */
static int
build_etwcat(struct rtk_stage *s, const struct rtk_args *a, const char *dir)
{
  int rc = begin(s, RTK_ETWCAT, "etwcat", dir, false);
  if (a->session) rc |= argf(s, "--session=%s", a->session);
  for (size_t i = 0; i < a->nproviders; i++)
    rc |= argf(s, "--provider=%s", a->providers[i]);
  for (size_t i = 0; i < a->nfiles; i++)
    rc |= argf(s, "--file=%s", a->files[i]);
  return rc;
}

/* kqlfilter(1): the query, only with --query. */
static int
build_kqlfilter(struct rtk_stage *s, const struct rtk_args *a, const char *dir)
{
  int rc = begin(s, RTK_KQLFILTER, "kqlfilter", dir, false);
  /* A live session runs on this machine: getprocessname() may ask it. */
  if (a->session || a->nproviders) rc |= arg(s, "--live");
  rc |= arg(s, "-q");
  rc |= arg(s, a->query);
  return rc;
}

/* jsonsink(1) on the console: --outputconsole, --outputtable. */
static int
build_console(struct rtk_stage *s, const struct rtk_args *a, const char *dir)
{
  int rc = begin(s, RTK_CONSOLE, "jsonsink", dir, true);
  snprintf(s->label, sizeof s->label, "jsonsink (console)");
  if (a->table) rc |= arg(s, "--table");
  return rc;
}

/* jsonsink(1) into a file: --outputjson. */
static int
build_jsonfile(struct rtk_stage *s, const struct rtk_args *a, const char *dir)
{
  int rc = begin(s, RTK_JSONFILE, "jsonsink", dir, true);
  snprintf(s->label, sizeof s->label, "jsonsink (--outputjson=%s)", a->json);
  rc |= argf(s, "--file=%s", a->json);
  return rc;
}

/* blobsink(1): --blobstorage*. Without the option the connection string
 * is the one already in our environment, which blobsink inherits. */
static int
build_blob(struct rtk_stage *s, const struct rtk_args *a, const char *dir)
{
  int rc = begin(s, RTK_BLOB, "blobsink", dir, true);
  snprintf(s->label, sizeof s->label, "blobsink (container %s)",
           a->blob_container);
  rc |= argf(s, "--container=%s", a->blob_container);
  if (a->blob_cs) rc |= env(s, ENV_BLOB, a->blob_cs);
  return rc;
}

/* adxsink(1): --adx*. The authority defaults to microsoft.com there. */
static int
build_adx(struct rtk_stage *s, const struct rtk_args *a, const char *dir)
{
  int rc = begin(s, RTK_ADX, "adxsink", dir, true);
  snprintf(s->label, sizeof s->label, "adxsink (%s, table %s.%s)",
           a->adx_cluster, a->adx_database, a->adx_table);
  rc |= argf(s, "--cluster=%s", a->adx_cluster);
  rc |= argf(s, "--database=%s", a->adx_database);
  rc |= argf(s, "--table=%s", a->adx_table);
  if (a->adx_direct) rc |= arg(s, "--direct");
  if (a->adx_reset) rc |= arg(s, "--reset");
  if (a->adx_authority) rc |= argf(s, "--authority=%s", a->adx_authority);
  if (a->adx_client_id) rc |= argf(s, "--client-id=%s", a->adx_client_id);
  if (a->adx_key) rc |= env(s, ENV_ADX, a->adx_key);
  return rc;
}

int
rtk_stages_build(const struct rtk_args *a, const char *dir,
                 struct rtk_stage *st, size_t max)
{
  if (max < 2 + RTK_MAX_SINKS) return -1;
  size_t n = 0;
  int rc = build_etwcat(&st[n++], a, dir);
  if (a->query) rc |= build_kqlfilter(&st[n++], a, dir);
  if (a->console || a->table) rc |= build_console(&st[n++], a, dir);
  if (a->json) rc |= build_jsonfile(&st[n++], a, dir);
  if (a->blob_container) rc |= build_blob(&st[n++], a, dir);
  if (a->adx_any) rc |= build_adx(&st[n++], a, dir);
  if (rc != 0) {
    rtk_stages_free(st, n);
    return -1;
  }
  return (int)n;
}

static void
wipe_free(char *p)
{
  if (!p) return;
  volatile char *v = p;
  while (*v)
    *v++ = 0;
  free(p);
}

void
rtk_stages_free(struct rtk_stage *st, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    struct rtk_stage *s = &st[i];
    free(s->path);
    for (size_t j = 0; j < s->nown; j++)
      free(s->own[j]);
    for (size_t j = 0; j < s->nenv; j++)
      wipe_free(s->env[j]);
    s->path = NULL;
    s->nown = s->nenv = s->nargs = 0;
  }
}

const char *
rtk_stage_meaning(const struct rtk_stage *s, int code)
{
  switch (s->kind) {
  case RTK_ETWCAT:
    return code == 1   ? "nothing could be read, or output failed"
           : code == 2 ? "usage error, or part of the input skipped as "
                         "corrupt"
                       : NULL;
  case RTK_KQLFILTER:
    return code == 1   ? "run-time failure"
           : code == 2 ? "usage error, or malformed input lines skipped"
           : code == 3 ? "query error"
                       : NULL;
  case RTK_CONSOLE:
  case RTK_JSONFILE:
  case RTK_BLOB:
  case RTK_ADX:
    return code == 1   ? "rows lost"
           : code == 2 ? "usage error"
           : code == 3 ? "some rows spooled, not delivered; they go out on "
                         "the next start"
                       : NULL;
  }
  return NULL;
}
