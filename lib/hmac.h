/*
 * hmac.h - HMAC-SHA256, from the operating system's crypto library.
 *
 * Azure Storage SharedKey signatures (lib/azstorage_auth.c) need this
 * one primitive. POSIX: lib/hmac_posix.c (OpenSSL libcrypto); Windows:
 * lib/hmac_win.c (CNG, bcrypt.dll), so the Windows build needs no
 * OpenSSL.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_HMAC_H
#define RTK_HMAC_H

#include "lib/platform.h"

#define HMAC_SHA256_LEN 32

/* hmac_sha256 - out = HMAC-SHA256(key, msg). 0, or -1 when the crypto
 * library fails or a length is beyond what it takes. */
int hmac_sha256(const void *key, size_t key_len, const void *msg, size_t len,
                unsigned char out[HMAC_SHA256_LEN]);

#endif
