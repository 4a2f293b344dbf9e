/* Directives: create/merge with unset markers, one handler per value type,
 * every value checked at start-up so a typo stops httpd with its name. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include <apr_fnmatch.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_uri.h>
#include <httpd.h>
#include <http_config.h>

#include "mod_notify.h"

APLOG_USE_MODULE(notify);

#define DEFAULT_ROUTE_NAME "notifications.create"
#define DEFAULT_MANDRILL_URL                                                   \
    "https://mandrillapp.com/api/1.0/messages/send.json"

/* A whole-number directive: where it is stored and its range. The upper
 * bounds keep every product the module makes of a value (milliseconds,
 * apr_time_t microseconds) far from overflowing. */
typedef struct {
    apr_size_t offset;
    int server; /* stored in notify_srv_conf, else notify_dir_conf */
    apr_int64_t min, max;
} number_directive;

#define TEN_YEARS APR_INT64_C(315360000)

static const number_directive route_cache = {
    offsetof(notify_srv_conf, route_cache_seconds), 1, 0, 86400};
static const number_directive touch_interval = {
    offsetof(notify_srv_conf, session_touch_interval), 1, 0, TEN_YEARS};
static const number_directive max_age = {
    offsetof(notify_dir_conf, session_max_age), 0, 1, TEN_YEARS};
static const number_directive idle_timeout = {
    offsetof(notify_dir_conf, session_idle_timeout), 0, 1, TEN_YEARS};
static const number_directive max_body = {offsetof(notify_dir_conf, max_body),
                                          0, 1, APR_INT64_C(1073741824)};
static const number_directive mandrill_timeout = {
    offsetof(notify_dir_conf, mandrill_timeout), 0, 1, 3600};
static const number_directive idem_window = {
    offsetof(notify_dir_conf, idempotency_window), 0, 1, TEN_YEARS};

void *notify_create_dir_conf(apr_pool_t *p, char *dir)
{
    notify_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    (void)dir;
    c->route_registry = NOTIFY_UNSET;
    c->session_max_age = NOTIFY_UNSET;
    c->session_idle_timeout = NOTIFY_UNSET;
    c->max_body = NOTIFY_UNSET;
    c->mandrill_timeout = NOTIFY_UNSET;
    c->idempotency_window = NOTIFY_UNSET;
    return c;
}

#define MERGE_PTR(f) c->f = add->f ? add->f : base->f
#define MERGE_NUM(f) c->f = add->f != NOTIFY_UNSET ? add->f : base->f

void *notify_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    notify_dir_conf *base = basev, *add = addv;
    notify_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    MERGE_NUM(route_registry);
    MERGE_PTR(route_name);
    MERGE_NUM(session_max_age);
    MERGE_NUM(session_idle_timeout);
    MERGE_NUM(max_body);
    MERGE_PTR(mandrill_key);
    MERGE_PTR(mandrill_url);
    MERGE_NUM(mandrill_timeout);
    MERGE_NUM(idempotency_window);
    if (add->create_path_kind != NOTIFY_PATH_UNSET) {
        c->create_path_kind = add->create_path_kind;
        c->create_path = add->create_path;
    }
    else {
        c->create_path_kind = base->create_path_kind;
        c->create_path = base->create_path;
    }
    return c;
}

void *notify_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    notify_srv_conf *c = apr_pcalloc(p, sizeof(*c));

    (void)s;
    c->route_cache_seconds = NOTIFY_UNSET;
    c->session_touch_interval = NOTIFY_UNSET;
    return c;
}

void *notify_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    notify_srv_conf *base = basev, *add = addv;
    notify_srv_conf *c = apr_pcalloc(p, sizeof(*c));

    MERGE_NUM(route_cache_seconds);
    MERGE_NUM(session_touch_interval);
    c->uses_module = add->uses_module || base->uses_module;
    return c;
}

static apr_int64_t or_default(apr_int64_t v, apr_int64_t dflt)
{
    return v == NOTIFY_UNSET ? dflt : v;
}

/* The defaults of SPEC section 7, in one place. */
void notify_settings_get(request_rec *r, notify_settings *out)
{
    const notify_dir_conf *d =
        ap_get_module_config(r->per_dir_config, &notify_module);
    const notify_srv_conf *s =
        ap_get_module_config(r->server->module_config, &notify_module);

    memset(out, 0, sizeof(*out));
    out->route_registry = d->route_registry != 0;
    out->route_name = d->route_name ? d->route_name : DEFAULT_ROUTE_NAME;
    out->route_cache_seconds = or_default(s->route_cache_seconds, 5);
    out->session_max_age = or_default(d->session_max_age, 604800);
    out->session_idle_timeout = or_default(d->session_idle_timeout, 259200);
    out->session_touch_interval = or_default(s->session_touch_interval, 60);
    out->max_body = or_default(d->max_body, 1048576);
    out->mandrill_key = d->mandrill_key;
    out->mandrill_url =
        d->mandrill_url ? d->mandrill_url : DEFAULT_MANDRILL_URL;
    out->mandrill_timeout = or_default(d->mandrill_timeout, 10);
    out->idempotency_window = or_default(d->idempotency_window, 86400);
}

static const char *set_number(cmd_parms *cmd, void *dconf, const char *arg)
{
    const number_directive *nd = cmd->info;
    char *conf = nd->server ? ap_get_module_config(cmd->server->module_config,
                                                   &notify_module)
                            : dconf;
    char *end;
    apr_int64_t v;

    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (!apr_isdigit(*arg) || *end || errno || v < nd->min || v > nd->max) {
        return apr_psprintf(
            cmd->pool,
            "%s: '%s' is not a whole number from %" APR_INT64_T_FMT
            " to %" APR_INT64_T_FMT,
            cmd->cmd->name, arg, nd->min, nd->max);
    }
    *(apr_int64_t *)(conf + nd->offset) = v;
    return NULL;
}

static const char *set_registry(cmd_parms *cmd, void *dconf, int on)
{
    (void)cmd;
    ((notify_dir_conf *)dconf)->route_registry = on;
    return NULL;
}

static const char *set_route_name(cmd_parms *cmd, void *dconf, const char *arg)
{
    if (!*arg) {
        return apr_psprintf(cmd->pool, "%s: the name must not be empty",
                            cmd->cmd->name);
    }
    ((notify_dir_conf *)dconf)->route_name = arg;
    return NULL;
}

static const char *set_mandrill_key(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    if (!*arg) {
        return apr_psprintf(cmd->pool, "%s: the key must not be empty",
                            cmd->cmd->name);
    }
    ((notify_dir_conf *)dconf)->mandrill_key = arg;
    return NULL;
}

static const char *set_mandrill_url(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    apr_uri_t uri;

    if (apr_uri_parse(cmd->pool, arg, &uri) != APR_SUCCESS || !uri.scheme ||
        (strcasecmp(uri.scheme, "http") && strcasecmp(uri.scheme, "https")) ||
        !uri.hostname || !*uri.hostname) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not an http or https URL",
                            cmd->cmd->name, arg);
    }
    ((notify_dir_conf *)dconf)->mandrill_url = arg;
    return NULL;
}

/* Whether cmd runs directly inside <Location path> (not a regex, not a
 * wildcard): only then does "the exact create path" exist. */
static int in_plain_location(cmd_parms *cmd)
{
    const ap_directive_t *parent =
        cmd->directive ? cmd->directive->parent : NULL;

    return parent && strcasecmp(parent->directive, "<Location") == 0 &&
           cmd->path && cmd->path[0] == '/' && parent->args &&
           parent->args[0] != '~' && !apr_fnmatch_test(cmd->path);
}

/* httpd offers every module that declares a directive its turn (core
 * reads SetHandler after this). The module notes where a notify handler
 * is set: the server uses the module, and a <Location> setting
 * notify-create defines the exact create path (SPEC section 10). */
static const char *note_handler(cmd_parms *cmd, void *dconf, const char *arg)
{
    notify_dir_conf *d = dconf;
    notify_srv_conf *sc;
    apr_size_t len;

    if (strncmp(arg, "notify-", 7) != 0) {
        return NULL;
    }
    sc = ap_get_module_config(cmd->server->module_config, &notify_module);
    sc->uses_module = 1;
    if (strcmp(arg, "notify-create") != 0) {
        return NULL;
    }
    if (!in_plain_location(cmd)) {
        d->create_path_kind = NOTIFY_PATH_ANY;
        return NULL;
    }
    len = strlen(cmd->path);
    while (len > 1 && cmd->path[len - 1] == '/') {
        len--;
    }
    d->create_path_kind = NOTIFY_PATH_EXACT;
    d->create_path = apr_pstrmemdup(cmd->pool, cmd->path, len);
    return NULL;
}

#define SRV RSRC_CONF
#define SRV_DIR (RSRC_CONF | ACCESS_CONF)

const command_rec notify_directives[] = {
    AP_INIT_TAKE1("SetHandler", note_handler, NULL, OR_FILEINFO,
                  "(mod_notify notes where its handlers are set)"),
    AP_INIT_FLAG("NotifyRouteRegistry", set_registry, NULL, SRV_DIR,
                 "On: identify the route in api_routes/api_services"),
    AP_INIT_TAKE1("NotifyRouteName", set_route_name, NULL, ACCESS_CONF,
                  "Name of this location's record in api_routes"),
    AP_INIT_TAKE1("NotifyRouteCacheSeconds", set_number, (void *)&route_cache,
                  SRV, "Seconds a route lookup is cached per process"),
    AP_INIT_TAKE1("NotifySessionMaxAge", set_number, (void *)&max_age, SRV_DIR,
                  "Seconds a session lives"),
    AP_INIT_TAKE1("NotifySessionIdleTimeout", set_number, (void *)&idle_timeout,
                  SRV_DIR, "Seconds a session may stay unused"),
    AP_INIT_TAKE1("NotifySessionTouchInterval", set_number,
                  (void *)&touch_interval, SRV,
                  "Seconds between writes of a session's last_used_at"),
    AP_INIT_TAKE1("NotifyMaxBodySize", set_number, (void *)&max_body, SRV_DIR,
                  "Largest request body in bytes"),
    AP_INIT_TAKE1("NotifyMandrillKey", set_mandrill_key, NULL, SRV_DIR,
                  "Mandrill API key; unset: email is stored, not sent"),
    AP_INIT_TAKE1("NotifyMandrillURL", set_mandrill_url, NULL, SRV_DIR,
                  "Mandrill messages/send.json URL"),
    AP_INIT_TAKE1("NotifyMandrillTimeout", set_number,
                  (void *)&mandrill_timeout, SRV_DIR,
                  "Seconds allowed for a Mandrill call"),
    AP_INIT_TAKE1("NotifyIdempotencyWindow", set_number, (void *)&idem_window,
                  SRV_DIR, "Seconds an Idempotency-Key is remembered"),
    {NULL}};
