/*
 * main.c - etwcat: ETW events as NDJSON, one JSON object per line.
 *
 * Reads .etl files (any OS) and, on Windows, real-time sessions; writes
 * the event contract of ARCHITECTURE.md to stdout. Exit status: 0 all
 * decoded, 1 nothing could be read or output failed, 2 usage error, a
 * manifest that could not be used (decoding goes on without it), or part
 * of the input skipped as corrupt.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "etwcat/etl_reader.h"
#include "etwcat/etw_realtime.h"
#include "etwcat/evt_builtin.h"
#include "etwcat/evt_manifest.h"
#include "etwcat/evt_output.h"
#include "lib/jsonw.h"
#include "lib/log.h"
#include "lib/outfd.h"
#include "lib/pglob.h"
#include "lib/rfile.h"
#include "lib/signals.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLUSH_AT (256u << 10)

struct cfg {
  const char **patterns;
  size_t npatterns;
  const char **manifests;
  size_t nmanifests;
  const char **manifest_dirs;
  size_t nmanifest_dirs;
  bool file_order;
  bool message;
  bool tx_compat;
  const char *session;
  const char **providers;
  size_t nproviders;
};

static void
usage(FILE *out)
{
  fputs("usage: etwcat [-hvV] [--file-order] [--tx-compat] [--message]\n"
        "              [--manifest FILE]... [--manifest-dir DIR]... "
        "--file PATTERN...\n"
        "       etwcat --session NAME | --provider NAME|GUID[:KW[:LEVEL]] "
        "(Windows)\n"
        "\n"
        "Decode ETW events into NDJSON on stdout, one object per event.\n"
        "\n"
        "  -f, --file PATTERN     .etl file or glob (repeatable); several\n"
        "                         files are merged in timestamp order\n"
        "      --file-order       emit events in file order, no merge\n"
        "      --tx-compat        format values as the original tool did\n"
        "                         (network-order ports, IPv6 socket\n"
        "                         addresses without brackets)\n"
        "  -m, --manifest FILE    instrumentation manifest to decode with\n"
        "                         (repeatable)\n"
        "      --manifest-dir DIR every *.man and *.xml manifest in DIR\n"
        "                         (repeatable)\n"
        "      --message          add the event's message, %N filled in\n"
        "  -s, --session NAME     attach to a real-time session (Windows)\n"
        "  -p, --provider SPEC    start a private session (Windows)\n"
        "  -v, --verbose          more messages on stderr\n"
        "  -h, --help             this help\n"
        "  -V, --version          print the version\n"
        "\n"
        "A manifest that cannot be used is reported and skipped: its\n"
        "providers' events decode with the built-in schemas, if any.\n"
        "\n"
        "Exit status: 0 all decoded; 1 nothing read or output failed;\n"
        "2 usage error, an unusable manifest, or part of the input\n"
        "skipped as corrupt.\n",
        out);
}

static int
push(const char ***arr, size_t *n, const char *v)
{
  const char **na = realloc(*arr, (*n + 1) * sizeof *na);
  if (!na) return -1;
  na[(*n)++] = v;
  *arr = na;
  return 0;
}

static int
parse_args(int argc, char **argv, struct cfg *c)
{
  static const struct option longopts[] = {
      {"file", required_argument, NULL, 'f'},
      {"file-order", no_argument, NULL, 'O'},
      {"help", no_argument, NULL, 'h'},
      {"manifest", required_argument, NULL, 'm'},
      {"manifest-dir", required_argument, NULL, 'D'},
      {"message", no_argument, NULL, 'M'},
      {"provider", required_argument, NULL, 'p'},
      {"session", required_argument, NULL, 's'},
      {"tx-compat", no_argument, NULL, 'T'},
      {"verbose", no_argument, NULL, 'v'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  int ch;
  while ((ch = getopt_long(argc, argv, "f:hm:p:s:vV", longopts, NULL)) != -1) {
    switch (ch) {
    case 'f':
      if (push(&c->patterns, &c->npatterns, optarg) != 0) return -1;
      break;
    case 'm':
      if (push(&c->manifests, &c->nmanifests, optarg) != 0) return -1;
      break;
    case 'D':
      if (push(&c->manifest_dirs, &c->nmanifest_dirs, optarg) != 0) return -1;
      break;
    case 'M':
      c->message = true;
      break;
    case 'O':
      c->file_order = true;
      break;
    case 'T':
      c->tx_compat = true;
      break;
    case 's':
      c->session = optarg;
      break;
    case 'p':
      if (push(&c->providers, &c->nproviders, optarg) != 0) return -1;
      break;
    case 'v':
      log_set_verbosity(log_verbosity() + 1);
      break;
    case 'h':
      usage(stdout);
      exit(0);
    case 'V':
      printf("etwcat %s\n", RTK_VERSION);
      exit(0);
    default:
      return -1;
    }
  }
  for (int i = optind; i < argc; i++) /* bare operands are files too */
    if (push(&c->patterns, &c->npatterns, argv[i]) != 0) return -1;
  return 0;
}

/* write_all - false when stdout is gone (EPIPE) or failed. */
static bool
write_all(struct jsonw *w, bool *broken)
{
  int rc = outfd_write_all(1, w->buf, w->len);
  int e = errno;
  jw_reset(w);
  if (rc == 0) return true;
  if (e != EPIPE) log_err("write to stdout: %s", strerror(e));
  *broken = e != EPIPE;
  return false;
}

/* load_manifest - compile one manifest file at EVT_PRIO_USER. A file
 * that cannot be read or compiled is reported (file:line:col: reason)
 * and left out; returns -1 then, 0 when it loaded. */
static int
load_manifest(struct evt_registry *reg, const char *path)
{
  struct rfile *rf = rfile_open(path);
  if (!rf) {
    log_err("%s: %s", path, strerror(errno));
    return -1;
  }
  uint64_t size = rfile_size(rf);
  char *text = size <= EVT_MANIFEST_MAX_BYTES ? malloc((size_t)size + 1) : NULL;
  if (!text || rfile_pread(rf, text, (size_t)size, 0) != (long long)size) {
    if (size > EVT_MANIFEST_MAX_BYTES)
      log_err("%s: manifest larger than %u bytes", path,
              EVT_MANIFEST_MAX_BYTES);
    else
      log_err("%s: cannot read the manifest", path);
    free(text);
    rfile_close(rf);
    return -1;
  }
  rfile_close(rf);
  char err[512] = "";
  int rc = evt_manifest_load(reg, text, (size_t)size, path, EVT_PRIO_USER, err,
                             sizeof err);
  free(text);
  if (rc < 0) {
    log_err("%s; its events decode without it", err);
    return -1;
  }
  log_note("%s: %d event schemas", path, rc);
  return 0;
}

/* load_manifests - --manifest files, then the *.man and *.xml files of
 * each --manifest-dir in name order. Returns the number that could not
 * be used. */
static int
load_manifests(struct evt_registry *reg, const struct cfg *c)
{
  int bad = 0;
  for (size_t i = 0; i < c->nmanifests; i++)
    bad += load_manifest(reg, c->manifests[i]) != 0;
  for (size_t i = 0; i < c->nmanifest_dirs; i++) {
    const char *dir = c->manifest_dirs[i];
    struct pglob g = {0};
    size_t dl = strlen(dir);
    char *pat = malloc(dl + 8);
    if (!pat) log_die(1, "out of memory");
    int n = 0;
    static const char *const exts[] = {"*.man", "*.xml"};
    for (size_t k = 0; k < 2; k++) {
      memcpy(pat, dir, dl);
      size_t at = dl;
      if (dl && dir[dl - 1] != '/' && dir[dl - 1] != '\\') pat[at++] = '/';
      memcpy(pat + at, exts[k], 6);
      int got = pglob_expand(&g, pat);
      if (got < 0) log_die(1, "out of memory");
      n += got;
    }
    free(pat);
    if (n == 0) {
      log_err("%s: no manifest (*.man, *.xml) in the directory", dir);
      bad++;
    }
    for (size_t k = 0; k < g.n; k++)
      bad += load_manifest(reg, g.paths[k]) != 0;
    pglob_free(&g);
  }
  return bad;
}

static int
run(const struct cfg *c)
{
  struct pglob g = {0};
  int status = 0;
  for (size_t i = 0; i < c->npatterns; i++) {
    int n = pglob_expand(&g, c->patterns[i]);
    if (n < 0) log_die(1, "out of memory");
    if (n == 0) {
      log_err("%s: no file matches the pattern", c->patterns[i]);
      status = 2;
    }
  }
  struct etl_file **files = calloc(g.n ? g.n : 1, sizeof *files);
  size_t nfiles = 0;
  for (size_t i = 0; i < g.n; i++) {
    struct etl_file *f = etl_file_open(g.paths[i], (uint32_t)i);
    if (f)
      files[nfiles++] = f;
    else
      status = 2;
  }
  if (nfiles == 0) {
    pglob_free(&g);
    free(files);
    return 1;
  }
  struct evt_writer wr = {0};
  wr.reg = evt_registry_new();
  wr.opts.tx_compat = c->tx_compat;
  wr.messages = c->message;
  if (!wr.reg || evt_builtin_load(wr.reg) != 0)
    log_die(1, "cannot load the built-in schemas");
  if (load_manifests(wr.reg, c) != 0) status = 2;
  struct etl_merge *m = etl_merge_new(files, nfiles, c->file_order);
  if (!m) log_die(1, "out of memory");
  struct jsonw w;
  jw_init(&w);
  bool tty = plat_isatty(1), broken = false;
  plat_pipe_grow(1);
  struct etl_event ev;
  struct etl_file *f;
  /* Ctrl-C (or a launcher's SIGINT) stops reading at an event boundary:
   * what was decoded is written out whole and the run ends normally. */
  (void)sig_install();
  while (etl_merge_next(m, &ev, &f)) {
    evt_write_event(&wr, &ev, f, &w);
    if (w.oom) log_die(1, "out of memory");
    if ((w.len >= FLUSH_AT || tty) && !write_all(&w, &broken)) break;
    if (sig_count() > 0) {
      log_note("%s: stopping after %" PRIu64 " events", sig_last(), wr.events);
      break;
    }
  }
  if (w.len) write_all(&w, &broken);
  unsigned problems = 0;
  for (size_t i = 0; i < nfiles; i++)
    problems += files[i]->problems;
  log_note("%" PRIu64 " events, %" PRIu64 " without a schema, %" PRIu64
           " with DecodeError, %u problems",
           wr.events, wr.no_schema, wr.decode_errors, problems);
  if (problems && status == 0) status = 2;
  if (broken) status = 1;
  etl_merge_free(m);
  for (size_t i = 0; i < nfiles; i++)
    etl_file_close(files[i]);
  free(files);
  jw_free(&w);
  evt_writer_free(&wr);
  evt_manifest_chunks_drop(wr.reg);
  evt_registry_free(wr.reg);
  pglob_free(&g);
  return status;
}

/* Real-time output: etw_rt_run's writer thread (this one) calls these. */
struct rt_out {
  struct evt_writer *wr;
  struct jsonw *w;
  bool broken;
};

static bool
rt_event(void *ctx, const struct etl_event *ev)
{
  struct rt_out *o = ctx;
  evt_write_event(o->wr, ev, NULL, o->w);
  if (o->w->oom) log_die(1, "out of memory");
  return o->w->len < FLUSH_AT || write_all(o->w, &o->broken);
}

static bool
rt_idle(void *ctx)
{
  struct rt_out *o = ctx;
  return o->w->len == 0 || write_all(o->w, &o->broken);
}

static int
run_realtime(const struct cfg *c)
{
  struct evt_writer wr = {0};
  wr.reg = evt_registry_new();
  wr.opts.tx_compat = c->tx_compat;
  wr.messages = c->message;
  if (!wr.reg || evt_builtin_load(wr.reg) != 0)
    log_die(1, "cannot load the built-in schemas");
  if (load_manifests(wr.reg, c) != 0) return 2;
  struct jsonw w;
  jw_init(&w);
  struct rt_out out = {&wr, &w, false};
  struct etw_rt_opts o = {c->session, c->providers, c->nproviders, 0};
  struct etw_rt_sink sink = {rt_event, rt_idle, &out};
  int rc = etw_rt_run(&o, wr.reg, &sink);
  if (w.len) write_all(&w, &out.broken);
  if (out.broken) rc = 1;
  jw_free(&w);
  evt_writer_free(&wr);
  evt_manifest_chunks_drop(wr.reg);
  evt_registry_free(wr.reg);
  return rc;
}

int
main(int argc, char **argv)
{
  struct cfg c = {0};
  plat_init(&argc, &argv);
  log_init("etwcat");
  if (parse_args(argc, argv, &c) != 0) {
    usage(stderr);
    return 2;
  }
  if ((c.session || c.nproviders) && c.npatterns) {
    log_err("one input only: --file (recorded traces) or --session / "
            "--provider (a live session)");
    usage(stderr);
    free(c.providers);
    free(c.manifests);
    free(c.patterns);
    free(c.manifest_dirs);
    return 2;
  }
  if (c.session || c.nproviders) {
    int rc = run_realtime(&c);
    free(c.providers);
    free(c.manifests);
    free(c.patterns);
    free(c.manifest_dirs);
    return rc;
  }
  if (c.npatterns == 0) {
    log_err("no input: give --file=PATTERN");
    usage(stderr);
    return 2;
  }
  int rc = run(&c);
  free(c.patterns);
  free(c.manifests);
  free(c.providers);
  free(c.manifest_dirs);
  return rc;
}
