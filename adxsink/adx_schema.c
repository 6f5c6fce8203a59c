/*
 * adx_schema.c - schema inference, cslschema parsing and the KQL command
 * text for tables and mappings (see adx_schema.h).
 *
 * The row scanner reads only the top level of one JSON object: member
 * names are unescaped, values are classified and skipped. It never trusts
 * the input: every read is bounds-checked, so it is also a fuzz target.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "adxsink/adx_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
    "bool",   "int",      "long",     "real", "decimal",
    "string", "datetime", "timespan", "guid", "dynamic"};

const char *
adx_type_name(enum adx_type t)
{
  return (unsigned)t < sizeof type_names / sizeof type_names[0] ? type_names[t]
                                                                : "dynamic";
}

int
adx_type_parse(const char *s, size_t n, enum adx_type *t)
{
  static const struct {
    const char *name;
    enum adx_type t;
  } alias[] = {{"boolean", ADX_T_BOOL},  {"double", ADX_T_REAL},
               {"date", ADX_T_DATETIME}, {"time", ADX_T_TIMESPAN},
               {"uniqueid", ADX_T_GUID}, {"int32", ADX_T_INT},
               {"int64", ADX_T_LONG},    {"object", ADX_T_DYNAMIC}};
  for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
    if (strlen(type_names[i]) == n && memcmp(type_names[i], s, n) == 0) {
      *t = (enum adx_type)i;
      return 0;
    }
  for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
    if (strlen(alias[i].name) == n && memcmp(alias[i].name, s, n) == 0) {
      *t = alias[i].t;
      return 0;
    }
  return -1;
}

void
adx_schema_free(struct adx_schema *s)
{
  for (size_t i = 0; i < s->n; i++)
    free(s->cols[i].name);
  free(s->cols);
  memset(s, 0, sizeof *s);
}

long
adx_schema_find(const struct adx_schema *s, const char *name)
{
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->cols[i].name, name) == 0) return (long)i;
  return -1;
}

/* find_n - the index of the column named name[0, n), or -1. Names hold
 * no NUL (name_ok), so the first difference or a NUL ends a compare. */
static long
find_n(const struct adx_schema *s, const char *name, size_t n)
{
  for (size_t i = 0; i < s->n; i++)
    if (strncmp(s->cols[i].name, name, n) == 0 && s->cols[i].name[n] == '\0')
      return (long)i;
  return -1;
}

/* find_from - find_n trying column *hint first and then moving the hint
 * past the match: rows of one source list their members in the same
 * order, so over a batch nearly every lookup takes one compare. */
static long
find_from(const struct adx_schema *s, const char *name, size_t n, size_t *hint)
{
  size_t h = *hint;
  if (h < s->n && strncmp(s->cols[h].name, name, n) == 0 &&
      s->cols[h].name[n] == '\0') {
    *hint = h + 1;
    return (long)h;
  }
  long i = find_n(s, name, n);
  if (i >= 0) *hint = (size_t)i + 1;
  return i;
}

int
adx_schema_add(struct adx_schema *s, const char *name, size_t n,
               enum adx_type t)
{
  if (find_n(s, name, n) >= 0) return 1;
  if (s->n >= ADX_MAX_COLUMNS) return -1;
  if (s->n == s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 16;
    struct adx_col *nv = realloc(s->cols, nc * sizeof *nv);
    if (!nv) return -1;
    s->cols = nv;
    s->cap = nc;
  }
  char *copy = malloc(n + 1);
  if (!copy) return -1;
  memcpy(copy, name, n);
  copy[n] = '\0';
  s->cols[s->n].name = copy;
  s->cols[s->n].type = t;
  s->n++;
  return 0;
}

/* ---- the row scanner ------------------------------------------------ */

struct scan {
  const char *p;
  size_t n, i;
};

static void
ws(struct scan *s)
{
  while (s->i < s->n && (s->p[s->i] == ' ' || s->p[s->i] == '\t' ||
                         s->p[s->i] == '\n' || s->p[s->i] == '\r'))
    s->i++;
}

static int
hex4(const char *p, unsigned *v)
{
  unsigned x = 0;
  for (int k = 0; k < 4; k++) {
    char c = p[k];
    x <<= 4;
    if (c >= '0' && c <= '9')
      x |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      x |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      x |= (unsigned)(c - 'A' + 10);
    else
      return -1;
  }
  *v = x;
  return 0;
}

/* At a '"': set [*a, *b) to the raw content and move past the string. */
static int
str_raw(struct scan *s, size_t *a, size_t *b)
{
  if (s->i >= s->n || s->p[s->i] != '"') return -1;
  size_t i = s->i + 1;
  *a = i;
  while (i < s->n) {
    unsigned char c = (unsigned char)s->p[i];
    if (c == '"') {
      *b = i;
      s->i = i + 1;
      return 0;
    }
    if (c == '\\') {
      if (i + 1 >= s->n || !strchr("\"\\/bfnrtu", s->p[i + 1]) || !s->p[i + 1])
        return -1;
      if (s->p[i + 1] == 'u') {
        unsigned v;
        if (s->n - i < 6 || hex4(s->p + i + 2, &v) != 0) return -1;
        i += 4;
      }
      i += 2;
      continue;
    }
    if (c < 0x20) return -1;
    i++;
  }
  return -1;
}

static void
put_utf8(struct adx_str *o, unsigned cp)
{
  char b[4];
  size_t n;
  if (cp < 0x80) {
    b[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    b[0] = (char)(0xc0 | (cp >> 6));
    b[1] = (char)(0x80 | (cp & 0x3f));
    n = 2;
  } else if (cp < 0x10000) {
    b[0] = (char)(0xe0 | (cp >> 12));
    b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    b[2] = (char)(0x80 | (cp & 0x3f));
    n = 3;
  } else {
    b[0] = (char)(0xf0 | (cp >> 18));
    b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    b[3] = (char)(0x80 | (cp & 0x3f));
    n = 4;
  }
  adx_str_addn(o, b, n);
}

/* JSON string content p[0, n) unescaped into o. 0 or -1. */
static int
unescape(const char *p, size_t n, struct adx_str *o)
{
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && p[j] != '\\')
      j++;
    adx_str_addn(o, p + i, j - i);
    if (j >= n) break;
    if (j + 1 >= n) return -1;
    char e = p[j + 1];
    i = j + 2;
    switch (e) {
    case '"':
    case '\\':
    case '/':
      adx_str_addn(o, &e, 1);
      break;
    case 'b':
      adx_str_addn(o, "\b", 1);
      break;
    case 'f':
      adx_str_addn(o, "\f", 1);
      break;
    case 'n':
      adx_str_addn(o, "\n", 1);
      break;
    case 'r':
      adx_str_addn(o, "\r", 1);
      break;
    case 't':
      adx_str_addn(o, "\t", 1);
      break;
    case 'u': {
      unsigned cp, lo;
      if (n - i < 4 || hex4(p + i, &cp) != 0) return -1;
      i += 4;
      if (cp >= 0xd800 && cp < 0xdc00 && n - i >= 6 && p[i] == '\\' &&
          p[i + 1] == 'u' && hex4(p + i + 2, &lo) == 0 && lo >= 0xdc00 &&
          lo < 0xe000) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i += 6;
      } else if (cp >= 0xd800 && cp < 0xe000) {
        cp = 0xfffd;
      }
      put_utf8(o, cp);
      break;
    }
    default:
      return -1;
    }
  }
  return o->oom ? -1 : 0;
}

/* Skip an object or array, strings included; the caller checked the
 * document is JSON, so only the nesting needs following here. */
static int
skip_container(struct scan *s)
{
  size_t depth = 0;
  while (s->i < s->n) {
    char c = s->p[s->i];
    if (c == '"') {
      size_t a, b;
      if (str_raw(s, &a, &b) != 0) return -1;
      continue;
    }
    s->i++;
    if (c == '{' || c == '[')
      depth++;
    else if (c == '}' || c == ']') {
      if (depth == 0) return -1;
      if (--depth == 0) return 0;
    }
  }
  return -1;
}

static int
literal(struct scan *s, const char *w)
{
  size_t n = strlen(w);
  if (s->n - s->i < n || memcmp(s->p + s->i, w, n) != 0) return -1;
  s->i += n;
  return 0;
}

static bool
digit(char c)
{
  return c >= '0' && c <= '9';
}

static int
number(struct scan *s, enum adx_type *t)
{
  size_t start = s->i;
  bool neg = false, frac = false;
  if (s->i < s->n && s->p[s->i] == '-') {
    neg = true;
    s->i++;
  }
  size_t d0 = s->i;
  while (s->i < s->n && digit(s->p[s->i]))
    s->i++;
  size_t ndig = s->i - d0;
  if (ndig == 0) return -1;
  if (s->i < s->n && s->p[s->i] == '.') {
    frac = true;
    s->i++;
    size_t f0 = s->i;
    while (s->i < s->n && digit(s->p[s->i]))
      s->i++;
    if (s->i == f0) return -1;
  }
  if (s->i < s->n && (s->p[s->i] == 'e' || s->p[s->i] == 'E')) {
    frac = true;
    s->i++;
    if (s->i < s->n && (s->p[s->i] == '+' || s->p[s->i] == '-')) s->i++;
    size_t e0 = s->i;
    while (s->i < s->n && digit(s->p[s->i]))
      s->i++;
    if (s->i == e0) return -1;
  }
  if (frac) {
    *t = ADX_T_REAL;
    return 0;
  }
  /* Integers beyond the 64-bit range keep their digits as decimal. */
  const char *lim = neg ? "9223372036854775808" : "9223372036854775807";
  size_t lead = d0;
  while (lead < s->i - 1 && s->p[lead] == '0')
    lead++;
  size_t sig = s->i - lead;
  bool fits = sig < 19 || (sig == 19 && memcmp(s->p + lead, lim, 19) <= 0);
  *t = fits ? ADX_T_LONG : ADX_T_DECIMAL;
  (void)start;
  return 0;
}

static bool
two(const char *p, int lo, int hi)
{
  if (!digit(p[0]) || !digit(p[1])) return false;
  int v = (p[0] - '0') * 10 + (p[1] - '0');
  return v >= lo && v <= hi;
}

bool
adx_is_datetime(const char *s, size_t n)
{
  /* YYYY-MM-DDThh:mm[:ss[.f+]][Z|+hh:mm|+hhmm] */
  if (n < 16 || n > 40) return false;
  for (int k = 0; k < 4; k++)
    if (!digit(s[k])) return false;
  if (s[4] != '-' || !two(s + 5, 1, 12) || s[7] != '-' || !two(s + 8, 1, 31))
    return false;
  if ((s[10] != 'T' && s[10] != ' ') || !two(s + 11, 0, 23) || s[13] != ':' ||
      !two(s + 14, 0, 59))
    return false;
  size_t i = 16;
  if (i < n && s[i] == ':') {
    if (n - i < 3 || !two(s + i + 1, 0, 60)) return false;
    i += 3;
    if (i < n && s[i] == '.') {
      size_t f0 = ++i;
      while (i < n && digit(s[i]))
        i++;
      if (i == f0) return false;
    }
  }
  if (i == n) return true;
  if (s[i] == 'Z') return i + 1 == n;
  if (s[i] != '+' && s[i] != '-') return false;
  i++;
  if (n - i == 5)
    return two(s + i, 0, 23) && s[i + 2] == ':' && two(s + i + 3, 0, 59);
  if (n - i == 4) return two(s + i, 0, 23) && two(s + i + 2, 0, 59);
  return false;
}

bool
adx_is_guid(const char *s, size_t n)
{
  if (n != 36) return false;
  for (size_t i = 0; i < 36; i++) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!digit(c) && !((c | 0x20) >= 'a' && (c | 0x20) <= 'f')) {
      return false;
    }
  }
  return true;
}

static bool
name_ok(const char *p, size_t n)
{
  if (n == 0 || n > ADX_MAX_NAME) return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) return false;
  return !memchr(p, '\0', n);
}

/* infer_row - adx_schema_infer with the caller's scratch strings, so a
 * batch of rows reuses one allocation for member names and values. */
static int
infer_row(const char *row, size_t len, struct adx_schema *sc,
          struct adx_str *keyp, struct adx_str *valp, char *err, size_t errn)
{
  struct scan s = {row, len, 0};
  size_t hint = 0;
  struct adx_str key = *keyp, val = *valp;
  int rc = -1;
  const char *why = "not a JSON object";
  ws(&s);
  if (s.i >= s.n || s.p[s.i] != '{') goto out;
  s.i++;
  ws(&s);
  if (s.i < s.n && s.p[s.i] == '}') {
    rc = 0;
    goto out;
  }
  for (;;) {
    size_t a, b;
    ws(&s);
    if (str_raw(&s, &a, &b) != 0) {
      why = "bad member name";
      goto out;
    }
    adx_str_clear(&key);
    if (unescape(s.p + a, b - a, &key) != 0) {
      why = "bad escape in a member name";
      goto out;
    }
    ws(&s);
    if (s.i >= s.n || s.p[s.i] != ':') {
      why = "':' expected";
      goto out;
    }
    s.i++;
    ws(&s);
    if (s.i >= s.n) {
      why = "value expected";
      goto out;
    }
    enum adx_type t;
    char c = s.p[s.i];
    /* A member already in s keeps its type: no need to classify it
     * (adxsink runs this over every row of a batch). */
    bool known = key.p && find_from(sc, key.p, key.len, &hint) >= 0;
    if (c == '"') {
      if (str_raw(&s, &a, &b) != 0) {
        why = "bad string";
        goto out;
      }
      t = ADX_T_STRING;
      if (!known && b - a <= 64) {
        adx_str_clear(&val);
        if (unescape(s.p + a, b - a, &val) == 0 && val.p) {
          if (adx_is_datetime(val.p, val.len))
            t = ADX_T_DATETIME;
          else if (adx_is_guid(val.p, val.len))
            t = ADX_T_GUID;
        }
      }
    } else if (c == '{' || c == '[') {
      if (skip_container(&s) != 0) {
        why = "unbalanced object or array";
        goto out;
      }
      t = ADX_T_DYNAMIC;
    } else if (c == 't' || c == 'f') {
      if (literal(&s, c == 't' ? "true" : "false") != 0) {
        why = "bad literal";
        goto out;
      }
      t = ADX_T_BOOL;
    } else if (c == 'n') {
      if (literal(&s, "null") != 0) {
        why = "bad literal";
        goto out;
      }
      t = ADX_T_DYNAMIC;
    } else if (c == '-' || digit(c)) {
      if (number(&s, &t) != 0) {
        why = "bad number";
        goto out;
      }
    } else {
      why = "bad value";
      goto out;
    }
    if (known) {
      /* counted and typed when first seen */
    } else if (!key.p || !name_ok(key.p, key.len)) {
      sc->skipped++;
    } else if (adx_schema_add(sc, key.p, key.len, t) < 0) {
      why = "too many columns or out of memory";
      goto out;
    }
    ws(&s);
    if (s.i < s.n && s.p[s.i] == ',') {
      s.i++;
      continue;
    }
    if (s.i < s.n && s.p[s.i] == '}') {
      s.i++;
      break;
    }
    why = "',' or '}' expected";
    goto out;
  }
  ws(&s);
  if (s.i != s.n) {
    why = "text after the object";
    goto out;
  }
  rc = 0;
out:
  if (rc != 0) snprintf(err, errn, "%s at byte %zu", why, s.i);
  *keyp = key;
  *valp = val;
  return rc;
}

int
adx_schema_infer(const char *row, size_t len, struct adx_schema *sc, char *err,
                 size_t errn)
{
  struct adx_str key, val;
  adx_str_init(&key);
  adx_str_init(&val);
  int rc = infer_row(row, len, sc, &key, &val, err, errn);
  adx_str_free(&key);
  adx_str_free(&val);
  return rc;
}

int
adx_schema_infer_lines(const char *buf, size_t len, bool strict_first,
                       struct adx_schema *sc, char *err, size_t errn)
{
  struct adx_str key, val;
  adx_str_init(&key);
  adx_str_init(&val);
  int rc = 0;
  const char *p = buf, *end = buf + len;
  for (bool first = strict_first; p < end; first = false) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (infer_row(p, n, sc, &key, &val, err, errn) != 0 && first) {
      rc = -1;
      break;
    }
    p += n + 1;
  }
  adx_str_free(&key);
  adx_str_free(&val);
  return rc;
}

/* ---- cslschema ------------------------------------------------------ */

int
adx_schema_parse_csl(const char *text, struct adx_schema *s, char *err,
                     size_t errn)
{
  const char *p = text;
  struct adx_str name;
  adx_str_init(&name);
  int rc = -1;
  while (*p == ' ')
    p++;
  if (!*p) {
    rc = 0;
    goto out;
  }
  for (;;) {
    adx_str_clear(&name);
    while (*p == ' ')
      p++;
    if (p[0] == '[' && (p[1] == '\'' || p[1] == '"')) {
      char q = p[1];
      p += 2;
      while (*p && *p != q) {
        if (*p == '\\' && p[1]) {
          char e = p[1] == 'n' ? '\n' : p[1] == 't' ? '\t' : p[1];
          adx_str_addn(&name, &e, 1);
          p += 2;
          continue;
        }
        adx_str_addn(&name, p, 1);
        p++;
      }
      if (p[0] != q || p[1] != ']') {
        snprintf(err, errn, "unterminated bracketed column name");
        goto out;
      }
      p += 2;
    } else {
      size_t k = strcspn(p, ":,");
      while (k && p[k - 1] == ' ')
        k--;
      adx_str_addn(&name, p, k);
      p += k;
      while (*p == ' ')
        p++;
    }
    if (*p != ':' || !name.p || !name.len) {
      snprintf(err, errn, "column name and ':' expected");
      goto out;
    }
    p++;
    while (*p == ' ')
      p++;
    size_t k = strcspn(p, ", ");
    enum adx_type t;
    if (adx_type_parse(p, k, &t) != 0) {
      snprintf(err, errn, "unknown column type '%.*s'", (int)(k < 40 ? k : 40),
               p);
      goto out;
    }
    p += k;
    if (name.oom || adx_schema_add(s, name.p, name.len, t) < 0) {
      snprintf(err, errn, "out of memory");
      goto out;
    }
    while (*p == ' ')
      p++;
    if (*p == ',') {
      p++;
      continue;
    }
    if (*p) {
      snprintf(err, errn, "',' expected");
      goto out;
    }
    break;
  }
  rc = 0;
out:
  adx_str_free(&name);
  return rc;
}

/* ---- KQL text ------------------------------------------------------- */

/* Words that must be bracketed when used as names. */
static const char *const reserved[] = {
    "and",      "as",        "asc",      "between",  "bool",      "by",
    "contains", "count",     "database", "datetime", "decimal",   "desc",
    "distinct", "dynamic",   "extend",   "false",    "find",      "from",
    "guid",     "has",       "ifexists", "in",       "ingestion", "int",
    "join",     "let",       "limit",    "long",     "mapping",   "not",
    "null",     "on",        "or",       "order",    "parse",     "policy",
    "print",    "project",   "range",    "real",     "search",    "sort",
    "string",   "summarize", "table",    "take",     "timespan",  "to",
    "top",      "true",      "typeof",   "union",    "where",     "with"};

static bool
plain_identifier(const char *name)
{
  const char *p = name;
  if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_'))
    return false;
  for (; *p; p++)
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
          (*p >= '0' && *p <= '9') || *p == '_'))
      return false;
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
    if (strcmp(reserved[i], name) == 0) return false;
  return true;
}

void
adx_kql_string(struct adx_str *o, const char *s)
{
  adx_str_addn(o, "'", 1);
  for (; *s; s++) {
    switch (*s) {
    case '\'':
      adx_str_addn(o, "\\'", 2);
      break;
    case '\\':
      adx_str_addn(o, "\\\\", 2);
      break;
    case '\n':
      adx_str_addn(o, "\\n", 2);
      break;
    case '\r':
      adx_str_addn(o, "\\r", 2);
      break;
    case '\t':
      adx_str_addn(o, "\\t", 2);
      break;
    default:
      adx_str_addn(o, s, 1);
    }
  }
  adx_str_addn(o, "'", 1);
}

void
adx_kql_name(struct adx_str *o, const char *name)
{
  if (plain_identifier(name)) {
    adx_str_add(o, name);
    return;
  }
  adx_str_addn(o, "[", 1);
  adx_kql_string(o, name);
  adx_str_addn(o, "]", 1);
}

void
adx_cmd_create_merge(struct adx_str *o, const char *table,
                     const struct adx_schema *s)
{
  adx_str_add(o, ".create-merge table ");
  adx_kql_name(o, table);
  adx_str_add(o, " (");
  for (size_t i = 0; i < s->n; i++) {
    if (i) adx_str_add(o, ", ");
    adx_kql_name(o, s->cols[i].name);
    adx_str_addn(o, ":", 1);
    adx_str_add(o, adx_type_name(s->cols[i].type));
  }
  adx_str_addn(o, ")", 1);
}

static bool
path_simple(const char *name)
{
  for (const char *p = name; *p; p++)
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
          (*p >= '0' && *p <= '9') || *p == '_'))
      return false;
  return *name != '\0';
}

void
adx_mapping_json(struct adx_str *o, const struct adx_schema *s)
{
  struct adx_str path;
  adx_str_init(&path);
  adx_str_addn(o, "[", 1);
  for (size_t i = 0; i < s->n; i++) {
    const char *name = s->cols[i].name;
    adx_str_clear(&path);
    if (path_simple(name)) {
      adx_str_add(&path, "$.");
      adx_str_add(&path, name);
    } else {
      adx_str_add(&path, "$['");
      for (const char *p = name; *p; p++) {
        if (*p == '\'' || *p == '\\') adx_str_addn(&path, "\\", 1);
        adx_str_addn(&path, p, 1);
      }
      adx_str_add(&path, "']");
    }
    if (i) adx_str_addn(o, ",", 1);
    adx_str_add(o, "{\"column\":");
    adx_str_add_json(o, name);
    adx_str_add(o, ",\"Properties\":{\"Path\":");
    adx_str_add_json(o, path.p ? path.p : "");
    adx_str_add(o, "}}");
  }
  adx_str_addn(o, "]", 1);
  if (path.oom) o->oom = true;
  adx_str_free(&path);
}

void
adx_cmd_mapping(struct adx_str *o, const char *table, const char *mapping,
                const struct adx_schema *s)
{
  struct adx_str js;
  adx_str_init(&js);
  adx_mapping_json(&js, s);
  adx_str_add(o, ".create-or-alter table ");
  adx_kql_name(o, table);
  adx_str_add(o, " ingestion json mapping ");
  adx_kql_string(o, mapping);
  adx_str_addn(o, " ", 1);
  adx_kql_string(o, js.p ? js.p : "");
  if (js.oom) o->oom = true;
  adx_str_free(&js);
}
