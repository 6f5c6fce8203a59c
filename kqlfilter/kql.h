/*
 * kql.h - internal interfaces shared by the stages of kqlfilter.
 *
 * Stages: kql_lex.c (text to tokens), kql_parse.c (tokens to a tree with
 * byte positions), kql_bind.c (names, slots, functions, output schema),
 * kql_eval.c and kql_func*.c (scalar evaluation), kql_agg.c
 * (aggregations), kql_op_*.c (tabular operators, push based: row in,
 * rows out, end of input), kql_run.c (NDJSON in, NDJSON out).
 *
 * Ownership: values (struct kql_val) never own memory. Strings and
 * dynamic values they point to live in an arena: the per-row arena for
 * everything computed while a row passes, or an operator's own arena
 * (summarize groups, stored rows) after kql_val_copy(). Input strings
 * without escapes point straight into the input line. Design notes:
 * ../shared/design/kql.md and ARCHITECTURE.md (kqlfilter).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KQL_H
#define KQL_H

#include "lib/platform.h"
#include "lib/jsonw.h"
#include "lib/log.h"

#include <stdio.h>

/* ---------------------------------------------------------------- arena */

struct kql_chunk;
struct kql_arena {
  struct kql_chunk *head;
  char *p, *end;
  size_t chunk; /* chunk size; 0: 64 KiB */
};

void kql_arena_init(struct kql_arena *a);
void kql_arena_init_small(struct kql_arena *a, size_t chunk);
/* kql_alloc - n bytes aligned to 8; exits cleanly on out of memory. */
void *kql_alloc(struct kql_arena *a, size_t n);
void *kql_zalloc(struct kql_arena *a, size_t n);
char *kql_memdup(struct kql_arena *a, const void *s, size_t n);
/* kql_arena_reset - forget everything, keep one chunk for reuse. */
void kql_arena_reset(struct kql_arena *a);
void kql_arena_free(struct kql_arena *a);
/* kql_oom - report "out of memory" and exit 1. */
void kql_oom(void);
void *kql_xmalloc(size_t n);
void *kql_xrealloc(void *p, size_t n);
void *kql_xcalloc(size_t n, size_t m);

/* ---------------------------------------------------------------- values */

enum kql_type {
  KQL_T_ANY = 0, /* static: not known before run time */
  KQL_T_BOOL,
  KQL_T_INT,
  KQL_T_LONG,
  KQL_T_REAL,
  KQL_T_DECIMAL,
  KQL_T_STRING,
  KQL_T_DATETIME,
  KQL_T_TIMESPAN,
  KQL_T_GUID,
  KQL_T_DYNAMIC, /* static type; at run time: a dynamic null */
  KQL_T_ARRAY,   /* run-time kinds of dynamic values */
  KQL_T_BAG,
  KQL_T_COUNT
};

struct kql_kv;

/* A value: t is the kind held; null marks a null of that kind; dyn marks
 * a value of Kusto type dynamic (an array, a bag, or a scalar inside
 * one); lazy marks an array or bag still held as JSON text (s, n). */
struct kql_val {
  uint8_t t;
  uint8_t null;
  uint8_t dyn;
  uint8_t lazy;
  uint32_t n;
  union {
    int64_t i;
    double r;
    bool b;
    const char *s;
    struct kql_val *a;
    struct kql_kv *kv;
  } u;
};

struct kql_kv {
  const char *k;
  uint32_t kn;
  struct kql_val v;
};

#define KQL_TICKS_PER_SEC 10000000LL
#define KQL_TICKS_PER_DAY 864000000000LL
#define KQL_UNIX_EPOCH 621355968000000000LL /* 1970-01-01 in ticks */
#define KQL_MAX_TICKS 3155378975999999999LL /* 9999-12-31T23:59:59.9999999 */

static inline struct kql_val
kql_v_null(int t)
{
  struct kql_val v = {(uint8_t)t, 1, (uint8_t)(t == KQL_T_DYNAMIC), 0, 0, {0}};
  return v;
}
static inline struct kql_val
kql_v_long(int64_t i)
{
  struct kql_val v = {KQL_T_LONG, 0, 0, 0, 0, {0}};
  v.u.i = i;
  return v;
}
static inline struct kql_val
kql_v_int(int64_t i)
{
  struct kql_val v = {KQL_T_INT, 0, 0, 0, 0, {0}};
  v.u.i = (int32_t)i;
  return v;
}
static inline struct kql_val
kql_v_real(double r)
{
  struct kql_val v = {KQL_T_REAL, 0, 0, 0, 0, {0}};
  v.u.r = r;
  return v;
}
static inline struct kql_val
kql_v_bool(bool b)
{
  struct kql_val v = {KQL_T_BOOL, 0, 0, 0, 0, {0}};
  v.u.b = b;
  return v;
}
static inline struct kql_val
kql_v_str(const char *s, size_t n)
{
  struct kql_val v = {KQL_T_STRING, 0, 0, 0, (uint32_t)n, {0}};
  v.u.s = s;
  return v;
}
static inline struct kql_val
kql_v_time(int t, int64_t ticks)
{
  struct kql_val v = {(uint8_t)t, 0, 0, 0, 0, {0}};
  v.u.i = ticks;
  return v;
}

const char *kql_type_name(int t);
/* kql_type_parse - a Kusto type name (also aliases: double, time,
 * boolean, date, uniqueid, int64...) to a type; -1 if unknown. */
int kql_type_parse(const char *s, size_t n);

bool kql_is_num(int t);
/* kql_val_isempty - null or empty string (isempty()). */
bool kql_val_isempty(const struct kql_val *v);

/* Text forms. */
bool kql_parse_datetime(const char *s, size_t n, int64_t *ticks);
/* kql_parse_timespan - "[-][d.]hh:mm[:ss[.f]]" or "1.5h", "30s", ... */
bool kql_parse_timespan(const char *s, size_t n, int64_t *ticks);
/* kql_ts_unit - ticks of a timespan literal unit ("d", "ms", ...), or
 * -1; *frac is set for sub-tick units (nanoseconds). */
int64_t kql_ts_unit(const char *s, size_t n);
size_t kql_fmt_datetime(int64_t ticks, char *out); /* >= 40 bytes */
size_t kql_fmt_timespan(int64_t ticks, char *out); /* >= 40 bytes */
size_t kql_fmt_real(double r, char *out);          /* >= 40 bytes */
bool kql_parse_guid(const char *s, size_t n, char out[37]);
void kql_civil(int64_t ticks, int *y, int *mo, int *d);
int64_t kql_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Conversions (tostring, tolong, ...): false when not convertible. */
struct kql_val kql_to_string(struct kql_arena *a, const struct kql_val *v);
bool kql_get_long(const struct kql_val *v, int64_t *out);
bool kql_get_real(const struct kql_val *v, double *out);
struct kql_val kql_convert(struct kql_arena *a, const struct kql_val *v, int t);

/* kql_dyn_force - turn a lazy array or bag into its parsed form. */
void kql_dyn_force(struct kql_arena *a, struct kql_val *v);
/* kql_dyn_get - member of a bag (NULL if absent or not a bag). */
bool kql_dyn_member(struct kql_arena *a, const struct kql_val *v, const char *k,
                    size_t kn, struct kql_val *out);
bool kql_dyn_index(struct kql_arena *a, const struct kql_val *v, int64_t i,
                   struct kql_val *out);
/* kql_dyn_wrap - a scalar as a dynamic value (dyn set; null stays null). */
struct kql_val kql_dyn_wrap(const struct kql_val *v);

/* Comparison and hashing. kql_val_cmp orders two non-null values; the
 * result is 0 equal, <0, >0, or KQL_CMP_NONE when the kinds cannot be
 * compared. Strings compare bytewise (ci: ASCII case-insensitive). */
#define KQL_CMP_NONE 2
int kql_val_cmp(struct kql_arena *a, const struct kql_val *x,
                const struct kql_val *y, bool ci);
/* kql_val_same - grouping equality: nulls equal each other. */
bool kql_val_same(const struct kql_val *x, const struct kql_val *y);
uint64_t kql_val_hash(const struct kql_val *v, uint64_t h);
/* kql_val_sortcmp - total order for sort/top: nulls and kinds ranked. */
int kql_val_sortcmp(const struct kql_val *x, const struct kql_val *y);

/* kql_val_copy - deep copy of v into arena a. */
struct kql_val kql_val_copy(struct kql_arena *a, const struct kql_val *v);

/* kql_write_val - v as JSON (datetimes as ISO-8601 with 7 digits). */
void kql_write_val(struct jsonw *w, const struct kql_val *v);
/* kql_val_json - v as JSON text in the arena (for tostring of dynamic). */
struct kql_val kql_val_json(struct kql_arena *a, const struct kql_val *v);

/* ---------------------------------------------------------------- JSON */

/* kql_json_skip - validate and skip one JSON value at p (whitespace
 * before it allowed); returns the byte after it or NULL if malformed. */
const char *kql_json_skip(const char *p, const char *end, int depth);
const char *kql_json_ws(const char *p, const char *end);
/* kql_json_value - convert the (valid) JSON value text into a value:
 * numbers to long/real, strings unescaped (zero-copy when possible),
 * arrays and objects lazy. dyn is set on the result when asked. */
void kql_json_value(struct kql_arena *a, const char *p, size_t n, bool dyn,
                    struct kql_val *out);
/* kql_json_unescape - the content of a JSON string token p[0..n) with
 * its quotes; zero-copy when it has no escapes. */
struct kql_val kql_json_string(struct kql_arena *a, const char *p, size_t n);
/* kql_json_parse_text - parse text as JSON (parse_json); false when it
 * is not valid JSON. */
bool kql_json_parse_text(struct kql_arena *a, const char *p, size_t n,
                         struct kql_val *out);

/* ---------------------------------------------------------------- lexer */

enum kql_tok {
  KQL_TOK_EOF = 0,
  KQL_TOK_ILLEGAL,
  KQL_TOK_IDENT,
  KQL_TOK_BANGWORD, /* !contains, !in, !has_cs, ... */
  KQL_TOK_INT,
  KQL_TOK_REAL,
  KQL_TOK_TIMESPAN, /* 10m, 1.5h */
  KQL_TOK_STRING,
  KQL_TOK_BADSTRING,
  KQL_TOK_PUNCT
};

struct kql_token {
  int type;
  uint32_t start, end; /* byte offsets into the query text */
  bool blank_before;   /* an empty line precedes the token */
  bool space_before;
};

/* kql_lex_next - the token at offset off (comments and space skipped). */
struct kql_token kql_lex_next(const char *src, size_t len, size_t off);
/* kql_lex_string - decode a string token's value into the arena. */
struct kql_val kql_lex_string(struct kql_arena *a, const char *src,
                              const struct kql_token *t);

/* ---------------------------------------------------------------- errors */

struct kql_loc {
  uint32_t start, end;
};

struct kql_src {
  const char *name; /* file name, or "<query>" */
  const char *text;
  size_t len;
};

/* kql_err_render - "file:LINE:COL: error: msg", the line and carets, into
 * out (NUL-terminated, truncated to cap). */
void kql_err_render(const struct kql_src *s, struct kql_loc at, const char *msg,
                    char *out, size_t cap);
/* kql_suggest - the nearest candidates to name (edit distance), joined
 * with ", " into out; empty when none is close. */
void kql_suggest(const char *name, size_t n, const char *const *cands,
                 size_t ncands, char *out, size_t cap);

/* ---------------------------------------------------------------- tree */

enum kql_nk {
  KQL_N_LIT,
  KQL_N_NAME,   /* a column or let name */
  KQL_N_MEMBER, /* kids[0].name */
  KQL_N_INDEX,  /* kids[0][kids[1]] */
  KQL_N_CALL,   /* name(kids...) */
  KQL_N_UNARY,  /* op kids[0] */
  KQL_N_BINARY, /* kids[0] op kids[1] */
  KQL_N_IN,     /* kids[0] op (kids[1..]) */
  KQL_N_BETWEEN,
  KQL_N_STAR,   /* '*' argument */
  KQL_N_ASSIGN, /* name = kids[0]; (a, b) = kids[0] uses names */
  KQL_N_PARAM,  /* function parameter reference */
  KQL_N_TABARG  /* a tabular expression argument (toscalar, in) */
};

enum kql_bop {
  KQL_OP_NONE,
  KQL_OP_OR,
  KQL_OP_AND,
  KQL_OP_EQ,
  KQL_OP_NE,
  KQL_OP_LT,
  KQL_OP_LE,
  KQL_OP_GT,
  KQL_OP_GE,
  KQL_OP_EQ_CI,
  KQL_OP_NE_CI,
  KQL_OP_ADD,
  KQL_OP_SUB,
  KQL_OP_MUL,
  KQL_OP_DIV,
  KQL_OP_MOD,
  KQL_OP_NEG,
  KQL_OP_NOT,
  /* string operators; the negated form is op | KQL_OP_NEGATE */
  KQL_OP_CONTAINS,
  KQL_OP_CONTAINS_CS,
  KQL_OP_HAS,
  KQL_OP_HAS_CS,
  KQL_OP_HASPREFIX,
  KQL_OP_HASPREFIX_CS,
  KQL_OP_HASSUFFIX,
  KQL_OP_HASSUFFIX_CS,
  KQL_OP_STARTSWITH,
  KQL_OP_STARTSWITH_CS,
  KQL_OP_ENDSWITH,
  KQL_OP_ENDSWITH_CS,
  KQL_OP_MATCHES,
  KQL_OP_HAS_ANY,
  KQL_OP_HAS_ALL,
  KQL_OP_IN,
  KQL_OP_IN_CI,
  KQL_OP_BETWEEN,
  KQL_OP_COUNT_
};
#define KQL_OP_NEGATE 0x80

struct kql_fn;
struct kql_tab;
struct kql_regex;

struct kql_node {
  uint8_t kind;
  uint8_t op;   /* enum kql_bop, maybe | KQL_OP_NEGATE */
  uint8_t type; /* static type when known (enum kql_type) */
  uint8_t flags;
  struct kql_loc loc;
  struct kql_node **kids;
  uint32_t nkids;
  const char *name; /* NAME, MEMBER, CALL, ASSIGN: points into arena */
  uint32_t nlen;
  int slot;                /* NAME bound to a row slot; PARAM index */
  struct kql_val lit;      /* LIT */
  const struct kql_fn *fn; /* CALL */
  void *aux;               /* per-node state (regex, set, ...) */
  struct kql_tab *tab;     /* TABARG */
  char **names;            /* ASSIGN with (a, b) = ... */
  uint32_t nnames;
};

#define KQL_NF_CONST 1 /* literal-only subtree, folded */

enum kql_tk {
  KQL_TAB_SOURCE, /* the input stream */
  KQL_TAB_TABLE,  /* a let table or datatable as source */
  KQL_TAB_PRINT,
  KQL_TAB_RANGE,
  KQL_TAB_WHERE,
  KQL_TAB_EXTEND,
  KQL_TAB_PROJECT,
  KQL_TAB_PROJECT_AWAY,
  KQL_TAB_PROJECT_KEEP,
  KQL_TAB_PROJECT_RENAME,
  KQL_TAB_PROJECT_REORDER,
  KQL_TAB_TAKE,
  KQL_TAB_PARSE,
  KQL_TAB_MVEXPAND,
  KQL_TAB_SUMMARIZE,
  KQL_TAB_COUNT,
  KQL_TAB_DISTINCT,
  KQL_TAB_TOP,
  KQL_TAB_SORT,
  KQL_TAB_JOIN,
  KQL_TAB_LOOKUP,
  KQL_TAB_UNION,
  KQL_TAB_BAGUNPACK,
  KQL_TAB_SERIALIZE,
  KQL_TAB_AS,
  KQL_TAB_PLUGIN, /* evaluate name(args): e[0] is the call, name its name */
  KQL_TAB_PROJECT_BY_NAMES,
  KQL_TAB_PARSE_KV,    /* subject, items (the keys), e: with (name = value) */
  KQL_TAB_MAKE_SERIES, /* e: aggregations (kids[1]: default), subject: axis */
  KQL_TAB_MV_APPLY,    /* mv-expand's fields; right: the subquery */
  KQL_TAB_INVOKE,      /* e[0]: the call of a tabular function */
  KQL_TAB_REDUCE,      /* subject: the text; e: with (name = value) */
  KQL_TAB_TOP_NESTED,  /* per level: e the key, by the aggregation,
                          keys[i].e the count (or NULL), keys[i].desc */
  KQL_TAB_SCAN,        /* name: match id column; items/by: declare
                          (by[i]: the default or NULL); steps */
  KQL_TAB_PARTITION    /* subject: the column; right: the subquery
                          (pkind 1: {...} names the partition) */
};

/* A step of scan: step name [output = ...] : cond [=> a = x, ...]; */
struct kql_step {
  char *name;
  int output; /* 0 all, 1 last, 2 none */
  struct kql_node *cond;
  struct kql_node **assign; /* ASSIGN nodes */
  uint32_t nassign;
  struct kql_loc loc;
};

/* A static table: datatable rows or a let table. */
struct kql_table {
  char **cols;
  uint8_t *types;
  uint32_t ncols;
  struct kql_val *cells; /* nrows * ncols, row major */
  uint32_t nrows;
  struct kql_arena mem;
};

struct kql_sortkey {
  struct kql_node *e;
  bool desc;
  bool nulls_first;
};

struct kql_tab {
  int kind;
  struct kql_loc loc;
  struct kql_tab *next; /* next pipeline stage */
  struct kql_node **e;  /* main expression list */
  uint32_t ne;
  struct kql_node **by;
  uint32_t nby;
  struct kql_sortkey *keys;
  uint32_t nkeys;
  struct kql_node *count; /* take/top N */
  struct kql_table *table;
  struct kql_tab *right; /* join/lookup/union right side */
  int jkind;             /* join kind */
  /* parse: pattern items; mv-expand: limit */
  struct kql_node *subject;
  struct kql_pitem *items;
  uint32_t nitems;
  int pkind; /* parse kind: 0 simple, 1 regex, 2 relaxed */
  bool drop; /* parse-where: rows that do not match are dropped */
  struct kql_node *from, *to, *step; /* make-series axis range */
  struct kql_step *steps;            /* scan */
  uint32_t nsteps;
  char *regex_flags;
  int64_t limit;
  const char *name;
  struct kql_tab **srcs; /* union sources */
  uint32_t nsrcs;
};

struct kql_pitem {
  bool is_col;
  bool star;
  char *text; /* constant text, or column name */
  uint32_t n;
  int type;
  struct kql_loc loc;
};

/* A let binding. */
struct kql_let {
  char *name;
  int kind; /* 0 scalar, 1 table, 2 function (tab set: a tabular one) */
  struct kql_node *expr;
  struct kql_tab *tab;
  char **params;
  uint8_t *ptypes;
  struct kql_node **pdefaults; /* ptypes[i] KQL_PARAM_TABLE: a table */
  uint32_t nparams;
  struct kql_let *fn_lets; /* lets inside the function body */
  uint32_t nfn_lets;
  struct kql_loc loc;
};

#define KQL_PARAM_TABLE 0xFF /* a tabular parameter, T:(...) or T:(*) */

/* One standing query of a file. */
struct kql_stmt {
  struct kql_tab *tab;
  uint32_t nlets; /* lets visible to it: the first nlets of the file */
  const char *name;
};

struct kql_prog {
  struct kql_src src;
  struct kql_arena mem; /* the tree */
  struct kql_let *lets;
  uint32_t nlets;
  struct kql_stmt *stmts;
  uint32_t nstmts;
  char err[4096]; /* first error, rendered */
  struct kql_loc errloc;
  bool failed;
};

/* kql_parse - parse a query text. 0, or -1 with p->err rendered. */
int kql_parse(struct kql_prog *p, const char *name, const char *text,
              size_t len);
void kql_prog_free(struct kql_prog *p);
/* kql_prog_error - record the first error (printf format). */
void kql_prog_error(struct kql_prog *p, struct kql_loc at, const char *fmt, ...)
    LOG_PRINTF(3, 4);

/* ---------------------------------------------------------------- regex */

/* A small RE2-flavoured regex engine (backtracking with step limit).
 * Supports . [] [^] \d \w \s \D \W \S \b, escapes, groups (capturing,
 * (?:), named (?P<n>)), | * + ? {m,n}, lazy forms, ^ $ and (?i)(?s)(?m)
 * flags. */
struct kql_regex *kql_regex_compile(const char *pat, size_t n, int flags,
                                    char *err, size_t errcap);
void kql_regex_free(struct kql_regex *re);
int kql_regex_ngroups(const struct kql_regex *re);
const char *kql_regex_group_name(const struct kql_regex *re, int i);
/* kql_regex_search - first match at or after start; caps has
 * 2*(ngroups+1) entries (-1 when a group did not take part). */
bool kql_regex_search(const struct kql_regex *re, const char *s, size_t n,
                      size_t start, long *caps);
#define KQL_RE_ICASE 1
#define KQL_RE_DOTALL 2
#define KQL_RE_MULTILINE 4

#endif
