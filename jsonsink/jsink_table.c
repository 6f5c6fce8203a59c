/*
 * jsink_table.c - rows as a human table, sized to the terminal.
 *
 * The columns are the keys of the first batch's rows (at most
 * DISCOVER_ROWS of them), in order of first appearance; each column is as
 * wide as its widest value there, within MAX_COL, and the widest columns
 * shrink until the line fits the terminal. Later keys are not shown.
 * Values longer than their column are cut and end in "~". Strings show
 * without quotes, objects and arrays as compact JSON, null as nothing.
 * For people, not for programs: rows are parsed with jansson here.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "jsonsink/jsink.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define DISCOVER_ROWS 50
#define MAX_COLS 64
#define MAX_COL 40
#define MIN_COL 3
#define GAP 2

struct jsink_table {
  size_t ncols;
  char *names[MAX_COLS];
  size_t width[MAX_COLS];
  bool header_done;
};

/* Display width of UTF-8 text: one column per code point. */
static size_t
text_width(const char *s, size_t n)
{
  size_t w = 0;
  for (size_t i = 0; i < n; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) w++;
  return w;
}

/* A value as display text, malloc'd (NULL on out of memory). */
static char *
value_text(json_t *v)
{
  char *s;
  if (!v || json_is_null(v)) {
    s = calloc(1, 1);
  } else if (json_is_string(v)) {
    size_t n = json_string_length(v);
    s = malloc(n + 1);
    if (s) {
      memcpy(s, json_string_value(v), n);
      s[n] = '\0';
    }
  } else {
    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  }
  if (s)
    for (char *p = s; *p; p++)
      if ((unsigned char)*p < 0x20)
        *p = ' '; /* a newline inside a value would break the row */
  return s;
}

static int
add_text(struct jsink *j, const char *s, size_t n)
{
  if (jsink_stage_reserve(j, n) != 0) return -1;
  memcpy(j->stage + j->stage_len, s, n);
  j->stage_len += n;
  return 0;
}

/* One cell: s cut or padded to width w (in display columns). */
static int
add_cell(struct jsink *j, const char *s, size_t w, bool last)
{
  size_t n = strlen(s), tw = text_width(s, n);
  if (tw > w) {
    size_t keep = 0, cols = 0; /* bytes for w - 1 columns, then "~" */
    while (keep < n && cols < w - 1) {
      keep++;
      while (keep < n && ((unsigned char)s[keep] & 0xC0) == 0x80)
        keep++;
      cols++;
    }
    if (add_text(j, s, keep) != 0 || add_text(j, "~", 1) != 0) return -1;
    tw = w;
  } else if (add_text(j, s, n) != 0) {
    return -1;
  }
  if (last) return 0;
  size_t pad = w - tw + GAP;
  if (jsink_stage_reserve(j, pad) != 0) return -1;
  memset(j->stage + j->stage_len, ' ', pad);
  j->stage_len += pad;
  return 0;
}

static int
end_line(struct jsink *j)
{
  while (j->stage_len && j->stage[j->stage_len - 1] == ' ')
    j->stage_len--;
  return add_text(j, "\n", 1);
}

static int
find_col(const struct jsink_table *t, const char *key)
{
  for (size_t i = 0; i < t->ncols; i++)
    if (strcmp(t->names[i], key) == 0) return (int)i;
  return -1;
}

static void
discover(struct jsink_table *t, json_t **objs, size_t n)
{
  for (size_t r = 0; r < n; r++) {
    const char *key;
    json_t *v;
    json_object_foreach(objs[r], key, v)
    {
      int c = find_col(t, key);
      if (c < 0 && t->ncols < MAX_COLS) {
        size_t kl = strlen(key);
        char *copy = malloc(kl + 1);
        if (!copy) continue;
        memcpy(copy, key, kl + 1);
        c = (int)t->ncols++;
        t->names[c] = copy;
        t->width[c] = text_width(key, kl);
      }
      if (c < 0) continue;
      char *s = value_text(v);
      if (s) {
        size_t w = text_width(s, strlen(s));
        if (w > t->width[c]) t->width[c] = w;
        free(s);
      }
    }
  }
  for (size_t i = 0; i < t->ncols; i++) {
    if (t->width[i] > MAX_COL) t->width[i] = MAX_COL;
    if (t->width[i] < MIN_COL) t->width[i] = MIN_COL;
  }
}

/* Shrink the widest columns, then drop columns, until a line fits. */
static void
fit(struct jsink_table *t, int term)
{
  for (;;) {
    size_t total = 0, widest = 0;
    for (size_t i = 0; i < t->ncols; i++) {
      total += t->width[i] + (i ? GAP : 0);
      if (t->width[i] > t->width[widest]) widest = i;
    }
    if (total <= (size_t)term || t->ncols == 0) return;
    if (t->width[widest] > 8) {
      t->width[widest]--;
      continue;
    }
    free(t->names[--t->ncols]);
  }
}

static int
header(struct jsink *j, struct jsink_table *t)
{
  for (size_t i = 0; i < t->ncols; i++)
    if (add_cell(j, t->names[i], t->width[i], i + 1 == t->ncols) != 0)
      return -1;
  if (end_line(j) != 0) return -1;
  for (size_t i = 0; i < t->ncols; i++) {
    if (jsink_stage_reserve(j, t->width[i] + GAP) != 0) return -1;
    memset(j->stage + j->stage_len, '-', t->width[i]);
    j->stage_len += t->width[i];
    if (i + 1 < t->ncols) {
      memset(j->stage + j->stage_len, ' ', GAP);
      j->stage_len += GAP;
    }
  }
  return end_line(j);
}

int
jsink_table_rows(struct jsink *j, const char *rows, size_t len, size_t nrows)
{
  struct jsink_table *t = j->table;
  if (!t) {
    t = calloc(1, sizeof *t);
    if (!t) return -1;
    j->table = t;
  }
  json_t **objs = calloc(nrows ? nrows : 1, sizeof *objs);
  if (!objs) return -1;
  size_t n = 0;
  for (size_t off = 0; off < len && n < nrows;) {
    const char *nl = memchr(rows + off, '\n', len - off);
    size_t rl = (size_t)(nl - (rows + off));
    objs[n] = json_loadb(rows + off, rl, JSON_ALLOW_NUL, NULL);
    if (objs[n] && json_is_object(objs[n]))
      n++;
    else if (objs[n])
      json_decref(objs[n]);
    off += rl + 1;
  }
  int r = 0;
  if (!t->header_done) {
    discover(t, objs, n < DISCOVER_ROWS ? n : DISCOVER_ROWS);
    fit(t, j->term_width);
    t->header_done = true;
    r = header(j, t);
  }
  for (size_t i = 0; i < n && r == 0; i++) {
    for (size_t c = 0; c < t->ncols && r == 0; c++) {
      char *s = value_text(json_object_get(objs[i], t->names[c]));
      r = s ? add_cell(j, s, t->width[c], c + 1 == t->ncols) : -1;
      free(s);
    }
    if (r == 0) r = end_line(j);
  }
  for (size_t i = 0; i < n; i++)
    json_decref(objs[i]);
  free(objs);
  return r;
}

void
jsink_table_free(struct jsink *j)
{
  struct jsink_table *t = j->table;
  if (!t) return;
  for (size_t i = 0; i < t->ncols; i++)
    free(t->names[i]);
  free(t);
  j->table = NULL;
}
