/*
 * test_sink_json.c - the one-pass JSON object validator
 * (lib/sink_json.c): what it accepts, what it refuses and where.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "lib/sink_json.h"
#include "tests/unit/check.h"

static int
check(const char *s, size_t *start, size_t *end, const char **why)
{
  return sink_json_object(s, strlen(s), start, end, why);
}

static bool
good(const char *s)
{
  size_t a, b;
  const char *why;
  return check(s, &a, &b, &why) == 0;
}

/* bad - refused, at byte offset `at`, with a message containing `msg`. */
static bool
bad(const char *s, size_t at, const char *msg)
{
  size_t a = 0, b = 0;
  const char *why = "";
  if (check(s, &a, &b, &why) == 0) return false;
  if (a != at || !strstr(why, msg)) {
    fprintf(stderr, "  \"%s\": at %zu \"%s\"\n", s, a, why);
    return false;
  }
  return true;
}

/* Regular cases. */

static void
test_accepts(void)
{
  CHECK(good("{}"));
  CHECK(good(" \t{ } \r"));
  CHECK(good("{\"a\":1}"));
  CHECK(good("{\"a\":-0.5e+10,\"b\":0,\"c\":1E3,\"d\":123.456e-7}"));
  CHECK(good("{\"a\":[],\"b\":[1,[2,[3,{}]]],\"c\":{\"d\":{\"e\":null}}}"));
  CHECK(good("{\"a\":true,\"b\":false,\"c\":null}"));
  CHECK(good("{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\ude00\"}"));
  CHECK(good("{\"caf\xc3\xa9\":\"\xe2\x82\xac \xf0\x9f\x98\x80\"}"));
  CHECK(good("{\"long\":\"abcdefghijklmnopqrstuvwxyz0123456789abcdefgh\"}"));
  CHECK(good("{ \"a\" : [ 1 , 2 ] , \"b\" : { } }"));
  CHECK(good("{\"big\":18446744073709551616}"));

  size_t a, b;
  const char *why;
  CHECK(check("  {\"a\":1}  ", &a, &b, &why) == 0 && a == 2 && b == 9);

  /* Nesting up to the limit is fine, one more is not. */
  char deep[2 * SINK_JSON_MAX_DEPTH + 16];
  size_t n = 0;
  deep[n++] = '{';
  memcpy(deep + n, "\"a\":", 4);
  n += 4;
  for (int i = 1; i < SINK_JSON_MAX_DEPTH; i++)
    deep[n++] = '[';
  for (int i = 1; i < SINK_JSON_MAX_DEPTH; i++)
    deep[n++] = ']';
  deep[n++] = '}';
  deep[n] = '\0';
  CHECK(good(deep));
}

/* Strings long enough to take the 8-byte path, with a special byte at
 * every position. */
static void
test_string_positions(void)
{
  for (int pos = 0; pos < 24; pos++) {
    char s[64] = "{\"k\":\"";
    size_t n = strlen(s);
    for (int i = 0; i < 24; i++)
      s[n + (size_t)i] = i == pos ? '\x01' : 'x';
    s[n + 24] = '"';
    s[n + 25] = '}';
    s[n + 26] = '\0';
    CHECK(bad(s, n + (size_t)pos, "control character"));
    s[n + (size_t)pos] = '"'; /* an early end of the string */
    CHECK(!good(s) || pos == 23);
    s[n + (size_t)pos] = '\xc3'; /* a truncated UTF-8 sequence */
    CHECK(bad(s, n + (size_t)pos, "invalid UTF-8"));
  }
}

/* Error cases. */

static void
test_refuses(void)
{
  CHECK(bad("", 0, "empty"));
  CHECK(bad("   ", 3, "empty"));
  CHECK(bad("[1,2]", 0, "not a JSON object"));
  CHECK(bad("\"s\"", 0, "not a JSON object"));
  CHECK(bad("nope", 0, "not a JSON object"));
  CHECK(bad("{", 1, "unexpected end"));
  CHECK(bad("{\"a\"", 4, "unexpected end"));
  CHECK(bad("{\"a\":", 5, "unexpected end"));
  CHECK(bad("{\"a\":1", 6, "unexpected end"));
  CHECK(bad("{\"a\":1,}", 7, "expected a string key"));
  CHECK(bad("{a:1}", 1, "expected a string key"));
  CHECK(bad("{\"a\" 1}", 5, "expected ':'"));
  CHECK(bad("{\"a\":1 \"b\":2}", 7, "expected ',' or '}'"));
  CHECK(bad("{\"a\":[1 2]}", 8, "expected ',' or ']'"));
  CHECK(bad("{\"a\":[1,]}", 8, "unexpected character"));
  CHECK(bad("{\"a\":01}", 6, "expected ',' or '}'"));
  CHECK(bad("{\"a\":-}", 6, "bad number"));
  CHECK(bad("{\"a\":1.}", 7, "bad number"));
  CHECK(bad("{\"a\":1e}", 7, "bad number"));
  CHECK(bad("{\"a\":+1}", 5, "unexpected character"));
  CHECK(bad("{\"a\":tru}", 5, "unexpected character"));
  CHECK(bad("{\"a\":nul}", 5, "unexpected character"));
  CHECK(bad("{\"a\":NaN}", 5, "unexpected character"));
  CHECK(bad("{\"a\":\"x}", 8, "unterminated string"));
  CHECK(bad("{\"a\":\"\\x\"}", 6, "bad escape"));
  CHECK(bad("{\"a\":\"\\u12G4\"}", 6, "bad \\u escape"));
  CHECK(bad("{\"a\":\"\\u12\"}", 6, "bad \\u escape"));
  CHECK(bad("{\"a\":\"\t\"}", 6, "control character"));
  CHECK(bad("{\"a\":\"\xc0\xaf\"}", 6, "invalid UTF-8"));     /* overlong */
  CHECK(bad("{\"a\":\"\xed\xa0\x80\"}", 6, "invalid UTF-8")); /* surrogate */
  CHECK(bad("{\"a\":\"\xf4\x90\x80\x80\"}", 6, "invalid UTF-8"));
  CHECK(bad("{\"a\":\"\xff\"}", 6, "invalid UTF-8"));
  CHECK(bad("{\"a\":\"\x80\"}", 6, "invalid UTF-8"));
  CHECK(bad("{}x", 2, "text after the object"));
  CHECK(bad("{} {}", 3, "text after the object"));
  CHECK(bad("{\"a\":1}}", 7, "text after the object"));
  CHECK(bad("{\"a\":[}", 6, "unexpected character"));

  char nul[] = "{\"a\":1}";
  size_t a, b;
  const char *why;
  nul[4] = '\0'; /* NUL where ':' was */
  CHECK(sink_json_object(nul, 7, &a, &b, &why) == -1 && a == 4);

  char deep[2 * SINK_JSON_MAX_DEPTH + 16];
  size_t n = 0;
  deep[n++] = '{';
  memcpy(deep + n, "\"a\":", 4);
  n += 4;
  for (int i = 0; i < SINK_JSON_MAX_DEPTH; i++)
    deep[n++] = '[';
  deep[n] = '\0';
  CHECK(bad(deep, 5 + SINK_JSON_MAX_DEPTH - 1, "nesting too deep"));
}

int
main(void)
{
  test_accepts();
  test_string_positions();
  test_refuses();
  return check_result();
}
