/*
 * xml_lex.c - a small, strict XML pull tokenizer (see xml_lex.h).
 *
 * One pass over the whole input first checks that it is UTF-8 made of XML
 * characters, so the scanner below can treat every byte >= 0x80 as part
 * of a valid multi-byte character. The scanner then reads one markup
 * construct per step. Decoded values never grow: every reference is at
 * least as long as the UTF-8 it stands for, so a scratch buffer of the
 * input's length plus one byte holds any token's values and their NULs
 * (the copy routine still checks, and reports rather than overflows).
 * Grammar followed: XML 1.0 (fifth edition), without DTDs.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "etwcat/xml_lex.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ST_PROLOG = 0, ST_ROOT, ST_EPILOG, ST_DONE };

#if defined(__GNUC__) || defined(__clang__)
#define PRINTF_LIKE(a, b) PLAT_PRINTF(a, b)
#else
#define PRINTF_LIKE(a, b)
#endif

static enum xml_tok fail(struct xml_lex *x, size_t off, const char *fmt, ...)
    PRINTF_LIKE(3, 4);

static enum xml_tok
fail(struct xml_lex *x, size_t off, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(x->err, sizeof x->err, fmt, ap);
  va_end(ap);
  x->err_off = off;
  x->tok = XML_TOK_ERROR;
  return XML_TOK_ERROR;
}

int
xml_lex_init(struct xml_lex *x, const char *p, size_t len)
{
  memset(x, 0, sizeof *x);
  x->p = p;
  x->len = len;
  if (len > SIZE_MAX - 2) return -1;
  x->bufcap = len + 1;
  x->buf = malloc(x->bufcap);
  if (!x->buf) return -1;
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) x->start = 3;
  x->pos = x->start;
  return 0;
}

void
xml_lex_free(struct xml_lex *x)
{
  free(x->buf);
  x->buf = NULL;
  x->bufcap = 0;
}

/* utf8_char - decode one character at p[0..n); its length, or 0 when the
 * bytes are not well-formed UTF-8 (overlong, surrogate, > U+10FFFF). */
static size_t
utf8_char(const unsigned char *p, size_t n, uint32_t *cp)
{
  unsigned char c = p[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t k;
  uint32_t v, min;
  if (c >= 0xC2 && c <= 0xDF) {
    k = 2, v = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    k = 3, v = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    k = 4, v = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (n < k) return 0;
  for (size_t i = 1; i < k; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    v = v << 6 | (p[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return k;
}

/* is_xml_char - the Char production of XML 1.0. */
static bool
is_xml_char(uint32_t c)
{
  if (c < 0x20) return c == 0x9 || c == 0xA || c == 0xD;
  if (c >= 0xD800 && c <= 0xDFFF) return false;
  return c != 0xFFFE && c != 0xFFFF && c <= 0x10FFFF;
}

static enum xml_tok
check_chars(struct xml_lex *x)
{
  const unsigned char *p = (const unsigned char *)x->p;
  for (size_t i = x->start; i < x->len;) {
    uint32_t c;
    size_t k = utf8_char(p + i, x->len - i, &c);
    if (!k) return fail(x, i, "invalid UTF-8 byte 0x%02X", p[i]);
    if (!is_xml_char(c))
      return fail(x, i, "character U+%04lX is not allowed in XML",
                  (unsigned long)c);
    i += k;
  }
  return XML_TOK_EOF;
}

static bool
is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Bytes >= 0x80 are parts of valid non-ASCII characters (checked up
 * front); all of them may appear in names, as XML 1.0 fifth edition
 * allows nearly every non-ASCII character there. */
static bool
is_name_start(char c)
{
  unsigned char u = (unsigned char)c;
  return (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || u == '_' ||
         u == ':' || u >= 0x80;
}

static bool
is_name_char(char c)
{
  return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static bool
at(const struct xml_lex *x, const char *s)
{
  size_t n = strlen(s);
  return x->len - x->pos >= n && memcmp(x->p + x->pos, s, n) == 0;
}

static size_t
skip_space(struct xml_lex *x)
{
  size_t n = 0;
  while (x->pos < x->len && is_space(x->p[x->pos])) {
    x->pos++;
    n++;
  }
  return n;
}

/* scan_name - a name at pos; its length (0 if none). pos moves past it. */
static size_t
scan_name(struct xml_lex *x)
{
  size_t s = x->pos;
  if (s >= x->len || !is_name_start(x->p[s])) return 0;
  while (x->pos < x->len && is_name_char(x->p[x->pos]))
    x->pos++;
  return x->pos - s;
}

/* put - append bytes to the scratch buffer; false if it would overflow,
 * which the sizing argument in the file header rules out. */
static bool
put(struct xml_lex *x, const char *s, size_t n)
{
  if (x->bufcap - x->bufused < n) return false;
  memcpy(x->buf + x->bufused, s, n);
  x->bufused += n;
  return true;
}

static size_t
utf8_encode(uint32_t c, char out[4])
{
  if (c < 0x80) {
    out[0] = (char)c;
    return 1;
  }
  if (c < 0x800) {
    out[0] = (char)(0xC0 | c >> 6);
    out[1] = (char)(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = (char)(0xE0 | c >> 12);
    out[1] = (char)(0x80 | (c >> 6 & 0x3F));
    out[2] = (char)(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | c >> 18);
  out[1] = (char)(0x80 | (c >> 12 & 0x3F));
  out[2] = (char)(0x80 | (c >> 6 & 0x3F));
  out[3] = (char)(0x80 | (c & 0x3F));
  return 4;
}

/* reference - decode the reference at pos ('&') into the buffer. */
static bool
reference(struct xml_lex *x)
{
  size_t s = x->pos;
  char out[4];
  size_t n;
  x->pos++;
  if (x->pos < x->len && x->p[x->pos] == '#') {
    int base = 10;
    x->pos++;
    if (x->pos < x->len && x->p[x->pos] == 'x') {
      base = 16;
      x->pos++;
    }
    uint32_t v = 0;
    size_t digits = 0;
    while (x->pos < x->len) {
      char c = x->p[x->pos];
      int d;
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (base == 16 && c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else if (base == 16 && c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      else
        break;
      if (v > 0x10FFFF) /* keep going to find ';', but stay bounded */
        v = 0x110000;
      else
        v = v * (uint32_t)base + (uint32_t)d;
      digits++;
      x->pos++;
    }
    if (!digits || x->pos >= x->len || x->p[x->pos] != ';') {
      fail(x, s, "malformed character reference");
      return false;
    }
    x->pos++;
    if (!is_xml_char(v)) {
      fail(x, s, "character reference to a character XML does not allow");
      return false;
    }
    n = utf8_encode(v, out);
  } else {
    static const struct {
      const char *name;
      char c;
    } ents[] = {
        {"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
    size_t ns = x->pos;
    size_t nl = scan_name(x);
    if (!nl || x->pos >= x->len || x->p[x->pos] != ';') {
      fail(x, s, "'&' that does not start a reference (write &amp;)");
      return false;
    }
    x->pos++;
    n = 0;
    for (size_t i = 0; i < sizeof ents / sizeof ents[0]; i++) {
      if (strlen(ents[i].name) == nl &&
          memcmp(ents[i].name, x->p + ns, nl) == 0) {
        out[0] = ents[i].c;
        n = 1;
      }
    }
    if (!n) {
      fail(x, s, "unknown entity '&%.*s;'", (int)(nl > 32 ? 32 : nl),
           x->p + ns);
      return false;
    }
  }
  if (!put(x, out, n)) {
    fail(x, s, "internal error: scratch buffer too small");
    return false;
  }
  return true;
}

/* attr_value - a quoted attribute value at pos, decoded and normalized
 * (each literal tab, newline or CR/LF pair becomes one space). */
static bool
attr_value(struct xml_lex *x, struct xml_attr *a)
{
  size_t s = x->pos;
  char q = x->p[x->pos++];
  a->value = x->buf + x->bufused;
  size_t start = x->bufused;
  for (;;) {
    if (x->pos >= x->len) {
      fail(x, s, "unterminated attribute value");
      return false;
    }
    char c = x->p[x->pos];
    if (c == q) {
      x->pos++;
      break;
    }
    if (c == '<') {
      fail(x, x->pos, "'<' in an attribute value");
      return false;
    }
    if (c == '&') {
      if (!reference(x)) return false;
      continue;
    }
    if (c == '\r' && x->pos + 1 < x->len && x->p[x->pos + 1] == '\n') x->pos++;
    if (is_space(c)) c = ' ';
    if (!put(x, &c, 1)) {
      fail(x, s, "internal error: scratch buffer too small");
      return false;
    }
    x->pos++;
  }
  a->value_len = x->bufused - start;
  if (!put(x, "", 1)) {
    fail(x, s, "internal error: scratch buffer too small");
    return false;
  }
  return true;
}

static enum xml_tok
start_tag(struct xml_lex *x)
{
  size_t s = x->pos;
  x->pos++;
  const char *name = x->p + x->pos;
  size_t nl = scan_name(x);
  if (!nl) return fail(x, x->pos, "expected an element name after '<'");
  if (x->state == ST_EPILOG)
    return fail(x, s, "a second root element <%.*s>", (int)(nl > 32 ? 32 : nl),
                name);
  for (;;) {
    size_t sp = skip_space(x);
    if (x->pos >= x->len)
      return fail(x, s, "unterminated start tag <%.*s>",
                  (int)(nl > 32 ? 32 : nl), name);
    char c = x->p[x->pos];
    if (c == '>') {
      x->pos++;
      break;
    }
    if (c == '/') {
      if (x->pos + 1 >= x->len || x->p[x->pos + 1] != '>')
        return fail(x, x->pos, "expected '>' after '/'");
      x->pos += 2;
      x->empty = true;
      break;
    }
    if (!sp) return fail(x, x->pos, "expected whitespace, '>' or '/>'");
    size_t as = x->pos;
    size_t al = scan_name(x);
    if (!al) return fail(x, x->pos, "expected an attribute name");
    if (x->nattr == XML_MAX_ATTRS)
      return fail(x, as, "more than %d attributes", XML_MAX_ATTRS);
    for (size_t i = 0; i < x->nattr; i++) {
      if (x->attr[i].name_len == al &&
          memcmp(x->attr[i].name, x->p + as, al) == 0)
        return fail(x, as, "duplicate attribute '%.*s'",
                    (int)(al > 32 ? 32 : al), x->p + as);
    }
    skip_space(x);
    if (x->pos >= x->len || x->p[x->pos] != '=')
      return fail(x, x->pos, "expected '=' after attribute name");
    x->pos++;
    skip_space(x);
    if (x->pos >= x->len || (x->p[x->pos] != '"' && x->p[x->pos] != '\''))
      return fail(x, x->pos, "expected a quoted attribute value");
    struct xml_attr *a = &x->attr[x->nattr];
    a->name = x->p + as;
    a->name_len = al;
    a->off = as;
    if (!attr_value(x, a)) return XML_TOK_ERROR;
    x->nattr++;
  }
  if (x->depth == XML_MAX_DEPTH)
    return fail(x, s, "elements nested deeper than %d", XML_MAX_DEPTH);
  x->stack[x->depth].s = name;
  x->stack[x->depth].n = nl;
  x->depth++;
  x->state = ST_ROOT;
  x->name = name;
  x->name_len = nl;
  x->pending_end = x->empty;
  x->tok = XML_TOK_START;
  return XML_TOK_START;
}

static enum xml_tok
end_tag(struct xml_lex *x)
{
  size_t s = x->pos;
  x->pos += 2;
  const char *name = x->p + x->pos;
  size_t nl = scan_name(x);
  if (!nl) return fail(x, x->pos, "expected an element name after '</'");
  skip_space(x);
  if (x->pos >= x->len || x->p[x->pos] != '>')
    return fail(x, x->pos, "expected '>' to end </%.*s>",
                (int)(nl > 32 ? 32 : nl), name);
  x->pos++;
  if (!x->depth)
    return fail(x, s, "end tag </%.*s> without a start tag",
                (int)(nl > 32 ? 32 : nl), name);
  const struct xml_name *top = &x->stack[x->depth - 1];
  if (top->n != nl || memcmp(top->s, name, nl) != 0)
    return fail(x, s, "end tag </%.*s> does not match <%.*s>",
                (int)(nl > 32 ? 32 : nl), name,
                (int)(top->n > 32 ? 32 : top->n), top->s);
  x->depth--;
  if (!x->depth) x->state = ST_EPILOG;
  x->name = name;
  x->name_len = nl;
  x->tok = XML_TOK_END;
  return XML_TOK_END;
}

static enum xml_tok
comment(struct xml_lex *x)
{
  size_t s = x->pos;
  x->pos += 4;
  for (; x->pos + 1 < x->len; x->pos++) {
    if (x->p[x->pos] == '-' && x->p[x->pos + 1] == '-') {
      if (x->pos + 2 < x->len && x->p[x->pos + 2] == '>') {
        x->pos += 3;
        return XML_TOK_EOF; /* consumed; the caller goes on */
      }
      return fail(x, x->pos, "'--' inside a comment");
    }
  }
  return fail(x, s, "unterminated comment");
}

/* pi - a processing instruction, or the XML declaration at the start. */
static enum xml_tok
pi(struct xml_lex *x)
{
  size_t s = x->pos;
  x->pos += 2;
  const char *target = x->p + x->pos;
  size_t tl = scan_name(x);
  if (!tl) return fail(x, x->pos, "expected a target name after '<?'");
  bool is_xml = tl == 3 && (target[0] | 0x20) == 'x' &&
                (target[1] | 0x20) == 'm' && (target[2] | 0x20) == 'l';
  if (is_xml && s != x->start)
    return fail(x, s, "XML declaration not at the start of the document");
  size_t body = x->pos;
  size_t end = 0;
  for (size_t i = x->pos; i + 1 < x->len; i++) {
    if (x->p[i] == '?' && x->p[i + 1] == '>') {
      end = i;
      break;
    }
  }
  if (!end) return fail(x, s, "unterminated processing instruction");
  if (end > body && !is_space(x->p[body]))
    return fail(x, body, "expected whitespace after the target name");
  x->pos = end + 2;
  if (is_xml) {
    /* Only UTF-8 is read; refuse a declared encoding that differs. */
    const char *enc = NULL;
    for (size_t i = body; i + 8 <= end; i++) {
      if (memcmp(x->p + i, "encoding", 8) == 0) {
        enc = x->p + i + 8;
        break;
      }
    }
    if (enc) {
      while (enc < x->p + end && (is_space(*enc) || *enc == '='))
        enc++;
      if (enc < x->p + end && (*enc == '"' || *enc == '\'')) {
        char q = *enc++;
        const char *e = memchr(enc, q, (size_t)(x->p + end - enc));
        size_t n = e ? (size_t)(e - enc) : 0;
        bool utf8 = n == 5 && (enc[0] | 0x20) == 'u' &&
                    (enc[1] | 0x20) == 't' && (enc[2] | 0x20) == 'f' &&
                    enc[3] == '-' && enc[4] == '8';
        bool utf8b = n == 4 && (enc[0] | 0x20) == 'u' &&
                     (enc[1] | 0x20) == 't' && (enc[2] | 0x20) == 'f' &&
                     enc[3] == '8';
        if (!utf8 && !utf8b)
          return fail(x, (size_t)(enc - x->p),
                      "unsupported encoding '%.*s' (only UTF-8 is read)",
                      (int)(n > 32 ? 32 : n), enc);
      }
    }
  }
  return XML_TOK_EOF;
}

static enum xml_tok
cdata(struct xml_lex *x)
{
  size_t s = x->pos;
  x->pos += 9;
  size_t b = x->pos;
  for (size_t i = b; i + 2 < x->len; i++) {
    if (x->p[i] == ']' && x->p[i + 1] == ']' && x->p[i + 2] == '>') {
      if (!put(x, x->p + b, i - b) || !put(x, "", 1))
        return fail(x, s, "internal error: scratch buffer too small");
      x->text = x->buf;
      x->text_len = i - b;
      x->pos = i + 3;
      x->tok = XML_TOK_TEXT;
      return XML_TOK_TEXT;
    }
  }
  return fail(x, s, "unterminated CDATA section");
}

/* text - character data up to the next '<'. Outside the root element
 * only whitespace may appear; it is skipped (returns XML_TOK_EOF). */
static enum xml_tok
text(struct xml_lex *x)
{
  size_t s = x->pos;
  if (x->state != ST_ROOT) {
    skip_space(x);
    if (x->pos < x->len && x->p[x->pos] != '<')
      return fail(x, x->pos, "text outside the root element");
    return XML_TOK_EOF;
  }
  while (x->pos < x->len && x->p[x->pos] != '<') {
    char c = x->p[x->pos];
    if (c == '&') {
      if (!reference(x)) return XML_TOK_ERROR;
      continue;
    }
    if (c == ']' && x->len - x->pos >= 3 && x->p[x->pos + 1] == ']' &&
        x->p[x->pos + 2] == '>')
      return fail(x, x->pos, "']]>' in text");
    if (c == '\r') {
      if (x->pos + 1 < x->len && x->p[x->pos + 1] == '\n') x->pos++;
      c = '\n';
    }
    if (!put(x, &c, 1))
      return fail(x, s, "internal error: scratch buffer too small");
    x->pos++;
  }
  size_t n = x->bufused;
  if (!put(x, "", 1))
    return fail(x, s, "internal error: scratch buffer too small");
  x->text = x->buf;
  x->text_len = n;
  x->tok = XML_TOK_TEXT;
  return XML_TOK_TEXT;
}

enum xml_tok
xml_lex_next(struct xml_lex *x)
{
  if (x->tok == XML_TOK_ERROR) return XML_TOK_ERROR;
  if (x->state == ST_DONE) return XML_TOK_EOF;
  if (!x->checked) {
    x->checked = true;
    if (check_chars(x) == XML_TOK_ERROR) return XML_TOK_ERROR;
  }
  x->bufused = 0;
  x->nattr = 0;
  x->empty = false;
  x->name = NULL;
  x->name_len = 0;
  x->text = NULL;
  x->text_len = 0;
  if (x->pending_end) {
    x->pending_end = false;
    x->depth--;
    if (!x->depth) x->state = ST_EPILOG;
    x->tok_off = x->pos;
    x->name = x->stack[x->depth].s;
    x->name_len = x->stack[x->depth].n;
    x->tok = XML_TOK_END;
    return XML_TOK_END;
  }
  for (;;) {
    x->tok_off = x->pos;
    if (x->pos >= x->len) {
      if (x->state == ST_ROOT) {
        const struct xml_name *top = &x->stack[x->depth - 1];
        return fail(x, x->len, "end of input inside <%.*s>",
                    (int)(top->n > 32 ? 32 : top->n), top->s);
      }
      if (x->state == ST_PROLOG) return fail(x, x->len, "no root element");
      x->state = ST_DONE;
      x->tok = XML_TOK_EOF;
      return XML_TOK_EOF;
    }
    enum xml_tok t;
    if (x->p[x->pos] != '<') {
      t = text(x);
      if (t == XML_TOK_EOF) continue;
      return t;
    }
    if (at(x, "<!--"))
      t = comment(x);
    else if (at(x, "<?"))
      t = pi(x);
    else if (at(x, "<![CDATA[")) {
      if (x->state != ST_ROOT)
        return fail(x, x->pos, "CDATA section outside the root element");
      return cdata(x);
    } else if (at(x, "<!DOCTYPE"))
      return fail(x, x->pos, "DOCTYPE is not supported");
    else if (at(x, "<!"))
      return fail(x, x->pos, "unexpected '<!'");
    else if (at(x, "</"))
      return end_tag(x);
    else
      return start_tag(x);
    if (t == XML_TOK_ERROR) return t;
  }
}

void
xml_position(const char *p, size_t len, size_t off, unsigned long *line,
             unsigned long *col)
{
  size_t i = 0;
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) i = 3;
  if (off > len) off = len;
  unsigned long l = 1, c = 1;
  for (; i < off; i++) {
    unsigned char u = (unsigned char)p[i];
    if (u == '\n') {
      l++;
      c = 1;
    } else if ((u & 0xC0) != 0x80) {
      c++;
    }
  }
  *line = l;
  *col = c;
}

const char *
xml_local(const char *name, size_t len, size_t *local_len)
{
  size_t i = len;
  while (i > 0 && name[i - 1] != ':')
    i--;
  *local_len = len - i;
  return name + i;
}

bool
xml_name_is(const char *name, size_t len, const char *local)
{
  size_t n;
  const char *l = xml_local(name, len, &n);
  return strlen(local) == n && memcmp(l, local, n) == 0;
}
