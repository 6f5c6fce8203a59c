/*
 * sink_opts.c - the common sink options and the option parser
 * (see sink_opts.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/sink_opts.h"

#include "lib/log.h"
#include "lib/sink_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#ifdef PLAT_WINDOWS
#include <io.h>
#else
#include <unistd.h>
#endif

enum {
  C_BATCH_BYTES = -100,
  C_BATCH_ROWS,
  C_CACERT,
  C_CONNECT_TIMEOUT,
  C_FLUSH_INTERVAL,
  C_HELP,
  C_INFLIGHT,
  C_REJECT_FILE,
  C_RETRIES,
  C_RETRY_DELAY,
  C_RETRY_MAX_DELAY,
  C_SHUTDOWN_TIMEOUT,
  C_SPOOL_DIR,
  C_TIMEOUT,
  C_VERBOSE,
  C_VERSION
};

struct common {
  struct sink_opt o;
  unsigned group;
};

/* Sorted by long name. */
static const struct common common_opts[] = {
    {{"batch-bytes", 0, SINK_ARG_SIZE, C_BATCH_BYTES, "SIZE",
      "flush a batch before it grows past SIZE bytes (k/M/G)"},
     SINK_OPTS_BASIC},
    {{"batch-rows", 0, SINK_ARG_COUNT, C_BATCH_ROWS, "N",
      "flush a batch at N rows (0: no limit)"},
     SINK_OPTS_BASIC},
    {{"cacert", 0, SINK_ARG_STR, C_CACERT, "FILE",
      "trust the CA certificates in FILE (PEM) for TLS"},
     SINK_OPTS_NET},
    {{"connect-timeout", 0, SINK_ARG_SECS, C_CONNECT_TIMEOUT, "SECS",
      "give up connecting after SECS (default 10)"},
     SINK_OPTS_NET},
    {{"flush-interval", 0, SINK_ARG_SECS, C_FLUSH_INTERVAL, "SECS",
      "flush a batch once its first row is SECS old (0: never)"},
     SINK_OPTS_BASIC},
    {{"help", 'h', SINK_ARG_NONE, C_HELP, NULL, "show this help and exit"},
     SINK_OPTS_BASIC},
    {{"inflight", 0, SINK_ARG_COUNT, C_INFLIGHT, "N",
      "batches waiting for upload before input pauses (default 2)"},
     SINK_OPTS_NET},
    {{"reject-file", 0, SINK_ARG_STR, C_REJECT_FILE, "FILE",
      "append bad input lines to FILE"},
     SINK_OPTS_BASIC},
    {{"retries", 0, SINK_ARG_COUNT, C_RETRIES, "N",
      "retry a transient failure N times (default 5)"},
     SINK_OPTS_NET},
    {{"retry-delay", 0, SINK_ARG_SECS, C_RETRY_DELAY, "SECS",
      "first retry delay, doubled each time (default 1)"},
     SINK_OPTS_NET},
    {{"retry-max-delay", 0, SINK_ARG_SECS, C_RETRY_MAX_DELAY, "SECS",
      "longest retry delay without Retry-After (default 30)"},
     SINK_OPTS_NET},
    {{"shutdown-timeout", 0, SINK_ARG_SECS, C_SHUTDOWN_TIMEOUT, "SECS",
      "at EOF or a signal, wait SECS for deliveries (default 30)"},
     SINK_OPTS_BASIC},
    {{"spool-dir", 0, SINK_ARG_STR, C_SPOOL_DIR, "DIR",
      "keep undeliverable batches in DIR"},
     SINK_OPTS_NET},
    {{"timeout", 0, SINK_ARG_SECS, C_TIMEOUT, "SECS",
      "abort a transfer that makes no progress for SECS (default 60)"},
     SINK_OPTS_NET},
    {{"verbose", 'v', SINK_ARG_NONE, C_VERBOSE, NULL,
      "say more on stderr (repeat for more)"},
     SINK_OPTS_BASIC},
    {{"version", 0, SINK_ARG_NONE, C_VERSION, NULL,
      "print the version and exit"},
     SINK_OPTS_BASIC},
};

#define NCOMMON (sizeof common_opts / sizeof common_opts[0])

void
sink_opts_init(struct sink_opts *so)
{
  memset(so, 0, sizeof *so);
  sink_cfg_defaults(&so->cfg);
  so->connect_timeout_ms = 10000;
  so->stall_timeout_ms = 60000;
}

int
sink_parse_count(const char *s, uint64_t *v)
{
  if (!s || *s < '0' || *s > '9') return -1;
  errno = 0;
  char *end;
  unsigned long long x = strtoull(s, &end, 10);
  if (errno || *end || x > 1000000000000ull) return -1;
  *v = x;
  return 0;
}

int
sink_parse_size(const char *s, uint64_t *v)
{
  if (!s || *s < '0' || *s > '9') return -1;
  errno = 0;
  char *end;
  unsigned long long x = strtoull(s, &end, 10);
  if (errno) return -1;
  unsigned shift = 0;
  switch (*end) {
  case 'k':
  case 'K':
    shift = 10;
    end++;
    break;
  case 'm':
  case 'M':
    shift = 20;
    end++;
    break;
  case 'g':
  case 'G':
    shift = 30;
    end++;
    break;
  default:
    break;
  }
  if (shift && *end == 'i') end++;
  if (*end == 'B') end++;
  if (*end || x > (1ull << 40) >> shift) return -1;
  *v = (uint64_t)x << shift;
  return 0;
}

int
sink_parse_secs(const char *s, uint64_t *ms)
{
  if (!s || ((*s < '0' || *s > '9') && *s != '.')) return -1;
  uint64_t whole = 0, frac = 0, scale = 1;
  const char *p = s;
  bool digits = false;
  while (*p >= '0' && *p <= '9') {
    whole = whole * 10 + (uint64_t)(*p++ - '0');
    digits = true;
    if (whole > 100000000) return -1;
  }
  if (*p == '.') {
    p++;
    while (*p >= '0' && *p <= '9') {
      if (scale < 1000000) {
        frac = frac * 10 + (uint64_t)(*p - '0');
        scale *= 10;
      }
      p++;
      digits = true;
    }
  }
  if (!digits) return -1;
  uint64_t unit = 1000; /* ms per unit */
  if (strcmp(p, "ms") == 0)
    unit = 1;
  else if (strcmp(p, "s") == 0 || *p == '\0')
    unit = 1000;
  else if (strcmp(p, "m") == 0)
    unit = 60000;
  else if (strcmp(p, "h") == 0)
    unit = 3600000;
  else
    return -1;
  *ms = whole * unit + frac * unit / scale;
  return 0;
}

static int
cmp_opt(const void *key, const void *elem)
{
  const char *k = key;
  const struct sink_opt *o = elem;
  return strcmp(k, o->name);
}

static int
cmp_common(const void *key, const void *elem)
{
  const char *k = key;
  const struct common *c = elem;
  return strcmp(k, c->o.name);
}

static const struct sink_opt *
find_long(const char *name, const struct sink_opt *prog, size_t nprog,
          unsigned groups)
{
  const struct sink_opt *o = bsearch(name, prog, nprog, sizeof *prog, cmp_opt);
  if (o) return o;
  const struct common *c =
      bsearch(name, common_opts, NCOMMON, sizeof *common_opts, cmp_common);
  return c && (c->group & groups) ? &c->o : NULL;
}

static const struct sink_opt *
find_short(char letter, const struct sink_opt *prog, size_t nprog,
           unsigned groups)
{
  for (size_t i = 0; i < nprog; i++)
    if (prog[i].letter == letter) return &prog[i];
  for (size_t i = 0; i < NCOMMON; i++)
    if (common_opts[i].o.letter == letter && (common_opts[i].group & groups))
      return &common_opts[i].o;
  return NULL;
}

static int
check_value(const struct sink_opt *o, const char *val, uint64_t *num)
{
  int r = 0;
  switch (o->kind) {
  case SINK_ARG_COUNT:
    r = sink_parse_count(val, num);
    break;
  case SINK_ARG_SIZE:
    r = sink_parse_size(val, num);
    break;
  case SINK_ARG_SECS:
    r = sink_parse_secs(val, num);
    break;
  default:
    break;
  }
  if (r != 0) log_err("--%s: bad value \"%s\"", o->name, val);
  return r;
}

static int
apply_common(struct sink_opts *so, const struct sink_opt *o, const char *val,
             uint64_t num)
{
  struct sink_cfg *c = &so->cfg;
  switch (o->id) {
  case C_BATCH_BYTES:
    if (num < 1024) {
      log_err("--batch-bytes: at least 1k");
      return -1;
    }
    c->batch_bytes = (size_t)num;
    break;
  case C_BATCH_ROWS:
    c->batch_rows = (size_t)num;
    break;
  case C_CACERT:
    so->cacert = val;
    break;
  case C_CONNECT_TIMEOUT:
    so->connect_timeout_ms = num;
    break;
  case C_FLUSH_INTERVAL:
    c->flush_ms = num;
    break;
  case C_HELP:
    so->help = true;
    break;
  case C_INFLIGHT:
    if (num < 1 || num > 64) {
      log_err("--inflight: 1 to 64");
      return -1;
    }
    c->inflight = (unsigned)num;
    break;
  case C_REJECT_FILE:
    c->reject_path = val;
    so->reject_given = true;
    break;
  case C_RETRIES:
    if (num > 1000) {
      log_err("--retries: at most 1000");
      return -1;
    }
    c->retries = (unsigned)num;
    break;
  case C_RETRY_DELAY:
    c->retry_delay_ms = num;
    break;
  case C_RETRY_MAX_DELAY:
    c->retry_max_ms = num;
    break;
  case C_SHUTDOWN_TIMEOUT:
    c->shutdown_ms = num;
    break;
  case C_SPOOL_DIR:
    if (!*val) {
      log_err("--spool-dir: empty");
      return -1;
    }
    c->spool_dir = val;
    so->spool_dir_given = true;
    break;
  case C_TIMEOUT:
    so->stall_timeout_ms = num;
    break;
  case C_VERBOSE:
    so->verbose++;
    break;
  case C_VERSION:
    so->version = true;
    break;
  default:
    return -1;
  }
  return 0;
}

int
sink_opts_parse(int argc, char **argv, const struct sink_opt *prog,
                size_t nprog, unsigned groups, sink_opts_handler fn, void *ud,
                struct sink_opts *so)
{
  for (int i = 1; i < argc; i++) {
    char *a = argv[i];
    const struct sink_opt *o;
    char *val = NULL;
    char name[64];
    if (a[0] == '-' && a[1] == '-' && a[2]) {
      const char *eq = strchr(a + 2, '=');
      size_t n = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
      if (n >= sizeof name) {
        log_err("unknown option %.40s...; try --help", a);
        return -1;
      }
      memcpy(name, a + 2, n);
      name[n] = '\0';
      o = find_long(name, prog, nprog, groups);
      if (!o) {
        log_err("unknown option --%s; try --help", name);
        return -1;
      }
      if (eq) val = a + 2 + n + 1;
    } else if (a[0] == '-' && a[1] && a[1] != '-' && !a[2]) {
      o = find_short(a[1], prog, nprog, groups);
      if (!o) {
        log_err("unknown option %s; try --help", a);
        return -1;
      }
    } else {
      log_err("unexpected argument \"%s\": rows come on standard input; "
              "try --help",
              a);
      return -1;
    }
    if (o->kind == SINK_ARG_NONE) {
      if (val) {
        log_err("--%s takes no value", o->name);
        return -1;
      }
    } else if (!val) {
      if (i + 1 >= argc) {
        log_err("--%s needs a value (%s)", o->name, o->arg);
        return -1;
      }
      val = argv[++i];
    }
    uint64_t num = 0;
    if (val && check_value(o, val, &num) != 0) return -1;
    int r = o->id < 0 ? apply_common(so, o, val, num) : fn(ud, o, val);
    if (o->kind == SINK_ARG_SECRET && val)
      memset(val, ' ', strlen(val)); /* hide it from ps */
    if (r != 0) return -1;
  }
  return 0;
}

static void
help_line(FILE *f, const struct sink_opt *o)
{
  char left[64];
  if (o->arg)
    snprintf(left, sizeof left, "%s%c%s--%s=%s", o->letter ? "-" : "",
             o->letter ? o->letter : ' ', o->letter ? ", " : "  ", o->name,
             o->arg);
  else
    snprintf(left, sizeof left, "%s%c%s--%s", o->letter ? "-" : "",
             o->letter ? o->letter : ' ', o->letter ? ", " : "  ", o->name);
  if (strlen(left) > 27)
    fprintf(f, "  %s\n  %-27s %s\n", left, "", o->help);
  else
    fprintf(f, "  %-27s %s\n", left, o->help);
}

void
sink_opts_help(FILE *f, const struct sink_opt *prog, size_t nprog,
               unsigned groups)
{
  for (size_t i = 0; i < nprog; i++)
    help_line(f, &prog[i]);
  fprintf(f, "common options:\n");
  for (size_t i = 0; i < NCOMMON; i++)
    if (common_opts[i].group & groups) help_line(f, &common_opts[i].o);
}

int
sink_opts_spool(struct sink_opts *so, const char *prog, const char *key)
{
  struct sink_cfg *c = &so->cfg;
  if (!so->spool_dir_given) {
    char base[4096];
    if (sink_fs_default_base(base, sizeof base) != 0) {
      log_err("no place for the spool: set --spool-dir or RTK_SPOOL_DIR");
      return -1;
    }
    char safe[256];
    size_t n = 0;
    for (const char *k = key; *k && n + 1 < sizeof safe; k++) {
      char ch = *k;
      bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
      safe[n++] = ok ? ch : '_';
    }
    safe[n] = '\0';
    if (n == 0 || strcmp(safe, ".") == 0 || strcmp(safe, "..") == 0)
      safe[0] = '_', safe[1] = '\0';
    int r = snprintf(so->spool_buf, sizeof so->spool_buf, "%s/%s/%s", base,
                     prog, safe);
    if (r < 0 || (size_t)r >= sizeof so->spool_buf) {
      log_err("spool directory name too long");
      return -1;
    }
    c->spool_dir = so->spool_buf;
  }
  if (!so->reject_given) {
    int r = snprintf(so->reject_buf, sizeof so->reject_buf,
                     "%s/rejected.ndjson", c->spool_dir);
    if (r < 0 || (size_t)r >= sizeof so->reject_buf) {
      log_err("reject file name too long");
      return -1;
    }
    c->reject_path = so->reject_buf;
  }
  return 0;
}

char *
sink_secret(const char *val)
{
  if (val[0] != '@') {
    size_t n = strlen(val);
    char *s = malloc(n + 1);
    if (!s) {
      log_err("out of memory");
      return NULL;
    }
    memcpy(s, val, n + 1);
    return s;
  }
  const char *path = val + 1;
  int fd = sink_fs_open(path, O_RDONLY, 0);
  if (fd < 0) {
    log_err("%s: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 64 * 1024;
  char *s = calloc(1, cap + 2);
  if (!s) {
    close(fd);
    log_err("out of memory");
    return NULL;
  }
  /* Up to one byte past the limit, to tell a file that is too big. */
  size_t n = 0;
  int rerr = 0;
  while (n <= cap) {
    long r = (long)read(fd, s + n, (unsigned)(cap + 1 - n));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) rerr = errno;
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  if (rerr || n > cap) {
    sink_secret_free(s);
    if (rerr)
      log_err("%s: %s", path, strerror(rerr));
    else
      log_err("%s: larger than 64 KiB", path);
    return NULL;
  }
  s[n] = '\0';
  size_t got = n;
  char *nl = memchr(s, '\n', n);
  if (nl) n = (size_t)(nl - s);
  memset(s + n, 0, got - n); /* later lines: not kept in memory */
  while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
    n--;
  s[n] = '\0';
  return s;
}

void
sink_secret_free(char *s)
{
  if (!s) return;
  volatile char *p = s;
  while (*p)
    *p++ = '\0';
  free(s);
}
