/*
 * main.c - kqlfilter: run KQL queries over NDJSON rows on stdin.
 *
 *   kqlfilter [options] [-q FILE]... [QUERY]
 *
 * The checklist: start-up, options, read and parse the query (errors are
 * reported before any input is read, exit 3), bind it, run it over stdin
 * (kql_run.c), map the result to an exit code. See share/man/kqlfilter.1.md
 * and ../shared/design/ARCHITECTURE.md (kqlfilter).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include "lib/clock.h"
#include "lib/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_QUERY_TEXT (1u << 20)
#define MAX_FILES 64

enum kopt {
  KOPT_FLUSH,
  KOPT_HELP,
  KOPT_LATENESS,
  KOPT_LIVE,
  KOPT_QFILE,
  KOPT_SCHEMA,
  KOPT_VERBOSE,
  KOPT_VERSION,
  KOPT_WINDOW_END
};

struct opt {
  const char *name;
  char letter;
  bool arg;
  enum kopt id;
  const char *help;
};

/* Sorted by long name: looked up with bsearch. */
static const struct opt opts[] = {
    {"flush", 0, false, KOPT_FLUSH, "write every row at once"},
    {"help", 'h', false, KOPT_HELP, "this help"},
    {"lateness", 0, true, KOPT_LATENESS,
     "keep bin() windows open this long past their end (e.g. 30s)"},
    {"live", 0, false, KOPT_LIVE,
     "input is live: getprocessname() may ask this machine"},
    {"query-file", 'q', true, KOPT_QFILE,
     "read queries from FILE (repeatable)"},
    {"schema", 0, true, KOPT_SCHEMA,
     "declare input columns: '(Name:type, ...)'"},
    {"verbose", 'v', false, KOPT_VERBOSE, "more messages on stderr"},
    {"version", 'V', false, KOPT_VERSION, "print the version"},
    {"window-end", 0, false, KOPT_WINDOW_END,
     "summarize by bin(): report the window end (original tool)"},
};

static int
opt_cmp(const void *k, const void *e)
{
  return strcmp(k, ((const struct opt *)e)->name);
}

static void
usage(FILE *f)
{
  fputs("usage: kqlfilter [-hvV] [--schema COLS] [--window-end] "
        "[--lateness SPAN]\n"
        "                 [--live] [--flush] [-q FILE]... [QUERY]\n\n"
        "Run KQL queries over NDJSON rows on stdin; rows out on stdout.\n\n",
        f);
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
    char lhs[40];
    snprintf(lhs, sizeof lhs, "%c%c%s--%s%s", opts[i].letter ? '-' : ' ',
             opts[i].letter ? opts[i].letter : ' ',
             opts[i].letter ? ", " : "  ", opts[i].name,
             opts[i].arg ? " ARG" : "");
    fprintf(f, "  %-24s %s\n", lhs, opts[i].help);
  }
  fputs("\nExit status: 0 done; 1 run-time failure; 2 usage error or "
        "malformed input\nlines skipped; 3 query error.\n",
        f);
}

struct srcseg {
  const char *name;
  size_t off, len;
};

struct cfg {
  char *text;
  size_t len, cap;
  struct srcseg seg[MAX_FILES + 1];
  int nseg;
  const char *schema;
  bool window_end, live, flush;
  int64_t lateness;
};

static bool
append(struct cfg *c, const char *name, const char *s, size_t n)
{
  if (c->nseg > MAX_FILES) return false;
  if (c->len + n + 3 > MAX_QUERY_TEXT) {
    log_err("query text longer than %u bytes", MAX_QUERY_TEXT);
    return false;
  }
  if (c->len + n + 3 > c->cap) {
    c->cap = c->len + n + 4096;
    c->text = kql_xrealloc(c->text, c->cap);
  }
  if (c->len) {
    /* Files are separate paragraphs: a blank line between them. */
    memcpy(c->text + c->len, "\n\n", 2);
    c->len += 2;
  }
  c->seg[c->nseg].name = name;
  c->seg[c->nseg].off = c->len;
  c->seg[c->nseg].len = n;
  c->nseg++;
  memcpy(c->text + c->len, s, n);
  c->len += n;
  c->text[c->len] = 0;
  return true;
}

static bool
read_file(struct cfg *c, const char *path)
{
  FILE *f = !strcmp(path, "-") ? stdin : fopen(path, "rb");
  if (!f) {
    log_err("%s: %s", path, strerror(errno));
    return false;
  }
  char *buf = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (n + 4096 > cap) {
      cap = cap ? cap * 2 : 8192;
      if (cap > MAX_QUERY_TEXT * 2u) break;
      buf = kql_xrealloc(buf, cap);
    }
    size_t k = fread(buf + n, 1, cap - n, f);
    n += k;
    if (!k) break;
  }
  bool err = ferror(f);
  if (f != stdin) fclose(f);
  if (err) {
    log_err("%s: read error", path);
    free(buf);
    return false;
  }
  /* Skip a UTF-8 byte order mark. */
  size_t skip = n >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3) ? 3 : 0;
  bool ok = append(c, path, buf ? buf + skip : "", n - skip);
  free(buf);
  return ok;
}

/* --schema '(a:long, b:string)' */
static bool
parse_schema(const char *s, struct kql_input *in)
{
  size_t n = strlen(s);
  size_t i = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t'))
    i++;
  if (i < n && s[i] == '(') i++;
  memset(in, 0, sizeof *in);
  for (;;) {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
      i++;
    if (i >= n || s[i] == ')') break;
    size_t ns, ne;
    if (s[i] == '[' && i + 1 < n && (s[i + 1] == '\'' || s[i + 1] == '"')) {
      char q = s[i + 1];
      ns = i + 2;
      ne = ns;
      while (ne < n && s[ne] != q)
        ne++;
      i = ne + 2;
    } else {
      ns = i;
      while (i < n && s[i] != ':' && s[i] != ' ')
        i++;
      ne = i;
    }
    while (i < n && s[i] == ' ')
      i++;
    if (i >= n || s[i] != ':' || ne == ns) return false;
    i++;
    while (i < n && s[i] == ' ')
      i++;
    size_t ts = i;
    while (i < n && s[i] != ',' && s[i] != ')' && s[i] != ' ')
      i++;
    int t = kql_type_parse(s + ts, i - ts);
    if (t < 0) return false;
    if (in->n == in->cap) {
      in->cap = in->cap ? in->cap * 2 : 8;
      in->names = kql_xrealloc(in->names, in->cap * sizeof *in->names);
      in->lens = kql_xrealloc(in->lens, in->cap * sizeof *in->lens);
      in->types = kql_xrealloc(in->types, in->cap);
      in->slots = kql_xrealloc(in->slots, in->cap * sizeof *in->slots);
    }
    in->names[in->n] = kql_xmalloc(ne - ns + 1);
    memcpy(in->names[in->n], s + ns, ne - ns);
    in->names[in->n][ne - ns] = 0;
    in->lens[in->n] = (uint32_t)(ne - ns);
    in->types[in->n] = (uint8_t)t;
    in->slots[in->n] = -1;
    in->n++;
  }
  in->closed = true;
  return true;
}

static void
free_schema(struct kql_input *in)
{
  for (uint32_t i = 0; i < in->n; i++)
    free(in->names[i]);
  free(in->names);
  free(in->lens);
  free(in->types);
  free(in->slots);
}

/* Render the parse/bind error against the file it came from. */
static void
report(const struct cfg *c, const struct kql_prog *p)
{
  for (int i = c->nseg - 1; i >= 0; i--) {
    const struct srcseg *sg = &c->seg[i];
    if (p->errloc.start < sg->off && i > 0) continue;
    struct kql_src src = {sg->name, c->text + sg->off, sg->len};
    struct kql_loc at = {p->errloc.start - (uint32_t)sg->off,
                         p->errloc.end - (uint32_t)sg->off};
    /* the message is the text after "error: " in p->err */
    const char *m = strstr(p->err, "error: ");
    const char *nl = m ? strchr(m, '\n') : NULL;
    char msg[1024];
    if (m && nl)
      snprintf(msg, sizeof msg, "%.*s", (int)(nl - m - 7), m + 7);
    else
      snprintf(msg, sizeof msg, "%.1000s", p->err);
    char out[4096];
    kql_err_render(&src, at, msg, out, sizeof out);
    log_err("%s", out);
    return;
  }
  log_err("%s", p->err);
}

static int64_t
now_ticks(void)
{
  struct timespec ts = clock_wall(); /* msvcrt has no timespec_get */
  return KQL_UNIX_EPOCH + (int64_t)ts.tv_sec * KQL_TICKS_PER_SEC +
         ts.tv_nsec / 100;
}

int
main(int argc, char **argv)
{
  plat_init(&argc, &argv);
  log_init("kqlfilter");
  struct cfg c;
  memset(&c, 0, sizeof c);
  const char *inline_q = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const struct opt *o = NULL;
    const char *val = NULL;
    if (a[0] == '-' && a[1] == '-' && a[2]) {
      char name[64];
      const char *eq = strchr(a + 2, '=');
      size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
      if (nl >= sizeof name) {
        log_err("unknown option '%s'", a);
        return 2;
      }
      memcpy(name, a + 2, nl);
      name[nl] = 0;
      o = bsearch(name, opts, sizeof opts / sizeof opts[0], sizeof opts[0],
                  opt_cmp);
      if (!o) {
        log_err("unknown option '--%s' (see --help)", name);
        return 2;
      }
      if (eq) val = eq + 1;
    } else if (a[0] == '-' && a[1] && a[1] != '-' && !a[2]) {
      for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
        if (opts[k].letter == a[1]) o = &opts[k];
      if (!o) {
        log_err("unknown option '%s' (see --help)", a);
        return 2;
      }
    } else if (!strcmp(a, "--")) {
      if (i + 1 < argc) inline_q = argv[++i];
      continue;
    } else {
      if (inline_q) {
        log_err("more than one query argument (use -q FILE for files)");
        return 2;
      }
      inline_q = a;
      continue;
    }
    if (o->arg && !val) {
      if (i + 1 >= argc) {
        log_err("option '--%s' needs a value", o->name);
        return 2;
      }
      val = argv[++i];
    } else if (!o->arg && val) {
      log_err("option '--%s' takes no value", o->name);
      return 2;
    }
    switch (o->id) {
    case KOPT_HELP:
      usage(stdout);
      return 0;
    case KOPT_VERSION:
      printf("kqlfilter %s\n", RTK_VERSION);
      return 0;
    case KOPT_VERBOSE:
      log_set_verbosity(log_verbosity() + 1);
      break;
    case KOPT_QFILE:
      if (!read_file(&c, val)) return 2;
      break;
    case KOPT_SCHEMA:
      c.schema = val;
      break;
    case KOPT_WINDOW_END:
      c.window_end = true;
      break;
    case KOPT_LIVE:
      c.live = true;
      break;
    case KOPT_FLUSH:
      c.flush = true;
      break;
    case KOPT_LATENESS:
      if (!kql_parse_timespan(val, strlen(val), &c.lateness) ||
          c.lateness < 0) {
        log_err("--lateness: '%s' is not a timespan such as 30s or 1m", val);
        return 2;
      }
      break;
    }
  }
  if (inline_q && !append(&c, "<query>", inline_q, strlen(inline_q))) return 2;
  if (!c.nseg) {
    usage(stderr);
    return 2;
  }
  struct kql_input schema;
  bool have_schema = false;
  if (c.schema) {
    if (!parse_schema(c.schema, &schema)) {
      log_err("--schema: expected '(Name:type, ...)', got '%s'", c.schema);
      return 2;
    }
    have_schema = true;
  }
  struct kql_run run;
  memset(&run, 0, sizeof run);
  jw_init(&run.w);
  run.outfd = 1;
  run.flush_each_row = c.flush || plat_isatty(1);
  run.window_end = c.window_end;
  run.lateness = c.lateness;
  run.live = c.live;
  run.now = now_ticks();
  run.schema = have_schema ? &schema : NULL;
  plat_pipe_grow(0);
  plat_pipe_grow(1);

  struct kql_prog prog;
  int rc;
  if (kql_parse(&prog, c.seg[0].name, c.text, c.len) < 0 ||
      kql_bind(&run, &prog) < 0) {
    report(&c, &prog);
    rc = 3;
  } else {
    rc = kql_run_input(&run, 0);
    if (rc == 0 && run.bad_lines) rc = 2;
  }
  kql_run_free(&run);
  kql_prog_free(&prog);
  if (have_schema) free_schema(&schema);
  free(c.text);
  return rc;
}
