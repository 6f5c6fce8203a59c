/*
 * rtk_args.c - the documented command line of RealTimeKql: the option
 * table, the parser, the help text and the error messages.
 *
 * The seed (../shared/seed/RealTimeKql-ETW.md) must work verbatim, so
 * the table holds its long names and its multi-letter short forms with
 * one dash (-oc, -bscs, -aclid...). Values come as --opt=value or as the
 * next argument, for short forms too (-oj=out.json, -oj out.json). The
 * seed gives -ad to three options; here "-ad VALUE" is --adxdatabase and
 * the other two have their long names only (cli.md), which --help says.
 * The subcommand is matched without regard to case (etw, Etw).
 *
 * Options are data: long[] sorted by name and shorts[] sorted by short
 * form, both searched with bsearch; the enum order is the order of the
 * help listing, which is generated from long[]. Errors are an enum with
 * their text in rtk_arg_text() only. Secrets are copied, then blanked in
 * argv so that ps shows spaces instead (curl's ARG_CLEAR).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "RealTimeKql/rtk.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* In the order --help lists them: the seed's options, then ours. */
enum opt_id {
  O_HELP,
  O_SESSION,
  O_FILE,
  O_QUERY,
  O_CONSOLE,
  O_JSON,
  O_BLOB_CS,
  O_BLOB_CNT,
  O_ADX_AUTH,
  O_ADX_CLIENT,
  O_ADX_KEY,
  O_ADX_CLUSTER,
  O_ADX_DB,
  O_ADX_TABLE,
  O_ADX_RESET,
  O_ADX_DIRECT,
  O_TABLE, /* beyond the seed from here on */
  O_PROVIDER,
  O_VERBOSE,
  O_VERSION,
  O_COUNT
};

enum {
  OPT_VALUE = 1,  /* takes a value */
  OPT_REPEAT = 2, /* may be given more than once */
  OPT_SECRET = 4, /* value copied, blanked in argv, never echoed */
  OPT_ALIAS = 8,  /* another name for an option; not listed by --help */
  OPT_EXTRA = 16  /* not in the seed: listed after its options */
};

struct opt {
  const char *name; /* long name, without "--" */
  enum opt_id id;
  unsigned flags;
  const char *help; /* the seed's words where it has them */
};

/* Sorted by name (strcmp): bsearch. tests/unit/test_rtk_args.c checks. */
static const struct opt long_opts[] = {
    {"adxauthority", O_ADX_AUTH, OPT_VALUE,
     "Azure Data Explorer (ADX) authority. Optional when not specified "
     "microsoft.com is used. eg, --adxauthority=microsoft.com"},
    {"adxclientid", O_ADX_CLIENT, OPT_VALUE,
     "Azure Data Explorer (ADX) ClientId. Optional ClientId that has "
     "permissions to access Azure Data Explorer."},
    {"adxcluster", O_ADX_CLUSTER, OPT_VALUE,
     "Azure Data Explorer (ADX) cluster address. eg, "
     "--adxcluster=CDOC.kusto.windows.net"},
    {"adxdatabase", O_ADX_DB, OPT_VALUE,
     "Azure Data Explorer (ADX) database name. eg, --adxdatabase=TestDb"},
    {"adxdirect", O_ADX_DIRECT, 0,
     "Default upload to ADX is using queued ingest. Use this option to do "
     "a direct ingest to ADX."},
    {"adxkey", O_ADX_KEY, OPT_VALUE | OPT_SECRET,
     "Azure Data Explorer (ADX) Access Key. Used along with ClientApp Id"},
    {"adxreset", O_ADX_RESET, 0,
     "The existing data in the destination table is dropped before new "
     "data is logged."},
    {"adxtable", O_ADX_TABLE, OPT_VALUE,
     "Azure Data Explorer (ADX) table name. eg, --adxtable=OutputTable"},
    {"blobstorageconnectionstring", O_BLOB_CS, OPT_VALUE | OPT_SECRET,
     "Azure Blob Storage Connection string. Optional when want to upload "
     "as JSON to blob storage."},
    {"blobstoragecontainer", O_BLOB_CNT, OPT_VALUE,
     "Azure Blob Storage container name. Optional when want to upload as "
     "JSON to blob storage."},
    {"file", O_FILE, OPT_VALUE | OPT_REPEAT,
     "File pattern to filter files by. eg, --filter=*.etl"},
    {"filter", O_FILE, OPT_VALUE | OPT_REPEAT | OPT_ALIAS, NULL},
    {"help", O_HELP, 0, "Show help information"},
    {"outputconsole", O_CONSOLE, 0, "Log the output to console."},
    {"outputjson", O_JSON, OPT_VALUE,
     "Write output to JSON file. eg, --outputjson=FilterOutput.json"},
    {"outputtable", O_TABLE, OPT_EXTRA,
     "Log the output to console as a table sized to the terminal."},
    {"provider", O_PROVIDER, OPT_VALUE | OPT_REPEAT | OPT_EXTRA,
     "Start a private ETW session for a provider (Windows), no logman "
     "needed: NAME|GUID[:keywords[:level]]. Repeatable."},
    {"query", O_QUERY, OPT_VALUE,
     "Optional: KQL filter query file that describes what processing to "
     "apply to the events on the stream. It uses a subset of Kusto Query "
     "Language, "
     "https://docs.microsoft.com/en-us/azure/data-explorer/kusto/query/"},
    {"session", O_SESSION, OPT_VALUE,
     "Name of the ETW Session to attach to. eg, --session=tcp. tcp is the "
     "name of the session started using logman or such tools."},
    {"verbose", O_VERBOSE, OPT_REPEAT | OPT_EXTRA,
     "Show each stage's command line and exit status."},
    {"version", O_VERSION, OPT_EXTRA, "Show the version."},
};
#define NLONG (sizeof long_opts / sizeof long_opts[0])

struct short_opt {
  const char *name; /* without the dash */
  enum opt_id id;
};

/* Sorted by name (strcmp): bsearch. */
static const struct short_opt short_opts[] = {
    {"?", O_HELP},       {"ac", O_ADX_CLUSTER}, {"aclid", O_ADX_CLIENT},
    {"ad", O_ADX_DB},    {"akey", O_ADX_KEY},   {"ar", O_ADX_RESET},
    {"at", O_ADX_TABLE}, {"bsc", O_BLOB_CNT},   {"bscs", O_BLOB_CS},
    {"f", O_FILE},       {"h", O_HELP},         {"oc", O_CONSOLE},
    {"oj", O_JSON},      {"ot", O_TABLE},       {"p", O_PROVIDER},
    {"q", O_QUERY},      {"s", O_SESSION},      {"v", O_VERBOSE},
};
#define NSHORT (sizeof short_opts / sizeof short_opts[0])

/* A name that is not NUL-terminated (it may stop at '='), for bsearch. */
struct key {
  const char *s;
  size_t n;
};

static int
keycmp(const struct key *k, const char *name)
{
  int c = strncmp(k->s, name, k->n);
  if (c != 0) return c;
  return name[k->n] ? -1 : 0;
}

static int
long_cmp(const void *k, const void *e)
{
  return keycmp(k, ((const struct opt *)e)->name);
}

static int
short_cmp(const void *k, const void *e)
{
  return keycmp(k, ((const struct short_opt *)e)->name);
}

/* The main (non-alias) entry of an option. */
static const struct opt *
by_id(enum opt_id id)
{
  for (size_t i = 0; i < NLONG; i++)
    if (long_opts[i].id == id && !(long_opts[i].flags & OPT_ALIAS))
      return &long_opts[i];
  return NULL;
}

/* Look up "--name[=v]" or "-short[=v]"; *eq gets the '=' or NULL. */
static const struct opt *
lookup(const char *arg, const char **eq)
{
  bool is_long = arg[1] == '-';
  const char *name = arg + (is_long ? 2 : 1);
  *eq = strchr(name, '=');
  struct key k = {name, *eq ? (size_t)(*eq - name) : strlen(name)};
  if (k.n == 0) return NULL;
  if (is_long)
    return bsearch(&k, long_opts, NLONG, sizeof *long_opts, long_cmp);
  const struct short_opt *s =
      bsearch(&k, short_opts, NSHORT, sizeof *short_opts, short_cmp);
  return s ? by_id(s->id) : NULL;
}

/* Would this argument be read as an option? Then it is no value: "-ad
 * --adxtable=T" lacks the database rather than naming it
 * "--adxtable=T". */
static bool
is_option(const char *s)
{
  if (s[0] != '-' || !s[1]) return false;
  if (s[1] == '-') return s[2] != '\0';
  const char *eq;
  return lookup(s, &eq) != NULL;
}

static bool
ci_equal(const char *a, const char *b)
{
  for (; *a && *b; a++, b++)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
  return *a == *b;
}

/* The result, naming the argument (up to any '=', so that a value, which
 * may be a secret, is never echoed). */
static struct rtk_argres
res(enum rtk_argerr e, const char *arg)
{
  struct rtk_argres r;
  memset(&r, 0, sizeof r);
  r.err = e;
  if (arg) {
    size_t n = strcspn(arg, "=");
    if (n >= sizeof r.what) n = sizeof r.what - 1;
    memcpy(r.what, arg, n);
    r.what[n] = '\0';
  }
  return r;
}

/* Keep a copy of a secret and blank the original in argv. */
static char *
take_secret(char *val)
{
  char *copy = strdup(val);
  if (copy) memset(val, ' ', strlen(val));
  return copy;
}

static struct rtk_argres
apply(struct rtk_args *a, const struct opt *o, char *val, const char *arg)
{
  switch (o->id) {
  case O_HELP:
    a->help = true;
    break;
  case O_VERSION:
    a->version = true;
    break;
  case O_VERBOSE:
    a->verbose++;
    break;
  case O_SESSION:
    a->session = val;
    break;
  case O_FILE:
    if (a->nfiles == RTK_MAX_FILES) return res(RTK_ARG_TOO_MANY, arg);
    a->files[a->nfiles++] = val;
    break;
  case O_PROVIDER:
    if (a->nproviders == RTK_MAX_PROVIDERS) return res(RTK_ARG_TOO_MANY, arg);
    a->providers[a->nproviders++] = val;
    break;
  case O_QUERY:
    a->query = val;
    break;
  case O_CONSOLE:
    a->console = true;
    break;
  case O_TABLE:
    a->table = true;
    break;
  case O_JSON:
    a->json = val;
    break;
  case O_BLOB_CS:
    if (!(a->blob_cs = take_secret(val))) return res(RTK_ARG_NO_MEMORY, NULL);
    break;
  case O_BLOB_CNT:
    a->blob_container = val;
    break;
  case O_ADX_KEY:
    if (!(a->adx_key = take_secret(val))) return res(RTK_ARG_NO_MEMORY, NULL);
    a->adx_any = true;
    break;
  case O_ADX_AUTH:
    a->adx_authority = val;
    a->adx_any = true;
    break;
  case O_ADX_CLIENT:
    a->adx_client_id = val;
    a->adx_any = true;
    break;
  case O_ADX_CLUSTER:
    a->adx_cluster = val;
    a->adx_any = true;
    break;
  case O_ADX_DB:
    a->adx_database = val;
    a->adx_any = true;
    break;
  case O_ADX_TABLE:
    a->adx_table = val;
    a->adx_any = true;
    break;
  case O_ADX_RESET:
    a->adx_reset = true;
    a->adx_any = true;
    break;
  case O_ADX_DIRECT:
    a->adx_direct = true;
    a->adx_any = true;
    break;
  case O_COUNT:
    break;
  }
  return res(RTK_ARG_OK, NULL);
}

/* Combinations: one input, complete outputs, the console by default. */
static struct rtk_argres
check(struct rtk_args *a)
{
  bool live = a->session || a->nproviders;
  if (a->nfiles && live)
    return res(RTK_ARG_TWO_INPUTS, a->session ? "--session" : "--provider");
  if (a->session && a->nproviders) return res(RTK_ARG_TWO_INPUTS, "--session");
  if (!a->nfiles && !live) return res(RTK_ARG_NO_INPUT, NULL);
  if (a->blob_cs && !a->blob_container)
    return res(RTK_ARG_BLOB_NO_CNT, "--blobstorageconnectionstring");
  if (a->blob_container && !a->blob_cs) {
    const char *env = getenv("RTK_BLOB_CONNECTION_STRING");
    if (!env || !*env) return res(RTK_ARG_BLOB_NO_CS, "--blobstoragecontainer");
  }
  if (a->adx_any && !(a->adx_cluster && a->adx_database && a->adx_table))
    return res(RTK_ARG_ADX_INCOMPLETE, NULL);
  if (a->adx_key && !a->adx_client_id)
    return res(RTK_ARG_ADX_KEY_ALONE, "--adxkey");
  if (!a->console && !a->table && !a->json && !a->blob_container && !a->adx_any)
    a->console = true;
  return res(RTK_ARG_OK, NULL);
}

struct rtk_argres
rtk_args_parse(int argc, char **argv, struct rtk_args *a)
{
  memset(a, 0, sizeof *a);
  if (argc < 2) return res(RTK_ARG_NO_COMMAND, NULL);
  const char *cmd = argv[1];
  const char *eq;
  const struct opt *o = cmd[0] == '-' ? lookup(cmd, &eq) : NULL;
  if (o && !eq && (o->id == O_HELP || o->id == O_VERSION)) {
    a->help = o->id == O_HELP;
    a->version = o->id == O_VERSION;
    a->top = true;
    return res(RTK_ARG_OK, NULL);
  }
  if (cmd[0] == '-') return res(RTK_ARG_NO_COMMAND, cmd);
  if (!ci_equal(cmd, "etw")) return res(RTK_ARG_BAD_COMMAND, cmd);

  bool seen[O_COUNT] = {false};
  bool after_file = false; /* the shell may have expanded -f *.etl */
  for (int i = 2; i < argc; i++) {
    char *arg = argv[i];
    if (arg[0] != '-' || !arg[1]) {
      if (!after_file) return res(RTK_ARG_STRAY, arg);
      if (a->nfiles == RTK_MAX_FILES) return res(RTK_ARG_TOO_MANY, "--file");
      a->files[a->nfiles++] = arg;
      continue;
    }
    after_file = false;
    o = lookup(arg, &eq);
    if (!o) return res(RTK_ARG_UNKNOWN, arg);
    char *val = NULL;
    if (o->flags & OPT_VALUE) {
      if (eq)
        val = arg + (eq - arg) + 1;
      else if (i + 1 < argc && !is_option(argv[i + 1]))
        val = argv[++i];
      else
        return res(RTK_ARG_NO_VALUE, arg);
      if (!*val) return res(RTK_ARG_EMPTY_VALUE, arg);
      after_file = o->id == O_FILE && !eq;
    } else if (eq) {
      return res(RTK_ARG_FLAG_VALUE, arg);
    }
    if (seen[o->id] && !(o->flags & OPT_REPEAT)) return res(RTK_ARG_TWICE, arg);
    seen[o->id] = true;
    struct rtk_argres r = apply(a, o, val, arg);
    if (r.err) return r;
    if (a->help || a->version) return r;
  }
  return check(a);
}

static void
wipe(char *s)
{
  if (!s) return;
  volatile char *p = s;
  while (*p)
    *p++ = 0;
  free(s);
}

void
rtk_args_free(struct rtk_args *a)
{
  wipe(a->adx_key);
  wipe(a->blob_cs);
  a->adx_key = a->blob_cs = NULL;
}

const char *
rtk_arg_text(enum rtk_argerr e)
{
  switch (e) {
  case RTK_ARG_OK:
    return "no error";
  case RTK_ARG_NO_COMMAND:
    return "a command comes first: RealTimeKql etw [options]";
  case RTK_ARG_BAD_COMMAND:
    return "unknown command (the command is etw)";
  case RTK_ARG_UNKNOWN:
    return "unknown option";
  case RTK_ARG_NO_VALUE:
    return "needs a value";
  case RTK_ARG_EMPTY_VALUE:
    return "has an empty value";
  case RTK_ARG_FLAG_VALUE:
    return "takes no value";
  case RTK_ARG_TWICE:
    return "given twice";
  case RTK_ARG_STRAY:
    return "unexpected argument (options start with - or --)";
  case RTK_ARG_TOO_MANY:
    return "given too many times";
  case RTK_ARG_NO_INPUT:
    return "no input: give --file=PATTERN (or --session=NAME on Windows)";
  case RTK_ARG_TWO_INPUTS:
    return "one input only: --file, --session or --provider";
  case RTK_ARG_BLOB_NO_CS:
    return "needs --blobstorageconnectionstring (or "
           "RTK_BLOB_CONNECTION_STRING in the environment)";
  case RTK_ARG_BLOB_NO_CNT:
    return "needs --blobstoragecontainer";
  case RTK_ARG_ADX_INCOMPLETE:
    return "ADX output needs --adxcluster, --adxdatabase and --adxtable";
  case RTK_ARG_ADX_KEY_ALONE:
    return "needs --adxclientid (the key belongs to that application)";
  case RTK_ARG_NO_MEMORY:
    return "out of memory";
  }
  return "error";
}

void
rtk_args_usage(FILE *f)
{
  fprintf(f, "Usage: RealTimeKql etw (--file=PATTERN | --session=NAME) "
             "[--query=FILE]\n"
             "         [--outputconsole] [--outputjson=FILE] "
             "[--blobstoragecontainer=NAME]\n"
             "         [--adxcluster=HOST --adxdatabase=DB --adxtable=T] "
             "[options]\n"
             "'RealTimeKql etw --help' lists every option.\n");
}

/* "-s|--session <value>" for an option. */
static void
spec(const struct opt *o, char *buf, size_t n)
{
  size_t len = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < NSHORT; i++)
    if (short_opts[i].id == o->id)
      len += (size_t)snprintf(buf + len, n - len, "-%s|", short_opts[i].name);
  snprintf(buf + len, n - len, "--%s%s", o->name,
           (o->flags & OPT_VALUE) ? " <value>" : "");
}

static void
list(FILE *f, bool extra)
{
  for (int id = 0; id < O_COUNT; id++) {
    const struct opt *o = by_id((enum opt_id)id);
    if (!o || !(o->flags & OPT_EXTRA) != !extra) continue;
    char s[64];
    spec(o, s, sizeof s);
    fprintf(f, "  %-44s %s\n", s, o->help);
  }
}

void
rtk_args_help(FILE *f)
{
  fprintf(f, "Usage: RealTimeKql Etw [options]\n\nOptions:\n");
  list(f, false);
  fprintf(f, "\n-ad: the original overview gives -ad to --adxauthority, "
             "--adxdatabase and\n--adxdirect; here -ad takes a value and means "
             "--adxdatabase. Write the other\ntwo out: --adxauthority=TENANT, "
             "--adxdirect.\n"
             "\nBeyond the original options:\n");
  list(f, true);
  fprintf(f,
          "\nValues: --opt=value or --opt value (-oj=out.json, -oj out.json)."
          " --filter is\nanother name for --file; --file may be repeated. "
          "Without an output option\nthe rows go to the console. Several "
          "outputs may be given: every row goes to\neach of them.\n"
          "\nSecrets: the ADX key and the storage connection string reach "
          "adxsink and\nblobsink through the environment (RTK_ADX_KEY, "
          "RTK_BLOB_CONNECTION_STRING),\nnever their command lines; set "
          "those variables instead of the options to keep\nthe secrets off "
          "this command line too.\n"
          "\nThe pipeline: etwcat | kqlfilter (with --query) | one sink per "
          "output\n(jsonsink, blobsink, adxsink), all found next to this "
          "program. Ctrl-C stops\nthe input and lets the other stages finish;"
          " a second Ctrl-C stops waiting.\n"
          "\nExit status: 0 when every stage succeeded; 2 usage error; 1 a "
          "stage could not\nbe started; otherwise the status of the first "
          "stage that failed, named on\nstderr (see RealTimeKql(1)).\n");
}

void
rtk_args_help_top(FILE *f)
{
  fprintf(f, "Usage: RealTimeKql [command] [options]\n\n"
             "Options:\n"
             "  -?|-h|--help     Show help information\n"
             "  --version        Show the version\n\n"
             "Commands:\n"
             "  etw              Process Event Tracing for Windows (ETW) "
             "events: a real-time\n"
             "                   session (Windows) or recorded .etl files\n\n"
             "Run 'RealTimeKql etw --help' for the options of the command.\n");
}

/* For tests: the tables must stay sorted for bsearch. */
bool
rtk_args_tables_sorted(void)
{
  for (size_t i = 1; i < NLONG; i++)
    if (strcmp(long_opts[i - 1].name, long_opts[i].name) >= 0) return false;
  for (size_t i = 1; i < NSHORT; i++)
    if (strcmp(short_opts[i - 1].name, short_opts[i].name) >= 0) return false;
  return true;
}
