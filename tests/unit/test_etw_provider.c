/*
 * test_etw_provider.c - parsing of etwcat's --provider specs
 * (etw_provider.c).
 *
 * Regular cases: a name, a GUID with and without braces (byte layout
 * checked), keywords in hex and decimal, level numbers and names, empty
 * fields keeping their defaults. Error cases: empty name, bad keywords,
 * bad levels, too many fields, an over-long name, near-GUIDs that must be
 * taken as names.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "etwcat/etw_provider.h"
#include "tests/unit/check.h"

#include <string.h>

static const uint8_t kn_guid[16] = {0x49, 0x2a, 0xd4, 0x7d, 0x29, 0x53,
                                    0x32, 0x48, 0x8d, 0xfd, 0x43, 0xd9,
                                    0x79, 0x15, 0x3a, 0x88};

static void
regular_cases(void)
{
  struct etw_provider p;
  char err[300];

  CHECK(etw_provider_parse("Microsoft-Windows-Kernel-Network", &p, err,
                           sizeof err) == 0);
  CHECK_STR(p.name, "Microsoft-Windows-Kernel-Network");
  CHECK(!p.has_guid && p.keywords == UINT64_MAX && p.level == 255);

  CHECK(etw_provider_parse("7dd42a49-5329-4832-8dfd-43d979153a88", &p, err,
                           sizeof err) == 0);
  CHECK(p.has_guid && memcmp(p.guid, kn_guid, 16) == 0);

  CHECK(etw_provider_parse("{7DD42A49-5329-4832-8DFD-43D979153A88}:0x10:4", &p,
                           err, sizeof err) == 0);
  CHECK(p.has_guid && memcmp(p.guid, kn_guid, 16) == 0);
  CHECK(p.keywords == 0x10 && p.level == 4);

  CHECK(etw_provider_parse("X:16:verbose", &p, err, sizeof err) == 0);
  CHECK(p.keywords == 16 && p.level == 5);
  CHECK(etw_provider_parse("X::critical", &p, err, sizeof err) == 0);
  CHECK(p.keywords == UINT64_MAX && p.level == 1);
  CHECK(etw_provider_parse("X:0xffffffffffffffff:", &p, err, sizeof err) == 0);
  CHECK(p.keywords == UINT64_MAX && p.level == 255);
  CHECK(etw_provider_parse("X:0", &p, err, sizeof err) == 0);
  CHECK(p.keywords == 0);
  CHECK(etw_provider_parse("X::0", &p, err, sizeof err) == 0);
  CHECK(p.level == 0);
  CHECK(etw_provider_parse("X::informational", &p, err, sizeof err) == 0);
  CHECK(p.level == 4);
}

static void
error_cases(void)
{
  struct etw_provider p;
  char err[300];

  CHECK(etw_provider_parse("", &p, err, sizeof err) == -1);
  CHECK(strstr(err, "no provider name"));
  CHECK(etw_provider_parse(":0x10", &p, err, sizeof err) == -1);
  CHECK(etw_provider_parse("X:zz", &p, err, sizeof err) == -1);
  CHECK(strstr(err, "--provider=X:zz: keywords") == err);
  CHECK(etw_provider_parse("X:-1", &p, err, sizeof err) == -1);
  CHECK(etw_provider_parse("X:0x1ffffffffffffffff", &p, err, sizeof err) == -1);
  CHECK(etw_provider_parse("X:1:256", &p, err, sizeof err) == -1);
  CHECK(etw_provider_parse("X:1:loud", &p, err, sizeof err) == -1);
  CHECK(strstr(err, "level must be"));
  CHECK(etw_provider_parse("X:1:2:3", &p, err, sizeof err) == -1);
  CHECK(strstr(err, "too many"));
  char longname[ETW_PROVIDER_NAME_MAX + 2];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = 0;
  CHECK(etw_provider_parse(longname, &p, err, sizeof err) == -1);
  /* Near-GUIDs are names (resolved, and reported, later). */
  CHECK(etw_provider_parse("7dd42a49-5329-4832-8dfd-43d979153a8", &p, err,
                           sizeof err) == 0 &&
        !p.has_guid);
  CHECK(etw_provider_parse("7dd42a49+5329-4832-8dfd-43d979153a88", &p, err,
                           sizeof err) == 0 &&
        !p.has_guid);
  CHECK(etw_provider_parse("{7dd42a49-5329-4832-8dfd-43d979153a88", &p, err,
                           sizeof err) == 0 &&
        !p.has_guid);
  CHECK(etw_provider_parse("7dd42a49-5329-4832-8dfd-43d979153g88", &p, err,
                           sizeof err) == 0 &&
        !p.has_guid);
  /* errlen 0: no message, still an error. */
  CHECK(etw_provider_parse("", &p, NULL, 0) == -1);
}

int
main(void)
{
  regular_cases();
  error_cases();
  return check_result();
}
