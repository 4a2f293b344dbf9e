/* notify_worker.h */
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "notify_datetime.h"
#include "notify_worker.h"

/* One claimed row on its way. */
typedef struct {
    notify_outbox_row row;
    apr_pool_t *pool; /* the attempt's own: it runs in a thread */
    notify_values values;
    notify_row stored;
    notify_principal who;
    int found;
    const notify_settings *cfg;
    const notify_provider *prov;
    notify_attempt attempt;
    int call; /* the provider is to be called */
    apr_thread_t *thread;
} item;

/* What a row gets instead of a call: a verdict without recipients. */
static void no_call(item *it, notify_attempt_e verdict, const char *reason)
{
    memset(&it->attempt, 0, sizeof(it->attempt));
    it->attempt.verdict = verdict;
    it->attempt.reason = reason;
    it->attempt.proof.channel = it->row.channel;
    it->attempt.proof.provider = it->prov ? it->prov->name : NULL;
}

/* Decides, for each loaded row, whether the provider is called. */
static void prepare(apr_pool_t *p, const notify_worker_env *env, item *it)
{
    it->cfg = env->settings(env->settings_baton, it->row.route);
    if (!it->found) {
        no_call(it, NOTIFY_ATTEMPT_PERMANENT,
                "the notification is no longer stored");
        return;
    }
    it->prov = notify_delivery_provider(&it->values, it->cfg);
    if (it->row.attempts > it->cfg->delivery_attempts) {
        /* The last attempt allowed was interrupted (its process died
         * during the call): whether it was sent is unknown. */
        no_call(it, NOTIFY_ATTEMPT_RETRYABLE,
                "the last attempt was interrupted; whether it was sent is "
                "unknown");
        return;
    }
    if (!it->prov) {
        /* A configuration changed since: retried, so fixing it drains
         * the queue. */
        no_call(it, NOTIFY_ATTEMPT_RETRYABLE,
                apr_psprintf(p,
                             "no provider is configured for %s "
                             "notifications on route %s",
                             it->row.channel,
                             it->row.route ? it->row.route : "(none)"));
        return;
    }
    it->call = 1;
}

typedef struct {
    item *it;
    const notify_worker_env *env;
} call_baton;

static void *APR_THREAD_FUNC call_thread(apr_thread_t *t, void *baton)
{
    call_baton *b = baton;
    item *it = b->it;

    notify_delivery_attempt(it->pool, it->prov, it->cfg, b->env->http,
                            &it->values, it->row.notification_id,
                            it->row.attempts, &it->attempt);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

/* The provider calls of the batch, at once: each locked row must be done
 * within its lock, whatever the others take. */
static void call_all(apr_pool_t *p, const notify_worker_env *env, item *items,
                     int n)
{
    call_baton *batons = apr_pcalloc(p, n * sizeof(*batons));
    apr_status_t rv;
    int i;

    for (i = 0; i < n; i++) {
        if (!items[i].call) {
            continue;
        }
        batons[i].it = &items[i];
        batons[i].env = env;
        if (apr_thread_create(&items[i].thread, NULL, call_thread, &batons[i],
                              p) != APR_SUCCESS) {
            items[i].thread = NULL;
            notify_delivery_attempt(items[i].pool, items[i].prov, items[i].cfg,
                                    env->http, &items[i].values,
                                    items[i].row.notification_id,
                                    items[i].row.attempts, &items[i].attempt);
        }
    }
    for (i = 0; i < n; i++) {
        if (items[i].thread) {
            apr_thread_join(&rv, items[i].thread);
        }
    }
}

static void record(apr_pool_t *p, const notify_worker_env *env, notify_db *db,
                   item *it)
{
    notify_attempt_record rec;
    notify_values dev[2];
    notify_row dev_row[2];

    memset(&rec, 0, sizeof(rec));
    rec.notification_id = it->row.notification_id;
    rec.outbox_id = it->row.id;
    rec.attempt = it->row.attempts;
    rec.who = &it->who;
    notify_attempt_outcome(it->pool, it->cfg, it->prov, 0, &it->attempt, &rec,
                           dev, dev_row);
    if (!rec.accepted) {
        notify_log(
            &env->log, p, rec.dev[0] ? NOTIFY_LOG_ERR : NOTIFY_LOG_WARNING,
            "notification %" APR_INT64_T_FMT ": attempt %d failed (%s): %s",
            rec.notification_id, rec.attempt, rec.state, it->attempt.reason);
    }
    else {
        notify_log(&env->log, p, NOTIFY_LOG_INFO,
                   "notification %" APR_INT64_T_FMT " sent (attempt %d)",
                   rec.notification_id, rec.attempt);
    }
    if (notify_store_attempt(db, it->pool, &rec, NULL) == APR_SUCCESS) {
        return;
    }
    notify_log(&env->log, p, NOTIFY_LOG_ERR,
               "notification %" APR_INT64_T_FMT
               ": recording attempt %d failed: %s",
               rec.notification_id, rec.attempt, db->error);
    /* At least the outbox row: a sent notification must not go again. */
    rec.last_error = apr_psprintf(it->pool,
                                  "recording the attempt failed: "
                                  "%s",
                                  db->error);
    if (notify_store_outbox_mark(db, it->pool, &rec) != APR_SUCCESS) {
        notify_log(&env->log, p, NOTIFY_LOG_ERR,
                   "notification %" APR_INT64_T_FMT
                   ": outbox row not updated (tried again after its lock): "
                   "%s",
                   rec.notification_id, db->error);
    }
}

apr_status_t notify_worker_run(apr_pool_t *p, const notify_worker_env *env,
                               int *claimed)
{
    apr_time_t t = apr_time_now();
    apr_array_header_t *rows = NULL;
    notify_db *db = NULL;
    const char *why = NULL;
    item *items;
    apr_status_t rv;
    int i, n;

    *claimed = 0;
    if (env->db_open(env->baton, &db, &why) != APR_SUCCESS) {
        if (!*env->down) {
            notify_log(&env->log, p, NOTIFY_LOG_WARNING,
                       "outbox: no database connection (the worker tries "
                       "again every pass): %s",
                       why);
        }
        *env->down = 1;
        return APR_EGENERAL;
    }
    if (*env->down) {
        notify_log(&env->log, p, NOTIFY_LOG_NOTICE,
                   "outbox: the database is back");
        *env->down = 0;
    }
    rv = notify_store_outbox_claim(db, p, notify_datetime_stamp(p, t),
                                   notify_datetime_stamp(p, t + env->lock_for),
                                   env->routes ? env->routes : "", env->batch,
                                   &rows);
    if (rv != APR_SUCCESS) {
        notify_log(&env->log, p, NOTIFY_LOG_ERR, "outbox: claiming: %s",
                   db->error);
        env->db_close(env->baton, db);
        return rv;
    }
    n = *claimed = rows->nelts;
    items = apr_pcalloc(p, (n + 1) * sizeof(*items));
    for (i = 0; i < n; i++) {
        items[i].row = APR_ARRAY_IDX(rows, i, notify_outbox_row);
        apr_pool_create(&items[i].pool, p);
        if (notify_store_load(db, p, items[i].row.notification_id,
                              &items[i].values, &items[i].stored, &items[i].who,
                              &items[i].found) != APR_SUCCESS) {
            /* Unread, it is not attempted: its lock will free it. */
            notify_log(&env->log, p, NOTIFY_LOG_ERR,
                       "outbox: notification %" APR_INT64_T_FMT " not read: %s",
                       items[i].row.notification_id, db->error);
            items[i].row.id = 0;
            continue;
        }
        prepare(p, env, &items[i]);
    }
    /* No connection is held while the providers take their time. */
    env->db_close(env->baton, db);
    call_all(p, env, items, n);
    if (env->db_open(env->baton, &db, &why) != APR_SUCCESS) {
        notify_log(&env->log, p, NOTIFY_LOG_ERR,
                   "outbox: %d attempt(s) made, not recorded (tried again "
                   "after their lock): %s",
                   n, why);
        return APR_EGENERAL;
    }
    for (i = 0; i < n; i++) {
        if (items[i].row.id) {
            record(p, env, db, &items[i]);
        }
    }
    env->db_close(env->baton, db);
    return APR_SUCCESS;
}
