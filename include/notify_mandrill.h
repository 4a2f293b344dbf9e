/* Email through Mandrill's messages/send.json (SPEC sections 5 and 9):
 * the request built from a notification, and the answer (or the
 * transport failure) read into a proof and a verdict. */
#ifndef NOTIFY_MANDRILL_H
#define NOTIFY_MANDRILL_H

#include <apr_tables.h>

#include "notify_provider.h"
#include "notify_webhook.h"

extern const notify_provider notify_mandrill_provider;

typedef struct {
    const char *email;
    const char *name; /* NULL when the entry has no display name */
    const char *type; /* "to", "cc" or "bcc" */
} notify_address;

/* Every address of email_to, email_cc and email_bcc, in that order. */
apr_array_header_t *notify_mandrill_recipients(apr_pool_t *p,
                                               const notify_values *v);

/* The JSON request body, with metadata {notification_id, attempt} (it
 * holds the key: never log it). */
const char *notify_mandrill_request(apr_pool_t *p, const char *key,
                                    const notify_values *v,
                                    const apr_array_header_t *rcpts,
                                    apr_int64_t id, int attempt,
                                    apr_size_t *len);

/* Reads an exchange: `sent` is the transport status and res what came
 * back. Fills out's proof with one entry per address of rcpts, in order
 * (an address the answer has no usable entry for is an error of its
 * own), its verdict and, unless accepted, its reason. */
void notify_mandrill_outcome(apr_pool_t *p, apr_status_t sent,
                             const notify_http_result *res,
                             const apr_array_header_t *rcpts,
                             notify_attempt *out);

/* A webhook batch's mandrill_events (SPEC 12): its message events (event,
 * _id, ts, msg.email) as notify_delivery_event, with the status each
 * moves its delivery to; *count: the batch's entries, usable or not. NULL
 * when the text is not a JSON array. */
apr_array_header_t *notify_mandrill_events(apr_pool_t *p, const char *json,
                                           apr_size_t len, int *count);

#endif
