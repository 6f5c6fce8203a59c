/*
 * azstorage_auth.c - Azure Storage SharedKey signatures (see azstorage.h).
 *
 * The StringToSign comes from azs_string_to_sign() (lib/azstorage.c);
 * this file only signs it with HMAC-SHA256 (lib/hmac.h: OpenSSL on POSIX,
 * CNG on Windows) under the decoded account key and base64-encodes the
 * result. Kept apart so that code needing only the parser links no crypto
 * library.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/azstorage.h"

#include "lib/base64.h"
#include "lib/hmac.h"

#include <stdio.h>
#include <string.h>

int
azs_sharedkey(const struct azs_account *a, const char *method, const char *url,
              const struct http_header *h, size_t nh, uint64_t content_length,
              char *out, size_t n)
{
  if (!a->key || !a->name) return -1;
  char sts[8192];
  long len = azs_string_to_sign(a->name, method, url, h, nh, content_length,
                                sts, sizeof sts);
  if (len < 0) return -1;
  unsigned char mac[HMAC_SHA256_LEN];
  if (hmac_sha256(a->key, a->key_len, sts, (size_t)len, mac) != 0) return -1;
  char sig[BASE64_ENCODED_LEN(HMAC_SHA256_LEN) + 1];
  base64_encode(mac, sizeof mac, sig);
  int r = snprintf(out, n, "SharedKey %s:%s", a->name, sig);
  return r > 0 && (size_t)r < n ? 0 : -1;
}
