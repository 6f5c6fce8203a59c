/*
 * main.c - blobsink: NDJSON rows on stdin to Azure Blob Storage, one
 * JSON-array blob per batch.
 *
 * The connection string comes from --connection-string (a value or
 * @FILE) or RTK_BLOB_CONNECTION_STRING; it is never printed. The shared
 * sink engine (lib/sink.h) batches, retries, spools and handles signals;
 * blob_put.c talks to the storage service. Manual:
 * share/man/blobsink.1.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "blobsink/blob.h"
#include "lib/log.h"
#include "lib/sink.h"
#include "lib/sink_opts.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENV_CS "RTK_BLOB_CONNECTION_STRING"

enum { O_CONNSTR, O_CONTAINER, O_GZIP, O_NDJSON };

/* Sorted by long name (bsearch). */
static const struct sink_opt opts[] = {
    {"connection-string", 0, SINK_ARG_SECRET, O_CONNSTR, "CS",
     "storage connection string, or @FILE (default: $" ENV_CS ")"},
    {"container", 'c', SINK_ARG_STR, O_CONTAINER, "NAME",
     "blob container (created when missing)"},
    {"gzip", 0, SINK_ARG_NONE, O_GZIP, NULL,
     "gzip each blob (Content-Encoding: gzip, name ends in .gz)"},
    {"ndjson", 0, SINK_ARG_NONE, O_NDJSON, NULL,
     "one object per line in each blob instead of a JSON array"},
};

struct args {
  struct blob *bl;
  char *connstr; /* resolved secret */
};

static int
on_opt(void *ud, const struct sink_opt *o, const char *val)
{
  struct args *a = ud;
  switch (o->id) {
  case O_CONNSTR:
    sink_secret_free(a->connstr);
    a->connstr = sink_secret(val);
    return a->connstr ? 0 : -1;
  case O_CONTAINER:
    a->bl->container = val;
    return 0;
  case O_GZIP:
    a->bl->gzip = true;
    return 0;
  case O_NDJSON:
    a->bl->ndjson = true;
    return 0;
  default:
    return -1;
  }
}

static void
usage(FILE *f)
{
  fprintf(f, "usage: blobsink [-hv] [--gzip] [--ndjson] "
             "[--connection-string=CS] --container=NAME [options] "
             "< rows.ndjson\n"
             "Uploads NDJSON rows from standard input to Azure Blob Storage, "
             "one blob per batch.\n");
  sink_opts_help(f, opts, sizeof opts / sizeof opts[0],
                 SINK_OPTS_BASIC | SINK_OPTS_NET);
  fprintf(f, "exit status: 0 all rows delivered, 3 some rows spooled, "
             "1 rows lost, 2 usage error\n");
}

/* Connection string and container: checked before anything runs. */
static int
setup(struct args *a, struct sink_opts *so)
{
  struct blob *bl = a->bl;
  if (!a->connstr) {
    const char *env = getenv(ENV_CS);
    if (!env || !*env) {
      log_err("no connection string: use --connection-string or set " ENV_CS);
      return -1;
    }
    a->connstr = sink_secret(env);
    if (!a->connstr) return -1;
  }
  char err[256];
  if (azs_parse(a->connstr, &bl->acct, err, sizeof err) != 0) {
    log_err("%s", err);
    return -1;
  }
  if (!bl->container) {
    log_err("--container is required");
    return -1;
  }
  if (!azs_container_ok(bl->container)) {
    log_err("--container: \"%s\" is not a valid container name (3-63 "
            "lowercase letters, digits and single hyphens)",
            bl->container);
    return -1;
  }
  /* A container SAS (sr=c) cannot create containers; an account SAS
   * might; a key always can. */
  const char *sas = bl->acct.sas;
  bl->can_create =
      bl->acct.key || !sas ||
      !(strstr(sas, "sr=c&") ||
        (strlen(sas) >= 4 && strcmp(sas + strlen(sas) - 4, "sr=c") == 0));
  if (!bl->can_create) bl->container_ready = true;
  /* The spool is per destination: a batch never lands in another
   * container on replay. */
  char key[512];
  const char *host = strstr(bl->acct.blob_endpoint, "://");
  snprintf(key, sizeof key, "%s-%s",
           bl->acct.name ? bl->acct.name : (host ? host + 3 : "blob"),
           bl->container);
  return sink_opts_spool(so, "blobsink", key);
}

int
main(int argc, char **argv)
{
  plat_init(&argc, &argv);
  log_init("blobsink");
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
    log_err("cannot initialise libcurl");
    return SINK_EXIT_LOST;
  }
  struct sink_opts so;
  sink_opts_init(&so);
  struct blob bl;
  memset(&bl, 0, sizeof bl);
  struct args a = {&bl, NULL};
  int rc = SINK_EXIT_USAGE;
  if (sink_opts_parse(argc, argv, opts, sizeof opts / sizeof opts[0],
                      SINK_OPTS_BASIC | SINK_OPTS_NET, on_opt, &a, &so) != 0)
    goto out;
  if (so.help) {
    usage(stdout);
    rc = SINK_EXIT_OK;
    goto out;
  }
  if (so.version) {
    printf("blobsink %s\n", RTK_VERSION);
    rc = SINK_EXIT_OK;
    goto out;
  }
  log_set_verbosity(so.verbose);
  if (setup(&a, &so) != 0) goto out;
  sink_secret_free(a.connstr);
  a.connstr = NULL;

  struct http_client_opts ho = {"blobsink/" RTK_VERSION, so.cacert,
                                so.connect_timeout_ms, so.stall_timeout_ms,
                                sink_cancelled};
  bl.http = http_client_new(&ho);
  if (!bl.http) {
    log_err("cannot set up HTTP");
    rc = SINK_EXIT_LOST;
    goto out;
  }
  plat_pipe_grow(0);
  struct sink_ops ops = {&bl, blob_deliver, NULL};
  struct sink_stats st;
  rc = sink_run(&so.cfg, &ops, &st);
out:
  sink_secret_free(a.connstr);
  http_client_free(bl.http);
  blob_free(&bl);
  azs_account_free(&bl.acct);
  curl_global_cleanup();
  return rc;
}
