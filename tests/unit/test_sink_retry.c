/*
 * test_sink_retry.c - which failures are retried and how long the sink
 * waits (lib/sink_retry.c), and the option value parsers
 * (lib/sink_opts.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "lib/sink_opts.h"
#include "lib/sink_retry.h"
#include "tests/unit/check.h"

/* Regular cases. */

static void
test_transient(void)
{
  static const long yes[] = {408, 429, 500, 502, 503, 504};
  static const long no[] = {200, 201, 400, 401, 403, 404, 409, 413, 501, 505};
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
    CHECK(sink_retry_transient(yes[i], false));
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    CHECK(!sink_retry_transient(no[i], true));
  CHECK(sink_retry_transient(0, true));
  CHECK(!sink_retry_transient(0, false));
}

static void
test_retry_after(void)
{
  int64_t now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
  CHECK(sink_retry_after_ms("0", now) == 0);
  CHECK(sink_retry_after_ms("1", now) == 1000);
  CHECK(sink_retry_after_ms(" 120 ", now) == 120000);
  CHECK(sink_retry_after_ms("99999999999999999999999", now) ==
        SINK_RETRY_AFTER_MAX_MS);
  CHECK(sink_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", now) == 0);
  CHECK(sink_retry_after_ms("Sun, 06 Nov 1994 08:49:47 GMT", now) == 10000);
  CHECK(sink_retry_after_ms("Sun, 06 Nov 1994 08:48:37 GMT", now) == 0);
  CHECK(sink_retry_after_ms("Mon, 07 Nov 1994 08:49:37 GMT", now) ==
        SINK_RETRY_AFTER_MAX_MS);
  CHECK(sink_retry_after_ms("Thu, 29 Feb 2024 00:00:00 GMT", 1709164790) ==
        10000);
}

static void
test_delay(void)
{
  struct sink_backoff b;
  sink_backoff_init(&b, 100, 1000);
  CHECK(sink_retry_delay_ms(&b, 0, 2500) == 2500);
  for (int round = 0; round < 200; round++) {
    uint64_t d0 = sink_retry_delay_ms(&b, 0, -1);
    uint64_t d1 = sink_retry_delay_ms(&b, 1, -1);
    uint64_t d3 = sink_retry_delay_ms(&b, 3, -1);
    uint64_t d9 = sink_retry_delay_ms(&b, 9, -1);
    uint64_t d99 = sink_retry_delay_ms(&b, 99, -1);
    CHECK(d0 >= 50 && d0 <= 100);
    CHECK(d1 >= 100 && d1 <= 200);
    CHECK(d3 >= 400 && d3 <= 800);
    CHECK(d9 >= 500 && d9 <= 1000);
    CHECK(d99 >= 500 && d99 <= 1000);
  }
  /* Jitter: not every delay is the same. */
  uint64_t first = sink_retry_delay_ms(&b, 5, -1);
  bool differs = false;
  for (int i = 0; i < 50 && !differs; i++)
    differs = sink_retry_delay_ms(&b, 5, -1) != first;
  CHECK(differs);
  sink_backoff_init(&b, 0, 0);
  CHECK(sink_retry_delay_ms(&b, 3, -1) == 0);
}

static void
test_parsers(void)
{
  uint64_t v;
  CHECK(sink_parse_count("0", &v) == 0 && v == 0);
  CHECK(sink_parse_count("10000", &v) == 0 && v == 10000);
  CHECK(sink_parse_size("4096", &v) == 0 && v == 4096);
  CHECK(sink_parse_size("4k", &v) == 0 && v == 4096);
  CHECK(sink_parse_size("4KiB", &v) == 0 && v == 4096);
  CHECK(sink_parse_size("8M", &v) == 0 && v == 8u << 20);
  CHECK(sink_parse_size("1G", &v) == 0 && v == 1u << 30);
  CHECK(sink_parse_secs("1", &v) == 0 && v == 1000);
  CHECK(sink_parse_secs("0.5", &v) == 0 && v == 500);
  CHECK(sink_parse_secs(".25", &v) == 0 && v == 250);
  CHECK(sink_parse_secs("250ms", &v) == 0 && v == 250);
  CHECK(sink_parse_secs("2s", &v) == 0 && v == 2000);
  CHECK(sink_parse_secs("1.5m", &v) == 0 && v == 90000);
  CHECK(sink_parse_secs("1h", &v) == 0 && v == 3600000);
  CHECK(sink_parse_secs("0.0001", &v) == 0 && v == 0);
}

/* Error cases. */

static void
test_parser_errors(void)
{
  uint64_t v;
  static const char *const counts[] = {
      "", "-1", "+1", "1x", " 1", "1e3", "99999999999999999999"};
  for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
    CHECK(sink_parse_count(counts[i], &v) == -1);
  static const char *const sizes[] = {"", "k", "1T", "1kk", "-4k", "2000G"};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    CHECK(sink_parse_size(sizes[i], &v) == -1);
  static const char *const secs[] = {"",    ".",    "1x",        "-1",
                                     "1 s", "1..2", "1000000000"};
  for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++)
    CHECK(sink_parse_secs(secs[i], &v) == -1);
  CHECK(sink_retry_after_ms(NULL, 0) == -1);
  CHECK(sink_retry_after_ms("", 0) == -1);
  CHECK(sink_retry_after_ms("soon", 0) == -1);
  CHECK(sink_retry_after_ms("5 s", 0) == -1);
  CHECK(sink_retry_after_ms("Sun, 06 Nov 1994 08:49:37 UTC", 0) == -1);
  CHECK(sink_retry_after_ms("Sun, 32 Nov 1994 08:49:37 GMT", 0) == -1);
  CHECK(sink_retry_after_ms("Sun, 06 Foo 1994 08:49:37 GMT", 0) == -1);
  CHECK(sink_retry_after_ms("Sun, 06 Nov 1994 24:49:37 GMT", 0) == -1);
}

int
main(void)
{
  test_transient();
  test_retry_after();
  test_delay();
  test_parsers();
  test_parser_errors();
  return check_result();
}
