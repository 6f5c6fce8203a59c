/*
 * sink_retry.h - when to retry a delivery, and how long to wait first.
 *
 * Two separate questions, as curl's retrycheck()/retry_sleep() keep them:
 * sink_retry_transient() says whether a failure is worth another try
 * (connection errors, 408, 429, 500, 502, 503, 504); sink_retry_delay_ms()
 * says how long to wait: the peer's Retry-After when it sent one, else a
 * doubling delay with jitter up to a cap. Nothing here sleeps or logs.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_SINK_RETRY_H
#define RTK_SINK_RETRY_H

#include "lib/platform.h"

/* The longest Retry-After honoured; larger values are cut to this. */
#define SINK_RETRY_AFTER_MAX_MS (600 * 1000)

struct sink_backoff {
  uint64_t base_ms; /* first delay */
  uint64_t cap_ms;  /* largest computed delay */
  uint64_t rng;     /* jitter state; any nonzero seed */
};

/* sink_backoff_init - set the delays and seed the jitter randomly. */
void sink_backoff_init(struct sink_backoff *b, uint64_t base_ms,
                       uint64_t cap_ms);

/*
 * sink_retry_transient - is this failure worth retrying? status is the
 * HTTP status, or 0 when no response arrived; then transport_transient
 * says whether the transfer failed in a way a retry can fix (refused,
 * reset, timed out) rather than one it cannot (bad certificate, bad URL).
 */
bool sink_retry_transient(long status, bool transport_transient);

/*
 * sink_retry_after_ms - a Retry-After header value in milliseconds: delta
 * seconds, or an HTTP date (IMF-fixdate) compared with now_s (Unix
 * seconds). -1 when v is NULL or unparsable; never above
 * SINK_RETRY_AFTER_MAX_MS; a date in the past gives 0.
 */
int64_t sink_retry_after_ms(const char *v, int64_t now_s);

/*
 * sink_retry_delay_ms - the wait before retry number `attempt` (0 for the
 * first retry): retry_after_ms when >= 0, else min(cap, base * 2^attempt)
 * of which the upper half is random jitter.
 */
uint64_t sink_retry_delay_ms(struct sink_backoff *b, unsigned attempt,
                             int64_t retry_after_ms);

#endif
