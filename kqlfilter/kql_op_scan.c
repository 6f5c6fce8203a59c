/*
 * kql_op_scan.c - the scan operator, as the reference's "scan logic"
 * describes it.
 *
 * Step k's state is k + 1 records (one per step 0..k) of the row's
 * columns, or empty. Each row is checked against the steps from the
 * last to the first:
 *   check 1: step k - 1 has a state and the row meets step k's
 *     condition: that state moves to step k, extended by the row
 *     (with step k's assignments), which is output;
 *   check 2 (only when check 1 failed): step k has a state, or k is the
 *     first step, and the row meets the condition: the row replaces
 *     step k's own record; a first step whose state was empty starts a
 *     new sequence (the match id grows by one).
 * StepName.Column reads the state being checked (step k - 1's for check
 * 1, step k's for check 2); the declared columns start from their
 * defaults for every check. output=none never writes the step's rows,
 * output=last only the last of a run of matches of that step.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_exec.h"

#include <stdlib.h>
#include <string.h>

struct scan_state {
  bool active;
  int64_t mid;
  struct kql_val *rec; /* (k + 1) * ncols */
  struct kql_arena mem;
};

struct scan_st {
  struct kql_scan_spec s;
  struct scan_state *state;
  int64_t next_mid;
  struct kql_row **pending; /* output=last: the step's last row */
  struct kql_arena *pmem;
};

/* Load StepName.Column slots from state (records 0..nrec-1). */
static void
load_refs(struct scan_st *st, struct kql_row *r, const struct scan_state *from,
          uint32_t nrec)
{
  const struct kql_scan_spec *s = &st->s;
  for (uint32_t j = 0; j < s->nsteps; j++)
    for (uint32_t c = 0; c < s->ncols; c++)
      r->v[s->ref_slots[j * s->ncols + c]] = from && j < nrec
                                                 ? from->rec[j * s->ncols + c]
                                                 : kql_v_null(KQL_T_DYNAMIC);
}

static void
reset_decl(struct scan_st *st, struct kql_row *r)
{
  for (uint32_t i = 0; i < st->s.ndecl; i++)
    r->v[st->s.decl_slots[i]] = st->s.decl_defaults[i];
}

static void
assign(struct kql_op *op, struct kql_row *r, uint32_t k)
{
  struct scan_st *st = op->st;
  struct kql_ctx c = {op->q, &op->q->rowmem, r};
  const struct kql_scan_step *ss = &st->s.steps[k];
  for (uint32_t i = 0; i < ss->nassign; i++) {
    struct kql_val v;
    kql_eval(&c, ss->assign[i], &v);
    r->v[ss->assign_slots[i]] = v;
  }
}

/* State k becomes records 0..k-1 of src (may be NULL) plus the row as
 * record k. */
static void
set_state(struct scan_st *st, uint32_t k, const struct kql_val *src,
          const struct kql_row *r, int64_t mid)
{
  const struct kql_scan_spec *s = &st->s;
  struct kql_arena fresh;
  kql_arena_init_small(&fresh, 4096);
  struct kql_val *rec =
      kql_alloc(&fresh, ((size_t)(k + 1) * s->ncols + 1) * sizeof *rec);
  for (uint32_t j = 0; j < k; j++)
    for (uint32_t c = 0; c < s->ncols; c++)
      rec[j * s->ncols + c] = src ? kql_val_copy(&fresh, &src[j * s->ncols + c])
                                  : kql_v_null(KQL_T_DYNAMIC);
  for (uint32_t c = 0; c < s->ncols; c++)
    rec[k * s->ncols + c] = kql_val_copy(&fresh, &r->v[s->col_slots[c]]);
  struct scan_state *dst = &st->state[k];
  kql_arena_free(&dst->mem);
  dst->mem = fresh;
  dst->rec = rec;
  dst->active = true;
  dst->mid = mid;
}

static void
clear_state(struct scan_st *st, uint32_t k)
{
  kql_arena_free(&st->state[k].mem);
  kql_arena_init(&st->state[k].mem);
  st->state[k].active = false;
  st->state[k].rec = NULL;
}

static void
flush_pending(struct kql_op *op, uint32_t k)
{
  struct scan_st *st = op->st;
  if (!st->pending[k]) return;
  kql_push(op, st->pending[k]);
  st->pending[k] = NULL;
  kql_arena_reset(&st->pmem[k]);
}

/* After a match at step k the state may have freed what the row's
 * values point at: read them back from the state's own copy of the row,
 * and forget the StepName.Column values. */
static void
repoint(struct scan_st *st, struct kql_row *r, uint32_t k)
{
  const struct kql_scan_spec *s = &st->s;
  const struct kql_val *rec = &st->state[k].rec[(size_t)k * s->ncols];
  for (uint32_t c = 0; c < s->ncols; c++)
    r->v[s->col_slots[c]] = rec[c];
  load_refs(st, r, NULL, 0);
}

static void
emit(struct kql_op *op, struct kql_row *r, uint32_t k, int64_t mid)
{
  struct scan_st *st = op->st;
  repoint(st, r, k);
  if (st->s.mid_slot >= 0) r->v[st->s.mid_slot] = kql_v_long(mid);
  int out = st->s.steps[k].output;
  if (out == 2) return;
  if (out == 1) {
    kql_arena_reset(&st->pmem[k]);
    st->pending[k] = kql_row_store(op->q, &st->pmem[k], r);
    return;
  }
  kql_push(op, r);
}

static void
scan_row(struct kql_op *op, struct kql_row *r)
{
  struct scan_st *st = op->st;
  const struct kql_scan_spec *s = &st->s;
  struct kql_ctx c = {op->q, &op->q->rowmem, r};
  for (uint32_t k = s->nsteps; k-- > 0;) {
    if (k > 0 && st->state[k - 1].active) {
      load_refs(st, r, &st->state[k - 1], k);
      reset_decl(st, r);
      if (kql_eval_bool(&c, s->steps[k].cond)) {
        assign(op, r, k);
        int64_t mid = st->state[k - 1].mid;
        flush_pending(op, k - 1);
        set_state(st, k, st->state[k - 1].rec, r, mid);
        clear_state(st, k - 1);
        emit(op, r, k, mid);
        continue;
      }
    }
    if (k == 0 || st->state[k].active) {
      bool was = st->state[k].active;
      load_refs(st, r, was ? &st->state[k] : NULL, k + 1);
      reset_decl(st, r);
      if (kql_eval_bool(&c, s->steps[k].cond)) {
        assign(op, r, k);
        int64_t mid = was ? st->state[k].mid : st->next_mid++;
        set_state(st, k, was ? st->state[k].rec : NULL, r, mid);
        emit(op, r, k, mid);
      }
    }
  }
}

static void
scan_end(struct kql_op *op)
{
  struct scan_st *st = op->st;
  for (uint32_t k = 0; k < st->s.nsteps; k++)
    flush_pending(op, k);
  kql_end(op);
}

static void
scan_free(struct kql_op *op)
{
  struct scan_st *st = op->st;
  for (uint32_t k = 0; k < st->s.nsteps; k++) {
    kql_arena_free(&st->state[k].mem);
    kql_arena_free(&st->pmem[k]);
  }
  free(st->state);
  free(st->pending);
  free(st->pmem);
  free(st);
}

static const struct kql_opvt scan_vt = {scan_row, scan_end, scan_free};

struct kql_op *
kql_op_scan(struct kql_query *q, const struct kql_scan_spec *spec)
{
  struct kql_op *op = kql_xcalloc(1, sizeof *op);
  struct scan_st *st = kql_xcalloc(1, sizeof *st);
  st->s = *spec;
  st->state = kql_xcalloc(spec->nsteps + 1, sizeof *st->state);
  st->pending = kql_xcalloc(spec->nsteps + 1, sizeof *st->pending);
  st->pmem = kql_xcalloc(spec->nsteps + 1, sizeof *st->pmem);
  for (uint32_t k = 0; k < spec->nsteps; k++) {
    kql_arena_init(&st->state[k].mem);
    kql_arena_init_small(&st->pmem[k], 4096);
  }
  op->vt = &scan_vt;
  op->q = q;
  op->st = st;
  return op;
}
