/*
 * adx_setup.c - make the table ready for the rows (see adx.h).
 *
 * --reset (the original --adxreset): .drop table T ifexists, then create
 * it from the schema inferred from the first batch's rows (every member
 * of every row, typed by its first value). Without --reset a missing
 * table is created the same way, and an existing one keeps its columns:
 * members it lacks are added with .create-merge (which never changes a
 * column's type). Each later batch is checked the same way, so rows
 * that bring new members (another query's columns, a newer event
 * version) get columns before they are ingested instead of losing
 * those values. Then a JSON ingestion mapping maps
 * every column by name ($.name), and a table adxsink created gets the
 * ingestion-time policy (as the original did) and, with --direct, the
 * streaming ingestion policy. With --mapping the named mapping is used as
 * it is. Commands as recorded in azure-recorded/01-mgmt-commands.txt.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "adxsink/adx.h"
#include "adxsink/adx_schema.h"

#include "lib/log.h"

#include <stdio.h>
#include <string.h>

static int
run(struct adx_ctx *x, struct adx_str *cmd, struct adx_v1 *out,
    struct adx_res *r)
{
  if (cmd->oom) {
    adx_res_fail(r, SINK_RETRY, "out of memory");
    return -1;
  }
  return adx_mgmt(x, false, x->db, cmd->p, out, r);
}

static int
table_cmd(struct adx_ctx *x, const char *fmt_before, const char *after,
          struct adx_v1 *out, struct adx_res *r)
{
  struct adx_str c;
  adx_str_init(&c);
  adx_str_add(&c, fmt_before);
  adx_kql_name(&c, x->table);
  adx_str_add(&c, after);
  int rc = run(x, &c, out, r);
  adx_str_free(&c);
  return rc;
}

/* Does the database have the table? 1 yes, 0 no, -1 failure. */
static int
table_exists(struct adx_ctx *x, struct adx_res *r)
{
  struct adx_str c;
  adx_str_init(&c);
  adx_str_add(&c, ".show tables");
  struct adx_v1 t;
  int rc = run(x, &c, &t, r);
  adx_str_free(&c);
  if (rc != 0) return -1;
  long col = adx_v1_col(&t, "TableName");
  int found = 0;
  for (size_t i = 0; i < t.nrows; i++) {
    const char *name = adx_v1_cell(&t, i, col);
    if (name && strcmp(name, x->table) == 0) found = 1;
  }
  adx_v1_free(&t);
  return found;
}

static int
existing_schema(struct adx_ctx *x, struct adx_schema *have, struct adx_res *r)
{
  struct adx_v1 t;
  if (table_cmd(x, ".show table ", " cslschema", &t, r) != 0) return -1;
  const char *text = adx_v1_cell(&t, 0, adx_v1_col(&t, "Schema"));
  char err[160];
  int rc = 0;
  if (!text || adx_schema_parse_csl(text, have, err, sizeof err) != 0) {
    adx_res_fail(r, SINK_FAIL, ".show table cslschema: unexpected answer: %s",
                 text ? err : "no Schema column");
    rc = -1;
  }
  adx_v1_free(&t);
  return rc;
}

static int
create_merge(struct adx_ctx *x, const struct adx_schema *s, struct adx_res *r)
{
  struct adx_str c;
  adx_str_init(&c);
  adx_cmd_create_merge(&c, x->table, s);
  int rc = run(x, &c, NULL, r);
  adx_str_free(&c);
  return rc;
}

static int
mapping(struct adx_ctx *x, const struct adx_schema *s, struct adx_res *r)
{
  struct adx_str c;
  adx_str_init(&c);
  adx_cmd_mapping(&c, x->table, x->mapping, s);
  int rc = run(x, &c, NULL, r);
  adx_str_free(&c);
  return rc;
}

/* covered - true when the mapping already takes every column of want. */
static bool
covered(const struct adx_ctx *x, const struct adx_schema *want)
{
  for (size_t i = 0; i < want->n; i++)
    if (adx_schema_find(&x->mapped, want->cols[i].name) < 0) return false;
  return true;
}

/* merge_new - add to have (and to add) every column of want it lacks. */
static int
merge_new(const struct adx_schema *want, struct adx_schema *have,
          struct adx_schema *add)
{
  for (size_t i = 0; i < want->n; i++) {
    const struct adx_col *c = &want->cols[i];
    if (adx_schema_find(have, c->name) >= 0) continue;
    if (adx_schema_add(add, c->name, strlen(c->name), c->type) < 0 ||
        adx_schema_add(have, c->name, strlen(c->name), c->type) < 0)
      return -1;
  }
  return 0;
}

int
adx_setup(struct adx_ctx *x, const struct sink_batch *b, struct adx_res *r)
{
  struct adx_schema want, have, add;
  memset(&want, 0, sizeof want);
  memset(&have, 0, sizeof have);
  memset(&add, 0, sizeof add);
  int rc = -1;
  bool again = x->setup_done;
  if (again && x->mapping_given) return 0; /* the user's mapping rules */
  char err[160];
  if (adx_schema_infer_lines(b->buf, b->len, !again, &want, err, sizeof err) !=
      0) {
    adx_res_fail(r, SINK_FAIL, "the first row: %s", err);
    goto out;
  }
  if (again && covered(x, &want)) {
    rc = 0;
    goto out;
  }
  if (want.skipped && !again)
    log_warn("%zu member name%s in the rows a Kusto column cannot take "
             "(empty, too long or with control characters); skipped",
             want.skipped, want.skipped == 1 ? "" : "s");
  if (want.n == 0) {
    adx_res_fail(r, SINK_FAIL,
                 "the first row has no members to make columns of");
    goto out;
  }
  bool created = false;
  /* Dropped once per run: a later setup (new columns, a lost mapping)
   * must not lose the rows ingested since. */
  bool drop = x->reset;
  if (drop) {
    if (table_cmd(x, ".drop table ", " ifexists", NULL, r) != 0) goto out;
    log_note("dropped table %s", x->table);
    x->reset = false;
  }
  int exists = drop ? 0 : table_exists(x, r);
  if (exists < 0) goto out;
  struct adx_schema *map = &want;
  if (!exists) {
    if (create_merge(x, &want, r) != 0) goto out;
    created = true;
    log_note("created table %s with %zu columns", x->table, want.n);
  } else {
    if (existing_schema(x, &have, r) != 0) goto out;
    /* With the user's own mapping, the columns are the user's too. */
    if (!x->mapping_given && merge_new(&want, &have, &add) != 0) {
      adx_res_fail(r, SINK_RETRY, "out of memory");
      goto out;
    }
    if (add.n) {
      if (create_merge(x, &add, r) != 0) goto out;
      log_note("added %zu column%s to table %s", add.n, add.n == 1 ? "" : "s",
               x->table);
    }
    map = &have;
  }
  if (!x->mapping_given && mapping(x, map, r) != 0) goto out;
  if (created &&
      table_cmd(x, ".alter table ", " policy ingestiontime true", NULL, r) != 0)
    goto out;
  if (created && x->direct &&
      table_cmd(x, ".alter table ", " policy streamingingestion enable", NULL,
                r) != 0)
    goto out;
  /* The columns the mapping now covers: taken over, not copied. */
  adx_schema_free(&x->mapped);
  x->mapped = *map;
  memset(map, 0, sizeof *map);
  x->setup_done = true;
  rc = 0;
out:
  adx_schema_free(&want);
  adx_schema_free(&have);
  adx_schema_free(&add);
  return rc;
}

void
adx_setup_free(struct adx_ctx *x)
{
  adx_schema_free(&x->mapped);
}
