/*
 * kql_exec.h - bound queries: slots, schemas, operators, evaluation.
 *
 * The binder (kql_bind.c) turns each parsed query into a chain of
 * operators (kql_op_*.c). A row is the input line (raw) plus an array of
 * value slots; every column the query computes or reads from the input
 * has a slot, numbered per query. Operators implement one interface:
 * row() to push a row, end() at end of input. The output schema says
 * how the last operator's rows are written: named columns from slots,
 * and "the star", the input's own columns written from the raw line
 * (so a row that passes unchanged is copied as bytes).
 *
 * Ownership: a query owns its operators, their arenas and its slot
 * buffers; the per-row arena (q->rowmem) is reset after each input row.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KQL_EXEC_H
#define KQL_EXEC_H

#include "kqlfilter/kql.h"

struct kql_run;
struct kql_query;

struct kql_row {
  const char *raw; /* the input object text, or NULL */
  uint32_t rawn;
  struct kql_val *v; /* q->nslots values */
};

/* How the star writes the input's own columns. */
struct kql_star {
  char **away; /* names or wildcard patterns removed */
  uint32_t naway;
  char **keep; /* when nkeep: only matching names are written */
  uint32_t nkeep;
  char **repl; /* names replaced in place by a slot value */
  int *repl_slot;
  uint32_t nrepl;
  char **ren_from, **ren_to;
  uint32_t nren;
};

#define KQL_COL_NAMED 0
#define KQL_COL_STAR 1
#define KQL_COL_SPREAD 2 /* bag_unpack: a bag's members as columns */
#define KQL_COL_MEMBER 3 /* one member (key) of the bag in slot */

struct kql_col {
  char *name;
  int slot;
  uint8_t type;
  uint8_t kind;
  bool maybe_dup; /* appended by extend on an open schema */
  struct kql_star *star;
  char *prefix; /* SPREAD: column name prefix */
  char *key;    /* MEMBER: the bag key written under name */
};

struct kql_schema {
  struct kql_col *cols;
  uint32_t ncols;
};

struct kql_op;
struct kql_opvt {
  void (*row)(struct kql_op *op, struct kql_row *r);
  void (*end)(struct kql_op *op);
  void (*free)(struct kql_op *op);
};

struct kql_op {
  const struct kql_opvt *vt;
  struct kql_op *next;
  struct kql_query *q;
  void *st; /* the operator's own state */
};

/* Input columns a query reads from the stream. */
struct kql_input {
  char **names;
  uint32_t *lens;
  int *slots;
  uint8_t *types; /* declared type, or KQL_T_ANY */
  uint32_t n, cap;
  bool closed; /* --schema: only these columns exist */
};

struct kql_query {
  struct kql_run *run;
  int index;
  struct kql_op *head; /* first operator */
  struct kql_op *tail; /* last operator before the writer */
  uint32_t nslots;
  uint8_t *slot_types;
  struct kql_input in;
  struct kql_schema out;
  bool from_stream; /* the source is the input stream */
  bool done;        /* take is satisfied: no more rows wanted */
  struct kql_tab *src;
  struct kql_table *srctab;   /* static source rows */
  int *srcslots;              /* slot of each srctab column */
  bool star_identity;         /* output is the input line as it came */
  bool uses_procname;         /* getprocessname(): learn from events */
  struct kql_regex **regexes; /* compiled while binding, freed with q */
  uint32_t nregexes;
  struct kql_arena rowmem;
  struct kql_arena mem; /* bound structures */
  struct kql_val *slots;
  /* a collecting sink (materialized let tables, join right sides) */
  struct kql_table *collect;
  const struct kql_src *srcfile;
};

/* A tabular function being bound: its parameters (a table, or a
 * constant) and its own lets, seen by every query bound inside it. */
struct kql_frame {
  char **names;
  struct kql_table **tabs; /* per parameter: a table, or NULL */
  struct kql_node **vals;  /* per parameter: a constant, or NULL */
  uint32_t n;
  struct kql_let *lets;
  uint32_t nlets;
  struct kql_frame *up;
};

struct kql_run {
  struct kql_prog *prog;
  struct kql_frame *frame; /* innermost tabular function being bound */
  struct kql_query **q;
  uint32_t nq;
  struct jsonw w; /* output buffer */
  int outfd;
  bool flush_each_row;
  bool tag_rows;   /* several queries: add "_query" */
  bool window_end; /* report window end (Rx.Kql) instead of start */
  int64_t lateness;
  int64_t now;
  uint64_t bad_lines;
  uint64_t rows_in, rows_out;
  bool out_failed;
  bool out_epipe;
  bool quiet;               /* no per-line messages (fuzzing) */
  struct kql_input *schema; /* --schema */
  /* getprocessname: pid -> name learned from process events */
  struct kql_pidmap *pids;
  bool live;
  struct kql_table **tables; /* static tables made while binding */
  uint32_t ntables;
  char err[4096];
};

/* Evaluation context of one row. */
struct kql_ctx {
  struct kql_query *q;
  struct kql_arena *a;
  struct kql_row *row;
};

/* A scalar function: args evaluated unless KQL_FN_LAZY. */
struct kql_fn;
typedef void (*kql_fn_impl)(struct kql_ctx *c, struct kql_node *n,
                            struct kql_val *args, uint32_t nargs,
                            struct kql_val *out);
struct kql_fn {
  const char *name;
  uint8_t min, max; /* arity; max 255: any */
  uint8_t rtype;    /* static result type; KQL_T_ANY: from args */
  uint8_t flags;
  kql_fn_impl f;
};
#define KQL_FN_LAZY 1 /* the function evaluates n->kids itself */
#define KQL_FN_VOLATILE 2

const struct kql_fn *kql_fn_find(const char *name, size_t n);
void kql_fn_names(const char ***names, size_t *n);

/* Aggregations. */
struct kql_aggfn {
  const char *name;
  uint8_t min, max;
  const char *prefix; /* output column name: prefix + argument name */
  int kind;
};
const struct kql_aggfn *kql_agg_find(const char *name, size_t n);

struct kql_aggspec {
  const struct kql_aggfn *fn;
  struct kql_node **args;
  uint32_t nargs;
  int slot;       /* output slot (first of several for arg_max) */
  int *ret_slots; /* arg_max/arg_min: returned columns' slots */
  struct kql_node **ret;
  uint32_t nret;
  int out_type;
};

struct kql_aggst; /* kql_agg.c */
size_t kql_agg_state_size(void);
void kql_agg_init(const struct kql_aggspec *s, struct kql_aggst *st);
void kql_agg_step(struct kql_ctx *c, const struct kql_aggspec *s,
                  struct kql_aggst *st, struct kql_arena *keep);
/* kql_agg_final - write the result(s) into row slots. */
void kql_agg_final(struct kql_ctx *c, const struct kql_aggspec *s,
                   struct kql_aggst *st, struct kql_val *slots);

/* Evaluation. */
void kql_eval(struct kql_ctx *c, struct kql_node *n, struct kql_val *out);
bool kql_eval_bool(struct kql_ctx *c, struct kql_node *n);
/* kql_binop - apply a binary operator to two values. */
void kql_binop(struct kql_ctx *c, int op, const struct kql_val *x,
               const struct kql_val *y, struct kql_val *out);
/* kql_strop - string operator (has, contains, ...) without negation. */
bool kql_strop(struct kql_arena *a, int op, const struct kql_val *x,
               const struct kql_val *y, bool *isnull);
/* kql_bin - bin(v, size) for numbers, datetimes, timespans. */
void kql_bin(const struct kql_val *v, const struct kql_val *sz,
             struct kql_val *out);
/* kql_node_regex - the compiled regex of a constant pattern argument, or
 * compile one into the row arena. */
struct kql_regex *kql_node_regex(struct kql_ctx *c, struct kql_node *n,
                                 const struct kql_val *pat, int flags);

/* Binder. */
int kql_bind(struct kql_run *run, struct kql_prog *prog);
/* kql_bind_static - bind and run a tabular expression with a static
 * source into a table (let tables, join right sides). */
struct kql_table *kql_bind_static(struct kql_run *run, struct kql_prog *prog,
                                  struct kql_tab *t, uint32_t nlets,
                                  struct kql_arena *mem);
void kql_query_free(struct kql_query *q);

/* Operators: constructors (kql_op_*.c). */
struct kql_op *kql_op_where(struct kql_query *q, struct kql_node *pred);
struct kql_op *kql_op_extend(struct kql_query *q, struct kql_node **e,
                             int *slots, uint32_t n);
struct kql_op *kql_op_take(struct kql_query *q, int64_t n);
struct kql_op *kql_op_parse(struct kql_query *q, struct kql_tab *t, int *slots);
struct kql_op *kql_op_mvexpand(struct kql_query *q, struct kql_node **e,
                               int *slots, uint8_t *types, uint32_t n,
                               int index_slot, int64_t limit,
                               bool bag_as_array);
struct kql_op *kql_op_summarize(struct kql_query *q, struct kql_node **by,
                                int *by_slots, uint32_t nby,
                                struct kql_aggspec *aggs, uint32_t naggs,
                                int win_key, int64_t win_size);
struct kql_op *kql_op_count(struct kql_query *q, int slot);
struct kql_op *kql_op_distinct(struct kql_query *q, int *slots, uint32_t n,
                               bool all);
struct kql_op *kql_op_sort(struct kql_query *q, struct kql_sortkey *keys,
                           uint32_t nkeys, int64_t limit);
struct kql_op *kql_op_join(struct kql_query *q, struct kql_table *right,
                           int jkind, int *lkeys, int *rkeys, uint32_t nkeys,
                           int *rslots, bool lookup);
struct kql_op *kql_op_union(struct kql_query *q, struct kql_table **tabs,
                            int **slotmaps, uint32_t n);
struct kql_op *kql_op_bagunpack(struct kql_query *q, int slot, int conflict,
                                char **ignored, uint32_t nignored);
/* ipv4_lookup / ipv6_lookup: the row's address (ip_slot) against the
 * networks in column net_col of t; the matching row's cells go to rslots
 * (-1: not written); unmatched rows pass with nulls when keep_unmatched. */
struct kql_op *kql_op_iplookup(struct kql_query *q, struct kql_table *t,
                               int ip_slot, uint32_t net_col, int *rslots,
                               bool keep_unmatched);
/* parse-kv: how keys and values are found (NULL delimiters: any
 * character that is not a letter or digit separates). */
struct kql_kvopts {
  char *pair, *kv;
  char quotes[8][2]; /* open, close */
  uint32_t nquotes;
  char escapes[8];
  uint32_t nescapes;
  bool greedy;
  struct kql_regex *re; /* regex mode: group 1 the key, 2 the value */
};
struct kql_op *kql_op_parsekv(struct kql_query *q, struct kql_node *subject,
                              struct kql_pitem *keys, int *slots, uint32_t n,
                              const struct kql_kvopts *opts);
/* make-series, after a summarize by (by..., bin): one row per by-group
 * with each aggregation as an array over the axis bins and the axis as
 * an array. from/to may be null (then the data's range). */
struct kql_series_spec {
  int *by_slots;
  uint32_t nby;
  int bin_slot;
  int *agg_slots, *out_slots; /* naggs each */
  struct kql_val *defaults;
  uint32_t naggs;
  int axis_slot; /* output: the axis array */
  struct kql_val from, to, step;
  bool nonempty;
};
struct kql_op *kql_op_series(struct kql_query *q,
                             const struct kql_series_spec *spec);
/* mv-apply: per row, the expanded items (as mv-expand makes them) and
 * the row's columns form a table the subquery runs over; each row the
 * subquery gives joins the input row. */
struct kql_mvapply_spec {
  struct kql_node **e; /* the arrays to expand */
  uint8_t *types;      /* to typeof(), or KQL_T_DYNAMIC */
  uint32_t n;
  int64_t limit;
  bool bag_as_array;
  struct kql_table *sub; /* the subquery's source: ncols, cols, types */
  int *sub_from;         /* per sub column: outer slot, or -1 - item index */
  struct kql_tab *subq;  /* its head is a KQL_TAB_TABLE */
  uint32_t nlets;
  int *res_slots; /* per subquery output column: the outer slot */
  uint32_t nres;
};
struct kql_op *kql_op_mvapply(struct kql_query *q,
                              const struct kql_mvapply_spec *spec);
/* invoke: the input rows (named columns) collected into a table, then
 * the tabular function run over it at the end of input. */
struct kql_invoke_spec {
  struct kql_let *fn;
  struct kql_node *call; /* constant arguments after the input */
  struct kql_table *in;  /* columns of the input */
  int *in_slots;
  int *res_slots; /* per result column: the output slot */
  uint32_t nres;
};
struct kql_op *kql_op_invoke(struct kql_query *q,
                             const struct kql_invoke_spec *spec);
/* kql_run_tabfn - bind and run tabular function fn with call's
 * arguments, its first tabular parameter being input (may be NULL). */
struct kql_table *kql_run_tabfn(struct kql_run *run, struct kql_let *fn,
                                struct kql_node *call, struct kql_table *input);
/* kql_run_sub - bind and run the tabular expression t (whose head is a
 * KQL_TAB_TABLE) over src, into a new table; NULL on a bind error.
 * kql_table_free releases it. */
struct kql_table *kql_run_sub(struct kql_run *run, struct kql_prog *prog,
                              struct kql_tab *t, uint32_t nlets,
                              struct kql_table *src);
void kql_table_free(struct kql_table *t);
/* top-nested: per level a key (key_slots[l]) and an aggregation
 * (aggs[l], its result slot aggs[l].slot); top[l] groups per parent
 * (-1: all), desc[l] the order. */
struct kql_op *kql_op_topnested(struct kql_query *q, struct kql_node **keys,
                                int *key_slots, struct kql_aggspec *aggs,
                                int64_t *top, bool *desc, uint32_t nlevels);
/* scan: steps over the rows with a state per step (kql_op_scan.c). */
struct kql_scan_step {
  struct kql_node *cond;
  struct kql_node **assign; /* expressions */
  int *assign_slots;
  uint32_t nassign;
  int output; /* 0 all, 1 last, 2 none */
};
struct kql_scan_spec {
  struct kql_scan_step *steps;
  uint32_t nsteps;
  int *col_slots; /* the columns a state record keeps */
  uint32_t ncols;
  int *ref_slots; /* nsteps * ncols: StepName.Column as read */
  int *decl_slots;
  struct kql_val *decl_defaults;
  uint32_t ndecl;
  int mid_slot; /* with_match_id, or -1 */
};
struct kql_op *kql_op_scan(struct kql_query *q,
                           const struct kql_scan_spec *spec);
/* partition by Column: the rows grouped by key_slot's value, then the
 * subquery run per group (kql_run_partition). */
struct kql_partition_spec {
  struct kql_tab *sub;
  bool named; /* { query }: the group is the table named name */
  const char *name;
  uint32_t nlets;
  int key_slot;
  struct kql_table *in; /* columns of the input */
  int *in_slots;
  int *res_slots; /* per result column: the output slot */
  uint32_t nres;
};
struct kql_op *kql_op_partition(struct kql_query *q,
                                const struct kql_partition_spec *spec);
/* kql_run_partition - the subquery over one group's table. */
struct kql_table *kql_run_partition(struct kql_run *run,
                                    const struct kql_partition_spec *spec,
                                    struct kql_table *group);
/* reduce by text: Pattern, Count, Representative into the three slots. */
struct kql_op *kql_op_reduce(struct kql_query *q, struct kql_node *text,
                             double threshold, const char *seps,
                             const int out_slots[3]);
/* rows_near: rows within before/after rows of one where pred holds. */
struct kql_op *kql_op_rowsnear(struct kql_query *q, struct kql_node *pred,
                               int64_t before, int64_t after);
struct kql_op *kql_op_write(struct kql_query *q);
struct kql_op *kql_op_collect(struct kql_query *q, struct kql_table *t);

/* kql_push - hand a row to the next operator. */
static inline void
kql_push(struct kql_op *op, struct kql_row *r)
{
  op->next->vt->row(op->next, r);
}
static inline void
kql_end(struct kql_op *op)
{
  op->next->vt->end(op->next);
}

/* Row storage for blocking operators: a deep copy of raw and slots. */
struct kql_row *kql_row_store(struct kql_query *q, struct kql_arena *a,
                              const struct kql_row *r);

/* kql_write_row - the row as one NDJSON line per the query's output
 * schema, into run->w. */
void kql_write_row(struct kql_query *q, struct kql_row *r);
/* kql_flush - write run->w to the output; false on error. */
bool kql_flush(struct kql_run *run);

/* The stream source: scan one line for q's input columns. false when
 * the line is not a JSON object. */
bool kql_source_row(struct kql_query *q, const char *line, size_t n,
                    struct kql_row *r);
void kql_source_static(struct kql_query *q);
/* kql_run_input - run every query over the NDJSON on fd; the exit code. */
int kql_run_input(struct kql_run *run, int fd);
/* kql_run_buffer - the same over NDJSON text in memory (fuzzing, tests). */
void kql_run_buffer(struct kql_run *run, const char *buf, size_t n);
void kql_run_free(struct kql_run *run);

/* getprocessname support (kql_func_proc.c). */
void kql_proc_learn(struct kql_run *run, const char *line, size_t n);
struct kql_val kql_proc_name(struct kql_run *run, struct kql_arena *a,
                             int64_t pid);
void kql_proc_free(struct kql_run *run);

/* Wildcard pattern match for project-away/keep (only '*'). */
bool kql_wild(const char *pat, const char *s, size_t n);

#endif
