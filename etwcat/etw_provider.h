/*
 * etw_provider.h - parse etwcat's --provider=NAME|GUID[:KEYWORDS[:LEVEL]].
 *
 * GUID is 8-4-4-4-12 hex digits, with or without braces; anything else
 * before the first ':' is a provider name, resolved later (on Windows,
 * through TDH). KEYWORDS is a number (0x... hex or decimal) and defaults
 * to all bits; LEVEL is 0-255 or one of critical, error, warning,
 * information (info), verbose, and defaults to 255 (everything). An
 * empty field keeps the default ("Name::4"). Plain C on every OS, so the
 * option is checked the same way everywhere.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ETWCAT_ETW_PROVIDER_H
#define ETWCAT_ETW_PROVIDER_H

#include "lib/platform.h"

#define ETW_PROVIDER_NAME_MAX 256

struct etw_provider {
  char name[ETW_PROVIDER_NAME_MAX]; /* as given (a GUID's text too) */
  bool has_guid;
  uint8_t guid[16];  /* Windows GUID byte layout; valid when has_guid */
  uint64_t keywords; /* MatchAnyKeyword */
  uint8_t level;
};

/* etw_provider_parse - 0, or -1 with the reason in err (errlen bytes). */
int etw_provider_parse(const char *spec, struct etw_provider *p, char *err,
                       size_t errlen);

/* etw_guid_parse - parse n bytes of text as a GUID; false if it is not
 * one. */
bool etw_guid_parse(const char *s, size_t n, uint8_t guid[16]);

#endif
