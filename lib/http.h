/*
 * http.h - HTTP requests over libcurl for the sinks.
 *
 * One struct http_client owns one curl easy handle, so its connection is
 * reused from request to request. TLS is always verified (--cacert adds a
 * private CA); proxies come from the environment (http_proxy, https_proxy,
 * no_proxy) as libcurl reads them. A transfer that makes no progress for
 * the stall timeout is aborted, and so is one the cancel callback stops
 * (shutdown). Responses keep their status, a few headers and the body up
 * to a limit. Messages never contain the URL's query (it may hold a SAS)
 * or any request header value.
 *
 * curl_global_init() is the program's job (once, in main). This file is
 * the only one that includes curl.h, so programs that never make requests
 * never link libcurl.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_HTTP_H
#define RTK_HTTP_H

#include "lib/platform.h"

struct http_client;

struct http_client_opts {
  const char *user_agent;      /* e.g. "blobsink/0.1.0" */
  const char *cacert;          /* PEM file of extra CAs, or NULL */
  uint64_t connect_timeout_ms; /* 0: libcurl's default */
  uint64_t stall_timeout_ms;   /* abort after this long without progress */
  bool (*cancel)(void);        /* polled during transfers; true = abort */
};

struct http_header {
  const char *name;
  const char *value;
};

struct http_request {
  const char *method; /* "GET", "PUT", "POST", "DELETE", "HEAD" */
  const char *url;
  const struct http_header *headers;
  size_t nheaders;
  const void *body; /* sent with Content-Length; NULL and 0: none */
  size_t body_len;
  size_t max_response; /* response bytes kept (0: 64 KiB) */
};

#define HTTP_MAX_HEADERS 32

struct http_response {
  long status;     /* HTTP status, or 0 when none arrived */
  bool transient;  /* status 0: was it a failure a retry can fix? */
  bool cancelled;  /* stopped by the cancel callback */
  char error[256]; /* libcurl's error text when status is 0 */
  char *body;      /* NUL-terminated, at most max_response bytes */
  size_t body_len;
  bool body_truncated;
  size_t nheaders; /* response headers, names lowercased */
  char *hname[HTTP_MAX_HEADERS];
  char *hvalue[HTTP_MAX_HEADERS];
};

/* http_client_new - NULL on failure (out of memory, no libcurl). */
struct http_client *http_client_new(const struct http_client_opts *o);
void http_client_free(struct http_client *c);

/*
 * http_perform - send rq and wait for the whole response. 0 when an HTTP
 * response arrived (any status); -1 when none did (rs->error says why,
 * rs->transient whether to retry). Free rs with http_response_free.
 */
int http_perform(struct http_client *c, const struct http_request *rq,
                 struct http_response *rs);
void http_response_free(struct http_response *rs);

/* http_response_header - a response header's value (name in any case),
 * or NULL. */
const char *http_response_header(const struct http_response *rs,
                                 const char *name);

/*
 * http_describe - "PUT http://host:port/path: HTTP 403 (x-ms-error-code)"
 * or "...: <libcurl error>", with the query string removed: safe to log.
 */
void http_describe(const struct http_request *rq,
                   const struct http_response *rs, char *out, size_t n);

/* http_url_safe - the URL without its query and fragment, for messages. */
void http_url_safe(const char *url, char *out, size_t n);

#endif
