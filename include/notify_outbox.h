/* The outbox's rules (SPEC section 11): what an attempt leaves a row as,
 * and when the next one is due. Pure: notify_store.h writes the rows. */
#ifndef NOTIFY_OUTBOX_H
#define NOTIFY_OUTBOX_H

#include <apr_time.h>

#include "notify_provider.h"

typedef struct {
    apr_int64_t max_attempts; /* NotifyDeliveryAttempts, the first included */
    apr_int64_t backoff_min;  /* NotifyDeliveryBackoff, seconds */
    apr_int64_t backoff_max;
} notify_retry_policy;

typedef struct {
    const char *state;          /* "sent", "pending" or "failed" */
    apr_time_t next_attempt_at; /* pending: when the next attempt is due */
    int gave_up;                /* failed: the dev team is told
                                   (delivery-failed) */
} notify_outbox_step;

/* The wait after `attempts` attempts: backoff_min x 2^(attempts-1) seconds,
 * capped at backoff_max, then moved by up to +/-20% as jitter (0 to
 * 2^32-1) says; at least one second. */
apr_interval_time_t notify_outbox_backoff(const notify_retry_policy *pol,
                                          int attempts, apr_uint32_t jitter);

/* The row after attempt number `attempts` ended with verdict: sent when
 * accepted; failed at once when permanent, or when it was the last one
 * allowed; else pending until the backoff has passed. */
notify_outbox_step notify_outbox_next(const notify_retry_policy *pol,
                                      notify_attempt_e verdict, int attempts,
                                      apr_time_t now, apr_uint32_t jitter);

/* Random bits for the jitter. */
apr_uint32_t notify_outbox_jitter(void);

#endif
