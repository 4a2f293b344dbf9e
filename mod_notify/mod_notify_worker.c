/* The outbox's worker on httpd's watchdog (SPEC 11): one per host (a
 * singleton watchdog runs in one child), waking every
 * NotifyDeliveryInterval; each pass goes over every database that serves
 * the module (notify_worker.c does the work). Its state is all in the
 * databases, so any child may run it after another was recycled. Also the
 * start-up check that each database's schema is recent enough. */
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <mod_watchdog.h>

#include "mod_notify.h"
#include "notify_create.h"
#include "notify_worker.h"

APLOG_USE_MODULE(notify);

#define WATCHDOG_NAME "mod_notify-outbox"
/* Rows claimed, and attempted, at once. */
#define BATCH 8
/* Passes over a database in one wake-up while it keeps full batches: the
 * backlog drains without keeping the watchdog from its other callbacks
 * for long. */
#define PASSES_MAX 16

/* One database served by the module, and how its routes deliver. */
typedef struct {
    server_rec *s; /* a server on it: its mod_dbd pool */
    const char *driver, *params;
    apr_hash_t *routes;        /* create Location path -> notify_settings */
    const char *route_list;    /* the same paths, one per line */
    notify_settings *fallback; /* for rows of routes not configured here */
    apr_interval_time_t lock_for;
    int down; /* out of reach at the last pass */
} worker_db;

typedef struct {
    apr_array_header_t *dbs; /* worker_db */
} worker_ctx;

/* mod_watchdog keeps its thread in a pool of the configuration, not of the
 * child: when a child exits (a graceful restart, MaxConnectionsPerChild)
 * the child's pool, with mod_dbd's connections and the module's HTTP
 * client, goes while a pass may still run in that thread. So the child
 * waits for the pass before its pool goes, and starts no new one. */
typedef struct {
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *idle;
    int running;  /* a pass is under way */
    int stopping; /* the child is exiting */
} worker_gate;

static worker_gate *gate;

static apr_status_t gate_close(void *data)
{
    worker_gate *g = data;

    apr_thread_mutex_lock(g->mutex);
    g->stopping = 1;
    while (g->running) {
        apr_thread_cond_wait(g->idle, g->mutex);
    }
    apr_thread_mutex_unlock(g->mutex);
    gate = NULL;
    return APR_SUCCESS;
}

void notify_worker_child_init(apr_pool_t *pchild)
{
    worker_gate *g = apr_pcalloc(pchild, sizeof(*g));

    if (apr_thread_mutex_create(&g->mutex, APR_THREAD_MUTEX_DEFAULT, pchild) !=
            APR_SUCCESS ||
        apr_thread_cond_create(&g->idle, pchild) != APR_SUCCESS) {
        return;
    }
    gate = g;
    /* Pre-cleanups run before any of the child pool's subpools goes. */
    apr_pool_pre_cleanup_register(pchild, g, gate_close);
}

/* 1 when a pass may start (then gate_leave must follow). */
static int gate_enter(void)
{
    worker_gate *g = gate;
    int ok;

    if (!g) {
        return 0;
    }
    apr_thread_mutex_lock(g->mutex);
    ok = !g->stopping;
    g->running += ok;
    apr_thread_mutex_unlock(g->mutex);
    return ok;
}

static void gate_leave(void)
{
    worker_gate *g = gate;

    apr_thread_mutex_lock(g->mutex);
    g->running--;
    apr_thread_cond_broadcast(g->idle);
    apr_thread_mutex_unlock(g->mutex);
}

static int gate_stopping(void)
{
    return !gate || gate->stopping;
}

static const notify_settings *settings_of(void *baton, const char *route)
{
    worker_db *db = baton;
    const notify_settings *s =
        route ? apr_hash_get(db->routes, route, APR_HASH_KEY_STRING) : NULL;

    return s ? s : db->fallback;
}

static void log_line(void *baton, int level, const char *msg)
{
    ap_log_error(APLOG_MARK, level, 0, (server_rec *)baton, "%s", msg);
}

static void run_database(worker_db *db, apr_pool_t *pool)
{
    notify_worker_env env;
    int passes, claimed = BATCH;

    for (passes = 0;
         passes < PASSES_MAX && claimed == BATCH && !gate_stopping();
         passes++) {
        apr_pool_t *p;
        notify_dbd_use use;

        apr_pool_create(&p, pool);
        memset(&use, 0, sizeof(use));
        use.pool = p;
        use.s = db->s;
        memset(&env, 0, sizeof(env));
        env.db_open = notify_dbd_open;
        env.db_close = notify_dbd_close;
        env.baton = &use;
        env.log.fn = log_line;
        env.log.baton = db->s;
        env.log.max_level = APLOG_IS_LEVEL(db->s, APLOG_DEBUG)
                                ? NOTIFY_LOG_DEBUG
                                : NOTIFY_LOG_INFO;
        env.http = notify_process.http;
        env.settings = settings_of;
        env.settings_baton = db;
        env.lock_for = db->lock_for;
        env.batch = BATCH;
        env.routes = db->route_list;
        env.down = &db->down;
        if (notify_worker_run(p, &env, &claimed) != APR_SUCCESS) {
            claimed = 0;
        }
        apr_pool_destroy(p);
    }
}

static apr_status_t outbox_callback(int state, void *data, apr_pool_t *pool)
{
    worker_ctx *ctx = data;
    int i;

    if (state != AP_WATCHDOG_STATE_RUNNING || !notify_process.http ||
        !gate_enter()) {
        return APR_SUCCESS;
    }
    for (i = 0; i < ctx->dbs->nelts; i++) {
        run_database(&APR_ARRAY_IDX(ctx->dbs, i, worker_db), pool);
    }
    gate_leave();
    return APR_SUCCESS;
}

/* The databases and, for each, the settings of every route a notification
 * can come through (as in a request to that Location). */
static apr_array_header_t *databases(apr_pool_t *p, server_rec *main_s)
{
    apr_array_header_t *dbs = apr_array_make(p, 2, sizeof(worker_db));
    server_rec *s;
    int i, j;

    for (s = main_s; s; s = s->next) {
        notify_srv_conf *sc =
            ap_get_module_config(s->module_config, &notify_module);
        apr_array_header_t *routes;
        worker_db *db = NULL;

        if (!sc->uses_module || !sc->dbd_driver || !sc->dbd_params) {
            continue;
        }
        for (i = 0; i < dbs->nelts && !db; i++) {
            worker_db *d = &APR_ARRAY_IDX(dbs, i, worker_db);
            if (!strcmp(d->driver, sc->dbd_driver) &&
                !strcmp(d->params, sc->dbd_params)) {
                db = d;
            }
        }
        if (!db) {
            db = apr_array_push(dbs);
            memset(db, 0, sizeof(*db));
            db->s = s;
            db->driver = sc->dbd_driver;
            db->params = sc->dbd_params;
            db->routes = apr_hash_make(p);
        }
        routes = notify_create_routes(p, main_s, s);
        for (j = 0; j < routes->nelts; j++) {
            const char *route = APR_ARRAY_IDX(routes, j, const char *);
            notify_settings *cfg;
            apr_interval_time_t t;

            if (apr_hash_get(db->routes, route, APR_HASH_KEY_STRING)) {
                continue; /* the first server on the database has it */
            }
            cfg = apr_pcalloc(p, sizeof(*cfg));
            notify_settings_for(p, main_s, s, route, cfg);
            apr_hash_set(db->routes, route, APR_HASH_KEY_STRING, cfg);
            db->route_list = db->route_list ? apr_pstrcat(p, db->route_list,
                                                          "\n", route, NULL)
                                            : route;
            if (!db->fallback) {
                db->fallback = cfg;
            }
            t = notify_delivery_timeout(cfg);
            if (t > db->lock_for) {
                db->lock_for = t;
            }
        }
        if (!db->fallback) {
            db->fallback = apr_pcalloc(p, sizeof(*db->fallback));
            notify_settings_for(p, main_s, s, NULL, db->fallback);
        }
    }
    for (i = 0; i < dbs->nelts; i++) {
        worker_db *db = &APR_ARRAY_IDX(dbs, i, worker_db);
        if (notify_delivery_timeout(db->fallback) > db->lock_for) {
            db->lock_for = notify_delivery_timeout(db->fallback);
        }
        db->lock_for += apr_time_from_sec(NOTIFY_LOCK_SLACK);
    }
    return dbs;
}

/* What the schema must have: each line a query that fails without it. */
static const struct {
    const char *sql;
    const char *missing;
    int upgrade; /* 0: no schema at all; 1: upgrade 1 */
} probes[] = {
    {"SELECT id FROM notifications WHERE 1 = 0", "notifications", 0},
    {"SELECT attempt, updated_at FROM notification_deliveries WHERE 1 = 0",
     "notification_deliveries.attempt", 1},
    {"SELECT id, route FROM notification_outbox WHERE 1 = 0",
     "notification_outbox", 1},
    {"SELECT id FROM delivery_events WHERE 1 = 0", "delivery_events", 1},
};

/* SPEC 4: says at start-up when a database's schema is older than the
 * module needs. A database that cannot be reached now is not checked (it
 * may come up later; requests say so then). */
static void check_schema(apr_pool_t *p, const worker_db *db)
{
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle = NULL;
    apr_finfo_t fi;
    const char *err = NULL, *kind;
    size_t i;

    if (apr_dbd_get_driver(p, db->driver, &driver) != APR_SUCCESS) {
        return;
    }
    /* SQLite would create a missing file: leave that to the operator. */
    if (!strcmp(db->driver, "sqlite3") &&
        apr_stat(&fi, db->params, APR_FINFO_TYPE, p) != APR_SUCCESS) {
        return;
    }
    if (apr_dbd_open_ex(driver, p, db->params, &handle, &err) != APR_SUCCESS) {
        return;
    }
    kind = strcmp(db->driver, "sqlite3") == 0 ? "sqlite" : "pgsql";
    for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        apr_dbd_results_t *res = NULL;
        apr_dbd_row_t *row = NULL;

        /* Random access: the driver runs the query now, and says. */
        if (apr_dbd_select(driver, p, handle, &res, probes[i].sql, 1) == 0) {
            while (apr_dbd_get_row(driver, p, res, &row, -1) == 0) {
            }
            continue;
        }
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, db->s,
                     "the database schema of %s is older than mod_notify "
                     "needs (no %s): apply build/schema/%s%s.sql",
                     db->s->server_hostname ? db->s->server_hostname : "",
                     probes[i].missing, kind,
                     probes[i].upgrade ? "-upgrade-1" : "");
        break;
    }
    apr_dbd_close(driver, handle);
}

int notify_worker_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                              server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) * get_instance;
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) * register_callback;
    notify_srv_conf *sc =
        ap_get_module_config(s->module_config, &notify_module);
    ap_watchdog_t *wd;
    worker_ctx *ctx;
    apr_status_t rv;
    int i;

    /* httpd reads its configuration twice at start: work on the second. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    ctx = apr_pcalloc(pconf, sizeof(*ctx));
    ctx->dbs = databases(pconf, s);
    if (ctx->dbs->nelts == 0) {
        return OK;
    }
    for (i = 0; i < ctx->dbs->nelts; i++) {
        check_schema(ptemp, &APR_ARRAY_IDX(ctx->dbs, i, worker_db));
    }
    get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (!get_instance || !register_callback) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "mod_watchdog is not loaded: the outbox would never be "
                     "worked (LoadModule watchdog_module)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rv = get_instance(&wd, WATCHDOG_NAME, 0, 1, pconf);
    if (rv == APR_SUCCESS) {
        rv = register_callback(
            wd,
            apr_time_from_sec(sc->delivery_interval == NOTIFY_UNSET
                                  ? 2
                                  : sc->delivery_interval),
            ctx, outbox_callback);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "cannot set up the outbox's worker (watchdog %s)",
                     WATCHDOG_NAME);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}
