/* notify_db.h: statements, reads, transactions and classified retries on
 * one apr_dbd connection. */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "notify_db.h"

/* What a connection keeps across its uses, in its own pool: a new
 * connection (after mod_dbd reconnects) gets a new pool, so a new one. */
struct notify_conn_state {
    notify_writer *writer;
    unsigned generation; /* statements prepared again on it so far */
};

#define CONN_STATE_KEY "mod_notify:conn"

/* A failure is retried at most this often, whatever its kind; one kind of
 * failure is given at most its own budget below. */
#define MAX_TRIES 4

typedef struct {
    int stale;      /* statements prepared again */
    int reconnects; /* connection resets */
    int busy;       /* SQLite still locked */
} retry_budget;

static const retry_budget initial_budget = {3, 1, 1};

static apr_status_t fail(notify_db *db, apr_pool_t *p, int rv,
                         const char *label, const char *what)
{
    const char *msg =
        db->handle ? apr_dbd_error(db->driver, db->handle, rv) : NULL;
    char *text = apr_psprintf(p, "%s: %s", what, msg ? msg : "unknown error");
    apr_size_t len = strlen(text);

    /* libpq ends its messages with a newline. */
    while (len > 0 && apr_isspace(text[len - 1])) {
        text[--len] = '\0';
    }
    db->error = text;
    db->failed_rv = rv;
    db->failed_label = label;
    return APR_EGENERAL;
}

/* ---- classifying failures ---- */

/* libpq's words for a connection the server dropped or never answered. */
static const char *const pg_disconnected[] = {
    "server closed the connection",
    "no connection to the server",
    "terminating connection",
    "could not send data to server",
    "could not receive data from server",
    "connection to server",
    "SSL connection has been closed",
    "SSL SYSCALL error",
    "the database system is shutting down",
    "the database system is starting up",
    NULL,
};

notify_db_failure_e notify_db_classify(const char *driver_name, int rv,
                                       const char *message)
{
    const char *const *m;

    message = message ? message : "";
    if (strcmp(driver_name, "sqlite3") == 0) {
        /* SQLITE_BUSY, SQLITE_LOCKED */
        if (rv == 5 || rv == 6) {
            return NOTIFY_DB_BUSY;
        }
        /* SQLITE_SCHEMA. apr_dbd_sqlite3 prepares with the legacy
         * sqlite3_prepare(), whose expired statement fails with a bare
         * SQLITE_ERROR; the driver's reset then leaves either the schema
         * message or none ("not an error"). Every real error has one. */
        if (rv == 17 || strstr(message, "database schema has changed") ||
            (rv == 1 && strstr(message, "not an error"))) {
            return NOTIFY_DB_STALE;
        }
        return NOTIFY_DB_FATAL;
    }
    if (strcmp(driver_name, "pgsql") == 0) {
        if (strstr(message, "prepared statement") &&
            strstr(message, "does not exist")) {
            return NOTIFY_DB_STALE;
        }
        if (strstr(message, "cached plan must not change result type")) {
            return NOTIFY_DB_STALE;
        }
        for (m = pg_disconnected; *m; m++) {
            if (strstr(message, *m)) {
                return NOTIFY_DB_DISCONNECTED;
            }
        }
    }
    return NOTIFY_DB_FATAL;
}

static void forget_all(notify_db *db)
{
    const notify_statement *s;

    for (s = db->statements; s && s->label; s++) {
        apr_hash_set(db->prepared, s->label, APR_HASH_KEY_STRING, NULL);
    }
}

/* Mends what the last failure calls for; 1 when a retry may succeed.
 * Runs outside the write turn. */
static int recover(notify_db *db, apr_pool_t *p, retry_budget *b)
{
    switch (notify_db_classify(apr_dbd_name(db->driver), db->failed_rv,
                               db->error)) {
    case NOTIFY_DB_STALE:
        if (b->stale-- <= 0) {
            return 0;
        }
        if (db->failed_label) {
            apr_hash_set(db->prepared, db->failed_label, APR_HASH_KEY_STRING,
                         NULL);
        }
        else {
            forget_all(db);
        }
        return 1;
    case NOTIFY_DB_DISCONNECTED:
        /* The reset (apr_dbd_check_conn) reconnects; a new server session
         * has none of the statements. */
        if (b->reconnects-- <= 0 ||
            apr_dbd_check_conn(db->driver, p, db->handle) != APR_SUCCESS) {
            return 0;
        }
        forget_all(db);
        return 1;
    case NOTIFY_DB_BUSY:
        return b->busy-- > 0;
    default:
        return 0;
    }
}

/* ---- binding a connection ---- */

static apr_status_t read_all(notify_db *db, apr_pool_t *p,
                             apr_dbd_results_t *res, notify_row_fn *fn,
                             void *baton, const char *label)
{
    apr_dbd_row_t *row = NULL;
    int rv;

    for (;;) {
        rv = apr_dbd_get_row(db->driver, p, res, &row, -1);
        if (rv == -1) {
            return APR_SUCCESS;
        }
        if (rv != 0) {
            return fail(db, p, rv, label,
                        apr_pstrcat(p, label, " (reading a row)", NULL));
        }
        if (fn && fn(baton, db, row) != APR_SUCCESS) {
            db->error =
                apr_pstrcat(p, label, ": a row could not be read", NULL);
            db->failed_rv = 0;
            db->failed_label = label;
            return APR_EGENERAL;
        }
    }
}

/* A statement with no label, on a handle: set-up only. */
static apr_status_t plain_select(notify_db *db, apr_pool_t *p, const char *sql,
                                 notify_row_fn *fn, void *baton)
{
    apr_dbd_results_t *res = NULL;
    int rv = apr_dbd_select(db->driver, p, db->handle, &res, sql, 0);

    if (rv) {
        return fail(db, p, rv, NULL, sql);
    }
    return read_all(db, p, res, fn, baton, sql);
}

static apr_status_t main_file_row(void *baton, notify_db *db,
                                  apr_dbd_row_t *row)
{
    const char *name = notify_db_col(db, row, 1);
    const char *file = notify_db_col(db, row, 2);

    if (name && strcmp(name, "main") == 0 && file) {
        *(const char **)baton = file;
    }
    return APR_SUCCESS;
}

/* The first use of a SQLite connection: the busy timeout (apr_dbd_sqlite3
 * never sets one, and sleeps in coarse steps on a locked database), and
 * the database file, whose writer orders this connection's writes. */
static apr_status_t sqlite_setup(notify_db *db, apr_pool_t *p,
                                 struct notify_conn_state *st,
                                 notify_writers *ws, const char **warning)
{
    const char *file = NULL;
    apr_status_t rv;

    rv = plain_select(db, p, "PRAGMA busy_timeout = 10000", NULL, NULL);
    if (rv == APR_SUCCESS) {
        rv = plain_select(db, p, "PRAGMA database_list", main_file_row, &file);
    }
    if (rv != APR_SUCCESS || !ws || !file || !*file) {
        return rv; /* an in-memory database has one connection anyway */
    }
    if (notify_writers_get(ws, file, &st->writer, warning) != APR_SUCCESS) {
        st->writer = NULL;
    }
    return APR_SUCCESS;
}

apr_status_t notify_db_bind(notify_db *db, apr_pool_t *p,
                            const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                            apr_hash_t *prepared, apr_pool_t *conn_pool,
                            const notify_statement *statements,
                            notify_writers *ws, const char **warning)
{
    struct notify_conn_state *st = NULL;
    apr_status_t rv = APR_SUCCESS;

    memset(db, 0, sizeof(*db));
    *warning = NULL;
    db->driver = driver;
    db->handle = handle;
    db->prepared = prepared;
    db->conn_pool = conn_pool;
    db->statements = statements;
    db->sqlite = strcmp(apr_dbd_name(driver), "sqlite3") == 0;
    apr_pool_userdata_get((void **)&st, CONN_STATE_KEY, conn_pool);
    if (!st) {
        st = apr_pcalloc(conn_pool, sizeof(*st));
        if (db->sqlite) {
            rv = sqlite_setup(db, p, st, ws, warning);
        }
        if (rv != APR_SUCCESS) {
            return rv; /* set up again on the next use */
        }
        apr_pool_userdata_set(st, CONN_STATE_KEY, NULL, conn_pool);
    }
    db->state = st;
    db->writer = st->writer;
    return APR_SUCCESS;
}

/* ---- statements ---- */

static const char *sql_of(const notify_db *db, const char *label)
{
    const notify_statement *s;

    for (s = db->statements; s && s->label; s++) {
        if (strcmp(s->label, label) == 0) {
            return s->sql;
        }
    }
    return NULL;
}

/* The connection's statement for label, prepared now if it has none. A
 * statement prepared again gets a name of its own (label_N): PostgreSQL
 * may still hold one under the old name. */
static apr_status_t statement(notify_db *db, apr_pool_t *p, const char *label,
                              apr_dbd_prepared_t **stmt)
{
    const char *sql;
    int rv;

    *stmt = apr_hash_get(db->prepared, label, APR_HASH_KEY_STRING);
    if (*stmt) {
        return APR_SUCCESS;
    }
    sql = sql_of(db, label);
    if (!sql) {
        db->error = apr_pstrcat(p, label, ": no such statement", NULL);
        db->failed_rv = 0;
        db->failed_label = label;
        return APR_EGENERAL;
    }
    rv = apr_dbd_prepare(
        db->driver, db->conn_pool, db->handle, sql,
        apr_psprintf(db->conn_pool, "%s_%u", label, ++db->state->generation),
        stmt);
    if (rv) {
        *stmt = NULL;
        return fail(db, p, rv, label,
                    apr_pstrcat(p, label, " (prepare)", NULL));
    }
    apr_hash_set(db->prepared, label, APR_HASH_KEY_STRING, *stmt);
    return APR_SUCCESS;
}

static apr_status_t statement_once(notify_db *db, apr_pool_t *p,
                                   const char *label, int nargs,
                                   const char **args, notify_row_fn *fn,
                                   void *baton, int *nrows)
{
    apr_dbd_prepared_t *stmt;
    apr_dbd_results_t *res = NULL;
    int rv, n = 0;

    if (statement(db, p, label, &stmt) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (fn) {
        rv = apr_dbd_pselect(db->driver, p, db->handle, &res, stmt, 1, nargs,
                             args);
        if (rv) {
            return fail(db, p, rv, label, label);
        }
        return read_all(db, p, res, fn, baton, label);
    }
    rv = apr_dbd_pquery(db->driver, p, db->handle, &n, stmt, nargs, args);
    if (rv) {
        return fail(db, p, rv, label, label);
    }
    if (nrows) {
        *nrows = n;
    }
    return APR_SUCCESS;
}

apr_status_t notify_db_query(notify_db *db, apr_pool_t *p, const char *label,
                             int nargs, const char **args, notify_row_fn *fn,
                             void *baton, int *nrows)
{
    return statement_once(db, p, label, nargs, args, fn, baton, nrows);
}

apr_status_t notify_db_select(notify_db *db, apr_pool_t *p, const char *label,
                              int nargs, const char **args, notify_row_fn *fn,
                              void *baton)
{
    retry_budget b = initial_budget;
    apr_status_t rv;
    int tries = 0;

    while ((rv = statement_once(db, p, label, nargs, args, fn, baton, NULL)) !=
               APR_SUCCESS &&
           ++tries < MAX_TRIES && recover(db, p, &b)) {
    }
    return rv;
}

/* ---- transactions ---- */

/* On PostgreSQL the transaction is BEGIN, COMMIT and ROLLBACK sent as
 * plain queries: apr_dbd_pgsql's transaction_start dereferences a NULL
 * transaction when BEGIN fails with an answer (as on a connection the
 * server has just terminated), which crashed the worker when PostgreSQL
 * restarted. Its transaction object only tracks errors, which the
 * transaction function's own result already says. */
static apr_status_t txn_once_plain(notify_db *db, apr_pool_t *p,
                                   notify_txn_fn *fn, void *baton)
{
    apr_status_t rv;
    int drv, n = 0;

    drv = apr_dbd_query(db->driver, db->handle, &n, "BEGIN");
    if (drv) {
        return fail(db, p, drv, NULL, "BEGIN");
    }
    db->in_transaction = 1;
    rv = fn(db, p, baton);
    if (rv != APR_SUCCESS) {
        const char *error = db->error;
        int failed_rv = db->failed_rv;
        const char *failed_label = db->failed_label;

        /* The failure that matters is the transaction function's. */
        apr_dbd_query(db->driver, db->handle, &n, "ROLLBACK");
        db->error = error;
        db->failed_rv = failed_rv;
        db->failed_label = failed_label;
        db->in_transaction = 0;
        return rv;
    }
    drv = apr_dbd_query(db->driver, db->handle, &n, "COMMIT");
    db->in_transaction = 0;
    return drv ? fail(db, p, drv, NULL, "COMMIT") : APR_SUCCESS;
}

static apr_status_t txn_once(notify_db *db, apr_pool_t *p, notify_txn_fn *fn,
                             void *baton)
{
    apr_dbd_transaction_t *trans = NULL;
    apr_status_t rv;
    int drv;

    if (!db->sqlite) {
        return txn_once_plain(db, p, fn, baton);
    }
    drv = apr_dbd_transaction_start(db->driver, p, db->handle, &trans);
    if (drv) {
        rv = fail(db, p, drv, NULL, "BEGIN");
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
        return fail(db, p, drv, NULL, "COMMIT");
    }
    return rv;
}

static void turn_begin(notify_db *db)
{
    if (db->writer) {
        notify_writer_lock(db->writer);
    }
}

static void turn_end(notify_db *db)
{
    if (db->writer) {
        notify_writer_unlock(db->writer);
    }
}

/* One transaction in the write turn, retried (outside the turn) as far
 * as the failure allows. */
static apr_status_t txn_retry(notify_db *db, apr_pool_t *p, notify_txn_fn *fn,
                              void *baton)
{
    retry_budget b = initial_budget;
    apr_status_t rv;
    int tries = 0;

    for (;;) {
        turn_begin(db);
        rv = txn_once(db, p, fn, baton);
        turn_end(db);
        if (rv == APR_SUCCESS || ++tries >= MAX_TRIES || !recover(db, p, &b)) {
            return rv;
        }
    }
}

/* A transaction waiting in a shared commit: its pool and baton are used
 * by the leader only while its own thread sleeps. */
typedef struct {
    apr_pool_t *p;
    notify_txn_fn *fn;
    void *baton;
    const char *error;
} txn_item;

typedef struct {
    notify_db *db;
    apr_pool_t *p;
} leader_ctx;

static apr_status_t batch_fn(notify_db *db, apr_pool_t *p, void *baton)
{
    notify_write_job *j;

    (void)p;
    for (j = baton; j; j = j->next) {
        txn_item *it = j->item;
        if (it->fn(db, it->p, it->baton) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    return APR_SUCCESS;
}

/* The leader runs the batch in one transaction; if that fails, nothing of
 * it was written and each runs again alone, so one bad write fails only
 * itself. */
static void run_batch(void *leader, notify_write_job *batch, int n)
{
    leader_ctx *l = leader;
    notify_write_job *j;
    apr_status_t rv = APR_EGENERAL;

    if (n > 1) {
        turn_begin(l->db);
        rv = txn_once(l->db, l->p, batch_fn, batch);
        turn_end(l->db);
    }
    for (j = batch; j; j = j->next) {
        txn_item *it = j->item;
        if (rv == APR_SUCCESS) {
            j->rv = APR_SUCCESS;
            continue;
        }
        j->rv = txn_retry(l->db, it->p, it->fn, it->baton);
        it->error = j->rv ? apr_pstrdup(it->p, l->db->error) : NULL;
    }
}

apr_status_t notify_db_transaction(notify_db *db, apr_pool_t *p,
                                   notify_txn_fn *fn, void *baton)
{
    txn_item item = {p, fn, baton, NULL};
    notify_write_job job;
    leader_ctx leader = {db, p};

    if (!db->writer || !notify_writer_grouped(db->writer)) {
        return txn_retry(db, p, fn, baton);
    }
    memset(&job, 0, sizeof(job));
    job.item = &item;
    notify_writer_submit(db->writer, &job, p, run_batch, &leader);
    if (job.rv != APR_SUCCESS) {
        db->error = item.error ? item.error : "the shared commit failed";
    }
    return job.rv;
}

typedef struct {
    const char *label;
    int nargs;
    const char **args;
    notify_row_fn *fn;
    void *baton;
    int *nrows;
} write_one;

static apr_status_t write_one_fn(notify_db *db, apr_pool_t *p, void *baton)
{
    write_one *w = baton;

    return statement_once(db, p, w->label, w->nargs, w->args, w->fn, w->baton,
                          w->nrows);
}

apr_status_t notify_db_write(notify_db *db, apr_pool_t *p, const char *label,
                             int nargs, const char **args, notify_row_fn *fn,
                             void *baton, int *nrows)
{
    write_one w = {label, nargs, args, fn, baton, nrows};
    retry_budget b = initial_budget;
    apr_status_t rv;
    int tries = 0;

    if (db->writer && notify_writer_grouped(db->writer)) {
        return notify_db_transaction(db, p, write_one_fn, &w);
    }
    /* Alone, one statement is a transaction of its own: BEGIN and COMMIT
     * around it would only add two round trips. */
    for (;;) {
        turn_begin(db);
        rv = write_one_fn(db, p, &w);
        turn_end(db);
        if (rv == APR_SUCCESS || ++tries >= MAX_TRIES || !recover(db, p, &b)) {
            return rv;
        }
    }
}

/* ---- columns ---- */

/* Through apr_dbd_datum_get: apr_dbd_get_entry gives PostgreSQL's NULL
 * as "", which is not NULL. */
const char *notify_db_col(const notify_db *db, apr_dbd_row_t *row, int n)
{
    const char *v = NULL;

    if (apr_dbd_datum_get(db->driver, row, n, APR_DBD_TYPE_STRING, &v) !=
        APR_SUCCESS) {
        return NULL;
    }
    return v;
}

int notify_db_col_int(const notify_db *db, apr_dbd_row_t *row, int n,
                      apr_int64_t *out)
{
    const char *v = notify_db_col(db, row, n);
    char *end;

    if (!v || !*v) {
        return 0;
    }
    *out = apr_strtoi64(v, &end, 10);
    return *end == '\0';
}

int notify_db_col_flag(const notify_db *db, apr_dbd_row_t *row, int n)
{
    const char *v = notify_db_col(db, row, n);

    return v && (v[0] == '1' || v[0] == 't');
}

const char *notify_db_id_arg(apr_pool_t *p, apr_int64_t id)
{
    return id ? apr_psprintf(p, "%" APR_INT64_T_FMT, id) : NULL;
}

const char *notify_db_col_copy(apr_pool_t *p, const notify_db *db,
                               apr_dbd_row_t *row, int n)
{
    const char *v = notify_db_col(db, row, n);

    return v ? apr_pstrdup(p, v) : NULL;
}

apr_status_t notify_db_id_row(void *baton, notify_db *db, apr_dbd_row_t *row)
{
    return notify_db_col_int(db, row, 0, baton) ? APR_SUCCESS : APR_EGENERAL;
}
