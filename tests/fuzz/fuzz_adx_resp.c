/*
 * fuzz_adx_resp.c - libFuzzer target for adxsink's parsers of what the
 * service answers: v1 result tables, Kusto error bodies, token, IMDS and
 * device-code answers, auth metadata and status-queue messages
 * (adxsink/adx_resp.c). The whole input goes to every parser; results
 * must keep their invariants (cells inside the table, tokens free of
 * spaces and control characters, messages printable). Seeds:
 * tests/fuzz/corpus/adx_resp/.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "adxsink/adx_resp.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
printable(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *p = (const char *)data;
  struct adx_v1 t;
  char err[128];
  if (adx_v1_parse(p, size, &t, err, sizeof err) == 0) {
    for (size_t r = 0; r <= t.nrows; r++)
      for (long c = -1; c <= (long)t.ncols; c++)
        (void)adx_v1_cell(&t, r, c);
    (void)adx_v1_col(&t, "StorageRoot");
    adx_v1_free(&t);
  }
  struct adx_kerr e;
  adx_kerr_parse(p, size, &e);
  printable(e.code);
  printable(e.message);
  if (e.permanent < -1 || e.permanent > 1) abort();
  struct adx_token k;
  if (adx_token_parse(p, size, &k) == 0) {
    for (const char *q = k.access_token; *q; q++)
      if ((unsigned char)*q <= ' ' || (unsigned char)*q >= 0x7f) abort();
    if (k.expires_in < 0) abort();
  }
  printable(k.error);
  printable(k.description);
  adx_token_free(&k);
  struct adx_devcode d;
  if (adx_devcode_parse(p, size, &d) == 0) {
    printable(d.message);
    if (d.interval < 1 || d.interval > 60 || d.expires_in < 1) abort();
    adx_devcode_free(&d);
  }
  char res[128];
  if (adx_metadata_resource(p, size, res, sizeof res) == 0 &&
      strncmp(res, "http", 4) != 0)
    abort();
  struct adx_status s;
  if (adx_status_parse(p, size, &s) == 0) {
    printable(s.source_id);
    printable(s.details);
  }
  return 0;
}
