/* notify_session.h */
#include <string.h>

#include "notify_datetime.h"
#include "notify_session.h"

/* Seconds since stored; 0 and "too old" when stored cannot be read. */
static int older_than(apr_time_t now, const char *stored, apr_int64_t limit,
                      apr_int64_t *age)
{
    apr_time_t t;

    if (!stored || !notify_datetime_to_time(stored, strlen(stored), &t)) {
        *age = 0;
        return 1;
    }
    *age = apr_time_sec(now) - apr_time_sec(t);
    return *age > limit;
}

notify_session_verdict notify_session_check(const notify_session_row *s,
                                            apr_time_t now,
                                            const notify_session_policy *pol)
{
    notify_session_verdict v = {NOTIFY_ACTION_SUCCESSFUL, 0};
    apr_int64_t age, idle;
    int too_old = older_than(now, s->created_at, pol->max_age, &age);
    int too_idle = older_than(now, s->last_used_at, pol->idle_timeout, &idle);

    if (!s->remember_me && (too_old || too_idle)) {
        v.status = NOTIFY_SESSION_EXPIRED;
        return v;
    }
    if (!s->has_role) {
        v.status = NOTIFY_CLIENT_REQUIRED;
        return v;
    }
    v.touch = pol->touch_interval == 0 || idle > pol->touch_interval;
    return v;
}
