/* The data the steps of a create pass along, besides the parameters
 * (notify_params.h): the stored row, who created it, and what delivery
 * did. */
#ifndef NOTIFY_TYPES_H
#define NOTIFY_TYPES_H

#include <apr.h>

/* The stored row's own columns (the rest is in notify_values). */
typedef struct {
    apr_int64_t id;
    const char *created_at;
    const char *updated_at;
} notify_row;

/* Who creates: one of the two ids is set. */
typedef struct {
    apr_int64_t app_id;
    apr_int64_t session_id;
} notify_principal;

/* What one recipient's delivery did (data.proof, notification_deliveries). */
typedef struct {
    const char *recipient; /* an email address or a phone number */
    const char *type;      /* email: to, cc, bcc; sms: to */
    const char *status;    /* the provider's word, or "error" */
    const char *provider_id;
    const char *reject_reason;
    const char *error; /* why it failed, NULL when it did not */
} notify_recipient;

/* What delivery did for a notification: the latest attempt's recipients,
 * and where the notification stands in the outbox. */
typedef struct {
    const char *channel;  /* "email", "sms" */
    const char *provider; /* "mandrill", "twilio" */
    int count;
    notify_recipient *recipients;
    const char *state; /* queued, pending, sending, sent, failed; NULL: not
                          shown */
    int attempts;
    const char *next_attempt_at; /* RFC 3339, or NULL */
} notify_proof;

#endif
