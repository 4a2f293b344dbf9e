/* notify_store.h: the create path's reads and writes. */
#include <string.h>

#include <apr_strings.h>

#include "notify_sql.h"
#include "notify_store.h"

#define id_arg notify_db_id_arg
#define col_copy notify_db_col_copy
#define notify_db_id_row notify_db_id_row

apr_status_t notify_store_find_app(notify_db *db, apr_pool_t *p,
                                   const char *sha, apr_int64_t *app_id)
{
    const char *args[] = {sha};

    *app_id = 0;
    return notify_db_select(db, p, SQL_APP, 1, args, notify_db_id_row, app_id);
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
    b->s->created_at = notify_db_col_copy(b->p, db, row, 2);
    b->s->last_used_at = notify_db_col_copy(b->p, db, row, 3);
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
    const char *args[] = {now, notify_db_id_arg(p, id)};

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

/* The notification's columns as bound by SQL_INSERT (args: room for
 * NOTIFY_P_COUNT + 4); returns how many. */
static int insert_args(apr_pool_t *p, const notify_values *v,
                       const notify_row *row, const notify_principal *who,
                       const char **args)
{
    int i, n = 0;

    for (i = 0; i < NOTIFY_P_COUNT; i++) {
        if (!(notify_param((notify_param_e)i)->flags & NOTIFY_F_REQUEST)) {
            args[n++] = v->val[i];
        }
    }
    args[n++] = row->created_at;
    args[n++] = row->updated_at;
    args[n++] = notify_db_id_arg(p, who->app_id);
    args[n++] = notify_db_id_arg(p, who->session_id);
    return n;
}

/* INSERT ... RETURNING id: inside a transaction, or (txn 0) alone. */
static apr_status_t insert(notify_db *db, apr_pool_t *p, const notify_values *v,
                           notify_row *row, const notify_principal *who,
                           int txn)
{
    const char *args[NOTIFY_P_COUNT + 4];
    apr_status_t rv;
    int n = insert_args(p, v, row, who, args);

    row->id = 0;
    rv = txn ? notify_db_query(db, p, SQL_INSERT, n, args, notify_db_id_row,
                               &row->id, NULL)
             : notify_db_write(db, p, SQL_INSERT, n, args, notify_db_id_row,
                               &row->id, NULL);
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
    args[2] = notify_db_id_arg(p, a->claim_id);
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

/* The outbox row's columns after its notification_id, as bound by
 * SQL_OUTBOX_INSERT and SQL_INSERT_WITH_OUTBOX; returns how many. */
#define OUTBOX_ARGS 8
static int outbox_args(apr_pool_t *p, const notify_outbox_new *ob,
                       const char *now, const char **args)
{
    args[0] = ob->channel;
    args[1] = ob->state;
    args[2] = apr_itoa(p, ob->attempts);
    args[3] = ob->next_attempt_at;
    args[4] = ob->locked_until;
    args[5] = now;
    args[6] = now;
    args[7] = ob->route;
    return OUTBOX_ARGS;
}

static apr_status_t insert_outbox(notify_db *db, apr_pool_t *p, apr_int64_t id,
                                  notify_outbox_new *ob, const char *now)
{
    const char *args[1 + OUTBOX_ARGS];

    args[0] = notify_db_id_arg(p, id);
    ob->id = 0;
    return notify_db_query(db, p, SQL_OUTBOX_INSERT,
                           1 + outbox_args(p, ob, now, args + 1), args,
                           notify_db_id_row, &ob->id, NULL);
}

typedef struct {
    const notify_values *v;
    notify_row *row;
    const notify_principal *who;
    const notify_idem_answer *answer;
    notify_outbox_new *outbox;
} create_baton;

static apr_status_t create_fn(notify_db *db, apr_pool_t *p, void *baton)
{
    create_baton *b = baton;
    apr_status_t rv = insert(db, p, b->v, b->row, b->who, 1);

    if (rv == APR_SUCCESS && b->outbox) {
        rv = insert_outbox(db, p, b->row->id, b->outbox, b->row->created_at);
    }
    return rv == APR_SUCCESS ? record_answer(db, p, b->answer, 1) : rv;
}

static apr_status_t ids_row(void *baton, notify_db *db, apr_dbd_row_t *row)
{
    apr_int64_t *ids = baton;

    return notify_db_col_int(db, row, 0, &ids[0]) &&
                   notify_db_col_int(db, row, 1, &ids[1])
               ? APR_SUCCESS
               : APR_EGENERAL;
}

/* PostgreSQL, nothing else to keep: the notification and its outbox row
 * in one statement, atomic on its own. */
static apr_status_t insert_with_outbox(notify_db *db, apr_pool_t *p,
                                       const notify_values *v, notify_row *row,
                                       const notify_principal *who,
                                       notify_outbox_new *ob)
{
    const char *args[NOTIFY_P_COUNT + 4 + OUTBOX_ARGS];
    apr_int64_t ids[2] = {0, 0};
    apr_status_t rv;
    int n = insert_args(p, v, row, who, args);

    n += outbox_args(p, ob, row->created_at, args + n);
    row->id = ob->id = 0;
    rv = notify_db_write(db, p, SQL_INSERT_WITH_OUTBOX, n, args, ids_row, ids,
                         NULL);
    if (rv == APR_SUCCESS && (ids[0] <= 0 || ids[1] <= 0)) {
        db->error = SQL_INSERT_WITH_OUTBOX ": no ids returned";
        return APR_EGENERAL;
    }
    row->id = ids[0];
    ob->id = ids[1];
    return rv;
}

apr_status_t notify_store_create(notify_db *db, apr_pool_t *p,
                                 const notify_values *v, notify_row *row,
                                 const notify_principal *who,
                                 const notify_idem_answer *answer,
                                 notify_outbox_new *outbox)
{
    create_baton b = {v, row, who, answer, outbox};

    /* One INSERT is a transaction of its own: BEGIN and COMMIT around it
     * would only add two round trips. */
    if (!answer || !answer->claim_id) {
        if (!outbox) {
            return insert(db, p, v, row, who, 0);
        }
        if (!db->sqlite) {
            return insert_with_outbox(db, p, v, row, who, outbox);
        }
    }
    return notify_db_transaction(db, p, create_fn, &b);
}

typedef struct {
    const notify_attempt_record *rec;
    const notify_idem_answer *answer;
} attempt_baton;

static apr_status_t outbox_done(notify_db *db, apr_pool_t *p,
                                const notify_attempt_record *rec)
{
    const char *args[] = {rec->state,
                          rec->next_attempt_at,
                          rec->last_error,
                          rec->now,
                          notify_db_id_arg(p, rec->outbox_id),
                          apr_itoa(p, rec->attempt)};

    return notify_db_query(db, p, SQL_OUTBOX_DONE, 6, args, NULL, NULL, NULL);
}

static apr_status_t attempt_fn(notify_db *db, apr_pool_t *p, void *baton)
{
    attempt_baton *b = baton;
    const notify_attempt_record *rec = b->rec;
    const notify_proof *proof = rec->proof;
    const char *id = notify_db_id_arg(p, rec->notification_id);
    const char *attempt = apr_itoa(p, rec->attempt);
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; rv == APR_SUCCESS && proof && i < proof->count; i++) {
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
                              rec->now,
                              attempt,
                              rec->now};
        rv = notify_db_query(db, p, SQL_DELIVERY, 12, args, NULL, NULL, NULL);
    }
    if (rv == APR_SUCCESS && rec->outbox_id) {
        rv = outbox_done(db, p, rec);
    }
    if (rv == APR_SUCCESS && rec->accepted) {
        const char *args[] = {rec->now, rec->now, id};
        rv = notify_db_query(db, p, SQL_PROCESSED, 3, args, NULL, NULL, NULL);
    }
    for (i = 0; rv == APR_SUCCESS && i < 2 && rec->dev[i]; i++) {
        rv = insert(db, p, rec->dev[i], rec->dev_row[i], rec->who, 1);
    }
    return rv == APR_SUCCESS ? record_answer(db, p, b->answer, 0) : rv;
}

apr_status_t notify_store_attempt(notify_db *db, apr_pool_t *p,
                                  const notify_attempt_record *rec,
                                  const notify_idem_answer *answer)
{
    attempt_baton b = {rec, answer};

    return notify_db_transaction(db, p, attempt_fn, &b);
}

static apr_status_t mark_fn(notify_db *db, apr_pool_t *p, void *baton)
{
    return outbox_done(db, p, baton);
}

apr_status_t notify_store_outbox_mark(notify_db *db, apr_pool_t *p,
                                      const notify_attempt_record *rec)
{
    return notify_db_transaction(db, p, mark_fn, (void *)rec);
}

typedef struct {
    apr_pool_t *p;
    const char **args;
    apr_array_header_t *rows;
} claim_baton;

static apr_status_t claim_row(void *baton, notify_db *db, apr_dbd_row_t *row)
{
    claim_baton *b = baton;
    notify_outbox_row *o = apr_array_push(b->rows);
    apr_int64_t attempts = 0;

    if (!notify_db_col_int(db, row, 0, &o->id) ||
        !notify_db_col_int(db, row, 1, &o->notification_id) ||
        !notify_db_col_int(db, row, 3, &attempts)) {
        return APR_EGENERAL;
    }
    o->channel = notify_db_col_copy(b->p, db, row, 2);
    o->attempts = (int)attempts;
    o->route = notify_db_col_copy(b->p, db, row, 4);
    return APR_SUCCESS;
}

static apr_status_t claim_fn(notify_db *db, apr_pool_t *p, void *baton)
{
    claim_baton *b = baton;

    /* A shared commit may run this twice: start from no row each time. */
    b->rows->nelts = 0;
    return notify_db_query(db, p, SQL_OUTBOX_CLAIM, 6, b->args, claim_row, b,
                           NULL);
}

apr_status_t notify_store_outbox_claim(notify_db *db, apr_pool_t *p,
                                       const char *now,
                                       const char *locked_until,
                                       const char *routes, int max,
                                       apr_array_header_t **rows)
{
    const char *args[] = {locked_until, now,    now,
                          now,          routes, apr_itoa(p, max)};
    claim_baton b = {p, args,
                     apr_array_make(p, max, sizeof(notify_outbox_row))};
    apr_status_t rv;

    /* A transaction of its own: on SQLite in the database's write turn, on
     * PostgreSQL one statement that locks what it takes. */
    rv = notify_db_transaction(db, p, claim_fn, &b);
    *rows = b.rows;
    return rv;
}

typedef struct {
    apr_pool_t *p;
    notify_values *v;
    notify_row *row;
    notify_principal *who;
    int found;
} load_baton;

static apr_status_t load_row(void *baton, notify_db *db, apr_dbd_row_t *row)
{
    load_baton *b = baton;
    apr_int64_t id;
    int i, n = 0;

    memset(b->v, 0, sizeof(*b->v));
    for (i = 0; i < NOTIFY_P_COUNT; i++) {
        if (!(notify_param((notify_param_e)i)->flags & NOTIFY_F_REQUEST)) {
            b->v->val[i] = notify_db_col_copy(b->p, db, row, n++);
        }
    }
    b->row->created_at = notify_db_col_copy(b->p, db, row, n++);
    b->row->updated_at = notify_db_col_copy(b->p, db, row, n++);
    b->who->app_id = notify_db_col_int(db, row, n++, &id) ? id : 0;
    b->who->session_id = notify_db_col_int(db, row, n, &id) ? id : 0;
    if (!b->v->val[NOTIFY_P_PROCESSED]) {
        return APR_EGENERAL;
    }
    b->found = 1;
    return APR_SUCCESS;
}

typedef struct {
    notify_outbox_stats *o;
    apr_time_t now;
} stats_baton;

static apr_status_t stats_row(void *baton, notify_db *db, apr_dbd_row_t *row)
{
    stats_baton *b = baton;
    apr_int64_t n = 0;

    notify_db_col_int(db, row, 1, &n);
    notify_outbox_stats_add(b->o, notify_db_col(db, row, 0), n,
                            notify_db_col(db, row, 2), b->now);
    return APR_SUCCESS;
}

apr_status_t notify_store_outbox_stats(notify_db *db, apr_pool_t *p,
                                       apr_time_t now, notify_outbox_stats *o)
{
    stats_baton b = {o, now};
    apr_status_t rv;

    memset(o, 0, sizeof(*o));
    o->oldest_pending_age = -1;
    rv = notify_db_select(db, p, SQL_OUTBOX_STATS, 0, NULL, stats_row, &b);
    o->read = rv == APR_SUCCESS;
    return rv;
}

apr_status_t notify_store_load(notify_db *db, apr_pool_t *p, apr_int64_t id,
                               notify_values *v, notify_row *row,
                               notify_principal *who, int *found)
{
    const char *args[] = {notify_db_id_arg(p, id)};
    load_baton b = {p, v, row, who, 0};
    apr_status_t rv;

    memset(row, 0, sizeof(*row));
    memset(who, 0, sizeof(*who));
    rv = notify_db_select(db, p, SQL_LOAD, 1, args, load_row, &b);
    row->id = id;
    *found = b.found;
    return rv;
}

apr_status_t notify_store_idem_claim(notify_db *db, apr_pool_t *p,
                                     const char *principal, const char *key,
                                     const char *request_sha256,
                                     const char *now, apr_int64_t *id)
{
    const char *args[] = {principal, key, request_sha256, now};

    *id = 0;
    return notify_db_write(db, p, SQL_IDEM_CLAIM, 4, args, notify_db_id_row, id,
                           NULL);
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
    b->row->request_sha256 = notify_db_col_copy(b->p, db, row, 1);
    if (notify_db_col(db, row, 2) && !notify_db_col_int(db, row, 2, &http)) {
        return APR_EGENERAL;
    }
    b->row->http_status = (int)http;
    b->row->response_body = notify_db_col_copy(b->p, db, row, 3);
    b->row->created_at = notify_db_col_copy(b->p, db, row, 4);
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
        notify_db_id_arg(p, seen->id), apr_itoa(p, seen->http_status),
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
