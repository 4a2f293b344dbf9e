/* mod_notify: the Notifications Create API as an httpd module. This file
 * only wires the module into httpd; the handlers live in
 * mod_notify_handler.c, the APR-only core in notify_*.c. */
#include <curl/curl.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <util_mutex.h>

#include "mod_notify.h"

static int notify_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    (void)plog;
    (void)ptemp;
    return notify_handler_init(pconf, s);
}

static int notify_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    /* Once, before any thread exists; CURL_GLOBAL_ALL sets up TLS. */
    curl_global_init(CURL_GLOBAL_ALL);
    return ap_mutex_register(pconf, NOTIFY_WRITE_MUTEX, NULL, APR_LOCK_DEFAULT,
                             0);
}

static void notify_register_hooks(apr_pool_t *p)
{
    /* Our statements must reach mod_dbd before it groups its configs. */
    static const char *const before_dbd[] = {"mod_dbd.c", NULL};

    (void)p;
    ap_hook_pre_config(notify_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(notify_post_config, NULL, before_dbd,
                        APR_HOOK_MIDDLE);
    ap_hook_child_init(notify_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(notify_handler, NULL, NULL, APR_HOOK_MIDDLE);
    notify_errors_register();
}

AP_DECLARE_MODULE(notify) = {
    STANDARD20_MODULE_STUFF,
    notify_create_dir_conf,
    notify_merge_dir_conf,
    notify_create_srv_conf,
    notify_merge_srv_conf,
    notify_directives,
    notify_register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_ALWAYS_MERGE
#endif
};
