/*
 * kql_regex.c - a small regular-expression engine with RE2's syntax.
 *
 * KQL regexes use RE2 syntax (no backreferences, no lookaround). The
 * pattern is parsed into a tree, compiled to a little instruction list
 * (char, class, any, split, jump, save, assertions) and run by a
 * backtracking matcher that remembers every (instruction, position) pair
 * it has already seen fail, so the time is linear in the text times the
 * program size, as RE2 promises. Leftmost-first semantics with greedy
 * and lazy quantifiers, like RE2 and Perl. Works on bytes; '.' matches
 * one byte of UTF-8.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  R_CHAR,
  R_ANY,
  R_CLASS,
  R_BOL,
  R_EOL,
  R_WORDB,
  R_NWORDB,
  R_SPLIT,
  R_JMP,
  R_SAVE,
  R_MATCH,
  R_BOT,
  R_EOT
};

struct rinst {
  uint8_t op;
  uint8_t c;
  int x, y;
  uint8_t *cls; /* 32-byte bitmap */
};

enum {
  A_EMPTY,
  A_CHAR,
  A_ANY,
  A_CLASS,
  A_ASSERT,
  A_CAT,
  A_ALT,
  A_REP,
  A_GROUP
};

struct rnode {
  int kind;
  uint8_t c;
  int assert_op;
  uint8_t cls[32];
  int min, max; /* max -1: unbounded */
  bool greedy;
  int group; /* -1: non-capturing */
  struct rnode **kids;
  int nkids;
};

struct kql_regex {
  struct rinst *prog;
  int n, cap;
  int ngroups;
  char **names;
  bool icase, dotall, multiline;
  struct kql_arena mem;
};

struct rp {
  const char *s;
  size_t n, i;
  struct kql_regex *re;
  char *err;
  size_t errcap;
  int depth;
  bool failed;
};

static void
rerr(struct rp *p, const char *msg)
{
  if (!p->failed) snprintf(p->err, p->errcap, "%s at offset %zu", msg, p->i);
  p->failed = true;
}

static struct rnode *
rnew(struct rp *p, int kind)
{
  struct rnode *n = kql_zalloc(&p->re->mem, sizeof *n);
  n->kind = kind;
  n->group = -1;
  return n;
}

static void
radd(struct rp *p, struct rnode *n, struct rnode *k)
{
  struct rnode **nk =
      kql_alloc(&p->re->mem, (size_t)(n->nkids + 1) * sizeof *nk);
  if (n->nkids) memcpy(nk, n->kids, (size_t)n->nkids * sizeof *nk);
  nk[n->nkids++] = k;
  n->kids = nk;
}

static void
cls_set(uint8_t *cls, int c)
{
  cls[c >> 3] |= (uint8_t)(1 << (c & 7));
}

static void
cls_range(uint8_t *cls, int a, int b)
{
  for (int c = a; c <= b; c++)
    cls_set(cls, c);
}

static void
cls_named(uint8_t *cls, char k)
{
  uint8_t tmp[32];
  memset(tmp, 0, sizeof tmp);
  char lk = (char)tolower((unsigned char)k);
  if (lk == 'd')
    cls_range(tmp, '0', '9');
  else if (lk == 'w') {
    cls_range(tmp, '0', '9');
    cls_range(tmp, 'a', 'z');
    cls_range(tmp, 'A', 'Z');
    cls_set(tmp, '_');
  } else if (lk == 's') {
    cls_set(tmp, ' ');
    cls_range(tmp, '\t', '\r');
  }
  if (isupper((unsigned char)k))
    for (int i = 0; i < 32; i++)
      tmp[i] = (uint8_t)~tmp[i];
  for (int i = 0; i < 32; i++)
    cls[i] |= tmp[i];
}

static int
esc_char(char c)
{
  switch (c) {
  case 'n':
    return '\n';
  case 't':
    return '\t';
  case 'r':
    return '\r';
  case 'f':
    return '\f';
  case 'v':
    return '\v';
  case 'a':
    return 7;
  case '0':
    return 0;
  default:
    return (unsigned char)c;
  }
}

static struct rnode *parse_alt(struct rp *p);

static struct rnode *
parse_class(struct rp *p)
{
  struct rnode *n = rnew(p, A_CLASS);
  bool neg = false;
  p->i++; /* [ */
  if (p->i < p->n && p->s[p->i] == '^') {
    neg = true;
    p->i++;
  }
  bool first = true;
  while (p->i < p->n && (p->s[p->i] != ']' || first)) {
    first = false;
    int lo;
    if (p->s[p->i] == '[' && p->i + 1 < p->n && p->s[p->i + 1] == ':') {
      static const char *const pos[] = {"alpha", "digit",  "alnum",
                                        "space", "upper",  "lower",
                                        "punct", "xdigit", "word"};
      size_t e = p->i + 2;
      while (e < p->n && p->s[e] != ':')
        e++;
      size_t len = e - (p->i + 2);
      int which = -1;
      for (int k = 0; k < 9; k++)
        if (strlen(pos[k]) == len && !memcmp(pos[k], p->s + p->i + 2, len))
          which = k;
      if (which < 0 || e + 1 >= p->n || p->s[e + 1] != ']') {
        rerr(p, "bad character class");
        return NULL;
      }
      for (int c = 0; c < 256; c++) {
        bool in = false;
        switch (which) {
        case 0:
          in = isalpha(c);
          break;
        case 1:
          in = isdigit(c);
          break;
        case 2:
          in = isalnum(c);
          break;
        case 3:
          in = isspace(c);
          break;
        case 4:
          in = isupper(c);
          break;
        case 5:
          in = islower(c);
          break;
        case 6:
          in = ispunct(c);
          break;
        case 7:
          in = isxdigit(c);
          break;
        default:
          in = isalnum(c) || c == '_';
        }
        if (in && c < 128) cls_set(n->cls, c);
      }
      p->i = e + 2;
      continue;
    }
    if (p->s[p->i] == '\\' && p->i + 1 < p->n) {
      char k = p->s[p->i + 1];
      p->i += 2;
      if (strchr("dDwWsS", k)) {
        cls_named(n->cls, k);
        continue;
      }
      lo = esc_char(k);
    } else {
      lo = (unsigned char)p->s[p->i++];
    }
    int hi = lo;
    if (p->i + 1 < p->n && p->s[p->i] == '-' && p->s[p->i + 1] != ']') {
      p->i++;
      if (p->s[p->i] == '\\' && p->i + 1 < p->n) {
        hi = esc_char(p->s[p->i + 1]);
        p->i += 2;
      } else {
        hi = (unsigned char)p->s[p->i++];
      }
      if (hi < lo) {
        rerr(p, "bad character range");
        return NULL;
      }
    }
    cls_range(n->cls, lo, hi);
  }
  if (p->i >= p->n) {
    rerr(p, "missing ']'");
    return NULL;
  }
  p->i++;
  if (p->re->icase)
    for (int c = 'a'; c <= 'z'; c++) {
      if (n->cls[c >> 3] & (1 << (c & 7))) cls_set(n->cls, toupper(c));
      if (n->cls[toupper(c) >> 3] & (1 << (toupper(c) & 7))) cls_set(n->cls, c);
    }
  if (neg)
    for (int i = 0; i < 32; i++)
      n->cls[i] = (uint8_t)~n->cls[i];
  return n;
}

static struct rnode *
parse_atom(struct rp *p)
{
  char c = p->s[p->i];
  struct rnode *n;
  switch (c) {
  case '(': {
    p->i++;
    int group = -1;
    char *name = NULL;
    if (p->i < p->n && p->s[p->i] == '?') {
      p->i++;
      if (p->i < p->n && p->s[p->i] == ':') {
        p->i++;
      } else if (p->i < p->n && (p->s[p->i] == 'P' || p->s[p->i] == '<')) {
        if (p->s[p->i] == 'P') p->i++;
        if (p->i >= p->n || p->s[p->i] != '<') {
          rerr(p, "bad named group");
          return NULL;
        }
        size_t st = ++p->i;
        while (p->i < p->n && p->s[p->i] != '>')
          p->i++;
        if (p->i >= p->n) {
          rerr(p, "bad named group");
          return NULL;
        }
        name = kql_memdup(&p->re->mem, p->s + st, p->i - st);
        p->i++;
        group = ++p->re->ngroups;
      } else {
        /* flags: (?i) (?s) (?m) (?i:...) */
        bool on = true;
        while (p->i < p->n && p->s[p->i] != ')' && p->s[p->i] != ':') {
          char f = p->s[p->i++];
          if (f == '-')
            on = false;
          else if (f == 'i')
            p->re->icase = on;
          else if (f == 's')
            p->re->dotall = on;
          else if (f == 'm')
            p->re->multiline = on;
          else if (f != 'U') {
            rerr(p, "unknown flag");
            return NULL;
          }
        }
        if (p->i >= p->n) {
          rerr(p, "missing ')'");
          return NULL;
        }
        if (p->s[p->i++] == ')') return rnew(p, A_EMPTY);
      }
    } else {
      group = ++p->re->ngroups;
    }
    if (group > 0) {
      /* names[0..group-1] exist already; add this group's */
      char **nn = kql_zalloc(&p->re->mem, (size_t)(group + 1) * sizeof *nn);
      if (p->re->names) memcpy(nn, p->re->names, (size_t)group * sizeof *nn);
      nn[group] = name;
      p->re->names = nn;
    }
    if (++p->depth > 200) {
      rerr(p, "nested too deeply");
      return NULL;
    }
    struct rnode *in = parse_alt(p);
    p->depth--;
    if (!in) return NULL;
    if (p->i >= p->n || p->s[p->i] != ')') {
      rerr(p, "missing ')'");
      return NULL;
    }
    p->i++;
    n = rnew(p, A_GROUP);
    n->group = group;
    radd(p, n, in);
    return n;
  }
  case '[':
    return parse_class(p);
  case '.':
    p->i++;
    return rnew(p, A_ANY);
  case '^':
    p->i++;
    n = rnew(p, A_ASSERT);
    n->assert_op = R_BOL;
    return n;
  case '$':
    p->i++;
    n = rnew(p, A_ASSERT);
    n->assert_op = R_EOL;
    return n;
  case '\\': {
    if (p->i + 1 >= p->n) {
      rerr(p, "trailing backslash");
      return NULL;
    }
    char k = p->s[p->i + 1];
    p->i += 2;
    if (strchr("dDwWsS", k)) {
      n = rnew(p, A_CLASS);
      cls_named(n->cls, k);
      return n;
    }
    if (k == 'b' || k == 'B' || k == 'A' || k == 'z') {
      n = rnew(p, A_ASSERT);
      n->assert_op = k == 'b'   ? R_WORDB
                     : k == 'B' ? R_NWORDB
                     : k == 'A' ? R_BOT
                                : R_EOT;
      return n;
    }
    if (k >= '1' && k <= '9') {
      rerr(p, "backreferences are not supported");
      return NULL;
    }
    if (k == 'x' && p->i + 1 < p->n) {
      char hx[3] = {p->s[p->i], p->s[p->i + 1], 0};
      p->i += 2;
      n = rnew(p, A_CHAR);
      n->c = (uint8_t)strtol(hx, NULL, 16);
      return n;
    }
    n = rnew(p, A_CHAR);
    n->c = (uint8_t)esc_char(k);
    return n;
  }
  case '*':
  case '+':
  case '?':
    rerr(p, "missing argument to repetition operator");
    return NULL;
  default:
    p->i++;
    n = rnew(p, A_CHAR);
    n->c = (uint8_t)c;
    return n;
  }
}

static struct rnode *
parse_rep(struct rp *p)
{
  struct rnode *a = parse_atom(p);
  while (a && p->i < p->n) {
    char c = p->s[p->i];
    int min, max;
    if (c == '*') {
      min = 0;
      max = -1;
      p->i++;
    } else if (c == '+') {
      min = 1;
      max = -1;
      p->i++;
    } else if (c == '?') {
      min = 0;
      max = 1;
      p->i++;
    } else if (c == '{') {
      size_t j = p->i + 1;
      if (j >= p->n || !isdigit((unsigned char)p->s[j]))
        break; /* a literal '{' */
      min = 0;
      while (j < p->n && isdigit((unsigned char)p->s[j]))
        min = min * 10 + (p->s[j++] - '0');
      max = min;
      if (j < p->n && p->s[j] == ',') {
        j++;
        max = -1;
        if (j < p->n && isdigit((unsigned char)p->s[j])) {
          max = 0;
          while (j < p->n && isdigit((unsigned char)p->s[j]))
            max = max * 10 + (p->s[j++] - '0');
        }
      }
      if (j >= p->n || p->s[j] != '}') break;
      if (min > 1000 || max > 1000 || (max >= 0 && max < min)) {
        rerr(p, "bad repetition count");
        return NULL;
      }
      p->i = j + 1;
    } else {
      break;
    }
    struct rnode *r = rnew(p, A_REP);
    r->min = min;
    r->max = max;
    r->greedy = true;
    if (p->i < p->n && p->s[p->i] == '?') {
      r->greedy = false;
      p->i++;
    }
    radd(p, r, a);
    a = r;
  }
  return a;
}

static struct rnode *
parse_cat(struct rp *p)
{
  struct rnode *n = rnew(p, A_CAT);
  while (p->i < p->n && p->s[p->i] != '|' && p->s[p->i] != ')') {
    struct rnode *a = parse_rep(p);
    if (!a) return NULL;
    radd(p, n, a);
  }
  return n;
}

static struct rnode *
parse_alt(struct rp *p)
{
  struct rnode *first = parse_cat(p);
  if (!first || p->i >= p->n || p->s[p->i] != '|') return first;
  struct rnode *n = rnew(p, A_ALT);
  radd(p, n, first);
  while (p->i < p->n && p->s[p->i] == '|') {
    p->i++;
    struct rnode *b = parse_cat(p);
    if (!b) return NULL;
    radd(p, n, b);
  }
  return n;
}

/* ------------------------------------------------------------ compile */

static int
emit(struct kql_regex *re, int op)
{
  if (re->n == re->cap) {
    re->cap = re->cap ? re->cap * 2 : 64;
    re->prog = kql_xrealloc(re->prog, (size_t)re->cap * sizeof *re->prog);
  }
  memset(&re->prog[re->n], 0, sizeof re->prog[0]);
  re->prog[re->n].op = (uint8_t)op;
  return re->n++;
}

static bool
compile(struct kql_regex *re, struct rnode *n)
{
  if (re->n > 100000) return false;
  switch (n->kind) {
  case A_EMPTY:
    return true;
  case A_CHAR: {
    if (re->icase && isalpha(n->c)) {
      int i = emit(re, R_CLASS);
      re->prog[i].cls = kql_zalloc(&re->mem, 32);
      cls_set(re->prog[i].cls, tolower(n->c));
      cls_set(re->prog[i].cls, toupper(n->c));
      return true;
    }
    int i = emit(re, R_CHAR);
    re->prog[i].c = n->c;
    return true;
  }
  case A_ANY: {
    int i = emit(re, R_ANY);
    re->prog[i].c = re->dotall;
    return true;
  }
  case A_CLASS: {
    int i = emit(re, R_CLASS);
    re->prog[i].cls = (uint8_t *)kql_memdup(&re->mem, n->cls, 32);
    return true;
  }
  case A_ASSERT: {
    int op = n->assert_op;
    if (op == R_BOL && !re->multiline) op = R_BOT;
    if (op == R_EOL && !re->multiline) op = R_EOT;
    emit(re, op);
    return true;
  }
  case A_CAT:
    for (int i = 0; i < n->nkids; i++)
      if (!compile(re, n->kids[i])) return false;
    return true;
  case A_GROUP:
    if (n->group >= 0) {
      int s = emit(re, R_SAVE);
      re->prog[s].x = 2 * n->group;
    }
    if (!compile(re, n->kids[0])) return false;
    if (n->group >= 0) {
      int s = emit(re, R_SAVE);
      re->prog[s].x = 2 * n->group + 1;
    }
    return true;
  case A_ALT: {
    int *jumps = kql_alloc(&re->mem, (size_t)n->nkids * sizeof *jumps);
    for (int i = 0; i < n->nkids; i++) {
      if (i + 1 < n->nkids) {
        int sp = emit(re, R_SPLIT);
        re->prog[sp].x = sp + 1;
        if (!compile(re, n->kids[i])) return false;
        jumps[i] = emit(re, R_JMP);
        re->prog[sp].y = re->n;
      } else {
        if (!compile(re, n->kids[i])) return false;
      }
    }
    for (int i = 0; i + 1 < n->nkids; i++)
      re->prog[jumps[i]].x = re->n;
    return true;
  }
  case A_REP: {
    struct rnode *k = n->kids[0];
    for (int i = 0; i < n->min; i++)
      if (!compile(re, k)) return false;
    if (n->max < 0) {
      int sp = emit(re, R_SPLIT);
      if (!compile(re, k)) return false;
      int j = emit(re, R_JMP);
      re->prog[j].x = sp;
      if (n->greedy) {
        re->prog[sp].x = sp + 1;
        re->prog[sp].y = re->n;
      } else {
        re->prog[sp].x = re->n;
        re->prog[sp].y = sp + 1;
      }
      return true;
    }
    int opt = n->max - n->min;
    int *sps = kql_alloc(&re->mem, (size_t)(opt + 1) * sizeof *sps);
    for (int i = 0; i < opt; i++) {
      sps[i] = emit(re, R_SPLIT);
      if (!compile(re, k)) return false;
    }
    for (int i = 0; i < opt; i++) {
      if (n->greedy) {
        re->prog[sps[i]].x = sps[i] + 1;
        re->prog[sps[i]].y = re->n;
      } else {
        re->prog[sps[i]].x = re->n;
        re->prog[sps[i]].y = sps[i] + 1;
      }
    }
    return true;
  }
  }
  return false;
}

struct kql_regex *
kql_regex_compile(const char *pat, size_t n, int flags, char *err,
                  size_t errcap)
{
  struct kql_regex *re = kql_xcalloc(1, sizeof *re);
  kql_arena_init(&re->mem);
  re->icase = flags & KQL_RE_ICASE;
  re->dotall = flags & KQL_RE_DOTALL;
  re->multiline = flags & KQL_RE_MULTILINE;
  struct rp p = {pat, n, 0, re, err, errcap, 0, false};
  struct rnode *root = parse_alt(&p);
  if (root && p.i < n) {
    rerr(&p, "unmatched ')'");
    root = NULL;
  }
  if (!root || p.failed) {
    kql_regex_free(re);
    return NULL;
  }
  int s = emit(re, R_SAVE);
  re->prog[s].x = 0;
  if (!compile(re, root)) {
    snprintf(err, errcap, "pattern too large");
    kql_regex_free(re);
    return NULL;
  }
  s = emit(re, R_SAVE);
  re->prog[s].x = 1;
  emit(re, R_MATCH);
  return re;
}

void
kql_regex_free(struct kql_regex *re)
{
  if (!re) return;
  free(re->prog);
  kql_arena_free(&re->mem);
  free(re);
}

int
kql_regex_ngroups(const struct kql_regex *re)
{
  return re->ngroups;
}

const char *
kql_regex_group_name(const struct kql_regex *re, int i)
{
  if (!re->names || i < 1 || i > re->ngroups) return NULL;
  return re->names[i];
}

/* ------------------------------------------------------------ match */

static bool
wordc(unsigned char c)
{
  return isalnum(c) || c == '_';
}

struct frame {
  int pc;
  size_t pos;
  int save_slot; /* >= 0: restore caps[save_slot] = old on pop */
  long old;
};

struct mstate {
  const struct kql_regex *re;
  const char *s;
  size_t n;
  uint8_t *seen;
  size_t seen_bits;
  long *caps;
  struct frame *stk;
  size_t nstk, capstk;
  long steps;
};

static bool
push(struct mstate *m, int pc, size_t pos, int slot, long old)
{
  if (m->nstk == m->capstk) {
    if (m->capstk > (1u << 24)) return false;
    m->capstk = m->capstk ? m->capstk * 2 : 64;
    m->stk = kql_xrealloc(m->stk, m->capstk * sizeof *m->stk);
  }
  struct frame f = {pc, pos, slot, old};
  m->stk[m->nstk++] = f;
  return true;
}

/* Run from one start position; true on a match (caps filled). */
static bool
run_at(struct mstate *m, size_t start)
{
  const struct rinst *prog = m->re->prog;
  m->nstk = 0;
  if (!push(m, 0, start, -1, 0)) return false;
  while (m->nstk) {
    struct frame f = m->stk[--m->nstk];
    if (f.save_slot >= 0) {
      m->caps[f.save_slot] = f.old;
      continue;
    }
    int pc = f.pc;
    size_t pos = f.pos;
    for (;;) {
      if (m->seen) {
        size_t bit = (size_t)pc * (m->n + 1) + pos;
        if (m->seen[bit >> 3] & (1 << (bit & 7))) break;
        m->seen[bit >> 3] |= (uint8_t)(1 << (bit & 7));
      } else if (++m->steps > 10000000) {
        return false;
      }
      const struct rinst *in = &prog[pc];
      switch (in->op) {
      case R_CHAR:
        if (pos < m->n && (unsigned char)m->s[pos] == in->c) {
          pc++;
          pos++;
          continue;
        }
        goto fail;
      case R_ANY:
        if (pos < m->n && (in->c || m->s[pos] != '\n')) {
          pc++;
          pos++;
          continue;
        }
        goto fail;
      case R_CLASS: {
        unsigned char ch;
        if (pos < m->n && ((ch = (unsigned char)m->s[pos]),
                           in->cls[ch >> 3] & (1 << (ch & 7)))) {
          pc++;
          pos++;
          continue;
        }
        goto fail;
      }
      case R_BOT:
        if (pos == 0) {
          pc++;
          continue;
        }
        goto fail;
      case R_EOT:
        if (pos == m->n) {
          pc++;
          continue;
        }
        goto fail;
      case R_BOL:
        if (pos == 0 || m->s[pos - 1] == '\n') {
          pc++;
          continue;
        }
        goto fail;
      case R_EOL:
        if (pos == m->n || m->s[pos] == '\n') {
          pc++;
          continue;
        }
        goto fail;
      case R_WORDB:
      case R_NWORDB: {
        bool a = pos > 0 && wordc((unsigned char)m->s[pos - 1]);
        bool b = pos < m->n && wordc((unsigned char)m->s[pos]);
        if ((a != b) == (in->op == R_WORDB)) {
          pc++;
          continue;
        }
        goto fail;
      }
      case R_SPLIT:
        if (!push(m, in->y, pos, -1, 0)) return false;
        pc = in->x;
        continue;
      case R_JMP:
        pc = in->x;
        continue;
      case R_SAVE:
        if (!push(m, 0, 0, in->x, m->caps[in->x])) return false;
        m->caps[in->x] = (long)pos;
        pc++;
        continue;
      case R_MATCH:
        return true;
      }
    fail:
      break;
    }
  }
  return false;
}

bool
kql_regex_search(const struct kql_regex *re, const char *s, size_t n,
                 size_t start, long *caps)
{
  struct mstate m;
  memset(&m, 0, sizeof m);
  m.re = re;
  m.s = s;
  m.n = n;
  m.caps = caps;
  int nc = 2 * (re->ngroups + 1);
  size_t bits = (size_t)re->n * (n + 1);
  if (bits < (size_t)64 << 20) {
    m.seen_bits = bits;
    m.seen = kql_xcalloc(bits / 8 + 1, 1);
  }
  bool found = false;
  bool anchored = re->n > 1 && re->prog[1].op == R_BOT;
  for (size_t st = start; st <= n; st++) {
    for (int i = 0; i < nc; i++)
      caps[i] = -1;
    if (run_at(&m, st)) {
      found = true;
      break;
    }
    if (anchored) break;
  }
  free(m.seen);
  free(m.stk);
  return found;
}
