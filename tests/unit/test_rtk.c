/*
 * test_rtk.c - the RealTimeKql launcher's parts that need no children:
 * the option table and parser (RealTimeKql/rtk_args.c) with the seed's
 * own command lines, the stage command lines and environments
 * (rtk_stages.c: secrets only in the environment), and the fan-out
 * (rtk_fanout.c) over real pipes, with a sink that has gone.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "RealTimeKql/rtk.h"
#include "lib/spawn.h"
#include "tests/unit/check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifdef PLAT_WINDOWS
#include <io.h>
#define read _read
#define write _write
#define close _close
#else
#include <unistd.h>
#endif

/* A writable argv from a NULL-terminated list (the parser blanks
 * secrets in place). */
struct av {
  int argc;
  char *argv[64];
};

static struct av
mk(const char *const *words)
{
  struct av a;
  memset(&a, 0, sizeof a);
  a.argv[a.argc++] = strdup("RealTimeKql");
  for (size_t i = 0; words[i] && a.argc < 63; i++)
    a.argv[a.argc++] = strdup(words[i]);
  return a;
}

static void
av_free(struct av *a)
{
  for (int i = 0; i < a->argc; i++)
    free(a->argv[i]);
}

/* The argument vectors parsed: struct rtk_args borrows their strings,
 * so they live until the end of the test. */
static struct av kept[128];
static int nkept;

static struct rtk_argres
parse(const char *const *words, struct rtk_args *out)
{
  if (nkept == 128) {
    fprintf(stderr, "test_rtk: too many parses\n");
    exit(1);
  }
  kept[nkept] = mk(words);
  struct av *a = &kept[nkept++];
  return rtk_args_parse(a->argc, a->argv, out);
}

static void
kept_free(void)
{
  for (int i = 0; i < nkept; i++)
    av_free(&kept[i]);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Regular cases. */

static void
test_tables(void)
{
  CHECK(rtk_args_tables_sorted());
}

static void
test_seed_examples(void)
{
  struct rtk_args a;
  /* The two commands of the seed, verbatim. */
  struct rtk_argres r =
      parse(ARGS("etw", "--session=tcp", "--adxcluster=CDOC.kusto.windows.net",
                 "--adxdatabase=GeorgiTest", "--adxtable=EtwTcp", "--adxdirect",
                 "--adxreset"),
            &a);
  CHECK(r.err == RTK_ARG_OK);
  CHECK_STR(a.session, "tcp");
  CHECK_STR(a.adx_cluster, "CDOC.kusto.windows.net");
  CHECK_STR(a.adx_database, "GeorgiTest");
  CHECK_STR(a.adx_table, "EtwTcp");
  CHECK(a.adx_direct && a.adx_reset && a.adx_any);
  CHECK(!a.console && !a.json && a.nfiles == 0);
  rtk_args_free(&a);

  r = parse(ARGS("etw", "--file=*.etl", "--adxcluster=CDOC.kusto.windows.net",
                 "--adxdatabase=GeorgiTest", "--adxtable=EtwTcp"),
            &a);
  CHECK(r.err == RTK_ARG_OK);
  CHECK(a.nfiles == 1);
  CHECK_STR(a.files[0], "*.etl");
  CHECK(!a.adx_direct && !a.adx_reset);
  rtk_args_free(&a);

  /* The help's spellings: Etw, --filter. */
  r = parse(ARGS("Etw", "--filter=*.etl", "--outputjson=FilterOutput.json"),
            &a);
  CHECK(r.err == RTK_ARG_OK);
  CHECK_STR(a.files[0], "*.etl");
  CHECK_STR(a.json, "FilterOutput.json");
  CHECK(!a.console);
  rtk_args_free(&a);
  r = parse(ARGS("ETW", "--help"), &a);
  CHECK(r.err == RTK_ARG_OK && a.help && !a.top);
  r = parse(ARGS("-?"), &a);
  CHECK(r.err == RTK_ARG_OK && a.help && a.top);
  r = parse(ARGS("--version"), &a);
  CHECK(r.err == RTK_ARG_OK && a.version && a.top);
}

static void
test_short_forms(void)
{
  struct rtk_args a;
  struct rtk_argres r = parse(
      ARGS("etw", "-f", "x.etl", "-q=q.kql", "-oc", "-oj", "o.json", "-bscs",
           "UseDevelopmentStorage=true", "-bsc=cont", "-aclid", "app",
           "-akey=k3y", "-ac", "c.kusto.windows.net", "-ad", "Db", "-at", "T",
           "-ar", "--adxauthority=tenant.example", "--adxdirect"),
      &a);
  CHECK(r.err == RTK_ARG_OK);
  CHECK(a.nfiles == 1);
  CHECK_STR(a.files[0], "x.etl");
  CHECK_STR(a.query, "q.kql");
  CHECK(a.console);
  CHECK_STR(a.json, "o.json");
  CHECK_STR(a.blob_cs, "UseDevelopmentStorage=true");
  CHECK_STR(a.blob_container, "cont");
  CHECK_STR(a.adx_client_id, "app");
  CHECK_STR(a.adx_key, "k3y");
  CHECK_STR(a.adx_cluster, "c.kusto.windows.net");
  CHECK_STR(a.adx_database, "Db");
  CHECK_STR(a.adx_table, "T");
  CHECK_STR(a.adx_authority, "tenant.example");
  CHECK(a.adx_reset && a.adx_direct);
  rtk_args_free(&a);
  /* -ad with "=": the database too. */
  r = parse(ARGS("etw", "-f=x.etl", "-ac=c", "-ad=D2", "-at=T"), &a);
  CHECK(r.err == RTK_ARG_OK);
  CHECK_STR(a.adx_database, "D2");
  rtk_args_free(&a);
  /* -s, -p, -v and -ot. */
  r = parse(ARGS("etw", "-s", "tcp", "-ot", "-v", "-v"), &a);
  CHECK(r.err == RTK_ARG_OK);
  CHECK_STR(a.session, "tcp");
  CHECK(a.table && !a.console && a.verbose == 2);
  r = parse(ARGS("etw", "-p", "Microsoft-Windows-Kernel-Network", "-p",
                 "{7dd42a49-5329-4832-8dfd-43d979153a88}:0x10:4"),
            &a);
  CHECK(r.err == RTK_ARG_OK && a.nproviders == 2);
  CHECK_STR(a.providers[1], "{7dd42a49-5329-4832-8dfd-43d979153a88}:0x10:4");
}

static void
test_files(void)
{
  struct rtk_args a;
  /* "-f *.etl" after the shell expanded it; --file repeated. */
  struct rtk_argres r = parse(
      ARGS("etw", "-f", "a.etl", "b.etl", "c d.etl", "--file=e.etl", "-oc"),
      &a);
  CHECK(r.err == RTK_ARG_OK);
  CHECK(a.nfiles == 4);
  CHECK_STR(a.files[2], "c d.etl");
  CHECK_STR(a.files[3], "e.etl");
  /* No output: the console. */
  r = parse(ARGS("etw", "--file=x.etl"), &a);
  CHECK(r.err == RTK_ARG_OK && a.console);
  /* A value may start with a dash unless it is an option. */
  r = parse(ARGS("etw", "--file", "-odd.etl"), &a);
  CHECK(r.err == RTK_ARG_OK);
  CHECK_STR(a.files[0], "-odd.etl");
}

static void
test_secrets(void)
{
  struct av v =
      mk(ARGS("etw", "-f", "x", "--adxkey=s3cr3t", "-aclid", "id", "-ac", "c",
              "-ad", "d", "-at", "t", "--blobstorageconnectionstring",
              "AccountKey=abc", "-bsc", "box"));
  struct rtk_args a;
  struct rtk_argres r = rtk_args_parse(v.argc, v.argv, &a);
  CHECK(r.err == RTK_ARG_OK);
  CHECK_STR(a.adx_key, "s3cr3t");
  CHECK_STR(a.blob_cs, "AccountKey=abc");
  /* Blanked where ps would show them. */
  CHECK_STR(v.argv[4], "--adxkey=      ");
  CHECK_STR(v.argv[14], "              ");

  /* The stages: the key and the connection string only in the
   * environment of the sink that needs them. */
  struct rtk_stage st[2 + RTK_MAX_SINKS];
  int n = rtk_stages_build(&a, "/opt/rtk/bin", st, 2 + RTK_MAX_SINKS);
  CHECK(n == 3);
  for (int i = 0; i < n; i++)
    for (size_t j = 0; j < st[i].nargs; j++) {
      CHECK(!strstr(st[i].argv[j], "s3cr3t"));
      CHECK(!strstr(st[i].argv[j], "AccountKey"));
    }
  CHECK(st[1].kind == RTK_BLOB && st[2].kind == RTK_ADX);
  bool blob_env = false, adx_env = false;
  for (size_t j = 0; j < st[1].nenv; j++) {
    blob_env |= strcmp(st[1].env[j], "RTK_BLOB_CONNECTION_STRING="
                                     "AccountKey=abc") == 0;
    CHECK(strcmp(st[1].env[j], "RTK_ADX_KEY") == 0 ||
          strncmp(st[1].env[j], "RTK_ADX_KEY", 11) != 0);
  }
  for (size_t j = 0; j < st[2].nenv; j++)
    adx_env |= strcmp(st[2].env[j], "RTK_ADX_KEY=s3cr3t") == 0;
  CHECK(blob_env && adx_env);
  /* etwcat gets neither: both removed. */
  CHECK(st[0].nenv == 2);
  CHECK_STR(st[0].env[0], "RTK_BLOB_CONNECTION_STRING");
  CHECK_STR(st[0].env[1], "RTK_ADX_KEY");
  rtk_stages_free(st, (size_t)n);
  rtk_args_free(&a);
  CHECK(!a.adx_key && !a.blob_cs);
  av_free(&v);
}

static void
test_stages(void)
{
  struct rtk_args a;
  struct rtk_argres r =
      parse(ARGS("etw", "--file=logs/*.etl", "--file", "b.etl", "--query=q.kql",
                 "-oc", "-oj=out.json", "-bsc=c1", "--adxcluster=C", "-ad", "D",
                 "-at", "T", "--adxdirect", "--adxreset", "--adxauthority=A",
                 "-aclid=ID"),
            &a);
  /* The blob connection string comes from the environment here. */
  if (r.err == RTK_ARG_BLOB_NO_CS) {
    static char cs[] = "RTK_BLOB_CONNECTION_STRING=UseDevelopmentStorage=true";
    putenv(cs);
    r = parse(ARGS("etw", "--file=logs/*.etl", "--file", "b.etl",
                   "--query=q.kql", "-oc", "-oj=out.json", "-bsc=c1",
                   "--adxcluster=C", "-ad", "D", "-at", "T", "--adxdirect",
                   "--adxreset", "--adxauthority=A", "-aclid=ID"),
              &a);
  }
  CHECK(r.err == RTK_ARG_OK);
  struct rtk_stage st[2 + RTK_MAX_SINKS];
  int n = rtk_stages_build(&a, "/d", st, 2 + RTK_MAX_SINKS);
  CHECK(n == 6);
  if (n != 6) return;
  char line[6][512];
  for (int i = 0; i < n; i++) {
    size_t len = 0;
    line[i][0] = '\0';
    for (size_t j = 0; j < st[i].nargs; j++)
      len += (size_t)snprintf(line[i] + len, sizeof line[i] - len, "%s%s",
                              j ? " " : "", st[i].argv[j]);
  }
  const char *sfx = spawn_exe_suffix();
  char want[512];
  snprintf(want, sizeof want, "/d/etwcat%s --file=logs/*.etl --file=b.etl",
           sfx);
  CHECK_STR(line[0], want);
  snprintf(want, sizeof want, "/d/kqlfilter%s -q q.kql", sfx);
  CHECK_STR(line[1], want);
  snprintf(want, sizeof want, "/d/jsonsink%s", sfx);
  CHECK_STR(line[2], want);
  snprintf(want, sizeof want, "/d/jsonsink%s --file=out.json", sfx);
  CHECK_STR(line[3], want);
  snprintf(want, sizeof want, "/d/blobsink%s --container=c1", sfx);
  CHECK_STR(line[4], want);
  snprintf(want, sizeof want,
           "/d/adxsink%s --cluster=C --database=D --table=T --direct "
           "--reset --authority=A --client-id=ID",
           sfx);
  CHECK_STR(line[5], want);
  CHECK(!st[0].sink && !st[1].sink && st[2].sink && st[5].sink);
  CHECK_STR(st[3].label, "jsonsink (--outputjson=out.json)");
  CHECK_STR(rtk_stage_meaning(&st[1], 3), "query error");
  CHECK(rtk_stage_meaning(&st[0], 3) == NULL);
  rtk_stages_free(st, (size_t)n);

  /* A live session: kqlfilter may look up process names here; the
   * table view. */
  r = parse(ARGS("etw", "--session=tcp", "-q", "q.kql", "-ot"), &a);
  CHECK(r.err == RTK_ARG_OK);
  n = rtk_stages_build(&a, "/d", st, 2 + RTK_MAX_SINKS);
  CHECK(n == 3);
  CHECK_STR(st[0].argv[1], "--session=tcp");
  CHECK_STR(st[1].argv[1], "--live");
  CHECK_STR(st[2].argv[1], "--table");
  rtk_stages_free(st, (size_t)n);
}

/* The fan-out: every byte to each open output; one that has gone is
 * skipped. */
static int ticks;
static int
count_tick(void *ud)
{
  (void)ud;
  ticks++;
  return 0;
}

static void
test_fanout(void)
{
  int in[2], o1[2], o2[2], o3[2];
  CHECK(spawn_pipe(in) == 0 && spawn_pipe(o1) == 0 && spawn_pipe(o2) == 0 &&
        spawn_pipe(o3) == 0);
  close(o2[0]); /* this sink has gone: writes fail with EPIPE */
  struct rtk_fanout f;
  memset(&f, 0, sizeof f);
  f.in = in[0];
  f.n = 3;
  f.out[0].fd = o1[1];
  f.out[1].fd = o2[1];
  f.out[2].fd = o3[1];
  f.tick = count_tick;
  f.tick_ms = 50;
  const char rows[] = "{\"a\":1}\n{\"b\":\"two\"}\n{\"c\":[3]}\n";
  CHECK(write(in[1], rows, sizeof rows - 1) == (long)(sizeof rows - 1));
  close(in[1]);
  CHECK(rtk_fanout_run(&f) == 0);
  CHECK(f.in == -1); /* end of input reached */
  CHECK(f.out[1].fd == -1 && f.out[1].err != 0);
#ifdef PLAT_POSIX
  CHECK(f.out[1].err == EPIPE); /* msvcrt says EINVAL (outfd.h) */
#endif
  CHECK(f.out[0].fd >= 0 && f.out[2].fd >= 0);
  CHECK(rtk_fanout_live(&f) == 2);
  CHECK(f.bytes_in == sizeof rows - 1);
  CHECK(ticks >= 1); /* told when the sink went */
  rtk_fanout_close(&f);
  char got[128];
  for (int k = 0; k < 2; k++) {
    int fd = k ? o3[0] : o1[0];
    long n = (long)read(fd, got, sizeof got - 1);
    got[n > 0 ? n : 0] = '\0';
    CHECK_STR(got, rows);
    CHECK(read(fd, got, 1) == 0); /* closed after the end of input */
    close(fd);
  }
}

/* Error cases. */

static void
test_errors(void)
{
  struct rtk_args a;
  const struct {
    const char *const *args;
    enum rtk_argerr err;
    const char *what;
  } t[] = {
      {ARGS("-f"), RTK_ARG_NO_COMMAND, "-f"},
      {ARGS("syslog"), RTK_ARG_BAD_COMMAND, "syslog"},
      {ARGS("etw", "--bogus"), RTK_ARG_UNKNOWN, "--bogus"},
      {ARGS("etw", "-x=1"), RTK_ARG_UNKNOWN, "-x"},
      {ARGS("etw", "-session=tcp"), RTK_ARG_UNKNOWN, "-session"},
      {ARGS("etw", "--"), RTK_ARG_UNKNOWN, "--"},
      {ARGS("etw", "-f"), RTK_ARG_NO_VALUE, "-f"},
      {ARGS("etw", "-f", "x", "-ad"), RTK_ARG_NO_VALUE, "-ad"},
      {ARGS("etw", "-f", "x", "-ad", "--adxtable=T"), RTK_ARG_NO_VALUE, "-ad"},
      {ARGS("etw", "-f", "x", "-ad", "-oc"), RTK_ARG_NO_VALUE, "-ad"},
      {ARGS("etw", "--file="), RTK_ARG_EMPTY_VALUE, "--file"},
      {ARGS("etw", "-f", "x", "--adxdirect=yes"), RTK_ARG_FLAG_VALUE,
       "--adxdirect"},
      {ARGS("etw", "-f", "x", "-oj=a", "-oj=b"), RTK_ARG_TWICE, "-oj"},
      {ARGS("etw", "--adxkey=se", "-akey=cret"), RTK_ARG_TWICE, "-akey"},
      {ARGS("etw", "x.etl"), RTK_ARG_STRAY, "x.etl"},
      {ARGS("etw", "-oc"), RTK_ARG_NO_INPUT, ""},
      {ARGS("etw", "-f", "x", "-s", "tcp"), RTK_ARG_TWO_INPUTS, "--session"},
      {ARGS("etw", "-s", "tcp", "-p", "P"), RTK_ARG_TWO_INPUTS, "--session"},
      {ARGS("etw", "-f", "x", "-bscs=AccountKey=k"), RTK_ARG_BLOB_NO_CNT,
       "--blobstorageconnectionstring"},
      {ARGS("etw", "-f", "x", "--adxcluster=c", "--adxtable=t"),
       RTK_ARG_ADX_INCOMPLETE, ""},
      {ARGS("etw", "-f", "x", "--adxdirect"), RTK_ARG_ADX_INCOMPLETE, ""},
      {ARGS("etw", "-f", "x", "-ac=c", "-ad=d", "-at=t", "-akey=k"),
       RTK_ARG_ADX_KEY_ALONE, "--adxkey"},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    struct rtk_argres r = parse(t[i].args, &a);
    if (r.err != t[i].err)
      fprintf(stderr, "case %zu: error %d, want %d\n", i, (int)r.err,
              (int)t[i].err);
    CHECK(r.err == t[i].err);
    CHECK_STR(r.what, t[i].what);
    CHECK(strcmp(rtk_arg_text(r.err), "error") != 0);
    rtk_args_free(&a);
  }
  /* Nothing at all. */
  const char *argv0[] = {"RealTimeKql", NULL};
  CHECK(rtk_args_parse(1, (char **)argv0, &a).err == RTK_ARG_NO_COMMAND);
  /* A secret never shows in an error's subject. */
  struct rtk_argres r = parse(ARGS("etw", "--adxkeyy=hunter2"), &a);
  CHECK(r.err == RTK_ARG_UNKNOWN && !strstr(r.what, "hunter2"));
}

int
main(int argc, char **argv)
{
  plat_init(&argc, &argv);
  test_tables();
  test_seed_examples();
  test_short_forms();
  test_files();
  test_secrets();
  test_stages();
  test_fanout();
  test_errors();
  kept_free();
  return check_result();
}
