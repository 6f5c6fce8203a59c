/*
 * etl_merge.c - events of many buffers and files in time order.
 *
 * Records are time-ordered within a buffer but per-CPU buffers are
 * flushed out of order (etl-format.md section 7). The index gives each
 * buffer's first record time; buffers are admitted into a min-heap in
 * order of that time, and an event is emitted only when no unadmitted
 * buffer could hold an earlier one. So at most the buffers that overlap
 * in time are held in memory. Ties go to the earlier file, then the
 * earlier buffer in the file, as ProcessTrace does. With file_order the
 * key is the file position alone: one buffer at a time, in file order.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "etwcat/etl_reader.h"

#include <stdlib.h>
#include <string.h>

struct cursor {
  struct etl_file *file;
  const struct etl_bufinfo *buf;
  uint8_t *data;
  struct etl_walk walk;
  struct etl_event ev; /* the next event of this buffer */
  uint64_t seq;        /* file index << 32 | buffer index */
};

struct sched {
  int64_t first;
  uint64_t seq;
  struct etl_file *file;
  const struct etl_bufinfo *buf;
};

struct etl_merge {
  struct sched *order; /* buffers in admission order */
  size_t norder, next;
  struct cursor **heap;
  size_t nheap, capheap;
  struct cursor *current; /* returned last; advanced on the next call */
  bool file_order;
};

static bool
before(const struct etl_merge *m, const struct cursor *a,
       const struct cursor *b)
{
  if (!m->file_order && a->ev.time != b->ev.time)
    return a->ev.time < b->ev.time;
  return a->seq < b->seq;
}

static void
sift_down(struct etl_merge *m, size_t i)
{
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, s = i;
    if (l < m->nheap && before(m, m->heap[l], m->heap[s])) s = l;
    if (r < m->nheap && before(m, m->heap[r], m->heap[s])) s = r;
    if (s == i) return;
    struct cursor *t = m->heap[i];
    m->heap[i] = m->heap[s];
    m->heap[s] = t;
    i = s;
  }
}

static void
sift_up(struct etl_merge *m, size_t i)
{
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!before(m, m->heap[i], m->heap[p])) return;
    struct cursor *t = m->heap[i];
    m->heap[i] = m->heap[p];
    m->heap[p] = t;
    i = p;
  }
}

static int
cmp_sched(const void *pa, const void *pb)
{
  const struct sched *a = pa, *b = pb;
  if (a->first != b->first) return a->first < b->first ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int
cmp_seq(const void *pa, const void *pb)
{
  const struct sched *a = pa, *b = pb;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Move a cursor to its next event; false when the buffer is done. */
static bool
advance(struct cursor *c)
{
  for (;;) {
    switch (etl_walk_next(&c->walk, &c->ev)) {
    case ETL_EVENT:
      return true;
    case ETL_SKIP:
      continue;
    case ETL_END:
      return false;
    }
  }
}

static void
drop(struct cursor *c)
{
  free(c->data);
  free(c);
}

/* Load a scheduled buffer and put it on the heap if it has events. */
static int
admit(struct etl_merge *m, const struct sched *s)
{
  struct cursor *c = calloc(1, sizeof *c);
  if (!c) return -1;
  c->file = s->file;
  c->buf = s->buf;
  c->seq = s->seq;
  if (etl_file_load(s->file, s->buf, &c->data) != 0) {
    free(c);
    return 0; /* reported; the buffer is skipped */
  }
  c->walk.file = s->file;
  c->walk.buf = s->buf;
  c->walk.data = c->data;
  c->walk.pos = ETL_BUF_HDR;
  c->walk.end = s->buf->filled;
  if (!advance(c)) {
    drop(c);
    return 0;
  }
  if (m->nheap == m->capheap) {
    size_t nc = m->capheap ? m->capheap * 2 : 16;
    struct cursor **nh = realloc(m->heap, nc * sizeof *nh);
    if (!nh) {
      drop(c);
      return -1;
    }
    m->heap = nh;
    m->capheap = nc;
  }
  m->heap[m->nheap++] = c;
  sift_up(m, m->nheap - 1);
  return 0;
}

struct etl_merge *
etl_merge_new(struct etl_file **files, size_t n, bool file_order)
{
  struct etl_merge *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->file_order = file_order;
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += files[i]->nbufs;
  m->order = calloc(total ? total : 1, sizeof *m->order);
  if (!m->order) {
    free(m);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < files[i]->nbufs; j++) {
      struct sched *s = &m->order[m->norder++];
      s->file = files[i];
      s->buf = &files[i]->bufs[j];
      s->first = s->buf->first;
      s->seq = (uint64_t)i << 32 | s->buf->index;
    }
  }
  qsort(m->order, m->norder, sizeof *m->order,
        file_order ? cmp_seq : cmp_sched);
  return m;
}

bool
etl_merge_next(struct etl_merge *m, struct etl_event *ev,
               struct etl_file **file)
{
  if (m->current) {
    /* The event returned last is consumed: move its buffer on. */
    struct cursor *c = m->current;
    m->current = NULL;
    if (advance(c)) {
      sift_down(m, 0);
    } else {
      m->heap[0] = m->heap[--m->nheap];
      drop(c);
      if (m->nheap) sift_down(m, 0);
    }
  }
  /* Admit every buffer that may hold an event due before the heap's
   * earliest. In file order, admit only when the heap is empty. */
  while (m->next < m->norder &&
         (m->nheap == 0 ||
          (!m->file_order && m->order[m->next].first <= m->heap[0]->ev.time)))
    if (admit(m, &m->order[m->next++]) != 0) return false;
  if (m->nheap == 0) return false;
  struct cursor *c = m->heap[0];
  m->current = c;
  *ev = c->ev;
  *file = c->file;
  return true;
}

void
etl_merge_free(struct etl_merge *m)
{
  if (!m) return;
  for (size_t i = 0; i < m->nheap; i++)
    drop(m->heap[i]);
  free(m->heap);
  free(m->order);
  free(m);
}
