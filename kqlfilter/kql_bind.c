/*
 * kql_bind.c - resolve names, functions and slots; build the operators.
 *
 * One pass over each query's stages keeps the current schema: named
 * columns (each with a slot) and possibly "the star", the input's own
 * columns when no --schema declares them. A name resolves to a named
 * column, else to an input column read from the stream (open schema),
 * else to a let scalar; otherwise it is an error with the nearest known
 * names. Let functions are expanded in place with their arguments;
 * constant subtrees are folded once. Static tabular expressions (let
 * tables, join right sides) are run here into tables. Tabular functions
 * bind their body with a frame (struct kql_frame) that maps parameters
 * to tables or constants; trees bound again with other inputs (function
 * bodies, mv-apply and partition subqueries) are cloned first, since
 * binding edits nodes in place. Rules: kql.md sections 4 and 6.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"
#include "kqlfilter/kql_geo.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXPAND 64

struct subst {
  const char *name;
  struct kql_node *val;
};

struct B {
  struct kql_run *run;
  struct kql_prog *prog;
  struct kql_query *q;
  struct kql_arena *a;
  uint32_t nlets;
  struct kql_schema sch;
  struct subst *subst;
  uint32_t nsubst;
  int expand_depth;
  int colno; /* Column1, Column2 ... */
  struct kql_let *fn_lets;
  uint32_t nfn_lets;
  struct kql_schema stage_in; /* the schema the current operator reads */
};

static void bind_expr(struct B *b, struct kql_node *n);

static struct kql_regex *
keep_regex(struct B *b, struct kql_regex *re)
{
  struct kql_query *q = b->q;
  if (!re) return NULL;
  q->regexes = kql_xrealloc(q->regexes, (q->nregexes + 1) * sizeof *q->regexes);
  q->regexes[q->nregexes++] = re;
  return re;
}

static bool
bfail(struct B *b)
{
  return b->prog->failed;
}

static void berr(struct B *b, struct kql_loc at, const char *fmt, ...)
    LOG_PRINTF(3, 4);
static void
berr(struct B *b, struct kql_loc at, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  kql_prog_error(b->prog, at, "%s", msg);
}

bool
kql_wild(const char *pat, const char *s, size_t n)
{
  /* Iterative '*' matching with one backtrack point. */
  size_t i = 0;
  const char *star = NULL;
  size_t star_i = 0;
  while (i < n) {
    if (*pat == '*') {
      star = pat++;
      star_i = i;
    } else if (*pat && *pat == s[i]) {
      pat++;
      i++;
    } else if (star) {
      pat = star + 1;
      i = ++star_i;
    } else {
      return false;
    }
  }
  while (*pat == '*')
    pat++;
  return !*pat;
}

/* ---------------------------------------------------------------- slots */

static int
new_slot(struct B *b, int type)
{
  struct kql_query *q = b->q;
  uint32_t s = q->nslots++;
  q->slot_types = kql_xrealloc(q->slot_types, q->nslots);
  q->slot_types[s] = (uint8_t)type;
  return (int)s;
}

static int
input_slot(struct B *b, const char *name, int type)
{
  struct kql_input *in = &b->q->in;
  size_t n = strlen(name);
  for (uint32_t i = 0; i < in->n; i++)
    if (in->lens[i] == n && !memcmp(in->names[i], name, n)) return in->slots[i];
  if (in->n == in->cap) {
    in->cap = in->cap ? in->cap * 2 : 8;
    in->names = kql_xrealloc(in->names, in->cap * sizeof *in->names);
    in->lens = kql_xrealloc(in->lens, in->cap * sizeof *in->lens);
    in->slots = kql_xrealloc(in->slots, in->cap * sizeof *in->slots);
    in->types = kql_xrealloc(in->types, in->cap);
  }
  in->names[in->n] = kql_memdup(b->a, name, n);
  in->lens[in->n] = (uint32_t)n;
  in->slots[in->n] = new_slot(b, type);
  in->types[in->n] = (uint8_t)type;
  return in->slots[in->n++];
}

/* ---------------------------------------------------------------- schema */

static struct kql_col *
find_col(struct B *b, const char *name, size_t n)
{
  for (uint32_t i = 0; i < b->sch.ncols; i++) {
    struct kql_col *c = &b->sch.cols[i];
    if (c->kind == KQL_COL_NAMED && strlen(c->name) == n &&
        !memcmp(c->name, name, n))
      return c;
  }
  return NULL;
}

static struct kql_col *
star_col(struct B *b)
{
  for (uint32_t i = 0; i < b->sch.ncols; i++)
    if (b->sch.cols[i].kind == KQL_COL_STAR) return &b->sch.cols[i];
  return NULL;
}

static struct kql_col *
add_col(struct B *b, const char *name, int slot, int type)
{
  struct kql_schema *s = &b->sch;
  struct kql_col *nc = kql_alloc(b->a, (s->ncols + 1) * sizeof *nc);
  if (s->ncols) memcpy(nc, s->cols, s->ncols * sizeof *nc);
  struct kql_col *c = &nc[s->ncols++];
  memset(c, 0, sizeof *c);
  c->name = kql_memdup(b->a, name, strlen(name));
  c->slot = slot;
  c->type = (uint8_t)type;
  c->kind = KQL_COL_NAMED;
  s->cols = nc;
  return c;
}

static char **
strv_add(struct B *b, char **v, uint32_t n, const char *s)
{
  char **nv = kql_alloc(b->a, (n + 1) * sizeof *nv);
  if (n) memcpy(nv, v, n * sizeof *nv);
  nv[n] = kql_memdup(b->a, s, strlen(s));
  return nv;
}

static bool
star_hides(const struct kql_star *st, const char *name, size_t n)
{
  for (uint32_t i = 0; i < st->naway; i++)
    if (kql_wild(st->away[i], name, n)) return true;
  if (st->nkeep) {
    for (uint32_t i = 0; i < st->nkeep; i++)
      if (kql_wild(st->keep[i], name, n)) return false;
    return true;
  }
  for (uint32_t i = 0; i < st->nren; i++)
    if (strlen(st->ren_from[i]) == n && !memcmp(st->ren_from[i], name, n))
      return true;
  return false;
}

/* Names known at this point, for "did you mean". */
static void
suggest(struct B *b, const char *name, size_t n, char *out, size_t cap)
{
  const char *c[256];
  size_t k = 0;
  for (uint32_t i = 0; i < b->sch.ncols && k < 200; i++)
    if (b->sch.cols[i].kind == KQL_COL_NAMED) c[k++] = b->sch.cols[i].name;
  for (uint32_t i = 0; i < b->nlets && k < 250; i++)
    if (b->prog->lets[i].kind == 0) c[k++] = b->prog->lets[i].name;
  kql_suggest(name, n, c, k, out, cap);
}

/* ---------------------------------------------------------------- nodes */

static struct kql_tab *clone_tab(struct kql_arena *a, const struct kql_tab *t);

static struct kql_node *
clone_in(struct kql_arena *a, const struct kql_node *n)
{
  if (!n) return NULL;
  struct kql_node *c = kql_alloc(a, sizeof *c);
  *c = *n;
  if (n->nkids) {
    c->kids = kql_alloc(a, n->nkids * sizeof *c->kids);
    for (uint32_t i = 0; i < n->nkids; i++)
      c->kids[i] = clone_in(a, n->kids[i]);
  }
  if (n->kind == KQL_N_TABARG && n->tab) c->tab = clone_tab(a, n->tab);
  return c;
}

static struct kql_node *
clone(struct B *b, const struct kql_node *n)
{
  return clone_in(b->a, n);
}

static struct kql_node **
clone_list(struct kql_arena *a, struct kql_node **l, uint32_t n)
{
  if (!n) return l;
  struct kql_node **c = kql_alloc(a, n * sizeof *c);
  for (uint32_t i = 0; i < n; i++)
    c[i] = clone_in(a, l[i]);
  return c;
}

/* A deep copy of a pipeline: binding edits nodes in place (names become
 * slots, constants fold, parameters are substituted), so a tree bound
 * more than once with different inputs (tabular functions, mv-apply
 * subqueries) is bound as a fresh copy each time. */
static struct kql_tab *
clone_tab(struct kql_arena *a, const struct kql_tab *t)
{
  if (!t) return NULL;
  struct kql_tab *c = kql_alloc(a, sizeof *c);
  *c = *t;
  c->e = clone_list(a, t->e, t->ne);
  c->by = clone_list(a, t->by, t->nby);
  if (t->nkeys) {
    c->keys = kql_alloc(a, t->nkeys * sizeof *c->keys);
    for (uint32_t i = 0; i < t->nkeys; i++) {
      c->keys[i] = t->keys[i];
      c->keys[i].e = clone_in(a, t->keys[i].e);
    }
  }
  c->count = clone_in(a, t->count);
  c->subject = clone_in(a, t->subject);
  c->from = clone_in(a, t->from);
  c->to = clone_in(a, t->to);
  c->step = clone_in(a, t->step);
  c->right = clone_tab(a, t->right);
  if (t->nsrcs) {
    c->srcs = kql_alloc(a, t->nsrcs * sizeof *c->srcs);
    for (uint32_t i = 0; i < t->nsrcs; i++)
      c->srcs[i] = clone_tab(a, t->srcs[i]);
  }
  if (t->nsteps) {
    c->steps = kql_alloc(a, t->nsteps * sizeof *c->steps);
    for (uint32_t i = 0; i < t->nsteps; i++) {
      c->steps[i] = t->steps[i];
      c->steps[i].cond = clone_in(a, t->steps[i].cond);
      c->steps[i].assign =
          clone_list(a, t->steps[i].assign, t->steps[i].nassign);
    }
  }
  c->next = clone_tab(a, t->next);
  return c;
}

static struct kql_let *
find_let(struct B *b, const char *name, size_t n)
{
  for (uint32_t i = b->nfn_lets; i-- > 0;)
    if (strlen(b->fn_lets[i].name) == n && !memcmp(b->fn_lets[i].name, name, n))
      return &b->fn_lets[i];
  /* the lets of the tabular functions being bound, innermost first */
  for (struct kql_frame *f = b->run->frame; f; f = f->up)
    for (uint32_t i = f->nlets; i-- > 0;)
      if (strlen(f->lets[i].name) == n && !memcmp(f->lets[i].name, name, n))
        return &f->lets[i];
  for (uint32_t i = b->nlets; i-- > 0;)
    if (strlen(b->prog->lets[i].name) == n &&
        !memcmp(b->prog->lets[i].name, name, n))
      return &b->prog->lets[i];
  return NULL;
}

static bool
all_const(const struct kql_node *n)
{
  for (uint32_t i = 0; i < n->nkids; i++)
    if (!(n->kids[i]->flags & KQL_NF_CONST)) return false;
  return true;
}

/* Evaluate a constant subtree once, now. */
static void
fold(struct B *b, struct kql_node *n)
{
  if (n->kind == KQL_N_LIT || n->kind == KQL_N_STAR ||
      n->kind == KQL_N_TABARG || n->kind == KQL_N_ASSIGN)
    return;
  if (!all_const(n)) return;
  if (n->kind == KQL_N_CALL && n->fn && (n->fn->flags & KQL_FN_VOLATILE))
    return;
  if (n->kind == KQL_N_NAME) return;
  for (uint32_t i = 0; i < n->nkids; i++)
    if (n->kids[i]->kind == KQL_N_STAR || n->kids[i]->kind == KQL_N_TABARG)
      return;
  struct kql_ctx c = {b->q, b->a, NULL};
  struct kql_val v;
  kql_eval(&c, n, &v);
  v = kql_val_copy(b->a, &v);
  n->kind = KQL_N_LIT;
  n->lit = v;
  n->flags |= KQL_NF_CONST;
  n->nkids = 0;
}

/* A parameter of a tabular function being bound: its index in *fp. */
static int
frame_param(struct kql_run *run, const char *name, size_t n,
            struct kql_frame **fp)
{
  for (struct kql_frame *f = run->frame; f; f = f->up)
    for (uint32_t i = 0; i < f->n; i++)
      if (strlen(f->names[i]) == n && !memcmp(f->names[i], name, n)) {
        *fp = f;
        return (int)i;
      }
  return -1;
}

/* The table a tabular parameter stands for, or NULL. */
static struct kql_table *
frame_table(struct kql_run *run, const char *name)
{
  struct kql_frame *f;
  int i = name ? frame_param(run, name, strlen(name), &f) : -1;
  return i >= 0 ? f->tabs[i] : NULL;
}

static void
bind_name(struct B *b, struct kql_node *n)
{
  /* Function parameters first. */
  for (uint32_t i = b->nsubst; i-- > 0;)
    if (strlen(b->subst[i].name) == n->nlen &&
        !memcmp(b->subst[i].name, n->name, n->nlen)) {
      struct kql_loc loc = n->loc;
      *n = *b->subst[i].val;
      n->loc = loc;
      return;
    }
  struct kql_frame *f;
  int fi = frame_param(b->run, n->name, n->nlen, &f);
  if (fi >= 0 && f->vals[fi]) {
    struct kql_loc loc = n->loc;
    *n = *f->vals[fi];
    n->loc = loc;
    return;
  }
  if (fi >= 0 && !find_col(b, n->name, n->nlen)) {
    berr(b, n->loc, "'%s' is a table, not a scalar", n->name);
    return;
  }
  struct kql_col *c = find_col(b, n->name, n->nlen);
  if (c) {
    n->slot = c->slot;
    n->type = c->type;
    return;
  }
  struct kql_let *l = find_let(b, n->name, n->nlen);
  struct kql_col *st = star_col(b);
  if (st && !l) {
    const char *name = n->name;
    for (uint32_t i = 0; i < st->star->nren; i++)
      if (!strcmp(st->star->ren_to[i], n->name)) name = st->star->ren_from[i];
    if (name != n->name || !star_hides(st->star, n->name, n->nlen)) {
      n->slot = input_slot(b, name, KQL_T_ANY);
      n->type = KQL_T_ANY;
      return;
    }
  }
  if (l && l->kind == 0) {
    if (++b->expand_depth > MAX_EXPAND) {
      berr(b, n->loc, "let '%s' refers to itself", l->name);
      return;
    }
    struct kql_node *e = clone(b, l->expr);
    uint32_t save = b->nlets;
    /* A let sees only the lets before it. */
    if (l >= b->prog->lets && l < b->prog->lets + b->prog->nlets)
      b->nlets = (uint32_t)(l - b->prog->lets);
    struct kql_schema saved = b->sch;
    bind_expr(b, e);
    b->sch = saved;
    b->nlets = save;
    b->expand_depth--;
    struct kql_loc loc = n->loc;
    *n = *e;
    n->loc = loc;
    return;
  }
  if (l && l->kind == 1) {
    berr(b, n->loc, "'%s' is a table, not a scalar", n->name);
    return;
  }
  char sug[256], msg[512];
  suggest(b, n->name, n->nlen, sug, sizeof sug);
  if (sug[0])
    snprintf(msg, sizeof msg, "; did you mean %s?", sug);
  else
    msg[0] = 0;
  berr(b, n->loc, "unknown column or name '%s'%s", n->name, msg);
}

static struct kql_table *let_table(struct B *b, struct kql_node *e);

/* column_names_of(T): the names of a let table's columns, now. */
static struct kql_table *call_tabfn(struct B *b, struct kql_node *call,
                                    struct kql_table *input);

static void
names_of(struct B *b, struct kql_node *n)
{
  struct kql_node *k = n->kids[0];
  struct kql_table *t =
      k->kind == KQL_N_CALL ? call_tabfn(b, k, NULL) : let_table(b, k);
  if (!t) return;
  struct kql_val *el = kql_alloc(b->a, (t->ncols + 1) * sizeof *el);
  for (uint32_t i = 0; i < t->ncols; i++) {
    el[i] = kql_v_str(t->cols[i], strlen(t->cols[i]));
    el[i].dyn = 1;
  }
  struct kql_val v;
  memset(&v, 0, sizeof v);
  v.t = KQL_T_ARRAY;
  v.dyn = 1;
  v.n = t->ncols;
  v.u.a = el;
  n->kind = KQL_N_LIT;
  n->lit = v;
  n->type = KQL_T_DYNAMIC;
  n->flags |= KQL_NF_CONST;
  n->nkids = 0;
}

static struct kql_node *mk_node(struct B *b, int kind, struct kql_loc loc,
                                const char *name);

/* pack_all([ignore_null_empty]): the call gets the flag, then a name and
 * a column reference per column of the row. */
static bool
pack_all_args(struct B *b, struct kql_node *n)
{
  if (star_col(b)) {
    berr(b, n->loc,
         "pack_all() needs the input columns declared with "
         "--schema");
    return false;
  }
  /* The row as the operator receives it, not with its own columns. */
  struct kql_schema *in = b->stage_in.ncols ? &b->stage_in : &b->sch;
  uint32_t nc = 0;
  for (uint32_t i = 0; i < in->ncols; i++)
    if (in->cols[i].kind == KQL_COL_NAMED) nc++;
  struct kql_node **k = kql_alloc(b->a, (2 * nc + 2) * sizeof *k);
  if (n->nkids)
    k[0] = n->kids[0];
  else {
    k[0] = mk_node(b, KQL_N_LIT, n->loc, NULL);
    k[0]->lit = kql_v_bool(false);
    k[0]->type = KQL_T_BOOL;
    k[0]->flags |= KQL_NF_CONST;
  }
  uint32_t j = 1;
  for (uint32_t i = 0; i < in->ncols; i++) {
    struct kql_col *c = &in->cols[i];
    if (c->kind != KQL_COL_NAMED) continue;
    struct kql_node *key = mk_node(b, KQL_N_LIT, n->loc, NULL);
    key->lit = kql_v_str(c->name, strlen(c->name));
    key->type = KQL_T_STRING;
    key->flags |= KQL_NF_CONST;
    k[j++] = key;
    k[j++] = mk_node(b, KQL_N_NAME, n->loc, c->name);
  }
  n->kids = k;
  n->nkids = j;
  n->name = "pack_all_columns";
  n->nlen = 16;
  return true;
}

static void
bind_call(struct B *b, struct kql_node *n)
{
  if (n->nkids == 1 && n->kids[0]->kind == KQL_N_TABARG) {
    /* toscalar(T): the first column of the first row, now. */
    struct kql_table *t =
        kql_bind_static(b->run, b->prog, n->kids[0]->tab, b->nlets, b->a);
    if (!t) return;
    struct kql_val v = kql_v_null(KQL_T_DYNAMIC);
    if (t->nrows && t->ncols) v = kql_val_copy(b->a, &t->cells[0]);
    n->kind = KQL_N_LIT;
    n->lit = v;
    n->type = v.t;
    n->flags |= KQL_NF_CONST;
    n->nkids = 0;
    return;
  }
  if (n->nlen == 15 && !memcmp(n->name, "column_names_of", 15) &&
      n->nkids == 1) {
    names_of(b, n);
    return;
  }
  if (n->nlen == 8 && !memcmp(n->name, "pack_all", 8) && n->nkids <= 1 &&
      !find_let(b, n->name, n->nlen)) {
    if (!pack_all_args(b, n)) return;
  }
  /* A let function: expand its body with the arguments. */
  struct kql_let *l = find_let(b, n->name, n->nlen);
  if (l && l->kind == 2) {
    if (n->nkids > l->nparams) {
      berr(b, n->loc, "function '%s' takes %u arguments, got %u", l->name,
           l->nparams, n->nkids);
      return;
    }
    if (++b->expand_depth > MAX_EXPAND) {
      berr(b, n->loc, "function '%s' calls itself", l->name);
      return;
    }
    struct subst *ns = kql_alloc(b->a, (l->nparams + 1) * sizeof *ns);
    for (uint32_t i = 0; i < n->nkids; i++) {
      bind_expr(b, n->kids[i]);
      ns[i].name = l->params[i];
      ns[i].val = n->kids[i];
    }
    for (uint32_t i = n->nkids; i < l->nparams; i++) {
      if (!l->pdefaults[i]) {
        berr(b, n->loc, "function '%s' needs argument '%s'", l->name,
             l->params[i]);
        return;
      }
      struct kql_node *d = clone(b, l->pdefaults[i]);
      bind_expr(b, d);
      ns[i].name = l->params[i];
      ns[i].val = d;
    }
    struct subst *save = b->subst;
    uint32_t savn = b->nsubst;
    struct kql_let *sfl = b->fn_lets;
    uint32_t snfl = b->nfn_lets;
    b->subst = ns;
    b->nsubst = l->nparams;
    b->fn_lets = l->fn_lets;
    b->nfn_lets = l->nfn_lets;
    struct kql_node *body = clone(b, l->expr);
    bind_expr(b, body);
    b->subst = save;
    b->nsubst = savn;
    b->fn_lets = sfl;
    b->nfn_lets = snfl;
    b->expand_depth--;
    struct kql_loc loc = n->loc;
    *n = *body;
    n->loc = loc;
    return;
  }
  const struct kql_fn *fn = kql_fn_find(n->name, n->nlen);
  if (!fn) {
    if (kql_agg_find(n->name, n->nlen)) {
      berr(b, n->loc,
           "aggregation '%s' can only be used in summarize (or make-series)",
           n->name);
      return;
    }
    const char **names;
    size_t nn;
    kql_fn_names(&names, &nn);
    char sug[256], msg[512];
    kql_suggest(n->name, n->nlen, names, nn, sug, sizeof sug);
    if (sug[0])
      snprintf(msg, sizeof msg, "; did you mean %s?", sug);
    else
      msg[0] = 0;
    berr(b, n->loc, "unknown function '%s'%s", n->name, msg);
    return;
  }
  if (n->nkids < fn->min || (fn->max != 255 && n->nkids > fn->max)) {
    if (fn->min == fn->max)
      berr(b, n->loc, "function '%s' expects %u argument%s, got %u", fn->name,
           fn->min, fn->min == 1 ? "" : "s", n->nkids);
    else
      berr(b, n->loc, "function '%s' expects %u to %u arguments, got %u",
           fn->name, fn->min, fn->max, n->nkids);
    return;
  }
  n->fn = fn;
  n->type = fn->rtype;
  if (!strcmp(fn->name, "getprocessname")) b->q->uses_procname = true;
  for (uint32_t i = 0; i < n->nkids && !bfail(b); i++) {
    struct kql_node *k = n->kids[i];
    if (k->kind == KQL_N_STAR) {
      if (strcmp(fn->name, "pack_all") != 0 && strcmp(fn->name, "hash") &&
          strcmp(fn->name, "column_names_of")) {
        berr(b, k->loc, "'*' is not a valid argument of '%s'", fn->name);
        return;
      }
      continue;
    }
    if (k->kind == KQL_N_TABARG) {
      struct kql_table *t =
          kql_bind_static(b->run, b->prog, k->tab, b->nlets, b->a);
      if (!t) return;
      struct kql_val v = kql_v_null(KQL_T_DYNAMIC);
      if (t->nrows && t->ncols) v = t->cells[0];
      k->kind = KQL_N_LIT;
      k->lit = v;
      k->flags |= KQL_NF_CONST;
      continue;
    }
    bind_expr(b, k);
  }
}

static void
bind_expr(struct B *b, struct kql_node *n)
{
  if (!n || bfail(b)) return;
  switch (n->kind) {
  case KQL_N_LIT:
    return;
  case KQL_N_NAME:
    bind_name(b, n);
    return;
  case KQL_N_CALL:
    bind_call(b, n);
    break;
  case KQL_N_STAR:
    berr(b, n->loc, "'*' is not valid here");
    return;
  case KQL_N_IN:
    for (uint32_t i = 0; i < n->nkids; i++)
      bind_expr(b, n->kids[i]);
    if (bfail(b)) return;
    /* A constant list never changes: fold its members, keep the node. */
    if (n->kind == KQL_N_IN) n->type = KQL_T_BOOL;
    break;
  default:
    for (uint32_t i = 0; i < n->nkids; i++)
      bind_expr(b, n->kids[i]);
    if (n->kind == KQL_N_BINARY) {
      int op = n->op & ~KQL_OP_NEGATE;
      if (op == KQL_OP_MATCHES && n->kids[1]->kind == KQL_N_LIT && !bfail(b)) {
        struct kql_val *pv = &n->kids[1]->lit;
        if (pv->t == KQL_T_STRING) {
          char emsg[256];
          n->aux = keep_regex(
              b, kql_regex_compile(pv->u.s, pv->n, 0, emsg, sizeof emsg));
          if (!n->aux)
            berr(b, n->kids[1]->loc, "invalid regular expression: %s", emsg);
        }
      }
      if (op != KQL_OP_ADD && op != KQL_OP_SUB && op != KQL_OP_MUL &&
          op != KQL_OP_DIV && op != KQL_OP_MOD)
        n->type = KQL_T_BOOL;
    }
    if (n->kind == KQL_N_BETWEEN) n->type = KQL_T_BOOL;
    break;
  }
  if (bfail(b)) return;
  if (n->kind == KQL_N_CALL && n->fn) {
    /* Constant regex arguments compile once. */
    static const struct {
      const char *fn;
      uint32_t arg;
    } re_args[] = {{"extract", 0},       {"extract_all", 0}, {"extractall", 0},
                   {"replace_regex", 1}, {"replace", 0},     {"trim", 0},
                   {"trim_start", 0},    {"trim_end", 0},    {"countof", 1},
                   {"indexof_regex", 1}};
    for (size_t i = 0; i < sizeof re_args / sizeof re_args[0]; i++) {
      if (strcmp(n->fn->name, re_args[i].fn) != 0 || n->nkids <= re_args[i].arg)
        continue;
      /* countof's pattern is a regex only with kind "regex" */
      if (!strcmp(re_args[i].fn, "countof") &&
          (n->nkids < 3 || n->kids[2]->kind != KQL_N_LIT ||
           n->kids[2]->lit.n != 5))
        break;
      struct kql_node *pk = n->kids[re_args[i].arg];
      if (pk->kind == KQL_N_LIT && pk->lit.t == KQL_T_STRING) {
        char emsg[256];
        n->aux = keep_regex(
            b, kql_regex_compile(pk->lit.u.s, pk->lit.n, 0, emsg, sizeof emsg));
        if (!n->aux) berr(b, pk->loc, "invalid regular expression: %s", emsg);
      }
      break;
    }
  }
  fold(b, n);
}

/* ------------------------------------------------------------- naming */

static void
path_name(const struct kql_node *n, char *out, size_t cap)
{
  if (n->kind == KQL_N_NAME) {
    snprintf(out, cap, "%s", n->name);
    return;
  }
  if (n->kind == KQL_N_MEMBER) {
    char in[256];
    path_name(n->kids[0], in, sizeof in);
    if (!in[0]) {
      out[0] = 0;
      return;
    }
    int w = snprintf(out, cap, "%s_%s", in, n->name);
    if (w < 0 || (size_t)w >= cap) out[0] = 0;
    return;
  }
  if (n->kind == KQL_N_INDEX) {
    path_name(n->kids[0], out, cap);
    return;
  }
  out[0] = 0;
}

/* The column name Kusto gives an unnamed expression. */
static void
auto_name(struct B *b, const struct kql_node *e, char *out, size_t cap)
{
  path_name(e, out, cap);
  if (out[0]) return;
  snprintf(out, cap, "Column%d", ++b->colno);
}

/* A column of that name exists: a named one, or an input column the
 * query reads through the star. */
static bool
name_taken(struct B *b, const char *name)
{
  size_t n = strlen(name);
  if (find_col(b, name, n)) return true;
  struct kql_col *st = star_col(b);
  if (!st || star_hides(st->star, name, n)) return false;
  for (uint32_t i = 0; i < b->q->in.n; i++)
    if (b->q->in.lens[i] == n && !memcmp(b->q->in.names[i], name, n))
      return true;
  return false;
}

/* Make name unique among the schema's columns: name, name1, name2... */
static void
unique_name(struct B *b, char *name, size_t cap)
{
  if (!name_taken(b, name)) return;
  char base[256];
  snprintf(base, sizeof base, "%s", name);
  for (int i = 1; i < 10000; i++) {
    int w = snprintf(name, cap, "%s%d", base, i);
    if (w < 0 || (size_t)w >= cap) return;
    if (!name_taken(b, name)) return;
  }
}

/* ------------------------------------------------------------- stages */

static void
chain(struct B *b, struct kql_op *op)
{
  struct kql_query *q = b->q;
  if (!q->head)
    q->head = op;
  else
    q->tail->next = op;
  q->tail = op;
}

/* Set a column by name to a slot: replace a named column in place, or
 * shadow an input column of the star (replaced in place when the row has
 * it), or append. */
static void
set_col(struct B *b, const char *name, int slot, int type)
{
  struct kql_col *c = find_col(b, name, strlen(name));
  if (c) {
    c->slot = slot;
    c->type = (uint8_t)type;
    return;
  }
  struct kql_col *st = star_col(b);
  if (st && !star_hides(st->star, name, strlen(name))) {
    struct kql_star *s = st->star;
    s->repl = strv_add(b, s->repl, s->nrepl, name);
    int *ns = kql_alloc(b->a, (s->nrepl + 1) * sizeof *ns);
    if (s->nrepl) memcpy(ns, s->repl_slot, s->nrepl * sizeof *ns);
    ns[s->nrepl++] = slot;
    s->repl_slot = ns;
    st = NULL; /* add_col may move the array */
    struct kql_col *nc = add_col(b, name, slot, type);
    nc->maybe_dup = true;
    return;
  }
  add_col(b, name, slot, type);
}

/* Functions that give several columns: f(x) becomes one column per
 * member of the bag that fn(x) returns, named prefix_member (prefix:
 * f_x unnamed, the assigned name, or (a, b, ...) = f(x) names each). */
static const struct {
  const char *f, *fn;
  const char *members[8];
} multi_fns[] = {
    {"series_stats",
     "series_stats_dynamic",
     {"min", "min_idx", "max", "max_idx", "avg", "stdev", "variance", NULL}},
};

static struct kql_node *
mk_node(struct B *b, int kind, struct kql_loc loc, const char *name)
{
  struct kql_node *n = kql_zalloc(b->a, sizeof *n);
  n->kind = (uint8_t)kind;
  n->loc = loc;
  n->slot = -1;
  if (name) {
    n->name = kql_memdup(b->a, name, strlen(name));
    n->nlen = (uint32_t)strlen(name);
  }
  return n;
}

static void
add_kid(struct B *b, struct kql_node *n, struct kql_node *k)
{
  struct kql_node **nk = kql_alloc(b->a, (n->nkids + 1) * sizeof *nk);
  if (n->nkids) memcpy(nk, n->kids, n->nkids * sizeof *nk);
  nk[n->nkids++] = k;
  n->kids = nk;
}

static void path_name(const struct kql_node *n, char *out, size_t cap);

/* A copy of t whose expression list has the multi-column calls spread
 * out; t itself when it has none. */
static struct kql_tab *
expand_multi(struct B *b, struct kql_tab *t)
{
  bool any = false;
  for (uint32_t i = 0; i < t->ne; i++) {
    struct kql_node *x = t->e[i]->kids[0];
    for (size_t f = 0; f < sizeof multi_fns / sizeof multi_fns[0]; f++)
      if (x->kind == KQL_N_CALL && !strcmp(x->name, multi_fns[f].f)) any = true;
  }
  if (!any) return t;
  struct kql_tab *c = kql_alloc(b->a, sizeof *c);
  *c = *t;
  c->e = kql_alloc(b->a, (t->ne * 8 + 1) * sizeof *c->e);
  c->ne = 0;
  for (uint32_t i = 0; i < t->ne; i++) {
    struct kql_node *a = t->e[i], *x = a->kids[0];
    size_t f = 0;
    while (f < sizeof multi_fns / sizeof multi_fns[0] &&
           !(x->kind == KQL_N_CALL && !strcmp(x->name, multi_fns[f].f)))
      f++;
    if (f == sizeof multi_fns / sizeof multi_fns[0]) {
      c->e[c->ne++] = a;
      continue;
    }
    char prefix[256];
    if (a->name) {
      snprintf(prefix, sizeof prefix, "%s", a->name);
    } else {
      char arg[200] = "";
      if (x->nkids) path_name(x->kids[0], arg, sizeof arg);
      snprintf(prefix, sizeof prefix, "%s%s%s", x->name, arg[0] ? "_" : "",
               arg);
    }
    for (uint32_t m = 0; m < 8 && multi_fns[f].members[m]; m++) {
      const char *mem = multi_fns[f].members[m];
      struct kql_node *call = mk_node(b, KQL_N_CALL, x->loc, multi_fns[f].fn);
      call->kids = x->kids;
      call->nkids = x->nkids;
      struct kql_node *get = mk_node(b, KQL_N_MEMBER, x->loc, mem);
      add_kid(b, get, call);
      char name[512];
      if (a->nnames) {
        if (m >= a->nnames) break;
        snprintf(name, sizeof name, "%s", a->names[m]);
      } else {
        snprintf(name, sizeof name, "%s_%s", prefix, mem);
      }
      struct kql_node *as = mk_node(b, KQL_N_ASSIGN, a->loc, name);
      add_kid(b, as, get);
      c->e[c->ne++] = as;
    }
  }
  return c;
}

static void
bind_extend(struct B *b, struct kql_tab *t, bool print)
{
  t = expand_multi(b, t);
  uint32_t n = t->ne;
  struct kql_node **e = kql_alloc(b->a, (n + 1) * sizeof *e);
  int *slots = kql_alloc(b->a, (n + 1) * sizeof *slots);
  for (uint32_t i = 0; i < n && !bfail(b); i++) {
    struct kql_node *a = t->e[i];
    struct kql_node *x = a->kids[0];
    char name[256];
    if (a->name)
      snprintf(name, sizeof name, "%s", a->name);
    else if (print && x->kind != KQL_N_NAME && x->kind != KQL_N_MEMBER)
      snprintf(name, sizeof name, "print_%u", i);
    else
      auto_name(b, x, name, sizeof name);
    bind_expr(b, x);
    if (bfail(b)) return;
    if (a->nnames) {
      berr(b, a->loc, "(a, b) = ... is not supported in extend");
      return;
    }
    e[i] = x;
    slots[i] = new_slot(b, x->type);
    set_col(b, name, slots[i], x->type);
  }
  chain(b, kql_op_extend(b->q, e, slots, n));
}

static void
bind_project(struct B *b, struct kql_tab *t)
{
  t = expand_multi(b, t);
  uint32_t n = t->ne;
  struct kql_node **e = kql_alloc(b->a, (n + 1) * sizeof *e);
  int *slots = kql_alloc(b->a, (n + 1) * sizeof *slots);
  uint32_t ncomp = 0;
  struct kql_col *cols = kql_alloc(b->a, (n + 1) * sizeof *cols);
  uint32_t ncols = 0;
  for (uint32_t i = 0; i < n && !bfail(b); i++) {
    struct kql_node *a = t->e[i];
    struct kql_node *x = a->kids[0];
    char name[256];
    if (a->name)
      snprintf(name, sizeof name, "%s", a->name);
    else
      auto_name(b, x, name, sizeof name);
    bind_expr(b, x);
    if (bfail(b)) return;
    int slot;
    if (x->kind == KQL_N_NAME && x->slot >= 0) {
      slot = x->slot;
    } else {
      slot = new_slot(b, x->type);
      e[ncomp] = x;
      slots[ncomp++] = slot;
    }
    for (uint32_t k = 0; k < ncols; k++)
      if (!strcmp(cols[k].name, name)) {
        berr(b, a->loc, "column '%s' is projected twice", name);
        return;
      }
    memset(&cols[ncols], 0, sizeof cols[ncols]);
    cols[ncols].name = kql_memdup(b->a, name, strlen(name));
    cols[ncols].slot = slot;
    cols[ncols].type = x->type;
    cols[ncols].kind = KQL_COL_NAMED;
    ncols++;
  }
  if (ncomp) chain(b, kql_op_extend(b->q, e, slots, ncomp));
  b->sch.cols = cols;
  b->sch.ncols = ncols;
}

static struct kql_star *
star_clone(struct B *b, const struct kql_star *s)
{
  struct kql_star *n = kql_alloc(b->a, sizeof *n);
  *n = *s;
  return n;
}

static void
bind_away_keep(struct B *b, struct kql_tab *t)
{
  bool away = t->kind == KQL_TAB_PROJECT_AWAY;
  struct kql_col *st = star_col(b);
  bool *keep = kql_zalloc(b->a, b->sch.ncols + 1);
  for (uint32_t i = 0; i < t->ne; i++) {
    struct kql_node *p = t->e[i];
    bool hit = false;
    for (uint32_t k = 0; k < b->sch.ncols; k++) {
      struct kql_col *c = &b->sch.cols[k];
      if (c->kind == KQL_COL_NAMED &&
          kql_wild(p->name, c->name, strlen(c->name))) {
        keep[k] = true;
        hit = true;
      }
    }
    if (!hit && !st && !(p->flags & 0x40)) {
      char sug[256], msg[512];
      suggest(b, p->name, p->nlen, sug, sizeof sug);
      if (sug[0])
        snprintf(msg, sizeof msg, "; did you mean %s?", sug);
      else
        msg[0] = 0;
      berr(b, p->loc, "unknown column '%s'%s", p->name, msg);
      return;
    }
  }
  if (st) {
    struct kql_star *s = star_clone(b, st->star);
    for (uint32_t i = 0; i < t->ne; i++) {
      if (away)
        s->away = strv_add(b, s->away, s->naway++, t->e[i]->name);
      else
        s->keep = strv_add(b, s->keep, s->nkeep++, t->e[i]->name);
    }
    st->star = s;
  }
  /* Drop named columns: matched ones for away, unmatched for keep. */
  uint32_t k = 0;
  for (uint32_t i = 0; i < b->sch.ncols; i++) {
    struct kql_col *c = &b->sch.cols[i];
    bool drop = c->kind == KQL_COL_NAMED && (away ? keep[i] : !keep[i]);
    if (!drop) b->sch.cols[k++] = *c;
  }
  b->sch.ncols = k;
}

static void
bind_rename(struct B *b, struct kql_tab *t)
{
  for (uint32_t i = 0; i < t->ne && !bfail(b); i++) {
    struct kql_node *a = t->e[i];
    struct kql_node *old = a->kids[0];
    struct kql_col *c = find_col(b, old->name, old->nlen);
    if (c) {
      c->name = kql_memdup(b->a, a->name, strlen(a->name));
      continue;
    }
    struct kql_col *st = star_col(b);
    if (!st) {
      char sug[256], msg[512];
      suggest(b, old->name, old->nlen, sug, sizeof sug);
      if (sug[0])
        snprintf(msg, sizeof msg, "; did you mean %s?", sug);
      else
        msg[0] = 0;
      berr(b, old->loc, "unknown column '%s'%s", old->name, msg);
      return;
    }
    struct kql_star *s = star_clone(b, st->star);
    s->ren_from = strv_add(b, s->ren_from, s->nren, old->name);
    s->ren_to = strv_add(b, s->ren_to, s->nren, a->name);
    s->nren++;
    st->star = s;
  }
}

static void
bind_reorder(struct B *b, struct kql_tab *t)
{
  struct kql_col *cols =
      kql_alloc(b->a, (b->sch.ncols + t->ne + 1) * sizeof *cols);
  bool *used = kql_zalloc(b->a, b->sch.ncols + 1);
  uint32_t n = 0;
  for (uint32_t i = 0; i < t->ne; i++) {
    struct kql_node *p = t->e[i];
    bool hit = false;
    uint32_t first = n;
    for (uint32_t k = 0; k < b->sch.ncols; k++) {
      struct kql_col *c = &b->sch.cols[k];
      if (!used[k] && c->kind == KQL_COL_NAMED &&
          kql_wild(p->name, c->name, strlen(c->name))) {
        cols[n++] = *c;
        used[k] = true;
        hit = true;
      }
    }
    /* a* asc / desc: the matched columns sorted by name */
    for (uint32_t x = first + 1; p->op && x < n; x++)
      for (uint32_t y = x; y > first; y--) {
        int r = strcmp(cols[y - 1].name, cols[y].name);
        if (p->op == 2 ? r >= 0 : r <= 0) break;
        struct kql_col tmp = cols[y];
        cols[y] = cols[y - 1];
        cols[y - 1] = tmp;
      }
    struct kql_col *st = star_col(b);
    if (!hit && st && !(p->flags & 0x40)) {
      /* Pull an input column out of the star. */
      struct kql_col c;
      memset(&c, 0, sizeof c);
      c.name = (char *)p->name;
      c.slot = input_slot(b, p->name, KQL_T_ANY);
      c.kind = KQL_COL_NAMED;
      cols[n++] = c;
      struct kql_star *s = star_clone(b, st->star);
      s->away = strv_add(b, s->away, s->naway++, p->name);
      st->star = s;
      hit = true;
    }
    if (!hit && !(p->flags & 0x40)) {
      berr(b, p->loc, "unknown column '%s'", p->name);
      return;
    }
  }
  for (uint32_t k = 0; k < b->sch.ncols; k++)
    if (!used[k]) cols[n++] = b->sch.cols[k];
  b->sch.cols = cols;
  b->sch.ncols = n;
}

/* project-by-names: constant names or wildcard patterns (strings or
 * arrays of strings); columns in pattern order, each once; a pattern
 * that matches nothing is ignored. */
static void
bind_by_names(struct B *b, struct kql_tab *t)
{
  struct kql_col *cols = kql_alloc(b->a, (b->sch.ncols + 1) * sizeof *cols);
  bool *used = kql_zalloc(b->a, b->sch.ncols + 1);
  uint32_t n = 0;
  for (uint32_t i = 0; i < t->ne && !bfail(b); i++) {
    struct kql_node *e = t->e[i];
    bind_expr(b, e);
    if (bfail(b)) return;
    if (e->kind != KQL_N_LIT) {
      berr(b, e->loc, "project-by-names needs constant names");
      return;
    }
    struct kql_val v = e->lit, one = v;
    const struct kql_val *list = &one;
    uint32_t cnt = 1;
    kql_dyn_force(b->a, &v);
    if (!v.null && v.t == KQL_T_ARRAY) {
      list = v.u.a;
      cnt = v.n;
    }
    for (uint32_t k = 0; k < cnt; k++) {
      if (list[k].null || list[k].t != KQL_T_STRING) continue;
      char *pat = kql_memdup(b->a, list[k].u.s, list[k].n);
      for (uint32_t c = 0; c < b->sch.ncols; c++) {
        struct kql_col *col = &b->sch.cols[c];
        if (used[c] || col->kind != KQL_COL_NAMED ||
            !kql_wild(pat, col->name, strlen(col->name)))
          continue;
        used[c] = true;
        cols[n++] = *col;
      }
    }
  }
  if (star_col(b)) {
    berr(b, t->loc,
         "project-by-names needs the input columns declared "
         "with --schema");
    return;
  }
  b->sch.cols = cols;
  b->sch.ncols = n;
}

static int64_t
const_int(struct B *b, struct kql_node *e, const char *what)
{
  bind_expr(b, e);
  if (bfail(b)) return 0;
  int64_t v;
  if (e->kind != KQL_N_LIT || !kql_get_long(&e->lit, &v)) {
    berr(b, e->loc, "%s must be a constant number", what);
    return 0;
  }
  return v;
}

static void
bind_parse(struct B *b, struct kql_tab *t)
{
  bind_expr(b, t->subject);
  int *slots = kql_alloc(b->a, (t->nitems + 1) * sizeof *slots);
  for (uint32_t i = 0; i < t->nitems && !bfail(b); i++) {
    struct kql_pitem *it = &t->items[i];
    slots[i] = -1;
    if (!it->is_col) continue;
    slots[i] = new_slot(b, it->type);
    set_col(b, it->text, slots[i], it->type);
  }
  if (bfail(b)) return;
  struct kql_op *op = kql_op_parse(b->q, t, slots);
  if (!op) {
    berr(b, t->loc, "%s", b->q->run->err);
    return;
  }
  chain(b, op);
}

static struct kql_val *const_arg(struct B *b, struct kql_node *e, int type,
                                 const char *what);

/* A one-character (or two, for quotes) constant string option. */
static bool
kv_chars(struct B *b, struct kql_node *e, char *out, size_t maxn)
{
  struct kql_val *v = const_arg(b, e, KQL_T_STRING, "the option");
  if (!v) return false;
  if (!v->n || v->n > maxn) {
    berr(b, e->loc, "expected %zu character%s", maxn, maxn > 1 ? "s" : "");
    return false;
  }
  out[0] = v->u.s[0];
  out[1] = v->u.s[v->n - 1];
  return true;
}

static void
bind_parsekv(struct B *b, struct kql_tab *t)
{
  struct kql_kvopts o;
  memset(&o, 0, sizeof o);
  bind_expr(b, t->subject);
  for (uint32_t i = 0; i < t->ne && !bfail(b); i++) {
    struct kql_node *a = t->e[i], *v = a->kids[0];
    if (!strcmp(a->name, "pair_delimiter") ||
        !strcmp(a->name, "kv_delimiter")) {
      struct kql_val *s = const_arg(b, v, KQL_T_STRING, a->name);
      if (!s) return;
      char *d = kql_memdup(b->a, s->u.s, s->n);
      if (a->name[0] == 'p')
        o.pair = d;
      else
        o.kv = d;
    } else if (!strcmp(a->name, "quote")) {
      if (o.nquotes < 8 && !kv_chars(b, v, o.quotes[o.nquotes++], 2)) return;
    } else if (!strcmp(a->name, "escape")) {
      char e[2];
      if (!kv_chars(b, v, e, 1)) return;
      if (o.nescapes < 8) o.escapes[o.nescapes++] = e[0];
    } else if (!strcmp(a->name, "greedy")) {
      struct kql_val *g = const_arg(b, v, KQL_T_BOOL, "greedy");
      if (!g) return;
      o.greedy = !g->null && g->u.b;
    } else if (!strcmp(a->name, "regex")) {
      struct kql_val *r = const_arg(b, v, KQL_T_STRING, "regex");
      if (!r) return;
      char emsg[256];
      o.re =
          keep_regex(b, kql_regex_compile(r->u.s, r->n, 0, emsg, sizeof emsg));
      if (!o.re) {
        berr(b, v->loc, "invalid regular expression: %s", emsg);
        return;
      }
      if (kql_regex_ngroups(o.re) != 2) {
        berr(b, v->loc, "the regex needs two groups: key and value");
        return;
      }
    } else {
      berr(b, a->loc, "unknown parse-kv option '%s'", a->name);
      return;
    }
  }
  if (bfail(b)) return;
  if (!o.pair != !o.kv) {
    berr(b, t->loc, "parse-kv needs both pair_delimiter and kv_delimiter");
    return;
  }
  int *slots = kql_alloc(b->a, (t->nitems + 1) * sizeof *slots);
  for (uint32_t i = 0; i < t->nitems; i++) {
    slots[i] = new_slot(b, t->items[i].type);
    set_col(b, t->items[i].text, slots[i], t->items[i].type);
  }
  chain(b, kql_op_parsekv(b->q, t->subject, t->items, slots, t->nitems, &o));
}

static void
bind_mvexpand(struct B *b, struct kql_tab *t)
{
  uint32_t n = t->ne;
  struct kql_node **e = kql_alloc(b->a, (n + 1) * sizeof *e);
  int *slots = kql_alloc(b->a, (n + 1) * sizeof *slots);
  uint8_t *types = kql_alloc(b->a, n + 1);
  for (uint32_t i = 0; i < n && !bfail(b); i++) {
    struct kql_node *a = t->e[i];
    struct kql_node *x = a->kids[0];
    char name[256];
    if (a->name)
      snprintf(name, sizeof name, "%s", a->name);
    else
      auto_name(b, x, name, sizeof name);
    bind_expr(b, x);
    e[i] = x;
    types[i] = a->type ? a->type : KQL_T_DYNAMIC;
    slots[i] = new_slot(b, types[i]);
    set_col(b, name, slots[i], types[i]);
  }
  int ix = -1;
  if (t->name) {
    ix = new_slot(b, KQL_T_LONG);
    set_col(b, t->name, ix, KQL_T_LONG);
  }
  chain(b,
        kql_op_mvexpand(b->q, e, slots, types, n, ix, t->limit, t->pkind == 1));
}

/* Every name a subquery mentions, for the columns it may read from the
 * stream (open schema). */
static void
names_in(struct kql_node *n, const char ***out, uint32_t *cnt, uint32_t cap)
{
  if (!n) return;
  if (n->kind == KQL_N_NAME && n->name && *cnt < cap)
    (*out)[(*cnt)++] = n->name;
  for (uint32_t i = 0; i < n->nkids; i++)
    names_in(n->kids[i], out, cnt, cap);
}

static void
tab_names(struct kql_tab *t, const char ***out, uint32_t *cnt, uint32_t cap)
{
  for (; t; t = t->next) {
    for (uint32_t i = 0; i < t->ne; i++)
      names_in(t->e[i], out, cnt, cap);
    for (uint32_t i = 0; i < t->nby; i++)
      names_in(t->by[i], out, cnt, cap);
    for (uint32_t i = 0; i < t->nkeys; i++)
      names_in(t->keys[i].e, out, cnt, cap);
    names_in(t->subject, out, cnt, cap);
    names_in(t->count, out, cnt, cap);
  }
}

/* mv-apply: the items and the row's columns make the subquery's source
 * table; the subquery is bound once here (errors, output columns) and
 * again for every row by kql_op_mvapply. */
static void
bind_mvapply(struct B *b, struct kql_tab *t)
{
  struct kql_mvapply_spec sp;
  memset(&sp, 0, sizeof sp);
  sp.n = t->ne;
  sp.e = kql_alloc(b->a, (t->ne + 1) * sizeof *sp.e);
  sp.types = kql_alloc(b->a, t->ne + 1);
  sp.limit = t->limit;
  sp.bag_as_array = t->pkind == 1;
  sp.nlets = b->nlets;
  sp.subq = t->right;
  char **inames = kql_alloc(b->a, (t->ne + 2) * sizeof *inames);
  for (uint32_t i = 0; i < t->ne && !bfail(b); i++) {
    struct kql_node *a = t->e[i];
    char name[256];
    if (a->name)
      snprintf(name, sizeof name, "%s", a->name);
    else
      auto_name(b, a->kids[0], name, sizeof name);
    inames[i] = kql_memdup(b->a, name, strlen(name));
    bind_expr(b, a->kids[0]);
    sp.e[i] = a->kids[0];
    sp.types[i] = a->type ? a->type : KQL_T_DYNAMIC;
  }
  if (bfail(b)) return;
  /* Open schema: input columns the subquery names join the table. */
  struct kql_col *st = star_col(b);
  if (st) {
    const char **nm = kql_alloc(b->a, 256 * sizeof *nm);
    uint32_t cnt = 0;
    tab_names(t->right, &nm, &cnt, 256);
    for (uint32_t i = 0; i < cnt; i++) {
      bool item = false;
      for (uint32_t k = 0; k < t->ne; k++)
        if (!strcmp(inames[k], nm[i])) item = true;
      if (!item && !find_col(b, nm[i], strlen(nm[i])) &&
          !find_let(b, nm[i], strlen(nm[i])) &&
          !star_hides(st->star, nm[i], strlen(nm[i])))
        input_slot(b, nm[i], KQL_T_ANY);
    }
  }
  /* The source table: named columns, stream columns read, items. */
  uint32_t cap = b->sch.ncols + b->q->in.n + t->ne + 2;
  struct kql_table *sub = kql_zalloc(b->a, sizeof *sub);
  sub->cols = kql_alloc(b->a, cap * sizeof *sub->cols);
  sub->types = kql_alloc(b->a, cap);
  sp.sub_from = kql_alloc(b->a, cap * sizeof *sp.sub_from);
  uint32_t nc = 0;
  for (uint32_t i = 0; i < b->sch.ncols; i++) {
    struct kql_col *c = &b->sch.cols[i];
    if (c->kind != KQL_COL_NAMED) continue;
    sub->cols[nc] = c->name;
    sub->types[nc] = c->type;
    sp.sub_from[nc++] = c->slot;
  }
  if (st)
    for (uint32_t i = 0; i < b->q->in.n; i++) {
      char *nm = b->q->in.names[i];
      bool dup = false;
      for (uint32_t k = 0; k < nc && !dup; k++)
        dup = !strcmp(sub->cols[k], nm);
      if (dup || star_hides(st->star, nm, strlen(nm))) continue;
      sub->cols[nc] = nm;
      sub->types[nc] = KQL_T_ANY;
      sp.sub_from[nc++] = b->q->in.slots[i];
    }
  uint32_t nitems = t->ne + (t->name ? 1 : 0);
  for (uint32_t i = 0; i < nitems; i++) {
    const char *nm = i < t->ne ? inames[i] : t->name;
    uint32_t at = nc;
    for (uint32_t k = 0; k < nc; k++)
      if (!strcmp(sub->cols[k], nm)) at = k; /* the item replaces it */
    if (at == nc) nc++;
    sub->cols[at] = (char *)nm;
    sub->types[at] = i < t->ne ? sp.types[i] : KQL_T_LONG;
    sp.sub_from[at] = -1 - (int)i;
  }
  sub->ncols = nc;
  sp.sub = sub;
  /* Bind once now: errors show before any input, and the output. */
  struct kql_table *res = kql_run_sub(b->run, b->prog, t->right, b->nlets, sub);
  if (!res) return;
  sp.nres = res->ncols;
  sp.res_slots = kql_alloc(b->a, (res->ncols + 1) * sizeof *sp.res_slots);
  for (uint32_t j = 0; j < res->ncols; j++) {
    struct kql_col *c = find_col(b, res->cols[j], strlen(res->cols[j]));
    if (c) {
      sp.res_slots[j] = c->slot;
      continue;
    }
    sp.res_slots[j] = new_slot(b, res->types[j]);
    set_col(b, res->cols[j], sp.res_slots[j], res->types[j]);
  }
  kql_table_free(res);
  chain(b, kql_op_mvapply(b->q, &sp));
}

/* The first column (or path, a_b) an expression mentions, for the
 * names of aggregates: sum(tolong(EventData.size)) -> sum_EventData_size. */
static bool
first_path(const struct kql_node *n, char *out, size_t cap)
{
  if (n->kind == KQL_N_NAME || n->kind == KQL_N_MEMBER) {
    path_name(n, out, cap);
    if (out[0]) return true;
  }
  for (uint32_t i = 0; i < n->nkids; i++)
    if (first_path(n->kids[i], out, cap)) return true;
  return false;
}

/* Append "_50" (or "_99_9") for a percentile argument. */
static void
pct_name(struct B *b, char *name, size_t cap, struct kql_node *p)
{
  if (p->kind != KQL_N_LIT) return;
  struct kql_val sv = kql_to_string(b->a, &p->lit);
  size_t l = strlen(name);
  if (l + sv.n + 2 > cap) return;
  name[l] = '_';
  for (uint32_t i = 0; i < sv.n; i++)
    name[l + 1 + i] = sv.u.s[i] == '.' ? '_' : sv.u.s[i];
  name[l + 1 + sv.n] = 0;
}

static void
bind_summarize(struct B *b, struct kql_tab *t)
{
  struct kql_schema in = b->sch;
  struct kql_schema out = {NULL, 0};
  uint32_t nby = t->nby;
  struct kql_node **by = kql_alloc(b->a, (nby + 1) * sizeof *by);
  int *by_slots = kql_alloc(b->a, (nby + 1) * sizeof *by_slots);
  int win_key = -1;
  int64_t win_size = 0;
  /* Names first from the input schema view. */
  char(*names)[256] = kql_alloc(b->a, (nby + t->ne + 1) * 256);
  for (uint32_t i = 0; i < nby && !bfail(b); i++) {
    struct kql_node *a = t->by[i];
    struct kql_node *x = a->kids[0];
    if (a->name)
      snprintf(names[i], 256, "%s", a->name);
    else if (x->kind == KQL_N_CALL && x->nkids >= 1 &&
             (!strcmp(x->name, "bin") || !strcmp(x->name, "floor") ||
              !strcmp(x->name, "bin_at")) &&
             (x->kids[0]->kind == KQL_N_NAME ||
              x->kids[0]->kind == KQL_N_MEMBER))
      path_name(x->kids[0], names[i], 256);
    else
      auto_name(b, x, names[i], 256);
    bind_expr(b, x);
    if (bfail(b)) return;
    by[i] = x;
    if (x->kind == KQL_N_CALL && x->fn && !strcmp(x->fn->name, "bin") &&
        x->nkids == 2 && x->kids[1]->kind == KQL_N_LIT &&
        x->kids[1]->lit.t == KQL_T_TIMESPAN && !x->kids[1]->lit.null &&
        x->kids[1]->lit.u.i > 0 && win_key < 0) {
      win_key = (int)i;
      win_size = x->kids[1]->lit.u.i;
    }
  }
  b->sch = out;
  for (uint32_t i = 0; i < nby && !bfail(b); i++) {
    unique_name(b, names[i], 256);
    by_slots[i] = new_slot(b, by[i]->type);
    add_col(b, names[i], by_slots[i], by[i]->type);
  }
  struct kql_aggspec *aggs = kql_zalloc(b->a, (t->ne + 1) * sizeof *aggs);
  for (uint32_t i = 0; i < t->ne && !bfail(b); i++) {
    struct kql_node *a = t->e[i];
    struct kql_node *x = a->kids[0];
    if (x->kind != KQL_N_CALL) {
      berr(b, x->loc, "expected an aggregation such as count() or sum(x)");
      return;
    }
    const struct kql_aggfn *fn = kql_agg_find(x->name, x->nlen);
    if (!fn) {
      if (kql_fn_find(x->name, x->nlen))
        berr(b, x->loc,
             "'%s' is not an aggregation; summarize needs count(), sum(), "
             "...",
             x->name);
      else
        berr(b, x->loc, "unknown aggregation '%s'", x->name);
      return;
    }
    if (x->nkids < fn->min || (fn->max != 255 && x->nkids > fn->max)) {
      berr(b, x->loc, "aggregation '%s' expects %u to %u arguments, got %u",
           fn->name, fn->min, fn->max, x->nkids);
      return;
    }
    struct kql_aggspec *s = &aggs[i];
    s->fn = fn;
    s->args = x->kids;
    s->nargs = x->nkids;
    bool argmax = !strcmp(fn->prefix, "@arg");
    /* Bind arguments against the input schema. */
    struct kql_schema outsch = b->sch;
    b->sch = in;
    for (uint32_t k = 0; k < x->nkids && !bfail(b); k++) {
      if (x->kids[k]->kind == KQL_N_STAR && argmax && k > 0) continue;
      bind_expr(b, x->kids[k]);
    }
    if (bfail(b)) return;
    if (argmax) {
      /* arg_max(by, cols...): returned columns; '*' means all. */
      struct kql_node **ret = kql_alloc(b->a, 256 * sizeof *ret);
      char **rnames = kql_alloc(b->a, 256 * sizeof *rnames);
      uint32_t nret = 0;
      for (uint32_t k = 1; k < x->nkids; k++) {
        if (x->kids[k]->kind == KQL_N_STAR) {
          if (star_col(b)) {
            berr(b, x->kids[k]->loc,
                 "%s(..., *) needs the input columns declared with "
                 "--schema",
                 fn->name);
            return;
          }
          for (uint32_t c = 0; c < in.ncols && nret < 250; c++) {
            struct kql_node *nn = kql_zalloc(b->a, sizeof *nn);
            nn->kind = KQL_N_NAME;
            nn->slot = in.cols[c].slot;
            nn->type = in.cols[c].type;
            nn->name = in.cols[c].name;
            nn->nlen = (uint32_t)strlen(nn->name);
            rnames[nret] = in.cols[c].name;
            ret[nret++] = nn;
          }
        } else if (nret < 250) {
          char nm[256];
          auto_name(b, x->kids[k], nm, sizeof nm);
          rnames[nret] = kql_memdup(b->a, nm, strlen(nm));
          ret[nret++] = x->kids[k];
        }
      }
      b->sch = outsch;
      char first[256];
      if (a->name)
        snprintf(first, sizeof first, "%s", a->name);
      else
        auto_name(b, x->kids[0], first, sizeof first);
      unique_name(b, first, sizeof first);
      s->slot = new_slot(b, x->kids[0]->type);
      add_col(b, first, s->slot, x->kids[0]->type);
      s->ret = ret;
      s->nret = nret;
      s->ret_slots = kql_alloc(b->a, (nret + 1) * sizeof *s->ret_slots);
      for (uint32_t k = 0; k < nret; k++) {
        char nm[256];
        snprintf(nm, sizeof nm, "%s", rnames[k]);
        /* by columns and the maximized column are not repeated */
        struct kql_col *dup = find_col(b, nm, strlen(nm));
        if (dup && ret[k]->kind == KQL_N_NAME) {
          bool isby = false;
          for (uint32_t j = 0; j < nby; j++)
            if (dup->slot == by_slots[j]) isby = true;
          if (isby || dup->slot == s->slot) {
            s->ret_slots[k] = -1;
            continue;
          }
        }
        unique_name(b, nm, sizeof nm);
        s->ret_slots[k] = new_slot(b, ret[k]->type);
        add_col(b, nm, s->ret_slots[k], ret[k]->type);
      }
      continue;
    }
    b->sch = outsch;
    uint32_t pfirst =
        !strcmp(fn->name, "percentile") || !strcmp(fn->name, "percentiles") ? 1
        : !strncmp(fn->name, "percentile", 10)                              ? 2
                                                                            : 0;
    char name[256];
    if (a->name) {
      snprintf(name, sizeof name, "%s", a->name);
    } else {
      char arg[200] = "";
      if (x->nkids && fn->max > 0) {
        path_name(x->kids[0], arg, sizeof arg);
        if (!arg[0] && !first_path(x->kids[0], arg, sizeof arg)) arg[0] = 0;
      }
      if (!strcmp(fn->prefix, "count_") || !strcmp(fn->prefix, "countif_"))
        arg[0] = 0;
      snprintf(name, sizeof name, "%s%s", fn->prefix, arg);
      if (pfirst && x->nkids > pfirst)
        pct_name(b, name, sizeof name, x->kids[pfirst]);
    }
    unique_name(b, name, sizeof name);
    int ty = KQL_T_ANY;
    if (!strcmp(fn->prefix, "count_") || !strcmp(fn->prefix, "countif_") ||
        !strncmp(fn->prefix, "dcount", 6))
      ty = KQL_T_LONG;
    s->out_type = ty;
    s->slot = new_slot(b, ty);
    add_col(b, name, s->slot, ty);
    /* percentiles(x, 50, 90): one more column per percentile */
    if (pfirst && x->nkids > pfirst + 1) {
      s->ret_slots = kql_alloc(b->a, x->nkids * sizeof *s->ret_slots);
      for (uint32_t k = pfirst + 1; k < x->nkids; k++) {
        char nm[256], arg[200] = "";
        if (!first_path(x->kids[0], arg, sizeof arg)) arg[0] = 0;
        snprintf(nm, sizeof nm, "%s%s", fn->prefix, arg);
        pct_name(b, nm, sizeof nm, x->kids[k]);
        unique_name(b, nm, sizeof nm);
        s->ret_slots[k - pfirst - 1] = new_slot(b, KQL_T_ANY);
        add_col(b, nm, s->ret_slots[k - pfirst - 1], KQL_T_ANY);
      }
    }
  }
  if (bfail(b)) return;
  chain(b, kql_op_summarize(b->q, by, by_slots, nby, aggs, t->ne, win_key,
                            win_size));
}

/* make-series: summarize aggs by (by..., bin_at(axis, step, from)),
 * then kql_op_series builds the arrays. */
static void
bind_make_series(struct B *b, struct kql_tab *t)
{
  struct kql_val from = kql_v_null(KQL_T_DYNAMIC), to = from, step;
  struct kql_val *v;
  if (!(v = const_arg(b, t->step, 0, "step"))) return;
  step = *v;
  if (t->from) {
    if (!(v = const_arg(b, t->from, 0, "from"))) return;
    from = *v;
  }
  if (t->to) {
    if (!(v = const_arg(b, t->to, 0, "to"))) return;
    to = *v;
  }
  double sd;
  if (step.null || !kql_get_real(&step, &sd) || sd <= 0) {
    berr(b, t->step->loc, "the step must be a positive constant");
    return;
  }
  char axis_name[256];
  auto_name(b, t->subject, axis_name, sizeof axis_name);
  /* bin_at(axis, step, from or zero) */
  struct kql_node *anchor = mk_node(b, KQL_N_LIT, t->loc, NULL);
  anchor->flags |= KQL_NF_CONST;
  if (!from.null)
    anchor->lit = from;
  else if (step.t == KQL_T_TIMESPAN) {
    bind_expr(b, t->subject);
    if (bfail(b)) return;
    anchor->lit = kql_v_time(
        t->subject->type == KQL_T_TIMESPAN ? KQL_T_TIMESPAN : KQL_T_DATETIME,
        0);
  } else
    anchor->lit = kql_v_long(0);
  anchor->type = anchor->lit.t;
  struct kql_node *stepn = mk_node(b, KQL_N_LIT, t->loc, NULL);
  stepn->lit = step;
  stepn->type = step.t;
  stepn->flags |= KQL_NF_CONST;
  struct kql_node *binc = mk_node(b, KQL_N_CALL, t->subject->loc, "bin_at");
  add_kid(b, binc, t->subject);
  add_kid(b, binc, stepn);
  add_kid(b, binc, anchor);
  struct kql_node *bina = mk_node(b, KQL_N_ASSIGN, t->loc, " bin");
  add_kid(b, bina, binc);
  struct kql_tab sum = *t;
  sum.kind = KQL_TAB_SUMMARIZE;
  sum.by = kql_alloc(b->a, (t->nby + 2) * sizeof *sum.by);
  if (t->nby) memcpy(sum.by, t->by, t->nby * sizeof *sum.by);
  sum.by[t->nby] = bina;
  sum.nby = t->nby + 1;
  sum.e = kql_alloc(b->a, (t->ne + 1) * sizeof *sum.e);
  struct kql_val *defs = kql_alloc(b->a, (t->ne + 1) * sizeof *defs);
  for (uint32_t i = 0; i < t->ne; i++) {
    struct kql_node *a = t->e[i];
    defs[i] = kql_v_long(0);
    if (a->nkids > 1) {
      if (!(v = const_arg(b, a->kids[1], 0, "the default"))) return;
      defs[i] = *v;
    }
    struct kql_node *c = mk_node(b, KQL_N_ASSIGN, a->loc, a->name);
    if (!a->name) {
      c->name = NULL;
      c->nlen = 0;
    }
    add_kid(b, c, a->kids[0]);
    sum.e[i] = c;
  }
  sum.ne = t->ne;
  bind_summarize(b, &sum);
  if (bfail(b)) return;
  /* b->sch: by columns, the bin, the aggregations */
  struct kql_series_spec sp;
  memset(&sp, 0, sizeof sp);
  sp.nby = t->nby;
  sp.by_slots = kql_alloc(b->a, (t->nby + 1) * sizeof *sp.by_slots);
  sp.naggs = b->sch.ncols - t->nby - 1;
  sp.agg_slots = kql_alloc(b->a, (sp.naggs + 1) * sizeof *sp.agg_slots);
  sp.out_slots = kql_alloc(b->a, (sp.naggs + 1) * sizeof *sp.out_slots);
  sp.defaults = kql_alloc(b->a, (sp.naggs + 1) * sizeof *sp.defaults);
  for (uint32_t i = 0; i < t->nby; i++)
    sp.by_slots[i] = b->sch.cols[i].slot;
  sp.bin_slot = b->sch.cols[t->nby].slot;
  struct kql_schema out = {NULL, 0};
  struct kql_schema agg = b->sch;
  out.cols = kql_alloc(b->a, (agg.ncols + 1) * sizeof *out.cols);
  for (uint32_t i = 0; i < t->nby; i++)
    out.cols[out.ncols++] = agg.cols[i];
  for (uint32_t i = 0; i < sp.naggs; i++) {
    struct kql_col *c = &agg.cols[t->nby + 1 + i];
    sp.agg_slots[i] = c->slot;
    sp.defaults[i] = i < t->ne ? defs[i] : kql_v_long(0);
    sp.out_slots[i] = new_slot(b, KQL_T_DYNAMIC);
    out.cols[out.ncols] = *c;
    out.cols[out.ncols].slot = sp.out_slots[i];
    out.cols[out.ncols++].type = KQL_T_DYNAMIC;
  }
  b->sch = out;
  sp.axis_slot = new_slot(b, KQL_T_DYNAMIC);
  add_col(b, axis_name, sp.axis_slot, KQL_T_DYNAMIC);
  sp.from = from;
  sp.to = to;
  sp.step = step;
  sp.nonempty = t->pkind == 1;
  chain(b, kql_op_series(b->q, &sp));
}

static void
bind_sort(struct B *b, struct kql_tab *t)
{
  for (uint32_t i = 0; i < t->nkeys; i++)
    bind_expr(b, t->keys[i].e);
  int64_t limit = -1;
  if (t->kind == KQL_TAB_TOP) {
    limit = const_int(b, t->count, "the number of rows of top");
    if (limit < 0) limit = 0;
  }
  if (bfail(b)) return;
  chain(b, kql_op_sort(b->q, t->keys, t->nkeys, limit));
}

static void
bind_distinct(struct B *b, struct kql_tab *t)
{
  if (!t->ne) {
    /* distinct *: every column of the row */
    int *slots = kql_alloc(b->a, (b->sch.ncols + 1) * sizeof *slots);
    uint32_t n = 0;
    bool star = false;
    for (uint32_t i = 0; i < b->sch.ncols; i++) {
      if (b->sch.cols[i].kind == KQL_COL_NAMED)
        slots[n++] = b->sch.cols[i].slot;
      else
        star = true;
    }
    chain(b, kql_op_distinct(b->q, slots, n, star));
    return;
  }
  struct kql_tab proj = *t;
  proj.kind = KQL_TAB_PROJECT;
  bind_project(b, &proj);
  if (bfail(b)) return;
  int *slots = kql_alloc(b->a, (b->sch.ncols + 1) * sizeof *slots);
  for (uint32_t i = 0; i < b->sch.ncols; i++)
    slots[i] = b->sch.cols[i].slot;
  chain(b, kql_op_distinct(b->q, slots, b->sch.ncols, false));
}

/* Run a static tabular expression now, into a table. */
static struct kql_table *
static_table(struct B *b, struct kql_tab *t)
{
  return kql_bind_static(b->run, b->prog, t, b->nlets, b->a);
}

static int
table_col(const struct kql_table *t, const char *name, size_t n)
{
  for (uint32_t i = 0; i < t->ncols; i++)
    if (strlen(t->cols[i]) == n && !memcmp(t->cols[i], name, n)) return (int)i;
  return -1;
}

/* $left.x / $right.y / x */
static bool
join_side(struct kql_node *e, const char **side, const char **col)
{
  if (e->kind == KQL_N_NAME) {
    *side = NULL;
    *col = e->name;
    return true;
  }
  if (e->kind == KQL_N_MEMBER && e->kids[0]->kind == KQL_N_NAME &&
      (!strcmp(e->kids[0]->name, "$left") ||
       !strcmp(e->kids[0]->name, "$right"))) {
    *side = e->kids[0]->name;
    *col = e->name;
    return true;
  }
  return false;
}

static void
bind_join(struct B *b, struct kql_tab *t)
{
  struct kql_table *rt = static_table(b, t->right);
  if (!rt) return;
  uint32_t nk = t->ne;
  int *lkeys = kql_alloc(b->a, (nk + 1) * sizeof *lkeys);
  int *rkeys = kql_alloc(b->a, (nk + 1) * sizeof *rkeys);
  char **rkeynames = kql_alloc(b->a, (nk + 1) * sizeof *rkeynames);
  for (uint32_t i = 0; i < nk && !bfail(b); i++) {
    struct kql_node *e = t->e[i];
    const char *ls = NULL, *lc = NULL, *rs = NULL, *rc = NULL;
    if (e->kind == KQL_N_BINARY && e->op == KQL_OP_EQ &&
        join_side(e->kids[0], &ls, &lc) && join_side(e->kids[1], &rs, &rc) &&
        ls && rs) {
      if (!strcmp(ls, "$right")) {
        const char *x = lc;
        lc = rc;
        rc = x;
      }
    } else if (e->kind == KQL_N_NAME) {
      lc = rc = e->name;
    } else {
      berr(b, e->loc, "join keys must be column names or $left.a == $right.b");
      return;
    }
    struct kql_node nn;
    memset(&nn, 0, sizeof nn);
    nn.kind = KQL_N_NAME;
    nn.name = lc;
    nn.nlen = (uint32_t)strlen(lc);
    nn.loc = e->loc;
    nn.slot = -1;
    bind_name(b, &nn);
    if (bfail(b)) return;
    lkeys[i] = nn.slot;
    rkeys[i] = table_col(rt, rc, strlen(rc));
    rkeynames[i] = (char *)rc;
    if (rkeys[i] < 0) {
      berr(b, e->loc, "the right side of the join has no column '%s'", rc);
      return;
    }
  }
  int *rslots = kql_alloc(b->a, (rt->ncols + 1) * sizeof *rslots);
  bool keep_right = t->jkind != 3 && t->jkind != 4; /* not left anti/semi */
  bool lookup = t->kind == KQL_TAB_LOOKUP;
  if (t->jkind == 7 || t->jkind == 8) {
    /* rightsemi / rightanti: the result has the right side's columns */
    struct kql_schema none = {NULL, 0};
    b->sch = none;
  }
  for (uint32_t c = 0; c < rt->ncols; c++) {
    rslots[c] = -1;
    if (!keep_right) continue;
    bool iskey = false;
    for (uint32_t i = 0; i < nk; i++)
      if (rkeys[i] == (int)c && !strcmp(rkeynames[i], rt->cols[c]))
        iskey = true;
    /* lookup drops the right keys; join keeps them (renamed on clash) */
    if (iskey && lookup) continue;
    char nm[256];
    snprintf(nm, sizeof nm, "%s", rt->cols[c]);
    unique_name(b, nm, sizeof nm);
    rslots[c] = new_slot(b, rt->types[c]);
    add_col(b, nm, rslots[c], rt->types[c]);
  }
  chain(b, kql_op_join(b->q, rt, t->jkind, lkeys, rkeys, nk, rslots, lookup));
}

static void
bind_union(struct B *b, struct kql_tab *t)
{
  struct kql_table **tabs = kql_alloc(b->a, (t->nsrcs + 1) * sizeof *tabs);
  int **maps = kql_alloc(b->a, (t->nsrcs + 1) * sizeof *maps);
  for (uint32_t i = 0; i < t->nsrcs && !bfail(b); i++) {
    if (t->srcs[i]->kind == KQL_TAB_SOURCE && !t->srcs[i]->next) {
      berr(b, t->srcs[i]->loc,
           "union needs a let table or datatable here: the input stream "
           "is already the left side");
      return;
    }
    tabs[i] = static_table(b, t->srcs[i]);
    if (!tabs[i]) return;
    maps[i] = kql_alloc(b->a, (tabs[i]->ncols + 1) * sizeof *maps[i]);
    for (uint32_t c = 0; c < tabs[i]->ncols; c++) {
      const char *cn = tabs[i]->cols[c];
      struct kql_col *col = find_col(b, cn, strlen(cn));
      if (!col) {
        /* Open schema: the stream's own column of that name (read from
         * the input, written in place) or a new one. */
        struct kql_col *st = star_col(b);
        int s = st && !star_hides(st->star, cn, strlen(cn))
                    ? input_slot(b, cn, KQL_T_ANY)
                    : new_slot(b, tabs[i]->types[c]);
        set_col(b, cn, s, tabs[i]->types[c]);
        col = find_col(b, cn, strlen(cn));
      }
      maps[i][c] = col->slot;
    }
  }
  if (bfail(b)) return;
  chain(b, kql_op_union(b->q, tabs, maps, t->nsrcs));
}

/* A plugin's named argument (name = value), or NULL. */
static struct kql_node *
named_arg(struct kql_node *c, const char *name)
{
  for (uint32_t i = 0; i < c->nkids; i++)
    if (c->kids[i]->kind == KQL_N_ASSIGN && c->kids[i]->name &&
        !strcasecmp(c->kids[i]->name, name))
      return c->kids[i]->kids[0];
  return NULL;
}

/* The i-th positional argument of a plugin call, or NULL. */
static struct kql_node *
pos_arg(struct kql_node *c, uint32_t i)
{
  for (uint32_t k = 0; k < c->nkids; k++) {
    if (c->kids[k]->kind == KQL_N_ASSIGN) continue;
    if (!i--) return c->kids[k];
  }
  return NULL;
}

/* A constant argument: bound and folded, or an error. */
static struct kql_val *
const_arg(struct B *b, struct kql_node *e, int type, const char *what)
{
  bind_expr(b, e);
  if (bfail(b)) return NULL;
  if (e->kind != KQL_N_LIT || (!e->lit.null && type && e->lit.t != type)) {
    berr(b, e->loc, "%s must be a constant %s", what, kql_type_name(type));
    return NULL;
  }
  return &e->lit;
}

static void
bind_bagunpack(struct B *b, struct kql_tab *t)
{
  struct kql_node *c = t->e[0];
  struct kql_node *col = pos_arg(c, 0);
  if (!col || col->kind != KQL_N_NAME) {
    berr(b, col ? col->loc : c->loc, "bag_unpack needs a column name");
    return;
  }
  bind_expr(b, col);
  if (bfail(b)) return;
  char *prefix = "";
  struct kql_node *pe = pos_arg(c, 1);
  if (!pe) pe = named_arg(c, "OutputColumnPrefix");
  if (pe) {
    struct kql_val *v = const_arg(b, pe, KQL_T_STRING, "the prefix");
    if (!v) return;
    prefix = kql_memdup(b->a, v->u.s, v->n);
  }
  int conflict = 0;
  struct kql_node *ce = pos_arg(c, 2);
  if (!ce) ce = named_arg(c, "columnsConflict");
  if (ce) {
    struct kql_val *v = const_arg(b, ce, KQL_T_STRING, "columnsConflict");
    if (!v) return;
    if (v->n == 14 && !memcmp(v->u.s, "replace_source", 14))
      conflict = 1;
    else if (v->n == 11 && !memcmp(v->u.s, "keep_source", 11))
      conflict = 2;
    else if (!(v->n == 5 && !memcmp(v->u.s, "error", 5))) {
      berr(b, ce->loc,
           "columnsConflict must be 'error', 'replace_source' or "
           "'keep_source'");
      return;
    }
  }
  char **ignored = NULL;
  uint32_t nignored = 0;
  struct kql_node *ie = pos_arg(c, 3);
  if (!ie) ie = named_arg(c, "ignoredProperties");
  if (ie) {
    struct kql_val *v = const_arg(b, ie, 0, "ignoredProperties");
    if (!v) return;
    struct kql_val l = *v;
    kql_dyn_force(b->a, &l);
    if (!l.null && l.t == KQL_T_ARRAY)
      for (uint32_t i = 0; i < l.n; i++)
        if (!l.u.a[i].null && l.u.a[i].t == KQL_T_STRING)
          ignored = strv_add(b, ignored, nignored++,
                             kql_memdup(b->a, l.u.a[i].u.s, l.u.a[i].n));
  }
  /* Remove the column; its members take its place as columns. */
  int slot = col->slot;
  bool found = false;
  for (uint32_t i = 0; i < b->sch.ncols; i++) {
    struct kql_col *cc = &b->sch.cols[i];
    if (cc->kind == KQL_COL_NAMED && !strcmp(cc->name, col->name)) {
      cc->kind = KQL_COL_SPREAD;
      cc->prefix = prefix;
      found = true;
    }
  }
  if (!found) {
    struct kql_col *st = star_col(b);
    if (st) {
      struct kql_star *s = star_clone(b, st->star);
      s->away = strv_add(b, s->away, s->naway++, col->name);
      st->star = s;
    }
    struct kql_col *nc = add_col(b, col->name, slot, KQL_T_DYNAMIC);
    nc->kind = KQL_COL_SPREAD;
    nc->prefix = prefix;
  }
  chain(b, kql_op_bagunpack(b->q, slot, conflict, ignored, nignored));
}

static struct kql_table *static_table(struct B *b, struct kql_tab *t);

/* A let table named by an argument, run into a table. */
static struct kql_table *
let_table(struct B *b, struct kql_node *e)
{
  struct kql_table *ft =
      e && e->kind == KQL_N_NAME ? frame_table(b->run, e->name) : NULL;
  if (ft) return ft;
  struct kql_let *l =
      e && e->kind == KQL_N_NAME ? find_let(b, e->name, e->nlen) : NULL;
  if (!l || l->kind != 1) {
    berr(b, e ? e->loc : (struct kql_loc){0, 0}, "expected a let table");
    return NULL;
  }
  uint32_t save = b->nlets;
  if (l >= b->prog->lets && l < b->prog->lets + b->prog->nlets)
    b->nlets = (uint32_t)(l - b->prog->lets);
  struct kql_table *tb = static_table(b, l->tab);
  b->nlets = save;
  return tb;
}

/* ipv4_lookup / ipv6_lookup(Table, SourceIP, NetworkColumn
 * [, return_unmatched]): the table's columns join the row (ipv6_lookup
 * puts them first, as Kusto's reference shows). */
static void
bind_iplookup(struct B *b, struct kql_node *c, bool v6)
{
  struct kql_table *tb = let_table(b, pos_arg(c, 0));
  if (!tb) return;
  struct kql_node *ip = pos_arg(c, 1), *net = pos_arg(c, 2);
  if (!ip || !net || net->kind != KQL_N_NAME) {
    berr(b, c->loc,
         "%s(Table, SourceIPColumn, IPRangeColumn "
         "[, return_unmatched])",
         c->name);
    return;
  }
  bind_expr(b, ip);
  if (bfail(b)) return;
  if (ip->slot < 0) {
    berr(b, ip->loc, "expected a column");
    return;
  }
  int nc = table_col(tb, net->name, net->nlen);
  if (nc < 0) {
    berr(b, net->loc, "the lookup table has no column '%s'", net->name);
    return;
  }
  bool keep = false;
  struct kql_node *ke = pos_arg(c, 3);
  if (!ke) ke = named_arg(c, "return_unmatched");
  if (ke) {
    struct kql_val *v = const_arg(b, ke, KQL_T_BOOL, "return_unmatched");
    if (!v) return;
    keep = !v->null && v->u.b;
  }
  struct kql_schema before = b->sch;
  if (v6) b->sch.ncols = 0;
  int *rslots = kql_alloc(b->a, (tb->ncols + 1) * sizeof *rslots);
  for (uint32_t i = 0; i < tb->ncols; i++) {
    char nm[256];
    snprintf(nm, sizeof nm, "%s", tb->cols[i]);
    if (!v6) unique_name(b, nm, sizeof nm);
    rslots[i] = new_slot(b, tb->types[i]);
    add_col(b, nm, rslots[i], tb->types[i]);
  }
  if (v6) {
    /* the table's columns, then the row's own */
    struct kql_schema lk = b->sch;
    b->sch = before;
    struct kql_col *cols =
        kql_alloc(b->a, (lk.ncols + before.ncols + 1) * sizeof *cols);
    memcpy(cols, lk.cols, lk.ncols * sizeof *cols);
    if (before.ncols)
      memcpy(cols + lk.ncols, before.cols, before.ncols * sizeof *cols);
    b->sch.cols = cols;
    b->sch.ncols = lk.ncols + before.ncols;
  }
  chain(b, kql_op_iplookup(b->q, tb, ip->slot, (uint32_t)nc, rslots, keep));
}

/* geo_polygon_lookup / geo_line_lookup(Table, Key, SourceLongitude,
 * SourceLatitude [, radius] [, return_unmatched] [, lookup_area_radius]
 * [, return_lookup_key]): the table's columns join each location that
 * lies in (or within radius of) a row's shape; the key column only when
 * return_lookup_key is set (kql_op_geolookup.c). */
static void
bind_geolookup(struct B *b, struct kql_node *c, bool lines)
{
  struct kql_table *tb = let_table(b, pos_arg(c, 0));
  if (!tb) return;
  struct kql_node *key = pos_arg(c, 1), *lng = pos_arg(c, 2),
                  *lat = pos_arg(c, 3);
  if (!key || !lng || !lat || key->kind != KQL_N_NAME) {
    berr(b, c->loc, "%s(Table, KeyColumn, LongitudeColumn, LatitudeColumn%s)",
         c->name, lines ? ", radius" : " [, radius]");
    return;
  }
  bind_expr(b, lng);
  bind_expr(b, lat);
  if (bfail(b)) return;
  if (lng->slot < 0 || lat->slot < 0) {
    berr(b, lng->slot < 0 ? lng->loc : lat->loc, "expected a column");
    return;
  }
  int kc = table_col(tb, key->name, key->nlen);
  if (kc < 0) {
    berr(b, key->loc, "the lookup table has no column '%s'", key->name);
    return;
  }
  static const char *const opt[4] = {"radius", "return_unmatched",
                                     "lookup_area_radius", "return_lookup_key"};
  double radius = -1;
  bool flag[4] = {false, false, false, false};
  for (uint32_t i = 0; i < 4; i++) {
    struct kql_node *e = pos_arg(c, 4 + i);
    if (!e) e = named_arg(c, opt[i]);
    if (!e) continue;
    struct kql_val *v = const_arg(b, e, i % 2 ? KQL_T_BOOL : 0, opt[i]);
    if (!v) return;
    if (i % 2)
      flag[i] = !v->null && v->u.b;
    else if (i == 0 && (!kql_get_real(v, &radius) || radius < 0)) {
      berr(b, e->loc, "the radius must be a positive number");
      return;
    }
  }
  if (lines && radius < 0) {
    berr(b, c->loc, "geo_line_lookup needs a radius");
    return;
  }
  int *rslots = kql_alloc(b->a, (tb->ncols + 1) * sizeof *rslots);
  for (uint32_t i = 0; i < tb->ncols; i++) {
    rslots[i] = -1;
    if (i == (uint32_t)kc && !flag[3]) continue;
    char nm[256];
    snprintf(nm, sizeof nm, "%s", tb->cols[i]);
    unique_name(b, nm, sizeof nm);
    rslots[i] = new_slot(b, tb->types[i]);
    add_col(b, nm, rslots[i], tb->types[i]);
  }
  chain(b, kql_op_geolookup(b->q, tb, lng->slot, lat->slot, (uint32_t)kc,
                            rslots, radius, flag[1], lines));
}

static void
bind_rowsnear(struct B *b, struct kql_node *c)
{
  struct kql_node *pred = pos_arg(c, 0), *be = pos_arg(c, 1),
                  *ae = pos_arg(c, 2);
  if (!pred || !be) {
    berr(b, c->loc, "rows_near(predicate, rows_before [, rows_after])");
    return;
  }
  bind_expr(b, pred);
  int64_t before = const_int(b, be, "the number of rows");
  int64_t after = ae ? const_int(b, ae, "the number of rows") : before;
  if (bfail(b)) return;
  chain(b, kql_op_rowsnear(b->q, pred, before, after));
}

/* evaluate plugin(...): the plugins kqlfilter has. */
static void
bind_plugin(struct B *b, struct kql_tab *t)
{
  struct kql_node *c = t->e[0];
  if (!strcmp(c->name, "ipv4_lookup") || !strcmp(c->name, "ipv6_lookup")) {
    bind_iplookup(b, c, c->name[3] == '6');
    return;
  }
  if (!strcmp(c->name, "geo_polygon_lookup") ||
      !strcmp(c->name, "geo_line_lookup")) {
    bind_geolookup(b, c, c->name[4] == 'l');
    return;
  }
  if (!strcmp(c->name, "rows_near")) {
    bind_rowsnear(b, c);
    return;
  }
  berr(b, c->loc,
       "evaluate plugin '%s' is not supported (bag_unpack, geo_line_lookup, "
       "geo_polygon_lookup, ipv4_lookup, ipv6_lookup, rows_near are)",
       c->name);
}

static void
bind_source(struct B *b, struct kql_tab *t)
{
  struct kql_query *q = b->q;
  q->src = t;
  struct kql_table *ftab = NULL;
  if (t->kind == KQL_TAB_SOURCE && t->name) {
    /* a tabular parameter, or a let table inside a tabular function */
    struct kql_let *l = find_let(b, t->name, strlen(t->name));
    ftab = frame_table(b->run, t->name);
    if (!ftab && l && l->kind == 1)
      ftab = let_table(b, &(struct kql_node){.kind = KQL_N_NAME,
                                             .name = (char *)t->name,
                                             .nlen = (uint32_t)strlen(t->name),
                                             .loc = t->loc,
                                             .slot = -1});
    if (bfail(b)) return;
  } else if (t->kind == KQL_TAB_TABLE && !t->table && t->ne &&
             t->e[0]->kind == KQL_N_CALL) {
    ftab = call_tabfn(b, t->e[0], NULL);
    if (!ftab) return;
  }
  if (ftab) {
    q->srctab = ftab;
    q->srcslots = kql_alloc(b->a, (ftab->ncols + 1) * sizeof *q->srcslots);
    for (uint32_t i = 0; i < ftab->ncols; i++) {
      q->srcslots[i] = new_slot(b, ftab->types[i]);
      add_col(b, ftab->cols[i], q->srcslots[i], ftab->types[i]);
    }
    return;
  }
  switch (t->kind) {
  case KQL_TAB_SOURCE: {
    q->from_stream = true;
    if (b->run->schema) {
      struct kql_input *s = b->run->schema;
      q->in.closed = true;
      for (uint32_t i = 0; i < s->n; i++) {
        int slot = input_slot(b, s->names[i], s->types[i]);
        add_col(b, s->names[i], slot, s->types[i]);
      }
    } else {
      struct kql_col *c = add_col(b, "*", -1, KQL_T_ANY);
      c->kind = KQL_COL_STAR;
      c->star = kql_zalloc(b->a, sizeof *c->star);
    }
    return;
  }
  case KQL_TAB_TABLE: {
    struct kql_table *tb = t->table;
    if (!tb) {
      struct kql_let *l = find_let(b, t->name, strlen(t->name));
      if (!l || l->kind != 1) {
        berr(b, t->loc, "unknown table '%s'", t->name);
        return;
      }
      uint32_t save = b->nlets;
      if (l >= b->prog->lets && l < b->prog->lets + b->prog->nlets)
        b->nlets = (uint32_t)(l - b->prog->lets);
      tb = static_table(b, l->tab);
      b->nlets = save;
      if (!tb) return;
    }
    q->srctab = tb;
    q->srcslots = kql_alloc(b->a, (tb->ncols + 1) * sizeof *q->srcslots);
    for (uint32_t i = 0; i < tb->ncols; i++) {
      q->srcslots[i] = new_slot(b, tb->types[i]);
      add_col(b, tb->cols[i], q->srcslots[i], tb->types[i]);
    }
    return;
  }
  case KQL_TAB_PRINT: {
    struct kql_table *tb = kql_zalloc(b->a, sizeof *tb);
    tb->nrows = 1;
    q->srctab = tb;
    if (t->ne) bind_extend(b, t, true);
    return;
  }
  case KQL_TAB_RANGE: {
    struct kql_node *f = t->e[0], *to = t->e[1], *st = t->e[2];
    bind_expr(b, f);
    bind_expr(b, to);
    bind_expr(b, st);
    if (bfail(b)) return;
    if (f->kind != KQL_N_LIT || to->kind != KQL_N_LIT ||
        st->kind != KQL_N_LIT) {
      berr(b, t->loc, "range needs constant bounds");
      return;
    }
    struct kql_table *tb = kql_zalloc(b->a, sizeof *tb);
    tb->ncols = 1;
    tb->cols = kql_alloc(b->a, sizeof *tb->cols);
    tb->cols[0] = (char *)t->name;
    tb->types = kql_alloc(b->a, 1);
    int ty = f->lit.t;
    tb->types[0] = (uint8_t)ty;
    struct kql_ctx c = {q, b->a, NULL};
    uint32_t cap = 16;
    tb->cells = kql_xmalloc(cap * sizeof *tb->cells);
    struct kql_val cur = f->lit;
    for (uint32_t i = 0; i < 1000000; i++) { /* range: 1M rows at most */
      struct kql_val cmpv;
      kql_binop(&c, KQL_OP_LE, &cur, &to->lit, &cmpv);
      if (cmpv.null || !cmpv.u.b) break;
      if (tb->nrows == cap) {
        cap *= 2;
        tb->cells = kql_xrealloc(tb->cells, cap * sizeof *tb->cells);
      }
      tb->cells[tb->nrows++] = cur;
      struct kql_val nx;
      kql_binop(&c, KQL_OP_ADD, &cur, &st->lit, &nx);
      if (nx.null || kql_val_same(&nx, &cur)) break;
      cur = nx;
    }
    /* keep the cells in the arena */
    struct kql_val *cells = kql_alloc(b->a, (tb->nrows + 1) * sizeof *cells);
    memcpy(cells, tb->cells, tb->nrows * sizeof *cells);
    free(tb->cells);
    tb->cells = cells;
    q->srctab = tb;
    q->srcslots = kql_alloc(b->a, 2 * sizeof *q->srcslots);
    q->srcslots[0] = new_slot(b, ty);
    add_col(b, t->name, q->srcslots[0], ty);
    return;
  }
  default:
    berr(b, t->loc, "unexpected source");
  }
}

static void bind_invoke(struct B *b, struct kql_tab *t);
static void bind_partition(struct B *b, struct kql_tab *t);

/* top-nested: per level the key column, then its aggregation's
 * (named, or aggregated_<key>). */
static void
bind_top_nested(struct B *b, struct kql_tab *t)
{
  uint32_t nl = t->ne;
  struct kql_node **keys = kql_alloc(b->a, (nl + 1) * sizeof *keys);
  int *kslots = kql_alloc(b->a, (nl + 1) * sizeof *kslots);
  struct kql_aggspec *aggs = kql_zalloc(b->a, (nl + 1) * sizeof *aggs);
  int64_t *top = kql_alloc(b->a, (nl + 1) * sizeof *top);
  bool *desc = kql_alloc(b->a, nl + 1);
  char(*knames)[256] = kql_alloc(b->a, (nl + 1) * 256);
  for (uint32_t l = 0; l < nl && !bfail(b); l++) {
    struct kql_node *k = t->e[l]->kids[0], *x = t->by[l]->kids[0];
    if (t->e[l]->name)
      snprintf(knames[l], 256, "%s", t->e[l]->name);
    else
      auto_name(b, k, knames[l], 256);
    bind_expr(b, k);
    keys[l] = k;
    top[l] = t->keys[l].e ? const_int(b, t->keys[l].e, "the count") : -1;
    desc[l] = t->keys[l].desc;
    if (bfail(b)) return;
    const struct kql_aggfn *fn =
        x->kind == KQL_N_CALL ? kql_agg_find(x->name, x->nlen) : NULL;
    if (!fn || !strcmp(fn->prefix, "@arg")) {
      berr(b, x->loc, "expected an aggregation such as count() or max(x)");
      return;
    }
    if (x->nkids < fn->min || (fn->max != 255 && x->nkids > fn->max)) {
      berr(b, x->loc, "aggregation '%s' expects %u to %u arguments, got %u",
           fn->name, fn->min, fn->max, x->nkids);
      return;
    }
    for (uint32_t i = 0; i < x->nkids && !bfail(b); i++)
      bind_expr(b, x->kids[i]);
    aggs[l].fn = fn;
    aggs[l].args = x->kids;
    aggs[l].nargs = x->nkids;
  }
  if (bfail(b)) return;
  struct kql_schema none = {NULL, 0};
  b->sch = none;
  for (uint32_t l = 0; l < nl; l++) {
    char an[300];
    if (t->by[l]->name)
      snprintf(an, sizeof an, "%s", t->by[l]->name);
    else
      snprintf(an, sizeof an, "aggregated_%s", knames[l]);
    unique_name(b, knames[l], 256);
    kslots[l] = new_slot(b, keys[l]->type);
    add_col(b, knames[l], kslots[l], keys[l]->type);
    unique_name(b, an, sizeof an);
    aggs[l].slot = new_slot(b, KQL_T_ANY);
    add_col(b, an, aggs[l].slot, KQL_T_ANY);
  }
  chain(b, kql_op_topnested(b->q, keys, kslots, aggs, top, desc, nl));
}

/* StepName.Column becomes a name bound to that step's reference slot. */
static void
step_refs(struct B *b, struct kql_node *n, struct kql_tab *t)
{
  if (!n) return;
  if (n->kind == KQL_N_MEMBER && n->kids[0]->kind == KQL_N_NAME) {
    for (uint32_t j = 0; j < t->nsteps; j++)
      if (!strcmp(t->steps[j].name, n->kids[0]->name)) {
        char nm[512];
        snprintf(nm, sizeof nm, "%s.%s", n->kids[0]->name, n->name);
        n->kind = KQL_N_NAME;
        n->name = kql_memdup(b->a, nm, strlen(nm));
        n->nlen = (uint32_t)strlen(nm);
        n->nkids = 0;
        return;
      }
  }
  for (uint32_t i = 0; i < n->nkids; i++)
    step_refs(b, n->kids[i], t);
}

static void
bind_scan(struct B *b, struct kql_tab *t)
{
  if (star_col(b)) {
    berr(b, t->loc, "scan needs the input columns declared with --schema");
    return;
  }
  struct kql_scan_spec sp;
  memset(&sp, 0, sizeof sp);
  sp.mid_slot = -1;
  sp.ndecl = t->nitems;
  sp.decl_slots = kql_alloc(b->a, (t->nitems + 1) * sizeof *sp.decl_slots);
  sp.decl_defaults =
      kql_alloc(b->a, (t->nitems + 1) * sizeof *sp.decl_defaults);
  for (uint32_t i = 0; i < t->nitems && !bfail(b); i++) {
    struct kql_pitem *it = &t->items[i];
    sp.decl_defaults[i] = kql_v_null(it->type);
    if (t->by[i]) {
      struct kql_val *v = const_arg(b, t->by[i], 0, "the default");
      if (!v) return;
      sp.decl_defaults[i] = kql_convert(b->a, v, it->type);
    }
    sp.decl_slots[i] = new_slot(b, it->type);
    set_col(b, it->text, sp.decl_slots[i], it->type);
  }
  if (bfail(b)) return;
  /* the columns a state record keeps: every named column */
  sp.col_slots = kql_alloc(b->a, (b->sch.ncols + 1) * sizeof *sp.col_slots);
  char **cnames = kql_alloc(b->a, (b->sch.ncols + 1) * sizeof *cnames);
  uint8_t *ctypes = kql_alloc(b->a, b->sch.ncols + 1);
  for (uint32_t i = 0; i < b->sch.ncols; i++) {
    struct kql_col *c = &b->sch.cols[i];
    if (c->kind != KQL_COL_NAMED) continue;
    cnames[sp.ncols] = c->name;
    ctypes[sp.ncols] = c->type;
    sp.col_slots[sp.ncols++] = c->slot;
  }
  sp.nsteps = t->nsteps;
  sp.ref_slots =
      kql_alloc(b->a, ((size_t)t->nsteps * sp.ncols + 1) * sizeof(int));
  /* bind the steps with StepName.Column as extra columns */
  struct kql_schema keep = b->sch;
  b->sch.cols =
      kql_alloc(b->a, (keep.ncols + (size_t)t->nsteps * sp.ncols + 1) *
                          sizeof *b->sch.cols);
  memcpy(b->sch.cols, keep.cols, keep.ncols * sizeof *keep.cols);
  for (uint32_t j = 0; j < t->nsteps; j++)
    for (uint32_t c = 0; c < sp.ncols; c++) {
      char nm[512];
      snprintf(nm, sizeof nm, "%s.%s", t->steps[j].name, cnames[c]);
      int slot = new_slot(b, ctypes[c]);
      sp.ref_slots[j * sp.ncols + c] = slot;
      add_col(b, nm, slot, ctypes[c]);
    }
  sp.steps = kql_zalloc(b->a, t->nsteps * sizeof *sp.steps);
  for (uint32_t j = 0; j < t->nsteps && !bfail(b); j++) {
    struct kql_step *st = &t->steps[j];
    struct kql_scan_step *ss = &sp.steps[j];
    ss->output = st->output;
    step_refs(b, st->cond, t);
    bind_expr(b, st->cond);
    ss->cond = st->cond;
    ss->nassign = st->nassign;
    ss->assign = kql_alloc(b->a, (st->nassign + 1) * sizeof *ss->assign);
    ss->assign_slots =
        kql_alloc(b->a, (st->nassign + 1) * sizeof *ss->assign_slots);
    for (uint32_t k = 0; k < st->nassign && !bfail(b); k++) {
      struct kql_node *a = st->assign[k];
      struct kql_col *c = a->name ? find_col(b, a->name, a->nlen) : NULL;
      if (!c || strchr(a->name, '.')) {
        berr(b, a->loc, "a scan step assigns to a declared column");
        return;
      }
      step_refs(b, a->kids[0], t);
      bind_expr(b, a->kids[0]);
      ss->assign[k] = a->kids[0];
      ss->assign_slots[k] = c->slot;
    }
  }
  b->sch = keep;
  if (bfail(b)) return;
  if (t->name) {
    sp.mid_slot = new_slot(b, KQL_T_LONG);
    add_col(b, t->name, sp.mid_slot, KQL_T_LONG);
  }
  chain(b, kql_op_scan(b->q, &sp));
}

/* reduce by Expr [with threshold = T, characters = C] */
static void
bind_reduce(struct B *b, struct kql_tab *t)
{
  double threshold = 0.1;
  const char *seps = NULL;
  bind_expr(b, t->subject);
  for (uint32_t i = 0; i < t->ne && !bfail(b); i++) {
    struct kql_node *a = t->e[i];
    struct kql_val *v = const_arg(b, a->kids[0], 0, a->name);
    if (!v) return;
    if (!strcmp(a->name, "threshold") && kql_get_real(v, &threshold) &&
        threshold > 0 && threshold < 1)
      continue;
    if (!strcmp(a->name, "characters") && !v->null && v->t == KQL_T_STRING) {
      seps = kql_memdup(b->a, v->u.s, v->n);
      continue;
    }
    berr(b, a->loc, "expected threshold = (0..1) or characters = string");
  }
  if (bfail(b)) return;
  struct kql_schema none = {NULL, 0};
  b->sch = none;
  static const char *const names[3] = {"Pattern", "Count", "Representative"};
  static const uint8_t types[3] = {KQL_T_STRING, KQL_T_LONG, KQL_T_STRING};
  int slots[3];
  for (int i = 0; i < 3; i++) {
    slots[i] = new_slot(b, types[i]);
    add_col(b, names[i], slots[i], types[i]);
  }
  chain(b, kql_op_reduce(b->q, t->subject, threshold, seps, slots));
}

static void
bind_stage(struct B *b, struct kql_tab *t)
{
  /* A copy: operators edit b->sch's columns in place. */
  b->stage_in.ncols = b->sch.ncols;
  b->stage_in.cols = kql_alloc(b->a, (b->sch.ncols + 1) * sizeof *b->sch.cols);
  if (b->sch.ncols)
    memcpy(b->stage_in.cols, b->sch.cols, b->sch.ncols * sizeof *b->sch.cols);
  switch (t->kind) {
  case KQL_TAB_WHERE:
    bind_expr(b, t->e[0]);
    if (!bfail(b)) chain(b, kql_op_where(b->q, t->e[0]));
    return;
  case KQL_TAB_EXTEND:
  case KQL_TAB_SERIALIZE:
    if (t->ne) bind_extend(b, t, false);
    return;
  case KQL_TAB_PROJECT:
    bind_project(b, t);
    return;
  case KQL_TAB_PROJECT_AWAY:
  case KQL_TAB_PROJECT_KEEP:
    bind_away_keep(b, t);
    return;
  case KQL_TAB_PROJECT_RENAME:
    bind_rename(b, t);
    return;
  case KQL_TAB_PROJECT_BY_NAMES:
    bind_by_names(b, t);
    return;
  case KQL_TAB_PARSE_KV:
    bind_parsekv(b, t);
    return;
  case KQL_TAB_MAKE_SERIES:
    bind_make_series(b, t);
    return;
  case KQL_TAB_MV_APPLY:
    bind_mvapply(b, t);
    return;
  case KQL_TAB_INVOKE:
    bind_invoke(b, t);
    return;
  case KQL_TAB_REDUCE:
    bind_reduce(b, t);
    return;
  case KQL_TAB_TOP_NESTED:
    bind_top_nested(b, t);
    return;
  case KQL_TAB_SCAN:
    bind_scan(b, t);
    return;
  case KQL_TAB_PARTITION:
    bind_partition(b, t);
    return;
  case KQL_TAB_PROJECT_REORDER:
    bind_reorder(b, t);
    return;
  case KQL_TAB_TAKE: {
    int64_t n = const_int(b, t->count, "the number of rows of take");
    if (!bfail(b)) chain(b, kql_op_take(b->q, n < 0 ? 0 : n));
    return;
  }
  case KQL_TAB_PARSE:
    bind_parse(b, t);
    return;
  case KQL_TAB_MVEXPAND:
    bind_mvexpand(b, t);
    return;
  case KQL_TAB_SUMMARIZE:
    bind_summarize(b, t);
    return;
  case KQL_TAB_COUNT: {
    struct kql_schema empty = {NULL, 0};
    b->sch = empty;
    int s = new_slot(b, KQL_T_LONG);
    add_col(b, t->name, s, KQL_T_LONG);
    chain(b, kql_op_count(b->q, s));
    return;
  }
  case KQL_TAB_DISTINCT:
    bind_distinct(b, t);
    return;
  case KQL_TAB_TOP:
  case KQL_TAB_SORT:
    bind_sort(b, t);
    return;
  case KQL_TAB_JOIN:
  case KQL_TAB_LOOKUP:
    bind_join(b, t);
    return;
  case KQL_TAB_UNION:
    bind_union(b, t);
    return;
  case KQL_TAB_BAGUNPACK:
    bind_bagunpack(b, t);
    return;
  case KQL_TAB_PLUGIN:
    bind_plugin(b, t);
    return;
  case KQL_TAB_AS:
    return;
  default:
    berr(b, t->loc, "unexpected operator");
  }
}

static struct kql_query *
bind_query(struct kql_run *run, struct kql_prog *prog, struct kql_tab *t,
           uint32_t nlets, struct kql_table *collect)
{
  struct kql_query *q = kql_xcalloc(1, sizeof *q);
  q->run = run;
  q->srcfile = &prog->src;
  kql_arena_init(&q->rowmem);
  kql_arena_init(&q->mem);
  struct B b;
  memset(&b, 0, sizeof b);
  b.run = run;
  b.prog = prog;
  b.q = q;
  b.a = &q->mem;
  b.nlets = nlets;
  bind_source(&b, t);
  for (struct kql_tab *s = t->next; s && !bfail(&b); s = s->next)
    bind_stage(&b, s);
  if (bfail(&b)) {
    kql_query_free(q);
    return NULL;
  }
  q->out = b.sch;
  struct kql_op *w = collect ? kql_op_collect(q, collect) : kql_op_write(q);
  chain(&b, w);
  q->slots = kql_xcalloc(q->nslots + 1, sizeof *q->slots);
  return q;
}

struct kql_table *
kql_bind_static(struct kql_run *run, struct kql_prog *prog, struct kql_tab *t,
                uint32_t nlets, struct kql_arena *mem)
{
  bool inner = false; /* a name only a tabular function knows */
  for (struct kql_frame *f = run->frame; f && t->name && !inner; f = f->up) {
    for (uint32_t i = 0; i < f->n; i++)
      if (!strcmp(f->names[i], t->name) && f->tabs[i]) inner = true;
    for (uint32_t i = 0; i < f->nlets; i++)
      if (!strcmp(f->lets[i].name, t->name) && f->lets[i].kind == 1)
        inner = true;
  }
  if (t->kind == KQL_TAB_SOURCE && !inner) {
    kql_prog_error(prog, t->loc,
                   "'%s' is the input stream; only let tables and "
                   "datatable() can be used here",
                   t->name ? t->name : "|");
    return NULL;
  }
  if (t->kind == KQL_TAB_TABLE && t->table && !t->next) return t->table;
  (void)mem;
  struct kql_table *tb = kql_xcalloc(1, sizeof *tb);
  kql_arena_init(&tb->mem);
  run->tables =
      kql_xrealloc(run->tables, (run->ntables + 1) * sizeof *run->tables);
  run->tables[run->ntables++] = tb;
  struct kql_query *q = bind_query(run, prog, t, nlets, tb);
  if (!q) return NULL;
  kql_source_static(q);
  kql_query_free(q);
  return tb;
}

struct kql_table *
kql_run_tabfn(struct kql_run *run, struct kql_let *fn, struct kql_node *call,
              struct kql_table *input)
{
  struct kql_prog *prog = run->prog;
  struct kql_frame f;
  memset(&f, 0, sizeof f);
  f.n = fn->nparams;
  f.names = fn->params;
  f.tabs = kql_xcalloc(f.n + 1, sizeof *f.tabs);
  f.vals = kql_xcalloc(f.n + 1, sizeof *f.vals);
  f.lets = fn->fn_lets;
  f.nlets = fn->nfn_lets;
  f.up = run->frame;
  /* invoke: the input is the first parameter, the call gives the rest */
  uint32_t k = 0;
  for (uint32_t i = 0; i < f.n; i++) {
    if (input && i == 0) {
      f.tabs[i] = input;
      continue;
    }
    struct kql_node *a = call && k < call->nkids ? call->kids[k] : NULL;
    k++;
    if (fn->ptypes[i] == KQL_PARAM_TABLE)
      f.tabs[i] = a && a->kind == KQL_N_TABARG ? a->aux : NULL;
    else
      f.vals[i] = a ? a : fn->pdefaults[i];
  }
  uint32_t nlets = prog->nlets;
  if (fn >= prog->lets && fn < prog->lets + prog->nlets)
    nlets = (uint32_t)(fn - prog->lets);
  struct kql_table *res = kql_xcalloc(1, sizeof *res);
  kql_arena_init(&res->mem);
  struct kql_arena tree;
  kql_arena_init(&tree);
  run->frame = &f;
  struct kql_query *q =
      bind_query(run, prog, clone_tab(&tree, fn->tab), nlets, res);
  if (q) {
    kql_source_static(q);
    kql_query_free(q);
  }
  run->frame = f.up;
  kql_arena_free(&tree);
  free(f.tabs);
  free(f.vals);
  if (!q) {
    kql_table_free(res);
    return NULL;
  }
  return res;
}

/* A tabular function's arguments, bound: constants stay, table names
 * become TABARG nodes holding their table (aux). */
static bool
tabfn_args(struct B *b, struct kql_let *l, struct kql_node *call, bool invoke)
{
  uint32_t first = invoke ? 1 : 0;
  if (call->nkids + first > l->nparams) {
    berr(b, call->loc, "function '%s' takes %u arguments, got %u", l->name,
         l->nparams - first, call->nkids);
    return false;
  }
  for (uint32_t i = 0; i < call->nkids; i++) {
    struct kql_node *a = call->kids[i];
    if (l->ptypes[i + first] == KQL_PARAM_TABLE) {
      if (a->kind == KQL_N_TABARG) continue;
      struct kql_table *t = let_table(b, a);
      if (!t) return false;
      a->kind = KQL_N_TABARG;
      a->aux = t;
      continue;
    }
    bind_expr(b, a);
    if (bfail(b)) return false;
    if (a->kind != KQL_N_LIT) {
      berr(b, a->loc,
           "the arguments of a tabular function must be "
           "constants");
      return false;
    }
  }
  for (uint32_t i = call->nkids + first; i < l->nparams; i++) {
    if (l->ptypes[i] == KQL_PARAM_TABLE || !l->pdefaults[i]) {
      berr(b, call->loc, "function '%s' needs argument '%s'", l->name,
           l->params[i]);
      return false;
    }
    bind_expr(b, l->pdefaults[i]);
    if (bfail(b)) return false;
  }
  return true;
}

static struct kql_let *
tabfn(struct B *b, struct kql_node *call)
{
  struct kql_let *l = find_let(b, call->name, call->nlen);
  if (!l || l->kind != 2 || !l->tab) {
    berr(b, call->loc, "'%s' is not a tabular function", call->name);
    return NULL;
  }
  return l;
}

/* F(args) as a table, now; it lives until the run ends. */
static struct kql_table *
call_tabfn(struct B *b, struct kql_node *call, struct kql_table *input)
{
  struct kql_let *l = tabfn(b, call);
  if (!l || !tabfn_args(b, l, call, input != NULL)) return NULL;
  /* Each call binds in a fresh binder: count the frames instead. */
  uint32_t depth = 0;
  for (struct kql_frame *f = b->run->frame; f; f = f->up)
    depth++;
  if (depth > MAX_EXPAND || ++b->expand_depth > MAX_EXPAND) {
    berr(b, call->loc, "function '%s' calls itself", l->name);
    return NULL;
  }
  struct kql_table *t = kql_run_tabfn(b->run, l, call, input);
  b->expand_depth--;
  if (!t) return NULL;
  struct kql_run *run = b->run;
  run->tables =
      kql_xrealloc(run->tables, (run->ntables + 1) * sizeof *run->tables);
  run->tables[run->ntables++] = t;
  return t;
}

/* invoke F(args): F's first parameter is the input, collected whole. */
static void
bind_invoke(struct B *b, struct kql_tab *t)
{
  struct kql_node *call = t->e[0];
  struct kql_let *l = tabfn(b, call);
  if (!l) return;
  if (!l->nparams || l->ptypes[0] != KQL_PARAM_TABLE) {
    berr(b, call->loc, "'%s' has no tabular first parameter", l->name);
    return;
  }
  if (star_col(b)) {
    berr(b, t->loc, "invoke needs the input columns declared with --schema");
    return;
  }
  if (!tabfn_args(b, l, call, true)) return;
  struct kql_invoke_spec sp;
  memset(&sp, 0, sizeof sp);
  sp.fn = l;
  sp.call = call;
  struct kql_table *in = kql_zalloc(b->a, sizeof *in);
  in->cols = kql_alloc(b->a, (b->sch.ncols + 1) * sizeof *in->cols);
  in->types = kql_alloc(b->a, b->sch.ncols + 1);
  sp.in_slots = kql_alloc(b->a, (b->sch.ncols + 1) * sizeof *sp.in_slots);
  for (uint32_t i = 0; i < b->sch.ncols; i++) {
    struct kql_col *c = &b->sch.cols[i];
    if (c->kind != KQL_COL_NAMED) continue;
    in->cols[in->ncols] = c->name;
    in->types[in->ncols] = c->type;
    sp.in_slots[in->ncols++] = c->slot;
  }
  sp.in = in;
  /* Once over no rows: errors now, and the output columns. */
  struct kql_table *res = kql_run_tabfn(b->run, l, call, in);
  if (!res) return;
  struct kql_schema none = {NULL, 0};
  b->sch = none;
  sp.nres = res->ncols;
  sp.res_slots = kql_alloc(b->a, (res->ncols + 1) * sizeof *sp.res_slots);
  for (uint32_t j = 0; j < res->ncols; j++) {
    sp.res_slots[j] = new_slot(b, res->types[j]);
    add_col(b, res->cols[j], sp.res_slots[j], res->types[j]);
  }
  kql_table_free(res);
  chain(b, kql_op_invoke(b->q, &sp));
}

struct kql_table *
kql_run_partition(struct kql_run *run, const struct kql_partition_spec *spec,
                  struct kql_table *group)
{
  if (!spec->named)
    return kql_run_sub(run, run->prog, spec->sub, spec->nlets, group);
  /* { query }: the column's name stands for the group's table */
  struct kql_frame f;
  memset(&f, 0, sizeof f);
  char *name = (char *)spec->name;
  struct kql_node *none = NULL;
  f.n = 1;
  f.names = &name;
  f.tabs = &group;
  f.vals = &none;
  f.up = run->frame;
  struct kql_arena tree;
  kql_arena_init(&tree);
  struct kql_table *res = kql_xcalloc(1, sizeof *res);
  kql_arena_init(&res->mem);
  run->frame = &f;
  struct kql_query *q =
      bind_query(run, run->prog, clone_tab(&tree, spec->sub), spec->nlets, res);
  if (q) {
    kql_source_static(q);
    kql_query_free(q);
  }
  run->frame = f.up;
  kql_arena_free(&tree);
  if (!q) {
    kql_table_free(res);
    return NULL;
  }
  return res;
}

/* partition by Column (stages) | { query }: blocking; the subquery's
 * columns, found by a run over no rows, make the output. */
static void
bind_partition(struct B *b, struct kql_tab *t)
{
  if (star_col(b)) {
    berr(b, t->loc,
         "partition needs the input columns declared with "
         "--schema");
    return;
  }
  bind_expr(b, t->subject);
  if (bfail(b)) return;
  struct kql_partition_spec sp;
  memset(&sp, 0, sizeof sp);
  sp.sub = t->right;
  sp.named = t->pkind == 1;
  sp.name = t->subject->name;
  sp.nlets = b->nlets;
  sp.key_slot = t->subject->slot;
  struct kql_table *in = kql_zalloc(b->a, sizeof *in);
  in->cols = kql_alloc(b->a, (b->sch.ncols + 1) * sizeof *in->cols);
  in->types = kql_alloc(b->a, b->sch.ncols + 1);
  sp.in_slots = kql_alloc(b->a, (b->sch.ncols + 1) * sizeof *sp.in_slots);
  for (uint32_t i = 0; i < b->sch.ncols; i++) {
    struct kql_col *c = &b->sch.cols[i];
    if (c->kind != KQL_COL_NAMED) continue;
    in->cols[in->ncols] = c->name;
    in->types[in->ncols] = c->type;
    sp.in_slots[in->ncols++] = c->slot;
  }
  sp.in = in;
  struct kql_table *res = kql_run_partition(b->run, &sp, in);
  if (!res) return;
  struct kql_schema none = {NULL, 0};
  b->sch = none;
  sp.nres = res->ncols;
  sp.res_slots = kql_alloc(b->a, (res->ncols + 1) * sizeof *sp.res_slots);
  for (uint32_t j = 0; j < res->ncols; j++) {
    sp.res_slots[j] = new_slot(b, res->types[j]);
    add_col(b, res->cols[j], sp.res_slots[j], res->types[j]);
  }
  kql_table_free(res);
  chain(b, kql_op_partition(b->q, &sp));
}

struct kql_table *
kql_run_sub(struct kql_run *run, struct kql_prog *prog, struct kql_tab *t,
            uint32_t nlets, struct kql_table *src)
{
  struct kql_arena tree;
  kql_arena_init(&tree);
  t = clone_tab(&tree, t);
  t->table = src;
  struct kql_table *res = kql_xcalloc(1, sizeof *res);
  kql_arena_init(&res->mem);
  struct kql_query *q = bind_query(run, prog, t, nlets, res);
  if (q) {
    kql_source_static(q);
    kql_query_free(q);
  }
  kql_arena_free(&tree);
  if (!q) {
    kql_table_free(res);
    return NULL;
  }
  return res;
}

void
kql_table_free(struct kql_table *t)
{
  if (!t) return;
  kql_arena_free(&t->mem);
  free(t);
}

void
kql_query_free(struct kql_query *q)
{
  if (!q) return;
  struct kql_op *op = q->head;
  while (op) {
    struct kql_op *n = op->next;
    if (op->vt->free) op->vt->free(op);
    free(op);
    op = n;
  }
  free(q->in.names);
  free(q->in.lens);
  free(q->in.slots);
  free(q->in.types);
  free(q->slot_types);
  free(q->slots);
  for (uint32_t i = 0; i < q->nregexes; i++)
    kql_regex_free(q->regexes[i]);
  free(q->regexes);
  kql_arena_free(&q->rowmem);
  kql_arena_free(&q->mem);
  free(q);
}

int
kql_bind(struct kql_run *run, struct kql_prog *prog)
{
  run->prog = prog;
  run->nq = prog->nstmts;
  run->q = kql_xcalloc(prog->nstmts + 1, sizeof *run->q);
  for (uint32_t i = 0; i < prog->nstmts; i++) {
    struct kql_query *q =
        bind_query(run, prog, prog->stmts[i].tab, prog->stmts[i].nlets, NULL);
    if (!q) return -1;
    q->index = (int)i + 1;
    run->q[i] = q;
  }
  run->tag_rows = prog->nstmts > 1;
  return 0;
}
