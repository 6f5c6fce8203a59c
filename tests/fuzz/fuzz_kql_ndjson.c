/*
 * fuzz_kql_ndjson.c - libFuzzer target for kqlfilter's NDJSON reader and
 * row pipeline (kql_json.c, kql_run.c, the operators and the writer).
 *
 * Byte 0 picks one of a few fixed queries that between them touch every
 * path of the hot loop: passing rows through as bytes, extracting nested
 * values, extend in place, project-away, summarize, mv-expand and
 * bag_unpack. The rest is NDJSON text; malformed lines must be counted
 * and skipped, never read past. Output is discarded. Seeds:
 * tests/fuzz/corpus/kql_ndjson/.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "kqlfilter/kql_exec.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const queries[] = {
    "T | where EventId in (10, 11)",
    "T | extend p = EventData.PID, s = strcat_delim(\":\", EventData.saddr, "
    "EventData.sport) | project-away EventData",
    "T | extend EventId = EventId + 1 | where tostring(EventData) has \"a\"",
    "T | summarize count(), sum(tolong(EventData.size)), make_set(a) by "
    "bin(TimeCreated, 1m), k = tostring(EventData.PID)",
    "T | mv-expand a | evaluate bag_unpack(b) | take 50",
    "T | parse tostring(s) with x \":\" y:long | sort by y | distinct x",
    "T | extend d = parse_json(tostring(a)), e = extract_all(@\"(\\w+)\", "
    "tostring(s))",
    "T | summarize arg_max(TimeCreated, EventId), dcount(a) by tostring(b)",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || size > 1 << 20) return 0;
  const char *q = queries[data[0] % (sizeof queries / sizeof queries[0])];
  struct kql_prog prog;
  struct kql_run run;
  memset(&run, 0, sizeof run);
  jw_init(&run.w);
  run.outfd = -1;
  run.quiet = true;
  run.now = KQL_UNIX_EPOCH;
  if (kql_parse(&prog, "<fuzz>", q, strlen(q)) != 0 ||
      kql_bind(&run, &prog) != 0)
    abort(); /* the fixed queries are valid */
  /* The reader gets the bytes without a terminating NUL. */
  char *buf = malloc(size - 1 + 1);
  if (buf) {
    memcpy(buf, data + 1, size - 1);
    kql_run_buffer(&run, buf, size - 1);
    free(buf);
  }
  kql_run_free(&run);
  kql_prog_free(&prog);
  return 0;
}
