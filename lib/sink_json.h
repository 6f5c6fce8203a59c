/*
 * sink_json.h - a fast check that a line is exactly one JSON object.
 *
 * Sinks pass rows through byte for byte, so they need to know a line is
 * valid JSON (RFC 8259, UTF-8) without building a tree: this scanner
 * checks the grammar, string escapes and UTF-8 in one pass and allocates
 * nothing. Nesting deeper than SINK_JSON_MAX_DEPTH is refused.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_SINK_JSON_H
#define RTK_SINK_JSON_H

#include "lib/platform.h"

#define SINK_JSON_MAX_DEPTH 512

/*
 * sink_json_object - check that p[0, n) is one JSON object with nothing
 * but JSON whitespace around it. On success returns 0 and sets [*start,
 * *end) to the object's bytes. On failure returns -1, sets *start to the
 * offset of the offending byte and *why to a static message.
 */
int sink_json_object(const char *p, size_t n, size_t *start, size_t *end,
                     const char **why);

#endif
