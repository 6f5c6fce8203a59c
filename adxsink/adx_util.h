/*
 * adx_util.h - small helpers adxsink's modules share: a growable string,
 * URL and form encoding, and endpoint URL checks.
 *
 * struct adx_str is owned by its user (adx_str_free); once an allocation
 * fails it sets oom and ignores further appends, so a caller checks once
 * at the end. Endpoint rules (issue 6, azure.md section 2): a cluster is a
 * host or a URL; https is required except on loopback addresses (and the
 * IMDS link-local address for --imds-endpoint); the ingest endpoint is
 * derived by inserting "ingest-" after "://" except for IP addresses and
 * localhost, as the Kusto SDKs do.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ADX_UTIL_H
#define ADX_UTIL_H

#include "lib/platform.h"

struct adx_str {
  char *p; /* NUL-terminated when not NULL */
  size_t len, cap;
  bool oom;
};

void adx_str_init(struct adx_str *s);
void adx_str_free(struct adx_str *s);
void adx_str_clear(struct adx_str *s);
void adx_str_addn(struct adx_str *s, const char *p, size_t n);
void adx_str_add(struct adx_str *s, const char *p);
void adx_str_addf(struct adx_str *s, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    PLAT_PRINTF(2, 3)
#endif
    ;
/* adx_str_add_pct - append p percent-encoded: everything but the RFC 3986
 * unreserved characters (A-Z a-z 0-9 - . _ ~) becomes %XX. */
void adx_str_add_pct(struct adx_str *s, const char *p);
/* adx_str_extend - grow the string by n bytes (contents undefined) and
 * return where they start; NULL when out of memory. */
char *adx_str_extend(struct adx_str *s, size_t n);
/* adx_str_add_json - append p (UTF-8) as a JSON string with quotes. */
void adx_str_add_json(struct adx_str *s, const char *p);
/* adx_str_take - the string (never NULL unless oom), ownership moves to
 * the caller; s is left empty. */
char *adx_str_take(struct adx_str *s);

/* Flags for adx_url_base. */
#define ADX_URL_LINKLOCAL 1u /* allow http to 169.254.169.254 (IMDS) */

/*
 * adx_url_base - turn an endpoint argument into a base URL without a
 * trailing '/': "host[:port]" becomes "https://host[:port]", a URL is
 * kept. Refuses other schemes, a path, query or fragment, user info,
 * spaces, and plain http except to loopback hosts. 0, or -1 with the
 * reason in err.
 */
int adx_url_base(const char *arg, unsigned flags, char *out, size_t n,
                 char *err, size_t errn);

/* adx_url_host - the host of a URL (without port or brackets); 0 or -1. */
int adx_url_host(const char *url, char *host, size_t n);

/* adx_url_ingest - the data-management URL of an engine URL. 0 or -1. */
int adx_url_ingest(const char *engine, char *out, size_t n);

/* adx_host_loopback - 127.0.0.0/8, ::1 or localhost (and *.localhost). */
bool adx_host_loopback(const char *host);

/* adx_guid_from_hex - 32 hex digits as "8-4-4-4-12" (lowercase). 0/-1. */
int adx_guid_from_hex(const char *hex, char out[37]);

/* adx_utc_iso - UTC "YYYY-MM-DDTHH:MM:SS.mmmZ" of the current time. */
void adx_utc_iso(char out[32]);

/* adx_now_s - wall-clock Unix seconds. */
int64_t adx_now_s(void);

#endif
