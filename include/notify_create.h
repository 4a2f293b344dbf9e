/* The create route, one way through the steps of SPEC section 3: route
 * registry -> (the glue reads the body) -> decode -> authenticate ->
 * validate -> idempotency -> store -> deliver -> answer. Every step
 * either passes or names the one status that answers. The glue (httpd)
 * lends what only it has: database connections, the logger, the HTTP
 * client and the per-process caches (notify_env). APR-only, so the whole
 * path runs in the unit tests. */
#ifndef NOTIFY_CREATE_H
#define NOTIFY_CREATE_H

#include <apr_time.h>

#include "notify_content_type.h"
#include "notify_delivery.h"
#include "notify_log.h"
#include "notify_route_cache.h"
#include "notify_session.h"

typedef struct {
    /* A connection to the request's database, bound (notify_db_bind);
     * APR_SUCCESS, or an error with *why (fit for the log). */
    apr_status_t (*db_open)(void *baton, notify_db **db, const char **why);
    /* Gives it back; the core holds at most one at a time, and none while
     * it reads nothing from the database (a provider call). */
    void (*db_close)(void *baton, notify_db *db);
    void *baton;
    notify_logger log;
    notify_http *http;               /* NULL: every attempt fails */
    notify_route_cache *routes;      /* NULL: no cache */
    volatile apr_time_t *last_purge; /* this process's last key purge */
} notify_env;

/* The answer to send. */
typedef struct {
    notify_status_e status; /* NOTIFY_STATUS_COUNT for a replay */
    const char *param;      /* the refusal's parameter, for the log */
    int http;
    const char *body;
    apr_size_t len;
    const char *retry_after; /* a Retry-After header, or NULL */
    int replayed;            /* an Idempotency-Key's kept answer */
} notify_answer;

typedef struct {
    apr_pool_t *pool;
    const notify_settings *cfg;
    const notify_env *env;
    notify_error err;
    notify_db *db; /* the connection held, or NULL */
    int sensitive; /* the route takes a base64 body */
    const char *body;
    apr_size_t body_len;
    notify_input in;
    const char *token;
    apr_size_t token_len;
    char token_sha[65]; /* the principal an Idempotency-Key belongs to */
    notify_principal who;
    notify_session_row session;
    notify_values values;
    notify_row row;
    const notify_provider *provider; /* NULL: nothing to deliver */
    notify_attempt attempt;
    const notify_proof *proof; /* NULL: nothing sent */
    notify_status_e outcome;
    apr_int64_t claim_id;  /* the Idempotency-Key claimed, or 0 */
    apr_int64_t outbox_id; /* the notification's outbox row, or 0 */
    notify_answer answer;
} notify_create;

void notify_create_init(notify_create *c, apr_pool_t *p,
                        const notify_settings *cfg, const notify_env *env);

/* The route registry, before the body is read. cache_key names the route
 * for this database (a server and a route name). 1: go on; 0: the answer
 * is set. */
int notify_create_identify(notify_create *c, const char *cache_key);

/* Refuses the request with st (and message, NULL: the default): for what
 * the glue finds itself (no such route, content type, size, an
 * unreadable body). */
void notify_create_refuse(notify_create *c, notify_status_e st,
                          const char *message);

/* Everything after the body (as received, before any base64 decoding),
 * of content type ctype: the answer is set. idem_key: the
 * Idempotency-Key header, or NULL. */
void notify_create_process(notify_create *c, notify_ctype_e ctype,
                           const char *body, apr_size_t len,
                           const char *idem_key);

/* Gives back a connection still held (idempotent). */
void notify_create_finish(notify_create *c);

/* A claimed row stays locked for the provider's timeout and this much
 * more (SPEC 11): an attempt still running after that is taken for dead. */
#define NOTIFY_LOCK_SLACK 60

#endif
