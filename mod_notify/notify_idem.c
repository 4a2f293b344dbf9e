/* notify_idem.h */
#include <string.h>

#include "notify_datetime.h"
#include "notify_idem.h"

/* Claims lost to takeovers by other requests in a row before giving up. */
#define CLAIM_ROUNDS 3

int notify_idem_key_valid(const char *key)
{
    apr_size_t len = strlen(key), i;

    if (len < 1 || len > 255) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if ((unsigned char)key[i] < 0x21 || (unsigned char)key[i] > 0x7e) {
            return 0;
        }
    }
    return 1;
}

notify_idem_verdict_e notify_idem_judge(const notify_idem_row *row,
                                        const char *request_sha256,
                                        apr_time_t now,
                                        const notify_idem_policy *pol)
{
    apr_time_t created;
    apr_int64_t age = 0;

    if (row->created_at &&
        notify_datetime_to_time(row->created_at, strlen(row->created_at),
                                &created)) {
        age = apr_time_sec(now) - apr_time_sec(created);
    }
    if (age > pol->window || (!row->http_status && !row->response_body &&
                              age > pol->abandoned_after)) {
        return NOTIFY_IDEM_TAKE_OVER;
    }
    if (!row->request_sha256 ||
        strcmp(row->request_sha256, request_sha256) != 0) {
        return NOTIFY_IDEM_REUSED;
    }
    if (row->http_status) {
        return NOTIFY_IDEM_REPLAY;
    }
    /* A provisional answer: the notification is stored and its request
     * still delivering, or dead after that, when it is the answer. */
    return row->response_body && age > pol->abandoned_after
               ? NOTIFY_IDEM_REPLAY
               : NOTIFY_IDEM_IN_PROGRESS;
}

apr_status_t notify_idem_claim(notify_db *db, apr_pool_t *p,
                               const char *principal, const char *key,
                               const char *request_sha256, apr_time_t now,
                               const notify_idem_policy *pol,
                               notify_idem_outcome *out)
{
    char stamp[NOTIFY_DATETIME_LEN + 1];
    apr_status_t rv;
    int round, deleted;

    memset(out, 0, sizeof(*out));
    notify_datetime_format(now, stamp);
    for (round = 0; round < CLAIM_ROUNDS; round++) {
        rv = notify_store_idem_claim(db, p, principal, key, request_sha256,
                                     stamp, &out->claim_id);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (out->claim_id) {
            out->verdict = NOTIFY_IDEM_CLAIMED;
            return APR_SUCCESS;
        }
        rv = notify_store_idem_get(db, p, principal, key, &out->kept);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (!out->kept.id) {
            continue; /* freed meanwhile: claim again */
        }
        out->verdict = notify_idem_judge(&out->kept, request_sha256, now, pol);
        if (out->verdict != NOTIFY_IDEM_TAKE_OVER) {
            return APR_SUCCESS;
        }
        rv = notify_store_idem_release(db, p, &out->kept, &deleted);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    db->error = "the Idempotency-Key kept changing hands";
    return APR_EGENERAL;
}

int notify_idem_purge_due(volatile apr_time_t *last, apr_time_t now,
                          apr_interval_time_t every)
{
    if (now - *last < every) {
        return 0;
    }
    *last = now;
    return 1;
}
