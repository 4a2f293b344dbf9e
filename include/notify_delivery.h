/* Delivery orchestration, whichever channel and provider: which provider
 * a notification needs, one attempt through it, and what that attempt
 * leaves to store (the delivery rows, processed, the dev team's
 * system-error notification). */
#ifndef NOTIFY_DELIVERY_H
#define NOTIFY_DELIVERY_H

#include "notify_provider.h"
#include "notify_store.h"

/* Every provider, by place (a stable order: the metrics count by it). */
apr_size_t notify_delivery_provider_count(void);
const notify_provider *notify_delivery_provider_at(apr_size_t i);

/* The provider that must deliver v under s, or NULL: its type has no
 * provider, none is configured (stored unsent), or processed is 1 (stored
 * as given). */
const notify_provider *notify_delivery_provider(const notify_values *v,
                                                const notify_settings *s);

/* The longest an attempt may take under s, whichever provider makes it
 * (0 when none is configured). */
apr_interval_time_t notify_delivery_timeout(const notify_settings *s);

/* Attempt number n of notification id through prov. */
void notify_delivery_attempt(apr_pool_t *p, const notify_provider *prov,
                             const notify_settings *s, notify_http *http,
                             const notify_values *v, apr_int64_t id, int n,
                             notify_attempt *out);

/* The dev team's notification about notification id: a system-error with
 * key `key` (the failed status's name) and the reason as its body. */
void notify_delivery_dev_notification(apr_pool_t *p, const char *key,
                                      apr_int64_t id, const char *reason,
                                      notify_values *dev);

/* What attempt number rec->attempt (in a) leaves to record: fills rec
 * (the outbox's next state, now, the dev team's notifications in dev and
 * dev_row) and the proof's state. first_in_request: the request's own
 * attempt, whose failure also tells the dev team with the provider's
 * status. */
void notify_attempt_outcome(apr_pool_t *p, const notify_settings *cfg,
                            const notify_provider *prov, int first_in_request,
                            notify_attempt *a, notify_attempt_record *rec,
                            notify_values dev[2], notify_row dev_row[2]);

#endif
