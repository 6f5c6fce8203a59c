/*
 * fuzz_adx_schema.c - libFuzzer target for adxsink's first-row schema
 * inference and cslschema parser, and the KQL commands built from what
 * they produce (adxsink/adx_schema.c). Input: a row (up to the first NUL)
 * then, optionally, cslschema text after it. Every inferred column must
 * have a usable name, and the create-merge and mapping commands built
 * from any schema must be single-line text that ends as expected. Seeds:
 * tests/fuzz/corpus/adx_schema/.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "adxsink/adx_schema.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
commands(const struct adx_schema *s)
{
  struct adx_str o;
  adx_str_init(&o);
  adx_cmd_create_merge(&o, "T", s);
  if (!o.oom && (!o.p || o.p[o.len - 1] != ')' || memchr(o.p, '\n', o.len)))
    abort();
  adx_str_clear(&o);
  adx_cmd_mapping(&o, "T", "T_mapping", s);
  if (!o.oom && (!o.p || o.p[o.len - 1] != '\'' || memchr(o.p, '\n', o.len)))
    abort();
  adx_str_free(&o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *p = (const char *)data;
  const char *nul = memchr(p, '\0', size);
  size_t rowlen = nul ? (size_t)(nul - p) : size;
  struct adx_schema s;
  memset(&s, 0, sizeof s);
  char err[160];
  if (adx_schema_infer(p, rowlen, &s, err, sizeof err) == 0) {
    for (size_t i = 0; i < s.n; i++) {
      size_t n = strlen(s.cols[i].name);
      if (n == 0 || n > ADX_MAX_NAME) abort();
      for (size_t k = 0; k < n; k++)
        if ((unsigned char)s.cols[i].name[k] < 0x20) abort();
    }
    commands(&s);
  }
  adx_schema_free(&s);
  if (nul) {
    size_t rest = size - rowlen - 1;
    char *text = malloc(rest + 1);
    if (!text) return 0;
    memcpy(text, nul + 1, rest);
    text[rest] = '\0';
    memset(&s, 0, sizeof s);
    if (adx_schema_parse_csl(text, &s, err, sizeof err) == 0) commands(&s);
    adx_schema_free(&s);
    free(text);
  }
  return 0;
}
