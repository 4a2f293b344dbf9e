/* Everything the module reads and writes in SQL, through apr_dbd prepared
 * statements (labels prepared once per connection by mod_dbd). APR-only,
 * so it runs as well on a handle opened by a unit test. */
#ifndef NOTIFY_STORE_H
#define NOTIFY_STORE_H

#include <apr_dbd.h>
#include <apr_hash.h>
#include <apr_global_mutex.h>

#include "notify_render.h"

typedef struct {
    const char *label;
    const char *sql;
} notify_statement;

/* A process's SQLite transactions committed together (notify_store.c). */
typedef struct notify_group notify_group;

typedef struct {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_hash_t *prepared; /* label -> apr_dbd_prepared_t */
    apr_pool_t *conn_pool; /* lives as long as the connection */
    const notify_statement *statements; /* to prepare a label again */
    int reprepare;         /* prepare a failed statement again, retry once */
    int in_transaction;
    /* SQLite: the server's writers take turns (see notify_store.c). */
    apr_global_mutex_t *write_lock;
    notify_group *group; /* SQLite: transactions share commits */
    const char *error; /* the driver's message after a failure */
} notify_db;

/* The statements to prepare, ending with {NULL, NULL}; built once in p
 * (the INSERT follows the parameter table). */
const notify_statement *notify_store_statements(apr_pool_t *p);

/* Fills db for one use of a connection whose statements (prepared from
 * `statements`) are in `prepared`; conn_pool lives as long as it. */
void notify_store_attach(notify_db *db, const apr_dbd_driver_t *driver,
                         apr_dbd_t *handle, apr_hash_t *prepared,
                         apr_pool_t *conn_pool,
                         const notify_statement *statements);

/* Group commit for SQLite, one group per process (threaded MPMs): each
 * transaction (a create, a delivery record) joins those queued in the
 * process; one thread runs them all in one transaction, so they share
 * one commit (one fsync) instead of one each. At most max go in a
 * transaction. NULL when the platform has no threads. */
notify_group *notify_group_create(apr_pool_t *p, int max);

/* How db's writes take turns: lock, the one all SQLite writers of the
 * server share, and g, the process's group commit (either NULL: none).
 * Both are ignored for other drivers than SQLite. */
void notify_store_set_writers(notify_db *db, apr_global_mutex_t *lock,
                              notify_group *g);

/* For tests: transactions waiting for a turn, shared transactions so
 * far, and the most transactions one of them held. */
void notify_group_stats(notify_group *g, int *waiting, int *shared,
                        int *largest);

/* Prepares them on an open handle (for users without mod_dbd: tests). */
apr_status_t notify_store_prepare_all(notify_db *db, apr_pool_t *p);

/* Per-connection settings the driver needs (SQLite: busy timeout,
 * synchronous mode); a no-op for other drivers. */
apr_status_t notify_store_connection_init(notify_db *db, apr_pool_t *p);

/* The active application whose token hashes to sha, *app_id 0 if none. */
apr_status_t notify_store_find_app(notify_db *db, apr_pool_t *p,
                                   const char *sha, apr_int64_t *app_id);

typedef struct {
    apr_int64_t id; /* 0: no such session */
    apr_int64_t user_id;
    const char *created_at; /* as stored */
    const char *last_used_at;
    int remember_me;
    int has_role; /* a clients, employees or liaisons row */
} notify_session_row;

apr_status_t notify_store_find_session(notify_db *db, apr_pool_t *p,
                                       const char *sha,
                                       notify_session_row *s);

apr_status_t notify_store_touch_session(notify_db *db, apr_pool_t *p,
                                        apr_int64_t id, const char *now);

typedef struct {
    int found;
    int route_deployed;
    int sensitive;
    int service_found;
    int service_deployed;
} notify_route_row;

apr_status_t notify_store_find_route(notify_db *db, apr_pool_t *p,
                                     const char *name, notify_route_row *rt);

/* Who creates: one of the two ids is set. */
typedef struct {
    apr_int64_t app_id;
    apr_int64_t session_id;
} notify_principal;

/* An Idempotency-Key claimed by this request, and how to render the answer
 * stored with it (called inside the transaction that completes the
 * request, once row ids are known). */
typedef struct {
    apr_int64_t claim_id; /* 0: no key */
    const char *(*answer)(void *baton, int *http);
    void *baton;
} notify_idem_answer;

/* Stores one notification atomically (one INSERT, or with idem a
 * transaction that stores the answer with it); row->id is set. On any
 * failure nothing is written. */
apr_status_t notify_store_create(notify_db *db, apr_pool_t *p,
                                 const notify_values *v, notify_row *row,
                                 const notify_principal *who,
                                 const notify_idem_answer *idem);

/* After a delivery attempt of notification id, in one transaction: one
 * notification_deliveries row per proof entry; then, when dev is NULL
 * (accepted), processed = 1 and processed_at = updated_at = now; else the
 * dev-team notification dev is stored (dev_row gets its id). */
apr_status_t notify_store_delivery(notify_db *db, apr_pool_t *p,
                                   apr_int64_t id, const notify_proof *proof,
                                   const char *now, const notify_values *dev,
                                   notify_row *dev_row,
                                   const notify_principal *who,
                                   const notify_idem_answer *idem);

typedef struct {
    apr_int64_t id; /* 0: no such key */
    const char *request_sha256;
    int http_status; /* 0: the first request is still in flight */
    const char *response_body;
    const char *created_at;
} notify_idem_row;

/* Claims (principal, key) for this request: *id is the new row, or 0 when
 * the key is already there (the unique constraint decided). Committed at
 * once, so concurrent repeats see the claim. */
apr_status_t notify_store_idem_claim(notify_db *db, apr_pool_t *p,
                                     const char *principal, const char *key,
                                     const char *request_sha256,
                                     const char *now, apr_int64_t *id);

apr_status_t notify_store_idem_get(notify_db *db, apr_pool_t *p,
                                   const char *principal, const char *key,
                                   notify_idem_row *row);

/* Frees a key: a claim whose request wrote nothing, or an expired one. */
apr_status_t notify_store_idem_release(notify_db *db, apr_pool_t *p,
                                       apr_int64_t id);

/* Deletes up to 500 keys created before `before`. */
apr_status_t notify_store_idem_purge(notify_db *db, apr_pool_t *p,
                                     const char *before);

#endif
