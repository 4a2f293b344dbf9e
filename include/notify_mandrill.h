/* Mandrill's messages/send.json: the request built from a notification,
 * and the answer (or the transport failure) read into a proof. */
#ifndef NOTIFY_MANDRILL_H
#define NOTIFY_MANDRILL_H

#include <apr_tables.h>

#include "notify_http.h"
#include "notify_render.h"

typedef struct {
    const char *email;
    const char *name; /* NULL when the entry has no display name */
    const char *type; /* "to", "cc" or "bcc" */
} notify_address;

/* Every address of email_to, email_cc and email_bcc, in that order. */
apr_array_header_t *notify_mandrill_recipients(apr_pool_t *p,
                                               const notify_values *v);

/* The JSON request body (it holds the key: never log it). */
const char *notify_mandrill_request(apr_pool_t *p, const char *key,
                                    const notify_values *v,
                                    const apr_array_header_t *rcpts,
                                    apr_size_t *len);

/* Reads the exchange: `sent` is the transport status and res what came
 * back. Fills proof (one entry per recipient) and returns 1 when at least
 * one recipient was accepted (sent, queued, scheduled); else 0 and
 * *reason says why, in words fit for a log and the dev team. */
int notify_mandrill_outcome(apr_pool_t *p, apr_status_t sent,
                            const notify_http_result *res,
                            const apr_array_header_t *rcpts,
                            notify_proof *proof, const char **reason);

#endif
