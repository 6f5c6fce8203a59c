/*
 * kql_parse.c - recursive-descent parser: tokens to a tree with byte
 * positions.
 *
 * A file holds let statements and one or more standing queries; queries
 * end at ';', at the end of the text, or at an empty line (the original
 * tool's paragraphs). A query may start with any table name (the input
 * stream), a let table, a tabular function call, datatable(), print or
 * range, or with no source at all: a leading operator and its arguments
 * read the input stream. Every node keeps its byte span for caret
 * errors; only the first error is kept. Names are resolved later, in
 * kql_bind.c. Grammar notes: kql.md sections 1, 4.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NEST 200

struct P {
  struct kql_prog *prog;
  const char *s;
  size_t len;
  struct kql_token tok;
  struct kql_arena *a;
  int depth;
};

/* ---------------------------------------------------------------- basics */

void
kql_prog_error(struct kql_prog *p, struct kql_loc at, const char *fmt, ...)
{
  if (p->failed) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  p->failed = true;
  p->errloc = at;
  kql_err_render(&p->src, at, msg, p->err, sizeof p->err);
}

static struct kql_loc
tloc(const struct kql_token *t)
{
  struct kql_loc l = {t->start, t->end};
  return l;
}

static struct kql_loc
span(struct kql_loc a, struct kql_loc b)
{
  struct kql_loc l = {a.start, b.end > a.end ? b.end : a.end};
  return l;
}

static bool
failed(struct P *p)
{
  return p->prog->failed;
}

static void
next(struct P *p)
{
  p->tok = kql_lex_next(p->s, p->len, p->tok.end);
}

static struct kql_token
peek_after(struct P *p, const struct kql_token *t)
{
  return kql_lex_next(p->s, p->len, t->end);
}

static bool
tok_is(struct P *p, const struct kql_token *t, int type, const char *text)
{
  size_t n = t->end - t->start;
  return t->type == type && strlen(text) == n &&
         !memcmp(p->s + t->start, text, n);
}

static bool
is_punct(struct P *p, const char *text)
{
  return tok_is(p, &p->tok, KQL_TOK_PUNCT, text);
}

static bool
is_word(struct P *p, const char *text)
{
  return tok_is(p, &p->tok, KQL_TOK_IDENT, text);
}

static void
tok_desc(struct P *p, const struct kql_token *t, char *out, size_t cap)
{
  if (t->type == KQL_TOK_EOF) {
    snprintf(out, cap, "end of query");
    return;
  }
  size_t n = t->end - t->start;
  if (n > 40) n = 40;
  size_t k = 0;
  out[k++] = '\'';
  for (size_t i = 0; i < n && k + 6 < cap; i++) {
    unsigned char ch = (unsigned char)p->s[t->start + i];
    if (ch < 0x20 || ch == 0x7f)
      k += (size_t)snprintf(out + k, cap - k, "\\x%02x", ch);
    else
      out[k++] = (char)ch;
  }
  out[k++] = '\'';
  out[k] = 0;
}

static void err_at(struct P *p, struct kql_loc at, const char *fmt, ...)
    LOG_PRINTF(3, 4);
static void
err_at(struct P *p, struct kql_loc at, const char *fmt, ...)
{
  if (failed(p)) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  kql_prog_error(p->prog, at, "%s", msg);
}

static void
expected(struct P *p, const char *what)
{
  char d[64];
  if (p->tok.type == KQL_TOK_BADSTRING) {
    err_at(p, tloc(&p->tok), "unterminated string literal");
    return;
  }
  if (p->tok.type == KQL_TOK_ILLEGAL) {
    tok_desc(p, &p->tok, d, sizeof d);
    err_at(p, tloc(&p->tok), "unexpected character %s", d);
    return;
  }
  tok_desc(p, &p->tok, d, sizeof d);
  err_at(p, tloc(&p->tok), "expected %s but found %s", what, d);
}

static bool
expect_punct(struct P *p, const char *text)
{
  if (is_punct(p, text)) {
    next(p);
    return true;
  }
  char w[16];
  snprintf(w, sizeof w, "'%s'", text);
  expected(p, w);
  return false;
}

static char *
tok_text(struct P *p, const struct kql_token *t)
{
  return kql_memdup(p->a, p->s + t->start, t->end - t->start);
}

static struct kql_node *
node(struct P *p, int kind, struct kql_loc loc)
{
  struct kql_node *n = kql_zalloc(p->a, sizeof *n);
  n->kind = (uint8_t)kind;
  n->loc = loc;
  n->slot = -1;
  return n;
}

struct vec {
  void **v;
  uint32_t n, cap;
};

static void
vpush(struct P *p, struct vec *v, void *x)
{
  if (v->n == v->cap) {
    uint32_t cap = v->cap ? v->cap * 2 : 4;
    void **nv = kql_alloc(p->a, cap * sizeof *nv);
    if (v->n) memcpy(nv, v->v, v->n * sizeof *nv);
    v->v = nv;
    v->cap = cap;
  }
  v->v[v->n++] = x;
}

static void
add_kid(struct P *p, struct kql_node *n, struct kql_node *k)
{
  struct kql_node **nk = kql_alloc(p->a, (n->nkids + 1) * sizeof *nk);
  if (n->nkids) memcpy(nk, n->kids, n->nkids * sizeof *nk);
  nk[n->nkids++] = k;
  n->kids = nk;
}

/* An identifier, or a bracketed name ['x y'] / ["x"]. */
static bool
parse_name(struct P *p, char **name, struct kql_loc *loc)
{
  if (p->tok.type == KQL_TOK_IDENT) {
    *name = tok_text(p, &p->tok);
    *loc = tloc(&p->tok);
    next(p);
    return true;
  }
  if (is_punct(p, "[")) {
    struct kql_token t = peek_after(p, &p->tok);
    if (t.type == KQL_TOK_STRING) {
      struct kql_token close = peek_after(p, &t);
      if (tok_is(p, &close, KQL_TOK_PUNCT, "]")) {
        struct kql_val v = kql_lex_string(p->a, p->s, &t);
        *name = (char *)v.u.s;
        *loc = span(tloc(&p->tok), tloc(&close));
        p->tok = close;
        next(p);
        return true;
      }
    }
  }
  expected(p, "a column name");
  return false;
}

/* ---------------------------------------------------------------- literals */

/* The raw text inside typed-literal parentheses: datetime(...). */
static bool
raw_paren(struct P *p, const char **s, size_t *n, struct kql_loc *loc)
{
  /* p->tok is '(' */
  size_t i = p->tok.end;
  size_t start = i;
  int depth = 1;
  while (i < p->len && depth) {
    if (p->s[i] == '(')
      depth++;
    else if (p->s[i] == ')')
      depth--;
    if (depth) i++;
  }
  if (i >= p->len) {
    err_at(p, tloc(&p->tok), "missing ')'");
    return false;
  }
  *s = p->s + start;
  *n = i - start;
  loc->start = (uint32_t)start;
  loc->end = (uint32_t)i;
  p->tok.end = (uint32_t)(i + 1);
  next(p);
  /* trim spaces and quotes */
  while (*n && (**s == ' ' || **s == '\t')) {
    (*s)++;
    (*n)--;
  }
  while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
    (*n)--;
  if (*n >= 2 && ((**s == '\'' && (*s)[*n - 1] == '\'') ||
                  (**s == '"' && (*s)[*n - 1] == '"'))) {
    (*s)++;
    *n -= 2;
  }
  return true;
}

static bool
text_is(const char *s, size_t n, const char *w)
{
  return strlen(w) == n && !strncasecmp(s, w, n);
}

static struct kql_node *parse_expr(struct P *p);
static struct kql_val parse_dyn(struct P *p);

static struct kql_node *
lit_node(struct P *p, struct kql_loc loc, struct kql_val v)
{
  struct kql_node *n = node(p, KQL_N_LIT, loc);
  n->lit = v;
  n->type = v.dyn ? KQL_T_DYNAMIC : v.t;
  n->flags |= KQL_NF_CONST;
  return n;
}

/* typename(...) literal; p->tok is '(' after the type word. */
static struct kql_node *
typed_literal(struct P *p, int type, struct kql_loc wloc)
{
  const char *s;
  size_t n;
  struct kql_loc in;
  if (type == KQL_T_DYNAMIC) {
    next(p);
    struct kql_val v = parse_dyn(p);
    struct kql_loc end = tloc(&p->tok);
    if (!expect_punct(p, ")")) return NULL;
    return lit_node(p, span(wloc, end), v);
  }
  if (!raw_paren(p, &s, &n, &in)) return NULL;
  struct kql_loc loc = {wloc.start, in.end + 1};
  if (text_is(s, n, "null")) return lit_node(p, loc, kql_v_null(type));
  int64_t ticks;
  struct kql_val v = kql_v_null(type);
  char buf[128];
  switch (type) {
  case KQL_T_DATETIME:
    if (!kql_parse_datetime(s, n, &ticks)) {
      err_at(p, in, "invalid datetime literal");
      return NULL;
    }
    v = kql_v_time(type, ticks);
    break;
  case KQL_T_TIMESPAN: {
    if (kql_parse_timespan(s, n, &ticks)) {
      v = kql_v_time(type, ticks);
      break;
    }
    /* A bare number counts days. */
    if (n && n < sizeof buf) {
      memcpy(buf, s, n);
      buf[n] = 0;
      char *e;
      double d = strtod(buf, &e);
      if (!*e) {
        v = kql_v_time(type, (int64_t)llround(d * KQL_TICKS_PER_DAY));
        break;
      }
    }
    err_at(p, in, "invalid timespan literal");
    return NULL;
  }
  case KQL_T_GUID: {
    char g[37];
    if (!kql_parse_guid(s, n, g)) {
      err_at(p, in, "invalid guid literal");
      return NULL;
    }
    v = kql_v_str(kql_memdup(p->a, g, 36), 36);
    v.t = KQL_T_GUID;
    break;
  }
  case KQL_T_BOOL:
    if (text_is(s, n, "true") || text_is(s, n, "1"))
      v = kql_v_bool(true);
    else if (text_is(s, n, "false") || text_is(s, n, "0"))
      v = kql_v_bool(false);
    else {
      err_at(p, in, "invalid bool literal");
      return NULL;
    }
    break;
  case KQL_T_STRING:
    v = kql_v_str(kql_memdup(p->a, s, n), n);
    break;
  default: { /* int, long, real, decimal */
    if (!n || n >= sizeof buf) {
      err_at(p, in, "invalid %s literal", kql_type_name(type));
      return NULL;
    }
    memcpy(buf, s, n);
    buf[n] = 0;
    char *b = buf;
    if (text_is(b, n, "nan"))
      v = kql_v_real(NAN);
    else if (text_is(b, n, "+inf") || text_is(b, n, "inf"))
      v = kql_v_real(INFINITY);
    else if (text_is(b, n, "-inf"))
      v = kql_v_real(-INFINITY);
    else {
      char *e;
      double d = strtod(b, &e);
      if (*e) {
        err_at(p, in, "invalid %s literal", kql_type_name(type));
        return NULL;
      }
      v = kql_v_real(d);
      if (type == KQL_T_INT || type == KQL_T_LONG) {
        long long ll = strtoll(b, &e, 0);
        if (*e) {
          err_at(p, in, "invalid %s literal", kql_type_name(type));
          return NULL;
        }
        v = type == KQL_T_INT ? kql_v_int(ll) : kql_v_long(ll);
      }
    }
    if (type == KQL_T_DECIMAL) v.t = KQL_T_DECIMAL;
    if ((type == KQL_T_INT || type == KQL_T_LONG) && v.t == KQL_T_REAL)
      v = kql_v_null(type);
  }
  }
  return lit_node(p, loc, v);
}

/* A value inside dynamic(...): JSON with KQL literals. */
static struct kql_val
parse_dyn(struct P *p)
{
  struct kql_val v = kql_v_null(KQL_T_DYNAMIC);
  if (failed(p)) return v;
  if (++p->depth > MAX_NEST) {
    err_at(p, tloc(&p->tok), "literal nested too deeply");
    return v;
  }
  if (is_punct(p, "[")) {
    next(p);
    struct vec el = {0};
    while (!is_punct(p, "]") && !failed(p)) {
      struct kql_val *e = kql_alloc(p->a, sizeof *e);
      *e = parse_dyn(p);
      vpush(p, &el, e);
      if (is_punct(p, ","))
        next(p);
      else if (!is_punct(p, "]")) {
        expected(p, "',' or ']'");
        break;
      }
    }
    next(p);
    v.t = KQL_T_ARRAY;
    v.null = 0;
    v.dyn = 1;
    v.n = el.n;
    v.u.a = kql_alloc(p->a, (el.n ? el.n : 1) * sizeof *v.u.a);
    for (uint32_t i = 0; i < el.n; i++)
      v.u.a[i] = *(struct kql_val *)el.v[i];
  } else if (is_punct(p, "{")) {
    next(p);
    struct vec keys = {0}, vals = {0};
    while (!is_punct(p, "}") && !failed(p)) {
      struct kql_val k;
      if (p->tok.type == KQL_TOK_STRING)
        k = kql_lex_string(p->a, p->s, &p->tok);
      else if (p->tok.type == KQL_TOK_IDENT)
        k = kql_v_str(tok_text(p, &p->tok), p->tok.end - p->tok.start);
      else {
        expected(p, "a property name");
        break;
      }
      next(p);
      if (!expect_punct(p, ":")) break;
      struct kql_val *e = kql_alloc(p->a, sizeof *e);
      *e = parse_dyn(p);
      struct kql_val *kk = kql_alloc(p->a, sizeof *kk);
      *kk = k;
      vpush(p, &keys, kk);
      vpush(p, &vals, e);
      if (is_punct(p, ","))
        next(p);
      else if (!is_punct(p, "}")) {
        expected(p, "',' or '}'");
        break;
      }
    }
    next(p);
    v.t = KQL_T_BAG;
    v.null = 0;
    v.dyn = 1;
    v.n = 0;
    v.u.kv = kql_alloc(p->a, (keys.n ? keys.n : 1) * sizeof *v.u.kv);
    for (uint32_t i = 0; i < keys.n; i++) {
      struct kql_val *k = keys.v[i];
      uint32_t slot = v.n;
      for (uint32_t j = 0; j < v.n; j++)
        if (v.u.kv[j].kn == k->n && !memcmp(v.u.kv[j].k, k->u.s, k->n))
          slot = j;
      if (slot == v.n) v.n++;
      v.u.kv[slot].k = k->u.s;
      v.u.kv[slot].kn = k->n;
      v.u.kv[slot].v = *(struct kql_val *)vals.v[i];
    }
  } else {
    /* Scalars: any literal expression (numbers, strings, datetime(...),
     * negative numbers, true/false/null). */
    if (is_word(p, "null")) {
      next(p);
    } else {
      struct kql_node *e = parse_expr(p);
      if (e && e->kind == KQL_N_LIT) {
        v = e->lit;
        if (!v.null)
          v.dyn = 1;
        else
          v = kql_v_null(KQL_T_DYNAMIC);
      } else if (e && e->kind == KQL_N_UNARY && e->op == KQL_OP_NEG &&
                 e->kids[0]->kind == KQL_N_LIT) {
        v = e->kids[0]->lit;
        if (v.t == KQL_T_REAL || v.t == KQL_T_DECIMAL)
          v.u.r = -v.u.r;
        else
          v.u.i = -v.u.i;
        v.dyn = 1;
      } else if (e) {
        err_at(p, e->loc, "expected a constant inside dynamic()");
      }
    }
  }
  p->depth--;
  return v;
}

/* ---------------------------------------------------------- expressions */

static struct kql_node *parse_or(struct P *p);

static struct kql_node *
parse_expr(struct P *p)
{
  if (failed(p)) return NULL;
  if (++p->depth > MAX_NEST) {
    err_at(p, tloc(&p->tok), "expression nested too deeply");
    return NULL;
  }
  struct kql_node *n = parse_or(p);
  p->depth--;
  return n;
}

static struct kql_tab *parse_tabular(struct P *p, bool top);

static void
parse_args(struct P *p, struct kql_node *call)
{
  /* p->tok is '(' */
  next(p);
  while (!is_punct(p, ")") && !failed(p)) {
    struct kql_node *a;
    if (is_punct(p, "*")) {
      a = node(p, KQL_N_STAR, tloc(&p->tok));
      next(p);
    } else {
      a = parse_expr(p);
    }
    if (!a) return;
    add_kid(p, call, a);
    if (is_punct(p, ","))
      next(p);
    else if (!is_punct(p, ")")) {
      expected(p, "',' or ')'");
      return;
    }
  }
  call->loc.end = p->tok.end;
  next(p);
}

static struct kql_node *
parse_primary(struct P *p)
{
  struct kql_token t = p->tok;
  struct kql_loc loc = tloc(&t);
  switch (t.type) {
  case KQL_TOK_INT: {
    char *txt = tok_text(p, &t);
    char *e;
    errno = 0;
    long long v = strtoll(txt, &e, 0);
    next(p);
    if (errno || *e) {
      if (txt[0] == '0' && (txt[1] == 'x' || txt[1] == 'X'))
        return lit_node(p, loc, kql_v_long((int64_t)strtoull(txt, &e, 16)));
      return lit_node(p, loc, kql_v_real(strtod(txt, NULL)));
    }
    return lit_node(p, loc, kql_v_long(v));
  }
  case KQL_TOK_REAL: {
    char *txt = tok_text(p, &t);
    next(p);
    return lit_node(p, loc, kql_v_real(strtod(txt, NULL)));
  }
  case KQL_TOK_TIMESPAN: {
    int64_t ticks;
    char *txt = tok_text(p, &t);
    next(p);
    if (!kql_parse_timespan(txt, strlen(txt), &ticks)) {
      err_at(p, loc, "invalid timespan literal");
      return NULL;
    }
    return lit_node(p, loc, kql_v_time(KQL_T_TIMESPAN, ticks));
  }
  case KQL_TOK_STRING: {
    struct kql_val v = kql_lex_string(p->a, p->s, &t);
    next(p);
    /* Adjacent string literals join: "a" "b" == "ab". */
    while (p->tok.type == KQL_TOK_STRING) {
      struct kql_val w = kql_lex_string(p->a, p->s, &p->tok);
      char *j = kql_alloc(p->a, v.n + w.n + 1);
      memcpy(j, v.u.s, v.n);
      memcpy(j + v.n, w.u.s, w.n);
      j[v.n + w.n] = 0;
      v = kql_v_str(j, v.n + w.n);
      loc.end = p->tok.end;
      next(p);
    }
    return lit_node(p, loc, v);
  }
  case KQL_TOK_IDENT: {
    char *name = tok_text(p, &t);
    size_t n = t.end - t.start;
    next(p);
    if (text_is(name, n, "true") && strcmp(name, "TRUE") != 0)
      return lit_node(p, loc, kql_v_bool(true));
    if (text_is(name, n, "false")) return lit_node(p, loc, kql_v_bool(false));
    if (!strcmp(name, "null"))
      return lit_node(p, loc, kql_v_null(KQL_T_DYNAMIC));
    if (is_punct(p, "(") && !p->tok.space_before) {
      int ty = kql_type_parse(name, n);
      if (ty >= 0 && strcmp(name, "date") != 0)
        return typed_literal(p, ty, loc);
      if (!strcmp(name, "typeof")) {
        const char *s;
        size_t sn;
        struct kql_loc in;
        if (!raw_paren(p, &s, &sn, &in)) return NULL;
        int tt = kql_type_parse(s, sn);
        if (tt < 0) {
          err_at(p, in, "unknown type");
          return NULL;
        }
        struct kql_node *l = lit_node(
            p, in, kql_v_str(kql_type_name(tt), strlen(kql_type_name(tt))));
        l->flags |= 0x80; /* a type name */
        l->slot = tt;
        return l;
      }
    }
    if (is_punct(p, "(")) {
      struct kql_node *c = node(p, KQL_N_CALL, loc);
      c->name = name;
      c->nlen = (uint32_t)n;
      if (!strcmp(name, "toscalar")) {
        next(p);
        struct kql_tab *sub = parse_tabular(p, false);
        struct kql_node *ta = node(p, KQL_N_TABARG, loc);
        ta->tab = sub;
        add_kid(p, c, ta);
        c->loc.end = p->tok.end;
        expect_punct(p, ")");
        return c;
      }
      parse_args(p, c);
      return c;
    }
    struct kql_node *nm = node(p, KQL_N_NAME, loc);
    nm->name = name;
    nm->nlen = (uint32_t)n;
    return nm;
  }
  case KQL_TOK_PUNCT:
    if (is_punct(p, "(")) {
      next(p);
      struct kql_node *e = parse_expr(p);
      if (!e) return NULL;
      struct kql_loc end = tloc(&p->tok);
      if (!expect_punct(p, ")")) return NULL;
      e->loc = span(loc, end);
      return e;
    }
    if (is_punct(p, "[")) {
      char *name;
      struct kql_loc nl;
      if (!parse_name(p, &name, &nl)) return NULL;
      struct kql_node *nm = node(p, KQL_N_NAME, nl);
      nm->name = name;
      nm->nlen = (uint32_t)strlen(name);
      return nm;
    }
    break;
  default:
    break;
  }
  expected(p, "an expression");
  return NULL;
}

static struct kql_node *
parse_postfix(struct P *p)
{
  struct kql_node *e = parse_primary(p);
  while (e && !failed(p)) {
    if (is_punct(p, ".")) {
      next(p);
      char *name;
      struct kql_loc nl;
      if (p->tok.type == KQL_TOK_IDENT || is_punct(p, "[")) {
        if (!parse_name(p, &name, &nl)) return NULL;
      } else {
        expected(p, "a member name");
        return NULL;
      }
      struct kql_node *m = node(p, KQL_N_MEMBER, span(e->loc, nl));
      m->name = name;
      m->nlen = (uint32_t)strlen(name);
      add_kid(p, m, e);
      e = m;
    } else if (is_punct(p, "[")) {
      next(p);
      struct kql_node *ix = parse_expr(p);
      if (!ix) return NULL;
      struct kql_loc end = tloc(&p->tok);
      if (!expect_punct(p, "]")) return NULL;
      if (ix->kind == KQL_N_LIT && ix->lit.t == KQL_T_STRING) {
        struct kql_node *m = node(p, KQL_N_MEMBER, span(e->loc, end));
        m->name = (char *)ix->lit.u.s;
        m->nlen = ix->lit.n;
        add_kid(p, m, e);
        e = m;
        continue;
      }
      struct kql_node *m = node(p, KQL_N_INDEX, span(e->loc, end));
      add_kid(p, m, e);
      add_kid(p, m, ix);
      e = m;
    } else {
      break;
    }
  }
  return e;
}

static struct kql_node *
parse_unary(struct P *p)
{
  if (is_punct(p, "-") || is_punct(p, "+")) {
    struct kql_loc loc = tloc(&p->tok);
    bool neg = is_punct(p, "-");
    next(p);
    if (++p->depth > MAX_NEST) {
      err_at(p, loc, "expression nested too deeply");
      return NULL;
    }
    struct kql_node *k = parse_unary(p);
    p->depth--;
    if (!k) return NULL;
    if (!neg) return k;
    if (k->kind == KQL_N_LIT && !k->lit.null &&
        (k->lit.t == KQL_T_LONG || k->lit.t == KQL_T_REAL ||
         k->lit.t == KQL_T_TIMESPAN || k->lit.t == KQL_T_INT ||
         k->lit.t == KQL_T_DECIMAL)) {
      if (k->lit.t == KQL_T_REAL || k->lit.t == KQL_T_DECIMAL)
        k->lit.u.r = -k->lit.u.r;
      else
        k->lit.u.i = -k->lit.u.i;
      k->loc = span(loc, k->loc);
      return k;
    }
    struct kql_node *u = node(p, KQL_N_UNARY, span(loc, k->loc));
    u->op = KQL_OP_NEG;
    add_kid(p, u, k);
    return u;
  }
  return parse_postfix(p);
}

static struct kql_node *
binary(struct P *p, int op, struct kql_node *l, struct kql_node *r)
{
  struct kql_node *b = node(p, KQL_N_BINARY, span(l->loc, r->loc));
  b->op = (uint8_t)op;
  add_kid(p, b, l);
  add_kid(p, b, r);
  return b;
}

static struct kql_node *
parse_mul(struct P *p)
{
  struct kql_node *l = parse_unary(p);
  while (l && !failed(p)) {
    int op = is_punct(p, "*")   ? KQL_OP_MUL
             : is_punct(p, "/") ? KQL_OP_DIV
             : is_punct(p, "%") ? KQL_OP_MOD
                                : 0;
    if (!op) break;
    next(p);
    struct kql_node *r = parse_unary(p);
    if (!r) return NULL;
    l = binary(p, op, l, r);
  }
  return l;
}

static struct kql_node *
parse_add(struct P *p)
{
  struct kql_node *l = parse_mul(p);
  while (l && !failed(p)) {
    int op = is_punct(p, "+") ? KQL_OP_ADD : is_punct(p, "-") ? KQL_OP_SUB : 0;
    if (!op) break;
    next(p);
    struct kql_node *r = parse_mul(p);
    if (!r) return NULL;
    l = binary(p, op, l, r);
  }
  return l;
}

static const struct {
  const char *w;
  int op;
} strops[] = {{"contains", KQL_OP_CONTAINS},
              {"contains_cs", KQL_OP_CONTAINS_CS},
              {"has", KQL_OP_HAS},
              {"has_cs", KQL_OP_HAS_CS},
              {"hasprefix", KQL_OP_HASPREFIX},
              {"hasprefix_cs", KQL_OP_HASPREFIX_CS},
              {"hassuffix", KQL_OP_HASSUFFIX},
              {"hassuffix_cs", KQL_OP_HASSUFFIX_CS},
              {"startswith", KQL_OP_STARTSWITH},
              {"startswith_cs", KQL_OP_STARTSWITH_CS},
              {"endswith", KQL_OP_ENDSWITH},
              {"endswith_cs", KQL_OP_ENDSWITH_CS},
              {"has_any", KQL_OP_HAS_ANY},
              {"has_all", KQL_OP_HAS_ALL},
              {"in", KQL_OP_IN},
              {"between", KQL_OP_BETWEEN},
              {"matches", KQL_OP_MATCHES}};

/* The operator at the current token, or 0. Handles in~ and !in~. */
static int
cmp_op(struct P *p, int *consume_extra)
{
  *consume_extra = 0;
  struct kql_token t = p->tok;
  if (t.type == KQL_TOK_PUNCT) {
    static const struct {
      const char *s;
      int op;
    } ops[] = {{"==", KQL_OP_EQ}, {"!=", KQL_OP_NE},    {"<>", KQL_OP_NE},
               {"<", KQL_OP_LT},  {"<=", KQL_OP_LE},    {">", KQL_OP_GT},
               {">=", KQL_OP_GE}, {"=~", KQL_OP_EQ_CI}, {"!~", KQL_OP_NE_CI}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
      if (is_punct(p, ops[i].s)) return ops[i].op;
    return 0;
  }
  const char *s = p->s + t.start;
  size_t n = t.end - t.start;
  int neg = 0;
  if (t.type == KQL_TOK_BANGWORD) {
    s++;
    n--;
    neg = KQL_OP_NEGATE;
  } else if (t.type != KQL_TOK_IDENT) {
    return 0;
  }
  bool tilde = false;
  if (n && s[n - 1] == '~') {
    tilde = true;
    n--;
  }
  for (size_t i = 0; i < sizeof strops / sizeof strops[0]; i++) {
    if (strlen(strops[i].w) != n || memcmp(strops[i].w, s, n)) continue;
    int op = strops[i].op;
    if (op == KQL_OP_IN) {
      if (!tilde && t.type == KQL_TOK_IDENT) {
        struct kql_token a = peek_after(p, &t);
        if (tok_is(p, &a, KQL_TOK_PUNCT, "~") && !a.space_before) {
          tilde = true;
          *consume_extra = 1;
        }
      }
      if (tilde) op = KQL_OP_IN_CI;
    } else if (tilde) {
      return 0;
    }
    if (op == KQL_OP_MATCHES && neg) return 0;
    return op | neg;
  }
  return 0;
}

static bool
parse_list(struct P *p, struct kql_node *n)
{
  if (!expect_punct(p, "(")) return false;
  while (!is_punct(p, ")") && !failed(p)) {
    struct kql_node *e = parse_expr(p);
    if (!e) return false;
    add_kid(p, n, e);
    if (is_punct(p, ","))
      next(p);
    else if (!is_punct(p, ")")) {
      expected(p, "',' or ')'");
      return false;
    }
  }
  n->loc.end = p->tok.end;
  next(p);
  return true;
}

static struct kql_node *
parse_cmp(struct P *p)
{
  struct kql_node *l = parse_add(p);
  while (l && !failed(p)) {
    int extra;
    struct kql_loc oploc = tloc(&p->tok);
    int op = cmp_op(p, &extra);
    if (!op) break;
    next(p);
    if (extra) next(p);
    int base = op & ~KQL_OP_NEGATE;
    if (base == KQL_OP_MATCHES) {
      if (!is_word(p, "regex")) {
        expected(p, "'regex' after 'matches'");
        return NULL;
      }
      next(p);
    }
    if (base == KQL_OP_IN || base == KQL_OP_IN_CI || base == KQL_OP_HAS_ANY ||
        base == KQL_OP_HAS_ALL) {
      struct kql_node *n = node(p, KQL_N_IN, span(l->loc, oploc));
      n->op = (uint8_t)op;
      add_kid(p, n, l);
      if (!parse_list(p, n)) return NULL;
      l = n;
      continue;
    }
    if (base == KQL_OP_BETWEEN) {
      struct kql_node *n = node(p, KQL_N_BETWEEN, span(l->loc, oploc));
      n->op = (uint8_t)op;
      add_kid(p, n, l);
      if (!expect_punct(p, "(")) return NULL;
      struct kql_node *lo = parse_add(p);
      if (!lo || !expect_punct(p, "..")) return NULL;
      struct kql_node *hi = parse_add(p);
      if (!hi) return NULL;
      n->loc.end = p->tok.end;
      if (!expect_punct(p, ")")) return NULL;
      add_kid(p, n, lo);
      add_kid(p, n, hi);
      l = n;
      continue;
    }
    struct kql_node *r = parse_add(p);
    if (!r) return NULL;
    l = binary(p, op, l, r);
  }
  return l;
}

static struct kql_node *
parse_and(struct P *p)
{
  struct kql_node *l = parse_cmp(p);
  while (l && is_word(p, "and")) {
    next(p);
    struct kql_node *r = parse_cmp(p);
    if (!r) return NULL;
    l = binary(p, KQL_OP_AND, l, r);
  }
  return l;
}

static struct kql_node *
parse_or(struct P *p)
{
  struct kql_node *l = parse_and(p);
  while (l && is_word(p, "or")) {
    next(p);
    struct kql_node *r = parse_and(p);
    if (!r) return NULL;
    l = binary(p, KQL_OP_OR, l, r);
  }
  return l;
}

/* ---------------------------------------------------------- operators */

static struct kql_tab *
tab_new(struct P *p, int kind, struct kql_loc loc)
{
  struct kql_tab *t = kql_zalloc(p->a, sizeof *t);
  t->kind = kind;
  t->loc = loc;
  return t;
}

static void
tab_push_e(struct P *p, struct kql_tab *t, struct kql_node *e)
{
  struct kql_node **ne = kql_alloc(p->a, (t->ne + 1) * sizeof *ne);
  if (t->ne) memcpy(ne, t->e, t->ne * sizeof *ne);
  ne[t->ne++] = e;
  t->e = ne;
}

static void
tab_push_by(struct P *p, struct kql_tab *t, struct kql_node *e)
{
  struct kql_node **ne = kql_alloc(p->a, (t->nby + 1) * sizeof *ne);
  if (t->nby) memcpy(ne, t->by, t->nby * sizeof *ne);
  ne[t->nby++] = e;
  t->by = ne;
}

static bool
at_stage_end(struct P *p)
{
  return p->tok.type == KQL_TOK_EOF || is_punct(p, "|") || is_punct(p, ";") ||
         is_punct(p, ")") || p->tok.blank_before;
}

/* name = expr, or expr (named later), or (a, b) = expr */
static struct kql_node *
parse_assign(struct P *p)
{
  struct kql_token t = p->tok;
  if (t.type == KQL_TOK_IDENT || is_punct(p, "[")) {
    struct kql_token a = peek_after(p, &t);
    bool bracket = is_punct(p, "[");
    if (bracket) {
      struct kql_token s = a;
      struct kql_token c = peek_after(p, &s);
      a = peek_after(p, &c);
      if (s.type != KQL_TOK_STRING) bracket = false;
    }
    if (tok_is(p, &a, KQL_TOK_PUNCT, "=")) {
      char *name;
      struct kql_loc nl;
      if (!parse_name(p, &name, &nl)) return NULL;
      next(p); /* '=' */
      struct kql_node *e = parse_expr(p);
      if (!e) return NULL;
      struct kql_node *n = node(p, KQL_N_ASSIGN, nl);
      n->name = name;
      n->nlen = (uint32_t)strlen(name);
      add_kid(p, n, e);
      return n;
    }
  }
  if (is_punct(p, "(")) {
    /* (a, b) = expr */
    struct kql_token a = peek_after(p, &t);
    struct kql_token b = peek_after(p, &a);
    if (a.type == KQL_TOK_IDENT && (tok_is(p, &b, KQL_TOK_PUNCT, ",") ||
                                    tok_is(p, &b, KQL_TOK_PUNCT, ")"))) {
      struct kql_loc loc = tloc(&p->tok);
      next(p);
      struct vec names = {0};
      while (p->tok.type == KQL_TOK_IDENT) {
        vpush(p, &names, tok_text(p, &p->tok));
        next(p);
        if (is_punct(p, ",")) next(p);
      }
      if (!expect_punct(p, ")") || !expect_punct(p, "=")) return NULL;
      struct kql_node *e = parse_expr(p);
      if (!e) return NULL;
      struct kql_node *n = node(p, KQL_N_ASSIGN, loc);
      n->names = (char **)names.v;
      n->nnames = names.n;
      add_kid(p, n, e);
      return n;
    }
  }
  struct kql_node *e = parse_expr(p);
  if (!e) return NULL;
  struct kql_node *n = node(p, KQL_N_ASSIGN, e->loc);
  add_kid(p, n, e);
  return n;
}

static bool
parse_assign_list(struct P *p, struct kql_tab *t, bool by)
{
  for (;;) {
    struct kql_node *a = parse_assign(p);
    if (!a) return false;
    if (by)
      tab_push_by(p, t, a);
    else
      tab_push_e(p, t, a);
    if (!is_punct(p, ",")) return true;
    next(p);
  }
}

/* A column name or wildcard pattern: Name, Na*, *, ['x'] */
static struct kql_node *
parse_pattern(struct P *p)
{
  if (is_punct(p, "[")) {
    char *name;
    struct kql_loc nl;
    if (!parse_name(p, &name, &nl)) return NULL;
    struct kql_node *n = node(p, KQL_N_NAME, nl);
    n->name = name;
    n->nlen = (uint32_t)strlen(name);
    return n;
  }
  if (p->tok.type != KQL_TOK_IDENT && !is_punct(p, "*")) {
    expected(p, "a column name");
    return NULL;
  }
  uint32_t start = p->tok.start, end = p->tok.end;
  next(p);
  while ((p->tok.type == KQL_TOK_IDENT || is_punct(p, "*") ||
          p->tok.type == KQL_TOK_INT) &&
         !p->tok.space_before && p->tok.start == end) {
    end = p->tok.end;
    next(p);
  }
  struct kql_loc loc = {start, end};
  struct kql_node *n = node(p, KQL_N_NAME, loc);
  n->name = kql_memdup(p->a, p->s + start, end - start);
  n->nlen = end - start;
  if (memchr(n->name, '*', n->nlen)) n->flags |= 0x40; /* wildcard */
  return n;
}

static bool
parse_pattern_list(struct P *p, struct kql_tab *t)
{
  for (;;) {
    struct kql_node *n = parse_pattern(p);
    if (!n) return false;
    /* project-reorder: optional asc/desc after each */
    if (is_word(p, "asc") || is_word(p, "desc") || is_word(p, "granny")) {
      n->op = is_word(p, "desc") ? 2 : 1;
      next(p);
      if (is_punct(p, "-") && !p->tok.space_before) {
        next(p); /* granny-asc, granny-desc */
        if (is_word(p, "desc")) n->op = 2;
        next(p);
      }
    }
    tab_push_e(p, t, n);
    if (!is_punct(p, ",")) return true;
    next(p);
  }
}

static bool
parse_sortkeys(struct P *p, struct kql_tab *t)
{
  struct vec keys = {0};
  for (;;) {
    struct kql_node *e = parse_expr(p);
    if (!e) return false;
    struct kql_sortkey *k = kql_zalloc(p->a, sizeof *k);
    k->e = e;
    k->desc = true;
    if (is_word(p, "asc")) {
      k->desc = false;
      next(p);
    } else if (is_word(p, "desc")) {
      next(p);
    }
    k->nulls_first = !k->desc;
    if (is_word(p, "nulls")) {
      next(p);
      if (is_word(p, "first"))
        k->nulls_first = true;
      else if (is_word(p, "last"))
        k->nulls_first = false;
      else {
        expected(p, "'first' or 'last'");
        return false;
      }
      next(p);
    }
    vpush(p, &keys, k);
    if (!is_punct(p, ",")) break;
    next(p);
  }
  t->nkeys = keys.n;
  t->keys = kql_alloc(p->a, (keys.n ? keys.n : 1) * sizeof *t->keys);
  for (uint32_t i = 0; i < keys.n; i++)
    t->keys[i] = *(struct kql_sortkey *)keys.v[i];
  return true;
}

/* name=value options before an operator's body (kind=inner, hint.x=y):
 * only the names in allowed (NULL-terminated) or starting with "hint.". */
static bool
parse_option(struct P *p, char **name, char **value, const char *const *allowed)
{
  if (p->tok.type != KQL_TOK_IDENT) return false;
  bool ok = is_word(p, "hint");
  for (size_t i = 0; allowed && allowed[i] && !ok; i++)
    ok = is_word(p, allowed[i]);
  if (!ok) return false;
  /* hint.strategy=... : ident . ident = value */
  struct kql_token t = p->tok;
  struct kql_token a = peek_after(p, &t);
  size_t start = t.start;
  struct kql_token last = t;
  while (tok_is(p, &a, KQL_TOK_PUNCT, ".")) {
    struct kql_token b = peek_after(p, &a);
    if (b.type != KQL_TOK_IDENT) return false;
    last = b;
    a = peek_after(p, &b);
  }
  if (!tok_is(p, &a, KQL_TOK_PUNCT, "=")) return false;
  struct kql_token v = peek_after(p, &a);
  if (v.type != KQL_TOK_IDENT && v.type != KQL_TOK_STRING &&
      v.type != KQL_TOK_INT)
    return false;
  *name = kql_memdup(p->a, p->s + start, last.end - start);
  if (v.type == KQL_TOK_STRING)
    *value = (char *)kql_lex_string(p->a, p->s, &v).u.s;
  else
    *value = tok_text(p, &v);
  p->tok = v;
  next(p);
  return true;
}

static struct kql_table *parse_datatable(struct P *p);

/* A plugin's arguments: expressions, or name = expression (named
 * arguments become ASSIGN nodes). p->tok is '('. */
static bool
parse_plugin_args(struct P *p, struct kql_node *call)
{
  next(p);
  while (!is_punct(p, ")") && !failed(p)) {
    struct kql_node *a;
    struct kql_token nx = peek_after(p, &p->tok);
    if (p->tok.type == KQL_TOK_IDENT && tok_is(p, &nx, KQL_TOK_PUNCT, "=")) {
      a = node(p, KQL_N_ASSIGN, tloc(&p->tok));
      a->name = tok_text(p, &p->tok);
      a->nlen = p->tok.end - p->tok.start;
      next(p);
      next(p);
      struct kql_node *v = parse_expr(p);
      if (!v) return false;
      add_kid(p, a, v);
    } else {
      a = parse_expr(p);
      if (!a) return false;
    }
    add_kid(p, call, a);
    if (is_punct(p, ","))
      next(p);
    else if (!is_punct(p, ")")) {
      expected(p, "',' or ')'");
      return false;
    }
  }
  call->loc.end = p->tok.end;
  return expect_punct(p, ")");
}

static bool
parse_parse_op(struct P *p, struct kql_tab *t)
{
  char *on, *ov;
  t->pkind = 0;
  static const char *const popts[] = {"kind", "flags", NULL};
  while (parse_option(p, &on, &ov, popts)) {
    if (!strcmp(on, "kind")) {
      if (!strcmp(ov, "regex"))
        t->pkind = 1;
      else if (!strcmp(ov, "relaxed"))
        t->pkind = 2;
      else if (!strcmp(ov, "simple"))
        t->pkind = 0;
      else {
        err_at(p, t->loc, "unknown parse kind '%s'", ov);
        return false;
      }
    } else if (!strcmp(on, "flags")) {
      t->regex_flags = ov;
    }
  }
  t->subject = parse_expr(p);
  if (!t->subject) return false;
  if (!is_word(p, "with")) {
    expected(p, "'with'");
    return false;
  }
  next(p);
  struct vec items = {0};
  while (!at_stage_end(p) && !failed(p)) {
    struct kql_pitem *it = kql_zalloc(p->a, sizeof *it);
    it->loc = tloc(&p->tok);
    it->type = KQL_T_STRING;
    if (p->tok.type == KQL_TOK_STRING) {
      struct kql_val v = kql_lex_string(p->a, p->s, &p->tok);
      it->text = (char *)v.u.s;
      it->n = v.n;
      next(p);
    } else if (is_punct(p, "*")) {
      it->star = true;
      next(p);
    } else if (p->tok.type == KQL_TOK_IDENT) {
      it->is_col = true;
      it->text = tok_text(p, &p->tok);
      it->n = p->tok.end - p->tok.start;
      next(p);
      if (is_punct(p, ":")) {
        next(p);
        if (p->tok.type != KQL_TOK_IDENT ||
            kql_type_parse(p->s + p->tok.start, p->tok.end - p->tok.start) <
                0) {
          expected(p, "a type name");
          return false;
        }
        it->type =
            kql_type_parse(p->s + p->tok.start, p->tok.end - p->tok.start);
        next(p);
      }
    } else {
      expected(p, "a string, '*' or a column name");
      return false;
    }
    vpush(p, &items, it);
  }
  t->nitems = items.n;
  t->items = kql_alloc(p->a, (items.n ? items.n : 1) * sizeof *t->items);
  for (uint32_t i = 0; i < items.n; i++)
    t->items[i] = *(struct kql_pitem *)items.v[i];
  return true;
}

/* scan [with_match_id = Name] [declare (Col: type [= default], ...)]
 * with (step Name [output = all | last | none] : Cond
 *       [=> Col = Expr, ...]; ...) */
static bool
parse_scan(struct P *p, struct kql_tab *t)
{
  char *on, *ov;
  static const char *const sopts[] = {"with_match_id", NULL};
  while (parse_option(p, &on, &ov, sopts))
    if (!strcmp(on, "with_match_id")) t->name = ov;
  struct vec items = {0};
  if (is_word(p, "declare")) {
    next(p);
    if (!expect_punct(p, "(")) return false;
    while (!is_punct(p, ")") && !failed(p)) {
      struct kql_pitem *it = kql_zalloc(p->a, sizeof *it);
      it->is_col = true;
      if (!parse_name(p, &it->text, &it->loc)) return false;
      it->n = (uint32_t)strlen(it->text);
      if (!expect_punct(p, ":")) return false;
      int ty =
          p->tok.type == KQL_TOK_IDENT
              ? kql_type_parse(p->s + p->tok.start, p->tok.end - p->tok.start)
              : -1;
      if (ty < 0) {
        expected(p, "a type name");
        return false;
      }
      it->type = ty;
      next(p);
      struct kql_node *def = NULL;
      if (is_punct(p, "=")) {
        next(p);
        if (!(def = parse_expr(p))) return false;
      }
      vpush(p, &items, it);
      tab_push_by(p, t, def);
      if (is_punct(p, ","))
        next(p);
      else if (!is_punct(p, ")")) {
        expected(p, "',' or ')'");
        return false;
      }
    }
    next(p);
  }
  t->nitems = items.n;
  t->items = kql_alloc(p->a, (items.n + 1) * sizeof *t->items);
  for (uint32_t i = 0; i < items.n; i++)
    t->items[i] = *(struct kql_pitem *)items.v[i];
  if (!is_word(p, "with")) {
    expected(p, "'with'");
    return false;
  }
  next(p);
  if (!expect_punct(p, "(")) return false;
  struct vec steps = {0};
  while (is_word(p, "step") && !failed(p)) {
    struct kql_step *st = kql_zalloc(p->a, sizeof *st);
    st->loc = tloc(&p->tok);
    next(p);
    struct kql_loc nl;
    if (!parse_name(p, &st->name, &nl)) return false;
    if (is_word(p, "output")) {
      next(p);
      if (!expect_punct(p, "=")) return false;
      st->output = is_word(p, "all")    ? 0
                   : is_word(p, "last") ? 1
                   : is_word(p, "none") ? 2
                                        : -1;
      if (st->output < 0) {
        expected(p, "all, last or none");
        return false;
      }
      next(p);
    }
    if (!expect_punct(p, ":")) return false;
    if (!(st->cond = parse_expr(p))) return false;
    if (is_punct(p, "=>")) {
      next(p);
      struct kql_tab tmp;
      memset(&tmp, 0, sizeof tmp);
      if (!parse_assign_list(p, &tmp, false)) return false;
      st->assign = tmp.e;
      st->nassign = tmp.ne;
    }
    if (!expect_punct(p, ";")) return false;
    vpush(p, &steps, st);
  }
  if (!steps.n) {
    expected(p, "'step'");
    return false;
  }
  if (!expect_punct(p, ")")) return false;
  t->nsteps = steps.n;
  t->steps = kql_alloc(p->a, steps.n * sizeof *t->steps);
  for (uint32_t i = 0; i < steps.n; i++)
    t->steps[i] = *(struct kql_step *)steps.v[i];
  return true;
}

/* top-nested [N] of [Name =] Expr by [Name =] Agg [asc | desc]
 * [, top-nested ...] */
static bool
parse_top_nested(struct P *p, struct kql_tab *t)
{
  struct vec keys = {0};
  for (;;) {
    struct kql_sortkey *k = kql_zalloc(p->a, sizeof *k);
    k->desc = true;
    if (!is_word(p, "of")) {
      k->e = parse_add(p);
      if (!k->e) return false;
    }
    if (!is_word(p, "of")) {
      expected(p, "'of'");
      return false;
    }
    next(p);
    struct kql_node *key = parse_assign(p);
    if (!key) return false;
    if (is_word(p, "with")) {
      err_at(p, tloc(&p->tok), "top-nested 'with others' is not supported");
      return false;
    }
    if (!is_word(p, "by")) {
      expected(p, "'by'");
      return false;
    }
    next(p);
    struct kql_node *agg = parse_assign(p);
    if (!agg) return false;
    if (is_word(p, "asc") || is_word(p, "desc")) {
      k->desc = is_word(p, "desc");
      next(p);
    }
    tab_push_e(p, t, key);
    tab_push_by(p, t, agg);
    vpush(p, &keys, k);
    /* , top-nested ... */
    if (!is_punct(p, ",")) break;
    struct kql_token a = peek_after(p, &p->tok);
    struct kql_token b = peek_after(p, &a);
    struct kql_token c = peek_after(p, &b);
    if (!tok_is(p, &a, KQL_TOK_IDENT, "top") ||
        !tok_is(p, &b, KQL_TOK_PUNCT, "-") ||
        !tok_is(p, &c, KQL_TOK_IDENT, "nested"))
      break;
    p->tok = c;
    next(p);
  }
  t->nkeys = keys.n;
  t->keys = kql_alloc(p->a, (keys.n + 1) * sizeof *t->keys);
  for (uint32_t i = 0; i < keys.n; i++)
    t->keys[i] = *(struct kql_sortkey *)keys.v[i];
  return true;
}

/* make-series [kind=nonempty] [Name =] Agg [default = v], ...
 * on Axis [from F] [to T] step S | on Axis in range(F, T, S)
 * [by [Name =] Expr, ...] */
static bool
parse_make_series(struct P *p, struct kql_tab *t)
{
  char *on, *ov;
  static const char *const opts[] = {"kind", NULL};
  while (parse_option(p, &on, &ov, opts))
    if (!strcmp(on, "kind")) t->pkind = !strcmp(ov, "nonempty");
  for (;;) {
    struct kql_node *a = parse_assign(p);
    if (!a) return false;
    if (is_word(p, "default")) {
      next(p);
      if (!expect_punct(p, "=")) return false;
      struct kql_node *d = parse_expr(p);
      if (!d) return false;
      add_kid(p, a, d);
    }
    tab_push_e(p, t, a);
    if (!is_punct(p, ",")) break;
    next(p);
  }
  if (!is_word(p, "on")) {
    expected(p, "'on'");
    return false;
  }
  next(p);
  t->subject = parse_add(p);
  if (!t->subject) return false;
  if (is_word(p, "in")) {
    next(p);
    if (!is_word(p, "range")) {
      expected(p, "'range'");
      return false;
    }
    next(p);
    struct kql_node *r = node(p, KQL_N_CALL, tloc(&p->tok));
    if (!parse_list(p, r)) return false;
    if (r->nkids != 3) {
      err_at(p, r->loc, "expected range(start, stop, step)");
      return false;
    }
    t->from = r->kids[0];
    t->to = r->kids[1];
    t->step = r->kids[2];
  } else {
    if (is_word(p, "from")) {
      next(p);
      if (!(t->from = parse_add(p))) return false;
    }
    if (is_word(p, "to")) {
      next(p);
      if (!(t->to = parse_add(p))) return false;
    }
    if (!is_word(p, "step")) {
      expected(p, "'step'");
      return false;
    }
    next(p);
    if (!(t->step = parse_add(p))) return false;
  }
  if (is_word(p, "by")) {
    next(p);
    if (!parse_assign_list(p, t, true)) return false;
  }
  return true;
}

/* parse-kv Expr as (Key:type, ...) [with (name = value, ...)] */
static bool
parse_parsekv(struct P *p, struct kql_tab *t)
{
  t->subject = parse_expr(p);
  if (!t->subject) return false;
  if (!is_word(p, "as")) {
    expected(p, "'as'");
    return false;
  }
  next(p);
  if (!expect_punct(p, "(")) return false;
  struct vec items = {0};
  while (!is_punct(p, ")") && !failed(p)) {
    struct kql_pitem *it = kql_zalloc(p->a, sizeof *it);
    it->is_col = true;
    it->loc = tloc(&p->tok);
    if (!parse_name(p, &it->text, &it->loc)) return false;
    it->n = (uint32_t)strlen(it->text);
    it->type = KQL_T_STRING;
    if (is_punct(p, ":")) {
      next(p);
      int ty =
          p->tok.type == KQL_TOK_IDENT
              ? kql_type_parse(p->s + p->tok.start, p->tok.end - p->tok.start)
              : -1;
      if (ty < 0) {
        expected(p, "a type name");
        return false;
      }
      it->type = ty;
      next(p);
    }
    vpush(p, &items, it);
    if (is_punct(p, ","))
      next(p);
    else if (!is_punct(p, ")")) {
      expected(p, "',' or ')'");
      return false;
    }
  }
  next(p);
  t->nitems = items.n;
  t->items = kql_alloc(p->a, (items.n ? items.n : 1) * sizeof *t->items);
  for (uint32_t i = 0; i < items.n; i++)
    t->items[i] = *(struct kql_pitem *)items.v[i];
  if (!is_word(p, "with")) return true;
  next(p);
  struct kql_node *opts = node(p, KQL_N_CALL, tloc(&p->tok));
  if (!is_punct(p, "(")) {
    expected(p, "'('");
    return false;
  }
  if (!parse_plugin_args(p, opts)) return false;
  for (uint32_t i = 0; i < opts->nkids; i++) {
    if (opts->kids[i]->kind != KQL_N_ASSIGN) {
      err_at(p, opts->kids[i]->loc, "expected name = value");
      return false;
    }
    tab_push_e(p, t, opts->kids[i]);
  }
  return true;
}

static bool
parse_mvexpand(struct P *p, struct kql_tab *t)
{
  char *on, *ov;
  t->limit = -1;
  static const char *const mopts[] = {"kind", "bagexpansion", "with_itemindex",
                                      NULL};
  while (parse_option(p, &on, &ov, mopts)) {
    if (!strcmp(on, "with_itemindex"))
      t->name = ov;
    else if ((!strcmp(on, "kind") || !strcmp(on, "bagexpansion")) &&
             !strcmp(ov, "array"))
      t->pkind = 1;
  }
  for (;;) {
    struct kql_node *a = parse_assign(p);
    if (!a) return false;
    if (is_word(p, "to")) {
      next(p);
      if (!is_word(p, "typeof")) {
        expected(p, "'typeof'");
        return false;
      }
      next(p);
      const char *s;
      size_t n;
      struct kql_loc in;
      if (!is_punct(p, "(")) {
        expected(p, "'('");
        return false;
      }
      if (!raw_paren(p, &s, &n, &in)) return false;
      int ty = kql_type_parse(s, n);
      if (ty < 0) {
        err_at(p, in, "unknown type");
        return false;
      }
      a->type = (uint8_t)ty;
    }
    tab_push_e(p, t, a);
    if (!is_punct(p, ",")) break;
    next(p);
  }
  if (is_word(p, "limit")) {
    next(p);
    if (p->tok.type != KQL_TOK_INT) {
      expected(p, "a number");
      return false;
    }
    t->limit = strtoll(p->s + p->tok.start, NULL, 10);
    next(p);
  }
  return true;
}

static bool
parse_join(struct P *p, struct kql_tab *t)
{
  char *on, *ov;
  t->jkind = t->kind == KQL_TAB_LOOKUP ? 1 : 0; /* lookup: leftouter */
  static const char *const jopts[] = {"kind", NULL};
  while (parse_option(p, &on, &ov, jopts)) {
    if (!strcmp(on, "kind")) {
      /* The order gives the kind numbers kql_op_join.c uses. */
      static const char *const kinds[] = {
          "innerunique", "leftouter",    "inner",     "leftanti",
          "leftsemi",    "rightouter",   "fullouter", "rightsemi",
          "rightanti",   "leftantisemi", "anti",      "rightantisemi"};
      int k = -1;
      for (int i = 0; i < 12; i++)
        if (!strcmp(ov, kinds[i])) k = i;
      if (k < 0) {
        err_at(p, t->loc,
               "unknown join kind '%s' (innerunique, inner, leftouter, "
               "leftanti, leftsemi, rightouter, fullouter, rightsemi, "
               "rightanti)",
               ov);
        return false;
      }
      if (k == 9 || k == 10) k = 3;
      if (k == 11) k = 8;
      t->jkind = k;
    }
  }
  if (is_punct(p, "(")) {
    next(p);
    t->right = parse_tabular(p, false);
    if (!t->right || !expect_punct(p, ")")) return false;
  } else {
    t->right = parse_tabular(p, false);
    if (!t->right) return false;
  }
  if (!is_word(p, "on")) {
    expected(p, "'on'");
    return false;
  }
  next(p);
  for (;;) {
    struct kql_node *e = parse_expr(p);
    if (!e) return false;
    tab_push_e(p, t, e);
    if (is_word(p, "and")) {
      next(p);
      continue;
    }
    if (!is_punct(p, ",")) break;
    next(p);
  }
  return true;
}

/* The word of an operator, joined over '-' (project-away, mv-expand). */
static size_t
op_word(struct P *p, char *out, size_t cap, struct kql_loc *loc)
{
  struct kql_token t = p->tok;
  *loc = tloc(&t);
  if (t.type != KQL_TOK_IDENT) return 0;
  size_t n = t.end - t.start;
  if (n >= cap) return 0;
  memcpy(out, p->s + t.start, n);
  out[n] = 0;
  struct kql_token a = peek_after(p, &t);
  while (tok_is(p, &a, KQL_TOK_PUNCT, "-") && !a.space_before) {
    struct kql_token b = peek_after(p, &a);
    if (b.type != KQL_TOK_IDENT || b.space_before) break;
    size_t bn = b.end - b.start;
    if (n + 1 + bn >= cap) break;
    out[n++] = '-';
    memcpy(out + n, p->s + b.start, bn);
    n += bn;
    out[n] = 0;
    t = b;
    a = peek_after(p, &t);
  }
  loc->end = t.end;
  p->tok = t;
  next(p);
  return n;
}

static const char *const op_names =
    "where, extend, project, project-away, project-keep, project-rename, "
    "project-reorder, project-by-names, take, limit, parse, parse-where, "
    "parse-kv, mv-expand, mv-apply, summarize, count, distinct, top, "
    "top-nested, sort, order, join, lookup, union, evaluate, make-series, "
    "reduce, scan, partition, invoke, as";

/* Tabular operators that may open a query without a table name: the
 * input stream is implied (some-tool | kqlfilter 'where x > 5'). */
static const char *const lead_ops[] = {
    "as",           "count",          "distinct",
    "evaluate",     "extend",         "filter",
    "invoke",       "join",           "limit",
    "lookup",       "make-series",    "mv-apply",
    "mv-expand",    "order",          "parse",
    "parse-kv",     "parse-where",    "partition",
    "project",      "project-away",   "project-by-names",
    "project-keep", "project-rename", "project-reorder",
    "reduce",       "scan",           "serialize",
    "sort",         "summarize",      "take",
    "top",          "top-nested",     "union",
    "where"};

/* The query starts with an operator word followed by its arguments
 * (not by '|', ';' or the end): the stream is the source. */
static bool
leading_operator(struct P *p)
{
  char w[64];
  struct kql_loc loc;
  struct kql_token save = p->tok;
  size_t n = op_word(p, w, sizeof w, &loc);
  struct kql_token after = p->tok;
  p->tok = save;
  if (!n) return false;
  if (after.type == KQL_TOK_EOF || after.blank_before ||
      tok_is(p, &after, KQL_TOK_PUNCT, "|") ||
      tok_is(p, &after, KQL_TOK_PUNCT, ";") ||
      tok_is(p, &after, KQL_TOK_PUNCT, ")"))
    return false;
  for (size_t i = 0; i < sizeof lead_ops / sizeof lead_ops[0]; i++)
    if (!strcmp(w, lead_ops[i])) return true;
  return false;
}

static struct kql_tab *
parse_stage(struct P *p)
{
  char w[64];
  struct kql_loc loc;
  if (p->tok.type != KQL_TOK_IDENT) {
    expected(p, "an operator name");
    return NULL;
  }
  if (!op_word(p, w, sizeof w, &loc)) {
    expected(p, "an operator name");
    return NULL;
  }
  struct kql_tab *t = NULL;
  if (!strcmp(w, "where") || !strcmp(w, "filter")) {
    t = tab_new(p, KQL_TAB_WHERE, loc);
    struct kql_node *e = parse_expr(p);
    if (!e) return NULL;
    tab_push_e(p, t, e);
  } else if (!strcmp(w, "extend") || !strcmp(w, "project") ||
             !strcmp(w, "serialize")) {
    t = tab_new(p,
                w[0] == 'e'   ? KQL_TAB_EXTEND
                : w[0] == 'p' ? KQL_TAB_PROJECT
                              : KQL_TAB_SERIALIZE,
                loc);
    if (t->kind == KQL_TAB_SERIALIZE && at_stage_end(p)) return t;
    if (!parse_assign_list(p, t, false)) return NULL;
  } else if (!strcmp(w, "project-away") || !strcmp(w, "project-keep") ||
             !strcmp(w, "project-reorder")) {
    t = tab_new(p,
                w[8] == 'a'   ? KQL_TAB_PROJECT_AWAY
                : w[8] == 'k' ? KQL_TAB_PROJECT_KEEP
                              : KQL_TAB_PROJECT_REORDER,
                loc);
    if (!parse_pattern_list(p, t)) return NULL;
  } else if (!strcmp(w, "project-by-names")) {
    t = tab_new(p, KQL_TAB_PROJECT_BY_NAMES, loc);
    for (;;) {
      struct kql_node *e = parse_expr(p);
      if (!e) return NULL;
      tab_push_e(p, t, e);
      if (!is_punct(p, ",")) break;
      next(p);
    }
  } else if (!strcmp(w, "project-rename")) {
    t = tab_new(p, KQL_TAB_PROJECT_RENAME, loc);
    if (!parse_assign_list(p, t, false)) return NULL;
    for (uint32_t i = 0; i < t->ne; i++)
      if (!t->e[i]->name || t->e[i]->kids[0]->kind != KQL_N_NAME) {
        err_at(p, t->e[i]->loc, "expected NewName = ExistingName");
        return NULL;
      }
  } else if (!strcmp(w, "take") || !strcmp(w, "limit")) {
    t = tab_new(p, KQL_TAB_TAKE, loc);
    t->count = parse_expr(p);
    if (!t->count) return NULL;
  } else if (!strcmp(w, "parse") || !strcmp(w, "parse-where")) {
    t = tab_new(p, KQL_TAB_PARSE, loc);
    t->drop = w[5] == '-';
    if (!parse_parse_op(p, t)) return NULL;
  } else if (!strcmp(w, "make-series")) {
    t = tab_new(p, KQL_TAB_MAKE_SERIES, loc);
    if (!parse_make_series(p, t)) return NULL;
  } else if (!strcmp(w, "parse-kv")) {
    t = tab_new(p, KQL_TAB_PARSE_KV, loc);
    if (!parse_parsekv(p, t)) return NULL;
  } else if (!strcmp(w, "mv-expand")) {
    t = tab_new(p, KQL_TAB_MVEXPAND, loc);
    if (!parse_mvexpand(p, t)) return NULL;
  } else if (!strcmp(w, "mv-apply")) {
    /* mv-expand's list, then on ( subquery ): stages with no source */
    t = tab_new(p, KQL_TAB_MV_APPLY, loc);
    if (!parse_mvexpand(p, t)) return NULL;
    if (!is_word(p, "on")) {
      expected(p, "'on'");
      return NULL;
    }
    next(p);
    struct kql_loc sl = tloc(&p->tok);
    if (!expect_punct(p, "(")) return NULL;
    t->right = tab_new(p, KQL_TAB_TABLE, sl);
    struct kql_tab *tail = t->right;
    for (;;) {
      if (is_punct(p, "|")) next(p);
      struct kql_tab *st = parse_stage(p);
      if (!st) return NULL;
      tail->next = st;
      tail = st;
      if (!is_punct(p, "|")) break;
    }
    if (!expect_punct(p, ")")) return NULL;
  } else if (!strcmp(w, "summarize")) {
    t = tab_new(p, KQL_TAB_SUMMARIZE, loc);
    char *on, *ov;
    while (parse_option(p, &on, &ov, NULL))
      ;
    if (!is_word(p, "by") && !at_stage_end(p))
      if (!parse_assign_list(p, t, false)) return NULL;
    if (is_word(p, "by")) {
      next(p);
      if (!parse_assign_list(p, t, true)) return NULL;
    }
  } else if (!strcmp(w, "count")) {
    t = tab_new(p, KQL_TAB_COUNT, loc);
    t->name = "Count";
    if (is_word(p, "as")) {
      next(p);
      char *name;
      struct kql_loc nl;
      if (!parse_name(p, &name, &nl)) return NULL;
      t->name = name;
    }
  } else if (!strcmp(w, "distinct")) {
    t = tab_new(p, KQL_TAB_DISTINCT, loc);
    if (is_punct(p, "*")) {
      next(p);
    } else if (!parse_assign_list(p, t, false)) {
      return NULL;
    }
  } else if (!strcmp(w, "top")) {
    t = tab_new(p, KQL_TAB_TOP, loc);
    t->count = parse_expr(p);
    if (!t->count) return NULL;
    if (!is_word(p, "by")) {
      expected(p, "'by'");
      return NULL;
    }
    next(p);
    if (!parse_sortkeys(p, t)) return NULL;
  } else if (!strcmp(w, "sort") || !strcmp(w, "order")) {
    t = tab_new(p, KQL_TAB_SORT, loc);
    if (!is_word(p, "by")) {
      expected(p, "'by'");
      return NULL;
    }
    next(p);
    if (!parse_sortkeys(p, t)) return NULL;
  } else if (!strcmp(w, "join") || !strcmp(w, "lookup")) {
    t = tab_new(p, w[0] == 'j' ? KQL_TAB_JOIN : KQL_TAB_LOOKUP, loc);
    if (!parse_join(p, t)) return NULL;
  } else if (!strcmp(w, "union")) {
    t = tab_new(p, KQL_TAB_UNION, loc);
    char *on, *ov;
    static const char *const uopts[] = {"kind", "withsource", "isfuzzy", NULL};
    while (parse_option(p, &on, &ov, uopts))
      if (!strcmp(on, "withsource")) t->name = ov;
    struct vec srcs = {0};
    for (;;) {
      struct kql_tab *s;
      if (is_punct(p, "(")) {
        next(p);
        s = parse_tabular(p, false);
        if (!s || !expect_punct(p, ")")) return NULL;
      } else {
        s = parse_tabular(p, false);
        if (!s) return NULL;
      }
      vpush(p, &srcs, s);
      if (!is_punct(p, ",")) break;
      next(p);
    }
    t->srcs = (struct kql_tab **)srcs.v;
    t->nsrcs = srcs.n;
  } else if (!strcmp(w, "evaluate")) {
    char *on, *ov;
    while (parse_option(p, &on, &ov, NULL))
      ;
    if (p->tok.type != KQL_TOK_IDENT) {
      expected(p, "a plugin name");
      return NULL;
    }
    struct kql_node *c = node(p, KQL_N_CALL, tloc(&p->tok));
    c->name = tok_text(p, &p->tok);
    c->nlen = p->tok.end - p->tok.start;
    next(p);
    if (!is_punct(p, "(")) {
      expected(p, "'('");
      return NULL;
    }
    if (!parse_plugin_args(p, c)) return NULL;
    t = tab_new(
        p, strcmp(c->name, "bag_unpack") ? KQL_TAB_PLUGIN : KQL_TAB_BAGUNPACK,
        loc);
    t->name = c->name;
    tab_push_e(p, t, c);
  } else if (!strcmp(w, "partition")) {
    /* partition [hints] by Column ( stages ) | { query } */
    t = tab_new(p, KQL_TAB_PARTITION, loc);
    char *on, *ov;
    while (parse_option(p, &on, &ov, NULL))
      ;
    if (!is_word(p, "by")) {
      expected(p, "'by'");
      return NULL;
    }
    next(p);
    char *col;
    struct kql_loc cl;
    if (!parse_name(p, &col, &cl)) return NULL;
    t->subject = node(p, KQL_N_NAME, cl);
    t->subject->name = col;
    t->subject->nlen = (uint32_t)strlen(col);
    if (is_punct(p, "{")) {
      next(p);
      t->pkind = 1;
      t->right = parse_tabular(p, false);
      if (!t->right || !expect_punct(p, "}")) return NULL;
    } else {
      struct kql_loc sl = tloc(&p->tok);
      if (!expect_punct(p, "(")) return NULL;
      t->right = tab_new(p, KQL_TAB_TABLE, sl);
      struct kql_tab *tail = t->right;
      for (;;) {
        if (is_punct(p, "|")) next(p);
        struct kql_tab *st = parse_stage(p);
        if (!st) return NULL;
        tail->next = st;
        tail = st;
        if (!is_punct(p, "|")) break;
      }
      if (!expect_punct(p, ")")) return NULL;
    }
  } else if (!strcmp(w, "scan")) {
    t = tab_new(p, KQL_TAB_SCAN, loc);
    if (!parse_scan(p, t)) return NULL;
  } else if (!strcmp(w, "top-nested")) {
    t = tab_new(p, KQL_TAB_TOP_NESTED, loc);
    if (!parse_top_nested(p, t)) return NULL;
  } else if (!strcmp(w, "reduce")) {
    /* reduce [kind=source] by Expr [with name = value, ...] */
    t = tab_new(p, KQL_TAB_REDUCE, loc);
    char *on, *ov;
    static const char *const ropts[] = {"kind", NULL};
    if (parse_option(p, &on, &ov, ropts)) {
      err_at(p, loc, "reduce %s=%s is not supported", on, ov);
      return NULL;
    }
    if (!is_word(p, "by")) {
      expected(p, "'by'");
      return NULL;
    }
    next(p);
    t->subject = parse_expr(p);
    if (!t->subject) return NULL;
    if (is_word(p, "with")) {
      next(p);
      for (;;) {
        struct kql_node *a = parse_assign(p);
        if (!a) return NULL;
        if (!a->name) {
          err_at(p, a->loc, "expected name = value");
          return NULL;
        }
        tab_push_e(p, t, a);
        if (!is_punct(p, ",")) break;
        next(p);
      }
    }
  } else if (!strcmp(w, "invoke")) {
    t = tab_new(p, KQL_TAB_INVOKE, loc);
    struct kql_node *c = parse_postfix(p);
    if (!c) return NULL;
    if (c->kind != KQL_N_CALL) {
      err_at(p, c->loc, "expected a function call after invoke");
      return NULL;
    }
    tab_push_e(p, t, c);
  } else if (!strcmp(w, "as")) {
    t = tab_new(p, KQL_TAB_AS, loc);
    char *on, *ov;
    while (parse_option(p, &on, &ov, NULL))
      ;
    char *name;
    struct kql_loc nl;
    if (!parse_name(p, &name, &nl)) return NULL;
    t->name = name;
  } else {
    err_at(p, loc, "unknown operator '%s'; expected one of: %s", w, op_names);
    return NULL;
  }
  return t;
}

/* datatable(a:type, ...) [ v, v, ... ]; p->tok is '(' */
static struct kql_table *
parse_datatable(struct P *p)
{
  struct kql_table *tb = kql_zalloc(p->a, sizeof *tb);
  if (!expect_punct(p, "(")) return NULL;
  struct vec cols = {0}, types = {0};
  while (!is_punct(p, ")") && !failed(p)) {
    char *name;
    struct kql_loc nl;
    if (!parse_name(p, &name, &nl)) return NULL;
    if (!expect_punct(p, ":")) return NULL;
    int ty =
        p->tok.type == KQL_TOK_IDENT
            ? kql_type_parse(p->s + p->tok.start, p->tok.end - p->tok.start)
            : -1;
    if (ty < 0) {
      expected(p, "a type name");
      return NULL;
    }
    next(p);
    vpush(p, &cols, name);
    int *tp = kql_alloc(p->a, sizeof *tp);
    *tp = ty;
    vpush(p, &types, tp);
    if (is_punct(p, ",")) next(p);
  }
  next(p);
  tb->ncols = cols.n;
  tb->cols = (char **)cols.v;
  tb->types = kql_alloc(p->a, cols.n + 1);
  for (uint32_t i = 0; i < cols.n; i++)
    tb->types[i] = (uint8_t) * (int *)types.v[i];
  if (!expect_punct(p, "[")) return NULL;
  struct vec cells = {0};
  while (!is_punct(p, "]") && !failed(p)) {
    struct kql_loc vl = tloc(&p->tok);
    struct kql_node *e = parse_expr(p);
    if (!e) return NULL;
    struct kql_val v;
    if (e->kind == KQL_N_LIT) {
      v = e->lit;
    } else {
      err_at(p, span(vl, e->loc), "expected a constant in datatable rows");
      return NULL;
    }
    struct kql_val *cv = kql_alloc(p->a, sizeof *cv);
    *cv = v;
    vpush(p, &cells, cv);
    if (is_punct(p, ","))
      next(p);
    else if (!is_punct(p, "]")) {
      expected(p, "',' or ']'");
      return NULL;
    }
  }
  next(p);
  if (!tb->ncols || cells.n % tb->ncols) {
    err_at(p, tloc(&p->tok),
           "datatable has %u values, not a multiple of %u columns", cells.n,
           tb->ncols);
    return NULL;
  }
  tb->nrows = cells.n / tb->ncols;
  tb->cells = kql_alloc(p->a, (cells.n ? cells.n : 1) * sizeof *tb->cells);
  for (uint32_t i = 0; i < cells.n; i++) {
    struct kql_val *v = cells.v[i];
    int ty = tb->types[i % tb->ncols];
    tb->cells[i] = kql_convert(p->a, v, ty);
    if (ty == KQL_T_DYNAMIC && !v->null) tb->cells[i] = kql_dyn_wrap(v);
  }
  return tb;
}

static struct kql_let *find_let(struct P *p, const char *name, size_t n);

/* The source of a query, then its | stages. */
static struct kql_tab *
parse_tabular(struct P *p, bool top)
{
  if (failed(p)) return NULL;
  if (++p->depth > MAX_NEST) {
    err_at(p, tloc(&p->tok), "query nested too deeply");
    return NULL;
  }
  struct kql_tab *head = NULL;
  struct kql_loc loc = tloc(&p->tok);
  if (is_punct(p, "|")) {
    head = tab_new(p, KQL_TAB_SOURCE, loc);
  } else if (is_word(p, "datatable")) {
    next(p);
    head = tab_new(p, KQL_TAB_TABLE, loc);
    head->table = parse_datatable(p);
    if (!head->table) return NULL;
  } else if (is_word(p, "print")) {
    next(p);
    head = tab_new(p, KQL_TAB_PRINT, loc);
    if (!at_stage_end(p) && !parse_assign_list(p, head, false)) return NULL;
  } else if (is_word(p, "range")) {
    next(p);
    head = tab_new(p, KQL_TAB_RANGE, loc);
    char *name;
    struct kql_loc nl;
    if (!parse_name(p, &name, &nl)) return NULL;
    head->name = name;
    struct kql_node *from, *to, *step;
    if (!is_word(p, "from")) {
      expected(p, "'from'");
      return NULL;
    }
    next(p);
    if (!(from = parse_expr(p))) return NULL;
    if (!is_word(p, "to")) {
      expected(p, "'to'");
      return NULL;
    }
    next(p);
    if (!(to = parse_expr(p))) return NULL;
    if (!is_word(p, "step")) {
      expected(p, "'step'");
      return NULL;
    }
    next(p);
    if (!(step = parse_expr(p))) return NULL;
    tab_push_e(p, head, from);
    tab_push_e(p, head, to);
    tab_push_e(p, head, step);
  } else if (is_punct(p, "(")) {
    next(p);
    head = parse_tabular(p, false);
    if (!head || !expect_punct(p, ")")) return NULL;
  } else if (top && p->tok.type == KQL_TOK_IDENT && leading_operator(p)) {
    head = tab_new(p, KQL_TAB_SOURCE, loc);
    struct kql_tab *st = parse_stage(p);
    if (!st) return NULL;
    head->next = st;
  } else if (p->tok.type == KQL_TOK_IDENT || is_punct(p, "[")) {
    char *name;
    struct kql_loc nl;
    if (!parse_name(p, &name, &nl)) return NULL;
    struct kql_let *l = find_let(p, name, strlen(name));
    if (l && l->kind == 1) {
      head = tab_new(p, KQL_TAB_TABLE, nl);
      head->name = name;
    } else {
      head = tab_new(p, KQL_TAB_SOURCE, nl);
      head->name = name;
    }
    if (is_punct(p, "(") && l && l->kind == 2) {
      /* a tabular function call: F(args); the binder runs it */
      if (!l->tab) {
        err_at(p, nl, "'%s' is a scalar function, not a table", name);
        return NULL;
      }
      head->kind = KQL_TAB_TABLE;
      struct kql_node *c = node(p, KQL_N_CALL, nl);
      c->name = name;
      c->nlen = (uint32_t)strlen(name);
      parse_args(p, c);
      tab_push_e(p, head, c);
    }
  } else {
    expected(p, "a table name or '|'");
    return NULL;
  }
  /* Walk to the end of a nested pipeline before adding stages. */
  struct kql_tab *tail = head;
  while (tail->next)
    tail = tail->next;
  while (is_punct(p, "|") && !(top && p->tok.blank_before && tail != head)) {
    next(p);
    struct kql_tab *st = parse_stage(p);
    if (!st) return NULL;
    tail->next = st;
    tail = st;
  }
  p->depth--;
  return head;
}

/* ---------------------------------------------------------- statements */

static struct kql_let *
find_let(struct P *p, const char *name, size_t n)
{
  struct kql_prog *g = p->prog;
  for (uint32_t i = g->nlets; i-- > 0;)
    if (strlen(g->lets[i].name) == n && !memcmp(g->lets[i].name, name, n))
      return &g->lets[i];
  return NULL;
}

static void
add_let(struct P *p, const struct kql_let *l)
{
  struct kql_prog *g = p->prog;
  struct kql_let *nl = kql_alloc(p->a, (g->nlets + 1) * sizeof *nl);
  if (g->nlets) memcpy(nl, g->lets, g->nlets * sizeof *nl);
  nl[g->nlets++] = *l;
  g->lets = nl;
}

static bool
parse_let(struct P *p)
{
  struct kql_let l;
  memset(&l, 0, sizeof l);
  l.loc = tloc(&p->tok);
  next(p); /* let */
  struct kql_loc nl;
  if (!parse_name(p, &l.name, &nl)) return false;
  if (!expect_punct(p, "=")) return false;
  if (is_word(p, "view")) {
    struct kql_token a = peek_after(p, &p->tok);
    if (tok_is(p, &a, KQL_TOK_PUNCT, "(")) next(p);
  }
  struct kql_token a = peek_after(p, &p->tok);
  struct kql_token b = peek_after(p, &a);
  bool func = is_punct(p, "(") &&
              (tok_is(p, &a, KQL_TOK_PUNCT, ")") ||
               (a.type == KQL_TOK_IDENT && tok_is(p, &b, KQL_TOK_PUNCT, ":")));
  if (func) {
    l.kind = 2;
    next(p);
    struct vec names = {0}, types = {0}, defs = {0};
    while (!is_punct(p, ")") && !failed(p)) {
      char *pn;
      struct kql_loc pl;
      if (!parse_name(p, &pn, &pl)) return false;
      if (!expect_punct(p, ":")) return false;
      int ty = -1;
      if (is_punct(p, "(")) {
        /* a tabular parameter, T:(*) or T:(a:long, ...): the columns
         * it needs are not checked */
        int depth = 0;
        do {
          if (is_punct(p, "(")) depth++;
          if (is_punct(p, ")")) depth--;
          next(p);
        } while (depth > 0 && p->tok.type != KQL_TOK_EOF && !failed(p));
        ty = KQL_PARAM_TABLE;
      } else {
        if (p->tok.type == KQL_TOK_IDENT)
          ty = kql_type_parse(p->s + p->tok.start, p->tok.end - p->tok.start);
        if (ty < 0) {
          expected(p, "a type name");
          return false;
        }
        next(p);
      }
      struct kql_node *def = NULL;
      if (is_punct(p, "=")) {
        next(p);
        def = parse_expr(p);
        if (!def) return false;
      }
      vpush(p, &names, pn);
      uint8_t *tp = kql_alloc(p->a, 1);
      *tp = (uint8_t)ty;
      vpush(p, &types, tp);
      vpush(p, &defs, def);
      if (is_punct(p, ",")) next(p);
    }
    next(p);
    l.params = (char **)names.v;
    l.nparams = names.n;
    l.ptypes = kql_alloc(p->a, names.n + 1);
    for (uint32_t i = 0; i < names.n; i++)
      l.ptypes[i] = *(uint8_t *)types.v[i];
    l.pdefaults = (struct kql_node **)defs.v;
    if (!expect_punct(p, "{")) return false;
    /* Inner lets become part of the function: keep them as a list. */
    struct vec inner = {0};
    while (is_word(p, "let") && !failed(p)) {
      uint32_t before = p->prog->nlets;
      if (!parse_let(p)) return false;
      struct kql_let *il = kql_alloc(p->a, sizeof *il);
      *il = p->prog->lets[p->prog->nlets - 1];
      p->prog->nlets = before;
      vpush(p, &inner, il);
      if (is_punct(p, ";")) next(p);
    }
    l.nfn_lets = inner.n;
    l.fn_lets = kql_alloc(p->a, (inner.n ? inner.n : 1) * sizeof *l.fn_lets);
    for (uint32_t i = 0; i < inner.n; i++)
      l.fn_lets[i] = *(struct kql_let *)inner.v[i];
    struct kql_token x = peek_after(p, &p->tok);
    bool tparam = false; /* the body is a tabular parameter */
    for (uint32_t i = 0; i < l.nparams && p->tok.type == KQL_TOK_IDENT; i++)
      if (l.ptypes[i] == KQL_PARAM_TABLE &&
          tok_is(p, &p->tok, KQL_TOK_IDENT, l.params[i]))
        tparam = true;
    struct kql_let *callee =
        p->tok.type == KQL_TOK_IDENT && tok_is(p, &x, KQL_TOK_PUNCT, "(")
            ? find_let(p, p->s + p->tok.start, p->tok.end - p->tok.start)
            : NULL;
    if (callee && (callee->kind != 2 || !callee->tab)) callee = NULL;
    if ((p->tok.type == KQL_TOK_IDENT && tok_is(p, &x, KQL_TOK_PUNCT, "|")) ||
        tparam || callee || is_word(p, "print") || is_word(p, "datatable") ||
        (is_word(p, "range") && !tok_is(p, &x, KQL_TOK_PUNCT, "("))) {
      /* a tabular function */
      l.tab = parse_tabular(p, false);
      if (!l.tab || !expect_punct(p, "}")) return false;
      add_let(p, &l);
      return true;
    }
    l.expr = parse_expr(p);
    if (!l.expr || !expect_punct(p, "}")) return false;
    add_let(p, &l);
    return true;
  }
  bool tabular =
      is_word(p, "datatable") ||
      (is_word(p, "range") && !tok_is(p, &a, KQL_TOK_PUNCT, "(")) ||
      is_word(p, "print") || is_word(p, "materialize") ||
      (p->tok.type == KQL_TOK_IDENT && tok_is(p, &a, KQL_TOK_PUNCT, "|"));
  if (tabular) {
    if (is_word(p, "materialize")) {
      next(p);
      if (!expect_punct(p, "(")) return false;
      l.tab = parse_tabular(p, false);
      if (!l.tab || !expect_punct(p, ")")) return false;
    } else {
      l.tab = parse_tabular(p, false);
      if (!l.tab) return false;
    }
    l.kind = 1;
    add_let(p, &l);
    return true;
  }
  l.kind = 0;
  l.expr = parse_expr(p);
  if (!l.expr) return false;
  add_let(p, &l);
  return true;
}

int
kql_parse(struct kql_prog *g, const char *name, const char *text, size_t len)
{
  memset(g, 0, sizeof *g);
  kql_arena_init(&g->mem);
  g->src.name = name;
  g->src.text = text;
  g->src.len = len;
  struct P p = {g, text, len, {0, 0, 0, false, false}, &g->mem, 0};
  p.tok = kql_lex_next(text, len, 0);
  struct vec stmts = {0};
  while (p.tok.type != KQL_TOK_EOF && !failed(&p)) {
    if (is_punct(&p, ";")) {
      next(&p);
      continue;
    }
    if (is_word(&p, "let")) {
      if (!parse_let(&p)) break;
      if (is_punct(&p, ";"))
        next(&p);
      else if (p.tok.type != KQL_TOK_EOF && !p.tok.blank_before) {
        expected(&p, "';' after the let statement");
        break;
      }
      continue;
    }
    if (is_word(&p, "set") || is_word(&p, "declare")) {
      while (p.tok.type != KQL_TOK_EOF && !is_punct(&p, ";"))
        next(&p);
      continue;
    }
    struct kql_token start = p.tok;
    struct kql_tab *t = parse_tabular(&p, true);
    if (!t) break;
    struct kql_stmt *st = kql_zalloc(&g->mem, sizeof *st);
    st->tab = t;
    st->nlets = g->nlets;
    st->name = NULL;
    (void)start;
    vpush(&p, &stmts, st);
    if (is_punct(&p, ";") || p.tok.type == KQL_TOK_EOF) continue;
    if (p.tok.blank_before) continue;
    expected(&p, "'|' or the end of the query");
    break;
  }
  if (!failed(&p) && !stmts.n) {
    struct kql_loc end = {(uint32_t)len, (uint32_t)len};
    kql_prog_error(g, end, "the query has no tabular expression");
  }
  if (failed(&p)) return -1;
  g->nstmts = stmts.n;
  g->stmts = kql_alloc(&g->mem, stmts.n * sizeof *g->stmts);
  for (uint32_t i = 0; i < stmts.n; i++)
    g->stmts[i] = *(struct kql_stmt *)stmts.v[i];
  return 0;
}

void
kql_prog_free(struct kql_prog *g)
{
  kql_arena_free(&g->mem);
}
