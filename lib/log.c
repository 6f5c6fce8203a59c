/*
 * log.c - prefixed messages to stderr (see log.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const char *prog = "rtk";
static int verbosity;

void
log_init(const char *p)
{
  prog = p;
}

void
log_set_verbosity(int v)
{
  verbosity = v;
}

int
log_verbosity(void)
{
  return verbosity;
}

const char *
log_prog(void)
{
  return prog;
}

static void vmsg(const char *kind, const char *fmt, va_list ap)
    LOG_PRINTF(2, 0);

static void
vmsg(const char *kind, const char *fmt, va_list ap)
{
  if (verbosity < 0) /* quiet: tests and fuzzers that expect errors */
    return;
  char buf[2048];
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  if (n < 0) return;
  /* One fputs per message so lines from pipeline stages do not interleave
   * mid-line. */
  char line[2200];
  snprintf(line, sizeof line, "%s: %s%s\n", prog, kind, buf);
  fputs(line, stderr);
}

void
log_err(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vmsg("", fmt, ap);
  va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vmsg("warning: ", fmt, ap);
  va_end(ap);
}

void
log_note(const char *fmt, ...)
{
  if (verbosity < 1) return;
  va_list ap;
  va_start(ap, fmt);
  vmsg("", fmt, ap);
  va_end(ap);
}

void
log_die(int code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vmsg("", fmt, ap);
  va_end(ap);
  exit(code);
}

void
log_errbuf(char *err, size_t errlen, const char *fmt, ...)
{
  if (!err || errlen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}
