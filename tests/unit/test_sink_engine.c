/*
 * test_sink_engine.c - the shared sink engine (lib/sink_engine.c,
 * sink_deliver.c, sink_batch.c, sink_spool.c) driven with a scripted
 * deliver callback: batching, order with a worker thread, retries and
 * Retry-After, giving up into the spool, fatal answers, replay of the
 * spool (same batch ids), damaged and locked spools, bad lines, lost rows
 * and the shutdown deadline.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "lib/log.h"
#include "lib/sink.h"
#include "lib/sink_fs.h"
#include "lib/sink_spool.h"
#include "tests/unit/check.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef O_BINARY
#define O_BINARY 0 /* POSIX reads bytes as they are */
#endif

#define MAXB 512

struct fake {
  enum sink_status script[64]; /* answers in order, then `then` */
  int nscript;
  enum sink_status then;
  int64_t retry_after;
  int calls;
  int nb; /* batches seen */
  size_t rows[MAXB];
  size_t bytes[MAXB];
  uint64_t first_line[MAXB];
  bool replayed[MAXB];
  char id[MAXB][SINK_ID_LEN + 1];
  char all[65536]; /* rows delivered, in order */
  size_t all_len;
};

static enum sink_status
fake_deliver(void *ctx, struct sink_batch *b, struct sink_result *r)
{
  struct fake *f = ctx;
  enum sink_status s = f->calls < f->nscript ? f->script[f->calls] : f->then;
  f->calls++;
  if (f->nb < MAXB) {
    f->rows[f->nb] = b->rows;
    f->bytes[f->nb] = b->len;
    f->first_line[f->nb] = b->first_line;
    f->replayed[f->nb] = b->spool_path;
    memcpy(f->id[f->nb], b->id, SINK_ID_LEN + 1);
    f->nb++;
  }
  if (s == SINK_OK && f->all_len + b->len < sizeof f->all) {
    memcpy(f->all + f->all_len, b->buf, b->len);
    f->all_len += b->len;
  }
  if (s != SINK_OK) {
    snprintf(r->msg, sizeof r->msg, "scripted failure %d", (int)s);
    r->retry_after_ms = f->retry_after;
  }
  return s;
}

static char tmpdir[256];

/* Remove the scratch tree (two levels are all the tests make). */
static void
rm_tree(const char *dir)
{
  DIR *d = opendir(dir);
  for (;;) {
    struct dirent *e = d ? readdir(d) : NULL;
    if (!e) break;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    if (remove(p) != 0) rm_tree(p);
  }
  if (d) closedir(d);
  remove(dir);
}

static int
input(const char *text)
{
  char path[300];
  snprintf(path, sizeof path, "%s/input", tmpdir);
  FILE *fp = fopen(path, "wb");
  fputs(text, fp);
  fclose(fp);
  return open(path, O_RDONLY | O_BINARY);
}

static char *
rows_text(int n, int from)
{
  static char buf[200000];
  size_t o = 0;
  for (int i = 0; i < n; i++)
    o += (size_t)snprintf(buf + o, sizeof buf - o, "{\"n\":%d}\n", from + i);
  return buf;
}

static void
cfg_init(struct sink_cfg *c, int fd)
{
  sink_cfg_defaults(c);
  c->input_fd = fd;
  c->inflight = 0;
  c->flush_ms = 0;
  c->retry_delay_ms = 1;
  c->retry_max_ms = 4;
  c->shutdown_ms = 5000;
}

static int
run(struct sink_cfg *c, struct fake *f, struct sink_stats *st)
{
  struct sink_ops ops = {f, fake_deliver, NULL};
  int rc = sink_run(c, &ops, st);
  close(c->input_fd);
  return rc;
}

static int
count_spool(const char *dir)
{
  char **names;
  size_t n;
  if (sink_spool_list(dir, &names, &n) != 0) return -1;
  sink_spool_names_free(names, n);
  return (int)n;
}

/* Regular cases. */

static void
test_batch_rows(void)
{
  struct fake f = {.then = SINK_OK, .retry_after = -1};
  struct sink_cfg c;
  struct sink_stats st;
  cfg_init(&c, input(rows_text(25, 1)));
  c.batch_rows = 10;
  CHECK(run(&c, &f, &st) == SINK_EXIT_OK);
  CHECK(f.nb == 3);
  CHECK(f.rows[0] == 10 && f.rows[1] == 10 && f.rows[2] == 5);
  CHECK(f.first_line[0] == 1 && f.first_line[1] == 11 && f.first_line[2] == 21);
  CHECK(st.delivered == 25 && st.batches == 3 && st.rows == 25);
  CHECK(strcmp(f.all, rows_text(25, 1)) == 0);
  CHECK(strcmp(f.id[0], f.id[1]) != 0 && strlen(f.id[0]) == SINK_ID_LEN);
}

static void
test_batch_bytes(void)
{
  struct fake f = {.then = SINK_OK, .retry_after = -1};
  struct sink_cfg c;
  struct sink_stats st;
  cfg_init(&c, input(rows_text(300, 1000)));
  c.batch_rows = 0;
  c.batch_bytes = 1024;
  CHECK(run(&c, &f, &st) == SINK_EXIT_OK);
  size_t total = 0;
  bool small = true;
  for (int i = 0; i < f.nb; i++) {
    total += f.rows[i];
    small = small && f.bytes[i] <= 1024;
  }
  CHECK(small && total == 300 && f.nb >= 3);
}

static void
test_worker_order(void)
{
  struct fake f = {.then = SINK_OK, .retry_after = -1};
  struct sink_cfg c;
  struct sink_stats st;
  cfg_init(&c, input(rows_text(2000, 1)));
  c.batch_rows = 7;
  c.inflight = 2;
  CHECK(run(&c, &f, &st) == SINK_EXIT_OK);
  bool ordered = true;
  for (int i = 1; i < f.nb; i++)
    ordered = ordered && f.first_line[i] > f.first_line[i - 1];
  CHECK(ordered && st.delivered == 2000);
  CHECK(strcmp(f.all, rows_text(2000, 1)) == 0);
}

static void
test_retry_then_ok(void)
{
  struct fake f = {.script = {SINK_RETRY, SINK_RETRY},
                   .nscript = 2,
                   .then = SINK_OK,
                   .retry_after = -1};
  struct sink_cfg c;
  struct sink_stats st;
  cfg_init(&c, input(rows_text(3, 1)));
  CHECK(run(&c, &f, &st) == SINK_EXIT_OK);
  CHECK(f.calls == 3 && st.delivered == 3);
  CHECK(strcmp(f.id[0], f.id[2]) == 0); /* same batch, same id */
}

static void
test_retry_after(void)
{
  struct fake f = {.script = {SINK_RETRY},
                   .nscript = 1,
                   .then = SINK_OK,
                   .retry_after = 150};
  struct sink_cfg c;
  struct sink_stats st;
  cfg_init(&c, input(rows_text(3, 1)));
  uint64_t t0 = sink_now_ms();
  CHECK(run(&c, &f, &st) == SINK_EXIT_OK);
  uint64_t took = sink_now_ms() - t0;
  CHECK(took >= 150 && took < 2000);
  CHECK(f.calls == 2);
}

static void
test_spool_and_replay(void)
{
  char spool[300];
  snprintf(spool, sizeof spool, "%s/spool", tmpdir);
  struct fake f = {.then = SINK_RETRY, .retry_after = -1};
  struct sink_cfg c;
  struct sink_stats st;
  cfg_init(&c, input(rows_text(25, 1)));
  c.batch_rows = 10;
  c.retries = 2;
  c.spool_dir = spool;
  CHECK(run(&c, &f, &st) == SINK_EXIT_SPOOLED);
  /* 1 + 2 attempts for the first batch, then one each while down. */
  CHECK(f.calls == 3 + 1 + 1);
  CHECK(st.spooled == 25 && st.delivered == 0 && st.lost == 0);
  CHECK(count_spool(spool) == 3);
  char ids[3][SINK_ID_LEN + 1];
  memcpy(ids[0], f.id[0], sizeof ids[0]);
  memcpy(ids[1], f.id[3], sizeof ids[1]);
  memcpy(ids[2], f.id[4], sizeof ids[2]);

  /* The next run replays the spool first, keeping each batch's id. */
  struct fake g = {.then = SINK_OK, .retry_after = -1};
  cfg_init(&c, input(rows_text(2, 100)));
  c.spool_dir = spool;
  CHECK(run(&c, &g, &st) == SINK_EXIT_OK);
  CHECK(g.nb == 4);
  CHECK(g.replayed[0] && g.replayed[1] && g.replayed[2] && !g.replayed[3]);
  CHECK(strcmp(g.id[0], ids[0]) == 0 && strcmp(g.id[1], ids[1]) == 0 &&
        strcmp(g.id[2], ids[2]) == 0);
  CHECK(st.replayed == 25 && st.delivered == 27);
  CHECK(count_spool(spool) == 0);
  char want[4096];
  snprintf(want, sizeof want, "%s", rows_text(25, 1));
  snprintf(want + strlen(want), sizeof want - strlen(want), "%s",
           rows_text(2, 100));
  CHECK(strcmp(g.all, want) == 0);
}

static void
test_fatal(void)
{
  char spool[300];
  snprintf(spool, sizeof spool, "%s/spool-fatal", tmpdir);
  struct fake f = {.then = SINK_FATAL, .retry_after = -1};
  struct sink_cfg c;
  struct sink_stats st;
  cfg_init(&c, input(rows_text(30, 1)));
  c.batch_rows = 10;
  c.inflight = 1;
  c.spool_dir = spool;
  CHECK(run(&c, &f, &st) == SINK_EXIT_SPOOLED);
  CHECK(f.calls == 1);
  CHECK(st.spooled == 30 && count_spool(spool) == 3);
}

static void
test_bad_lines(void)
{
  char rej[300];
  snprintf(rej, sizeof rej, "%s/rej/rejected.ndjson", tmpdir);
  struct fake f = {.then = SINK_OK, .retry_after = -1};
  struct sink_cfg c;
  struct sink_stats st;
  cfg_init(&c, input("{\"a\":1}\nbad\n\n{\"b\":2} \n[1]\n{\"c\":"));
  c.reject_path = rej;
  CHECK(run(&c, &f, &st) == SINK_EXIT_OK);
  CHECK(st.rows == 2 && st.rejected == 3 && st.lines == 6);
  CHECK(strcmp(f.all, "{\"a\":1}\n{\"b\":2}\n") == 0);
  FILE *fp = fopen(rej, "rb");
  char buf[256] = "";
  size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
  if (fp) fclose(fp);
  buf[n] = '\0';
  CHECK_STR(buf, "bad\n[1]\n{\"c\":\n");
}

/* Error cases. */

static void
test_lost_without_spool(void)
{
  struct fake f = {.then = SINK_FAIL, .retry_after = -1};
  struct sink_cfg c;
  struct sink_stats st;
  cfg_init(&c, input(rows_text(5, 1)));
  CHECK(run(&c, &f, &st) == SINK_EXIT_LOST);
  CHECK(st.lost == 5 && f.calls == 1);
}

static void
test_unwritable_spool(void)
{
  struct fake f = {.then = SINK_FAIL, .retry_after = -1};
  struct sink_cfg c;
  struct sink_stats st;
  cfg_init(&c, input(rows_text(5, 1)));
  char spool[300]; /* under a regular file: no system lets us create it */
  snprintf(spool, sizeof spool, "%s/input/spool", tmpdir);
  c.spool_dir = spool;
  CHECK(run(&c, &f, &st) == SINK_EXIT_LOST);
  CHECK(st.lost == 5 && st.spooled == 0);
}

static void
test_shutdown_deadline(void)
{
  char spool[300];
  snprintf(spool, sizeof spool, "%s/spool-deadline", tmpdir);
  struct fake f = {.then = SINK_RETRY, .retry_after = 10000};
  struct sink_cfg c;
  struct sink_stats st;
  cfg_init(&c, input(rows_text(5, 1)));
  c.inflight = 1;
  c.retries = 100;
  c.shutdown_ms = 300;
  c.spool_dir = spool;
  uint64_t t0 = sink_now_ms();
  CHECK(run(&c, &f, &st) == SINK_EXIT_SPOOLED);
  CHECK(sink_now_ms() - t0 < 3000);
  CHECK(st.spooled == 5 && f.calls == 1);
}

static void
test_damaged_and_locked_spool(void)
{
  char spool[300], path[800];
  snprintf(spool, sizeof spool, "%s/spool-bad", tmpdir);
  sink_fs_mkdirs(spool);
  snprintf(path, sizeof path,
           "%s/batch-20260101T000000000Z-1-000000-%064d.ndjson", spool, 0);
  FILE *fp = fopen(path, "wb");
  fputs("{\"ok\":1}\nnot json\n", fp);
  fclose(fp);
  struct fake f = {.then = SINK_OK, .retry_after = -1};
  struct sink_cfg c;
  struct sink_stats st;
  cfg_init(&c, input(""));
  c.spool_dir = spool;
  CHECK(run(&c, &f, &st) == SINK_EXIT_SPOOLED);
  CHECK(f.calls == 0 && count_spool(spool) == 0);
  snprintf(path, sizeof path,
           "%s/damaged-batch-20260101T000000000Z-1-000000-%064d.ndjson", spool,
           0);
  CHECK(access(path, F_OK) == 0);

  /* Another process holds the spool: replay is left to it. */
  struct sink_batch *b = sink_batch_new();
  sink_batch_add(b, "{\"x\":1}", 7);
  char out[512], err[256];
  CHECK(sink_spool_write(spool, b, out, sizeof out, err, sizeof err) == 0);
  sink_batch_free(b);
  int lock = sink_fs_lock(spool);
  CHECK(lock >= 0);
  /* flock locks belong to the open file: a second open conflicts. */
  struct fake g = {.then = SINK_OK, .retry_after = -1};
  cfg_init(&c, input(""));
  c.spool_dir = spool;
  int rc = run(&c, &g, &st);
  CHECK(g.calls == 0 && rc == SINK_EXIT_OK && count_spool(spool) == 1);
  sink_fs_unlock(lock);
  cfg_init(&c, input(""));
  c.spool_dir = spool;
  CHECK(run(&c, &g, &st) == SINK_EXIT_OK && g.calls == 1);
  CHECK(count_spool(spool) == 0);
}

int
main(void)
{
  log_init("test_sink_engine");
  /* mkdtemp is POSIX only; the pid keeps concurrent runs apart. */
  const char *base = getenv("TMPDIR");
  if (!base || !*base) base = getenv("TEMP");
  if (!base || !*base) base = "/tmp";
  snprintf(tmpdir, sizeof tmpdir, "%s/test_sink_engine.%lu", base,
           sink_fs_pid());
  rm_tree(tmpdir);
  if (sink_fs_mkdirs(tmpdir) != 0) return 1;
  test_batch_rows();
  test_batch_bytes();
  test_worker_order();
  test_retry_then_ok();
  test_retry_after();
  test_spool_and_replay();
  test_fatal();
  test_bad_lines();
  test_lost_without_spool();
  test_unwritable_spool();
  test_shutdown_deadline();
  test_damaged_and_locked_spool();
  rm_tree(tmpdir);
  return check_result();
}
