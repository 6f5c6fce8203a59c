/*
 * hmac_posix.c - HMAC-SHA256 with OpenSSL libcrypto (see hmac.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/hmac.h"

#include <limits.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

int
hmac_sha256(const void *key, size_t key_len, const void *msg, size_t len,
            unsigned char out[HMAC_SHA256_LEN])
{
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int maclen = 0;
  if (key_len > INT_MAX) return -1;
  if (!HMAC(EVP_sha256(), key, (int)key_len, msg, len, mac, &maclen) ||
      maclen != HMAC_SHA256_LEN)
    return -1;
  memcpy(out, mac, HMAC_SHA256_LEN);
  return 0;
}
