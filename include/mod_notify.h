/* httpd glue shared by the module's mod_notify_*.c files: configuration,
 * the per-process state and the hooks. The rules live in the APR-only
 * core (notify_*.c); these files only wire httpd to it. */
#ifndef MOD_NOTIFY_H
#define MOD_NOTIFY_H

#include <httpd.h>
#include <http_config.h>
#include <apr_dbd.h>
#include <mod_dbd.h>

#include "notify_db.h"
#include "notify_create.h"
#include "notify_http.h"
#include "notify_route_cache.h"
#include "notify_settings.h"
#include "notify_writer.h"

extern module AP_MODULE_DECLARE_DATA notify_module;

#define NOTIFY_UNSET -1

/* Where a notify-create handler was set, for "the exact create path". */
typedef enum {
    NOTIFY_PATH_UNSET = 0,
    NOTIFY_PATH_EXACT, /* a <Location> path: only it answers */
    NOTIFY_PATH_ANY    /* a pattern or another section: not compared */
} notify_path_kind_e;

/* Per-directory (and per-server default) settings; NOTIFY_UNSET or NULL
 * means "inherit", notify_settings_get() resolves the defaults. */
typedef struct {
    int route_registry;
    const char *route_name;
    apr_int64_t session_max_age;
    apr_int64_t session_idle_timeout;
    apr_int64_t max_body;
    const char *mandrill_key;
    const char *mandrill_url;
    apr_int64_t mandrill_timeout;
    const char *mandrill_webhook_key;
    const char *mandrill_webhook_url;
    const char *twilio_sid;
    const char *twilio_token;
    const char *twilio_from;
    const char *twilio_url;
    apr_int64_t twilio_timeout;
    const char *twilio_callback_url;
    apr_int64_t idempotency_window;
    int delivery_queued;
    notify_path_kind_e create_path_kind;
    const char *create_path; /* NOTIFY_PATH_EXACT: without trailing '/' */
    int noted; /* its section is in the list (mod_notify_config.c) */
} notify_dir_conf;

/* Server-only settings. */
typedef struct {
    apr_int64_t route_cache_seconds;
    apr_int64_t session_touch_interval;
    apr_int64_t delivery_attempts;
    apr_int64_t backoff_min;
    apr_int64_t backoff_max;
    apr_int64_t delivery_interval;
    int uses_module;        /* a notify handler is set in this server (or the
                               main server, whose Locations it inherits) */
    const char *dbd_driver; /* as DBDriver and DBDParams say: which */
    const char *dbd_params; /* database the server uses */
} notify_srv_conf;

/* A section (in the order httpd read them) holding the module's
 * directives or setting a notify handler. */
typedef struct {
    server_rec *s;
    const char *path; /* a plain <Location>'s, else NULL */
    notify_dir_conf *conf;
} notify_section;

extern const command_rec notify_directives[];
void *notify_create_dir_conf(apr_pool_t *p, char *dir);
void *notify_merge_dir_conf(apr_pool_t *p, void *base, void *add);
void *notify_create_srv_conf(apr_pool_t *p, server_rec *s);
void *notify_merge_srv_conf(apr_pool_t *p, void *base, void *add);
void notify_settings_get(request_rec *r, notify_settings *out);

/* Forgets the sections of the last configuration (pre_config). */
void notify_config_reset(apr_pool_t *pconf);

/* The settings of a request to route (a create Location's path; NULL: the
 * server's own) on server s, from the sections noted as httpd read them:
 * the server's settings, then every plain <Location> that applies to the
 * route, the main server's before s's own. What <Directory>, <Files>,
 * <If> or pattern sections set is not seen. */
void notify_settings_for(apr_pool_t *p, server_rec *main_s, server_rec *s,
                         const char *route, notify_settings *out);

/* The paths of the create Locations a request to s can reach (s's own and
 * the main server's). */
apr_array_header_t *notify_create_routes(apr_pool_t *p, server_rec *main_s,
                                         server_rec *s);

/* What a process keeps between requests: mod_dbd's functions and the
 * statements (post_config), the rest created in child_init. */
typedef struct {
    APR_OPTIONAL_FN_TYPE(ap_dbd_open) * dbd_open;
    APR_OPTIONAL_FN_TYPE(ap_dbd_close) * dbd_close;
    const notify_statement *statements_sqlite; /* SQLite's */
    const notify_statement *statements_other;  /* every other driver's */
    notify_http *http;                         /* the providers' client */
    notify_route_cache *routes;
    notify_writers *writers; /* SQLite: one turn per database */
    volatile apr_time_t last_purge;
} notify_proc;

extern notify_proc notify_process;

/* mod_notify_dbd.c: the statements given to mod_dbd for every server
 * that uses the module (post_config, before mod_dbd's), and connections
 * for one request. */
/* After the configuration is read (httpd -t too): a server with a notify
 * handler needs mod_dbd and a DBDriver; !OK stops httpd, with a message
 * naming the fix. */
int notify_dbd_check_config(server_rec *s);
int notify_dbd_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);

/* One use of a connection (the baton of notify_env): a request's, or the
 * worker's (r NULL). */
typedef struct {
    apr_pool_t *pool;
    server_rec *s;
    request_rec *r;
    ap_dbd_t *dbd; /* held, or NULL */
    notify_db db;
} notify_dbd_use;

apr_status_t notify_dbd_open(void *use, notify_db **db, const char **why);
void notify_dbd_close(void *use, notify_db *db);

/* The statements for a driver (apr_dbd_name). */
const notify_statement *notify_dbd_statements(const char *driver);

/* mod_notify_worker.c: the outbox's worker on httpd's watchdog, one per
 * host, and the start-up check of the schema. */
int notify_worker_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                              server_rec *s);
void notify_worker_child_init(apr_pool_t *pchild);

/* mod_notify_handler.c: the notify-create and notify-api handlers, and
 * what every handler of the module shares: reading a body, sending an
 * answer. */
int notify_handler(request_rec *r);

typedef enum {
    NOTIFY_BODY_READ,
    NOTIFY_BODY_REFUSED,       /* *st and *message say why */
    NOTIFY_BODY_HTTPD_ANSWERED /* return AP_FILTER_ERROR */
} notify_body_e;

notify_body_e notify_read_body(request_rec *r, apr_int64_t max,
                               const char **body, apr_size_t *len,
                               notify_status_e *st, const char **message);

int notify_send_answer(request_rec *r, const notify_answer *a);

/* mod_notify_webhook.c: notify-mandrill-webhook, notify-twilio-callback. */
int notify_webhook_handler(request_rec *r);

/* mod_notify_status.c: SetHandler notify-status, the counters' shared
 * memory (post_config) and the lines of server-status. */
int notify_status_post_config(server_rec *s);
int notify_status_handler(request_rec *r);
void notify_status_register(void);

/* mod_notify_errors.c: JSON in place of httpd's own error pages inside
 * the API. */
void notify_errors_register(void);

#endif
