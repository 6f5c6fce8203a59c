/*
 * kql_op_parse.c - the parse and parse-where operators (kinds simple,
 * relaxed, regex).
 *
 * The pattern becomes one regex anchored at the start: constants match
 * literally (regex kind: as regex text), '*' and each column match
 * lazily, a column at the very end takes the rest of the text. Columns
 * are then converted to their declared types: in simple mode one failed
 * conversion fails the whole match (all columns null), in relaxed mode
 * only that column is null. A string column that did not match is "".
 * parse-where drops the rows that do not match or fail a conversion.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parse_st {
  struct kql_node *subject;
  struct kql_regex *re;
  int *slots; /* per capture group */
  uint8_t *types;
  int ngroups;
  int kind;
  bool drop; /* parse-where */
  long *caps;
};

static void
set_nulls(struct parse_st *st, struct kql_row *r)
{
  for (int g = 0; g < st->ngroups; g++)
    r->v[st->slots[g]] = st->types[g] == KQL_T_STRING
                             ? kql_v_str("", 0)
                             : kql_v_null(st->types[g]);
}

static void
parse_row(struct kql_op *op, struct kql_row *r)
{
  struct parse_st *st = op->st;
  struct kql_ctx c = {op->q, &op->q->rowmem, r};
  struct kql_val v;
  kql_eval(&c, st->subject, &v);
  struct kql_val s =
      v.t == KQL_T_STRING && !v.null ? v : kql_to_string(c.a, &v);
  if (!kql_regex_search(st->re, s.u.s, s.n, 0, st->caps)) {
    if (st->drop) return;
    set_nulls(st, r);
    kql_push(op, r);
    return;
  }
  for (int g = 0; g < st->ngroups; g++) {
    long b = st->caps[2 * (g + 1)], e = st->caps[2 * (g + 1) + 1];
    struct kql_val t =
        b >= 0 ? kql_v_str(s.u.s + b, (size_t)(e - b)) : kql_v_str("", 0);
    struct kql_val cv =
        st->types[g] == KQL_T_STRING ? t : kql_convert(c.a, &t, st->types[g]);
    if (cv.null && (st->kind == 0 || st->drop)) {
      if (st->drop) return;
      set_nulls(st, r);
      kql_push(op, r);
      return;
    }
    r->v[st->slots[g]] = cv;
  }
  kql_push(op, r);
}

static void
parse_end(struct kql_op *op)
{
  kql_end(op);
}

static void
parse_free(struct kql_op *op)
{
  struct parse_st *st = op->st;
  kql_regex_free(st->re);
  free(st->slots);
  free(st->types);
  free(st->caps);
  free(st);
}

static const struct kql_opvt parse_vt = {parse_row, parse_end, parse_free};

static void
put(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
  if (*len + n + 1 > *cap) {
    while (*len + n + 1 > *cap)
      *cap = *cap ? *cap * 2 : 256;
    *buf = kql_xrealloc(*buf, *cap);
  }
  memcpy(*buf + *len, s, n);
  *len += n;
  (*buf)[*len] = 0;
}

struct kql_op *
kql_op_parse(struct kql_query *q, struct kql_tab *t, int *slots)
{
  char *re = NULL;
  size_t len = 0, cap = 0;
  put(&re, &len, &cap, "^", 1);
  int ng = 0;
  for (uint32_t i = 0; i < t->nitems; i++) {
    struct kql_pitem *it = &t->items[i];
    bool last = i + 1 == t->nitems;
    if (it->star) {
      put(&re, &len, &cap, last ? ".*" : ".*?", last ? 2 : 3);
    } else if (it->is_col) {
      /* Numbers match their digits (so "n:long *" stops after them);
       * relaxed mode falls back to any text, which then reads as null. */
      const char *g;
      if (it->type == KQL_T_LONG || it->type == KQL_T_INT)
        g = t->pkind == 2 ? "(-?\\d+|.*?)" : "(-?\\d+)";
      else if (it->type == KQL_T_REAL || it->type == KQL_T_DECIMAL)
        g = t->pkind == 2 ? "(-?\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?|.*?)"
                          : "(-?\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?)";
      else
        g = last ? "(.*)" : "(.*?)";
      put(&re, &len, &cap, g, strlen(g));
      ng++;
    } else if (t->pkind == 1) {
      put(&re, &len, &cap, it->text, it->n);
    } else {
      for (uint32_t k = 0; k < it->n; k++) {
        char ch = it->text[k];
        if (strchr("\\.^$|?*+()[]{}", ch) && ch) {
          char e[2] = {'\\', ch};
          put(&re, &len, &cap, e, 2);
        } else {
          put(&re, &len, &cap, &ch, 1);
        }
      }
    }
  }
  int flags = KQL_RE_DOTALL;
  if (t->regex_flags) {
    if (strchr(t->regex_flags, 'i')) flags |= KQL_RE_ICASE;
    if (strchr(t->regex_flags, 'm')) flags |= KQL_RE_MULTILINE;
  }
  char err[256];
  struct kql_regex *rx = kql_regex_compile(re, len, flags, err, sizeof err);
  free(re);
  if (!rx) {
    snprintf(q->run->err, sizeof q->run->err, "invalid parse pattern: %s", err);
    return NULL;
  }
  struct parse_st *st = kql_xcalloc(1, sizeof *st);
  st->subject = t->subject;
  st->re = rx;
  st->kind = t->pkind;
  st->drop = t->drop;
  st->ngroups = kql_regex_ngroups(rx);
  st->slots = kql_xcalloc((size_t)st->ngroups + 1, sizeof *st->slots);
  st->types = kql_xcalloc((size_t)st->ngroups + 1, 1);
  st->caps = kql_xcalloc((size_t)(2 * st->ngroups + 2), sizeof *st->caps);
  int g = 0;
  for (uint32_t i = 0; i < t->nitems && g < st->ngroups; i++)
    if (t->items[i].is_col) {
      st->slots[g] = slots[i];
      st->types[g] = (uint8_t)t->items[i].type;
      g++;
    }
  if (g != st->ngroups) {
    /* a regex-kind constant held groups of its own */
    snprintf(q->run->err, sizeof q->run->err,
             "parse pattern constants must not contain regex groups");
    kql_regex_free(rx);
    free(st->slots);
    free(st->types);
    free(st->caps);
    free(st);
    return NULL;
  }
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  op->vt = &parse_vt;
  op->q = q;
  op->st = st;
  return op;
}
