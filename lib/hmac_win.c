/*
 * hmac_win.c - HMAC-SHA256 with CNG (bcrypt.dll; see hmac.h).
 *
 * An HMAC algorithm handle, one hash object keyed with the secret, one
 * HashData call, FinishHash. Letting BCryptCreateHash allocate the hash
 * object itself (NULL, 0) needs Windows 7, which platform.h targets.
 * Every handle is released on every path.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/hmac.h"

#include <windows.h>
#include <bcrypt.h>

int
hmac_sha256(const void *key, size_t key_len, const void *msg, size_t len,
            unsigned char out[HMAC_SHA256_LEN])
{
  if (key_len > 0xffffffffu || len > 0xffffffffu) return -1;
  BCRYPT_ALG_HANDLE alg = NULL;
  BCRYPT_HASH_HANDLE h = NULL;
  int r = -1;
  if (BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA256_ALGORITHM, NULL,
                                  BCRYPT_ALG_HANDLE_HMAC_FLAG) < 0)
    return -1;
  if (BCryptCreateHash(alg, &h, NULL, 0, (PUCHAR)key, (ULONG)key_len, 0) >= 0 &&
      BCryptHashData(h, (PUCHAR)msg, (ULONG)len, 0) >= 0 &&
      BCryptFinishHash(h, out, HMAC_SHA256_LEN, 0) >= 0)
    r = 0;
  if (h) BCryptDestroyHash(h);
  BCryptCloseAlgorithmProvider(alg, 0);
  return r;
}
