/*
 * check.h - the few macros unit tests use.
 *
 * A unit test is tests/unit/test_<name>.c with its own main(). It runs from
 * the repository root, prints one line per failed check, and returns
 * check_result(): 0 when every check passed, 1 otherwise. A test that needs
 * ../shared and cannot find it returns CHECK_SKIP (77) after saying why.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_TESTS_CHECK_H
#define RTK_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

#define CHECK_SKIP 77

static int check_failures;
static int check_count;

#define CHECK(cond)                                                            \
  do {                                                                         \
    check_count++;                                                             \
    if (!(cond)) {                                                             \
      check_failures++;                                                        \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

#define CHECK_STR(got, want)                                                   \
  do {                                                                         \
    const char *g_ = (got), *w_ = (want);                                      \
    check_count++;                                                             \
    if (!g_ || strcmp(g_, w_) != 0) {                                          \
      check_failures++;                                                        \
      fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__,  \
              g_ ? g_ : "(null)", w_);                                         \
    }                                                                          \
  } while (0)

static inline int
check_result(void)
{
  fprintf(stderr, "%d checks, %d failed\n", check_count, check_failures);
  return check_failures ? 1 : 0;
}

#endif
