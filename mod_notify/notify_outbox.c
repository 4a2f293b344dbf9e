/* notify_outbox.h */
#include <apr_general.h>

#include "notify_outbox.h"

apr_interval_time_t notify_outbox_backoff(const notify_retry_policy *pol,
                                          int attempts, apr_uint32_t jitter)
{
    double secs = (double)pol->backoff_min;
    int i;

    for (i = 1; i < attempts && secs < (double)pol->backoff_max; i++) {
        secs *= 2;
    }
    if (secs > (double)pol->backoff_max) {
        secs = (double)pol->backoff_max;
    }
    secs *= 0.8 + 0.4 * ((double)jitter / 4294967295.0);
    if (secs < 1) {
        secs = 1;
    }
    return (apr_interval_time_t)(secs * APR_USEC_PER_SEC);
}

notify_outbox_step notify_outbox_next(const notify_retry_policy *pol,
                                      notify_attempt_e verdict, int attempts,
                                      apr_time_t now, apr_uint32_t jitter)
{
    notify_outbox_step step = {"pending", 0, 0};

    if (verdict == NOTIFY_ATTEMPT_ACCEPTED) {
        step.state = "sent";
    }
    else if (verdict == NOTIFY_ATTEMPT_PERMANENT ||
             attempts >= pol->max_attempts) {
        step.state = "failed";
        step.gave_up = 1;
    }
    else {
        step.next_attempt_at =
            now + notify_outbox_backoff(pol, attempts, jitter);
    }
    return step;
}

apr_uint32_t notify_outbox_jitter(void)
{
    apr_uint32_t r = 0;

    if (apr_generate_random_bytes((unsigned char *)&r, sizeof(r)) !=
        APR_SUCCESS) {
        r = (apr_uint32_t)apr_time_now();
    }
    return r;
}
