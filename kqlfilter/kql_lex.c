/*
 * kql_lex.c - split KQL query text into tokens.
 *
 * kql_lex_next() is stateless: it takes the text and an offset and
 * returns the next token as a byte span; nothing is copied. No errors are
 * reported here: an unknown byte becomes KQL_TOK_ILLEGAL and an
 * unterminated string KQL_TOK_BADSTRING, and the parser reports them with
 * their position. Multi-word operators (project-away, !in~) are joined by
 * the parser from adjacent tokens. The character classes sit in a table
 * so that the dispatch is one lookup. Grammar notes: kql.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql.h"

#include <string.h>

enum cc { C_OTHER, C_SPACE, C_NL, C_ALPHA, C_DIGIT, C_QUOTE, C_PUNCT };

static unsigned char cls[256];

static void
init_cls(void)
{
  if (cls['a']) return;
  for (int c = 0; c < 256; c++) {
    enum cc k = C_OTHER;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v')
      k = C_SPACE;
    else if (c == '\n')
      k = C_NL;
    else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
             c == '$' || c >= 0x80)
      k = C_ALPHA;
    else if (c >= '0' && c <= '9')
      k = C_DIGIT;
    else if (c == '"' || c == '\'' || c == '`')
      k = C_QUOTE;
    else if (strchr("|(){}[],;=<>+-*/%.:!?@~#", c) && c)
      k = C_PUNCT;
    cls[c] = (unsigned char)k;
  }
}

static bool
is_word(unsigned char c)
{
  return cls[c] == C_ALPHA || cls[c] == C_DIGIT;
}

/* End of a quoted string starting at i (the quote); 0 if unterminated. */
static size_t
string_end(const char *s, size_t len, size_t i, bool verbatim)
{
  if (i + 2 < len && s[i] == '`' && s[i + 1] == '`' && s[i + 2] == '`') {
    for (size_t j = i + 3; j + 2 < len; j++)
      if (s[j] == '`' && s[j + 1] == '`' && s[j + 2] == '`') return j + 3;
    return 0;
  }
  char q = s[i];
  if (q == '`') return 0;
  for (size_t j = i + 1; j < len; j++) {
    if (s[j] == '\n' && q != '`') return 0;
    if (!verbatim && s[j] == '\\') {
      j++;
      continue;
    }
    if (s[j] == q) {
      if (verbatim && j + 1 < len && s[j + 1] == q) {
        j++;
        continue;
      }
      return j + 1;
    }
  }
  return 0;
}

struct kql_token
kql_lex_next(const char *s, size_t len, size_t off)
{
  struct kql_token t = {KQL_TOK_EOF, 0, 0, false, false};
  init_cls();
  size_t i = off;
  bool line_empty = false;
  /* Skip white space and // comments; note empty lines. */
  while (i < len) {
    unsigned char c = (unsigned char)s[i];
    if (cls[c] == C_SPACE) {
      t.space_before = true;
      i++;
    } else if (c == '\n') {
      t.space_before = true;
      if (line_empty) t.blank_before = true;
      line_empty = true;
      i++;
    } else if (c == '/' && i + 1 < len && s[i + 1] == '/') {
      t.space_before = true;
      line_empty = false;
      while (i < len && s[i] != '\n')
        i++;
    } else {
      break;
    }
  }
  t.start = t.end = (uint32_t)i;
  if (i >= len) return t;
  unsigned char c = (unsigned char)s[i];
  switch (cls[c]) {
  case C_ALPHA: {
    /* String prefixes: h"..", H'..', h@"..", @".." handled below. */
    if ((c == 'h' || c == 'H') && i + 1 < len &&
        (s[i + 1] == '"' || s[i + 1] == '\'' ||
         (s[i + 1] == '@' && i + 2 < len &&
          (s[i + 2] == '"' || s[i + 2] == '\'')))) {
      bool verb = s[i + 1] == '@';
      size_t q = i + 1 + verb;
      size_t e = string_end(s, len, q, verb);
      t.type = e ? KQL_TOK_STRING : KQL_TOK_BADSTRING;
      t.end = (uint32_t)(e ? e : len);
      return t;
    }
    size_t j = i + 1;
    while (j < len && is_word((unsigned char)s[j]))
      j++;
    t.type = KQL_TOK_IDENT;
    t.end = (uint32_t)j;
    return t;
  }
  case C_DIGIT: {
    size_t j = i;
    bool real = false;
    if (c == '0' && i + 1 < len && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
      j = i + 2;
      while (j < len && strchr("0123456789abcdefABCDEF", s[j]) && s[j])
        j++;
      t.type = KQL_TOK_INT;
      t.end = (uint32_t)j;
      return t;
    }
    while (j < len && s[j] >= '0' && s[j] <= '9')
      j++;
    if (j + 1 < len && s[j] == '.' && s[j + 1] >= '0' && s[j + 1] <= '9') {
      real = true;
      j++;
      while (j < len && s[j] >= '0' && s[j] <= '9')
        j++;
    }
    if (j < len && (s[j] == 'e' || s[j] == 'E')) {
      size_t k = j + 1;
      if (k < len && (s[k] == '+' || s[k] == '-')) k++;
      if (k < len && s[k] >= '0' && s[k] <= '9') {
        real = true;
        j = k;
        while (j < len && s[j] >= '0' && s[j] <= '9')
          j++;
      }
    }
    if (j < len && cls[(unsigned char)s[j]] == C_ALPHA) {
      size_t k = j;
      while (k < len && is_word((unsigned char)s[k]))
        k++;
      if (kql_ts_unit(s + j, k - j) >= 0) {
        t.type = KQL_TOK_TIMESPAN;
        t.end = (uint32_t)k;
        return t;
      }
      t.type = KQL_TOK_ILLEGAL;
      t.end = (uint32_t)k;
      return t;
    }
    t.type = real ? KQL_TOK_REAL : KQL_TOK_INT;
    t.end = (uint32_t)j;
    return t;
  }
  case C_QUOTE: {
    size_t e = string_end(s, len, i, false);
    t.type = e ? KQL_TOK_STRING : KQL_TOK_BADSTRING;
    t.end = (uint32_t)(e ? e : len);
    return t;
  }
  case C_PUNCT: {
    if (c == '@' && i + 1 < len && (s[i + 1] == '"' || s[i + 1] == '\'')) {
      size_t e = string_end(s, len, i + 1, true);
      t.type = e ? KQL_TOK_STRING : KQL_TOK_BADSTRING;
      t.end = (uint32_t)(e ? e : len);
      return t;
    }
    if (c == '!' && i + 1 < len && cls[(unsigned char)s[i + 1]] == C_ALPHA) {
      size_t j = i + 1;
      while (j < len && is_word((unsigned char)s[j]))
        j++;
      if (j < len && s[j] == '~') j++;
      t.type = KQL_TOK_BANGWORD;
      t.end = (uint32_t)j;
      return t;
    }
    static const char *const two[] = {
        "==", "!=", "<>", "<=", ">=", "=~", "!~", "=>", ".."};
    t.type = KQL_TOK_PUNCT;
    if (i + 1 < len)
      for (size_t k = 0; k < sizeof two / sizeof two[0]; k++)
        if (s[i] == two[k][0] && s[i + 1] == two[k][1]) {
          t.end = (uint32_t)(i + 2);
          return t;
        }
    t.end = (uint32_t)(i + 1);
    return t;
  }
  default:
    t.type = KQL_TOK_ILLEGAL;
    t.end = (uint32_t)(i + 1);
    return t;
  }
}

struct kql_val
kql_lex_string(struct kql_arena *a, const char *src, const struct kql_token *t)
{
  const char *s = src + t->start;
  size_t n = t->end - t->start;
  if (n && (s[0] == 'h' || s[0] == 'H')) {
    s++;
    n--;
  }
  bool verbatim = false;
  if (n && s[0] == '@') {
    verbatim = true;
    s++;
    n--;
  }
  if (n >= 6 && s[0] == '`') {
    return kql_v_str(kql_memdup(a, s + 3, n - 6), n - 6);
  }
  if (n < 2) return kql_v_str("", 0);
  char q = s[0];
  s++;
  n -= 2;
  char *o = kql_alloc(a, n + 1);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (verbatim) {
      if (c == q && i + 1 < n && s[i + 1] == q) i++;
      o[k++] = c;
      continue;
    }
    if (c != '\\' || i + 1 >= n) {
      o[k++] = c;
      continue;
    }
    c = s[++i];
    switch (c) {
    case 'n':
      o[k++] = '\n';
      break;
    case 't':
      o[k++] = '\t';
      break;
    case 'r':
      o[k++] = '\r';
      break;
    case '0':
      o[k++] = '\0';
      break;
    case 'u':
      if (i + 4 < n) {
        unsigned cp = 0;
        bool ok = true;
        for (int d = 1; d <= 4; d++) {
          char h = s[i + d];
          cp <<= 4;
          if (h >= '0' && h <= '9')
            cp |= (unsigned)(h - '0');
          else if (h >= 'a' && h <= 'f')
            cp |= (unsigned)(h - 'a' + 10);
          else if (h >= 'A' && h <= 'F')
            cp |= (unsigned)(h - 'A' + 10);
          else
            ok = false;
        }
        if (ok && cp < 0x80) {
          o[k++] = (char)cp;
          i += 4;
          break;
        }
        if (ok && cp < 0x800) {
          o[k++] = (char)(0xC0 | cp >> 6);
          o[k++] = (char)(0x80 | (cp & 0x3F));
          i += 4;
          break;
        }
        if (ok) {
          o[k++] = (char)(0xE0 | cp >> 12);
          o[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
          o[k++] = (char)(0x80 | (cp & 0x3F));
          i += 4;
          break;
        }
      }
      o[k++] = c;
      break;
    default:
      o[k++] = c; /* \\ \" \' and unknown escapes keep the character */
    }
  }
  o[k] = 0;
  return kql_v_str(o, k);
}
