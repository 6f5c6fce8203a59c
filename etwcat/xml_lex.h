/*
 * xml_lex.h - a small, strict XML pull tokenizer for instrumentation
 * manifests.
 *
 * The tokenizer walks a UTF-8 document held by the caller and hands out
 * one token at a time: a start tag with its attributes, an end tag, or a
 * run of character data. An empty-element tag (<a/>) gives a start token
 * and then an end token. Comments, processing instructions, the XML
 * declaration and a leading UTF-8 byte order mark are consumed silently.
 * It checks well-formedness as it goes (valid UTF-8 and XML characters,
 * names, quoting, matching end tags, one root element, the five predefined
 * entities and character references only) and refuses DOCTYPE, so no
 * entity expansion can ever make the output larger than the input.
 * Namespace prefixes stay part of the names; xml_local() gives the local
 * part. Every read of the input is bounded by its length; nesting is
 * bounded by XML_MAX_DEPTH and attributes per tag by XML_MAX_ATTRS.
 *
 * Ownership: the input stays the caller's and must outlive the tokenizer.
 * Element and attribute names point into the input (not NUL-terminated);
 * attribute values and text are decoded into a buffer the tokenizer owns
 * (NUL-terminated) and are valid until the next xml_lex_next() call.
 * Nothing here reports: an error is a token, with a reason and the byte
 * offset where it was found; xml_position() turns an offset into a line
 * and a column for the caller's message.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ETWCAT_XML_LEX_H
#define ETWCAT_XML_LEX_H

#include "lib/platform.h"

#define XML_MAX_DEPTH 64
#define XML_MAX_ATTRS 64

enum xml_tok {
  XML_TOK_EOF = 0, /* the end of a well-formed document */
  XML_TOK_START,   /* <name attr="value" ...> or the start of <name/> */
  XML_TOK_END,     /* </name>, or the end of <name/> */
  XML_TOK_TEXT,    /* character data or a CDATA section, decoded */
  XML_TOK_ERROR    /* see err and err_off; sticks once returned */
};

struct xml_attr {
  const char *name; /* into the input, with any prefix */
  size_t name_len;
  const char *value; /* decoded, NUL-terminated */
  size_t value_len;
  size_t off; /* byte offset of the attribute's name */
};

struct xml_name {
  const char *s;
  size_t n;
};

struct xml_lex {
  /* The current token; valid until the next xml_lex_next() call. */
  enum xml_tok tok;
  size_t tok_off;   /* byte offset of the token's first byte */
  const char *name; /* START and END: the element name, with any prefix */
  size_t name_len;
  const char *text; /* TEXT: decoded, NUL-terminated */
  size_t text_len;
  struct xml_attr attr[XML_MAX_ATTRS]; /* START only */
  size_t nattr;
  bool empty;   /* START of an empty-element tag: its END comes next */
  size_t depth; /* elements open after this token */
  /* XML_TOK_ERROR: what went wrong, and where (a byte offset). */
  char err[96];
  size_t err_off;

  /* Private state. */
  const char *p;
  size_t len;
  size_t pos;
  size_t start; /* first byte after the byte order mark */
  char *buf;
  size_t bufcap;
  size_t bufused;
  struct xml_name stack[XML_MAX_DEPTH];
  int state;
  bool pending_end;
  bool checked;
};

/*
 * xml_lex_init - prepare to tokenize len bytes at p. Returns 0, or -1 when
 * the scratch buffer (len + 1 bytes) cannot be allocated. Call
 * xml_lex_free() afterwards in both cases.
 */
int xml_lex_init(struct xml_lex *x, const char *p, size_t len);

/* xml_lex_free - release the scratch buffer; x may then be reused. */
void xml_lex_free(struct xml_lex *x);

/*
 * xml_lex_next - the next token (also stored in x->tok). After
 * XML_TOK_EOF or XML_TOK_ERROR, every further call returns the same.
 */
enum xml_tok xml_lex_next(struct xml_lex *x);

/*
 * xml_position - the 1-based line and column of byte offset off in the
 * len bytes at p. Lines end at LF; columns count characters (a UTF-8
 * sequence is one column, so is a tab); a leading byte order mark is not
 * counted. An offset past the end means the end.
 */
void xml_position(const char *p, size_t len, size_t off, unsigned long *line,
                  unsigned long *col);

/* xml_local - the part of a name after its last ':' (its local name). */
const char *xml_local(const char *name, size_t len, size_t *local_len);

/* xml_name_is - true when the local part of name equals local. */
bool xml_name_is(const char *name, size_t len, const char *local);

#endif
