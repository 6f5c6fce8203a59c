/*
 * test_kql.c - unit tests of kqlfilter's building blocks: the lexer,
 * datetime and timespan text forms, the JSON scanner, the regex engine,
 * wildcard patterns and value comparison. Whole queries are tested by
 * the .test files in tests/kql (tests/cli/kqlfilter_tests.sh).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "kqlfilter/kql_func.h"
#include "tests/unit/check.h"

#include <string.h>

static int
tok_types(const char *s, int *out, int max)
{
  size_t off = 0, len = strlen(s);
  int n = 0;
  for (;;) {
    struct kql_token t = kql_lex_next(s, len, off);
    if (t.type == KQL_TOK_EOF || n == max) return n;
    out[n++] = t.type;
    off = t.end;
  }
}

static void
test_lexer(void)
{
  int t[16];
  int n = tok_types("T | where x !in~ (1, 2.5, 10m) // c", t, 16);
  CHECK(n == 12);
  CHECK(t[0] == KQL_TOK_IDENT && t[1] == KQL_TOK_PUNCT);
  CHECK(t[4] == KQL_TOK_BANGWORD);
  CHECK(t[6] == KQL_TOK_INT && t[8] == KQL_TOK_REAL);
  CHECK(t[10] == KQL_TOK_TIMESPAN);
  n = tok_types("@\"a\\b\" 'x''y' h\"s\" ```m\nl```", t, 16);
  CHECK(n == 5 && t[0] == KQL_TOK_STRING && t[4] == KQL_TOK_STRING);
  n = tok_types("\"open", t, 16);
  CHECK(n == 1 && t[0] == KQL_TOK_BADSTRING);
  n = tok_types("a \x01", t, 16);
  CHECK(n == 2 && t[1] == KQL_TOK_ILLEGAL);
  /* an empty line before a token is noted; a comment line is not empty */
  const char *s = "a\n\nb\n// x\nc";
  struct kql_token a = kql_lex_next(s, strlen(s), 1);
  CHECK(a.blank_before);
  struct kql_token c = kql_lex_next(s, strlen(s), 4);
  CHECK(!c.blank_before);
}

static void
test_time(void)
{
  int64_t t;
  char b[48];
  CHECK(kql_parse_datetime("2010-06-09T21:39:21.1234567Z", 28, &t));
  kql_fmt_datetime(t, b);
  CHECK_STR(b, "2010-06-09T21:39:21.1234567Z");
  CHECK(kql_parse_datetime("0001-01-01", 10, &t) && t == 0);
  CHECK(kql_parse_datetime("1970-01-01 00:00:00", 19, &t) &&
        t == KQL_UNIX_EPOCH);
  CHECK(kql_parse_datetime("2020-01-01T01:00:00+01:00", 25, &t));
  kql_fmt_datetime(t, b);
  CHECK_STR(b, "2020-01-01T00:00:00.0000000Z");
  CHECK(kql_parse_datetime("Sat, 08 Nov 2014 15:05:02 GMT", 29, &t));
  CHECK(kql_parse_datetime("12/02/2022", 10, &t));
  CHECK(!kql_parse_datetime("2021-02-29", 10, &t));
  CHECK(!kql_parse_datetime("2020-01-01T25:00", 16, &t));
  CHECK(!kql_parse_datetime("", 0, &t));
  CHECK(kql_parse_timespan("1.02:03:04.5", 12, &t));
  kql_fmt_timespan(t, b);
  CHECK_STR(b, "1.02:03:04.5000000");
  CHECK(kql_parse_timespan("-00:30:00", 9, &t) && t < 0);
  kql_fmt_timespan(t, b);
  CHECK_STR(b, "-00:30:00");
  CHECK(kql_parse_timespan("1.5h", 4, &t) && t == 54000000000LL);
  CHECK(kql_parse_timespan("100ms", 5, &t) && t == 1000000);
  CHECK(!kql_parse_timespan("12", 2, &t));
  CHECK(!kql_parse_timespan("1y", 2, &t));
}

static bool
valid(const char *s)
{
  size_t n = strlen(s);
  const char *e = kql_json_skip(s, s + n, 0);
  return e && kql_json_ws(e, s + n) == s + n;
}

static void
test_json(void)
{
  CHECK(valid("{\"a\":[1,2.5e3,-0.5,true,false,null,\"x\\\"y\"],\"b\":{}}"));
  CHECK(valid(" [ ] "));
  CHECK(!valid("{\"a\":}"));
  CHECK(!valid("{\"a\":1,}"));
  CHECK(!valid("[1 2]"));
  CHECK(!valid("\"unterminated"));
  CHECK(!valid("{\"a\":01x}"));
  CHECK(!valid("tru"));
  struct kql_arena a;
  kql_arena_init(&a);
  struct kql_val v = kql_json_string(&a, "\"a\\u00e9\\n\"", 11);
  CHECK(v.n == 4 && !memcmp(v.u.s, "a\xc3\xa9\n", 4));
  v = kql_json_string(&a, "\"\\ud83d\\ude00\"", 14);
  CHECK(v.n == 4 && !memcmp(v.u.s, "\xf0\x9f\x98\x80", 4));
  struct kql_val x;
  kql_json_value(&a, "18446744073709551615", 20, false, &x);
  CHECK(x.t == KQL_T_REAL);
  kql_json_value(&a, "-42", 3, false, &x);
  CHECK(x.t == KQL_T_LONG && x.u.i == -42);
  CHECK(kql_json_parse_text(&a, "{\"k\":{\"n\":[7]}}", 15, &x));
  struct kql_val k, m;
  CHECK(kql_dyn_member(&a, &x, "k", 1, &k));
  CHECK(kql_dyn_member(&a, &k, "n", 1, &m) && kql_dyn_index(&a, &m, 0, &x));
  CHECK(x.t == KQL_T_LONG && x.u.i == 7);
  kql_arena_free(&a);
}

static bool
re_match(const char *pat, const char *s, long *caps)
{
  char err[128];
  struct kql_regex *re = kql_regex_compile(pat, strlen(pat), 0, err, 128);
  if (!re) return false;
  bool r = kql_regex_search(re, s, strlen(s), 0, caps);
  kql_regex_free(re);
  return r;
}

static void
test_regex(void)
{
  long c[32];
  CHECK(re_match("a(b+)c", "xxabbbc", c) && c[0] == 2 && c[2] == 3 &&
        c[3] == 6);
  CHECK(re_match("^\\d{2,3}$", "123", c));
  CHECK(!re_match("^\\d{2,3}$", "1234", c));
  CHECK(re_match("(a|ab)(c|bcd)", "abcd", c) && c[1] == 4);
  CHECK(re_match("a.*?b", "aXbYb", c) && c[1] == 3);
  CHECK(re_match("a.*b", "aXbYb", c) && c[1] == 5);
  CHECK(re_match("(?i)HELLO", "say hello", c) && c[0] == 4);
  CHECK(re_match("[^a-c]+", "abcxyz", c) && c[0] == 3);
  CHECK(re_match("\\bfoo\\b", "a foo b", c) && c[0] == 2);
  CHECK(!re_match("\\bfoo\\b", "afoob", c));
  CHECK(re_match("(?P<n>\\w+)@", "me@x", c) && c[2] == 0 && c[3] == 2);
  /* no catastrophic backtracking: the memo keeps this linear */
  char s[4096];
  memset(s, 'a', sizeof s - 1);
  s[sizeof s - 1] = 0;
  CHECK(!re_match("(a*)*b", s, c));
  char err[128];
  CHECK(!kql_regex_compile("a(b", 3, 0, err, sizeof err));
  CHECK(!kql_regex_compile("(a)\\1", 5, 0, err, sizeof err));
  CHECK(!kql_regex_compile("*a", 2, 0, err, sizeof err));
}

static void
test_values(void)
{
  CHECK(kql_fn_table_sorted());
  CHECK(kql_fn_find("strcat", 6) && !kql_fn_find("nosuch", 6));
  CHECK(kql_agg_find("dcount", 6) && !kql_agg_find("strlen", 6));
  CHECK(kql_wild("Event*", "EventId", 7));
  CHECK(kql_wild("*Id", "EventId", 7));
  CHECK(!kql_wild("E*x", "EventId", 7));
  CHECK(kql_wild("*", "", 0));
  struct kql_val a = kql_v_long(1), b = kql_v_real(1.0);
  CHECK(kql_val_cmp(NULL, &a, &b, false) == 0);
  CHECK(kql_val_same(&a, &b));
  CHECK(kql_val_hash(&a, 1) == kql_val_hash(&b, 1));
  struct kql_val s1 = kql_v_str("abc", 3), s2 = kql_v_str("ABC", 3);
  CHECK(kql_val_cmp(NULL, &s1, &s2, true) == 0);
  CHECK(kql_val_cmp(NULL, &s1, &s2, false) > 0);
  struct kql_val n = kql_v_null(KQL_T_LONG);
  CHECK(kql_val_sortcmp(&n, &a) < 0);
  struct kql_arena ar;
  kql_arena_init(&ar);
  struct kql_val t = kql_convert(&ar, &s1, KQL_T_LONG);
  CHECK(t.null);
  struct kql_val d = kql_v_str("2020-01-01", 10);
  t = kql_convert(&ar, &d, KQL_T_DATETIME);
  CHECK(!t.null && t.t == KQL_T_DATETIME);
  kql_arena_free(&ar);
}

int
main(void)
{
  test_lexer();
  test_time();
  test_json();
  test_regex();
  test_values();
  return check_result();
}
