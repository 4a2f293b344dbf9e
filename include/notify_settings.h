/* Every setting the core reads, resolved for one request (the glue fills
 * it from the directives: mod_notify_config.c holds the defaults). */
#ifndef NOTIFY_SETTINGS_H
#define NOTIFY_SETTINGS_H

#include <apr.h>

typedef struct {
    /* the route */
    int route_registry;
    const char *route_name;
    apr_int64_t route_cache_seconds;
    /* sessions */
    apr_int64_t session_max_age;
    apr_int64_t session_idle_timeout;
    apr_int64_t session_touch_interval;
    /* the request */
    apr_int64_t max_body;
    apr_int64_t idempotency_window;
    /* Mandrill (key NULL: email is stored, not sent) */
    const char *mandrill_key;
    const char *mandrill_url;
    apr_int64_t mandrill_timeout;
    const char *mandrill_webhook_key; /* NULL: the webhook refuses */
    const char *mandrill_webhook_url; /* NULL: the URL as httpd sees it */
    /* Twilio (sid or token NULL: SMS is stored, not sent; SPEC 13) */
    const char *twilio_sid;
    const char *twilio_token; /* secret: never in an answer or a log */
    const char *twilio_from;  /* NULL: phone_from is required */
    const char *twilio_url;
    apr_int64_t twilio_timeout;
    const char *twilio_callback_url; /* NULL: no StatusCallback sent, and
                                        the callback checks the URL as
                                        httpd sees it */
    /* delivery (SPEC section 11) */
    int delivery_queued;           /* NotifyDeliveryMode queued */
    apr_int64_t delivery_attempts; /* every attempt, the first included */
    apr_int64_t backoff_min;       /* seconds */
    apr_int64_t backoff_max;
    apr_int64_t delivery_interval; /* the worker's pace, seconds */
    const char *route; /* the create Location's path: the worker finds these
                          settings again by it */
} notify_settings;

#endif
