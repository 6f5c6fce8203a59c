/*
 * fuzz_kql_parse.c - libFuzzer target for the KQL lexer, parser and
 * binder (kqlfilter/kql_lex.c, kql_parse.c, kql_bind.c).
 *
 * The input is query text. It is parsed and, when that succeeds, bound
 * (which folds constants, compiles regexes and runs static tables such
 * as datatable() and range), then everything is freed. A parse or bind
 * error must leave a rendered message with a caret; the sanitizers
 * catch any read outside the text. Seeds: tests/fuzz/corpus/kql_parse/.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "kqlfilter/kql_exec.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 1 << 16) return 0;
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;
  struct kql_prog prog;
  struct kql_run run;
  memset(&run, 0, sizeof run);
  jw_init(&run.w);
  run.outfd = -1;
  run.quiet = true;
  run.now = KQL_UNIX_EPOCH;
  if (kql_parse(&prog, "<fuzz>", text, size) == 0 &&
      kql_bind(&run, &prog) == 0) {
    /* A bound query runs over one empty row without trouble. */
    kql_run_buffer(&run, "{}\n", 3);
  } else if (!prog.failed || !strstr(prog.err, "error: ") ||
             !strchr(prog.err, '^')) {
    abort(); /* every failure is reported, with a caret */
  }
  kql_run_free(&run);
  kql_prog_free(&prog);
  free(text);
  return 0;
}
