/* mod_notify: the Notifications Create API as an httpd module. This file
 * wires the module into httpd and keeps the per-process state; the
 * handlers are in mod_notify_handler.c, the rules in the APR-only core
 * (notify_*.c). */
#include <curl/curl.h>
#include <ap_mpm.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "mod_notify.h"
#include "notify_crypto.h"
#include "notify_version.h"

/* Idle curl handles (each with its connection to a provider) kept per
 * process: one per worker thread, at least this many. */
#define IDLE_HANDLES_MIN 16
/* The most writes one SQLite commit takes: a batch waits for one fsync. */
#define WRITE_GROUP_MAX 64

notify_proc notify_process;

static int notify_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    /* Once, before any thread exists; CURL_GLOBAL_ALL sets up TLS. */
    curl_global_init(CURL_GLOBAL_ALL);
    notify_config_reset(pconf);
    return OK;
}

static int notify_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    return notify_dbd_check_config(s);
}

static int notify_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    int rv;

    (void)plog;
    ap_add_version_component(pconf, "mod_notify/" NOTIFY_VERSION);
    notify_status_post_config(s);
    rv = notify_dbd_post_config(pconf, ptemp, s);
    return rv == OK ? notify_worker_post_config(pconf, ptemp, s) : rv;
}

static void notify_child_init(apr_pool_t *pchild, server_rec *s)
{
    int threads = 0, threaded = AP_MPMQ_NOT_SUPPORTED;

    notify_sha256_init();
    notify_worker_child_init(pchild);
    notify_process.routes = notify_route_cache_create(pchild);
    /* With one thread per process there is never anyone to share a
     * commit with. */
    if (ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) != APR_SUCCESS) {
        threaded = AP_MPMQ_NOT_SUPPORTED;
    }
    notify_process.writers = notify_writers_create(
        pchild, threaded == AP_MPMQ_NOT_SUPPORTED ? 1 : WRITE_GROUP_MAX);
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS ||
        threads < IDLE_HANDLES_MIN) {
        threads = IDLE_HANDLES_MIN;
    }
    notify_process.http = notify_http_create(pchild, threads);
    if (!notify_process.http || !notify_process.routes ||
        !notify_process.writers) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "out of memory setting up the child: requests will "
                     "fail");
    }
}

static void notify_register_hooks(apr_pool_t *p)
{
    /* Our statements must reach mod_dbd before it groups its configs. */
    static const char *const before_dbd[] = {"mod_dbd.c", NULL};

    (void)p;
    ap_hook_pre_config(notify_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(notify_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(notify_post_config, NULL, before_dbd, APR_HOOK_MIDDLE);
    ap_hook_child_init(notify_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(notify_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(notify_webhook_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(notify_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    notify_errors_register();
    notify_status_register();
}

AP_DECLARE_MODULE(notify) = {STANDARD20_MODULE_STUFF,    notify_create_dir_conf,
                             notify_merge_dir_conf,      notify_create_srv_conf,
                             notify_merge_srv_conf,      notify_directives,
                             notify_register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
                             AP_MODULE_FLAG_ALWAYS_MERGE
#endif
};
