/* notify_delivery.h */
#include <string.h>

#include <apr_strings.h>

#include "notify_delivery.h"
#include "notify_mandrill.h"

/* Every provider; a new one is a file of its own and a line here. */
static const notify_provider *const providers[] = {
    &notify_mandrill_provider,
};

const notify_provider *notify_delivery_provider(const notify_values *v,
                                                const notify_settings *s)
{
    const char *type = v->val[NOTIFY_P_NOTIFICATION_TYPE];
    const char *processed = v->val[NOTIFY_P_PROCESSED];
    size_t i;

    if (!type || (processed && strcmp(processed, "1") == 0)) {
        return NULL;
    }
    for (i = 0; i < sizeof(providers) / sizeof(providers[0]); i++) {
        if (strcmp(providers[i]->notification_type, type) == 0) {
            return providers[i]->configured(s) ? providers[i] : NULL;
        }
    }
    return NULL;
}

void notify_delivery_attempt(apr_pool_t *p, const notify_provider *prov,
                             const notify_settings *s, notify_http *http,
                             const notify_values *v, apr_int64_t id, int n,
                             notify_attempt *out)
{
    memset(out, 0, sizeof(*out));
    prov->attempt(p, s, http, v, id, n, out);
    if (out->verdict != NOTIFY_ATTEMPT_ACCEPTED && !out->reason) {
        out->reason = "the provider accepted no recipient";
    }
}

void notify_delivery_dev_notification(apr_pool_t *p, const char *key,
                                      apr_int64_t id, const char *reason,
                                      notify_values *dev)
{
    memset(dev, 0, sizeof(*dev));
    dev->val[NOTIFY_P_NOTIFICATION_TYPE] = "system-error";
    dev->val[NOTIFY_P_KEY] = key;
    dev->val[NOTIFY_P_NOTIFYABLE_TYPE] = "Notification";
    dev->val[NOTIFY_P_NOTIFYABLE_ID] = apr_psprintf(p, "%" APR_INT64_T_FMT, id);
    dev->val[NOTIFY_P_EMAIL_BODY] = reason;
    dev->val[NOTIFY_P_PROCESSED] = "0";
}
