/* SQL: one statement table, portable between SQLite and PostgreSQL (times
 * are bound as RFC 3339 text, which both read), so every driver prepares
 * the same labels. What differs per driver lives in connection_init(). */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>

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
    return apr_pstrcat(p, "INSERT INTO notifications (", cols,
                       "created_at, updated_at, created_by_application_id, "
                       "created_by_session_id) VALUES (",
                       vals, SQL_TIME ", " SQL_TIME ", " SQL_ID ", " SQL_ID
                       ") RETURNING id",
                       NULL);
}

const notify_statement *notify_store_statements(apr_pool_t *p)
{
    notify_statement *s = apr_pcalloc(p, 13 * sizeof(*s));

    s[0].label = SQL_APP;
    s[0].sql = "SELECT id FROM api_applications "
               "WHERE token_sha256 = %s AND active = 1";
    s[1].label = SQL_SESSION;
    s[1].sql = "SELECT s.id, s.user_id, s.created_at, s.last_used_at, "
               "s.remember_me, "
               "CASE WHEN EXISTS (SELECT 1 FROM clients c "
               "WHERE c.user_id = s.user_id) "
               "OR EXISTS (SELECT 1 FROM employees e "
               "WHERE e.user_id = s.user_id) "
               "OR EXISTS (SELECT 1 FROM liaisons l "
               "WHERE l.user_id = s.user_id) THEN 1 ELSE 0 END "
               "FROM sessions s WHERE s.token_sha256 = %s";
    s[2].label = SQL_TOUCH;
    s[2].sql = "UPDATE sessions SET last_used_at = " SQL_TIME
               " WHERE id = " SQL_ID;
    s[3].label = SQL_ROUTE;
    s[3].sql = "SELECT r.deployed, r.sensitive_params, s.id, s.deployed "
               "FROM api_routes r LEFT JOIN api_services s "
               "ON s.id = r.api_service_id WHERE r.name = %s";
    s[4].label = SQL_INSERT;
    s[4].sql = insert_sql(p);
    s[5].label = SQL_DELIVERY;
    s[5].sql = "INSERT INTO notification_deliveries (notification_id, "
               "channel, provider, recipient, recipient_type, status, "
               "provider_id, reject_reason, error, created_at) VALUES "
               "(" SQL_ID ", 'email', 'mandrill', %s, %s, %s, %s, %s, %s, "
               SQL_TIME ")";
    s[6].label = SQL_PROCESSED;
    s[6].sql = "UPDATE notifications SET processed = 1, processed_at = "
               SQL_TIME ", updated_at = " SQL_TIME " WHERE id = " SQL_ID;
    /* The unique constraint decides who owns a key, never a prior read. */
    s[7].label = SQL_IDEM_CLAIM;
    s[7].sql = "INSERT INTO idempotency_keys (principal, idem_key, "
               "request_sha256, created_at) VALUES (%s, %s, %s, " SQL_TIME ") "
               "ON CONFLICT (principal, idem_key) DO NOTHING RETURNING id";
    s[8].label = SQL_IDEM_GET;
    s[8].sql = "SELECT id, request_sha256, http_status, response_body, "
               "created_at FROM idempotency_keys "
               "WHERE principal = %s AND idem_key = %s";
    s[9].label = SQL_IDEM_ANSWER;
    s[9].sql = "UPDATE idempotency_keys SET http_status = " SQL_INT
               ", response_body = %s WHERE id = " SQL_ID;
    s[10].label = SQL_IDEM_RELEASE;
    s[10].sql = "DELETE FROM idempotency_keys WHERE id = " SQL_ID;
    s[11].label = SQL_IDEM_PURGE;
    s[11].sql = "DELETE FROM idempotency_keys WHERE id IN (SELECT id FROM "
                "idempotency_keys WHERE created_at < " SQL_TIME " LIMIT 500)";
    return s;
}

static apr_status_t fail(notify_db *db, apr_pool_t *p, int rv,
                         const char *what)
{
    const char *msg = db->handle ? apr_dbd_error(db->driver, db->handle, rv)
                                 : NULL;

    char *text = apr_psprintf(p, "%s: %s", what, msg ? msg : "unknown error");
    apr_size_t len = strlen(text);

    /* libpq ends its messages with a newline. */
    while (len > 0 && apr_isspace(text[len - 1])) {
        text[--len] = '\0';
    }
    db->error = text;
    return APR_EGENERAL;
}

static int is_sqlite(const apr_dbd_driver_t *driver)
{
    return strcmp(apr_dbd_name(driver), "sqlite3") == 0;
}

void notify_store_attach(notify_db *db, const apr_dbd_driver_t *driver,
                         apr_dbd_t *handle, apr_hash_t *prepared,
                         apr_pool_t *conn_pool,
                         const notify_statement *statements)
{
    memset(db, 0, sizeof(*db));
    db->driver = driver;
    db->handle = handle;
    db->prepared = prepared;
    db->conn_pool = conn_pool;
    db->statements = statements;
    db->reprepare = 1;
}

/* apr_dbd_sqlite3 runs every statement of the process under one global
 * mutex, and SQLite's busy handler waits inside sqlite3_step(). A thread
 * waiting there for the write lock would hold that mutex, while the
 * thread owning the write lock needs it to finish: both stall until the
 * busy timeout. And between processes the busy handler polls with sleeps
 * of up to 100 ms, so writers of different children wait far longer than
 * the write takes. So every writer of the server, in whichever child,
 * takes turns on one cross-process lock before touching the database
 * (SQLite has one writer at a time anyway): a writer waits only for the
 * writes queued before it. The busy timeout remains for writers outside
 * this server (the sqlite3 shell, a second httpd). */
void notify_store_set_writers(notify_db *db, apr_global_mutex_t *lock,
                              notify_group *g)
{
    int sqlite = is_sqlite(db->driver);

    db->write_lock = sqlite ? lock : NULL;
    db->group = sqlite ? g : NULL;
}

static void write_begin(notify_db *db)
{
    if (db->write_lock) {
        apr_global_mutex_lock(db->write_lock);
    }
}

static void write_end(notify_db *db)
{
    if (db->write_lock) {
        apr_global_mutex_unlock(db->write_lock);
    }
}

apr_status_t notify_store_prepare_all(notify_db *db, apr_pool_t *p)
{
    const notify_statement *s;

    db->prepared = apr_hash_make(p);
    notify_store_attach(db, db->driver, db->handle, db->prepared, p,
                        notify_store_statements(p));
    for (s = db->statements; s->label; s++) {
        apr_dbd_prepared_t *stmt = NULL;
        int rv = apr_dbd_prepare(db->driver, p, db->handle, s->sql, s->label,
                                 &stmt);
        if (rv) {
            return fail(db, p, rv, s->label);
        }
        apr_hash_set(db->prepared, s->label, APR_HASH_KEY_STRING, stmt);
    }
    return APR_SUCCESS;
}

/* Prepared statements can die under a live handle: apr_dbd_sqlite3 uses
 * the legacy sqlite3_prepare(), whose statements fail for good after any
 * schema change; apr_dbd_pgsql's check_conn() resets a broken connection
 * (a server restart), which drops every server-side statement. A failed
 * statement is therefore prepared again (it fails harmlessly where the
 * old one still exists) and tried once more. */
/* A statement prepared again can still meet a schema SQLite has not
 * reloaded yet (seen under load in t/registry.t): one more try then. */
#define REPREPARE_TRIES 2

static int reprepare(notify_db *db, apr_pool_t *p, const char *label,
                     apr_dbd_prepared_t **stmt)
{
    const notify_statement *s;

    if (!db->reprepare) {
        return 0;
    }
    /* A broken connection (the server restarted) is reset here, not on its
     * next acquire: this request can then still succeed. */
    if (apr_dbd_check_conn(db->driver, p, db->handle) != APR_SUCCESS) {
        return 0;
    }
    for (s = db->statements; s && s->label; s++) {
        if (strcmp(s->label, label) == 0) {
            *stmt = NULL;
            if (apr_dbd_prepare(db->driver, db->conn_pool, db->handle,
                                s->sql, s->label, stmt) != 0) {
                (void)p;
                return 0;
            }
            apr_hash_set(db->prepared, s->label, APR_HASH_KEY_STRING, *stmt);
            return 1;
        }
    }
    return 0;
}

/* Runs a statement that may return rows and reads them all; the caller's
 * fn sees each row. */
typedef void row_fn(void *baton, const notify_db *db, apr_dbd_row_t *row);

static apr_status_t run(notify_db *db, apr_pool_t *p, const char *label,
                        int nargs, const char **args, row_fn *fn, void *baton)
{
    apr_dbd_prepared_t *stmt = apr_hash_get(db->prepared, label,
                                            APR_HASH_KEY_STRING);
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int rv, tries;

    if (!stmt) {
        db->error = apr_psprintf(p, "%s: statement not prepared", label);
        return APR_EGENERAL;
    }
    rv = apr_dbd_pselect(db->driver, p, db->handle, &res, stmt, 1, nargs,
                         args);
    for (tries = 0; rv && tries < REPREPARE_TRIES && !db->in_transaction &&
                    reprepare(db, p, label, &stmt);
         tries++) {
        rv = apr_dbd_pselect(db->driver, p, db->handle, &res, stmt, 1, nargs,
                             args);
    }
    if (rv) {
        return fail(db, p, rv, label);
    }
    while (apr_dbd_get_row(db->driver, p, res, &row, -1) == 0) {
        if (fn) {
            fn(baton, db, row);
        }
    }
    return APR_SUCCESS;
}

static const char *id_arg(apr_pool_t *p, apr_int64_t id)
{
    return id ? apr_psprintf(p, "%" APR_INT64_T_FMT, id) : NULL;
}

static apr_status_t exec(notify_db *db, apr_pool_t *p, const char *label,
                         int nargs, const char **args)
{
    apr_dbd_prepared_t *stmt = apr_hash_get(db->prepared, label,
                                            APR_HASH_KEY_STRING);
    int nrows = 0, rv, tries;

    if (!stmt) {
        db->error = apr_psprintf(p, "%s: statement not prepared", label);
        return APR_EGENERAL;
    }
    rv = apr_dbd_pquery(db->driver, p, db->handle, &nrows, stmt, nargs, args);
    for (tries = 0; rv && tries < REPREPARE_TRIES && !db->in_transaction &&
                    reprepare(db, p, label, &stmt);
         tries++) {
        rv = apr_dbd_pquery(db->driver, p, db->handle, &nrows, stmt, nargs,
                            args);
    }
    return rv ? fail(db, p, rv, label) : APR_SUCCESS;
}

/* A write outside any transaction, taking the server's writer turn. */
static apr_status_t exec_write(notify_db *db, apr_pool_t *p,
                               const char *label, int nargs,
                               const char **args)
{
    apr_status_t rv;

    write_begin(db);
    rv = exec(db, p, label, nargs, args);
    write_end(db);
    return rv;
}

static const char *col(const notify_db *db, apr_dbd_row_t *row, int n)
{
    return apr_dbd_get_entry(db->driver, row, n);
}

static apr_int64_t col_int(const notify_db *db, apr_dbd_row_t *row, int n)
{
    const char *v = col(db, row, n);

    return v ? apr_atoi64(v) : 0;
}

/* PostgreSQL renders booleans and flags as text too: "1", "t" or "true". */
static int col_flag(const notify_db *db, apr_dbd_row_t *row, int n)
{
    const char *v = col(db, row, n);

    return v && (v[0] == '1' || v[0] == 't');
}

apr_status_t notify_store_connection_init(notify_db *db, apr_pool_t *p)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int rv;

    if (!is_sqlite(db->driver)) {
        return APR_SUCCESS;
    }
    /* apr_dbd_sqlite3 never sets a busy handler: without one a locked
     * database makes it sleep in coarse steps. */
    rv = apr_dbd_select(db->driver, p, db->handle, &res,
                        "PRAGMA busy_timeout = 10000", 0);
    if (rv) {
        return fail(db, p, rv, "PRAGMA busy_timeout");
    }
    while (apr_dbd_get_row(db->driver, p, res, &row, -1) == 0) {
    }
    return APR_SUCCESS;
}

static void app_row(void *baton, const notify_db *db, apr_dbd_row_t *row)
{
    *(apr_int64_t *)baton = col_int(db, row, 0);
}

apr_status_t notify_store_find_app(notify_db *db, apr_pool_t *p,
                                   const char *sha, apr_int64_t *app_id)
{
    const char *args[] = {sha};

    *app_id = 0;
    return run(db, p, SQL_APP, 1, args, app_row, app_id);
}

typedef struct {
    apr_pool_t *p;
    notify_session_row *s;
} session_baton;

static void session_row(void *baton, const notify_db *db, apr_dbd_row_t *row)
{
    session_baton *b = baton;
    const char *v;

    b->s->id = col_int(db, row, 0);
    b->s->user_id = col_int(db, row, 1);
    v = col(db, row, 2);
    b->s->created_at = v ? apr_pstrdup(b->p, v) : NULL;
    v = col(db, row, 3);
    b->s->last_used_at = v ? apr_pstrdup(b->p, v) : NULL;
    b->s->remember_me = col_flag(db, row, 4);
    b->s->has_role = col_flag(db, row, 5);
}

apr_status_t notify_store_find_session(notify_db *db, apr_pool_t *p,
                                       const char *sha,
                                       notify_session_row *s)
{
    const char *args[] = {sha};
    session_baton b = {p, s};

    memset(s, 0, sizeof(*s));
    return run(db, p, SQL_SESSION, 1, args, session_row, &b);
}

apr_status_t notify_store_touch_session(notify_db *db, apr_pool_t *p,
                                        apr_int64_t id, const char *now)
{
    const char *args[] = {now, id_arg(p, id)};

    return exec_write(db, p, SQL_TOUCH, 2, args);
}

static void route_row(void *baton, const notify_db *db, apr_dbd_row_t *row)
{
    notify_route_row *rt = baton;

    rt->found = 1;
    rt->route_deployed = col_flag(db, row, 0);
    rt->sensitive = col_flag(db, row, 1);
    rt->service_found = col(db, row, 2) != NULL;
    rt->service_deployed = col_flag(db, row, 3);
}

apr_status_t notify_store_find_route(notify_db *db, apr_pool_t *p,
                                     const char *name, notify_route_row *rt)
{
    const char *args[] = {name};

    memset(rt, 0, sizeof(*rt));
    return run(db, p, SQL_ROUTE, 1, args, route_row, rt);
}

static apr_status_t insert(notify_db *db, apr_pool_t *p,
                           const notify_values *v, notify_row *row,
                           const notify_principal *who)
{
    const char *args[NOTIFY_P_COUNT + 4];
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
    if (run(db, p, SQL_INSERT, n, args, app_row, &row->id) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (row->id <= 0) {
        db->error = SQL_INSERT ": no id returned";
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* Runs fn inside one transaction: all of it is written or none. A driver
 * whose statements expire gets them prepared again and one more try. */
typedef apr_status_t txn_fn(notify_db *db, apr_pool_t *p, void *baton);

static apr_status_t txn_once(notify_db *db, apr_pool_t *p, txn_fn *fn,
                             void *baton)
{
    apr_dbd_transaction_t *trans = NULL;
    apr_status_t rv;
    int drv;

    drv = apr_dbd_transaction_start(db->driver, p, db->handle, &trans);
    if (drv) {
        rv = fail(db, p, drv, "BEGIN");
        /* apr_dbd_sqlite3 leaves the failed transaction attached to the
         * handle (in this request's pool): detach it. */
        if (trans) {
            apr_dbd_transaction_mode_set(db->driver, trans,
                                         APR_DBD_TRANSACTION_ROLLBACK);
            apr_dbd_transaction_end(db->driver, p, trans);
        }
        return rv;
    }
    db->in_transaction = 1;
    rv = fn(db, p, baton);
    if (rv != APR_SUCCESS) {
        apr_dbd_transaction_mode_set(db->driver, trans,
                                     APR_DBD_TRANSACTION_ROLLBACK);
    }
    drv = apr_dbd_transaction_end(db->driver, p, trans);
    db->in_transaction = 0;
    if (rv == APR_SUCCESS && drv) {
        return fail(db, p, drv, "COMMIT");
    }
    return rv;
}

/* txn_once, with the statements prepared again after a failure; the
 * caller holds the writer turn. */
static apr_status_t txn_retry(notify_db *db, apr_pool_t *p, txn_fn *fn,
                              void *baton)
{
    const notify_statement *s;
    apr_dbd_prepared_t *stmt;
    apr_status_t rv;
    int tries;

    rv = txn_once(db, p, fn, baton);
    for (tries = 0; rv != APR_SUCCESS && db->reprepare &&
                    tries < REPREPARE_TRIES;
         tries++) {
        for (s = db->statements; s && s->label; s++) {
            reprepare(db, p, s->label, &stmt);
        }
        rv = txn_once(db, p, fn, baton);
    }
    return rv;
}

/* ---- group commit (SQLite) ----
 *
 * SQLite commits one transaction at a time, each with its own fsync (the
 * cost of a create). So the transactions of a process queue up: the first
 * thread to find no leader leads, takes what is queued (at most max), and
 * runs it all on its own connection in one transaction, under the
 * server's write lock; then it wakes the others, whose writes are
 * committed. Writes that arrive meanwhile form the next batch. If the
 * shared transaction fails, nothing of it was written and each write runs
 * again in a transaction of its own, so one bad write fails only itself.
 * A waiting thread's baton and pool are used by the leader only while the
 * waiting thread sleeps on the group's condition. */
typedef struct notify_job notify_job;
struct notify_job {
    notify_job *next;
    apr_pool_t *p;
    txn_fn *fn;
    void *baton;
    apr_status_t rv;
    const char *error;
    int done;
};

struct notify_group {
#if APR_HAS_THREADS
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *cond;
#endif
    notify_job *head, **tail;
    int leading, max, waiting, shared, largest;
};

notify_group *notify_group_create(apr_pool_t *p, int max)
{
#if APR_HAS_THREADS
    notify_group *g = apr_pcalloc(p, sizeof(*g));

    if (apr_thread_mutex_create(&g->mutex, APR_THREAD_MUTEX_DEFAULT, p) ||
        apr_thread_cond_create(&g->cond, p)) {
        return NULL;
    }
    g->tail = &g->head;
    g->max = max > 1 ? max : 1;
    return g;
#else
    (void)p;
    (void)max;
    return NULL;
#endif
}

void notify_group_stats(notify_group *g, int *waiting, int *shared,
                        int *largest)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(g->mutex);
#endif
    *waiting = g->waiting;
    *shared = g->shared;
    *largest = g->largest;
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(g->mutex);
#endif
}

#if APR_HAS_THREADS
static apr_status_t batch_fn(notify_db *db, apr_pool_t *p, void *baton)
{
    notify_job *j;

    (void)p;
    for (j = baton; j; j = j->next) {
        if (j->fn(db, j->p, j->baton) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    return APR_SUCCESS;
}

/* Runs the n jobs of batch on db; p is the leader's pool. */
static void run_batch(notify_db *db, apr_pool_t *p, notify_job *batch, int n)
{
    notify_job *j;

    write_begin(db);
    if (n > 1 && txn_once(db, p, batch_fn, batch) == APR_SUCCESS) {
        write_end(db);
        return;
    }
    for (j = batch; j; j = j->next) {
        j->rv = txn_retry(db, j->p, j->fn, j->baton);
        j->error = j->rv ? apr_pstrdup(j->p, db->error) : NULL;
    }
    write_end(db);
}

static apr_status_t group_run(notify_db *db, apr_pool_t *p, txn_fn *fn,
                              void *baton)
{
    notify_group *g = db->group;
    notify_job job = {NULL, p, fn, baton, APR_SUCCESS, NULL, 0};
    notify_job *batch, *last, *j;
    int n;

    apr_thread_mutex_lock(g->mutex);
    *g->tail = &job;
    g->tail = &job.next;
    g->waiting++;
    while (!job.done) {
        if (g->leading) {
            apr_thread_cond_wait(g->cond, g->mutex);
            continue;
        }
        /* Lead: the first max queued jobs (this one among them unless
         * more than max came before it: then the next turn). */
        batch = last = g->head;
        for (n = 1; n < g->max && last->next; n++) {
            last = last->next;
        }
        g->head = last->next;
        if (!g->head) {
            g->tail = &g->head;
        }
        last->next = NULL;
        g->waiting -= n;
        g->leading = 1;
        apr_thread_mutex_unlock(g->mutex);

        run_batch(db, p, batch, n);

        apr_thread_mutex_lock(g->mutex);
        if (n > 1) {
            g->shared++;
        }
        if (n > g->largest) {
            g->largest = n;
        }
        for (j = batch; j; j = j->next) {
            j->done = 1;
        }
        g->leading = 0;
        apr_thread_cond_broadcast(g->cond);
    }
    apr_thread_mutex_unlock(g->mutex);
    if (job.rv != APR_SUCCESS) {
        db->error = job.error;
    }
    return job.rv;
}
#endif

/* Runs fn in a transaction of its own, or (SQLite, threaded) in one
 * shared with the process's other writes queued at the same time. */
static apr_status_t in_transaction(notify_db *db, apr_pool_t *p, txn_fn *fn,
                                   void *baton)
{
    apr_status_t rv;

#if APR_HAS_THREADS
    if (db->group) {
        return group_run(db, p, fn, baton);
    }
#endif
    write_begin(db);
    rv = txn_retry(db, p, fn, baton);
    write_end(db);
    return rv;
}

/* The answer goes with the write that completes the request. */
static apr_status_t record_answer(notify_db *db, apr_pool_t *p,
                                  const notify_idem_answer *idem)
{
    const char *args[3];
    int http = 0;

    if (!idem || !idem->claim_id) {
        return APR_SUCCESS;
    }
    args[1] = idem->answer(idem->baton, &http);
    if (!args[1]) {
        db->error = "the answer could not be rendered";
        return APR_EGENERAL;
    }
    args[0] = apr_itoa(p, http);
    args[2] = id_arg(p, idem->claim_id);
    return exec(db, p, SQL_IDEM_ANSWER, 3, args);
}

typedef struct {
    const notify_values *v;
    notify_row *row;
    const notify_principal *who;
    const notify_idem_answer *idem;
} create_baton;

static apr_status_t create_fn(notify_db *db, apr_pool_t *p, void *baton)
{
    create_baton *b = baton;
    apr_status_t rv = insert(db, p, b->v, b->row, b->who);

    return rv == APR_SUCCESS ? record_answer(db, p, b->idem) : rv;
}

apr_status_t notify_store_create(notify_db *db, apr_pool_t *p,
                                 const notify_values *v, notify_row *row,
                                 const notify_principal *who,
                                 const notify_idem_answer *idem)
{
    create_baton b = {v, row, who, idem};
    apr_status_t rv;

    /* One INSERT is a transaction of its own (all of the row or none):
     * BEGIN and COMMIT around it would only add two round trips to the
     * database. An answer to record with it needs the transaction, and
     * SQLite's creates share theirs (group commit). */
    if ((!idem || !idem->claim_id) && !db->group) {
        write_begin(db);
        rv = insert(db, p, v, row, who);
        write_end(db);
        return rv;
    }
    return in_transaction(db, p, create_fn, &b);
}

typedef struct {
    apr_int64_t id;
    const notify_proof *proof;
    const char *now;
    const notify_values *dev;
    notify_row *dev_row;
    const notify_principal *who;
    const notify_idem_answer *idem;
} delivery_baton;

static apr_status_t delivery_fn(notify_db *db, apr_pool_t *p, void *baton)
{
    delivery_baton *b = baton;
    const char *id = id_arg(p, b->id);
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; rv == APR_SUCCESS && i < b->proof->count; i++) {
        const notify_recipient *r = &b->proof->recipients[i];
        const char *args[] = {id, r->email, r->type, r->status,
                              r->provider_id, r->reject_reason, r->error,
                              b->now};
        rv = exec(db, p, SQL_DELIVERY, 8, args);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!b->dev) {
        const char *args[] = {b->now, b->now, id};
        rv = exec(db, p, SQL_PROCESSED, 3, args);
    }
    else {
        rv = insert(db, p, b->dev, b->dev_row, b->who);
    }
    return rv == APR_SUCCESS ? record_answer(db, p, b->idem) : rv;
}

apr_status_t notify_store_delivery(notify_db *db, apr_pool_t *p,
                                   apr_int64_t id, const notify_proof *proof,
                                   const char *now, const notify_values *dev,
                                   notify_row *dev_row,
                                   const notify_principal *who,
                                   const notify_idem_answer *idem)
{
    delivery_baton b = {id, proof, now, dev, dev_row, who, idem};

    return in_transaction(db, p, delivery_fn, &b);
}

apr_status_t notify_store_idem_claim(notify_db *db, apr_pool_t *p,
                                     const char *principal, const char *key,
                                     const char *request_sha256,
                                     const char *now, apr_int64_t *id)
{
    const char *args[] = {principal, key, request_sha256, now};

    apr_status_t rv;

    *id = 0;
    write_begin(db);
    rv = run(db, p, SQL_IDEM_CLAIM, 4, args, app_row, id);
    write_end(db);
    return rv;
}

typedef struct {
    apr_pool_t *p;
    notify_idem_row *row;
} idem_baton;

static const char *col_copy(apr_pool_t *p, const notify_db *db,
                            apr_dbd_row_t *row, int n)
{
    const char *v = col(db, row, n);

    return v ? apr_pstrdup(p, v) : NULL;
}

static void idem_row(void *baton, const notify_db *db, apr_dbd_row_t *row)
{
    idem_baton *b = baton;

    b->row->id = col_int(db, row, 0);
    b->row->request_sha256 = col_copy(b->p, db, row, 1);
    b->row->http_status = (int)col_int(db, row, 2);
    b->row->response_body = col_copy(b->p, db, row, 3);
    b->row->created_at = col_copy(b->p, db, row, 4);
}

apr_status_t notify_store_idem_get(notify_db *db, apr_pool_t *p,
                                   const char *principal, const char *key,
                                   notify_idem_row *row)
{
    const char *args[] = {principal, key};
    idem_baton b = {p, row};

    memset(row, 0, sizeof(*row));
    return run(db, p, SQL_IDEM_GET, 2, args, idem_row, &b);
}

apr_status_t notify_store_idem_release(notify_db *db, apr_pool_t *p,
                                       apr_int64_t id)
{
    const char *args[] = {id_arg(p, id)};

    return exec_write(db, p, SQL_IDEM_RELEASE, 1, args);
}

apr_status_t notify_store_idem_purge(notify_db *db, apr_pool_t *p,
                                     const char *before)
{
    const char *args[] = {before};

    return exec_write(db, p, SQL_IDEM_PURGE, 1, args);
}
