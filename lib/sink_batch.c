/*
 * sink_batch.c - a batch of NDJSON rows with a stable random id
 * (see sink.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/sink.h"

#include "lib/uuid.h"

#include <stdlib.h>
#include <string.h>

/* Two v4 UUIDs as 64 hex digits; if the OS has no randomness left (it
 * always has), fall back on time and a counter, still unique per run. */
static void
new_id(char id[SINK_ID_LEN + 1])
{
  uint8_t u[16];
  static uint64_t fallback;
  for (int half = 0; half < 2; half++) {
    if (uuid_v4(u) != 0) {
      uint64_t t = sink_now_ms() ^ (++fallback << 40);
      memset(u, 0, sizeof u);
      memcpy(u, &t, sizeof t);
      u[6] = (uint8_t)((u[6] & 0x0F) | 0x40);
      u[8] = (uint8_t)((u[8] & 0x3F) | 0x80);
    }
    uuid_fmt_n(u, id + 32 * half);
  }
  id[SINK_ID_LEN] = '\0';
}

struct sink_batch *
sink_batch_new(void)
{
  struct sink_batch *b = calloc(1, sizeof *b);
  if (b) new_id(b->id);
  return b;
}

void
sink_batch_free(struct sink_batch *b)
{
  if (!b) return;
  free(b->buf);
  free(b->spool_path);
  free(b);
}

void
sink_batch_clear(struct sink_batch *b)
{
  b->len = 0;
  b->rows = 0;
  b->born_ms = 0;
  b->first_line = 0;
  free(b->spool_path);
  b->spool_path = NULL;
  new_id(b->id);
}

int
sink_batch_reserve(struct sink_batch *b, size_t n)
{
  if (b->cap - b->len >= n) return 0;
  if (n > SIZE_MAX / 2 - b->len) return -1;
  size_t nc = b->cap ? b->cap : 64 * 1024;
  while (nc - b->len < n)
    nc *= 2;
  char *nb = realloc(b->buf, nc);
  if (!nb) return -1;
  b->buf = nb;
  b->cap = nc;
  return 0;
}

int
sink_batch_add(struct sink_batch *b, const char *row, size_t n)
{
  if (sink_batch_reserve(b, n + 1) != 0) return -1;
  memcpy(b->buf + b->len, row, n);
  b->buf[b->len + n] = '\n';
  b->len += n + 1;
  b->rows++;
  return 0;
}
