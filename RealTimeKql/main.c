/*
 * main.c - RealTimeKql: the documented single command. Builds the
 * pipeline etwcat -> kqlfilter (with --query) -> one sink per output
 * from the programs next to its own executable, runs it and exits with
 * the status of the stage that failed first (0 when none did).
 *
 * Options: rtk_args.c (../shared/design/cli.md); stage command lines:
 * rtk_stages.c; running: rtk_pipeline.c and rtk_fanout.c. Manual:
 * share/man/RealTimeKql.1.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "RealTimeKql/rtk.h"
#include "lib/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
  plat_init(&argc, &argv);
  log_init("RealTimeKql");
  spawn_std_open();

  struct rtk_args a;
  struct rtk_argres r = rtk_args_parse(argc, argv, &a);
  if (r.err) {
    if (r.what[0])
      log_err("%s: %s", r.what, rtk_arg_text(r.err));
    else
      log_err("%s", rtk_arg_text(r.err));
    rtk_args_usage(stderr);
    rtk_args_free(&a);
    return r.err == RTK_ARG_NO_MEMORY ? RTK_EXIT_FAIL : RTK_EXIT_USAGE;
  }
  if (a.help) {
    if (a.top)
      rtk_args_help_top(stdout);
    else
      rtk_args_help(stdout);
    rtk_args_free(&a);
    return fflush(stdout) == 0 && !ferror(stdout) ? RTK_EXIT_OK : RTK_EXIT_FAIL;
  }
  if (a.version) {
    printf("RealTimeKql %s\n", RTK_VERSION);
    rtk_args_free(&a);
    return RTK_EXIT_OK;
  }
  log_set_verbosity(a.verbose);

  char dir[4096];
  if (spawn_self_dir(argv[0], dir, sizeof dir) != 0) {
    log_err("cannot find the directory of this program: %s", strerror(errno));
    rtk_args_free(&a);
    return RTK_EXIT_FAIL;
  }
  struct rtk_stage st[2 + RTK_MAX_SINKS];
  int n = rtk_stages_build(&a, dir, st, sizeof st / sizeof st[0]);
  int verbose = a.verbose;
  rtk_args_free(&a); /* the stages hold their own copies of secrets */
  if (n < 0) {
    log_err("out of memory");
    return RTK_EXIT_FAIL;
  }
  int rc = rtk_pipeline_run(st, (size_t)n, verbose);
  rtk_stages_free(st, (size_t)n);
  return rc;
}
