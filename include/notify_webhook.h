/* Provider webhooks (SPEC 12): the signature both Mandrill and Twilio use,
 * and the events a batch brings, whichever provider sent it. */
#ifndef NOTIFY_WEBHOOK_H
#define NOTIFY_WEBHOOK_H

#include <apr_tables.h>
#include <apr_time.h>

#include "notify_db.h"

/* base64 HMAC-SHA1, keyed with key, over url followed by each field's
 * name and value, the fields sorted by name (notify_form_field). */
const char *notify_webhook_signature(apr_pool_t *p, const char *key,
                                     const char *url,
                                     const apr_array_header_t *fields);

/* Whether signature (a header's value, or NULL) is that signature; the
 * comparison takes the same time wherever they differ. */
int notify_webhook_signed(apr_pool_t *p, const char *key, const char *url,
                          const apr_array_header_t *fields,
                          const char *signature);

/* One event about one delivery. */
typedef struct {
    const char *event;       /* the provider's word: "send", "delivered" */
    const char *provider_id; /* the delivery's id at the provider */
    const char *recipient;   /* NULL: any recipient of that id */
    apr_time_t occurred_at; /* 0: the provider gives none (Twilio): the
                               event is recorded at most once per delivery,
                               with the time it arrived */
    const char *detail; /* the event as the provider sent it (JSON) */
    const char *status; /* the delivery's new status, or NULL: none */
} notify_delivery_event;

/* Records a batch of events from provider in one transaction: each event
 * matched to its delivery row is appended to delivery_events, unless that
 * delivery already has it (same event, same time; same event when it has
 * no time), and moves the row's status; unknown deliveries are skipped.
 * *matched: events matched. */
apr_status_t notify_webhook_record(notify_db *db, apr_pool_t *p,
                                   const char *provider,
                                   const apr_array_header_t *events,
                                   const char *now, int *matched);

#endif
