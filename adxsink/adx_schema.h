/*
 * adx_schema.h - table schemas: inferred from a row, parsed from Kusto's
 * cslschema text, and written out as KQL management commands.
 *
 * Inference follows issue 6 and the original tool (azure.md section 3):
 * each member of the first row becomes a column in member order; JSON
 * integers are long (beyond 64 bits: decimal), other numbers real,
 * true/false bool, strings string unless they hold an ISO-8601 date-time
 * (datetime, as the event contract's TimeCreated) or a GUID (guid);
 * objects, arrays and null are dynamic. Names Kusto cannot take (empty,
 * over 1024 bytes, control characters) are skipped and counted.
 *
 * The command builders quote names as ['...'] unless they are plain
 * identifiers, and write string literals with KQL escapes, so any column
 * name survives both the KQL and the JSON level of a mgmt request.
 * struct adx_schema owns its column names (adx_schema_free).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ADX_SCHEMA_H
#define ADX_SCHEMA_H

#include "lib/platform.h"
#include "adxsink/adx_util.h"

enum adx_type {
  ADX_T_BOOL,
  ADX_T_INT,
  ADX_T_LONG,
  ADX_T_REAL,
  ADX_T_DECIMAL,
  ADX_T_STRING,
  ADX_T_DATETIME,
  ADX_T_TIMESPAN,
  ADX_T_GUID,
  ADX_T_DYNAMIC
};

#define ADX_MAX_COLUMNS 10000
#define ADX_MAX_NAME 1024

struct adx_col {
  char *name;
  enum adx_type type;
};

struct adx_schema {
  struct adx_col *cols;
  size_t n, cap;
  size_t skipped; /* members whose names Kusto cannot take */
};

/* adx_type_name - the KQL name ("long"...). */
const char *adx_type_name(enum adx_type t);

/* adx_type_parse - a KQL type name or alias (boolean, double, date,
 * time, uniqueid) in s[0, n); 0 or -1. */
int adx_type_parse(const char *s, size_t n, enum adx_type *t);

void adx_schema_free(struct adx_schema *s);

/* adx_schema_find - the index of column name, or -1. */
long adx_schema_find(const struct adx_schema *s, const char *name);

/* adx_schema_add - append a column; 0 added, 1 already there (kept as
 * it was), -1 out of memory or too many columns. */
int adx_schema_add(struct adx_schema *s, const char *name, size_t n,
                   enum adx_type t);

/*
 * adx_schema_infer - columns from one JSON object (row[0, len)), appended
 * to s. 0, or -1 with the reason in err when row is not a JSON object.
 */
int adx_schema_infer(const char *row, size_t len, struct adx_schema *s,
                     char *err, size_t errn);

/* adx_schema_infer_lines - adx_schema_infer over every line of
 * buf[0, len) (NDJSON rows) into one schema: members in the order first
 * seen, each typed by its first value. With strict_first a first line
 * that is not a JSON object fails (-1, reason in err); any other such
 * line adds nothing. */
int adx_schema_infer_lines(const char *buf, size_t len, bool strict_first,
                           struct adx_schema *s, char *err, size_t errn);

/* adx_schema_parse_csl - parse "a:string,['b c']:long" (the Schema column
 * of `.show table T cslschema`) into s. 0, or -1 with the reason. */
int adx_schema_parse_csl(const char *text, struct adx_schema *s, char *err,
                         size_t errn);

/* adx_is_datetime, adx_is_guid - does s[0, n) hold one? */
bool adx_is_datetime(const char *s, size_t n);
bool adx_is_guid(const char *s, size_t n);

/* adx_kql_name - append name as a KQL entity name. */
void adx_kql_name(struct adx_str *o, const char *name);

/* adx_kql_string - append s as a single-quoted KQL string literal. */
void adx_kql_string(struct adx_str *o, const char *s);

/* adx_cmd_create_merge - ".create-merge table T (a:long, ...)". */
void adx_cmd_create_merge(struct adx_str *o, const char *table,
                          const struct adx_schema *s);

/* adx_mapping_json - the JSON mapping text: every column from "$.name"
 * (or "$['name']"), as [{"column":..,"Properties":{"Path":..}},...]. */
void adx_mapping_json(struct adx_str *o, const struct adx_schema *s);

/* adx_cmd_mapping - ".create-or-alter table T ingestion json mapping
 * 'M' '<mapping json>'". */
void adx_cmd_mapping(struct adx_str *o, const char *table, const char *mapping,
                     const struct adx_schema *s);

#endif
