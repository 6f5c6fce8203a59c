/*
 * azstorage.h - Azure Storage connection strings, URLs and SharedKey
 * signing, shared by blobsink and adxsink.
 *
 * azs_parse() reads every connection-string form Azure documents
 * (AccountName/AccountKey with DefaultEndpointsProtocol/EndpointSuffix,
 * explicit BlobEndpoint/QueueEndpoint, SharedAccessSignature,
 * UseDevelopmentStorage=true) into struct azs_account, which owns its
 * strings and the decoded key; azs_account_free() wipes the secrets.
 * Errors name the offending key, never a value. Signing
 * (lib/azstorage_auth.c over lib/hmac.h) follows azure.md section 7
 * byte for byte: "/" + account + URL path as the resource, which doubles
 * the account for path-style URLs as Azure and Azurite expect.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_AZSTORAGE_H
#define RTK_AZSTORAGE_H

#include "lib/platform.h"
#include "lib/http.h"

/* The storage REST version every request pins (azure.md section 9). */
#define AZS_API_VERSION "2021-12-02"

/* The development storage account (Azurite), documented and public. */
#define AZS_DEV_ACCOUNT "devstoreaccount1"
#define AZS_DEV_KEY                                                            \
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPT"     \
  "Otr/KBHBeksoGMGw=="

struct azs_account {
  char *name;   /* account name; NULL when only a SAS is given */
  uint8_t *key; /* decoded AccountKey, or NULL */
  size_t key_len;
  char *blob_endpoint;  /* no trailing '/'; may be path-style */
  char *queue_endpoint; /* NULL when it cannot be derived */
  char *sas;            /* SAS query without '?', or NULL */
  bool dev;             /* UseDevelopmentStorage=true */
};

/*
 * azs_parse - parse connection string cs into *a (zeroed first). 0, or -1
 * with the reason in err[0, n) and *a left empty.
 */
int azs_parse(const char *cs, struct azs_account *a, char *err, size_t n);

/* azs_account_free - free the strings, wiping the key and the SAS. */
void azs_account_free(struct azs_account *a);

/* azs_container_ok - a valid container name: 3-63 lowercase letters,
 * digits and single hyphens, starting and ending with a letter or digit
 * (or "$root"/"$web"). */
bool azs_container_ok(const char *name);

/*
 * azs_blob_url - "<blob endpoint>/<container>[/<blob>][?<query>]" with
 * the blob name percent-encoded and, when the account has a SAS and
 * with_sas is set, the SAS appended. 0, or -1 if it does not fit.
 */
int azs_blob_url(const struct azs_account *a, const char *container,
                 const char *blob, const char *query, bool with_sas, char *out,
                 size_t n);

/* azs_rfc1123 - "Wed, 25 Nov 2026 16:46:13 GMT" for Unix time t. */
void azs_rfc1123(int64_t t, char out[32]);

/*
 * azs_string_to_sign - the SharedKey StringToSign for a request: method,
 * URL, the headers that will be sent (standard ones and x-ms-*), and the
 * body length (0 is signed as empty). Returns its length, or -1 if it
 * does not fit in out[0, n) or the URL is malformed.
 */
long azs_string_to_sign(const char *account, const char *method,
                        const char *url, const struct http_header *h, size_t nh,
                        uint64_t content_length, char *out, size_t n);

/*
 * azs_sharedkey - the Authorization value "SharedKey <account>:<sig>"
 * for the request, into out[0, n). 0, or -1 (no key, or too long).
 */
int azs_sharedkey(const struct azs_account *a, const char *method,
                  const char *url, const struct http_header *h, size_t nh,
                  uint64_t content_length, char *out, size_t n);

#endif
