/*
 * test_adx_util.c - adxsink's endpoint URLs, encoders and response
 * parsers (adxsink/adx_util.c, adxsink/adx_resp.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "adxsink/adx_resp.h"
#include "adxsink/adx_util.h"
#include "tests/unit/check.h"

#include <stdlib.h>
#include <string.h>

static const char *
base(const char *arg, unsigned flags)
{
  static char out[512];
  char err[300];
  if (adx_url_base(arg, flags, out, sizeof out, err, sizeof err) != 0)
    return "error";
  return out;
}

static const char *
ingest(const char *engine)
{
  static char out[512];
  return adx_url_ingest(engine, out, sizeof out) == 0 ? out : "error";
}

static void
urls(void)
{
  CHECK_STR(base("CDOC.kusto.windows.net", 0),
            "https://CDOC.kusto.windows.net");
  CHECK_STR(base("HTTPS://c.kusto.windows.net/", 0),
            "https://c.kusto.windows.net");
  CHECK_STR(base("http://127.0.0.1:8080", 0), "http://127.0.0.1:8080");
  CHECK_STR(base("http://localhost:1", 0), "http://localhost:1");
  CHECK_STR(base("http://[::1]:1", 0), "http://[::1]:1");
  CHECK_STR(base("http://devstoreaccount1.blob.localhost:1", 0),
            "http://devstoreaccount1.blob.localhost:1");
  CHECK_STR(base("http://169.254.169.254", ADX_URL_LINKLOCAL),
            "http://169.254.169.254");
  CHECK_STR(base("http://169.254.169.254", 0), "error");
  CHECK_STR(base("http://example.com", 0), "error");
  CHECK_STR(base("http://127.0.0.1.evil.com", 0), "error");
  CHECK_STR(base("http://1270.0.0.1", 0), "error");
  CHECK_STR(base("ftp://x", 0), "error");
  CHECK_STR(base("https://x/db", 0), "error");
  CHECK_STR(base("https://x?a=b", 0), "error");
  CHECK_STR(base("https://user@x", 0), "error");
  CHECK_STR(base("https://", 0), "error");
  CHECK_STR(base("a b", 0), "error");
  CHECK_STR(base("", 0), "error");
  CHECK_STR(ingest("https://c.westeurope.kusto.windows.net"),
            "https://ingest-c.westeurope.kusto.windows.net");
  CHECK_STR(ingest("https://ingest-c.kusto.windows.net"),
            "https://ingest-c.kusto.windows.net");
  CHECK_STR(ingest("http://127.0.0.1:9"), "http://127.0.0.1:9");
  CHECK_STR(ingest("http://localhost:9"), "http://localhost:9");
  char host[64];
  CHECK(adx_url_host("https://A.B:443", host, sizeof host) == 0);
  CHECK_STR(host, "a.b");
  CHECK(adx_url_host("nourl", host, sizeof host) != 0);
  CHECK(adx_host_loopback("127.1.2.3"));
  CHECK(!adx_host_loopback("128.0.0.1"));
}

static void
strings(void)
{
  struct adx_str s;
  adx_str_init(&s);
  adx_str_add_pct(&s, "a b+/=&~é");
  CHECK_STR(s.p, "a%20b%2B%2F%3D%26~%C3%A9");
  adx_str_clear(&s);
  adx_str_add_json(&s, "q\"\\\n\x01/");
  CHECK_STR(s.p, "\"q\\\"\\\\\\u000a\\u0001/\"");
  adx_str_clear(&s);
  adx_str_addf(&s, "%d-%s", 42, "x");
  CHECK_STR(s.p, "42-x");
  char *t = adx_str_take(&s);
  CHECK_STR(t, "42-x");
  free(t);
  char g[37];
  CHECK(adx_guid_from_hex("0123456789ABCDEF0123456789abcdef00", g) == 0);
  CHECK_STR(g, "01234567-89ab-cdef-0123-456789abcdef");
  CHECK(adx_guid_from_hex("0123456789ABCDEF0123456789abcdeg", g) != 0);
  char iso[32];
  adx_utc_iso(iso);
  CHECK(strlen(iso) == 24 && iso[10] == 'T' && iso[23] == 'Z');
}

static void
responses(void)
{
  const char *tbl =
      "{\"Tables\":[{\"TableName\":\"Table_0\",\"Columns\":[{\"ColumnName\":"
      "\"ResourceTypeName\",\"DataType\":\"String\",\"ColumnType\":"
      "\"string\"},{\"ColumnName\":\"StorageRoot\",\"DataType\":\"String\","
      "\"ColumnType\":\"string\"}],\"Rows\":[[\"TempStorage\",\"https://x?"
      "sig=1\"],[\"A\",null]]}]}";
  struct adx_v1 t;
  char err[128];
  CHECK(adx_v1_parse(tbl, strlen(tbl), &t, err, sizeof err) == 0);
  CHECK(t.nrows == 2 && t.ncols == 2);
  CHECK(adx_v1_col(&t, "StorageRoot") == 1);
  CHECK_STR(adx_v1_cell(&t, 0, 1), "https://x?sig=1");
  CHECK(adx_v1_cell(&t, 1, 1) == NULL);
  CHECK(adx_v1_cell(&t, 2, 1) == NULL);
  CHECK(adx_v1_cell(&t, 0, -1) == NULL);
  adx_v1_free(&t);
  CHECK(adx_v1_parse("{\"Tables\":[]}", 13, &t, err, sizeof err) != 0);
  CHECK(adx_v1_parse("{\"Tables\":[{\"Columns\":[{}],\"Rows\":[[1,2]]}]}", 44,
                     &t, err, sizeof err) != 0);
  CHECK(adx_v1_parse("nope", 4, &t, err, sizeof err) != 0);

  struct adx_kerr e;
  const char *eb = "{\"error\":{\"code\":\"BadRequest_X\",\"message\":\"m\","
                   "\"@type\":\"T\",\"@message\":\"detail\\u001b[31m\","
                   "\"@permanent\":true}}";
  adx_kerr_parse(eb, strlen(eb), &e);
  CHECK_STR(e.code, "BadRequest_X");
  CHECK_STR(e.message, "detail?[31m");
  CHECK(e.permanent == 1);
  adx_kerr_parse("", 0, &e);
  CHECK(e.permanent == -1 && e.code[0] == '\0');

  struct adx_token k;
  const char *tk = "{\"token_type\":\"Bearer\",\"expires_in\":3599,"
                   "\"access_token\":\"abc.def\",\"refresh_token\":\"r1\"}";
  CHECK(adx_token_parse(tk, strlen(tk), &k) == 0);
  CHECK_STR(k.access_token, "abc.def");
  CHECK_STR(k.refresh_token, "r1");
  CHECK(k.expires_in == 3599);
  adx_token_free(&k);
  const char *imds = "{\"access_token\":\"x\",\"expires_in\":\"86399\","
                     "\"token_type\":\"Bearer\"}";
  CHECK(adx_token_parse(imds, strlen(imds), &k) == 0 && k.expires_in == 86399);
  adx_token_free(&k);
  const char *aerr = "{\"error\":\"invalid_client\",\"error_description\":"
                     "\"AADSTS7000215: Invalid client secret.\"}";
  CHECK(adx_token_parse(aerr, strlen(aerr), &k) != 0);
  CHECK_STR(k.error, "invalid_client");
  CHECK_STR(k.description, "AADSTS7000215: Invalid client secret.");
  adx_token_free(&k);
  CHECK(adx_token_parse("{\"access_token\":\"a b\"}", 22, &k) != 0);
  CHECK(adx_token_parse("{\"access_token\":\"ab\",\"token_type\":\"MAC\"}", 41,
                        &k) != 0);

  struct adx_devcode d;
  const char *dc = "{\"device_code\":\"DC\",\"user_code\":\"U\","
                   "\"verification_uri\":\"https://v\",\"interval\":0,"
                   "\"expires_in\":\"900\"}";
  CHECK(adx_devcode_parse(dc, strlen(dc), &d) == 0);
  CHECK_STR(d.message, "To sign in, open https://v and enter the code U.");
  CHECK(d.interval == 5 && d.expires_in == 900);
  adx_devcode_free(&d);

  char res[128];
  const char *md = "{\"AzureAD\":{\"KustoServiceResourceId\":"
                   "\"https://kusto.kusto.windows.net/\"}}";
  CHECK(adx_metadata_resource(md, strlen(md), res, sizeof res) == 0);
  CHECK_STR(res, "https://kusto.kusto.windows.net");
  CHECK(adx_metadata_resource("{\"AzureAD\":{\"KustoServiceResourceId\":"
                              "\"javascript:x\"}}",
                              53, res, sizeof res) != 0);

  struct adx_status st;
  const char *sj = "{\"OperationId\":\"op\",\"IngestionSourceId\":\"id1\","
                   "\"ErrorCode\":\"E\",\"FailureStatus\":\"Transient\","
                   "\"Details\":\"d\"}";
  CHECK(adx_status_parse(sj, strlen(sj), &st) == 0);
  CHECK_STR(st.source_id, "id1");
  CHECK(!st.permanent);
  CHECK(adx_status_parse("{}", 2, &st) != 0);

  char cut[6];
  adx_safe_copy(cut, sizeof cut, "ab\xc3\xa9\xc3\xa9");
  CHECK_STR(cut, "ab\xc3\xa9");
}

int
main(void)
{
  urls();
  strings();
  responses();
  return check_result();
}
