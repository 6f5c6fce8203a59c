/*
 * test_azstorage.c - connection strings, URLs, dates and SharedKey
 * signatures (lib/azstorage.c, lib/azstorage_auth.c, lib/base64.c).
 *
 * The signatures are the ones the official Node SDK sent in the recorded
 * requests of ../shared/design/azure-recorded/06 and 08 (same headers,
 * same date, Azurite's public development key): matching them byte for
 * byte is the proof that our StringToSign is the SDK's.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "lib/azstorage.h"
#include "lib/base64.h"
#include "tests/unit/check.h"

#include <stdlib.h>

static struct azs_account
dev(void)
{
  struct azs_account a;
  char err[256];
  int r = azs_parse("UseDevelopmentStorage=true", &a, err, sizeof err);
  CHECK(r == 0);
  return a;
}

/* Regular cases. */

static void
test_base64(void)
{
  char out[64];
  uint8_t bin[64];
  CHECK(base64_encode("", 0, out) == 0);
  CHECK_STR(out, "");
  base64_encode("f", 1, out);
  CHECK_STR(out, "Zg==");
  base64_encode("fo", 2, out);
  CHECK_STR(out, "Zm8=");
  base64_encode("foobar", 6, out);
  CHECK_STR(out, "Zm9vYmFy");
  CHECK(base64_decode("Zm9vYmE=", 8, bin) == 5 && memcmp(bin, "fooba", 5) == 0);
  CHECK(base64_decode("Zg==", 4, bin) == 1 && bin[0] == 'f');
  CHECK(base64_decode(AZS_DEV_KEY, strlen(AZS_DEV_KEY), bin) == 64);
}

static void
test_parse_forms(void)
{
  struct azs_account a;
  char err[256];

  a = dev();
  CHECK_STR(a.name, "devstoreaccount1");
  CHECK_STR(a.blob_endpoint, "http://127.0.0.1:10000/devstoreaccount1");
  CHECK_STR(a.queue_endpoint, "http://127.0.0.1:10001/devstoreaccount1");
  CHECK(a.key_len == 64 && !a.sas && a.dev);
  azs_account_free(&a);

  CHECK(azs_parse("UseDevelopmentStorage=true;DevelopmentStorageProxyUri="
                  "http://myproxy:8080/x",
                  &a, err, sizeof err) == 0);
  CHECK_STR(a.blob_endpoint, "http://myproxy:10000/devstoreaccount1");
  azs_account_free(&a);

  CHECK(azs_parse("DefaultEndpointsProtocol=https;AccountName=myacct;"
                  "AccountKey=" AZS_DEV_KEY ";EndpointSuffix=core.windows.net",
                  &a, err, sizeof err) == 0);
  CHECK_STR(a.name, "myacct");
  CHECK_STR(a.blob_endpoint, "https://myacct.blob.core.windows.net");
  CHECK_STR(a.queue_endpoint, "https://myacct.queue.core.windows.net");
  azs_account_free(&a);

  /* Defaults: https and core.windows.net; keys in any case; spaces. */
  CHECK(azs_parse(" accountname = acct2 ; ACCOUNTKEY=" AZS_DEV_KEY " ;", &a,
                  err, sizeof err) == 0);
  CHECK_STR(a.blob_endpoint, "https://acct2.blob.core.windows.net");
  azs_account_free(&a);

  CHECK(
      azs_parse(
          "DefaultEndpointsProtocol=http;AccountName=a1;AccountKey=" AZS_DEV_KEY
          ";EndpointSuffix=core.chinacloudapi.cn",
          &a, err, sizeof err) == 0);
  CHECK_STR(a.blob_endpoint, "http://a1.blob.core.chinacloudapi.cn");
  azs_account_free(&a);

  CHECK(azs_parse("AccountName=devstoreaccount1;AccountKey=" AZS_DEV_KEY
                  ";BlobEndpoint=http://127.0.0.1:12345/devstoreaccount1/;"
                  "QueueEndpoint=http://127.0.0.1:12346/devstoreaccount1",
                  &a, err, sizeof err) == 0);
  CHECK_STR(a.blob_endpoint, "http://127.0.0.1:12345/devstoreaccount1");
  CHECK_STR(a.queue_endpoint, "http://127.0.0.1:12346/devstoreaccount1");
  azs_account_free(&a);

  CHECK(azs_parse("BlobEndpoint=https://x.blob.core.windows.net;"
                  "SharedAccessSignature=?sv=2021-12-02&sr=c&sig=a%2Bb%3D",
                  &a, err, sizeof err) == 0);
  CHECK(!a.name && !a.key);
  CHECK_STR(a.sas, "sv=2021-12-02&sr=c&sig=a%2Bb%3D");
  CHECK(!a.queue_endpoint);
  azs_account_free(&a);

  CHECK(azs_parse("AccountName=acct;SharedAccessSignature=sv=1&sig=x;"
                  "Unknown=ignored",
                  &a, err, sizeof err) == 0);
  CHECK_STR(a.blob_endpoint, "https://acct.blob.core.windows.net");
  azs_account_free(&a);
}

static void
test_urls(void)
{
  struct azs_account a = dev();
  char url[512];
  CHECK(azs_blob_url(&a, "c1", NULL, "restype=container", true, url,
                     sizeof url) == 0);
  CHECK_STR(url,
            "http://127.0.0.1:10000/devstoreaccount1/c1?restype=container");
  CHECK(azs_blob_url(&a, "c1", "a b/c+d.json", NULL, true, url, sizeof url) ==
        0);
  CHECK_STR(url, "http://127.0.0.1:10000/devstoreaccount1/c1/a%20b/c%2Bd.json");
  CHECK(azs_blob_url(&a, "c1", "x", NULL, true, url, 20) == -1);
  free(a.sas);
  a.sas = malloc(16);
  memcpy(a.sas, "sv=1&sig=abc", 13);
  CHECK(azs_blob_url(&a, "c1", "x", "comp=list", true, url, sizeof url) == 0);
  CHECK_STR(
      url,
      "http://127.0.0.1:10000/devstoreaccount1/c1/x?comp=list&sv=1&sig=abc");
  CHECK(azs_blob_url(&a, "c1", NULL, NULL, false, url, sizeof url) == 0);
  CHECK_STR(url, "http://127.0.0.1:10000/devstoreaccount1/c1");
  azs_account_free(&a);

  CHECK(azs_container_ok("abc") && azs_container_ok("a-1-b"));
  CHECK(azs_container_ok("$root"));
  CHECK(!azs_container_ok("ab") && !azs_container_ok("Abc"));
  CHECK(!azs_container_ok("a--b") && !azs_container_ok("-ab"));
  CHECK(!azs_container_ok("ab-") && !azs_container_ok("a_b"));
}

static void
test_dates(void)
{
  char d[32];
  azs_rfc1123(0, d);
  CHECK_STR(d, "Thu, 01 Jan 1970 00:00:00 GMT");
  azs_rfc1123(1795625173, d); /* the recorded requests' date */
  CHECK_STR(d, "Wed, 25 Nov 2026 16:46:13 GMT");
  azs_rfc1123(951782400, d);
  CHECK_STR(d, "Tue, 29 Feb 2000 00:00:00 GMT");
}

static void
test_sharedkey_recorded(void)
{
  struct azs_account a = dev();
  char auth[256];
  /* 06: create container. */
  struct http_header h1[] = {
      {"x-ms-version", "2026-04-06"},
      {"Accept", "application/xml"},
      {"x-ms-client-request-id", "e08b9ea9-d1af-40b1-b1d2-8b022edf3ca1"},
      {"x-ms-date", "Wed, 25 Nov 2026 16:46:13 GMT"}};
  CHECK(azs_sharedkey(&a, "PUT",
                      "http://127.0.0.1:20000/devstoreaccount1/ndjson-batches"
                      "?restype=container",
                      h1, 4, 0, auth, sizeof auth) == 0);
  CHECK_STR(auth, "SharedKey devstoreaccount1:"
                  "r4/qmtbrsdjHOxyr0YhzUmJ5EPJJCNBKBeS73yz6R7A=");
  /* 06: Put Blob, 192 bytes. */
  struct http_header h2[] = {
      {"Content-Type", "application/octet-stream"},
      {"x-ms-version", "2026-04-06"},
      {"x-ms-blob-content-type", "application/json"},
      {"Accept", "application/xml"},
      {"x-ms-blob-type", "BlockBlob"},
      {"x-ms-client-request-id", "6c9d34e4-7bf2-4551-8f59-11075d3b7dda"},
      {"x-ms-date", "Wed, 25 Nov 2026 16:46:13 GMT"}};
  const char *url2 = "http://127.0.0.1:20000/devstoreaccount1/ndjson-batches/"
                     "2026/11/25/batch-000001.json";
  char sts[2048];
  long n = azs_string_to_sign("devstoreaccount1", "PUT", url2, h2, 7, 192, sts,
                              sizeof sts);
  CHECK(n > 0);
  CHECK_STR(sts, "PUT\n\n\n192\n\napplication/octet-stream\n\n\n\n\n\n\n"
                 "x-ms-blob-content-type:application/json\n"
                 "x-ms-blob-type:BlockBlob\n"
                 "x-ms-client-request-id:6c9d34e4-7bf2-4551-8f59-11075d3b7dda\n"
                 "x-ms-date:Wed, 25 Nov 2026 16:46:13 GMT\n"
                 "x-ms-version:2026-04-06\n"
                 "/devstoreaccount1/devstoreaccount1/ndjson-batches/2026/11/25/"
                 "batch-000001.json");
  CHECK(azs_sharedkey(&a, "PUT", url2, h2, 7, 192, auth, sizeof auth) == 0);
  CHECK_STR(auth, "SharedKey devstoreaccount1:"
                  "4oE244z05hwcz2sNycTqwJf0+icnUYeYfBqz4r6N0/E=");
  /* 08: List Blobs; query parameters sorted by name. */
  struct http_header h3[] = {
      {"x-ms-version", "2026-04-06"},
      {"Accept", "application/xml"},
      {"x-ms-client-request-id", "59c160d7-dc2a-4a5e-80b1-ee57b30db884"},
      {"x-ms-date", "Wed, 25 Nov 2026 16:46:13 GMT"}};
  CHECK(azs_sharedkey(&a, "GET",
                      "http://127.0.0.1:20000/devstoreaccount1/ndjson-batches"
                      "?comp=list&restype=container",
                      h3, 4, 0, auth, sizeof auth) == 0);
  CHECK_STR(auth, "SharedKey devstoreaccount1:"
                  "FtpWiiAas/WgAZbFCLIrFWCWRBBVgGe50PZCxwzPMcs=");
  /* Query order in the URL does not matter. */
  CHECK(azs_sharedkey(&a, "GET",
                      "http://127.0.0.1:20000/devstoreaccount1/ndjson-batches"
                      "?restype=container&comp=list",
                      h3, 4, 0, auth, sizeof auth) == 0);
  CHECK_STR(auth, "SharedKey devstoreaccount1:"
                  "FtpWiiAas/WgAZbFCLIrFWCWRBBVgGe50PZCxwzPMcs=");
  azs_account_free(&a);
}

static void
test_sts_query_values(void)
{
  char sts[1024];
  struct http_header none[1] = {{"Accept", "*/*"}};
  long n =
      azs_string_to_sign("acct", "GET",
                         "https://acct.blob.core.windows.net/c?comp=list"
                         "&include=metadata&include=snapshots&prefix=a%2Fb",
                         none, 0, 0, sts, sizeof sts);
  CHECK(n > 0);
  CHECK_STR(sts, "GET\n\n\n\n\n\n\n\n\n\n\n\n/acct/c\ncomp:list\n"
                 "include:metadata,snapshots\nprefix:a/b");
  n = azs_string_to_sign("acct", "GET", "https://acct.blob.core.windows.net",
                         none, 0, 0, sts, sizeof sts);
  CHECK(n > 0 && strcmp(sts + n - 6, "/acct/") == 0);
  CHECK(azs_string_to_sign("acct", "GET", "https://h/c", none, 0, 0, sts, 10) ==
        -1);
}

/* Error cases. */

static void
test_parse_errors(void)
{
  static const char *const bad[] = {
      "",
      "garbage",
      "AccountName=acct",
      "AccountKey=" AZS_DEV_KEY,
      "AccountName=acct;AccountKey=not*base64",
      "AccountName=Acct;AccountKey=" AZS_DEV_KEY,
      "AccountName=a;AccountName=b;AccountKey=" AZS_DEV_KEY,
      "DefaultEndpointsProtocol=ftp;AccountName=a;AccountKey=" AZS_DEV_KEY,
      "BlobEndpoint=ftp://x;SharedAccessSignature=sv=1",
      "BlobEndpoint=http://;SharedAccessSignature=sv=1",
      "SharedAccessSignature=sv=1",
      "UseDevelopmentStorage=false",
      "=value;AccountName=a",
      "AccountName=a;EndpointSuffix=a/b;AccountKey=" AZS_DEV_KEY,
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct azs_account a;
    char err[256] = "";
    int r = azs_parse(bad[i], &a, err, sizeof err);
    CHECK(r == -1);
    CHECK(err[0] != '\0');
    CHECK(!a.name && !a.key && !a.blob_endpoint);
    /* Secrets never appear in messages. */
    CHECK(!strstr(err, "Eby8vdM02x"));
    if (r == 0) azs_account_free(&a);
  }
  uint8_t out[16];
  CHECK(base64_decode("Zg=", 3, out) == -1);
  CHECK(base64_decode("Zh==", 4, out) == -1); /* stray low bits */
  CHECK(base64_decode("Z===", 4, out) == -1);
  CHECK(base64_decode("Zm9v!mFy", 8, out) == -1);
  struct azs_account nokey;
  memset(&nokey, 0, sizeof nokey);
  char auth[64];
  CHECK(azs_sharedkey(&nokey, "GET", "http://h/c", NULL, 0, 0, auth,
                      sizeof auth) == -1);
}

int
main(void)
{
  test_base64();
  test_parse_forms();
  test_urls();
  test_dates();
  test_sharedkey_recorded();
  test_sts_query_values();
  test_parse_errors();
  return check_result();
}
