/*
 * evt_manifest.c - compile instrumentation manifests into schemas.
 *
 * Three stages per load. (1) xml_lex.c tokenizes the text and a small
 * element tree is built in a temporary pool, because a manifest may use a
 * template, map or string before it declares it. (2) The string table is
 * picked (en-US, else the first culture), then each <provider> under
 * <events> is compiled: its channels, levels, tasks (with their own
 * opcodes), opcodes, keywords, maps and templates become sorted tables,
 * and every <event> becomes one struct evt_schema in the registry's
 * arena. (3) Only when every provider compiled are the schemas, provider
 * names and maps registered, so a failed load leaves the registry as it
 * was. The pool is freed on return. The EventSource envelope of event
 * 65534 is handled at the end of the file.
 *
 * Naming rules and type tables: etw-schemas.md section 3 (TDH in- and
 * out-type numbers, winmeta built-ins, channel numbering from 16). The
 * project extension for classic MOF classes (rtk:classic, WBEM in-types;
 * evt_manifest.h) is resolved with real namespace bindings, so only a
 * prefix bound to EVT_MANIFEST_NS selects it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "etwcat/evt_manifest.h"
#include "etwcat/xml_lex.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOPOS SIZE_MAX

#if defined(__GNUC__) || defined(__clang__)
#define PRINTF_LIKE(a, b) PLAT_PRINTF(a, b)
#else
#define PRINTF_LIKE(a, b)
#endif

/* ------------------------------------------------------------------ */
/* Temporary pool: everything that does not outlive one load.          */

struct pool_block {
  struct pool_block *next;
  size_t used, cap;
  max_align_t data[];
};

struct pool {
  struct pool_block *head;
  size_t total, limit;
};

static void *
pool_alloc(struct pool *p, size_t n)
{
  const size_t al = sizeof(max_align_t);
  if (n > p->limit) return NULL;
  n = (n + al - 1) / al * al;
  struct pool_block *b = p->head;
  if (!b || b->cap - b->used < n) {
    size_t cap = n > 65536 ? n : 65536;
    if (cap > p->limit - p->total) return NULL;
    b = malloc(sizeof *b + cap);
    if (!b) return NULL;
    b->cap = cap;
    b->used = 0;
    b->next = p->head;
    p->head = b;
    p->total += cap;
  }
  void *q = (char *)b->data + b->used;
  b->used += n;
  memset(q, 0, n);
  return q;
}

static char *
pool_strdup(struct pool *p, const char *s, size_t n)
{
  char *q = pool_alloc(p, n + 1);
  if (q) {
    memcpy(q, s, n);
    q[n] = 0;
  }
  return q;
}

static void
pool_free(struct pool *p)
{
  struct pool_block *b = p->head;
  while (b) {
    struct pool_block *n = b->next;
    free(b);
    b = n;
  }
  p->head = NULL;
  p->total = 0;
}

/* ------------------------------------------------------------------ */
/* Element tree.                                                       */

struct xattr {
  const char *name; /* as written, with any prefix */
  const char *val;
  size_t off;
};

struct node {
  const char *name; /* local name */
  const struct xattr *a;
  size_t na;
  struct node *kid, *last, *next, *up;
  size_t off;
};

/* A string of the chosen stringTable. */
struct str {
  const char *id;
  const char *val;
  size_t off;
};

/* A named item of a provider: level, task, opcode, keyword, channel, map
 * or template. Tables of them are sorted by key. */
struct def {
  const char *key;
  const char *disp; /* registry arena or static */
  uint64_t value;
  size_t off;
  const struct node *n;
  struct defs *sub; /* task: its own opcodes */
  const struct evt_map *map;
  const struct evt_field *fields;
  uint16_t nfields, ntop;
};

struct defs {
  struct def *v;
  size_t n;
};

/* Something to register once the whole manifest compiled. */
struct result {
  struct result *next;
  uint8_t guid[16];
  const struct evt_schema *schema;
  const struct evt_map *map;
  const char *provider_name;
};

struct ctx {
  struct evt_registry *r;
  const char *xml;
  size_t len;
  const char *label;
  const char *source; /* registry copy of label */
  char *err;
  size_t errlen;
  bool failed;
  struct pool pool;
  struct node *root;
  struct str *strings;
  size_t nstrings;
  struct result *results, *results_last;
  int nschemas;
};

static int fail(struct ctx *c, size_t off, const char *fmt, ...)
    PRINTF_LIKE(3, 4);

static int
fail(struct ctx *c, size_t off, const char *fmt, ...)
{
  if (c->failed) return -1;
  c->failed = true;
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (!c->errlen) return -1;
  if (off == NOPOS) {
    snprintf(c->err, c->errlen, "%s: %s", c->label, msg);
  } else {
    unsigned long line, col;
    xml_position(c->xml, c->len, off, &line, &col);
    snprintf(c->err, c->errlen, "%s:%lu:%lu: %s", c->label, line, col, msg);
  }
  return -1;
}

static int
oom(struct ctx *c)
{
  return fail(c, NOPOS, "out of memory");
}

/* Names quoted in messages are cut short, so one stays one line. */
static int
qlen(const char *s)
{
  size_t n = strlen(s);
  return n > 48 ? 48 : (int)n;
}

static int
build_tree(struct ctx *c)
{
  struct xml_lex x;
  if (xml_lex_init(&x, c->xml, c->len) != 0) {
    xml_lex_free(&x);
    return oom(c);
  }
  struct node *cur = NULL;
  int rc = 0;
  for (;;) {
    enum xml_tok t = xml_lex_next(&x);
    if (t == XML_TOK_EOF) break;
    if (t == XML_TOK_ERROR) {
      rc = fail(c, x.err_off, "%s", x.err);
      break;
    }
    if (t == XML_TOK_TEXT) continue;
    if (t == XML_TOK_END) {
      cur = cur ? cur->up : NULL;
      continue;
    }
    struct node *n = pool_alloc(&c->pool, sizeof *n);
    size_t ll;
    const char *local = xml_local(x.name, x.name_len, &ll);
    struct xattr *a =
        x.nattr ? pool_alloc(&c->pool, x.nattr * sizeof *a) : NULL;
    if (n) n->name = pool_strdup(&c->pool, local, ll);
    if (!n || (x.nattr && !a) || !n->name) {
      rc = oom(c);
      break;
    }
    for (size_t i = 0; i < x.nattr; i++) {
      a[i].name = pool_strdup(&c->pool, x.attr[i].name, x.attr[i].name_len);
      a[i].val = pool_strdup(&c->pool, x.attr[i].value, x.attr[i].value_len);
      a[i].off = x.attr[i].off;
      if (!a[i].name || !a[i].val) {
        rc = oom(c);
        break;
      }
    }
    if (rc) break;
    n->a = a;
    n->na = x.nattr;
    n->off = x.tok_off;
    n->up = cur;
    if (!cur) {
      c->root = n;
    } else {
      if (cur->last)
        cur->last->next = n;
      else
        cur->kid = n;
      cur->last = n;
    }
    cur = n;
  }
  xml_lex_free(&x);
  return rc;
}

static const struct xattr *
attr(const struct node *n, const char *name)
{
  for (size_t i = 0; i < n->na; i++) {
    if (strcmp(n->a[i].name, name) == 0) return &n->a[i];
  }
  return NULL;
}

static const char *
attr_val(const struct node *n, const char *name)
{
  const struct xattr *a = attr(n, name);
  return a ? a->val : NULL;
}

static size_t
attr_off(const struct node *n, const char *name)
{
  const struct xattr *a = attr(n, name);
  return a ? a->off : n->off;
}

static const struct node *
child(const struct node *n, const char *name)
{
  for (const struct node *k = n->kid; k; k = k->next) {
    if (strcmp(k->name, name) == 0) return k;
  }
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Small parsers.                                                      */

static bool
is_space(char ch)
{
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* parse_num - decimal or 0x-hex, surrounding blanks allowed, no sign;
 * false when malformed or above max. */
static bool
parse_num(const char *s, uint64_t max, uint64_t *out)
{
  while (is_space(*s))
    s++;
  unsigned base = 10;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s += 2;
  }
  uint64_t v = 0;
  size_t digits = 0;
  for (;; s++, digits++) {
    unsigned d;
    if (*s >= '0' && *s <= '9')
      d = (unsigned)(*s - '0');
    else if (base == 16 && *s >= 'a' && *s <= 'f')
      d = (unsigned)(*s - 'a' + 10);
    else if (base == 16 && *s >= 'A' && *s <= 'F')
      d = (unsigned)(*s - 'A' + 10);
    else
      break;
    if (v > (UINT64_MAX - d) / base) return false;
    v = v * base + d;
  }
  while (is_space(*s))
    s++;
  if (!digits || *s || v > max) return false;
  *out = v;
  return true;
}

static bool
looks_numeric(const char *s)
{
  while (is_space(*s))
    s++;
  return *s >= '0' && *s <= '9';
}

static int
hexval(char ch)
{
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* parse_guid - "{8-4-4-4-12}" (braces optional) into Windows layout:
 * Data1, Data2, Data3 little-endian, Data4 in order. */
static bool
parse_guid(const char *s, uint8_t g[16])
{
  while (is_space(*s))
    s++;
  bool brace = *s == '{';
  if (brace) s++;
  static const int groups[5] = {8, 4, 4, 4, 12};
  uint8_t raw[16];
  size_t k = 0;
  for (int i = 0; i < 5; i++) {
    if (i && *s++ != '-') return false;
    for (int j = 0; j < groups[i]; j += 2) {
      int hi = hexval(s[0]);
      int lo = hi < 0 ? -1 : hexval(s[1]);
      if (lo < 0) return false;
      raw[k++] = (uint8_t)(hi << 4 | lo);
      s += 2;
    }
  }
  if (brace && *s++ != '}') return false;
  while (is_space(*s))
    s++;
  if (*s) return false;
  static const uint8_t order[16] = {3, 2, 1,  0,  5,  4,  7,  6,
                                    8, 9, 10, 11, 12, 13, 14, 15};
  for (int i = 0; i < 16; i++)
    g[i] = raw[order[i]];
  return true;
}

static bool
ieq(const char *a, const char *b)
{
  for (; *a && *b; a++, b++) {
    char x = *a, y = *b;
    if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
    if (x != y) return false;
  }
  return *a == *b;
}

static const char *
local_part(const char *s)
{
  const char *c = strrchr(s, ':');
  return c ? c + 1 : s;
}

/* ------------------------------------------------------------------ */
/* The project namespace (EVT_MANIFEST_NS, see evt_manifest.h).         */

/* in_project_ns - whether the prefix of the qualified name qn (the part
 * before its last ':') is bound to EVT_MANIFEST_NS at element n: the
 * nearest xmlns:PREFIX declaration on n or an ancestor decides. */
static bool
in_project_ns(const struct node *n, const char *qn)
{
  const char *colon = strrchr(qn, ':');
  if (!colon) return false;
  size_t pl = (size_t)(colon - qn);
  for (; n; n = n->up) {
    for (size_t i = 0; i < n->na; i++) {
      const char *an = n->a[i].name;
      if (strncmp(an, "xmlns:", 6) == 0 && strlen(an + 6) == pl &&
          strncmp(an + 6, qn, pl) == 0)
        return strcmp(n->a[i].val, EVT_MANIFEST_NS) == 0;
    }
  }
  return false;
}

/* project_attr - the attribute of n whose local name is local and whose
 * prefix is bound to the project namespace, or NULL. */
static const struct xattr *
project_attr(const struct node *n, const char *local)
{
  for (size_t i = 0; i < n->na; i++) {
    const char *an = n->a[i].name;
    if (strchr(an, ':') && strcmp(local_part(an), local) == 0 &&
        strncmp(an, "xmlns:", 6) != 0 && in_project_ns(n, an))
      return &n->a[i];
  }
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Type names (winmeta.xml), compared by local name, case-insensitive.  */

struct type_name {
  const char *name;
  uint16_t value;
};

static const struct type_name in_types[] = {
    {"UnicodeString", EVT_IN_UNICODESTRING},
    {"AnsiString", EVT_IN_ANSISTRING},
    {"Int8", EVT_IN_INT8},
    {"UInt8", EVT_IN_UINT8},
    {"Int16", EVT_IN_INT16},
    {"UInt16", EVT_IN_UINT16},
    {"Int32", EVT_IN_INT32},
    {"UInt32", EVT_IN_UINT32},
    {"Int64", EVT_IN_INT64},
    {"UInt64", EVT_IN_UINT64},
    {"Float", EVT_IN_FLOAT},
    {"Double", EVT_IN_DOUBLE},
    {"Boolean", EVT_IN_BOOLEAN},
    {"Binary", EVT_IN_BINARY},
    {"GUID", EVT_IN_GUID},
    {"Pointer", EVT_IN_POINTER},
    {"FILETIME", EVT_IN_FILETIME},
    {"SYSTEMTIME", EVT_IN_SYSTEMTIME},
    {"SID", EVT_IN_SID},
    {"HexInt32", EVT_IN_HEXINT32},
    {"HexInt64", EVT_IN_HEXINT64},
    {"CountedUnicodeString", EVT_IN_COUNTEDSTRING},
    {"CountedString", EVT_IN_COUNTEDSTRING},
    {"CountedAnsiString", EVT_IN_COUNTEDANSISTRING},
    {"CountedBinary", EVT_IN_COUNTEDBINARY},
};

static const struct type_name out_types[] = {
    {"string", EVT_OUT_STRING},
    {"dateTime", EVT_OUT_DATETIME},
    {"byte", EVT_OUT_BYTE},
    {"unsignedByte", EVT_OUT_UNSIGNEDBYTE},
    {"short", EVT_OUT_SHORT},
    {"unsignedShort", EVT_OUT_UNSIGNEDSHORT},
    {"int", EVT_OUT_INT},
    {"unsignedInt", EVT_OUT_UNSIGNEDINT},
    {"long", EVT_OUT_LONG},
    {"unsignedLong", EVT_OUT_UNSIGNEDLONG},
    {"float", EVT_OUT_FLOAT},
    {"double", EVT_OUT_DOUBLE},
    {"boolean", EVT_OUT_BOOLEAN},
    {"GUID", EVT_OUT_GUID},
    {"hexBinary", EVT_OUT_HEXBINARY},
    {"HexInt8", EVT_OUT_HEXINT8},
    {"HexInt16", EVT_OUT_HEXINT16},
    {"HexInt32", EVT_OUT_HEXINT32},
    {"HexInt64", EVT_OUT_HEXINT64},
    {"PID", EVT_OUT_PID},
    {"TID", EVT_OUT_TID},
    {"Port", EVT_OUT_PORT},
    {"IPv4", EVT_OUT_IPV4},
    {"IPv6", EVT_OUT_IPV6},
    {"SocketAddress", EVT_OUT_SOCKETADDRESS},
    {"CIMDateTime", EVT_OUT_CIMDATETIME},
    {"ETWTIME", EVT_OUT_ETWTIME},
    {"Xml", EVT_OUT_XML},
    {"ErrorCode", EVT_OUT_ERRORCODE},
    {"Win32Error", EVT_OUT_WIN32ERROR},
    {"NTSTATUS", EVT_OUT_NTSTATUS},
    {"HResult", EVT_OUT_HRESULT},
    {"DateTimeCultureInsensitive", EVT_OUT_CULTURE_INSENSITIVE_DATETIME},
    {"Json", EVT_OUT_JSON},
    {"Utf8", EVT_OUT_UTF8},
    {"Pkcs7WithTypeInfo", EVT_OUT_PKCS7_WITH_TYPE_INFO},
    {"CodePointer", EVT_OUT_CODE_POINTER},
    {"DateTimeUtc", EVT_OUT_DATETIME_UTC},
    {"NoPrint", EVT_OUT_NOPRINT},
};

/* In-types of the project namespace (EVT_MANIFEST_NS): the WBEM types of
 * MOF classes, named as evt_in_name() names them. */
static const struct type_name rtk_in_types[] = {
    {"WbemCountedString", EVT_IN_WBEM_COUNTEDSTRING},
    {"WbemCountedAnsiString", EVT_IN_WBEM_COUNTEDANSISTRING},
    {"WbemReversedCountedString", EVT_IN_WBEM_REVCOUNTEDSTRING},
    {"WbemReversedCountedAnsiString", EVT_IN_WBEM_REVCOUNTEDANSISTRING},
    {"WbemNonNullTerminatedString", EVT_IN_WBEM_NONNULLSTRING},
    {"WbemNonNullTerminatedAnsiString", EVT_IN_WBEM_NONNULLANSISTRING},
    {"WbemUnicodeChar", EVT_IN_WBEM_UNICODECHAR},
    {"WbemAnsiChar", EVT_IN_WBEM_ANSICHAR},
    {"WbemSizeT", EVT_IN_WBEM_SIZET},
    {"WbemHexDump", EVT_IN_WBEM_HEXDUMP},
    {"WbemSid", EVT_IN_WBEM_SID},
};

static int
type_lookup(const struct type_name *t, size_t n, const char *name)
{
  const char *l = local_part(name);
  for (size_t i = 0; i < n; i++) {
    if (ieq(t[i].name, l)) return t[i].value;
  }
  return -1;
}

/* The out-type TDH uses when the manifest names none. */
static uint16_t
default_out(uint16_t in)
{
  switch (in) {
  case EVT_IN_UNICODESTRING:
  case EVT_IN_ANSISTRING:
  case EVT_IN_SID:
  case EVT_IN_COUNTEDSTRING:
  case EVT_IN_COUNTEDANSISTRING:
    return EVT_OUT_STRING;
  case EVT_IN_INT8:
    return EVT_OUT_BYTE;
  case EVT_IN_UINT8:
    return EVT_OUT_UNSIGNEDBYTE;
  case EVT_IN_INT16:
    return EVT_OUT_SHORT;
  case EVT_IN_UINT16:
    return EVT_OUT_UNSIGNEDSHORT;
  case EVT_IN_INT32:
    return EVT_OUT_INT;
  case EVT_IN_UINT32:
    return EVT_OUT_UNSIGNEDINT;
  case EVT_IN_INT64:
    return EVT_OUT_LONG;
  case EVT_IN_UINT64:
    return EVT_OUT_UNSIGNEDLONG;
  case EVT_IN_FLOAT:
    return EVT_OUT_FLOAT;
  case EVT_IN_DOUBLE:
    return EVT_OUT_DOUBLE;
  case EVT_IN_BOOLEAN:
    return EVT_OUT_BOOLEAN;
  case EVT_IN_BINARY:
  case EVT_IN_COUNTEDBINARY:
    return EVT_OUT_HEXBINARY;
  case EVT_IN_GUID:
    return EVT_OUT_GUID;
  case EVT_IN_POINTER:
  case EVT_IN_HEXINT64:
    return EVT_OUT_HEXINT64;
  case EVT_IN_FILETIME:
  case EVT_IN_SYSTEMTIME:
    return EVT_OUT_DATETIME;
  case EVT_IN_HEXINT32:
    return EVT_OUT_HEXINT32;
  default:
    return EVT_OUT_NULL;
  }
}

static bool
is_integer_in(uint16_t in)
{
  return (in >= EVT_IN_INT8 && in <= EVT_IN_UINT64) || in == EVT_IN_HEXINT32 ||
         in == EVT_IN_HEXINT64;
}

/* ------------------------------------------------------------------ */
/* winmeta.xml built-ins, with the names TDH gives them.               */

struct builtin {
  const char *key;
  const char *disp;
  uint64_t value;
};

static const struct builtin win_levels[] = {
    {"win:LogAlways", "Log Always", 0},
    {"win:Critical", "Critical", 1},
    {"win:Error", "Error", 2},
    {"win:Warning", "Warning", 3},
    {"win:Informational", "Information", 4},
    {"win:Verbose", "Verbose", 5},
};

static const struct builtin win_tasks[] = {
    {"win:None", "None", 0},
};

static const struct builtin win_opcodes[] = {
    {"win:Info", "Info", 0},         {"win:Start", "Start", 1},
    {"win:Stop", "Stop", 2},         {"win:DC_Start", "DCStart", 3},
    {"win:DC_Stop", "DCStop", 4},    {"win:Extension", "Extension", 5},
    {"win:Reply", "Reply", 6},       {"win:Resume", "Resume", 7},
    {"win:Suspend", "Suspend", 8},   {"win:Send", "Send", 9},
    {"win:Receive", "Receive", 240},
};

static const struct builtin win_channels[] = {
    {"win:TraceClassic", "TraceClassic", 0},
    {"win:System", "System", 8},
    {"win:Application", "Application", 9},
    {"win:Security", "Security", 10},
    {"win:TraceLogging", "TraceLogging", 11},
    {"win:ProviderMetadata", "ProviderMetadata", 12},
};

static const struct builtin win_keywords[] = {
    {"win:ResponseTime", "ResponseTime", 1ULL << 48},
    {"win:WDIContext", "WDIContext", 1ULL << 49},
    {"win:WDIDiag", "WDIDiag", 1ULL << 50},
    {"win:SQM", "SQM", 1ULL << 51},
    {"win:AuditFailure", "AuditFailure", 1ULL << 52},
    {"win:AuditSuccess", "AuditSuccess", 1ULL << 53},
    {"win:CorrelationHint", "CorrelationHint", 1ULL << 54},
    {"win:EventlogClassic", "EventlogClassic", 1ULL << 55},
};

/* builtin_find - a reference with a prefix matches by local name (the
 * prefix is whatever the manifest bound winmeta's namespace to); one
 * without a prefix matches only where any_prefix allows (channels are
 * referred to as plain "System"). */
static const struct builtin *
builtin_find(const struct builtin *b, size_t n, const char *ref,
             bool any_prefix)
{
  bool prefixed = strchr(ref, ':');
  if (!prefixed && !any_prefix) return NULL;
  const char *l = local_part(ref);
  for (size_t i = 0; i < n; i++) {
    if (strcmp(local_part(b[i].key), l) == 0) return &b[i];
  }
  return NULL;
}

#define NB(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* String table and display names.                                     */

static int
str_cmp(const void *a, const void *b)
{
  const struct str *x = a, *y = b;
  int d = strcmp(x->id, y->id);
  if (d) return d;
  return x->off < y->off ? -1 : x->off > y->off;
}

/* next_preorder - the element after k in document order, within root. */
static const struct node *
next_preorder(const struct node *k, const struct node *root)
{
  if (k->kid) return k->kid;
  while (k && k != root) {
    if (k->next) return k->next;
    k = k->up;
  }
  return NULL;
}

static const struct node *
find_resources(const struct node *root)
{
  const struct node *first = NULL;
  for (const struct node *k = root; k; k = next_preorder(k, root)) {
    if (strcmp(k->name, "resources") == 0 && k->up &&
        strcmp(k->up->name, "localization") == 0) {
      const char *cul = attr_val(k, "culture");
      if (cul && ieq(cul, "en-US")) return k;
      if (!first) first = k;
    }
  }
  return first;
}

static int
load_strings(struct ctx *c)
{
  const struct node *res = find_resources(c->root);
  const struct node *tab = res ? child(res, "stringTable") : NULL;
  if (!tab) return 0;
  size_t n = 0;
  for (const struct node *k = tab->kid; k; k = k->next)
    n += strcmp(k->name, "string") == 0;
  if (!n) return 0;
  c->strings = pool_alloc(&c->pool, n * sizeof *c->strings);
  if (!c->strings) return oom(c);
  for (const struct node *k = tab->kid; k; k = k->next) {
    if (strcmp(k->name, "string") != 0) continue;
    const char *id = attr_val(k, "id");
    const char *val = attr_val(k, "value");
    if (!id) return fail(c, k->off, "<string> without an id");
    if (!val)
      return fail(c, k->off, "<string id=\"%.*s\"> without a value", qlen(id),
                  id);
    struct str *s = &c->strings[c->nstrings++];
    s->id = id;
    s->val = val;
    s->off = k->off;
  }
  qsort(c->strings, c->nstrings, sizeof *c->strings, str_cmp);
  return 0;
}

static const char *
string_find(const struct ctx *c, const char *id, size_t n)
{
  size_t lo = 0, hi = c->nstrings;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const char *k = c->strings[mid].id;
    int d = strncmp(k, id, n);
    if (!d && k[n]) d = 1;
    if (d < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo < c->nstrings) {
    const char *k = c->strings[lo].id;
    if (strncmp(k, id, n) == 0 && !k[n]) return c->strings[lo].val;
  }
  return NULL;
}

/* message - the text a message attribute stands for: "$(string.ID)"
 * looked up in the string table (NULL when absent), anything else
 * taken literally. */
static const char *
message(const struct ctx *c, const char *m)
{
  if (!m) return NULL;
  size_t n = strlen(m);
  if (n >= 10 && memcmp(m, "$(string.", 9) == 0 && m[n - 1] == ')')
    return string_find(c, m + 9, n - 10);
  return m;
}

static const char *
arena_str(struct ctx *c, const char *s)
{
  if (!s) return NULL;
  char *q = evt_strdup(c->r, s, strlen(s));
  if (!q) oom(c);
  return q;
}

/* display - the TDH name of an item: its message, else its name. */
static const char *
display(struct ctx *c, const struct node *n, const char *name)
{
  const char *m = message(c, attr_val(n, "message"));
  return arena_str(c, m && *m ? m : name);
}

/* ------------------------------------------------------------------ */
/* Tables of named items.                                              */

static int
def_cmp(const void *a, const void *b)
{
  const struct def *x = a, *y = b;
  int d = strcmp(x->key, y->key);
  if (d) return d;
  return x->off < y->off ? -1 : x->off > y->off;
}

static const struct def *
def_find(const struct defs *t, const char *key)
{
  if (!t) return NULL;
  size_t lo = 0, hi = t->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int d = strcmp(t->v[mid].key, key);
    if (!d) return &t->v[mid];
    if (d < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

static int
defs_sort(struct ctx *c, struct defs *t, const char *what)
{
  if (t->n > 1) qsort(t->v, t->n, sizeof *t->v, def_cmp);
  for (size_t i = 1; i < t->n; i++) {
    if (strcmp(t->v[i - 1].key, t->v[i].key) == 0)
      return fail(c, t->v[i].off, "duplicate %s \"%.*s\"", what,
                  qlen(t->v[i].key), t->v[i].key);
  }
  return 0;
}

static size_t
count_kids(const struct node *n, const char *name)
{
  size_t k = 0;
  if (n) {
    for (const struct node *e = n->kid; e; e = e->next)
      k += strcmp(e->name, name) == 0;
  }
  return k;
}

static int
defs_alloc(struct ctx *c, struct defs *t, size_t n)
{
  t->n = 0;
  t->v = NULL;
  if (!n) return 0;
  t->v = pool_alloc(&c->pool, n * sizeof *t->v);
  return t->v ? 0 : oom(c);
}

/* simple_defs - levels, opcodes, keywords: name + number + message. */
static int
simple_defs(struct ctx *c, const struct node *list, const char *elem,
            const char *num_attr, uint64_t max, struct defs *t)
{
  if (defs_alloc(c, t, count_kids(list, elem))) return -1;
  if (!list) return 0;
  for (const struct node *e = list->kid; e; e = e->next) {
    if (strcmp(e->name, elem) != 0) continue;
    const char *name = attr_val(e, "name");
    const char *num = attr_val(e, num_attr);
    if (!name) return fail(c, e->off, "<%s> without a name", elem);
    if (!num)
      return fail(c, e->off, "<%s name=\"%.*s\"> without a %s", elem,
                  qlen(name), name, num_attr);
    struct def *d = &t->v[t->n++];
    if (!parse_num(num, max, &d->value))
      return fail(c, attr_off(e, num_attr),
                  "%s \"%.*s\" is not a number "
                  "from 0 to %llu",
                  num_attr, qlen(num), num, (unsigned long long)max);
    d->key = name;
    d->off = e->off;
    d->n = e;
    d->disp = display(c, e, name);
    if (!d->disp) return -1;
  }
  return defs_sort(c, t, elem);
}

static int
task_defs(struct ctx *c, const struct node *list, struct defs *t)
{
  if (simple_defs(c, list, "task", "value", 0xFFFF, t)) return -1;
  for (size_t i = 0; i < t->n; i++) {
    const struct node *ops = child(t->v[i].n, "opcodes");
    if (!ops) continue;
    struct defs *sub = pool_alloc(&c->pool, sizeof *sub);
    if (!sub) return oom(c);
    if (simple_defs(c, ops, "opcode", "value", 0xFF, sub)) return -1;
    t->v[i].sub = sub;
  }
  return 0;
}

/* channel_defs - channels in declaration order; those without a value
 * get 16, 17, ... skipping values declared explicitly; imported channels
 * known to winmeta keep their well-known value. t is keyed by chid (or
 * name when there is none), names by name: events may use either. */
static int
channel_defs(struct ctx *c, const struct node *list, struct defs *t,
             struct defs *names)
{
  size_t n = count_kids(list, "channel") + count_kids(list, "importChannel");
  if (defs_alloc(c, t, n)) return -1;
  if (!list) return 0;
  bool used[256] = {false};
  for (const struct node *e = list->kid; e; e = e->next) {
    const char *v = attr_val(e, "value");
    uint64_t u;
    if (strcmp(e->name, "channel") == 0 && v && parse_num(v, 255, &u))
      used[u] = true;
  }
  unsigned next = 16;
  for (const struct node *e = list->kid; e; e = e->next) {
    bool imp = strcmp(e->name, "importChannel") == 0;
    if (!imp && strcmp(e->name, "channel") != 0) continue;
    const char *name = attr_val(e, "name");
    const char *chid = attr_val(e, "chid");
    if (!name) return fail(c, e->off, "<%s> without a name", e->name);
    struct def *d = &t->v[t->n++];
    d->key = chid ? chid : name;
    d->off = e->off;
    d->n = e;
    const char *v = attr_val(e, "value");
    const struct builtin *b =
        imp ? builtin_find(win_channels, NB(win_channels), name, true) : NULL;
    if (v && !imp) {
      if (!parse_num(v, 255, &d->value))
        return fail(c, attr_off(e, "value"),
                    "channel value \"%.*s\" is not a number from 0 to 255",
                    qlen(v), v);
    } else if (b) {
      d->value = b->value;
    } else {
      while (next < 256 && used[next])
        next++;
      if (next > 255)
        return fail(c, e->off, "more channels than values 16 to 255");
      d->value = next;
      used[next++] = true;
    }
    d->disp = b ? b->disp : display(c, e, name);
    if (!d->disp) return -1;
  }
  if (defs_alloc(c, names, t->n)) return -1;
  for (size_t i = 0; i < t->n; i++) {
    names->v[i] = t->v[i];
    names->v[i].key = attr_val(t->v[i].n, "name");
  }
  names->n = t->n;
  if (names->n > 1) qsort(names->v, names->n, sizeof *names->v, def_cmp);
  return defs_sort(c, t, "channel");
}

/* sort_entries - a stable insertion sort by value: of equal values the
 * first declared must win, and qsort is not stable (msvcrt's is not).
 * Manifests list values mostly in order, so this is near linear. */
static void
sort_entries(struct evt_map_entry *me, uint32_t n)
{
  for (uint32_t i = 1; i < n; i++) {
    struct evt_map_entry x = me[i];
    uint32_t j = i;
    for (; j > 0 && me[j - 1].value > x.value; j--)
      me[j] = me[j - 1];
    me[j] = x;
  }
}

static int
map_defs(struct ctx *c, const struct node *list, struct defs *t)
{
  size_t n = count_kids(list, "valueMap") + count_kids(list, "bitMap");
  if (defs_alloc(c, t, n)) return -1;
  if (!list) return 0;
  for (const struct node *e = list->kid; e; e = e->next) {
    bool bit = strcmp(e->name, "bitMap") == 0;
    if (!bit && strcmp(e->name, "valueMap") != 0) continue;
    const char *name = attr_val(e, "name");
    if (!name) return fail(c, e->off, "<%s> without a name", e->name);
    size_t k = count_kids(e, "map");
    struct evt_map *m = evt_alloc(c->r, sizeof *m);
    struct evt_map_entry *me = k ? evt_alloc(c->r, k * sizeof *me) : NULL;
    if (m) m->name = arena_str(c, name);
    if (!m || (k && !me) || !m->name) return oom(c);
    m->bitmap = bit;
    uint32_t used = 0;
    for (const struct node *x = e->kid; x; x = x->next) {
      if (strcmp(x->name, "map") != 0) continue;
      const char *v = attr_val(x, "value");
      uint64_t u;
      if (!v) return fail(c, x->off, "<map> without a value");
      if (!parse_num(v, 0xFFFFFFFF, &u))
        return fail(c, attr_off(x, "value"),
                    "map value \"%.*s\" is not a 32-bit number", qlen(v), v);
      const char *s = message(c, attr_val(x, "message"));
      if (!s) continue; /* no text: the decoder shows the number */
      me[used].value = (uint32_t)u;
      me[used].name = arena_str(c, s);
      if (!me[used].name) return -1;
      used++;
    }
    if (!bit && used > 1) {
      sort_entries(me, used); /* then keep the first of equal values */
      uint32_t w = 1;
      for (uint32_t i = 1; i < used; i++) {
        if (me[i].value != me[w - 1].value) me[w++] = me[i];
      }
      used = w;
    }
    m->n = used;
    m->e = me;
    struct def *d = &t->v[t->n++];
    d->key = name;
    d->off = e->off;
    d->n = e;
    d->map = m;
  }
  return defs_sort(c, t, "map");
}

/* ------------------------------------------------------------------ */
/* Templates.                                                          */

static bool
is_field_elem(const struct node *e)
{
  return strcmp(e->name, "data") == 0 || strcmp(e->name, "struct") == 0;
}

/* later_field - whether a data or struct named name appears anywhere in
 * the template (for a clearer message about forward references). */
static bool
later_field(const struct node *tmpl, const char *name)
{
  for (const struct node *e = tmpl->kid; e; e = e->next) {
    if (!is_field_elem(e)) continue;
    const char *n = attr_val(e, "name");
    if (n && strcmp(n, name) == 0) return true;
    for (const struct node *m = e->kid; m; m = m->next) {
      n = attr_val(m, "name");
      if (strcmp(m->name, "data") == 0 && n && strcmp(n, name) == 0)
        return true;
    }
  }
  return false;
}

/* ref_field - resolve a length= or count= value that names a field.
 * Candidates: fields[lo1..hi1) (members of the same struct before this
 * one), then fields[0..hi2) (top-level fields before this one); the
 * nearest wins. */
static int
ref_field(struct ctx *c, const struct node *tmpl, const struct node *e,
          const char *what, const char *ref, const struct evt_field *f,
          size_t lo1, size_t hi1, size_t hi2, uint16_t *out)
{
  size_t off = attr_off(e, what);
  const char *r = ref;
  while (is_space(*r))
    r++;
  size_t rl = strlen(r);
  while (rl && is_space(r[rl - 1]))
    rl--;
  size_t idx = SIZE_MAX;
  for (size_t i = hi1; i > lo1 && idx == SIZE_MAX; i--) {
    if (strncmp(f[i - 1].name, r, rl) == 0 && !f[i - 1].name[rl]) idx = i - 1;
  }
  for (size_t i = hi2; i > 0 && idx == SIZE_MAX; i--) {
    if (strncmp(f[i - 1].name, r, rl) == 0 && !f[i - 1].name[rl]) idx = i - 1;
  }
  if (idx == SIZE_MAX) {
    char *nm = pool_strdup(&c->pool, r, rl);
    if (nm && later_field(tmpl, nm))
      return fail(c, off, "%s \"%.*s\" names a field that comes later", what,
                  qlen(nm), nm);
    return fail(c, off, "%s \"%.*s\" names no earlier field", what,
                (int)(rl > 48 ? 48 : rl), r);
  }
  const struct evt_field *t = &f[idx];
  if ((t->flags & (EVT_F_STRUCT | EVT_F_COUNT_FIELD | EVT_F_COUNT_FIXED |
                   EVT_F_COUNT_REST)) ||
      !is_integer_in(t->in))
    return fail(c, off, "%s \"%.*s\" names a field that is not an integer",
                what, (int)(rl > 48 ? 48 : rl), r);
  *out = (uint16_t)idx;
  return 0;
}

/* size_attr - length= or count=: a number (fixed) or an earlier field. */
static int
size_attr(struct ctx *c, const struct node *tmpl, const struct node *e,
          const char *what, struct evt_field *fld, const struct evt_field *f,
          size_t lo1, size_t hi1, size_t hi2)
{
  const char *v = attr_val(e, what);
  if (!v) return 0;
  bool count = what[0] == 'c';
  uint16_t *slot = count ? &fld->count : &fld->len;
  if (looks_numeric(v)) {
    uint64_t u;
    if (!parse_num(v, 0xFFFF, &u) || (count && u == 0))
      return fail(c, attr_off(e, what),
                  "%s \"%.*s\" is not a number from "
                  "%d to 65535",
                  what, qlen(v), v, count ? 1 : 0);
    *slot = (uint16_t)u;
    fld->flags |= count ? EVT_F_COUNT_FIXED : EVT_F_LEN_FIXED;
    return 0;
  }
  if (ref_field(c, tmpl, e, what, v, f, lo1, hi1, hi2, slot)) return -1;
  fld->flags |= count ? EVT_F_COUNT_FIELD : EVT_F_LEN_FIELD;
  return 0;
}

/* rest_attr - rtk:rest="true": an array of as many values as the rest
 * of the payload holds, which some MOF classes end with (StackWalk's
 * Stack1..Stack192). Only on the template's last top-level field, with
 * no count=, of a fixed-size in-type. */
static int
rest_attr(struct ctx *c, const struct node *tmpl, const struct node *e,
          struct evt_field *fld)
{
  const struct xattr *a = project_attr(e, "rest");
  if (!a || strcmp(a->val, "false") == 0 || strcmp(a->val, "0") == 0) return 0;
  if (strcmp(a->val, "true") != 0 && strcmp(a->val, "1") != 0)
    return fail(c, a->off, "rest=\"%.*s\" is not true or false", qlen(a->val),
                a->val);
  const struct node *last = NULL;
  for (const struct node *k = tmpl->kid; k; k = k->next)
    if (is_field_elem(k)) last = k;
  if (e != last || fld->flags & (EVT_F_COUNT_FIXED | EVT_F_COUNT_FIELD))
    return fail(c, a->off,
                "rest=\"true\" is for the template's last field, "
                "without count=");
  bool fixed = is_integer_in(fld->in) || fld->in == EVT_IN_POINTER ||
               (fld->in >= EVT_IN_FLOAT && fld->in <= EVT_IN_BOOLEAN) ||
               fld->in == EVT_IN_GUID || fld->in == EVT_IN_FILETIME ||
               fld->in == EVT_IN_SYSTEMTIME;
  if (!fixed) return fail(c, a->off, "rest=\"true\" needs a fixed-size inType");
  fld->flags |= EVT_F_COUNT_REST;
  return 0;
}

static int
data_field(struct ctx *c, const struct node *tmpl, const struct node *e,
           struct evt_field *f, size_t idx, size_t lo1, size_t hi2,
           const struct defs *maps)
{
  struct evt_field *fld = &f[idx];
  const char *name = attr_val(e, "name");
  if (!name) return fail(c, e->off, "<data> without a name");
  fld->name = arena_str(c, name);
  if (!fld->name) return -1;
  const char *in = attr_val(e, "inType");
  if (!in)
    return fail(c, e->off, "<data name=\"%.*s\"> without an inType", qlen(name),
                name);
  int t = in_project_ns(e, in) ? type_lookup(rtk_in_types, NB(rtk_in_types), in)
                               : type_lookup(in_types, NB(in_types), in);
  if (t < 0)
    return fail(c, attr_off(e, "inType"), "unknown inType \"%.*s\"", qlen(in),
                in);
  fld->in = (uint16_t)t;
  const char *out = attr_val(e, "outType");
  int o = out ? type_lookup(out_types, NB(out_types), out) : -1;
  fld->out = o < 0 || o == default_out(fld->in) ? 0 : (uint16_t)o;
  /* length= decides the size of strings and binaries only; on other
   * in-types it is ignored, as TDH does (evt_tei.c keeps the same rule). */
  bool sized = fld->in == EVT_IN_UNICODESTRING ||
               fld->in == EVT_IN_ANSISTRING || fld->in == EVT_IN_BINARY;
  if ((sized && size_attr(c, tmpl, e, "length", fld, f, lo1, idx, hi2)) ||
      size_attr(c, tmpl, e, "count", fld, f, lo1, idx, hi2))
    return -1;
  if (rest_attr(c, tmpl, e, fld)) return -1;
  if (fld->in == EVT_IN_BINARY &&
      !(fld->flags & (EVT_F_LEN_FIXED | EVT_F_LEN_FIELD))) {
    if (fld->out != EVT_OUT_IPV6)
      return fail(c, e->off, "win:Binary \"%.*s\" without a length", qlen(name),
                  name);
    fld->len = 16;
    fld->flags |= EVT_F_LEN_FIXED;
  }
  const char *map = attr_val(e, "map");
  if (map) {
    const struct def *d = def_find(maps, map);
    fld->map = d ? d->map : NULL;
    fld->map_name = d ? d->map->name : arena_str(c, map);
    if (!fld->map_name) return -1;
  }
  return 0;
}

static int
template_def(struct ctx *c, struct def *d, const struct defs *maps)
{
  const struct node *tn = d->n;
  size_t ntop = 0, nmem = 0;
  for (const struct node *e = tn->kid; e; e = e->next) {
    if (!is_field_elem(e)) continue;
    ntop++;
    if (strcmp(e->name, "struct") != 0) continue;
    for (const struct node *m = e->kid; m; m = m->next) {
      if (strcmp(m->name, "struct") == 0)
        return fail(c, m->off, "<struct> inside <struct> is not supported");
      nmem += strcmp(m->name, "data") == 0;
    }
    if (ntop + nmem > EVT_MANIFEST_MAX_FIELDS) break;
  }
  if (ntop + nmem > EVT_MANIFEST_MAX_FIELDS)
    return fail(c, tn->off, "template \"%.*s\" has more than %d fields",
                qlen(d->key), d->key, EVT_MANIFEST_MAX_FIELDS);
  if (!ntop) return 0;
  struct evt_field *f = evt_alloc(c->r, (ntop + nmem) * sizeof *f);
  if (!f) return oom(c);
  size_t i = 0, m = ntop;
  for (const struct node *e = tn->kid; e; e = e->next) {
    if (!is_field_elem(e)) continue;
    if (strcmp(e->name, "data") == 0) {
      if (data_field(c, tn, e, f, i, i, i, maps)) return -1;
      i++;
      continue;
    }
    struct evt_field *s = &f[i];
    const char *name = attr_val(e, "name");
    if (!name) return fail(c, e->off, "<struct> without a name");
    s->name = arena_str(c, name);
    if (!s->name) return -1;
    s->flags = EVT_F_STRUCT;
    s->first = (uint16_t)m;
    if (size_attr(c, tn, e, "count", s, f, i, i, i)) return -1;
    size_t first = m;
    for (const struct node *x = e->kid; x; x = x->next) {
      if (strcmp(x->name, "data") != 0) continue;
      if (data_field(c, tn, x, f, m, first, i, maps)) return -1;
      m++;
    }
    if (m == first)
      return fail(c, e->off, "<struct name=\"%.*s\"> has no members",
                  qlen(name), name);
    s->nmembers = (uint16_t)(m - first);
    i++;
  }
  d->fields = f;
  d->nfields = (uint16_t)(ntop + nmem);
  d->ntop = (uint16_t)ntop;
  return 0;
}

static int
template_defs(struct ctx *c, const struct node *list, const struct defs *maps,
              struct defs *t)
{
  if (defs_alloc(c, t, count_kids(list, "template"))) return -1;
  if (!list) return 0;
  for (const struct node *e = list->kid; e; e = e->next) {
    if (strcmp(e->name, "template") != 0) continue;
    const char *tid = attr_val(e, "tid");
    if (!tid) return fail(c, e->off, "<template> without a tid");
    struct def *d = &t->v[t->n++];
    d->key = tid;
    d->off = e->off;
    d->n = e;
    if (template_def(c, d, maps)) return -1;
  }
  return defs_sort(c, t, "template");
}

/* ------------------------------------------------------------------ */
/* Providers and events.                                               */

struct provider {
  uint8_t guid[16];
  const char *name; /* registry arena */
  bool classic;     /* rtk:classic="true": MOF class, events by type */
  struct defs channels, channel_names, levels, tasks, opcodes, keywords;
  struct defs maps, templates;
};

static int
add_result(struct ctx *c, const uint8_t guid[16], const struct evt_schema *s,
           const struct evt_map *m, const char *pname)
{
  struct result *x = pool_alloc(&c->pool, sizeof *x);
  if (!x) return oom(c);
  memcpy(x->guid, guid, 16);
  x->schema = s;
  x->map = m;
  x->provider_name = pname;
  if (c->results_last)
    c->results_last->next = x;
  else
    c->results = x;
  c->results_last = x;
  return 0;
}

/* lookup - an event attribute naming a provider item or a built-in:
 * scoped is searched first (the task's own opcodes; channels by chid),
 * then own, then the winmeta built-ins. */
static int
lookup(struct ctx *c, const struct node *ev, const char *what,
       const struct defs *own, const struct defs *scoped,
       const struct builtin *b, size_t nb, bool any_prefix, uint64_t *value,
       const char **disp)
{
  const char *ref = attr_val(ev, what);
  if (!ref) return 0;
  const struct def *d = def_find(scoped, ref);
  if (!d) d = def_find(own, ref);
  if (d) {
    *value = d->value;
    *disp = d->disp;
    return 0;
  }
  const struct builtin *w = builtin_find(b, nb, ref, any_prefix);
  if (w) {
    *value = w->value;
    *disp = w->disp;
    return 0;
  }
  return fail(c, attr_off(ev, what), "unknown %s \"%.*s\"", what, qlen(ref),
              ref);
}

/* keywords_name - resolve a blank-separated keyword list into the
 * display names joined with ", ". */
static int
keywords_name(struct ctx *c, const struct node *ev, const struct provider *p,
              const char **out)
{
  const char *list = attr_val(ev, "keywords");
  *out = NULL;
  if (!list) return 0;
  size_t total = 0, count = 0;
  const char *disp[64];
  for (const char *s = list; *s;) {
    while (is_space(*s))
      s++;
    if (!*s) break;
    const char *e = s;
    while (*e && !is_space(*e))
      e++;
    char *name = pool_strdup(&c->pool, s, (size_t)(e - s));
    if (!name) return oom(c);
    const struct def *d = def_find(&p->keywords, name);
    const char *dn = d ? d->disp : NULL;
    if (!d) {
      const struct builtin *w =
          builtin_find(win_keywords, NB(win_keywords), name, false);
      if (!w)
        return fail(c, attr_off(ev, "keywords"), "unknown keyword \"%.*s\"",
                    qlen(name), name);
      dn = w->disp;
    }
    if (count == NB(disp))
      return fail(c, attr_off(ev, "keywords"), "more than %d keywords",
                  (int)NB(disp));
    disp[count++] = dn;
    total += strlen(dn) + 2;
    s = e;
  }
  if (!count) return 0;
  char *j = evt_alloc(c->r, total + 1);
  if (!j) return oom(c);
  size_t at = 0;
  for (size_t i = 0; i < count; i++) {
    size_t n = strlen(disp[i]);
    if (i) {
      memcpy(j + at, ", ", 2);
      at += 2;
    }
    memcpy(j + at, disp[i], n);
    at += n;
  }
  j[at] = 0;
  *out = j;
  return 0;
}

static int
event_def(struct ctx *c, const struct provider *p, const struct node *ev)
{
  const char *v = attr_val(ev, "value");
  uint64_t id, ver = 0;
  unsigned max = p->classic ? 0xFF : 0xFFFF;
  if (!v) return fail(c, ev->off, "<event> without a value");
  if (!parse_num(v, max, &id))
    return fail(c, attr_off(ev, "value"),
                "%s value \"%.*s\" is not a number from 0 to %u",
                p->classic ? "classic event" : "event", qlen(v), v, max);
  const char *vs = attr_val(ev, "version");
  if (vs && !parse_num(vs, 0xFF, &ver))
    return fail(c, attr_off(ev, "version"),
                "event version \"%.*s\" is not a number from 0 to 255",
                qlen(vs), vs);
  struct evt_schema *s = evt_alloc(c->r, sizeof *s);
  if (!s) return oom(c);
  memcpy(s->provider, p->guid, 16);
  s->provider_name = p->name;
  s->id = (uint16_t)id;
  s->version = (uint8_t)ver;
  s->source = c->source;
  uint64_t level = 0, task = 0, opcode = 0, channel = 0;
  const struct defs *scoped = NULL;
  if (lookup(c, ev, "level", &p->levels, NULL, win_levels, NB(win_levels),
             false, &level, &s->level_name) ||
      lookup(c, ev, "task", &p->tasks, NULL, win_tasks, NB(win_tasks), false,
             &task, &s->task_name))
    return -1;
  const char *tref = attr_val(ev, "task");
  if (tref) {
    const struct def *td = def_find(&p->tasks, tref);
    scoped = td ? td->sub : NULL;
  }
  if (lookup(c, ev, "opcode", &p->opcodes, scoped, win_opcodes, NB(win_opcodes),
             false, &opcode, &s->opcode_name) ||
      lookup(c, ev, "channel", &p->channel_names, &p->channels, win_channels,
             NB(win_channels), true, &channel, &s->channel_name))
    return -1;
  s->opcode = (uint8_t)opcode;
  if (p->classic) {
    /* A MOF event type is its opcode: the key, and the name's value. */
    if (attr_val(ev, "opcode") && opcode != id)
      return fail(c, attr_off(ev, "opcode"),
                  "classic event %u has opcode \"%.*s\" of value %u",
                  (unsigned)id, qlen(attr_val(ev, "opcode")),
                  attr_val(ev, "opcode"), (unsigned)opcode);
    s->classic = true;
    s->opcode = (uint8_t)id;
  }
  if (keywords_name(c, ev, p, &s->keywords_name)) return -1;
  const char *tid = attr_val(ev, "template");
  if (tid) {
    const struct def *t = def_find(&p->templates, tid);
    if (!t)
      return fail(c, attr_off(ev, "template"), "unknown template \"%.*s\"",
                  qlen(tid), tid);
    s->fields = t->fields;
    s->nfields = t->nfields;
    s->ntop = t->ntop;
  }
  const char *msg = message(c, attr_val(ev, "message"));
  const char *en = attr_val(ev, "name");
  s->message = arena_str(c, msg);
  s->event_name = arena_str(c, en);
  if ((msg && !s->message) || (en && !s->event_name)) return -1;
  if (add_result(c, p->guid, s, NULL, NULL)) return -1;
  c->nschemas++;
  return 0;
}

static int
provider_def(struct ctx *c, const struct node *pn)
{
  struct provider p;
  memset(&p, 0, sizeof p);
  const char *name = attr_val(pn, "name");
  const char *guid = attr_val(pn, "guid");
  if (!name) return fail(c, pn->off, "<provider> without a name");
  if (!guid)
    return fail(c, pn->off, "<provider name=\"%.*s\"> without a guid",
                qlen(name), name);
  if (!parse_guid(guid, p.guid))
    return fail(c, attr_off(pn, "guid"), "malformed guid \"%.*s\"", qlen(guid),
                guid);
  p.name = arena_str(c, name);
  if (!p.name) return -1;
  const struct xattr *cl = project_attr(pn, "classic");
  if (cl) {
    if (strcmp(cl->val, "true") == 0 || strcmp(cl->val, "1") == 0)
      p.classic = true;
    else if (strcmp(cl->val, "false") != 0 && strcmp(cl->val, "0") != 0)
      return fail(c, cl->off, "classic=\"%.*s\" is not true or false",
                  qlen(cl->val), cl->val);
  }
  if (add_result(c, p.guid, NULL, NULL, p.name)) return -1;
  if (channel_defs(c, child(pn, "channels"), &p.channels, &p.channel_names) ||
      simple_defs(c, child(pn, "levels"), "level", "value", 0xFF, &p.levels) ||
      task_defs(c, child(pn, "tasks"), &p.tasks) ||
      simple_defs(c, child(pn, "opcodes"), "opcode", "value", 0xFF,
                  &p.opcodes) ||
      simple_defs(c, child(pn, "keywords"), "keyword", "mask", UINT64_MAX,
                  &p.keywords) ||
      map_defs(c, child(pn, "maps"), &p.maps) ||
      template_defs(c, child(pn, "templates"), &p.maps, &p.templates))
    return -1;
  for (size_t i = 0; i < p.maps.n; i++) {
    if (add_result(c, p.guid, NULL, p.maps.v[i].map, NULL)) return -1;
  }
  const struct node *evs = child(pn, "events");
  if (evs) {
    for (const struct node *e = evs->kid; e; e = e->next) {
      if (strcmp(e->name, "event") == 0 && event_def(c, &p, e)) return -1;
    }
  }
  return 0;
}

static int
compile(struct ctx *c)
{
  if (build_tree(c) || load_strings(c)) return -1;
  size_t providers = 0;
  for (const struct node *k = c->root; k; k = next_preorder(k, c->root)) {
    if (strcmp(k->name, "provider") != 0 || !k->up ||
        strcmp(k->up->name, "events") != 0)
      continue;
    if (provider_def(c, k)) return -1;
    providers++;
  }
  if (!providers) return fail(c, NOPOS, "no <provider> inside <events>");
  return 0;
}

static int
register_results(struct ctx *c, enum evt_prio prio)
{
  for (const struct result *x = c->results; x; x = x->next) {
    int rc = 0;
    if (x->provider_name)
      rc =
          evt_registry_set_provider_name(c->r, x->guid, x->provider_name, prio);
    else if (x->map)
      rc = evt_registry_add_map(c->r, x->guid, x->map);
    else if (x->schema)
      rc = evt_registry_add(c->r, x->schema, prio);
    if (rc) return oom(c);
  }
  return 0;
}

int
evt_manifest_load(struct evt_registry *r, const char *xml, size_t len,
                  const char *name, enum evt_prio prio, char *err,
                  size_t errlen)
{
  struct ctx c;
  memset(&c, 0, sizeof c);
  c.r = r;
  c.xml = xml;
  c.len = len;
  c.label = name ? name : "<manifest>";
  c.err = err;
  c.errlen = errlen;
  if (errlen) err[0] = 0;
  if (len > EVT_MANIFEST_MAX_BYTES)
    return fail(&c, NOPOS, "manifest larger than %u bytes",
                EVT_MANIFEST_MAX_BYTES);
  /* The tree takes a bounded multiple of the text: at most one node per
   * four bytes ("<a/>") and one attribute per four ("a=''"). */
  c.pool.limit = 24 * len + (4u << 20);
  int rc = -1;
  c.source = arena_str(&c, c.label);
  if (c.source && compile(&c) == 0 && register_results(&c, prio) == 0)
    rc = c.nschemas;
  pool_free(&c.pool);
  return rc;
}

/* ------------------------------------------------------------------ */
/* EventSource manifests in the trace (event 65534).                   */

struct pending {
  const struct evt_registry *r;
  uint8_t guid[16];
  uint16_t total, next;
  bool active; /* gathering chunks */
  bool loaded; /* hash/len describe the last manifest loaded */
  char *buf;
  size_t len, cap;
  uint64_t hash;
  size_t loaded_len;
  unsigned long stamp;
};

static struct pending pend[EVT_MANIFEST_PENDING];
static unsigned long pend_clock;

static void
pending_clear(struct pending *s)
{
  free(s->buf);
  memset(s, 0, sizeof *s);
}

void
evt_manifest_chunks_drop(const struct evt_registry *r)
{
  for (size_t i = 0; i < EVT_MANIFEST_PENDING; i++) {
    if (pend[i].r && (!r || pend[i].r == r)) pending_clear(&pend[i]);
  }
}

static struct pending *
pending_slot(const struct evt_registry *r, const uint8_t guid[16])
{
  struct pending *victim = &pend[0];
  for (size_t i = 0; i < EVT_MANIFEST_PENDING; i++) {
    struct pending *s = &pend[i];
    if (s->r == r && memcmp(s->guid, guid, 16) == 0) return s;
    if (!s->r || (victim->r && s->stamp < victim->stamp)) victim = s;
  }
  pending_clear(victim);
  victim->r = r;
  memcpy(victim->guid, guid, 16);
  return victim;
}

static int chunk_fail(char *err, size_t errlen, const char *fmt, ...)
    PRINTF_LIKE(3, 4);

static int
chunk_fail(char *err, size_t errlen, const char *fmt, ...)
{
  if (errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static uint64_t
fnv1a(const char *p, size_t n)
{
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

int
evt_manifest_chunk(struct evt_registry *r, const uint8_t provider[16],
                   const uint8_t *payload, size_t len, char *err, size_t errlen)
{
  char label[64];
  snprintf(label, sizeof label,
           "manifest of %02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
           "%02x%02x%02x%02x%02x%02x",
           provider[3], provider[2], provider[1], provider[0], provider[5],
           provider[4], provider[7], provider[6], provider[8], provider[9],
           provider[10], provider[11], provider[12], provider[13], provider[14],
           provider[15]);
  if (errlen) err[0] = 0;
  if (len < 8)
    return chunk_fail(err, errlen,
                      "%s: chunk of %lu bytes is shorter than "
                      "its 8-byte envelope",
                      label, (unsigned long)len);
  if (payload[0] != 1 || payload[1] != 1 || payload[3] != 0x5B)
    return chunk_fail(err, errlen,
                      "%s: unknown envelope (format %u, "
                      "version %u, magic 0x%02X)",
                      label, payload[0], payload[1], payload[3]);
  uint16_t total = (uint16_t)(payload[4] | payload[5] << 8);
  uint16_t num = (uint16_t)(payload[6] | payload[7] << 8);
  if (!total || num >= total)
    return chunk_fail(err, errlen, "%s: chunk %u of %u", label, (unsigned)num,
                      (unsigned)total);
  struct pending *s = pending_slot(r, provider);
  s->stamp = ++pend_clock;
  if (num == 0) {
    s->active = true;
    s->total = total;
    s->next = 0;
    s->len = 0;
  } else if (!s->active || s->total != total || s->next != num) {
    s->active = false;
    s->len = 0;
    return chunk_fail(err, errlen, "%s: chunk %u of %u out of sequence", label,
                      (unsigned)num, (unsigned)total);
  }
  size_t n = len - 8;
  if (n > EVT_MANIFEST_MAX_BYTES - s->len) {
    s->active = false;
    s->len = 0;
    return chunk_fail(err, errlen, "%s: larger than %u bytes", label,
                      EVT_MANIFEST_MAX_BYTES);
  }
  if (s->cap - s->len < n) {
    size_t cap = s->cap ? s->cap : 4096;
    while (cap - s->len < n)
      cap *= 2;
    char *b = realloc(s->buf, cap);
    if (!b) {
      s->active = false;
      s->len = 0;
      return chunk_fail(err, errlen, "%s: out of memory", label);
    }
    s->buf = b;
    s->cap = cap;
  }
  if (n) memcpy(s->buf + s->len, payload + 8, n);
  s->len += n;
  s->next++;
  if (s->next < s->total) return 0;
  s->active = false;
  size_t xl = s->len;
  while (xl && s->buf[xl - 1] == 0)
    xl--; /* a writer may count a terminating NUL */
  uint64_t h = fnv1a(s->buf, xl);
  if (s->loaded && s->hash == h && s->loaded_len == xl) {
    s->len = 0;
    return 1;
  }
  int rc = evt_manifest_load(r, s->buf, xl, label, EVT_PRIO_TRACE, err, errlen);
  s->len = 0;
  free(s->buf);
  s->buf = NULL;
  s->cap = 0;
  if (rc < 0) return -1;
  s->loaded = true;
  s->hash = h;
  s->loaded_len = xl;
  return 1;
}
