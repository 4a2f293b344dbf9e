/* Directives: create/merge with unset markers, one handler per value type,
 * every value checked at start-up so a typo stops httpd with its name.
 * The module also notes, as httpd reads them, where its handlers are set,
 * which database each server uses (DBDriver, DBDParams) and the sections
 * holding its directives: the outbox's worker resolves a route's settings
 * from them without a request. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include <apr_file_io.h>
#include <apr_fnmatch.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include <httpd.h>
#include <http_config.h>

#include "mod_notify.h"
#include "notify_phone.h"

APLOG_USE_MODULE(notify);

#define DEFAULT_ROUTE_NAME "notifications.create"
#define DEFAULT_MANDRILL_URL                                                   \
    "https://mandrillapp.com/api/1.0/messages/send.json"
#define DEFAULT_TWILIO_URL "https://api.twilio.com/2010-04-01"

/* The sections that hold the module's directives, in the order httpd read
 * them (this configuration's: reset by notify_config_reset). */
static apr_array_header_t *sections;

void notify_config_reset(apr_pool_t *pconf)
{
    sections = apr_array_make(pconf, 16, sizeof(notify_section));
}

/* A whole-number directive: where it is stored and its range. The upper
 * bounds keep every product the module makes of a value (milliseconds,
 * apr_time_t microseconds) far from overflowing. */
typedef struct {
    apr_size_t offset;
    int server; /* stored in notify_srv_conf, else notify_dir_conf */
    apr_int64_t min, max;
} number_directive;

#define TEN_YEARS APR_INT64_C(315360000)
#define THIRTY_DAYS APR_INT64_C(2592000)

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
static const number_directive twilio_timeout = {
    offsetof(notify_dir_conf, twilio_timeout), 0, 1, 3600};
static const number_directive idem_window = {
    offsetof(notify_dir_conf, idempotency_window), 0, 1, TEN_YEARS};
static const number_directive attempts = {
    offsetof(notify_srv_conf, delivery_attempts), 1, 1, 100};
static const number_directive interval = {
    offsetof(notify_srv_conf, delivery_interval), 1, 1, 3600};

void *notify_create_dir_conf(apr_pool_t *p, char *dir)
{
    notify_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    (void)dir;
    c->route_registry = NOTIFY_UNSET;
    c->session_max_age = NOTIFY_UNSET;
    c->session_idle_timeout = NOTIFY_UNSET;
    c->max_body = NOTIFY_UNSET;
    c->mandrill_timeout = NOTIFY_UNSET;
    c->twilio_timeout = NOTIFY_UNSET;
    c->idempotency_window = NOTIFY_UNSET;
    c->delivery_queued = NOTIFY_UNSET;
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
    MERGE_PTR(mandrill_webhook_key);
    MERGE_PTR(mandrill_webhook_url);
    MERGE_PTR(twilio_sid);
    MERGE_PTR(twilio_token);
    MERGE_PTR(twilio_from);
    MERGE_PTR(twilio_url);
    MERGE_NUM(twilio_timeout);
    MERGE_PTR(twilio_callback_url);
    MERGE_NUM(idempotency_window);
    MERGE_NUM(delivery_queued);
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
    c->delivery_attempts = NOTIFY_UNSET;
    c->backoff_min = c->backoff_max = NOTIFY_UNSET;
    c->delivery_interval = NOTIFY_UNSET;
    return c;
}

void *notify_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    notify_srv_conf *base = basev, *add = addv;
    notify_srv_conf *c = apr_pcalloc(p, sizeof(*c));

    MERGE_NUM(route_cache_seconds);
    MERGE_NUM(session_touch_interval);
    MERGE_NUM(delivery_attempts);
    MERGE_NUM(backoff_min);
    MERGE_NUM(backoff_max);
    MERGE_NUM(delivery_interval);
    MERGE_PTR(dbd_driver);
    MERGE_PTR(dbd_params);
    c->uses_module = add->uses_module || base->uses_module;
    return c;
}

static apr_int64_t or_default(apr_int64_t v, apr_int64_t dflt)
{
    return v == NOTIFY_UNSET ? dflt : v;
}

/* The defaults of SPEC section 7, in one place. */
static void resolve(const notify_dir_conf *d, const notify_srv_conf *s,
                    notify_settings *out)
{
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
    out->mandrill_webhook_key = d->mandrill_webhook_key;
    out->mandrill_webhook_url = d->mandrill_webhook_url;
    out->twilio_sid = d->twilio_sid;
    out->twilio_token = d->twilio_token;
    out->twilio_from = d->twilio_from;
    out->twilio_url = d->twilio_url ? d->twilio_url : DEFAULT_TWILIO_URL;
    out->twilio_timeout = or_default(d->twilio_timeout, 10);
    out->twilio_callback_url = d->twilio_callback_url;
    out->idempotency_window = or_default(d->idempotency_window, 86400);
    out->delivery_queued = d->delivery_queued == 1;
    out->delivery_attempts = or_default(s->delivery_attempts, 8);
    out->backoff_min = or_default(s->backoff_min, 30);
    out->backoff_max = or_default(s->backoff_max, 3600);
    out->delivery_interval = or_default(s->delivery_interval, 2);
    out->route =
        d->create_path_kind == NOTIFY_PATH_EXACT ? d->create_path : NULL;
}

void notify_settings_get(request_rec *r, notify_settings *out)
{
    resolve(ap_get_module_config(r->per_dir_config, &notify_module),
            ap_get_module_config(r->server->module_config, &notify_module),
            out);
}

/* Whether a <Location path> applies to uri, as httpd matches a plain
 * Location: a prefix ending at a path segment. */
static int location_applies(const char *path, const char *uri)
{
    apr_size_t len = strlen(path);

    return strncmp(path, uri, len) == 0 &&
           (len == 0 || path[len - 1] == '/' || uri[len] == '/' ||
            uri[len] == '\0');
}

/* Merges into conf the noted Locations of owner that apply to route. */
static notify_dir_conf *merge_locations(apr_pool_t *p, notify_dir_conf *conf,
                                        server_rec *owner, const char *route)
{
    int i;

    for (i = 0; route && sections && i < sections->nelts; i++) {
        const notify_section *sec = &APR_ARRAY_IDX(sections, i, notify_section);
        if (sec->s == owner && sec->path &&
            location_applies(sec->path, route)) {
            conf = notify_merge_dir_conf(p, conf, sec->conf);
        }
    }
    return conf;
}

void notify_settings_for(apr_pool_t *p, server_rec *main_s, server_rec *s,
                         const char *route, notify_settings *out)
{
    notify_dir_conf *conf =
        ap_get_module_config(s->lookup_defaults, &notify_module);

    if (!conf) {
        conf = notify_create_dir_conf(p, NULL);
    }
    /* A virtual host inherits the main server's Locations, read first. */
    conf = merge_locations(p, conf, main_s, route);
    if (s != main_s) {
        conf = merge_locations(p, conf, s, route);
    }
    resolve(conf, ap_get_module_config(s->module_config, &notify_module), out);
    out->route = route;
}

apr_array_header_t *notify_create_routes(apr_pool_t *p, server_rec *main_s,
                                         server_rec *s)
{
    apr_array_header_t *routes = apr_array_make(p, 4, sizeof(const char *));
    int i;

    for (i = 0; sections && i < sections->nelts; i++) {
        const notify_section *sec = &APR_ARRAY_IDX(sections, i, notify_section);
        if ((sec->s == main_s || sec->s == s) &&
            sec->conf->create_path_kind == NOTIFY_PATH_EXACT &&
            sec->conf->create_path) {
            APR_ARRAY_PUSH(routes, const char *) = sec->conf->create_path;
        }
    }
    return routes;
}

/* Whether cmd runs directly inside <Location path> (not a regex, not a
 * wildcard). */
static int in_plain_location(cmd_parms *cmd)
{
    const ap_directive_t *parent =
        cmd->directive ? cmd->directive->parent : NULL;

    return parent && strcasecmp(parent->directive, "<Location") == 0 &&
           cmd->path && cmd->path[0] == '/' && parent->args &&
           parent->args[0] != '~' && !apr_fnmatch_test(cmd->path);
}

/* Notes the section a directive of the module sits in, once. */
static void note_section(cmd_parms *cmd, void *dconf)
{
    notify_dir_conf *d = dconf;
    notify_section *sec;

    if (d->noted || !cmd->path || !sections) {
        return;
    }
    d->noted = 1;
    sec = apr_array_push(sections);
    sec->s = cmd->server;
    sec->conf = d;
    sec->path = in_plain_location(cmd) ? cmd->path : NULL;
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
    if (!nd->server) {
        note_section(cmd, dconf);
    }
    return NULL;
}

static const char *set_backoff(cmd_parms *cmd, void *dconf, const char *lo,
                               const char *hi)
{
    static const number_directive min = {offsetof(notify_srv_conf, backoff_min),
                                         1, 1, THIRTY_DAYS};
    static const number_directive max = {offsetof(notify_srv_conf, backoff_max),
                                         1, 1, THIRTY_DAYS};
    notify_srv_conf *sc =
        ap_get_module_config(cmd->server->module_config, &notify_module);
    const char *err;

    cmd->info = (void *)&min;
    if ((err = set_number(cmd, dconf, lo)) != NULL) {
        return err;
    }
    cmd->info = (void *)&max;
    if ((err = set_number(cmd, dconf, hi)) != NULL) {
        return err;
    }
    if (sc->backoff_max < sc->backoff_min) {
        return apr_psprintf(cmd->pool,
                            "%s: the longest wait (%s) is shorter than the "
                            "first (%s)",
                            cmd->cmd->name, hi, lo);
    }
    return NULL;
}

static const char *set_registry(cmd_parms *cmd, void *dconf, int on)
{
    ((notify_dir_conf *)dconf)->route_registry = on;
    note_section(cmd, dconf);
    return NULL;
}

static const char *set_mode(cmd_parms *cmd, void *dconf, const char *arg)
{
    notify_dir_conf *d = dconf;

    if (strcasecmp(arg, "sync") == 0) {
        d->delivery_queued = 0;
    }
    else if (strcasecmp(arg, "queued") == 0) {
        d->delivery_queued = 1;
    }
    else {
        return apr_psprintf(cmd->pool, "%s: '%s' is neither sync nor queued",
                            cmd->cmd->name, arg);
    }
    note_section(cmd, dconf);
    return NULL;
}

/* A non-empty word, stored at the offset in cmd->info. */
static const char *set_string(cmd_parms *cmd, void *dconf, const char *arg)
{
    if (!*arg) {
        return apr_psprintf(cmd->pool, "%s: the value must not be empty",
                            cmd->cmd->name);
    }
    *(const char **)((char *)dconf + (apr_size_t)cmd->info) = arg;
    note_section(cmd, dconf);
    return NULL;
}

static const char *set_url(cmd_parms *cmd, void *dconf, const char *arg)
{
    apr_uri_t uri;

    if (apr_uri_parse(cmd->pool, arg, &uri) != APR_SUCCESS || !uri.scheme ||
        (strcasecmp(uri.scheme, "http") && strcasecmp(uri.scheme, "https")) ||
        !uri.hostname || !*uri.hostname) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not an http or https URL",
                            cmd->cmd->name, arg);
    }
    return set_string(cmd, dconf, arg);
}

/* A phone number as phone_from takes it (SPEC section 2). */
static const char *set_phone(cmd_parms *cmd, void *dconf, const char *arg)
{
    if (!notify_phone_valid(arg, strlen(arg))) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not a phone number (an optional +, "
                            "then 7 to 15 digits)",
                            cmd->cmd->name, arg);
    }
    return set_string(cmd, dconf, arg);
}

/* A secret read from a file at start-up, so httpd.conf can stay world
 * readable; trailing white space (a final newline) is not part of it. */
static const char *set_secret_file(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *path = ap_server_root_relative(cmd->temp_pool, arg);
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t len = 0;
    char *text, buf[120];
    apr_status_t rv;

    rv = path ? apr_file_open(&f, path, APR_FOPEN_READ, 0, cmd->temp_pool)
              : APR_EBADPATH;
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    }
    if (rv == APR_SUCCESS && fi.size > 4096) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool, "%s: %s is larger than 4096 bytes",
                            cmd->cmd->name, arg);
    }
    if (rv == APR_SUCCESS) {
        len = (apr_size_t)fi.size;
        text = apr_pcalloc(cmd->pool, len + 1);
        rv = len ? apr_file_read_full(f, text, len, &len) : APR_SUCCESS;
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: cannot read %s: %s", cmd->cmd->name,
                            arg, apr_strerror(rv, buf, sizeof(buf)));
    }
    while (len > 0 && apr_isspace(text[len - 1])) {
        text[--len] = '\0';
    }
    if (len == 0 || strlen(text) != len) {
        return apr_psprintf(cmd->pool, "%s: %s holds no key", cmd->cmd->name,
                            arg);
    }
    return set_string(cmd, dconf, text);
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
    note_section(cmd, dconf);
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

/* mod_dbd reads these too: the module notes which database each server
 * uses, to give it the right statements and to run the worker once per
 * database. */
static const char *note_dbd(cmd_parms *cmd, void *dconf, const char *arg)
{
    notify_srv_conf *sc =
        ap_get_module_config(cmd->server->module_config, &notify_module);

    (void)dconf;
    if (cmd->info) {
        sc->dbd_params = arg;
    }
    else {
        sc->dbd_driver = arg;
    }
    return NULL;
}

#define SRV RSRC_CONF
#define SRV_DIR (RSRC_CONF | ACCESS_CONF)
#define DIR_OFFSET(f) (void *)offsetof(notify_dir_conf, f)

const command_rec notify_directives[] = {
    AP_INIT_TAKE1("SetHandler", note_handler, NULL, OR_FILEINFO,
                  "(mod_notify notes where its handlers are set)"),
    AP_INIT_TAKE1("DBDriver", note_dbd, NULL, RSRC_CONF,
                  "(mod_notify notes each server's database)"),
    AP_INIT_TAKE1("DBDParams", note_dbd, (void *)1, RSRC_CONF,
                  "(mod_notify notes each server's database)"),
    AP_INIT_FLAG("NotifyRouteRegistry", set_registry, NULL, SRV_DIR,
                 "On: identify the route in api_routes/api_services"),
    AP_INIT_TAKE1("NotifyRouteName", set_string, DIR_OFFSET(route_name),
                  ACCESS_CONF, "Name of this location's record in api_routes"),
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
    AP_INIT_TAKE1("NotifyMandrillKey", set_string, DIR_OFFSET(mandrill_key),
                  SRV_DIR,
                  "Mandrill API key; unset: email is stored, not sent"),
    AP_INIT_TAKE1("NotifyMandrillKeyFile", set_secret_file,
                  DIR_OFFSET(mandrill_key), SRV_DIR,
                  "A file holding the Mandrill API key, read at start-up"),
    AP_INIT_TAKE1("NotifyMandrillURL", set_url, DIR_OFFSET(mandrill_url),
                  SRV_DIR, "Mandrill messages/send.json URL"),
    AP_INIT_TAKE1("NotifyMandrillTimeout", set_number,
                  (void *)&mandrill_timeout, SRV_DIR,
                  "Seconds allowed for a Mandrill call"),
    AP_INIT_TAKE1("NotifyMandrillWebhookKey", set_string,
                  DIR_OFFSET(mandrill_webhook_key), ACCESS_CONF,
                  "The key Mandrill signs this webhook's batches with"),
    AP_INIT_TAKE1("NotifyMandrillWebhookURL", set_url,
                  DIR_OFFSET(mandrill_webhook_url), ACCESS_CONF,
                  "The webhook's URL as configured in Mandrill"),
    AP_INIT_TAKE1("NotifyTwilioAccountSid", set_string, DIR_OFFSET(twilio_sid),
                  SRV_DIR,
                  "Twilio account SID; unset: SMS is stored, not sent"),
    AP_INIT_TAKE1("NotifyTwilioAuthToken", set_string,
                  DIR_OFFSET(twilio_token), SRV_DIR,
                  "Twilio auth token (basic auth, and the callback's "
                  "signature key)"),
    AP_INIT_TAKE1("NotifyTwilioAuthTokenFile", set_secret_file,
                  DIR_OFFSET(twilio_token), SRV_DIR,
                  "A file holding the Twilio auth token, read at start-up"),
    AP_INIT_TAKE1("NotifyTwilioFrom", set_phone, DIR_OFFSET(twilio_from),
                  SRV_DIR, "The sender's number when phone_from is not given"),
    AP_INIT_TAKE1("NotifyTwilioURL", set_url, DIR_OFFSET(twilio_url), SRV_DIR,
                  "Twilio's API base URL (.../2010-04-01)"),
    AP_INIT_TAKE1("NotifyTwilioTimeout", set_number, (void *)&twilio_timeout,
                  SRV_DIR, "Seconds allowed for a Twilio call"),
    AP_INIT_TAKE1("NotifyTwilioCallbackURL", set_url,
                  DIR_OFFSET(twilio_callback_url), SRV_DIR,
                  "The status callback URL sent with each SMS, as Twilio "
                  "signs it"),
    AP_INIT_TAKE1("NotifyIdempotencyWindow", set_number, (void *)&idem_window,
                  SRV_DIR, "Seconds an Idempotency-Key is remembered"),
    AP_INIT_TAKE1("NotifyDeliveryMode", set_mode, NULL, SRV_DIR,
                  "sync: the request makes the first attempt; queued: the "
                  "worker makes them all"),
    AP_INIT_TAKE1("NotifyDeliveryAttempts", set_number, (void *)&attempts, SRV,
                  "Attempts per notification, the first included"),
    AP_INIT_TAKE2("NotifyDeliveryBackoff", set_backoff, NULL, SRV,
                  "Seconds before the second attempt, and the longest wait"),
    AP_INIT_TAKE1("NotifyDeliveryInterval", set_number, (void *)&interval, SRV,
                  "Seconds between the worker's passes"),
    {NULL}};
