/* The fixed set of answers the calling apps switch on: one table holds each
 * status's wire name, HTTP code and default message. */
#ifndef NOTIFY_STATUS_H
#define NOTIFY_STATUS_H

typedef enum {
    NOTIFY_ACTION_SUCCESSFUL = 0,
    NOTIFY_INVALID_TOKEN,
    NOTIFY_SESSION_EXPIRED,
    NOTIFY_CLIENT_REQUIRED,
    NOTIFY_MISSING_PARAM,
    NOTIFY_INVALID_PARAM,
    NOTIFY_INVALID_CONTENT_TYPE,
    NOTIFY_NO_PARAMS_DECODED,
    NOTIFY_INVALID_ENCODED_PARAMS,
    NOTIFY_REQUEST_TOO_LARGE,
    NOTIFY_ROUTE_NOT_FOUND,
    NOTIFY_SERVICE_NOT_FOUND,
    NOTIFY_IDENTIFY_REQUEST_ERROR,
    NOTIFY_ROUTE_NON_EXISTENT,
    NOTIFY_APPLICATION_CRASH,
    NOTIFY_MANDRILL_EMAIL_FAILED,
    NOTIFY_IDEMPOTENCY_KEY_REUSED,
    NOTIFY_REQUEST_IN_PROGRESS,
    NOTIFY_SMS_FAILED,
    NOTIFY_WEBHOOK_ACCEPTED,
    NOTIFY_INVALID_SIGNATURE,
    NOTIFY_STATUS_COUNT
} notify_status_e;

typedef struct {
    const char *name;    /* the `status` string of the answer */
    int http;            /* HTTP status code */
    const char *message; /* default `message` */
} notify_status_info;

/* The row of the table for st (st must be below NOTIFY_STATUS_COUNT). */
const notify_status_info *notify_status(notify_status_e st);

/* Whether st says a provider did not accept a stored notification
 * (mandrill-email-failed, sms-failed): such an answer always carries
 * data.proof. */
int notify_status_is_delivery_failure(notify_status_e st);

/* The status whose wire name is name, or NOTIFY_STATUS_COUNT. */
notify_status_e notify_status_by_name(const char *name);

#endif
