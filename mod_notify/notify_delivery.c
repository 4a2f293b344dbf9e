/* notify_delivery.h */
#include <string.h>

#include <apr_strings.h>

#include "notify_datetime.h"
#include "notify_delivery.h"
#include "notify_mandrill.h"
#include "notify_metrics.h"
#include "notify_outbox.h"
#include "notify_twilio.h"

/* Every provider; a new one is a file of its own and a line here. */
static const notify_provider *const providers[] = {
    &notify_mandrill_provider,
    &notify_twilio_provider,
};

apr_size_t notify_delivery_provider_count(void)
{
    return sizeof(providers) / sizeof(providers[0]);
}

const notify_provider *notify_delivery_provider_at(apr_size_t i)
{
    return i < notify_delivery_provider_count() ? providers[i] : NULL;
}

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

apr_interval_time_t notify_delivery_timeout(const notify_settings *s)
{
    apr_interval_time_t longest = 0;
    size_t i;

    for (i = 0; i < sizeof(providers) / sizeof(providers[0]); i++) {
        if (providers[i]->configured(s) && providers[i]->timeout(s) > longest) {
            longest = providers[i]->timeout(s);
        }
    }
    return longest;
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
    notify_metrics_attempt(prov, out->verdict, out->latency);
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

void notify_attempt_outcome(apr_pool_t *p, const notify_settings *cfg,
                            const notify_provider *prov, int first_in_request,
                            notify_attempt *a, notify_attempt_record *rec,
                            notify_values dev[2], notify_row dev_row[2])
{
    notify_retry_policy pol = {cfg->delivery_attempts, cfg->backoff_min,
                               cfg->backoff_max};
    apr_time_t t = apr_time_now();
    notify_outbox_step step = notify_outbox_next(&pol, a->verdict, rec->attempt,
                                                 t, notify_outbox_jitter());
    int n = 0;

    rec->now = notify_datetime_stamp(p, t);
    rec->proof = &a->proof;
    rec->accepted = a->verdict == NOTIFY_ATTEMPT_ACCEPTED;
    rec->state = step.state;
    rec->next_attempt_at = step.next_attempt_at
                               ? notify_datetime_stamp(p, step.next_attempt_at)
                               : NULL;
    rec->last_error = rec->accepted ? NULL : a->reason;
    a->proof.state = step.state;
    a->proof.attempts = rec->attempt;
    a->proof.next_attempt_at = rec->next_attempt_at;
    /* SPEC 5: a failed attempt in the request tells the dev team with the
     * provider's status; SPEC 11: giving up tells it once more. */
    if (!rec->accepted && first_in_request) {
        notify_delivery_dev_notification(
            p, notify_status(prov->failed_status)->name, rec->notification_id,
            a->reason, &dev[n]);
        rec->dev[n] = &dev[n];
        rec->dev_row[n] = &dev_row[n];
        n++;
    }
    if (step.gave_up) {
        notify_delivery_dev_notification(
            p, "delivery-failed", rec->notification_id,
            apr_psprintf(p, "gave up after %d attempt%s: %s", rec->attempt,
                         rec->attempt == 1 ? "" : "s", a->reason),
            &dev[n]);
        rec->dev[n] = &dev[n];
        rec->dev_row[n] = &dev_row[n];
        n++;
    }
    while (n > 0) {
        n--;
        dev_row[n].created_at = dev_row[n].updated_at = rec->now;
    }
}
