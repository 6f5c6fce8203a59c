/*
 * etw_provider.c - parse --provider specs (etw_provider.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "etwcat/etw_provider.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool
etw_guid_parse(const char *s, size_t n, uint8_t guid[16])
{
  if (n == 38 && s[0] == '{' && s[37] == '}') {
    s++;
    n = 36;
  }
  if (n != 36) return false;
  /* Text order of the 16 bytes; Data1-3 are stored little-endian. */
  static const uint8_t order[16] = {3, 2, 1,  0,  5,  4,  7,  6,
                                    8, 9, 10, 11, 12, 13, 14, 15};
  size_t b = 0;
  for (size_t i = 0; i < 36;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
      i++;
      continue;
    }
    int hi = hexval(s[i]), lo = hexval(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    guid[order[b++]] = (uint8_t)(hi << 4 | lo);
    i += 2;
  }
  return true;
}

static int
fail(char *err, size_t errlen, const char *spec, const char *why)
{
  if (errlen) snprintf(err, errlen, "--provider=%s: %s", spec, why);
  return -1;
}

static bool
parse_u64(const char *s, size_t n, uint64_t *out)
{
  char tmp[32];
  if (n == 0 || n >= sizeof tmp || s[0] == '-' || s[0] == '+') return false;
  memcpy(tmp, s, n);
  tmp[n] = 0;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(tmp, &end, 0);
  if (errno || *end) return false;
  *out = v;
  return true;
}

static bool
parse_level(const char *s, size_t n, uint8_t *out)
{
  static const struct {
    const char *name;
    uint8_t level;
  } names[] = {{"critical", 1}, {"error", 2},       {"warning", 3},
               {"info", 4},     {"information", 4}, {"informational", 4},
               {"verbose", 5}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strlen(names[i].name) == n && strncmp(names[i].name, s, n) == 0) {
      *out = names[i].level;
      return true;
    }
  uint64_t v;
  if (!parse_u64(s, n, &v) || v > 255) return false;
  *out = (uint8_t)v;
  return true;
}

int
etw_provider_parse(const char *spec, struct etw_provider *p, char *err,
                   size_t errlen)
{
  memset(p, 0, sizeof *p);
  p->keywords = UINT64_MAX;
  p->level = 255;
  const char *c1 = strchr(spec, ':');
  size_t nlen = c1 ? (size_t)(c1 - spec) : strlen(spec);
  if (nlen == 0) return fail(err, errlen, spec, "no provider name or GUID");
  if (nlen >= sizeof p->name)
    return fail(err, errlen, spec, "provider name too long");
  memcpy(p->name, spec, nlen);
  p->name[nlen] = 0;
  p->has_guid = etw_guid_parse(spec, nlen, p->guid);
  if (!c1) return 0;
  const char *kw = c1 + 1;
  const char *c2 = strchr(kw, ':');
  size_t klen = c2 ? (size_t)(c2 - kw) : strlen(kw);
  if (klen && !parse_u64(kw, klen, &p->keywords))
    return fail(err, errlen, spec,
                "keywords must be a number such as 0x10 or 16");
  if (!c2) return 0;
  const char *lv = c2 + 1;
  if (strchr(lv, ':')) return fail(err, errlen, spec, "too many ':' fields");
  if (*lv && !parse_level(lv, strlen(lv), &p->level))
    return fail(err, errlen, spec,
                "level must be 0-255 or critical, error, warning, "
                "information, verbose");
  return 0;
}
