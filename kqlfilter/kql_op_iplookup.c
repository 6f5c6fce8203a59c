/*
 * kql_op_iplookup.c - evaluate ipv4_lookup / ipv6_lookup: each row's IP
 * address against a static table of networks (CIDR text).
 *
 * The networks are parsed once (kql_ip6_parse: IPv4 as IPv4-mapped
 * IPv6, so one code path serves both plugins). A row takes the matching
 * network with the longest prefix; a row with no match is dropped, or
 * passes with nulls in the table's columns when return_unmatched is set.
 * The scan is linear in the table's size.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_func.h"

#include <stdlib.h>
#include <string.h>

struct net {
  uint8_t b[16];
  int prefix; /* -1: not a network */
};

struct ipl_st {
  struct kql_table *t;
  int ip_slot;
  int *rslots;
  bool keep;
  struct net *nets;
};

static void
ipl_row(struct kql_op *op, struct kql_row *r)
{
  struct ipl_st *s = op->st;
  struct kql_ctx c = {op->q, &op->q->rowmem, r};
  const struct kql_val *v = &r->v[s->ip_slot];
  int64_t best = -1;
  if (!v->null) {
    struct kql_val txt = kql_fn_str(&c, v);
    uint8_t ip[16];
    int pfx;
    if (kql_ip6_parse(txt.u.s, txt.n, ip, &pfx))
      for (uint32_t i = 0; i < s->t->nrows; i++) {
        const struct net *n = &s->nets[i];
        if (n->prefix < 0 || !kql_ip6_in(ip, n->b, n->prefix)) continue;
        if (best < 0 || n->prefix > s->nets[best].prefix) best = i;
      }
  }
  if (best < 0 && !s->keep) return;
  for (uint32_t c2 = 0; c2 < s->t->ncols; c2++) {
    if (s->rslots[c2] < 0) continue;
    r->v[s->rslots[c2]] = best >= 0
                              ? s->t->cells[(size_t)best * s->t->ncols + c2]
                              : kql_v_null(s->t->types[c2]);
  }
  kql_push(op, r);
}

static void
ipl_end(struct kql_op *op)
{
  kql_end(op);
}

static void
ipl_free(struct kql_op *op)
{
  struct ipl_st *s = op->st;
  free(s->nets);
  free(s);
}

static const struct kql_opvt ipl_vt = {ipl_row, ipl_end, ipl_free};

struct kql_op *
kql_op_iplookup(struct kql_query *q, struct kql_table *t, int ip_slot,
                uint32_t net_col, int *rslots, bool keep_unmatched)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct ipl_st *s = kql_xcalloc(1, sizeof *s);
  s->t = t;
  s->ip_slot = ip_slot;
  s->rslots = rslots;
  s->keep = keep_unmatched;
  s->nets = kql_xcalloc(t->nrows + 1, sizeof *s->nets);
  for (uint32_t i = 0; i < t->nrows; i++) {
    const struct kql_val *v = &t->cells[(size_t)i * t->ncols + net_col];
    s->nets[i].prefix = -1;
    if (v->null || v->t != KQL_T_STRING) continue;
    if (!kql_ip6_parse(v->u.s, v->n, s->nets[i].b, &s->nets[i].prefix))
      s->nets[i].prefix = -1;
  }
  op->vt = &ipl_vt;
  op->q = q;
  op->st = s;
  return op;
}
