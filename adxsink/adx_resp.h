/*
 * adx_resp.h - parse what Kusto and Entra ID answer: v1 result tables,
 * Kusto error bodies, token and device-code responses.
 *
 * Every parser takes untrusted bytes (fuzzed: tests/fuzz/fuzz_adx_resp.c)
 * and copies out what adxsink needs; text that may reach stderr has
 * control characters replaced, so a hostile peer cannot drive the
 * terminal. Shapes: azure.md sections 1, 3 and 6.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ADX_RESP_H
#define ADX_RESP_H

#include "lib/platform.h"

/* The first table of a v1 response ({"Tables":[{"Columns":[...],
 * "Rows":[[...]]}]}), string cells only: other cells are NULL. */
struct adx_v1 {
  size_t ncols, nrows;
  char **colnames; /* ncols */
  char **cells;    /* nrows * ncols, row-major; NULL when not a string */
};

/* adx_v1_parse - 0, or -1 with the reason in err. */
int adx_v1_parse(const char *body, size_t len, struct adx_v1 *t, char *err,
                 size_t errn);
void adx_v1_free(struct adx_v1 *t);
/* adx_v1_col - index of a column by name, or -1. */
long adx_v1_col(const struct adx_v1 *t, const char *name);
/* adx_v1_cell - a string cell, or NULL. */
const char *adx_v1_cell(const struct adx_v1 *t, size_t row, long col);

/* A Kusto error body: {"error":{"code","message","@type","@message",
 * "@permanent"}}. Fields are empty when absent. */
struct adx_kerr {
  char code[128];
  char type[160];
  char message[384]; /* @message, else message */
  int permanent;     /* 1, 0, or -1 when the body did not say */
};

/* adx_kerr_parse - fill e from body (any bytes; never fails). */
void adx_kerr_parse(const char *body, size_t len, struct adx_kerr *e);

/* A token endpoint or IMDS answer. expires_in may be a number or (IMDS)
 * a string; 0 when absent. error/description come from error bodies. */
struct adx_token {
  char *access_token; /* malloc'd secret: wipe with adx_token_free */
  char *refresh_token;
  int64_t expires_in;
  char error[64];
  char description[384];
};

/* adx_token_parse - 0 when an access token was found, else -1 (the error
 * fields say why when the body did). */
int adx_token_parse(const char *body, size_t len, struct adx_token *t);
void adx_token_free(struct adx_token *t);

/* A device-code answer (v2 devicecode endpoint). */
struct adx_devcode {
  char *device_code;
  char message[512];
  int64_t interval, expires_in;
};

int adx_devcode_parse(const char *body, size_t len, struct adx_devcode *d);
void adx_devcode_free(struct adx_devcode *d);

/* adx_metadata_resource - KustoServiceResourceId from the auth metadata
 * answer into out; 0, or -1 when absent or not an http(s) URL. */
int adx_metadata_resource(const char *body, size_t len, char *out, size_t n);

/* A status-queue message of the data-management service (base64-decoded
 * JSON: OperationId, IngestionSourceId, ErrorCode, FailureStatus,
 * Details...). */
struct adx_status {
  char source_id[64]; /* IngestionSourceId, else OperationId */
  char code[128];
  char details[384];
  bool permanent; /* FailureStatus "Permanent" (or no ShouldRetry) */
};

/* adx_status_parse - 0, or -1 when the text is not such a message. */
int adx_status_parse(const char *json, size_t len, struct adx_status *s);

/* adx_safe_copy - copy s into out, control characters as '?'. */
void adx_safe_copy(char *out, size_t n, const char *s);

#endif
