/* Session tokens: whether a session may create (SPEC sections 3 and 9),
 * and whether its last_used_at is due a rewrite. Pure rules: the caller
 * reads the row and writes the touch. */
#ifndef NOTIFY_SESSION_H
#define NOTIFY_SESSION_H

#include <apr_time.h>

#include "notify_store.h"

typedef struct {
    apr_int64_t max_age;        /* NotifySessionMaxAge, seconds */
    apr_int64_t idle_timeout;   /* NotifySessionIdleTimeout */
    apr_int64_t touch_interval; /* NotifySessionTouchInterval; 0: always */
} notify_session_policy;

typedef struct {
    notify_status_e status; /* action-successful, session-expired or
                               client-required */
    int touch;              /* rewrite last_used_at (only when allowed) */
} notify_session_verdict;

/* Ages are whole seconds (now truncated minus the stored time); expired
 * when strictly greater than the limit, unless remember_me; a stored
 * time that cannot be read proves nothing fresh, so counts as expired. */
notify_session_verdict notify_session_check(const notify_session_row *s,
                                            apr_time_t now,
                                            const notify_session_policy *pol);

#endif
