/* The JSON answers of SPEC section 3, written straight into the pool
 * (notify_json_out.h). */
#ifndef NOTIFY_RENDER_H
#define NOTIFY_RENDER_H

#include <apr_pools.h>

#include "notify_params.h"
#include "notify_types.h"

/* A session as the client-required answer shows it. */
typedef struct {
    const char *token;
    apr_int64_t user_id;
    const char *created_at;
    const char *last_used_at;
    int remember_me;
} notify_session_view;

/* {"status","message","param"?} for any refused request. */
const char *notify_render_error(apr_pool_t *p, const notify_error *err,
                                apr_size_t *len);

/* client-required with its `session` object. */
const char *notify_render_client_required(apr_pool_t *p,
                                          const notify_error *err,
                                          const notify_session_view *s,
                                          apr_size_t *len);

/* An answer about a stored notification (action-successful, a provider's
 * failed status, application-crash after the store): data.notification
 * in the requested view, and data.proof (NULL: nothing sent) where the
 * view asks or the status is a provider's failure. message NULL: the
 * status's default. */
const char *notify_render_notification(apr_pool_t *p, notify_status_e st,
                                       const char *message,
                                       const notify_values *v,
                                       const notify_row *row,
                                       const notify_proof *proof,
                                       apr_size_t *len);

/* webhook-accepted: data {events, matched} (SPEC 12). */
const char *notify_render_webhook(apr_pool_t *p, int events, int matched,
                                  apr_size_t *len);

#endif
