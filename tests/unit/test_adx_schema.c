/*
 * test_adx_schema.c - adxsink's schema inference, cslschema parsing and
 * the KQL text of its table and mapping commands (adxsink/adx_schema.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "adxsink/adx_schema.h"
#include "tests/unit/check.h"

#include <stdlib.h>
#include <string.h>

/* "name:type,..." of an inferred schema, for compact comparisons. */
static const char *
infer(const char *row)
{
  static char out[2048];
  struct adx_schema s;
  memset(&s, 0, sizeof s);
  char err[160];
  if (adx_schema_infer(row, strlen(row), &s, err, sizeof err) != 0) {
    snprintf(out, sizeof out, "error: %s", err);
    adx_schema_free(&s);
    return out;
  }
  size_t o = 0;
  out[0] = '\0';
  for (size_t i = 0; i < s.n && o < sizeof out; i++)
    o += (size_t)snprintf(out + o, sizeof out - o, "%s%s:%s", i ? "," : "",
                          s.cols[i].name, adx_type_name(s.cols[i].type));
  if (s.skipped && o < sizeof out)
    snprintf(out + o, sizeof out - o, " (%zu skipped)", s.skipped);
  adx_schema_free(&s);
  return out;
}

static void
regular_inference(void)
{
  CHECK_STR(infer("{\"ts\":\"2026-11-25T10:00:00Z\",\"level\":\"info\","
                  "\"n\":1}"),
            "ts:datetime,level:string,n:long");
  CHECK_STR(infer("{\"TimeCreated\":\"2010-06-09T21:39:21.1234567Z\"}"),
            "TimeCreated:datetime");
  CHECK_STR(infer("{\"a\":1.5,\"b\":-2,\"c\":1e3,\"d\":true,\"e\":false,"
                  "\"f\":null,\"g\":{\"x\":[1,{\"y\":\"}\"}]},\"h\":[]}"),
            "a:real,b:long,c:real,d:bool,e:bool,f:dynamic,g:dynamic,"
            "h:dynamic");
  CHECK_STR(infer("{\"id\":\"7DD42A49-5329-4832-8dfd-43d979153a88\"}"),
            "id:guid");
  CHECK_STR(
      infer("{\"max\":9223372036854775807,\"min\":"
            "-9223372036854775808,\"over\":9223372036854775808,"
            "\"u64\":18446744073709551615,\"zeros\":000000000000000000001}"),
      "max:long,min:long,over:decimal,u64:decimal,zeros:long");
  CHECK_STR(infer(" { \"a\" : 1 , \"a\" : \"dup\" } \n"), "a:long");
  CHECK_STR(infer("{\"esc\\\"aped\\u00e9\\ud83d\\ude00\":\"x\"}"),
            "esc\"apedé😀:string");
  CHECK_STR(infer("{}"), "");
  CHECK_STR(infer("{\"\":1,\"ok\":2,\"ctl\\n\":3}"), "ok:long (2 skipped)");
  /* Date-time forms: offsets, no seconds, space; not dates alone. */
  CHECK(adx_is_datetime("2026-11-25T10:00Z", 17));
  CHECK(adx_is_datetime("2026-11-25 10:00:00+01:00", 25));
  CHECK(adx_is_datetime("2026-11-25T10:00:00.5-0130", 26));
  CHECK(adx_is_datetime("2026-11-25T10:00:00", 19));
  CHECK(!adx_is_datetime("2026-11-25", 10));
  CHECK(!adx_is_datetime("2026-13-25T10:00:00Z", 20));
  CHECK(!adx_is_datetime("2026-11-25T24:00:00Z", 20));
  CHECK(!adx_is_datetime("2026-11-25T10:00:00ZZ", 21));
  CHECK(!adx_is_datetime("2026-11-25T10:00:00.Z", 21));
  CHECK(!adx_is_guid("7dd42a49-5329-4832-8dfd-43d979153a8", 35));
  CHECK(!adx_is_guid("7dd42a49x5329-4832-8dfd-43d979153a88", 36));
  CHECK(!adx_is_guid("gdd42a49-5329-4832-8dfd-43d979153a88", 36));
}

/* adxsink infers over every row of a batch into one schema: members in
 * the order first seen, each keeping the type of its first value. */
static void
union_inference(void)
{
  struct adx_schema s;
  memset(&s, 0, sizeof s);
  char err[160];
  const char *rows[] = {
      "{\"a\":1,\"t\":\"2026-11-25T10:00:00Z\"}",
      "{\"t\":\"not a time\",\"b\":\"x\",\"a\":\"str\"}",
      "{\"c\":[1],\"\":5,\"b\":2}",
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    CHECK(adx_schema_infer(rows[i], strlen(rows[i]), &s, err, sizeof err) == 0);
  CHECK(s.n == 4);
  if (s.n == 4) {
    CHECK_STR(s.cols[0].name, "a");
    CHECK(s.cols[0].type == ADX_T_LONG);
    CHECK_STR(s.cols[1].name, "t");
    CHECK(s.cols[1].type == ADX_T_DATETIME);
    CHECK_STR(s.cols[2].name, "b");
    CHECK(s.cols[2].type == ADX_T_STRING);
    CHECK_STR(s.cols[3].name, "c");
    CHECK(s.cols[3].type == ADX_T_DYNAMIC);
  }
  CHECK(s.skipped == 1);
  /* A row that is not an object adds nothing and says why. */
  CHECK(adx_schema_infer("[1]", 3, &s, err, sizeof err) != 0 && s.n == 4);
  adx_schema_free(&s);
}

static void
error_inference(void)
{
  static const char *const bad[] = {"",
                                    "[]",
                                    "{",
                                    "{\"a\"}",
                                    "{\"a\":}",
                                    "{\"a\":1,}",
                                    "{\"a\":tru}",
                                    "{\"a\":1}x",
                                    "{\"a\":-}",
                                    "{\"a\":1.}",
                                    "{\"a\":\"\\x\"}",
                                    "{\"a\":[1}",
                                    "{\"a\":\"unterminated}",
                                    "{\"a\":1e}",
                                    "{a:1}",
                                    "{\"a\":\"\\u12\"}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *r = infer(bad[i]);
    if (strncmp(r, "error: ", 7) != 0)
      fprintf(stderr, "accepted bad row %s -> %s\n", bad[i], r);
    CHECK(strncmp(r, "error: ", 7) == 0);
  }
}

static void
csl(void)
{
  struct adx_schema s;
  memset(&s, 0, sizeof s);
  char err[160];
  CHECK(adx_schema_parse_csl("ts:datetime,level:string,['my col']:long,"
                             "[\"x\\\"y\"]:dynamic, d:double",
                             &s, err, sizeof err) == 0);
  CHECK(s.n == 5);
  if (s.n == 5) {
    CHECK_STR(s.cols[2].name, "my col");
    CHECK(s.cols[2].type == ADX_T_LONG);
    CHECK_STR(s.cols[3].name, "x\"y");
    CHECK(s.cols[4].type == ADX_T_REAL);
  }
  adx_schema_free(&s);
  CHECK(adx_schema_parse_csl("", &s, err, sizeof err) == 0 && s.n == 0);
  CHECK(adx_schema_parse_csl("a:frob", &s, err, sizeof err) != 0);
  adx_schema_free(&s);
  CHECK(adx_schema_parse_csl("a", &s, err, sizeof err) != 0);
  adx_schema_free(&s);
  CHECK(adx_schema_parse_csl("['a:long", &s, err, sizeof err) != 0);
  adx_schema_free(&s);
  CHECK(adx_schema_parse_csl("a:long;b:int", &s, err, sizeof err) != 0);
  adx_schema_free(&s);
}

static void
commands(void)
{
  struct adx_schema s;
  memset(&s, 0, sizeof s);
  adx_schema_add(&s, "ts", 2, ADX_T_DATETIME);
  adx_schema_add(&s, "weird 'name'\\", 13, ADX_T_STRING);
  adx_schema_add(&s, "table", 5, ADX_T_LONG);
  adx_schema_add(&s, "_ok9", 4, ADX_T_DYNAMIC);
  CHECK(adx_schema_add(&s, "ts", 2, ADX_T_LONG) == 1);
  CHECK(adx_schema_find(&s, "table") == 2);
  CHECK(adx_schema_find(&s, "nope") == -1);
  struct adx_str o;
  adx_str_init(&o);
  adx_cmd_create_merge(&o, "Ev ents", &s);
  CHECK_STR(o.p, ".create-merge table ['Ev ents'] (ts:datetime, "
                 "['weird \\'name\\'\\\\']:string, ['table']:long, "
                 "_ok9:dynamic)");
  adx_str_clear(&o);
  adx_mapping_json(&o, &s);
  CHECK_STR(o.p, "[{\"column\":\"ts\",\"Properties\":{\"Path\":\"$.ts\"}},"
                 "{\"column\":\"weird 'name'\\\\\",\"Properties\":{\"Path\":"
                 "\"$['weird \\\\'name\\\\'\\\\\\\\']\"}},"
                 "{\"column\":\"table\",\"Properties\":{\"Path\":"
                 "\"$.table\"}},"
                 "{\"column\":\"_ok9\",\"Properties\":{\"Path\":\"$._ok9\"}}]");
  adx_str_clear(&o);
  struct adx_schema one;
  memset(&one, 0, sizeof one);
  adx_schema_add(&one, "n", 1, ADX_T_LONG);
  adx_cmd_mapping(&o, "Events", "Events_mapping", &one);
  CHECK_STR(o.p, ".create-or-alter table Events ingestion json mapping "
                 "'Events_mapping' '[{\"column\":\"n\",\"Properties\":"
                 "{\"Path\":\"$.n\"}}]'");
  adx_str_clear(&o);
  adx_kql_string(&o, "a'b\\c\nd");
  CHECK_STR(o.p, "'a\\'b\\\\c\\nd'");
  enum adx_type t;
  CHECK(adx_type_parse("boolean", 7, &t) == 0 && t == ADX_T_BOOL);
  CHECK(adx_type_parse("uniqueid", 8, &t) == 0 && t == ADX_T_GUID);
  CHECK(adx_type_parse("longer", 6, &t) != 0);
  adx_str_free(&o);
  adx_schema_free(&s);
  adx_schema_free(&one);
}

int
main(void)
{
  regular_inference();
  union_inference();
  error_inference();
  csl();
  commands();
  return check_result();
}
