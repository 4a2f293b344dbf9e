/* The JSON answers of SPEC section 3, built with jansson. */
#ifndef NOTIFY_RENDER_H
#define NOTIFY_RENDER_H

#include <apr_pools.h>

#include "notify_params.h"

/* What one recipient's delivery did (SPEC section 3, data.proof). */
typedef struct {
    const char *email;
    const char *type; /* to, cc, bcc */
    const char *status;
    const char *provider_id;
    const char *reject_reason;
    const char *error;
} notify_recipient;

/* The proof of an email delivery through Mandrill; NULL: nothing sent. */
typedef struct {
    int count;
    notify_recipient *recipients;
} notify_proof;

/* The stored row's own columns (the rest is in notify_values). */
typedef struct {
    apr_int64_t id;
    const char *created_at;
    const char *updated_at;
} notify_row;

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

/* action-successful or mandrill-email-failed with data.notification in
 * the requested view, and data.proof where the view or status asks. */
const char *notify_render_notification(apr_pool_t *p, notify_status_e st,
                                       const notify_values *v,
                                       const notify_row *row,
                                       const notify_proof *proof,
                                       apr_size_t *len);

#endif
