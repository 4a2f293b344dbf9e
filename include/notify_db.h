/* One database connection in use (from mod_dbd's pool, or opened by a
 * unit test) and the rules for talking to it, for every driver:
 *
 *  - statements are named by label (notify_statement) and prepared on
 *    demand when the connection lacks one (mod_dbd prepares them when it
 *    connects);
 *  - rows are read to the end, and "no row" is never mistaken for "could
 *    not read";
 *  - a failure is retried only when a retry can mend it: a statement gone
 *    stale (SQLite after a schema change) is prepared again, alone; a
 *    connection the server dropped is reset and its statements prepared
 *    again as they are used; SQLite still busy after its timeout is tried
 *    once more. Anything else fails at once;
 *  - SQLite writes take their database's turn (notify_writer.h), held for
 *    the write alone, never while recovering from a failure.
 * APR-only. */
#ifndef NOTIFY_DB_H
#define NOTIFY_DB_H

#include <apr_dbd.h>
#include <apr_hash.h>

#include "notify_writer.h"

typedef struct {
    const char *label;
    const char *sql;
    /* Not given to mod_dbd, which prepares every statement it has when it
     * connects and fails the connection if one does not prepare: this one
     * needs upgrade 1 of the schema, and is prepared on first use, so a
     * database not yet upgraded fails only what needs it. */
    int since_upgrade;
} notify_statement;

typedef struct {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_hash_t *prepared;               /* label -> apr_dbd_prepared_t */
    apr_pool_t *conn_pool;              /* lives as long as the connection */
    const notify_statement *statements; /* {NULL, NULL}-terminated */
    notify_writer *writer; /* SQLite: the database's turn; else NULL */
    int sqlite;
    int in_transaction;
    const char *error; /* what failed, in the driver's words */
    /* the last failure, for deciding on a retry */
    int failed_rv;
    const char *failed_label;        /* NULL: BEGIN or COMMIT */
    struct notify_conn_state *state; /* kept in conn_pool */
} notify_db;

/* Binds db to a connection. The first time a connection is bound, what
 * its driver needs is set on it (SQLite: the busy timeout) and, for
 * SQLite, its database's writer is found in ws (ws NULL: no turns; the
 * writer is remembered in conn_pool). *warning, when set, is worth a log
 * line (the cross-process lock could not be opened). */
apr_status_t notify_db_bind(notify_db *db, apr_pool_t *p,
                            const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                            apr_hash_t *prepared, apr_pool_t *conn_pool,
                            const notify_statement *statements,
                            notify_writers *ws, const char **warning);

/* Called for each row read; a row it cannot use fails the statement. */
typedef apr_status_t notify_row_fn(void *baton, notify_db *db,
                                   apr_dbd_row_t *row);

/* A read outside any transaction, retried as above. fn may be NULL. */
apr_status_t notify_db_select(notify_db *db, apr_pool_t *p, const char *label,
                              int nargs, const char **args, notify_row_fn *fn,
                              void *baton);

/* One statement inside a transaction function: a statement that returns
 * rows when fn is set, else a command (*nrows: rows it changed; may be
 * NULL). Not retried alone: the whole transaction is. */
apr_status_t notify_db_query(notify_db *db, apr_pool_t *p, const char *label,
                             int nargs, const char **args, notify_row_fn *fn,
                             void *baton, int *nrows);

typedef apr_status_t notify_txn_fn(notify_db *db, apr_pool_t *p, void *baton);

/* Runs fn in one transaction (all of it is written or none), in the
 * database's write turn; with SQLite under a threaded MPM in a commit
 * shared with other writes to the same database. Retried as a whole as
 * above. fn may run on another thread's connection to the same database
 * (the leader of a shared commit) and more than once: it must depend only
 * on its baton, and reset what it fills. */
apr_status_t notify_db_transaction(notify_db *db, apr_pool_t *p,
                                   notify_txn_fn *fn, void *baton);

/* One write statement as a transaction of its own (one round trip where
 * no commit is shared), in the write turn, retried as above. */
apr_status_t notify_db_write(notify_db *db, apr_pool_t *p, const char *label,
                             int nargs, const char **args, notify_row_fn *fn,
                             void *baton, int *nrows);

/* Column n of row: the text, or NULL for SQL NULL. */
const char *notify_db_col(const notify_db *db, apr_dbd_row_t *row, int n);

/* Column n as an integer: 1 with *out set, 0 when NULL or not a number. */
int notify_db_col_int(const notify_db *db, apr_dbd_row_t *row, int n,
                      apr_int64_t *out);

/* Column n as a 0/1 flag (PostgreSQL may render "t"/"true"). */
int notify_db_col_flag(const notify_db *db, apr_dbd_row_t *row, int n);

/* Helpers for the statements' arguments and rows: an id as text (0:
 * NULL), a column copied into p, and a row fn that reads the first column
 * as an id into baton (an apr_int64_t). */
const char *notify_db_id_arg(apr_pool_t *p, apr_int64_t id);
const char *notify_db_col_copy(apr_pool_t *p, const notify_db *db,
                               apr_dbd_row_t *row, int n);
apr_status_t notify_db_id_row(void *baton, notify_db *db, apr_dbd_row_t *row);

/* What a failure calls for (exposed for the unit tests). */
typedef enum {
    NOTIFY_DB_FATAL = 0,    /* not mendable by a retry */
    NOTIFY_DB_STALE,        /* prepare this statement again, retry */
    NOTIFY_DB_DISCONNECTED, /* reset the connection, retry */
    NOTIFY_DB_BUSY          /* SQLite locked past its timeout: retry once */
} notify_db_failure_e;

notify_db_failure_e notify_db_classify(const char *driver_name, int rv,
                                       const char *message);

#endif
