/*
 * main.c - adxsink: NDJSON rows on stdin into an Azure Data Explorer
 * table, the way the official Kusto SDKs ingest.
 *
 * Options are parsed with the shared sink options (lib/sink_opts.h) plus
 * adxsink's own table below; the shared sink engine (lib/sink.h) reads,
 * batches, retries and spools, and calls adx_deliver() for each batch.
 * Queued ingestion is the default, --direct streams. Secrets (the app key,
 * a fixed token) come from the environment (RTK_ADX_KEY, RTK_ADX_TOKEN)
 * or "@FILE", never from argv, and are never printed.
 * Manual: share/man/adxsink.1.md. Design: azure.md, issue 6.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "adxsink/adx.h"
#include "lib/log.h"
#include "lib/sink.h"
#include "lib/sink_opts.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  O_AUTHORITY,
  O_CLIENT_ID,
  O_CLUSTER,
  O_DATABASE,
  O_DEVICE_CODE,
  O_DIRECT,
  O_IMDS,
  O_INGEST,
  O_KEY,
  O_LOGIN,
  O_MSI,
  O_MAPPING,
  O_RESET,
  O_TABLE,
  O_TOKEN,
  O_WAIT,
  O_WAIT_TIMEOUT
};

/* Sorted by long name (bsearch). */
static const struct sink_opt opts[] = {
    {"authority", 0, SINK_ARG_STR, O_AUTHORITY, "TENANT",
     "Entra ID tenant (default microsoft.com)"},
    {"client-id", 0, SINK_ARG_STR, O_CLIENT_ID, "ID",
     "application id (user-assigned identity id)"},
    {"cluster", 'c', SINK_ARG_STR, O_CLUSTER, "HOST|URL",
     "ADX cluster: host name or URL"},
    {"database", 'd', SINK_ARG_STR, O_DATABASE, "NAME", "ADX database"},
    {"device-code", 0, SINK_ARG_NONE, O_DEVICE_CODE, NULL,
     "interactive device-code sign-in (default)"},
    {"direct", 0, SINK_ARG_NONE, O_DIRECT, NULL,
     "streaming instead of queued ingestion"},
    {"imds-endpoint", 0, SINK_ARG_STR, O_IMDS, "URL",
     "IMDS base URL (http://169.254.169.254)"},
    {"ingest-endpoint", 0, SINK_ARG_STR, O_INGEST, "URL",
     "data management URL (https://ingest-<cluster>)"},
    {"key", 0, SINK_ARG_SECRET, O_KEY, "@FILE",
     "application key from FILE (or RTK_ADX_KEY)"},
    {"login-endpoint", 0, SINK_ARG_STR, O_LOGIN, "URL",
     "Entra ID URL (login.microsoftonline.com)"},
    {"managed-identity", 0, SINK_ARG_NONE, O_MSI, NULL,
     "sign in as the machine's managed identity"},
    {"mapping", 0, SINK_ARG_STR, O_MAPPING, "NAME",
     "use this existing JSON mapping unchanged"},
    {"reset", 0, SINK_ARG_NONE, O_RESET, NULL,
     "drop the table, recreate it from row 1"},
    {"table", 't', SINK_ARG_STR, O_TABLE, "NAME", "ADX table"},
    {"token", 0, SINK_ARG_SECRET, O_TOKEN, "@FILE",
     "bearer token from FILE (or RTK_ADX_TOKEN)"},
    {"wait", 0, SINK_ARG_NONE, O_WAIT, NULL,
     "queued: wait for each batch's report"},
    {"wait-timeout", 0, SINK_ARG_SECS, O_WAIT_TIMEOUT, "SECS",
     "give up waiting after SECS (default 300)"},
};
#define NOPTS (sizeof opts / sizeof opts[0])

struct args {
  const char *cluster, *database, *table, *authority, *client_id;
  const char *ingest, *login, *imds, *mapping;
  char *key, *token;
  bool direct, reset, msi, device, wait;
  uint64_t wait_ms;
};

static int
take_secret(const struct sink_opt *o, const char *val, char **dst,
            const char *env)
{
  if (val[0] != '@') {
    log_err("--%s takes @FILE; or set %s (a secret on the command line "
            "is visible to other users)",
            o->name, env);
    return -1;
  }
  char *s = sink_secret(val);
  if (!s) return -1;
  sink_secret_free(*dst);
  *dst = s;
  return 0;
}

static int
on_opt(void *ud, const struct sink_opt *o, const char *val)
{
  struct args *a = ud;
  switch (o->id) {
  case O_AUTHORITY:
    a->authority = val;
    break;
  case O_CLIENT_ID:
    a->client_id = val;
    break;
  case O_CLUSTER:
    a->cluster = val;
    break;
  case O_DATABASE:
    a->database = val;
    break;
  case O_DEVICE_CODE:
    a->device = true;
    break;
  case O_DIRECT:
    a->direct = true;
    break;
  case O_IMDS:
    a->imds = val;
    break;
  case O_INGEST:
    a->ingest = val;
    break;
  case O_KEY:
    return take_secret(o, val, &a->key, "RTK_ADX_KEY");
  case O_LOGIN:
    a->login = val;
    break;
  case O_MSI:
    a->msi = true;
    break;
  case O_MAPPING:
    a->mapping = val;
    break;
  case O_RESET:
    a->reset = true;
    break;
  case O_TABLE:
    a->table = val;
    break;
  case O_TOKEN:
    return take_secret(o, val, &a->token, "RTK_ADX_TOKEN");
  case O_WAIT:
    a->wait = true;
    break;
  case O_WAIT_TIMEOUT:
    if (sink_parse_secs(val, &a->wait_ms) != 0 || a->wait_ms == 0) {
      log_err("--wait-timeout: bad value");
      return -1;
    }
    break;
  default:
    return -1;
  }
  return 0;
}

static void
usage(FILE *f)
{
  fprintf(f, "usage: adxsink [-hv] [--direct] [--reset] [--wait] "
             "--cluster=HOST|URL\n"
             "               --database=NAME --table=NAME [auth options] "
             "[options] < rows.ndjson\n"
             "Ingests NDJSON rows from standard input into an Azure Data "
             "Explorer table.\n"
             "Auth, the first that applies: --token=@FILE; "
             "--managed-identity;\n"
             "--client-id with --key=@FILE or RTK_ADX_KEY; RTK_ADX_TOKEN; "
             "else a device code.\n");
  sink_opts_help(f, opts, NOPTS, SINK_OPTS_BASIC | SINK_OPTS_NET);
  fprintf(f, "exit status: 0 all rows delivered, 1 rows lost, 2 usage "
             "error,\n3 some rows spooled\n");
}

static char *
env_secret(const char *name)
{
  const char *v = getenv(name);
  if (!v || !*v) return NULL;
  return sink_secret(v);
}

static int
endpoint(const char *what, const char *arg, unsigned flags, char *out, size_t n)
{
  char err[300];
  if (adx_url_base(arg, flags, out, n, err, sizeof err) != 0) {
    log_err("--%s: %s", what, err);
    return -1;
  }
  return 0;
}

/* Settle endpoints, names and the way to sign in. 0 or -1 (usage). */
static int
configure(struct args *a, struct adx_ctx *x)
{
  if (!a->cluster || !a->database || !a->table) {
    log_err("--cluster, --database and --table are required");
    return -1;
  }
  if (!*a->database || !*a->table) {
    log_err("empty database or table name");
    return -1;
  }
  if (endpoint("cluster", a->cluster, 0, x->engine, sizeof x->engine) != 0)
    return -1;
  if (adx_url_host(x->engine, x->host, sizeof x->host) != 0) return -1;
  if (a->ingest) {
    if (endpoint("ingest-endpoint", a->ingest, 0, x->ingest,
                 sizeof x->ingest) != 0)
      return -1;
  } else if (adx_url_ingest(x->engine, x->ingest, sizeof x->ingest) != 0) {
    log_err("--cluster: cannot derive the ingest endpoint");
    return -1;
  }
  static char login[ADX_URL_MAX], imds[ADX_URL_MAX];
  const char *lg = a->login ? a->login : getenv("AZURE_AUTHORITY_HOST");
  if (endpoint("login-endpoint", lg && *lg ? lg : "login.microsoftonline.com",
               0, login, sizeof login) != 0)
    return -1;
  if (endpoint("imds-endpoint", a->imds ? a->imds : "http://169.254.169.254",
               ADX_URL_LINKLOCAL, imds, sizeof imds) != 0)
    return -1;
  x->db = a->database;
  x->table = a->table;
  if (a->mapping) {
    if (!*a->mapping) {
      log_err("--mapping: empty name");
      return -1;
    }
    snprintf(x->mapping, sizeof x->mapping, "%s", a->mapping);
    x->mapping_given = true;
  } else if (snprintf(x->mapping, sizeof x->mapping, "%s_mapping", a->table) >=
             (int)sizeof x->mapping) {
    log_err("--table: name too long");
    return -1;
  }
  x->direct = a->direct;
  x->reset = a->reset;
  x->wait = a->wait;
  x->wait_ms = a->wait_ms ? a->wait_ms : 300000;
  if (a->wait && a->direct) {
    log_err("--wait is for queued ingestion; --direct reports at once");
    return -1;
  }

  struct adx_auth *au = &x->auth;
  au->login = login;
  au->imds = imds;
  au->engine = x->engine;
  au->tenant = a->authority ? a->authority : "microsoft.com";
  if (!a->key) a->key = env_secret("RTK_ADX_KEY");
  if (a->token && (a->msi || a->key)) {
    log_err("--token excludes --managed-identity and an application key");
    return -1;
  }
  if (a->key && !a->client_id) {
    log_err("an application key needs --client-id");
    return -1;
  }
  if (a->token) {
    au->kind = ADX_AUTH_TOKEN;
    au->secret = a->token;
    a->token = NULL;
  } else if (a->msi) {
    au->kind = ADX_AUTH_MSI;
    au->client_id = a->client_id;
  } else if (a->client_id && a->key) {
    au->kind = ADX_AUTH_APPKEY;
    au->client_id = a->client_id;
    au->secret = a->key;
    a->key = NULL;
  } else if (!a->device && (au->secret = env_secret("RTK_ADX_TOKEN"))) {
    au->kind = ADX_AUTH_TOKEN;
  } else {
    au->kind = ADX_AUTH_DEVICE;
    au->client_id = a->client_id ? a->client_id : ADX_KUSTO_CLIENT_ID;
  }
  if (au->kind == ADX_AUTH_TOKEN && (!au->secret || !*au->secret)) {
    log_err("the token is empty");
    return -1;
  }
  return 0;
}

enum sink_status
adx_deliver(void *ctx, struct sink_batch *b, struct sink_result *sr)
{
  struct adx_ctx *x = ctx;
  struct adx_res r;
  adx_res_init(&r);
  adx_setup(x, b, &r); /* first batch: the table; later: new columns */
  if (r.st == SINK_OK) {
    if (x->direct)
      adx_stream_deliver(x, b->buf, b->len, b->rows, b->id, &r);
    else
      adx_queued_deliver(x, b->buf, b->len, b->rows, b->id, &r);
  }
  sr->retry_after_ms = r.retry_after_ms;
  if (r.st == SINK_OK) {
    x->batches++;
    x->rows += b->rows;
    x->bytes += b->len;
  } else {
    if (snprintf(sr->msg, sizeof sr->msg,
                 "cluster %s, database %s, table %s: %s", x->host, x->db,
                 x->table, r.msg) >= (int)sizeof sr->msg)
      log_note("the message above was cut");
  }
  return r.st;
}

int
main(int argc, char **argv)
{
  plat_init(&argc, &argv);
  log_init("adxsink");

  struct sink_opts so;
  sink_opts_init(&so);
  struct args a;
  memset(&a, 0, sizeof a);
  /* Queued ingestion: the service batches again for minutes, so larger
   * blobs cost nothing in latency and much less in overhead. Streaming
   * keeps the engine's low-latency defaults (at most 4 MiB a request). */
  bool direct = false;
  for (int i = 1; i < argc; i++)
    direct |= strcmp(argv[i], "--direct") == 0;
  if (!direct) {
    so.cfg.batch_rows = 0;
    so.cfg.batch_bytes = 16u << 20;
    so.cfg.flush_ms = 5000;
  }
  int rc = SINK_EXIT_USAGE;
  static struct adx_ctx x;
  if (sink_opts_parse(argc, argv, opts, NOPTS, SINK_OPTS_BASIC | SINK_OPTS_NET,
                      on_opt, &a, &so) != 0)
    goto out;
  if (so.help) {
    usage(stdout);
    rc = SINK_EXIT_OK;
    goto out;
  }
  if (so.version) {
    printf("adxsink %s\n", RTK_VERSION);
    rc = SINK_EXIT_OK;
    goto out;
  }
  log_set_verbosity(so.verbose);
  if (configure(&a, &x) != 0) goto out;
  if (x.direct && so.cfg.batch_bytes > ADX_STREAM_MAX) {
    log_warn("--direct: batches are at most 4 MiB (the streaming limit)");
    so.cfg.batch_bytes = ADX_STREAM_MAX;
  }
  char key[1024];
  snprintf(key, sizeof key, "%s-%s-%s", x.host, x.db, x.table);
  if (sink_opts_spool(&so, "adxsink", key) != 0) {
    rc = SINK_EXIT_USAGE;
    goto out;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
    log_err("libcurl could not start");
    rc = SINK_EXIT_LOST;
    goto out;
  }
  char ua[64];
  snprintf(ua, sizeof ua, "adxsink/%s", RTK_VERSION);
  struct http_client_opts ho = {ua, so.cacert, so.connect_timeout_ms,
                                so.stall_timeout_ms, sink_cancelled};
  x.http = http_client_new(&ho);
  if (!x.http) {
    log_err("out of memory");
    rc = SINK_EXIT_LOST;
    curl_global_cleanup();
    goto out;
  }
  log_note("cluster %s, ingest %s, database %s, table %s, %s ingestion, "
           "%s",
           x.engine, x.ingest, x.db, x.table, x.direct ? "streaming" : "queued",
           adx_auth_kind_name(x.auth.kind));
  plat_pipe_grow(0);
  struct sink_ops ops = {&x, adx_deliver, NULL};
  struct sink_stats st;
  rc = sink_run(&so.cfg, &ops, &st);
  log_note("%" PRIu64 " rows in %" PRIu64 " batches delivered (%" PRIu64
           " bytes); %u tokens fetched",
           x.rows, x.batches, x.bytes, x.auth.fetched);
  http_client_free(x.http);
  curl_global_cleanup();
out:
  adx_auth_free(&x.auth);
  adx_resources_free(&x.res);
  adx_setup_free(&x);
  sink_secret_free(a.key);
  sink_secret_free(a.token);
  return rc;
}
