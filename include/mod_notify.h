/* httpd glue shared by the module's files: configuration and hooks. */
#ifndef MOD_NOTIFY_H
#define MOD_NOTIFY_H

#include <httpd.h>
#include <http_config.h>


extern module AP_MODULE_DECLARE_DATA notify_module;

#define NOTIFY_UNSET -1

/* Per-directory (and per-server default) settings; NOTIFY_UNSET or NULL
 * means "inherit", notify_settings() resolves the defaults. */
typedef struct {
    int route_registry;
    const char *route_name;
    apr_int64_t session_max_age;
    apr_int64_t session_idle_timeout;
    apr_int64_t max_body;
    const char *mandrill_key;
    const char *mandrill_url;
    apr_int64_t mandrill_timeout;
    apr_int64_t idempotency_window;
} notify_dir_conf;

/* Server-only settings. */
typedef struct {
    apr_int64_t route_cache_seconds;
    apr_int64_t session_touch_interval;
} notify_srv_conf;

/* Every setting resolved for one request. */
typedef struct {
    int route_registry;
    const char *route_name;
    apr_int64_t route_cache_seconds;
    apr_int64_t session_max_age;
    apr_int64_t session_idle_timeout;
    apr_int64_t session_touch_interval;
    apr_int64_t max_body;
    const char *mandrill_key;
    const char *mandrill_url;
    apr_int64_t mandrill_timeout;
    apr_int64_t idempotency_window;
} notify_settings;

extern const command_rec notify_directives[];
void *notify_create_dir_conf(apr_pool_t *p, char *dir);
void *notify_merge_dir_conf(apr_pool_t *p, void *base, void *add);
void *notify_create_srv_conf(apr_pool_t *p, server_rec *s);
void *notify_merge_srv_conf(apr_pool_t *p, void *base, void *add);
void notify_settings_get(request_rec *r, notify_settings *out);

/* The handlers (notify-create, notify-api). */
/* The mutex type of the SQLite write lock (httpd's Mutex directive). */
#define NOTIFY_WRITE_MUTEX "notify-sqlite-write"
int notify_handler(request_rec *r);
int notify_handler_init(apr_pool_t *pconf, server_rec *s);
void notify_child_init(apr_pool_t *pchild, server_rec *s);

/* JSON in place of httpd's own error pages inside the API. */
void notify_errors_register(void);

#endif
