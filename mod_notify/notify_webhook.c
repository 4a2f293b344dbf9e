/* notify_webhook.h */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "notify_crypto.h"
#include "notify_datetime.h"
#include "notify_form.h"
#include "notify_sql.h"
#include "notify_webhook.h"

typedef struct {
    const notify_form_field *f;
    int order; /* ties keep the body's order */
} sorted_field;

static int by_name(const void *a, const void *b)
{
    const sorted_field *x = a, *y = b;
    int c = strcmp(x->f->name, y->f->name);

    return c ? c : x->order - y->order;
}

const char *notify_webhook_signature(apr_pool_t *p, const char *key,
                                     const char *url,
                                     const apr_array_header_t *fields)
{
    sorted_field *sorted =
        apr_pcalloc(p, (fields->nelts + 1) * sizeof(*sorted));
    struct iovec *parts =
        apr_pcalloc(p, (2 * fields->nelts + 1) * sizeof(*parts));
    apr_size_t len;
    char *msg;
    int i;

    for (i = 0; i < fields->nelts; i++) {
        sorted[i].f = &APR_ARRAY_IDX(fields, i, notify_form_field);
        sorted[i].order = i;
    }
    qsort(sorted, fields->nelts, sizeof(*sorted), by_name);
    parts[0].iov_base = (char *)url;
    parts[0].iov_len = strlen(url);
    for (i = 0; i < fields->nelts; i++) {
        parts[1 + 2 * i].iov_base = (char *)sorted[i].f->name;
        parts[1 + 2 * i].iov_len = sorted[i].f->name_len;
        parts[2 + 2 * i].iov_base = (char *)sorted[i].f->value;
        parts[2 + 2 * i].iov_len = sorted[i].f->value_len;
    }
    msg = apr_pstrcatv(p, parts, 2 * fields->nelts + 1, &len);
    return notify_hmac_sha1_base64(p, key, strlen(key), msg, len);
}

int notify_webhook_signed(apr_pool_t *p, const char *key, const char *url,
                          const apr_array_header_t *fields,
                          const char *signature)
{
    const char *want = notify_webhook_signature(p, key, url, fields);

    return want && signature &&
           notify_secure_equal(want, strlen(want), signature,
                               strlen(signature));
}

typedef struct {
    const char *provider;
    const apr_array_header_t *events;
    const char *now;
    int matched;
} record_baton;

static apr_status_t record_fn(notify_db *db, apr_pool_t *p, void *baton)
{
    record_baton *b = baton;
    apr_status_t rv = APR_SUCCESS;
    int i;

    b->matched = 0;
    for (i = 0; rv == APR_SUCCESS && i < b->events->nelts; i++) {
        const notify_delivery_event *e =
            &APR_ARRAY_IDX(b->events, i, notify_delivery_event);
        const char *match[] = {b->provider, e->provider_id, e->recipient,
                               e->recipient};
        apr_int64_t delivery = 0, event = 0;
        const char *id;

        rv = notify_db_query(db, p, SQL_EVENT_MATCH, 4, match, notify_db_id_row,
                             &delivery, NULL);
        if (rv != APR_SUCCESS || !delivery) {
            continue;
        }
        b->matched++;
        id = notify_db_id_arg(p, delivery);
        if (e->occurred_at) {
            const char *args[] = {id, e->event,
                                  notify_datetime_stamp(p, e->occurred_at),
                                  e->detail, b->now};
            rv = notify_db_query(db, p, SQL_EVENT_INSERT, 5, args,
                                 notify_db_id_row, &event, NULL);
        }
        else {
            const char *args[] = {id,     e->event, b->now, e->detail,
                                  b->now, id,       e->event};
            rv = notify_db_query(db, p, SQL_EVENT_INSERT_ONCE, 7, args,
                                 notify_db_id_row, &event, NULL);
        }
        /* Seen before: not recorded twice, the status not moved again. */
        if (rv == APR_SUCCESS && event && e->status) {
            const char *args[] = {e->status, b->now, id};
            rv = notify_db_query(db, p, SQL_EVENT_STATUS, 3, args, NULL, NULL,
                                 NULL);
        }
    }
    return rv;
}

apr_status_t notify_webhook_record(notify_db *db, apr_pool_t *p,
                                   const char *provider,
                                   const apr_array_header_t *events,
                                   const char *now, int *matched)
{
    record_baton b = {provider, events, now, 0};
    apr_status_t rv = notify_db_transaction(db, p, record_fn, &b);

    *matched = rv == APR_SUCCESS ? b.matched : 0;
    return rv;
}
