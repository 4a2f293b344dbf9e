/* notify_store.h: one statement table, portable between SQLite and
 * PostgreSQL. Times are bound as RFC 3339 text, which both read. */
#include <string.h>

#include <apr_strings.h>

#include "notify_store.h"

#define SQL_APP "notify_app"
#define SQL_SESSION "notify_session"
#define SQL_TOUCH "notify_touch"
#define SQL_ROUTE "notify_route"
#define SQL_INSERT "notify_insert"
#define SQL_DELIVERY "notify_delivery"
#define SQL_PROCESSED "notify_processed"
#define SQL_IDEM_CLAIM "notify_idem_claim"
#define SQL_IDEM_GET "notify_idem_get"
#define SQL_IDEM_ANSWER "notify_idem_answer"
#define SQL_IDEM_RELEASE "notify_idem_release"
#define SQL_IDEM_PURGE "notify_idem_purge"

/* Placeholders carry the column's type: PostgreSQL has no implicit cast
 * from the varchar of a plain %s to bigint or timestamptz (SQLite binds
 * them all as text and lets column affinity convert). */
#define SQL_TIME "%pDz"
#define SQL_ID "%lld"
#define SQL_INT "%d"

static const char *placeholder(notify_kind_e kind)
{
    switch (kind) {
    case NOTIFY_K_BIGINT:
        return SQL_ID;
    case NOTIFY_K_FLAG:
        return SQL_INT;
    case NOTIFY_K_DATETIME:
        return SQL_TIME;
    default:
        return "%s";
    }
}

static const char *insert_sql(apr_pool_t *p)
{
    const char *cols = "", *vals = "";
    int i;

    for (i = 0; i < NOTIFY_P_COUNT; i++) {
        const notify_param_def *d = notify_param((notify_param_e)i);
        if (d->flags & NOTIFY_F_REQUEST) {
            continue;
        }
        cols = apr_pstrcat(p, cols, "\"", d->name, "\", ", NULL);
        vals = apr_pstrcat(p, vals, placeholder(d->kind), ", ", NULL);
    }
    return apr_pstrcat(
        p, "INSERT INTO notifications (", cols,
        "created_at, updated_at, created_by_application_id, "
        "created_by_session_id) VALUES (",
        vals, SQL_TIME ", " SQL_TIME ", " SQL_ID ", " SQL_ID ") RETURNING id",
        NULL);
}

const notify_statement *notify_store_statements(apr_pool_t *p)
{
    const notify_statement table[] = {
        {SQL_APP, "SELECT id FROM api_applications "
                  "WHERE token_sha256 = %s AND active = 1"},
        {SQL_SESSION,
         "SELECT s.id, s.user_id, s.created_at, s.last_used_at, "
         "s.remember_me, "
         "CASE WHEN EXISTS (SELECT 1 FROM clients c "
         "WHERE c.user_id = s.user_id) "
         "OR EXISTS (SELECT 1 FROM employees e WHERE e.user_id = s.user_id) "
         "OR EXISTS (SELECT 1 FROM liaisons l WHERE l.user_id = s.user_id) "
         "THEN 1 ELSE 0 END "
         "FROM sessions s WHERE s.token_sha256 = %s"},
        {SQL_TOUCH,
         "UPDATE sessions SET last_used_at = " SQL_TIME " WHERE id = " SQL_ID},
        {SQL_ROUTE, "SELECT r.deployed, r.sensitive_params, s.id, s.deployed "
                    "FROM api_routes r LEFT JOIN api_services s "
                    "ON s.id = r.api_service_id WHERE r.name = %s"},
        {SQL_INSERT, insert_sql(p)},
        {SQL_DELIVERY,
         "INSERT INTO notification_deliveries (notification_id, channel, "
         "provider, recipient, recipient_type, status, provider_id, "
         "reject_reason, error, created_at) VALUES (" SQL_ID
         ", %s, %s, %s, %s, %s, %s, %s, %s, " SQL_TIME ")"},
        {SQL_PROCESSED, "UPDATE notifications SET processed = 1, "
                        "processed_at = " SQL_TIME ", updated_at = " SQL_TIME
                        " WHERE id = " SQL_ID},
        /* The unique constraint decides who owns a key, never a read. */
        {SQL_IDEM_CLAIM,
         "INSERT INTO idempotency_keys (principal, idem_key, "
         "request_sha256, created_at) VALUES (%s, %s, %s, " SQL_TIME ") "
         "ON CONFLICT (principal, idem_key) DO NOTHING RETURNING id"},
        {SQL_IDEM_GET,
         "SELECT id, request_sha256, http_status, response_body, created_at, "
         "COALESCE(length(response_body), 0) FROM idempotency_keys "
         "WHERE principal = %s AND idem_key = %s"},
        {SQL_IDEM_ANSWER, "UPDATE idempotency_keys SET http_status = " SQL_INT
                          ", response_body = %s WHERE id = " SQL_ID},
        {SQL_IDEM_RELEASE,
         "DELETE FROM idempotency_keys WHERE id = " SQL_ID
         " AND COALESCE(http_status, 0) = CAST(" SQL_INT " AS INTEGER)"
         " AND COALESCE(length(response_body), 0) = CAST(" SQL_ID
         " AS INTEGER)"},
        {SQL_IDEM_PURGE,
         "DELETE FROM idempotency_keys WHERE id IN (SELECT id FROM "
         "idempotency_keys WHERE created_at < " SQL_TIME " LIMIT 500)"},
        {NULL, NULL}};

    return apr_pmemdup(p, table, sizeof(table));
}

static const char *id_arg(apr_pool_t *p, apr_int64_t id)
{
    return id ? apr_psprintf(p, "%" APR_INT64_T_FMT, id) : NULL;
}

static const char *col_copy(apr_pool_t *p, const notify_db *db,
                            apr_dbd_row_t *row, int n)
{
    const char *v = notify_db_col(db, row, n);

    return v ? apr_pstrdup(p, v) : NULL;
}

/* A row whose first column is a non-NULL id. */
static apr_status_t id_row(void *baton, notify_db *db, apr_dbd_row_t *row)
{
    return notify_db_col_int(db, row, 0, baton) ? APR_SUCCESS : APR_EGENERAL;
}

apr_status_t notify_store_find_app(notify_db *db, apr_pool_t *p,
                                   const char *sha, apr_int64_t *app_id)
{
    const char *args[] = {sha};

    *app_id = 0;
    return notify_db_select(db, p, SQL_APP, 1, args, id_row, app_id);
}

typedef struct {
    apr_pool_t *p;
    notify_session_row *s;
} session_baton;

static apr_status_t session_row(void *baton, notify_db *db, apr_dbd_row_t *row)
{
    session_baton *b = baton;

    if (!notify_db_col_int(db, row, 0, &b->s->id) ||
        !notify_db_col_int(db, row, 1, &b->s->user_id)) {
        return APR_EGENERAL;
    }
    b->s->created_at = col_copy(b->p, db, row, 2);
    b->s->last_used_at = col_copy(b->p, db, row, 3);
    b->s->remember_me = notify_db_col_flag(db, row, 4);
    b->s->has_role = notify_db_col_flag(db, row, 5);
    return APR_SUCCESS;
}

apr_status_t notify_store_find_session(notify_db *db, apr_pool_t *p,
                                       const char *sha, notify_session_row *s)
{
    const char *args[] = {sha};
    session_baton b = {p, s};
    apr_status_t rv;

    memset(s, 0, sizeof(*s));
    rv = notify_db_select(db, p, SQL_SESSION, 1, args, session_row, &b);
    if (rv != APR_SUCCESS) {
        memset(s, 0, sizeof(*s));
    }
    return rv;
}

apr_status_t notify_store_touch_session(notify_db *db, apr_pool_t *p,
                                        apr_int64_t id, const char *now)
{
    const char *args[] = {now, id_arg(p, id)};

    return notify_db_write(db, p, SQL_TOUCH, 2, args, NULL, NULL, NULL);
}

static apr_status_t route_row(void *baton, notify_db *db, apr_dbd_row_t *row)
{
    notify_route_row *rt = baton;

    rt->found = 1;
    rt->route_deployed = notify_db_col_flag(db, row, 0);
    rt->sensitive = notify_db_col_flag(db, row, 1);
    rt->service_found = notify_db_col(db, row, 2) != NULL;
    rt->service_deployed = notify_db_col_flag(db, row, 3);
    return APR_SUCCESS;
}

apr_status_t notify_store_find_route(notify_db *db, apr_pool_t *p,
                                     const char *name, notify_route_row *rt)
{
    const char *args[] = {name};

    memset(rt, 0, sizeof(*rt));
    return notify_db_select(db, p, SQL_ROUTE, 1, args, route_row, rt);
}

/* INSERT ... RETURNING id: inside a transaction, or (txn 0) alone. */
static apr_status_t insert(notify_db *db, apr_pool_t *p, const notify_values *v,
                           notify_row *row, const notify_principal *who,
                           int txn)
{
    const char *args[NOTIFY_P_COUNT + 4];
    apr_status_t rv;
    int i, n = 0;

    for (i = 0; i < NOTIFY_P_COUNT; i++) {
        if (!(notify_param((notify_param_e)i)->flags & NOTIFY_F_REQUEST)) {
            args[n++] = v->val[i];
        }
    }
    args[n++] = row->created_at;
    args[n++] = row->updated_at;
    args[n++] = id_arg(p, who->app_id);
    args[n++] = id_arg(p, who->session_id);
    row->id = 0;
    rv = txn ? notify_db_query(db, p, SQL_INSERT, n, args, id_row, &row->id,
                               NULL)
             : notify_db_write(db, p, SQL_INSERT, n, args, id_row, &row->id,
                               NULL);
    if (rv == APR_SUCCESS && row->id <= 0) {
        db->error = SQL_INSERT ": no id returned";
        return APR_EGENERAL;
    }
    return rv;
}

/* Keeps the answer of a claimed key. `must` (the create): the claim must
 * still be there; else (a later, final answer) a missing claim is no
 * reason to lose what the transaction records. */
static apr_status_t record_answer(notify_db *db, apr_pool_t *p,
                                  const notify_idem_answer *a, int must)
{
    const char *args[3];
    int http = 0, nrows = 0;
    apr_status_t rv;

    if (!a || !a->claim_id) {
        return APR_SUCCESS;
    }
    args[1] = a->render(a->baton, &http);
    if (!args[1]) {
        db->error = "the answer to keep could not be rendered";
        return APR_EGENERAL;
    }
    args[0] = a->provisional ? NULL : apr_itoa(p, http);
    args[2] = id_arg(p, a->claim_id);
    rv = notify_db_query(db, p, SQL_IDEM_ANSWER, 3, args, NULL, NULL, &nrows);
    if (rv == APR_SUCCESS && must && nrows != 1) {
        db->error = "the Idempotency-Key was taken over by another request";
        return APR_EGENERAL;
    }
    return rv;
}

static apr_status_t keep_fn(notify_db *db, apr_pool_t *p, void *baton)
{
    return record_answer(db, p, baton, 1);
}

apr_status_t notify_store_idem_keep(notify_db *db, apr_pool_t *p,
                                    const notify_idem_answer *answer)
{
    return notify_db_transaction(db, p, keep_fn, (void *)answer);
}

typedef struct {
    const notify_values *v;
    notify_row *row;
    const notify_principal *who;
    const notify_idem_answer *answer;
} create_baton;

static apr_status_t create_fn(notify_db *db, apr_pool_t *p, void *baton)
{
    create_baton *b = baton;
    apr_status_t rv = insert(db, p, b->v, b->row, b->who, 1);

    return rv == APR_SUCCESS ? record_answer(db, p, b->answer, 1) : rv;
}

apr_status_t notify_store_create(notify_db *db, apr_pool_t *p,
                                 const notify_values *v, notify_row *row,
                                 const notify_principal *who,
                                 const notify_idem_answer *answer)
{
    create_baton b = {v, row, who, answer};

    if (!answer || !answer->claim_id) {
        return insert(db, p, v, row, who, 0);
    }
    return notify_db_transaction(db, p, create_fn, &b);
}

static apr_status_t delivery_fn(notify_db *db, apr_pool_t *p, void *baton)
{
    const notify_delivery_record *rec = ((void **)baton)[0];
    const notify_idem_answer *answer = ((void **)baton)[1];
    const notify_proof *proof = rec->proof;
    const char *id = id_arg(p, rec->notification_id);
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; rv == APR_SUCCESS && i < proof->count; i++) {
        const notify_recipient *r = &proof->recipients[i];
        const char *args[] = {id,
                              proof->channel,
                              proof->provider,
                              r->recipient,
                              r->type,
                              r->status ? r->status : "error",
                              r->provider_id,
                              r->reject_reason,
                              r->error,
                              rec->now};
        rv = notify_db_query(db, p, SQL_DELIVERY, 10, args, NULL, NULL, NULL);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rec->accepted) {
        const char *args[] = {rec->now, rec->now, id};
        rv = notify_db_query(db, p, SQL_PROCESSED, 3, args, NULL, NULL, NULL);
    }
    else if (rec->dev) {
        rv = insert(db, p, rec->dev, rec->dev_row, rec->who, 1);
    }
    return rv == APR_SUCCESS ? record_answer(db, p, answer, 0) : rv;
}

apr_status_t notify_store_delivery(notify_db *db, apr_pool_t *p,
                                   const notify_delivery_record *rec,
                                   const notify_idem_answer *answer)
{
    const void *baton[] = {rec, answer};

    return notify_db_transaction(db, p, delivery_fn, (void *)baton);
}

apr_status_t notify_store_idem_claim(notify_db *db, apr_pool_t *p,
                                     const char *principal, const char *key,
                                     const char *request_sha256,
                                     const char *now, apr_int64_t *id)
{
    const char *args[] = {principal, key, request_sha256, now};

    *id = 0;
    return notify_db_write(db, p, SQL_IDEM_CLAIM, 4, args, id_row, id, NULL);
}

typedef struct {
    apr_pool_t *p;
    notify_idem_row *row;
} idem_baton;

static apr_status_t idem_row(void *baton, notify_db *db, apr_dbd_row_t *row)
{
    idem_baton *b = baton;
    apr_int64_t http = 0;

    if (!notify_db_col_int(db, row, 0, &b->row->id)) {
        return APR_EGENERAL;
    }
    b->row->request_sha256 = col_copy(b->p, db, row, 1);
    if (notify_db_col(db, row, 2) && !notify_db_col_int(db, row, 2, &http)) {
        return APR_EGENERAL;
    }
    b->row->http_status = (int)http;
    b->row->response_body = col_copy(b->p, db, row, 3);
    b->row->created_at = col_copy(b->p, db, row, 4);
    if (!notify_db_col_int(db, row, 5, &b->row->body_length) ||
        (b->row->http_status && !b->row->response_body)) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t notify_store_idem_get(notify_db *db, apr_pool_t *p,
                                   const char *principal, const char *key,
                                   notify_idem_row *row)
{
    const char *args[] = {principal, key};
    idem_baton b = {p, row};
    apr_status_t rv;

    memset(row, 0, sizeof(*row));
    rv = notify_db_select(db, p, SQL_IDEM_GET, 2, args, idem_row, &b);
    if (rv != APR_SUCCESS) {
        memset(row, 0, sizeof(*row));
    }
    return rv;
}

apr_status_t notify_store_idem_release(notify_db *db, apr_pool_t *p,
                                       const notify_idem_row *seen,
                                       int *deleted)
{
    const char *args[] = {
        id_arg(p, seen->id), apr_itoa(p, seen->http_status),
        apr_psprintf(p, "%" APR_INT64_T_FMT, seen->body_length)};

    *deleted = 0;
    return notify_db_write(db, p, SQL_IDEM_RELEASE, 3, args, NULL, NULL,
                           deleted);
}

apr_status_t notify_store_idem_purge(notify_db *db, apr_pool_t *p,
                                     const char *before)
{
    const char *args[] = {before};

    return notify_db_write(db, p, SQL_IDEM_PURGE, 1, args, NULL, NULL, NULL);
}
