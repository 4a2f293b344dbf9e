/* A delivery provider: a channel (email, sms) served by one company's API.
 * Each provider is a file of its own (notify_mandrill.c, ...) exporting
 * one notify_provider; notify_delivery.c lists them. An attempt turns a
 * stored notification into the provider's request, sends it through the
 * module's HTTP client and reads the answer into a proof, one entry per
 * recipient, and a verdict. */
#ifndef NOTIFY_PROVIDER_H
#define NOTIFY_PROVIDER_H

#include "notify_http.h"
#include "notify_params.h"
#include "notify_settings.h"
#include "notify_types.h"

typedef enum {
    NOTIFY_ATTEMPT_ACCEPTED,  /* at least one recipient accepted */
    NOTIFY_ATTEMPT_PERMANENT, /* a retry would be refused the same way */
    NOTIFY_ATTEMPT_RETRYABLE  /* anything else: try again later */
} notify_attempt_e;

typedef struct {
    notify_attempt_e verdict;
    notify_proof proof;
    const char *reason; /* why not accepted, fit for a log and the dev team */
    apr_interval_time_t latency; /* the provider call */
} notify_attempt;

typedef struct {
    const char *notification_type; /* the type it delivers: "email" */
    const char *channel;           /* "email" */
    const char *name;              /* "mandrill" */
    notify_status_e failed_status; /* the answer when an attempt in the
                                      request failed */
    /* Whether s configures it (else notifications are stored unsent). */
    int (*configured)(const notify_settings *s);
    /* The longest an attempt may take. */
    apr_interval_time_t (*timeout)(const notify_settings *s);
    /* Attempt number n of notification id, holding values v. */
    void (*attempt)(apr_pool_t *p, const notify_settings *s, notify_http *http,
                    const notify_values *v, apr_int64_t id, int n,
                    notify_attempt *out);
} notify_provider;

/* The connect part of any provider call: short, so a provider that is
 * down fails fast (the rest of the timeout is for its answer). */
#define NOTIFY_CONNECT_TIMEOUT_MS 3000L

#endif
