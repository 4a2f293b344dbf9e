/* The outbox's worker (SPEC 11), one pass over one database: it claims
 * the due rows with a write only one claimant wins (on any host sharing
 * the database), makes their attempts at once without holding a database
 * connection, and records each: delivery rows, the outbox row's next
 * state (sent, pending after a backoff, failed), processed, and the dev
 * team's delivery-failed notification when it gives up. The glue runs a
 * pass every NotifyDeliveryInterval from httpd's watchdog. APR-only. */
#ifndef NOTIFY_WORKER_H
#define NOTIFY_WORKER_H

#include "notify_delivery.h"
#include "notify_log.h"

typedef struct {
    /* A connection to the database, bound; or an error with *why. */
    apr_status_t (*db_open)(void *baton, notify_db **db, const char **why);
    void (*db_close)(void *baton, notify_db *db);
    void *baton;
    notify_logger log;
    notify_http *http;
    /* The settings the notifications of a route (the create Location
     * they came through; NULL: none kept) are delivered with; never
     * NULL. */
    const notify_settings *(*settings)(void *baton, const char *route);
    void *settings_baton;
    /* How long a claim locks its rows: the longest provider timeout of
     * the routes, and NOTIFY_LOCK_SLACK. */
    apr_interval_time_t lock_for;
    int batch; /* rows claimed at once (and attempted at once) */
    /* The routes this host delivers for, one per line: rows of other
     * routes are left to the hosts that have them. */
    const char *routes;
    /* The database was out of reach at the last pass: an outage is
     * logged once, when it starts, and once when it ends. */
    int *down;
} notify_worker_env;

/* One pass. *claimed: the rows claimed (a full batch: more may be due). */
apr_status_t notify_worker_run(apr_pool_t *p, const notify_worker_env *env,
                               int *claimed);

#endif
