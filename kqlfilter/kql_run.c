/*
 * kql_run.c - NDJSON in, rows through every query, NDJSON out.
 *
 * Each input line is scanned once per query for the columns that query
 * reads (kql_source_row): one pass over the top-level object validates
 * it and picks out the wanted fields; nothing else is converted.
 * Malformed lines are reported with their number, skipped and counted.
 * Output goes to one large buffer, written when it passes 256 KiB, when
 * the input has no complete line buffered (so a live stream sees its
 * rows at once), at the end, or after every row when stdout is a
 * terminal. Queries with a static source (datatable, print, range) run
 * first; stdin is read only when some query uses the stream.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include "lib/lineread.h"
#include "lib/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifdef PLAT_WINDOWS
#include <io.h>
#define write _write
#else
#include <unistd.h>
#endif

#define MAX_BAD_REPORTS 20

bool
kql_flush(struct kql_run *run)
{
  struct jsonw *w = &run->w;
  if (w->oom) kql_oom();
  if (run->outfd < 0) { /* tests and fuzzing: discard */
    jw_reset(w);
    return true;
  }
  size_t off = 0;
  while (off < w->len && !run->out_failed) {
    long n = (long)write(run->outfd, w->buf + off, w->len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (errno != EPIPE) log_err("write error: %s", strerror(errno));
      run->out_failed = true;
      run->out_epipe = errno == EPIPE;
      break;
    }
    off += (size_t)n;
  }
  jw_reset(w);
  return !run->out_failed;
}

/* Convert one input field to its slot's value. */
static void
input_value(struct kql_query *q, uint32_t i, const char *p, size_t n,
            struct kql_val *out)
{
  int ty = q->in.types[i];
  struct kql_arena *a = &q->rowmem;
  if (ty == KQL_T_DYNAMIC) {
    kql_json_value(a, p, n, true, out);
    return;
  }
  kql_json_value(a, p, n, false, out);
  if (ty == KQL_T_ANY) {
    /* The event contract's timestamp is a datetime. */
    int64_t t;
    if (!out->null && out->t == KQL_T_STRING && q->in.lens[i] == 11 &&
        !memcmp(q->in.names[i], "TimeCreated", 11) &&
        kql_parse_datetime(out->u.s, out->n, &t))
      *out = kql_v_time(KQL_T_DATETIME, t);
    return;
  }
  if (out->null) {
    *out = kql_v_null(ty);
    return;
  }
  if (ty == KQL_T_STRING && out->t == KQL_T_STRING) return;
  if (ty == KQL_T_STRING && (out->t == KQL_T_ARRAY || out->t == KQL_T_BAG)) {
    *out = kql_v_str(p, n);
    return;
  }
  *out = kql_convert(a, out, ty);
}

bool
kql_source_row(struct kql_query *q, const char *line, size_t n,
               struct kql_row *r)
{
  const char *p = line, *end = line + n;
  struct kql_input *in = &q->in;
  for (uint32_t i = 0; i < in->n; i++)
    r->v[in->slots[i]] =
        in->types[i] == KQL_T_ANY || in->types[i] == KQL_T_DYNAMIC
            ? kql_v_null(KQL_T_DYNAMIC)
            : kql_v_null(in->types[i]);
  p = kql_json_ws(p, end);
  if (p >= end || *p != '{') return false;
  p = kql_json_ws(p + 1, end);
  if (p < end && *p == '}') {
    p++;
  } else {
    uint32_t found = 0;
    for (;;) {
      if (p >= end || *p != '"') return false;
      const char *kend = kql_json_skip(p, end, 0);
      if (!kend) return false;
      const char *ks = p + 1;
      size_t kn = (size_t)(kend - p) - 2;
      p = kql_json_ws(kend, end);
      if (p >= end || *p != ':') return false;
      p = kql_json_ws(p + 1, end);
      const char *vend = kql_json_skip(p, end, 0);
      if (!vend) return false;
      if (found < in->n) {
        struct kql_val key;
        if (memchr(ks, '\\', kn)) {
          key = kql_json_string(&q->rowmem, ks - 1, kn + 2);
          ks = key.u.s;
          kn = key.n;
        }
        for (uint32_t i = 0; i < in->n; i++)
          if (in->lens[i] == kn && !memcmp(in->names[i], ks, kn)) {
            input_value(q, i, p, (size_t)(vend - p), &r->v[in->slots[i]]);
            found++;
            break;
          }
      }
      p = kql_json_ws(vend, end);
      if (p < end && *p == ',') {
        p = kql_json_ws(p + 1, end);
        continue;
      }
      if (p < end && *p == '}') {
        p++;
        break;
      }
      return false;
    }
  }
  if (kql_json_ws(p, end) != end) return false;
  r->raw = line;
  r->rawn = (uint32_t)n;
  return true;
}

void
kql_source_static(struct kql_query *q)
{
  struct kql_table *t = q->srctab;
  struct kql_row r = {NULL, 0, q->slots};
  for (uint32_t i = 0; t && i < t->nrows && !q->done; i++) {
    for (uint32_t s = 0; s < q->nslots; s++)
      q->slots[s] = kql_v_null(KQL_T_DYNAMIC);
    for (uint32_t c = 0; c < t->ncols; c++)
      q->slots[q->srcslots[c]] = t->cells[(size_t)i * t->ncols + c];
    q->head->vt->row(q->head, &r);
    kql_arena_reset(&q->rowmem);
  }
  q->head->vt->end(q->head);
}

/* One input line through every query that reads the stream; false when
 * no query wants more rows. */
static bool
process_line(struct kql_run *run, const char *line, size_t n, uint64_t lineno,
             bool procs)
{
  size_t k = 0;
  while (k < n && (line[k] == ' ' || line[k] == '\t'))
    k++;
  if (k == n) return true; /* blank line */
  run->rows_in++;
  if (procs) kql_proc_learn(run, line, n);
  bool bad = false;
  for (uint32_t i = 0; i < run->nq; i++) {
    struct kql_query *q = run->q[i];
    if (!q->from_stream || q->done) continue;
    struct kql_row r = {NULL, 0, q->slots};
    if (!kql_source_row(q, line, n, &r)) {
      bad = true;
      kql_arena_reset(&q->rowmem);
      break;
    }
    q->head->vt->row(q->head, &r);
    kql_arena_reset(&q->rowmem);
  }
  if (bad) {
    run->bad_lines++;
    if (run->bad_lines <= MAX_BAD_REPORTS && !run->quiet)
      log_err("<stdin>:%" PRIu64 ": not a JSON object; line skipped", lineno);
    else if (run->bad_lines == MAX_BAD_REPORTS + 1 && !run->quiet)
      log_err("further bad lines are counted, not reported");
  }
  for (uint32_t i = 0; i < run->nq; i++)
    if (run->q[i]->from_stream && !run->q[i]->done) return true;
  return false;
}

/* Start: static sources run now; true when some query reads the stream. */
static bool
start(struct kql_run *run, bool *procs)
{
  bool stream = false;
  *procs = false;
  for (uint32_t i = 0; i < run->nq; i++) {
    struct kql_query *q = run->q[i];
    if (!q->from_stream)
      kql_source_static(q);
    else
      stream = true;
    if (q->uses_procname) *procs = true;
  }
  return stream;
}

static void
finish(struct kql_run *run)
{
  for (uint32_t i = 0; i < run->nq; i++) {
    struct kql_query *q = run->q[i];
    if (q->from_stream) {
      q->head->vt->end(q->head);
      kql_arena_reset(&q->rowmem);
    }
  }
  kql_flush(run);
}

void
kql_run_buffer(struct kql_run *run, const char *buf, size_t n)
{
  bool procs;
  if (start(run, &procs)) {
    uint64_t lineno = 0;
    size_t i = 0;
    while (i < n) {
      const char *nl = memchr(buf + i, '\n', n - i);
      size_t e = nl ? (size_t)(nl - buf) : n;
      lineno++;
      if (!process_line(run, buf + i, e - i, lineno, procs)) break;
      i = e + 1;
    }
    finish(run);
  } else {
    kql_flush(run);
  }
}

int
kql_run_input(struct kql_run *run, int fd)
{
  bool procs;
  if (!start(run, &procs)) {
    kql_flush(run);
    return run->out_failed && !run->out_epipe ? 1 : 0;
  }
  struct lineread lr;
  if (lr_init(&lr, fd, 0) < 0) kql_oom();
  const char *line;
  size_t n;
  int rc;
  for (;;) {
    /* About to wait for input: let rows out now. With plenty of bytes
     * buffered a whole line is all but certain, so skip the search. */
    if (run->w.len && lr.end - lr.start < (64u << 10) && !lr_ready(&lr))
      kql_flush(run);
    rc = lr_next(&lr, &line, &n);
    if (rc <= 0 || run->out_failed) break;
    if (!process_line(run, line, n, lr.lineno, procs)) break;
  }
  int err = rc < 0 ? lr.err : 0;
  lr_free(&lr);
  if (err) log_err("read error: %s", strerror(err));
  finish(run);
  if (run->bad_lines)
    log_warn("%" PRIu64 " malformed input line%s skipped", run->bad_lines,
             run->bad_lines == 1 ? "" : "s");
  if (err || (run->out_failed && !run->out_epipe)) return 1;
  return 0;
}

void
kql_run_free(struct kql_run *run)
{
  for (uint32_t i = 0; i < run->nq; i++)
    kql_query_free(run->q[i]);
  free(run->q);
  run->q = NULL;
  run->nq = 0;
  for (uint32_t i = 0; i < run->ntables; i++) {
    kql_arena_free(&run->tables[i]->mem);
    free(run->tables[i]);
  }
  free(run->tables);
  run->tables = NULL;
  run->ntables = 0;
  kql_proc_free(run);
  jw_free(&run->w);
}
